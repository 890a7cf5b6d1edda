// BatchNorm2d against a float64 CPU reference (PyTorch semantics): training and evaluation,
// forward and backward, running statistics over two steps, finite differences, and the
// batch-split path forced with a small binding limit.
import { test } from 'uvu';
import { capabilitiesOf } from '../src/gpu/capabilities.js';
import * as assert from 'uvu/assert';
import { subgroupEngine, testEngine, withDispatchLabels } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { withTape, backward } from '../src/autograd/tape.js';
import { batchNorm2d, batchNorm2dReluMaxPool } from '../src/ops/batchnorm.js';
import { batchSplitOverride } from '../kernels/pool.js';
import { defaultBatchNormReduction, type BatchNormReduction } from '../kernels/batchnorm.js';
import { assertVariantsCovered } from './helpers/variants.js';
import type { Engine } from '../src/engine/engine.js';
import { Sequential } from '../src/nn/module.js';
import { BatchNorm2d, ReLU } from '../src/nn/layers.js';
import type { Random } from '../src/util/random.js';

const rng = testRandom('batchnorm');
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// ---- float64 reference ---------------------------------------------------------------------

interface Params {
  gamma: Float32Array;
  beta: Float32Array;
  runningMean: Float32Array;
  runningVar: Float32Array;
}

/** Per-channel mean and biased variance over N, H, W (two-pass, float64). */
function channelStats(x: Float32Array, shape: number[]) {
  const [N, C, H, W] = shape;
  const HW = H * W;
  const M = N * HW;
  const mean = new Float64Array(C);
  const variance = new Float64Array(C);
  for (let n = 0; n < N; n++) for (let c = 0; c < C; c++) for (let k = 0; k < HW; k++) mean[c] += x[(n * C + c) * HW + k] / M;
  for (let n = 0; n < N; n++) {
    for (let c = 0; c < C; c++) for (let k = 0; k < HW; k++) variance[c] += (x[(n * C + c) * HW + k] - mean[c]) ** 2 / M;
  }
  return { mean, variance, M, HW, C };
}

function reference(x: Float32Array, shape: number[], p: Params, goutIn: Float32Array, training: boolean, momentum = 0.1, eps = 1e-5, relu = false) {
  const { mean: bm, variance: bv, M, HW, C } = channelStats(x, shape);
  const mean = training ? bm : Float64Array.from(p.runningMean);
  const variance = training ? bv : Float64Array.from(p.runningVar);
  const invstd = variance.map((v) => 1 / Math.sqrt(v + eps));
  const chan = (i: number) => Math.floor(i / HW) % C;
  const xhat = Array.from(x, (v, i) => (v - mean[chan(i)]) * invstd[chan(i)]);
  const affine = xhat.map((v, i) => v * p.gamma[chan(i)] + p.beta[chan(i)]);
  // With the fused ReLU: the output is max(y, 0) and the gradient reaches y only where y > 0.
  const y = relu ? affine.map((v) => Math.max(v, 0)) : affine;
  const gout = relu ? Array.from(goutIn, (g, i) => (affine[i] > 0 ? g : 0)) : Array.from(goutIn);
  const dbeta = new Float64Array(C);
  const dgamma = new Float64Array(C);
  gout.forEach((g, i) => {
    dbeta[chan(i)] += g;
    dgamma[chan(i)] += g * xhat[i];
  });
  const dx = Array.from(gout, (g, i) => {
    const c = chan(i);
    const k = p.gamma[c] * invstd[c];
    return training ? k * (g - dbeta[c] / M - (xhat[i] * dgamma[c]) / M) : k * g;
  });
  // The factor gamma / sqrt(var + eps) multiplies the float32 rounding of the bracket above: with
  // few values per channel (3) the batch variance can be tiny and the factor large.
  const dxScale = Array.from(goutIn, (_, i) => Math.max(1, p.gamma[chan(i)] * invstd[chan(i)]));
  const runningMean = training ? Array.from(p.runningMean, (r, c) => (1 - momentum) * r + momentum * bm[c]) : Array.from(p.runningMean);
  const runningVar = training ? Array.from(p.runningVar, (r, c) => (1 - momentum) * r + (momentum * bv[c] * M) / (M - 1)) : Array.from(p.runningVar);
  return { y, dx, dxScale, dgamma, dbeta, runningMean, runningVar, M };
}

