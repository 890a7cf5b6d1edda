// Softmax and fused softmax cross-entropy against float64 references, huge logits,
// out-of-range labels, and the backward rule against finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { withTape, backward } from '../src/autograd/tape.js';
import { softmaxCrossEntropy, softmax } from '../src/ops/loss.js';
import type { Engine } from '../src/engine/engine.js';

const rng = testRandom('loss');

/** Float64 reference: probabilities, per-example losses and d(mean loss)/d logits. */
function reference(x: ArrayLike<number>, labels: ArrayLike<number>, n: number, c: number) {
  const probs = new Float64Array(n * c);
  const losses = new Float64Array(n);
  const gradMean = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let m = -Infinity;
    for (let j = 0; j < c; j++) m = Math.max(m, x[i * c + j]);
    let s = 0;
    for (let j = 0; j < c; j++) s += Math.exp(x[i * c + j] - m);
    for (let j = 0; j < c; j++) probs[i * c + j] = Math.exp(x[i * c + j] - m) / s;
    const y = labels[i];
    const valid = Number.isInteger(y) && y >= 0 && y < c;
    losses[i] = valid ? Math.log(s) - (x[i * c + y] - m) : 0;
    for (let j = 0; j < c; j++) gradMean[i * c + j] = valid ? (probs[i * c + j] - (j === y ? 1 : 0)) / n : 0;
  }
  const mean = losses.reduce((a, b) => a + b, 0) / n;
  return { probs, losses, mean, gradMean };
}

/** Loss (mean and per example), softmax and the mean loss's gradient, computed on the GPU. */
async function gpuLoss(e: Engine, x: Float32Array, labels: number[], n: number, c: number) {
  return e.scopeAsync(async () => {
    const logits = e.fromArray(x, [n, c]);
    logits.requiresGrad = true;
    const y = e.fromArray(labels, [n], 'i32');
    const { value: loss, tape } = withTape(e, () => softmaxCrossEntropy(logits, y));
    assert.equal(loss.shape, [1]);
    backward(tape, loss);
    const grad = (await logits.grad!.read()) as Float32Array;
    logits.grad!.dispose();
    const perExample = softmaxCrossEntropy(logits, y, { reduction: 'none' });
    assert.equal(perExample.shape, [n]);
    return {
      mean: (await loss.read())[0],
      losses: (await perExample.read()) as Float32Array,
      probs: (await softmax(logits).read()) as Float32Array,
      grad,
    };
  });
}

const sizes: [number, number][] = [
  [37 + 2 * rng.int(20), 11 + 2 * rng.int(10)], // odd N, odd C
  [33 + 2 * rng.int(10), 4], // the project's 4 classes
  [1, 3],
  [301, 1], // one class: loss 0, gradient 0
];

for (const [n, c] of sizes) {
  test(`cross-entropy, softmax and gradient match float64 for [${n}, ${c}]`, async () => {
    const e = await testEngine();
    const x = randomArray(rng, n * c, -6, 6);
    const labels = Array.from({ length: n }, () => rng.int(c));
    const ref = reference(x, labels, n, c);
    const got = await gpuLoss(e, x, labels, n, c);
    // float32 exp/log and an N-term sum: 1e-5 relative (absolute below 1).
    assertClose([got.mean], [ref.mean], 1e-5, 'mean loss');
    assertClose(got.losses, ref.losses, 1e-5, 'per-example losses');
    assertClose(got.probs, ref.probs, 1e-6, 'softmax');
    assertClose(got.grad, ref.gradMean, 1e-6, 'gradient');
  });
}

test('per-example losses backpropagate (softmax - onehot) * g_i', async () => {
  const e = await testEngine();
  const [n, c] = [19, 5];
  const x = randomArray(rng, n * c, -4, 4);
  const labels = Array.from({ length: n }, () => rng.int(c));
  const seed = randomArray(rng, n);
  const ref = reference(x, labels, n, c);
  const want = ref.gradMean.map((v, k) => v * n * seed[Math.floor(k / c)]);
  const got = await e.scopeAsync(async () => {
    const logits = e.fromArray(x, [n, c]);
    logits.requiresGrad = true;
    const { value, tape } = withTape(e, () => softmaxCrossEntropy(logits, e.fromArray(labels, [n], 'i32'), { reduction: 'none' }));
    backward(tape, value, e.fromArray(seed, [n]));
    const g = await logits.grad!.read();
    logits.grad!.dispose();
    return g;
  });
  assertClose(got, want, 1e-6, 'gradient');
});

