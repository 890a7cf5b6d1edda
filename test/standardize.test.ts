// The `paper` recipe's per-band standardisation as part of the model: the op against a
// float64 reference and finite differences, the statistics (float64, floored std, training
// fold only), the checkpoint's named buffers, old `db` checkpoints loading unchanged, and
// the PyTorch twin giving the same probabilities from the same raw features.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { standardize } from '../src/ops/standardize.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { bandStatistics, fitInputNorm, inputSpace, Standardized, STD_FLOOR } from '../src/nn/input-norm.js';
import { createModel } from '../src/models/index.js';
import { noGrad } from '../src/autograd/tape.js';
import { softmax } from '../src/ops/loss.js';
import { saveCheckpoint } from '../src/nn/checkpoint-file.js';
import { openCheckpoint } from '../src/cli/model-file.js';
import { train, DEFAULT_TRAIN } from '../src/train/train.js';
import { predict } from '../src/train/evaluate.js';
import { runFold } from '../src/experiment/run-fold.js';
import type { Corpus } from '../src/data/corpus.js';
import { writeNpy } from '../src/io/npy.js';

const rng = testRandom('standardize');

/** Per-band float64 mean and population std, straight from the definition. */
function reference(features: Float32Array[], bands: number): { mean: number[]; std: number[] } {
  const mean: number[] = [];
  const std: number[] = [];
  for (let b = 0; b < bands; b++) {
    const v: number[] = [];
    for (const f of features) for (let i = b; i < f.length; i += bands) v.push(f[i]);
    const m = v.reduce((a, c) => a + c, 0) / v.length;
    mean.push(m);
    std.push(Math.max(STD_FLOOR, Math.sqrt(v.reduce((a, c) => a + (c - m) ** 2, 0) / v.length)));
  }
  return { mean, std };
}

test('standardize op: (x - mean) / std per last-axis feature, backward g / std by finite differences', async () => {
  const e = await testEngine();
  const [n, rows, f] = [3, 7, 13];
  const x = randomArray(rng, n * rows * f, -20, 5);
  const mean = randomArray(rng, f, -10, 0);
  const std = randomArray(rng, f, 0.5, 3);
  const got = await e.scopeAsync(() => standardize(e.fromArray(x, [n, 1, rows, f]), e.fromArray(mean, [f]), e.fromArray(std, [f])).read());
  assertClose(got, Array.from(x, (v, i) => (v - mean[i % f]) / std[i % f]), 1e-5, 'standardize forward');
  const { maxError, checked } = await gradCheck(
    e,
    ([t]) => standardize(t, e.fromArray(mean, [f]), e.fromArray(std, [f])),
    [{ shape: [2, 1, 3, f], data: randomArray(rng, 2 * 3 * f, -2, 2) }],
    { random: () => rng.next(), samples: 20 },
  );
  assert.ok(checked > 0 && maxError[0] < 1e-2, `standardize backward: max error ${maxError[0]}`);
  assert.throws(() => e.scope(() => standardize(e.fromArray(x, [n, 1, rows, f]), e.fromArray(mean.slice(1), [f - 1]), e.fromArray(std, [f]))), /needs mean and std/);
});

test('band statistics: float64 mean and population std over all frames; a constant band is floored, not NaN', () => {
  const bands = 64;
  const features = [5, 373, 1, 40].map((frames) => randomArray(rng, frames * bands, -18, 3));
  for (const f of features) for (let i = 7; i < f.length; i += bands) f[i] = -18.420681; // a silent band: ln(1e-8)
  const got = bandStatistics(features, bands);
  const want = reference(features, bands);
  assert.is(got.frames, 5 + 373 + 1 + 40);
  assertClose(got.mean, want.mean, 1e-9, 'mean');
  assertClose(got.std, want.std, 1e-9, 'std');
  assert.is(got.std[7], STD_FLOOR, 'the constant band gets the floor');
  assert.throws(() => bandStatistics([], bands), /no frames/);
  assert.throws(() => bandStatistics([new Float32Array(65)], bands), /not frames x 64/);
});