function randomParams(r: Random, C: number): Params {
  return {
    gamma: randomArray(r, C, 0.5, 2),
    beta: randomArray(r, C, -1, 1),
    runningMean: randomArray(r, C, -0.5, 0.5),
    runningVar: randomArray(r, C, 0.5, 2),
  };
}

/** Runs batchNorm2d with a tape, back-propagates `gout`, and reads everything back. */
async function runGpu(e: Engine, x: Float32Array, shape: number[], p: Params, gout: Float32Array, training: boolean, momentum?: number, reduction?: BatchNormReduction, relu?: boolean) {
  return e.scopeAsync(async () => {
    const C = shape[1];
    const xt = e.fromArray(x, shape);
    const gamma = e.fromArray(p.gamma, [C]);
    const beta = e.fromArray(p.beta, [C]);
    const runningMean = e.fromArray(p.runningMean, [C]);
    const runningVar = e.fromArray(p.runningVar, [C]);
    for (const t of [xt, gamma, beta]) t.requiresGrad = true;
    const { value: y, tape } = withTape(e, () => batchNorm2d(xt, { gamma, beta, runningMean, runningVar }, { training, momentum, reduction, relu }));
    backward(tape, y, e.fromArray(gout, shape));
    const out = {
      y: await y.readFloat(),
      dx: await xt.grad!.readFloat(),
      dgamma: await gamma.grad!.readFloat(),
      dbeta: await beta.grad!.readFloat(),
      runningMean: await runningMean.readFloat(),
      runningVar: await runningVar.readFloat(),
    };
    for (const t of [xt, gamma, beta]) t.grad!.dispose();
    return out;
  });
}

function compare(got: Awaited<ReturnType<typeof runGpu>>, want: ReturnType<typeof reference>, tol: number, what: string): void {
  assertClose(got.y, want.y, tol, `${what} y`);
  const scaled = (a: ArrayLike<number>) => Array.from(a, (v, i) => v / want.dxScale[i]);
  assertClose(scaled(got.dx), scaled(want.dx), tol, `${what} dx / max(1, gamma / sqrt(var + eps))`);
  // dgamma and dbeta sum M terms of size ~1 that partly cancel: their float32 error is relative
  // to the terms' typical sum, sqrt(M), rather than to a result that may be near zero.
  const bySqrtM = (a: ArrayLike<number>) => Array.from(a, (v) => v / Math.sqrt(want.M));
  assertClose(bySqrtM(got.dgamma), bySqrtM(want.dgamma), tol, `${what} dgamma / sqrt(M)`);
  assertClose(bySqrtM(got.dbeta), bySqrtM(want.dbeta), tol, `${what} dbeta / sqrt(M)`);
  assertClose(got.runningMean, want.runningMean, tol, `${what} runningMean`);
  assertClose(got.runningVar, want.runningVar, tol, `${what} runningVar`);
}

// Odd planes, channels not multiples of 4, batch 1 and 3, planes of one value, planes longer than
// one segment (512) with a short tail.
const shapes = [
  [3, 5, 7, 9],
  [1, 3, 11, 13],
  [3, 6, 1, 1],
  [2, 7, 37, 29],
  // Planes of a multiple of 4 values take the vec4 kernels (the last: two segments, short tail).
  [2, 5, 6, 10],
  [3, 4, 2, 2],
  [2, 3, 24, 30],
];

for (const shape of shapes) {
  for (const training of [true, false]) {
    test(`batchNorm2d ${training ? 'training' : 'evaluation'} forward and backward match float64: [${shape}]`, async () => {
      const e = await testEngine();
      // An offset mean shows that the variance is not computed as E[x^2] - E[x]^2.
      const x = randomArray(rng, prod(shape), 1, 4);
      const p = randomParams(rng, shape[1]);
      const gout = randomArray(rng, prod(shape));
      const got = await runGpu(e, x, shape, p, gout, training);
      // Sums over up to 2,146 float32 values per channel (dgamma, dbeta): 1e-5 relative holds.
      compare(got, reference(x, shape, p, gout, training), 1e-5, training ? 'training' : 'evaluation');
    });
  }
}

