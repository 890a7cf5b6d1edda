// Weights that travel: checkpoints to and from PyTorch (tools/pytorch_models.py, the twins
// with the same parameter names), a plain PyTorch state_dict (no metadata) loaded with
// --model, and the ONNX export run in onnxruntime-node. All on real speech: features of
// EmoDB files (the shipped data/emodb4-16k subset). Probabilities must agree to 1e-4.
// The PyTorch part skips, with a message, when no Python with torch is installed
// (scripts/setup.sh --with-browser installs Debian's python3-torch).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { testEngine } from './helpers/gpu.js';
import { testRandom, assertClose } from './helpers/check.js';
import { createModel, type ModelName } from '../src/models/index.js';
import { modelToSafetensors } from '../src/nn/checkpoint.js';
import { openModelBytes } from '../src/nn/open-model.js';
import { FrontEnd, loadUtterance } from '../src/audio/frontend.js';
import { predict } from '../src/train/evaluate.js';
import { exportOnnx } from '../src/export/onnx.js';
import { newModel, trainModel, predict as apiPredict, modelFromBytes, CLASSES } from '../src/api/core.js';
import { RECIPES } from '../src/audio/recipe.js';
import { Standardized, STD_FLOOR } from '../src/nn/input-norm.js';
import { parseEmodbName } from '../src/data/emodb.js';
import type { Label } from '../src/data/corpus.js';

const EMODB_LABEL: Record<string, Label> = { W: 'angry', F: 'happy', N: 'neutral', T: 'sad' };
const labelOfFile = (f: string): Label | undefined => EMODB_LABEL[parseEmodbName(f)?.emotion ?? ''];
import { bundledEmodbDir } from '../src/data/emodb-subset.js';
import { encodeNpy, readNpy } from '../src/io/npy.js';
import { encodeSafetensors, decodeSafetensors, type SafeTensor } from '../src/io/safetensors.js';
import type { Module } from '../src/nn/module.js';
import type { Random } from '../src/util/random.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-interop-'));
const rng = testRandom('interop');
const TOL = 1e-4;