test('huge logits (±1e30, mixed) give finite, correct losses, probabilities and gradients', async () => {
  const e = await testEngine();
  const B = 1e30;
  const rows = [
    [B, B, -B, 0], // two tied maxima: p = 0.5, 0.5
    [-B, -B, -B, -B], // all equal: uniform
    [B, -B, 5, 3], // one dominant
    [-B, 2, 1, -B],
    [B, B, B, B],
    [0, -B, B, -3],
  ];
  const c = 4;
  const n = rows.length;
  const x = Float32Array.from(rows.flat());
  // Labels at the maximum, at a tied maximum, at -1e30 (loss 2e30) and at ordinary values.
  const labels = [1, 2, 1, 3, 0, 0];
  const ref = reference(x, labels, n, c);
  const got = await gpuLoss(e, x, labels, n, c);
  assertClose(got.losses, ref.losses, 1e-5, 'per-example losses');
  assertClose([got.mean], [ref.mean], 1e-5, 'mean loss');
  assertClose(got.probs, ref.probs, 1e-6, 'softmax');
  assertClose(got.grad, ref.gradMean, 1e-6, 'gradient');
  // Spot checks that do not depend on the reference: log 2 for a tied maximum, 2e30 for -1e30 vs 1e30.
  assert.ok(Math.abs(got.losses[0] - Math.LN2) < 1e-6, `tied maximum: ${got.losses[0]}`);
  assert.ok(Math.abs(got.losses[2] / 2e30 - 1) < 1e-6, `far below the maximum: ${got.losses[2]}`);
});

test('labels outside [0, C) give loss 0 and gradient 0 for that example, without reading out of bounds', async () => {
  const e = await testEngine();
  const [n, c] = [6, 4];
  const x = randomArray(rng, n * c, -3, 3);
  const labels = [-1, 2, 4, 1, 1_000_000, -2_000_000_000];
  const ref = reference(x, labels, n, c);
  const got = await gpuLoss(e, x, labels, n, c);
  assertClose(got.losses, ref.losses, 1e-5, 'per-example losses');
  assertClose([got.mean], [ref.mean], 1e-5, 'mean loss');
  assertClose(got.grad, ref.gradMean, 1e-6, 'gradient');
  for (const i of [0, 2, 4, 5]) assert.is(got.losses[i], 0);
});

for (const reduction of ['mean', 'none'] as const) {
  test(`gradient of softmaxCrossEntropy (${reduction}) matches finite differences`, async () => {
    const e = await testEngine();
    const [n, c] = [5, 7];
    const labels = e.keep(e.fromArray(Array.from({ length: n }, () => rng.int(c)), [n], 'i32'));
    try {
      const { maxError, checked } = await gradCheck(e, ([x]) => softmaxCrossEntropy(x, labels, { reduction }), [{ shape: [n, c], data: randomArray(rng, n * c, -2, 2) }], {
        random: () => rng.next(),
        samples: 20,
      });
      assert.ok(checked > 0);
      assert.ok(maxError[0] < 2e-2, `relative error ${maxError[0]}`);
    } finally {
      labels.dispose();
    }
  });
}

test('bad inputs are rejected with a clear message', async () => {
  const e = await testEngine();
  e.scope(() => {
    const x = e.fromArray(randomArray(rng, 12), [3, 4]);
    assert.throws(() => softmaxCrossEntropy(x, e.fromArray([0, 1, 2], [3])), /labels must be int32/);
    assert.throws(() => softmaxCrossEntropy(x, e.fromArray([0, 1], [2], 'i32')), /do not match/);
    assert.throws(() => softmaxCrossEntropy(e.fromArray(randomArray(rng, 12), [12]), e.fromArray([0], [1], 'i32')), /\[N, C\]/);
    assert.throws(() => softmaxCrossEntropy(x, e.fromArray([0, 1, 2], [3], 'i32'), { reduction: 'sum' as 'mean' }), /reduction/);
  });
});

test.run();
