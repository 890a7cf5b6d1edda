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
  featuresCache = await front.logMel(files.map(loadUtterance));
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

test('ONNX export: input_norm.mean/std in the checkpoint become (x - mean) / std before the first layer', async () => {
  const engine = await testEngine();
  const model = createModel('small', engine, { seed: 21 });
  randomiseBatchnorm(model, rng);
  model.eval();
  const feats = (await realFeatures()).slice(0, 2);
  const mean = Float32Array.from({ length: 64 }, () => rng.uniform(0.2, 0.6));
  const std = Float32Array.from({ length: 64 }, () => rng.uniform(0.1, 0.4));
  // What the model with a standardisation layer would see: standardised features.
  const standardised = feats.map((f) => f.map((v, i) => (v - mean[i % 64]) / std[i % 64]));
  const ours = await ourProbabilities(model, standardised);
  const bytes = await exportOnnx(model, { extraTensors: new Map([['input_norm.mean', mean], ['input_norm.std', std]]) });
  const session = await ort.InferenceSession.create(bytes);
  const out = await session.run({ features: new ort.Tensor('float32', batch(feats), [feats.length, 1, 373, 64]) });
  assertClose(out.probabilities.data as Float32Array, ours, TOL, 'standardised ONNX vs ours on standardised input');
  model.dispose();
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
  assert.match(serLines(unwritable.stderr).join('\n'), /^ser: cannot write .*cli\.safetensors\/x\.onnx: E[A-Z]+$/);
});

test.run();