// The subgroup kernels (one workgroup per segment of up to 4096 values): planes shorter than a
// workgroup, one segment with a tail, and several segments of a large plane.
for (const shape of [[3, 5, 7, 9], [2, 3, 37, 61], [2, 2, 97, 91]]) {
  test(`batchNorm2d training with subgroup sums matches float64: [${shape}]`, async () => {
    const e = await subgroupEngine();
    if (!e) return;
    const x = randomArray(rng, prod(shape), 1, 4);
    const p = randomParams(rng, shape[1]);
    const gout = randomArray(rng, prod(shape));
    const { value: got, labels } = await withDispatchLabels(e, () => runGpu(e, x, shape, p, gout, true, undefined, 'subgroups'));
    for (const k of ['partial_moments_sg', 'partial_grad_sg']) assert.ok(labels.includes(`batchnorm_subgroups.${k}`), `runs ${k}`);
    compare(got, reference(x, shape, p, gout, true), 1e-5, 'subgroups');
  });
}

test('subgroup sums are the default only on GPU adapters that have the feature, and asked-for ones need it', async () => {
  const on = (kind: 'gpu' | 'cpu', features: string[]) => {
    const caps = capabilitiesOf({ name: 'test', kind, backend: 'test' }, { maxStorageBufferBindingSize: 2 ** 27, minStorageBufferOffsetAlignment: 256 } as GPUSupportedLimits, new Set(features));
    return defaultBatchNormReduction({ caps } as unknown as Engine);
  };
  assert.is(on('gpu', ['subgroups']), 'subgroups');
  assert.is(on('gpu', []), 'segments');
  assert.is(on('cpu', ['subgroups']), 'segments');
  const e = await testEngine();
  if (!e.features.has('subgroups')) {
    const shape = [2, 3, 4, 4];
    let message = '';
    try {
      await runGpu(e, randomArray(rng, prod(shape)), shape, randomParams(rng, 3), randomArray(rng, prod(shape)), true, undefined, 'subgroups');
    } catch (err) {
      message = (err as Error).message;
    }
    assert.match(message, /no 'subgroups' feature/);
  }
});

// Batchnorm then ReLU in the same passes: scalar and vec4 planes, training and evaluation.
// Inputs centred near zero, so the ReLU cuts about half the outputs.
for (const shape of [[3, 5, 7, 9], [2, 3, 24, 30]]) {
  for (const training of [true, false]) {
    test(`batchNorm2d + ReLU ${training ? 'training' : 'evaluation'} matches float64: [${shape}]`, async () => {
      const e = await testEngine();
      const x = randomArray(rng, prod(shape), -1, 1);
      // Shifts small enough that every channel's ReLU cuts between 30% and 70% of its values.
      const p = { ...randomParams(rng, shape[1]), beta: randomArray(rng, shape[1], -0.1, 0.1), runningMean: randomArray(rng, shape[1], -0.1, 0.1) };
      const gout = randomArray(rng, prod(shape));
      const want = reference(x, shape, p, gout, training, 0.1, 1e-5, true);
      const cut = want.y.filter((v) => v === 0).length / want.y.length;
      assert.ok(cut > 0.2 && cut < 0.8, `the ReLU cuts ${(100 * cut).toFixed(0)}% of the outputs`);
      compare(await runGpu(e, x, shape, p, gout, training, undefined, undefined, true), want, 1e-5, 'relu');
    });
  }
}

test('batchNorm2d + ReLU with subgroup sums matches float64', async () => {
  const e = await subgroupEngine();
  if (!e) return;
  const shape = [2, 3, 37, 61];
  const x = randomArray(rng, prod(shape), -1, 1);
  const p = randomParams(rng, shape[1]);
  const gout = randomArray(rng, prod(shape));
  compare(await runGpu(e, x, shape, p, gout, true, undefined, 'subgroups', true), reference(x, shape, p, gout, true, 0.1, 1e-5, true), 1e-5, 'relu subgroups');
});