/** A Python that can import torch (SER_PYTHON, Debian's /usr/bin/python3, python3), or null. */
const python = [process.env.SER_PYTHON, '/usr/bin/python3', 'python3'].find((c): c is string => !!c && spawnSync(c, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) ?? null;
if (!python) console.log("  PyTorch round trips skipped: no python3 with torch and numpy (apt-get install -y python3-torch python3-numpy, or set SER_PYTHON)");

/** Random batchnorm statistics and affine parameters: every tensor of the state matters. */
function randomiseBatchnorm(model: Module, r: Random): void {
  for (const [name, t] of model.stateEntries()) {
    if (name.endsWith('running_mean') || (/\.bias$/.test(name) && t.shape.length === 1 && !name.startsWith('fc'))) t.engine.write(t.buffer, Float32Array.from({ length: t.size }, () => r.uniform(-0.2, 0.2)));
    if (name.endsWith('running_var') || (/\d\.weight$/.test(name) && t.shape.length === 1)) t.engine.write(t.buffer, Float32Array.from({ length: t.size }, () => r.uniform(0.5, 2)));
  }
}

/** Features of 6 EmoDB files (one per speaker pair and class), [373 x 64] each. */
let featuresCache: Float32Array[] | null = null;
async function realFeatures(): Promise<Float32Array[]> {
  if (featuresCache) return featuresCache;
  const wavDir = join(bundledEmodbDir(), 'wav');
  const files = readdirSync(wavDir).filter((_, i) => i % 57 === 3).map((f) => join(wavDir, f));
  assert.is(files.length, 6);
  const engine = await testEngine();
  const front = new FrontEnd(engine, { fit: 'resize' });
  featuresCache = await front.logMel(await Promise.all(files.map((f) => loadUtterance(f))));
  front.dispose();
  return featuresCache;
}

async function ourProbabilities(model: Module, feats: Float32Array[]): Promise<Float32Array> {
  const engine = await testEngine();
  const { probabilities } = await predict(engine, model, { features: feats, labels: feats.map(() => 0), shape: [1, 373, 64] });
  const out = new Float32Array(probabilities.length * 4);
  probabilities.forEach((p, i) => out.set(p, i * 4));
  return out;
}

function batch(feats: Float32Array[]): Float32Array {
  const x = new Float32Array(feats.length * 373 * 64);
  feats.forEach((f, i) => x.set(f, i * 373 * 64));
  return x;
}

/** Runs tools/pytorch_models.py's twin on the features; returns softmax probabilities. */
function torchProbabilities(name: ModelName, ckpt: string, feats: Float32Array[]): Float32Array {
  const input = join(dir, `${name}-input.npy`);
  const output = join(dir, `${name}-torch.npy`);
  writeFileSync(input, encodeNpy(batch(feats), [feats.length, 1, 373, 64]));
  const script = `
import sys, numpy, torch
sys.path.insert(0, 'tools')
from pytorch_models import build_model, load_checkpoint
m = build_model('${name}')
m.load_state_dict(load_checkpoint('${ckpt}'), strict=True)
m.eval()
with torch.no_grad():
    p = torch.softmax(m(torch.from_numpy(numpy.load('${input}'))), dim=1)
numpy.save('${output}', p.numpy().astype(numpy.float32))
`;
  const r = spawnSync(python!, ['-c', script], { encoding: 'utf8', env: { ...process.env, OMP_NUM_THREADS: '1' } });
  assert.is(r.status, 0, r.stderr);
  return readNpy(output).data as Float32Array;
}

for (const name of ['small', 'cnn5'] as const) {
  test(`${name}: ser-webgpu checkpoint -> PyTorch twin (strict load) gives our probabilities on EmoDB features`, async () => {
    if (!python) return;
    const engine = await testEngine();
    const model = createModel(name, engine, { seed: rng.int(1 << 30) });
    randomiseBatchnorm(model, rng);
    model.eval();
    const ckpt = join(dir, `${name}-ours.safetensors`);
    writeFileSync(ckpt, await modelToSafetensors(model, { model: name }));
    const feats = await realFeatures();
    const ours = await ourProbabilities(model, feats);
    const theirs = torchProbabilities(name, ckpt, feats);
    console.log(`  ${name}: ours ${Array.from(ours.slice(0, 4), (v) => v.toFixed(5))} / PyTorch ${Array.from(theirs.slice(0, 4), (v) => v.toFixed(5))}`);
    assertClose(theirs, ours, TOL, `${name} probabilities (PyTorch vs ours)`);
    model.dispose();
  });

  test(`${name}: a plain PyTorch state_dict (no metadata) loads with the model named, and predicts as PyTorch`, async () => {
    if (!python) return;
    const plain = join(dir, `${name}-plain.safetensors`);
    const r = spawnSync(python, ['tools/pytorch_models.py', '--save-random', name, String(rng.int(1000)), plain], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    const bytes = readFileSync(plain);
    assert.equal(decodeSafetensors(bytes).metadata, {}, 'no metadata');
    const engine = await testEngine();
    assert.throws(() => openModelBytes(engine, bytes, plain), /names no model; for a plain PyTorch state_dict say which one it is \(--model/);
    const { model } = openModelBytes(engine, bytes, plain, { model: name });
    const feats = await realFeatures();
    assertClose(await ourProbabilities(model, feats), torchProbabilities(name, plain, feats), TOL, `${name} plain state_dict`);
    model.dispose();
  });
}

test('plain state_dict errors name the first missing or mis-shaped tensor; num_batches_tracked is ignored', async () => {
  const engine = await testEngine();
  const model = createModel('small', engine, { seed: 3 });
  const tensors = new Map<string, SafeTensor>();
  for (const [n, t] of model.stateEntries()) tensors.set(n, { dtype: 'F32', shape: [...t.shape], data: (await t.read()) as Float32Array });
  tensors.set('features.1.num_batches_tracked', { dtype: 'I64', shape: [], data: new BigInt64Array([5n]) });
  const ok = openModelBytes(engine, encodeSafetensors(tensors), 'plain.safetensors', { model: 'small' });
  ok.model.dispose();
  const missing = new Map(tensors);
  missing.delete('features.4.weight');
  assert.throws(() => openModelBytes(engine, encodeSafetensors(missing), 'plain.safetensors', { model: 'small' }), /plain\.safetensors: does not fit this model: missing features\.4\.weight/);
  const shaped = new Map(tensors);
  shaped.set('fc.weight', { dtype: 'F32', shape: [4, 16], data: new Float32Array(64) });
  assert.throws(() => openModelBytes(engine, encodeSafetensors(shaped), 'plain.safetensors', { model: 'small' }), /tensor 'fc\.weight' is F32 \[4,16\], the model wants F32 \[4,32\]/);
  assert.throws(() => openModelBytes(engine, encodeSafetensors(tensors), 'p', { model: 'nope' }), /unknown model 'nope'/);
  assert.throws(() => openModelBytes(engine, encodeSafetensors(tensors, { model: 'small' }), 'p', { model: 'cnn5' }), /holds model 'small', not 'cnn5'/);
  model.dispose();
  // The CLI: without --model one line naming the file and the fix (exit 2); with it, a prediction.
  const plain = join(dir, 'plain-cli.safetensors');
  writeFileSync(plain, encodeSafetensors(tensors));
  const wav = join(bundledEmodbDir(), 'wav', '03a01Wa.wav');
  const ser = (...args: string[]) => spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8' });
  const refused = ser('predict', wav, '--checkpoint', plain);
  assert.is(refused.status, 2);
  assert.equal(refused.stderr.split('\n').filter((l) => l.startsWith('ser:')), [`ser: ${plain}: checkpoint metadata names no model; for a plain PyTorch state_dict say which one it is (--model cnn5|vgg16|resnet50|small)`]);
  const done = ser('predict', wav, '--checkpoint', plain, '--model', 'small', '--json');
  assert.is(done.status, 0, done.stderr);
  assert.is(JSON.parse(done.stdout).length, 1);
  const wrong = ser('predict', wav, '--checkpoint', plain, '--model', 'cnn5');
  assert.is(wrong.status, 2);
  assert.match(wrong.stderr, /ser: .*plain-cli\.safetensors: does not fit this model: missing features\.\d+\.weight/);
});

for (const name of ['small', 'cnn5'] as const) {
  test(`${name}: the ONNX export runs in onnxruntime-node and gives our probabilities (1e-4) on EmoDB features`, async () => {
    const engine = await testEngine();
    const model = createModel(name, engine, { seed: rng.int(1 << 30) });
    randomiseBatchnorm(model, rng);
    model.eval();
    const feats = await realFeatures();
    const ours = await ourProbabilities(model, feats);
    const bytes = await exportOnnx(model, { metadata: { model: name } });
    const session = await ort.InferenceSession.create(bytes);
    const out = await session.run({ features: new ort.Tensor('float32', batch(feats), [feats.length, 1, 373, 64]) });
    const theirs = out.probabilities.data as Float32Array;
    console.log(`  ${name} ONNX: ours ${Array.from(ours.slice(0, 4), (v) => v.toFixed(5))} / onnxruntime ${Array.from(theirs.slice(0, 4), (v) => v.toFixed(5))}`);
    assert.equal(out.probabilities.dims, [feats.length, 4]);
    assertClose(theirs, ours, TOL, `${name} probabilities (onnxruntime vs ours)`);
    model.dispose();
  });
}

test('a trained paper checkpoint (small CNN, fitted standardisation): ser export --onnx in onnxruntime = ours (1e-4) on raw ln-Mel features; as a plain state_dict it loads as paper', async () => {
  // Paper-recipe features (tile fit, ln-Mel) of 16 EmoDB files, 4 per class; 4 training
  // iterations with FGSM from iteration 1 (ball clip, evaluation-mode attack), so the
  // batchnorm statistics and the standardisation are the trained model's own.
  const engine = await testEngine();
  const wavDir = join(bundledEmodbDir(), 'wav');
  const all = readdirSync(wavDir).sort();
  const picked = CLASSES.flatMap((c) => all.filter((f) => labelOfFile(f) === c).slice(0, 4));
  assert.is(picked.length, 16);
  const front = new FrontEnd(engine, RECIPES.paper.frontEnd);
  const feats = await front.logMel(await Promise.all(picked.map((f) => loadUtterance(join(wavDir, f)))));
  front.dispose();
  const model = newModel(engine, 'small', { seed: 5, recipe: 'paper' });
  await trainModel(model, { features: feats, labels: picked.map((f) => labelOfFile(f)!) }, { iterations: 4, batchSize: 4, eps: 0.1, advStart: 1, logEvery: 2 });
  assert.ok(model.module instanceof Standardized);
  const norm = (model.module as Standardized).inputNorm;
  const mean = (await norm.mean.read()) as Float32Array;
  const std = (await norm.std.read()) as Float32Array;
  assert.ok(mean.some((v) => v !== 0) && std.some((v) => v !== 1) && std.every((v) => v >= STD_FLOOR), 'the standardisation was fitted');
  const ckpt = join(dir, 'paper.safetensors');
  writeFileSync(ckpt, await model.toSafetensors());
  const ours = new Float32Array(feats.length * 4);
  (await apiPredict(model, feats)).forEach((p, i) => ours.set(CLASSES.map((c) => p.probabilities[c]), i * 4));

  const onnx = join(dir, 'paper.onnx');
  const r = spawnSync(process.execPath, ['bin/ser.js', 'export', '--onnx', onnx, '--checkpoint', ckpt], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /small as ONNX opset 13, .* MB, with the input standardisation/);
  const session = await ort.InferenceSession.create(readFileSync(onnx));
  const out = await session.run({ features: new ort.Tensor('float32', batch(feats), [feats.length, 1, 373, 64]) });
  const theirs = out.probabilities.data as Float32Array;
  console.log(`  paper ONNX: ours ${Array.from(ours.slice(0, 4), (v) => v.toFixed(5))} / onnxruntime ${Array.from(theirs.slice(0, 4), (v) => v.toFixed(5))}`);
  assertClose(theirs, ours, TOL, 'paper checkpoint probabilities (onnxruntime vs ours)');
  // Without the standardisation the graph would see other inputs: the check can fail.
  const bare = await ort.InferenceSession.create(await exportOnnx((model.module as Standardized).net));
  const wrong = (await bare.run({ features: new ort.Tensor('float32', batch(feats), [feats.length, 1, 373, 64]) })).probabilities.data as Float32Array;
  assert.ok(wrong.some((v, i) => Math.abs(v - ours[i]) > 1e-3), 'the standardisation matters');

  // The same weights as a plain state_dict (no metadata): input_norm.* make it a paper model.
  const { tensors } = decodeSafetensors(readFileSync(ckpt));
  const plain = modelFromBytes(engine, encodeSafetensors(tensors), { model: 'small', source: 'plain-paper.safetensors' });
  assert.is(plain.recipe.name, 'paper');
  assert.equal(plain.frontEnd, RECIPES.paper.frontEnd);
  const again = new Float32Array(feats.length * 4);
  (await apiPredict(plain, feats)).forEach((p, i) => again.set(CLASSES.map((c) => p.probabilities[c]), i * 4));
  assertClose(again, ours, 0, 'plain paper state_dict = the checkpoint');
  tensors.delete('input_norm.mean');
  tensors.delete('input_norm.std');
  const db = modelFromBytes(engine, encodeSafetensors(tensors), { model: 'small' });
  assert.is(db.recipe.name, 'db');
  for (const m of [model, plain, db]) m.dispose();
});

test('ser export --onnx: writes a file onnxruntime loads; bad input is one line, exit 2', async () => {
  const engine = await testEngine();
  const model = createModel('small', engine, { seed: 4 });
  const ckpt = join(dir, 'cli.safetensors');
  writeFileSync(ckpt, await modelToSafetensors(model, { model: 'small', fit: 'resize' }));
  model.dispose();
  const ser = (...args: string[]) => spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8' });
  const onnx = join(dir, 'cli.onnx');
  const r = ser('export', '--onnx', onnx, '--checkpoint', ckpt);
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /small as ONNX opset 13/);
  const session = await ort.InferenceSession.create(readFileSync(onnx));
  assert.equal(session.outputNames, ['logits', 'probabilities']);
  const missing = ser('export', '--onnx', onnx, '--checkpoint', join(dir, 'nope.safetensors'));
  assert.is(missing.status, 2);
  const serLines = (e: string) => e.split('\n').filter((l) => l.startsWith('ser:'));
  assert.equal(serLines(missing.stderr).length, 1, missing.stderr);
  assert.match(serLines(missing.stderr)[0], /^ser: cannot read checkpoint .*nope\.safetensors: ENOENT$/);
  // A folder that is a file (ENOTDIR). (Not /proc/...: Node 20's recursive mkdirSync spins there.)
  const unwritable = ser('export', '--onnx', join(ckpt, 'x.onnx'), '--checkpoint', ckpt);
  assert.is(unwritable.status, 2);
  // Checked before the model is loaded (the project's OutputError line: the path in the way, then why).
  assert.match(serLines(unwritable.stderr).join('\n'), /^ser: .*cli\.safetensors: cannot write \(.*E[A-Z]+\)$/);
});

test.run();