test('a standardised model: input_norm.mean/std buffers, network names unprefixed, forward = net(standardize(x))', async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  try {
    const plain = createModel('small', e, { seed: 4 });
    const model = createModel('small', e, { seed: 4, standardize: true });
    assert.ok(model instanceof Standardized);
    const names = model.stateEntries().map(([k]) => k);
    assert.equal(names.filter((k) => !k.startsWith('input_norm.')), plain.stateEntries().map(([k]) => k), 'the network keeps its names');
    assert.ok(names.includes('input_norm.mean') && names.includes('input_norm.std'));
    assert.not.ok(plain.stateEntries().some(([k]) => k.startsWith('input_norm')), 'db models have no standardisation');
    assert.is(model.parameterCount(), plain.parameterCount(), 'the statistics are not trained');
    const feats = [randomArray(rng, 20 * 64, -15, 2), randomArray(rng, 9 * 64, -15, 2)];
    fitInputNorm(model, feats);
    const want = reference(feats, 64);
    const sm = model as Standardized;
    assertClose(await sm.inputNorm.mean.read(), want.mean, 1e-6, 'stored mean');
    assertClose(await sm.inputNorm.std.read(), want.std, 1e-6, 'stored std');
    // Same weights (same seed): the wrapped model is the plain one on standardised input.
    model.eval();
    plain.eval();
    const x = randomArray(rng, 2 * 40 * 64, -15, 2);
    const [a, b] = await e.scopeAsync(async () => {
      const xt = e.fromArray(x, [2, 1, 40, 64]);
      const { toInput } = inputSpace(model);
      return [await noGrad(e, () => model.forward(xt)).read(), await noGrad(e, () => plain.forward(toInput(xt))).read()];
    });
    assertClose(a, b, 1e-5, 'model(x) = net(standardize(x))');
    model.dispose();
    plain.dispose();
  } finally {
    e.poisonNewTensors = true;
  }
});

test('the statistics come from the training fold only: an outlier held-out utterance moves nothing', async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  try {
    const bands = 64;
    const frames = 24;
    const utts = Array.from({ length: 8 }, (_, i) => ({ path: `u${i}.wav`, label: (['angry', 'happy', 'neutral', 'sad'] as const)[i % 4], speaker: `s${i % 4}`, fold: i % 2 }));
    const corpus: Corpus = { name: 'test', classes: ['angry', 'happy', 'neutral', 'sad'], utterances: utts, folds: 2, skipped: [] } as unknown as Corpus;
    const base = new Map(utts.map((u) => [u.path, randomArray(rng, frames * bands, -10, 0)]));
    const statsWith = async (outlier: number) => {
      const features = new Map(base);
      features.set('u1.wav', new Float32Array(frames * bands).fill(outlier)); // fold 1: held out below
      let stats: Float32Array[] = [];
      await runFold(e, corpus, features, [1, frames, bands], { model: 'small', fold: 1, recipe: 'paper', train: { ...DEFAULT_TRAIN, iterations: 1, batchSize: 2 }, fgsmEps: [], pgdEps: [], pgdSteps: 1, noiseSnr: [] }, {
        onTrained: async (m) => {
          stats = [await (m as Standardized).inputNorm.mean.read(), await (m as Standardized).inputNorm.std.read()] as Float32Array[];
        },
      });
      return stats;
    };
    const [m1, s1] = await statsWith(1e4);
    const [m2, s2] = await statsWith(-1e4);
    assert.equal(Array.from(m1), Array.from(m2), 'mean unmoved by the held-out outlier');
    assert.equal(Array.from(s1), Array.from(s2), 'std unmoved by the held-out outlier');
    const want = reference(utts.filter((u) => u.fold === 0).map((u) => base.get(u.path)!), bands);
    assertClose(m1, want.mean, 1e-5, 'mean of the training fold');
    assertClose(s1, want.std, 1e-5, 'std of the training fold');
  } finally {
    e.poisonNewTensors = true;
  }
});