test('a BatchNorm2d module followed by a ReLU module runs as one op (no ReLU pass), values and gradients as float64', async () => {
  const e = await testEngine();
  const shape = [2, 3, 6, 10];
  const x = randomArray(rng, prod(shape), -1, 1);
  const gout = randomArray(rng, prod(shape));
  const block = new Sequential(e, [new BatchNorm2d(e, 3), new ReLU(e)]);
  const { value: got, labels } = await withDispatchLabels(e, () =>
    e.scopeAsync(async () => {
      const xt = e.fromArray(x, shape);
      xt.requiresGrad = true;
      const { value: y, tape } = withTape(e, () => block.forward(xt));
      backward(tape, y, e.fromArray(gout, shape));
      const out = { y: await y.readFloat(), dx: await xt.grad!.readFloat() };
      xt.grad!.dispose();
      return out;
    }),
  );
  assert.ok(!labels.some((l) => /relu/.test(l)), `no ReLU kernel among ${[...new Set(labels)].join(', ')}`);
  const fresh = { gamma: new Float32Array(3).fill(1), beta: new Float32Array(3), runningMean: new Float32Array(3), runningVar: new Float32Array(3).fill(1) };
  const want = reference(x, shape, fresh, gout, true, 0.1, 1e-5, true);
  assertClose(got.y, want.y, 1e-5, 'y');
  assertClose(got.dx, want.dx, 1e-5, 'dx');
});

test('planes of a multiple of 4 values use the vec4 kernels, others the scalar ones', async () => {
  const e = await testEngine();
  const labels = async (shape: number[]) =>
    new Set((await withDispatchLabels(e, () => runGpu(e, randomArray(rng, prod(shape)), shape, randomParams(rng, shape[1]), randomArray(rng, prod(shape)), true))).labels);
  const even = await labels([2, 3, 4, 6]);
  const vec4 = ['normalize4', 'input_grad4', 'partial_moments4', 'partial_grad4'].map((k) => `batchnorm.${k}`);
  const scalar = vec4.map((k) => k.slice(0, -1));
  for (const k of vec4) assert.ok(even.has(k), `[2,3,4,6] runs ${k}`);
  for (const k of scalar) assert.ok(!even.has(k), `[2,3,4,6] does not run ${k}`);
  const odd = await labels([2, 3, 5, 5]);
  for (const k of scalar) assert.ok(odd.has(k), `[2,3,5,5] runs ${k}`);
  for (const k of vec4) assert.ok(!odd.has(k), `[2,3,5,5] does not run ${k}`);
});

test('training statistics of a large, off-centre channel (373 x 64 planes, mean 100)', async () => {
  const e = await testEngine();
  const shape = [3, 3, 373, 64]; // 71,616 values per channel
  const x = Float32Array.from({ length: prod(shape) }, () => 100 + rng.normal());
  const p = randomParams(rng, 3);
  const gout = randomArray(rng, prod(shape));
  const got = await runGpu(e, x, shape, p, gout, true);
  // The float32 mean near 100 is only good to ~4e-6, an error every output sees: 1e-5 still holds
  // because every sum holds deviations from a nearby shift, not values near 100 (a plain mean of the values fails here).
  compare(got, reference(x, shape, p, gout, true), 1e-5, 'off-centre');
});

// The one-pass statistics shift each segment's sums by its first value: a segment that starts
// with an outlier (here 30 standard deviations out, every 512 values) is their worst case,
// and a narrow channel off zero (mean 4, std 0.1: the float32 mean itself is then good to
// 2e-6 standard deviations) one where a plain E[x^2] - E[x]^2 loses about four digits of the
// variance. Scalar planes (37 x 29) and vec4 ones (24 x 40), both over several segments.
for (const [H, W] of [[37, 29], [24, 40]]) {
  test(`training statistics with an outlier opening every segment, and a narrow channel far from zero: [2, 2, ${H}, ${W}]`, async () => {
    const e = await testEngine();
    const shape = [2, 2, H, W];
    const HW = H * W;
    const x = Float32Array.from({ length: prod(shape) }, (_, i) => {
      const c = Math.floor(i / HW) % 2;
      const k = i % HW;
      if (c === 0) return k % 512 === 0 ? 1 + 30 * 0.5 : 1 + 0.5 * rng.normal();
      return 4 + 0.1 * rng.normal();
    });
    const p = randomParams(rng, 2);
    const gout = randomArray(rng, prod(shape));
    for (const reduction of ['segments', 'subgroups'] as const) {
      const engine = reduction === 'subgroups' ? await subgroupEngine() : e;
      if (!engine) continue;
      compare(await runGpu(engine, x, shape, p, gout, true, undefined, reduction), reference(x, shape, p, gout, true), 1e-5, `${reduction} outliers`);
    }
  });
}

test('running statistics after two training steps match the reference (momentum 0.1 and 0.3)', async () => {
  const e = await testEngine();
  const shape = [3, 5, 9, 7];
  const C = shape[1];
  for (const momentum of [undefined, 0.3]) {
    const p = randomParams(rng, C);
    const steps = [randomArray(rng, prod(shape), -1, 3), randomArray(rng, prod(shape), 0, 2)];
    const got = await e.scopeAsync(async () => {
      const runningMean = e.fromArray(p.runningMean, [C]);
      const runningVar = e.fromArray(p.runningVar, [C]);
      const state = { gamma: e.fromArray(p.gamma, [C]), beta: e.fromArray(p.beta, [C]), runningMean, runningVar };
      for (const x of steps) batchNorm2d(e.fromArray(x, shape), state, { training: true, momentum });
      return [await runningMean.readFloat(), await runningVar.readFloat()];
    });
    let mean = Float64Array.from(p.runningMean);
    let variance = Float64Array.from(p.runningVar);
    const m = momentum ?? 0.1;
    for (const x of steps) {
      const s = channelStats(x, shape);
      mean = mean.map((r, c) => (1 - m) * r + m * s.mean[c]);
      variance = variance.map((r, c) => (1 - m) * r + (m * s.variance[c] * s.M) / (s.M - 1));
    }
    assertClose(got[0], mean, 1e-5, `runningMean (momentum ${m})`);
    assertClose(got[1], variance, 1e-5, `runningVar (momentum ${m})`);
  }
});

test('evaluation uses and keeps the running statistics; eps is honoured', async () => {
  const e = await testEngine();
  const shape = [3, 3, 5, 7];
  const p = randomParams(rng, 3);
  p.runningVar = randomArray(rng, 3, 0.001, 0.01); // small variances make eps matter
  const x = randomArray(rng, prod(shape));
  const got = await e.scopeAsync(async () => {
    const t = (a: Float32Array) => e.fromArray(a, [3]);
    const state = { gamma: t(p.gamma), beta: t(p.beta), runningMean: t(p.runningMean), runningVar: t(p.runningVar) };
    const y = batchNorm2d(e.fromArray(x, shape), state, { training: false, eps: 1e-3 });
    return [await y.readFloat(), await state.runningMean.readFloat(), await state.runningVar.readFloat()];
  });
  const want = reference(x, shape, p, new Float32Array(x.length), false, 0.1, 1e-3);
  assertClose(got[0], want.y, 1e-5, 'y');
  assertClose(got[1], p.runningMean, 0, 'runningMean untouched');
  assertClose(got[2], p.runningVar, 0, 'runningVar untouched');
});

// ---- finite differences ----------------------------------------------------------------------

for (const training of [true, false]) {
  test(`gradient of batchNorm2d (${training ? 'training' : 'evaluation'}) matches finite differences`, async () => {
    const e = await testEngine();
    const shape = [3, 2, 3, 5];
    const C = shape[1];
    const p = randomParams(rng, C);
    const { maxError, checked } = await e.scopeAsync(async () => {
      const runningMean = e.fromArray(p.runningMean, [C]);
      const runningVar = e.fromArray(p.runningVar, [C]);
      return gradCheck(
        e,
        ([x, gamma, beta]) => batchNorm2d(x, { gamma, beta, runningMean, runningVar }, { training }),
        [
          { shape, data: randomArray(rng, prod(shape), -2, 2) },
          { shape: [C], data: p.gamma },
          { shape: [C], data: p.beta },
        ],
        { random: () => rng.next(), samples: 16 },
      );
    });
    assert.ok(checked > 0);
    maxError.forEach((err, i) => assert.ok(err < 2e-2, `input ${i}: relative error ${err}`));
  });
}

// ---- the batch-split path --------------------------------------------------------------------

test('split into batch chunks with unaligned sample sizes gives the same results', async () => {
  const e = await testEngine();
  // 297 floats per sample: sample starts are not 256-byte aligned; then 180 (vec4 kernels).
  batchSplitOverride.alignment = 256;
  try {
    for (const shape of [[5, 3, 11, 9], [5, 3, 5, 12]]) {
      batchSplitOverride.maxBinding = 2 * prod(shape.slice(1)) * 4 + 256; // two samples per chunk
      for (const training of [true, false]) {
        const x = randomArray(rng, prod(shape), -1, 3);
        const p = randomParams(rng, shape[1]);
        const gout = randomArray(rng, prod(shape));
        const got = await runGpu(e, x, shape, p, gout, training);
        compare(got, reference(x, shape, p, gout, training), 1e-5, `split [${shape}] ${training ? 'training' : 'evaluation'}`);
      }
    }
  } finally {
    batchSplitOverride.maxBinding = null;
    batchSplitOverride.alignment = null;
  }
});