test('checkpoints: a paper one stores and restores its statistics; an old db one (no recipe in its metadata) loads unchanged', async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  const dir = mkdtempSync(join(tmpdir(), 'ser-std-'));
  try {
    const data = { features: [0, 1, 2, 3].map(() => randomArray(rng, 373 * 64, -12, 1)), labels: [0, 1, 2, 3], shape: [1, 373, 64] as [number, number, number] };
    const probs = async (m: ReturnType<typeof createModel>) => (await predict(e, m, data)).probabilities.flatMap((r) => Array.from(r));
    // paper
    const paper = createModel('small', e, { seed: 8, standardize: true });
    fitInputNorm(paper, data.features);
    await train(e, paper, data, { ...DEFAULT_TRAIN, iterations: 2, batchSize: 2 });
    await saveCheckpoint(paper, join(dir, 'paper.safetensors'), { model: 'small', recipe: 'paper', fit: 'tile' });
    const a = openCheckpoint(e, join(dir, 'paper.safetensors'));
    assert.is(a.recipe.name, 'paper');
    assert.is(a.frontEnd.fit, 'tile');
    assert.ok(a.model instanceof Standardized);
    assertClose(await (a.model as Standardized).inputNorm.std.read(), await (paper as Standardized).inputNorm.std.read(), 0, 'std restored');
    assertClose(await probs(a.model), await probs(paper), 0, 'paper probabilities after reload');
    // db, written as before recipes existed: no recipe key, no input_norm tensors.
    const old = createModel('small', e, { seed: 9 });
    await train(e, old, data, { ...DEFAULT_TRAIN, iterations: 2, batchSize: 2 });
    await saveCheckpoint(old, join(dir, 'old.safetensors'), { model: 'small', fit: 'resize', trainEps: '0' });
    const b = openCheckpoint(e, join(dir, 'old.safetensors'));
    assert.is(b.recipe.name, 'db');
    assert.is(b.frontEnd.fit, 'resize');
    assert.is(b.frontEnd.hop, 160);
    assert.not.ok(b.model instanceof Standardized);
    assertClose(await probs(b.model), await probs(old), 0, 'db probabilities after reload');
    // A checkpoint saying paper but lacking the statistics is refused by name.
    await saveCheckpoint(old, join(dir, 'lying.safetensors'), { model: 'small', recipe: 'paper' });
    assert.throws(() => openCheckpoint(e, join(dir, 'lying.safetensors')), /missing input_norm\.mean/);
    await saveCheckpoint(old, join(dir, 'odd.safetensors'), { model: 'small', recipe: 'mfcc' });
    assert.throws(() => openCheckpoint(e, join(dir, 'odd.safetensors')), /unknown recipe 'mfcc'/);
    for (const m of [paper, a.model, old, b.model]) m.dispose();
  } finally {
    e.poisonNewTensors = true;
    rmSync(dir, { recursive: true, force: true });
  }
});

/** A Python that can import torch and numpy: SER_PYTHON, python3, or Debian's own (pyenv may shadow it). */
function torchPython(): string | null {
  const candidates = [process.env.SER_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['-c', 'import torch, numpy'], { stdio: 'ignore' }).status === 0) ?? null;
}

const python = torchPython();
if (!python && process.env.SER_REQUIRE_TORCH) {
  test('the PyTorch twin parity test can run (SER_REQUIRE_TORCH is set)', () => {
    assert.unreachable('no python with torch and numpy: apt-get install -y python3-torch python3-numpy, or set SER_PYTHON');
  });
} else if (!python) {
  console.log('  PyTorch twin parity SKIPPED: no python with torch and numpy (apt-get install -y python3-torch python3-numpy, or set SER_PYTHON; SER_REQUIRE_TORCH=1 makes this a failure)');
  test.skip('a paper checkpoint gives the same probabilities in the PyTorch twin');
} else {
  test('a paper checkpoint gives the same probabilities in the PyTorch twin (same raw ln-Mel in, 1e-4)', async () => {
    const e = await testEngine();
    e.poisonNewTensors = false;
    const dir = mkdtempSync(join(tmpdir(), 'ser-twin-'));
    try {
      const n = 3;
      const raw = Array.from({ length: n }, () => randomArray(rng, 373 * 64, -14, 2).map((v, i) => v + (i % 64) / 8));
      const model = createModel('cnn5', e, { seed: 12, standardize: true });
      fitInputNorm(model, raw);
      await train(e, model, { features: raw, labels: [0, 1, 2], shape: [1, 373, 64] }, { ...DEFAULT_TRAIN, iterations: 1, batchSize: 3 });
      const ckpt = join(dir, 'paper.safetensors');
      await saveCheckpoint(model, ckpt, { model: 'cnn5', recipe: 'paper', fit: 'tile' });
      const input = join(dir, 'x.npy');
      const flat = new Float32Array(n * 373 * 64);
      raw.forEach((r, i) => flat.set(r, i * r.length));
      writeNpy(input, flat, [n, 1, 373, 64]);
      const ours = await e.scopeAsync(async () => Array.from(await noGrad(e, () => softmax(model.eval().forward(e.fromArray(flat, [n, 1, 373, 64])))).read()));
      const r = spawnSync(python!, ['tools/pytorch_models.py', '--probs', 'cnn5', ckpt, input], { encoding: 'utf8' });
      assert.is(r.status, 0, `twin failed: ${r.stderr}`);
      const theirs = (JSON.parse(r.stdout) as number[][]).flat();
      let worst = 0;
      ours.forEach((v, i) => (worst = Math.max(worst, Math.abs(v - theirs[i]))));
      console.log(`  PyTorch twin vs ser-webgpu, paper cnn5: max |probability difference| ${worst.toExponential(2)}`);
      assertClose(theirs, ours, 1e-4, 'twin probabilities');
      model.dispose();
    } finally {
      e.poisonNewTensors = true;
      rmSync(dir, { recursive: true, force: true });
    }
  });
}

test.run();