test('bad input is rejected with clear messages', async () => {
  const e = await testEngine();
  e.scope(() => {
    const c = (n: number) => e.fromArray(new Float32Array(n).fill(1), [n]);
    const state = { gamma: c(3), beta: c(3), runningMean: c(3), runningVar: c(3) };
    const x = e.fromArray(new Float32Array(2 * 3 * 4), [2, 3, 2, 2]);
    assert.throws(() => batchNorm2d(x, { ...state, beta: c(4) }, { training: true }), /beta must be float32 \[3\]/);
    assert.throws(() => batchNorm2d(e.view(x, [6, 4]), state, { training: true }), /expects \[N, C, H, W\]/);
    assert.throws(() => batchNorm2d(e.fromArray([1, 2, 3], [1, 3, 1, 1]), state, { training: true }), /more than one value per channel/);
    assert.throws(() => batchNorm2d(x, state, { training: true, momentum: 2 }), /momentum must be in \[0, 1\]/);
  });
});

// ---- batchnorm + ReLU + 2x2 max-pool in one op (the pool pass applies the batchnorm) ---------

/** float64: maxpool 2x2 of relu(bn(x)), its argmax, and the gradients for the upstream `seed` (pooled shape). */
function pooledReference(x: Float32Array, shape: number[], p: Params, seed: Float32Array, training: boolean) {
  const [N, C, H, W] = shape;
  const [Ho, Wo] = [Math.floor(H / 2), Math.floor(W / 2)];
  const { y } = reference(x, shape, p, new Float32Array(x.length), training, 0.1, 1e-5, true);
  const out = new Float64Array(N * C * Ho * Wo);
  const at = new Int32Array(out.length);
  const gy = new Float32Array(x.length);
  for (let pl = 0; pl < N * C; pl++)
    for (let i = 0; i < Ho; i++)
      for (let j = 0; j < Wo; j++) {
        const o = (pl * Ho + i) * Wo + j;
        let best = -Infinity;
        for (const [di, dj] of [[0, 0], [0, 1], [1, 0], [1, 1]]) {
          const pos = (2 * i + di) * W + 2 * j + dj;
          if (y[pl * H * W + pos] > best) [best, at[o]] = [y[pl * H * W + pos], pos];
        }
        out[o] = best;
        gy[pl * H * W + at[o]] = seed[o];
      }
  return { out, at, grads: reference(x, shape, p, gy, training, 0.1, 1e-5, true) };
}

// Odd heights (the last row belongs to no window), rows of 4 (one pair of outputs), rows of
// 20 (five pairs: a run of four and a short one), several chunks' worth of planes; the last
// two have several segments of the backward's sums (64 pooled rows each at Wo 4), the last
// with a short one and an odd height. `split`: the batch cut into binding windows of two
// samples, where the backward falls back to the pooling's scatter and batchnorm's passes.
// The last case runs on SwiftShader (Vulkan, the GPU-style adapter here) where it is installed.
const pooledCases: [number[], boolean, 'swiftshader'?][] = [
  [[3, 5, 7, 12], false], [[2, 3, 6, 4], false], [[2, 2, 4, 20], false], [[1, 6, 9, 8], false],
  [[2, 2, 256, 8], false], [[1, 3, 151, 8], false], [[5, 3, 7, 12], true],
  [[2, 3, 9, 16], false], [[1, 2, 6, 24], false], [[2, 3, 69, 8], false, 'swiftshader'],
];
for (const [shape, split, adapter] of pooledCases) {
  for (const training of [true, false]) {
    test(`batchNorm2d + ReLU + 2x2 max-pool in one op (${training ? 'training' : 'evaluation'}${split ? ', batch split' : ''}${adapter ? `, ${adapter}` : ''}) matches float64: [${shape}]`, async () => {
      const e = adapter ? await subgroupEngine() : await testEngine();
      if (!e) return;
      const C = shape[1];
      const x = randomArray(rng, prod(shape));
      const p = randomParams(rng, C);
      const seed = randomArray(rng, (prod(shape) / (shape[2] * shape[3])) * Math.floor(shape[2] / 2) * Math.floor(shape[3] / 2));
      const want = pooledReference(x, shape, p, seed, training);
      e.poisonNewTensors = true;
      if (split) {
        batchSplitOverride.alignment = 256;
        batchSplitOverride.maxBinding = 2 * prod(shape.slice(1)) * 4 + 256;
      }
      try {
        const { value: got, labels } = await withDispatchLabels(e, () =>
          e.scopeAsync(async () => {
            const xt = e.fromArray(x, shape);
            const gamma = e.fromArray(p.gamma, [C]);
            const beta = e.fromArray(p.beta, [C]);
            const state = { gamma, beta, runningMean: e.fromArray(p.runningMean, [C]), runningVar: e.fromArray(p.runningVar, [C]) };
            for (const t of [xt, gamma, beta]) t.requiresGrad = true;
            const { value: out, tape } = withTape(e, () => batchNorm2dReluMaxPool(xt, state, { training }));
            backward(tape, out, e.fromArray(seed, out.shape));
            return { out: await out.readFloat(), dx: await xt.grad!.readFloat(), dgamma: await gamma.grad!.readFloat(), dbeta: await beta.grad!.readFloat() };
          }),
        );
        assert.ok(labels.includes('pool2x2.max_forward_bn') && !labels.some((l) => l.startsWith('batchnorm.normalize')), `one pooling pass, no normalize: ${[...new Set(labels)]}`);
        // The backward: fused (no full-size gradient between the pool and the batchnorm), or
        // with the batch split, the two ops' own passes.
        const fused = ['pool2x2.max_backward_bn_sums', 'batchnorm.channel_grad_coeffs', 'pool2x2.max_backward_bn_input'];
        const unfused = ['pool2x2.max_backward', 'batchnorm.channel_grad'];
        for (const k of split ? unfused : fused) assert.ok(labels.includes(k), `runs ${k}: ${[...new Set(labels)]}`);
        for (const k of split ? fused : unfused) assert.ok(!labels.includes(k), `does not run ${k}`);
        assertClose(got.out, want.out, 1e-5, 'pooled output');
        const w = want.grads;
        const scaled = (a: ArrayLike<number>) => Array.from(a, (v, i) => v / w.dxScale[i]);
        assertClose(scaled(got.dx), scaled(w.dx), 1e-5, 'dx / max(1, gamma / sqrt(var + eps))');
        const bySqrtM = (a: ArrayLike<number>) => Array.from(a, (v) => v / Math.sqrt(w.M));
        assertClose(bySqrtM(got.dgamma), bySqrtM(w.dgamma), 1e-5, 'dgamma / sqrt(M)');
        assertClose(bySqrtM(got.dbeta), bySqrtM(w.dbeta), 1e-5, 'dbeta / sqrt(M)');
      } finally {
        e.poisonNewTensors = false;
        batchSplitOverride.maxBinding = null;
        batchSplitOverride.alignment = null;
      }
    });
  }
}

test('BatchNorm2d, ReLU, MaxPool2d(2) modules run as one pooled op where rows are a multiple of 4 wide, else as before', async () => {
  const e = await testEngine();
  const { MaxPool2d } = await import('../src/nn/layers.js');
  const net = new Sequential(e, [new BatchNorm2d(e, 3), new ReLU(e), new MaxPool2d(e, 2)]);
  try {
    for (const [W, fused] of [[8, true], [6, false]] as const) {
      const { labels } = await withDispatchLabels(e, () => e.scopeAsync(() => net.forward(e.fromArray(randomArray(rng, 2 * 3 * 5 * W), [2, 3, 5, W])).readFloat()));
      assert.is(labels.includes('pool2x2.max_forward_bn'), fused, `W ${W}: ${[...new Set(labels)]}`);
    }
  } finally {
    net.dispose();
  }
});

test('every batchnorm reduction ran against float64', async () => {
  const excused: Record<string, string> = (await subgroupEngine()) ? {} : { subgroups: "no adapter here has the 'subgroups' feature" };
  assertVariantsCovered(['batchnorm.reduce'], excused);
});

test.run();
