// Pooling kernels and ops against float64 CPU references (PyTorch semantics), finite
// differences, and the batch-split path forced with a small binding limit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine, withDispatchLabels } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { withTape, backward } from '../src/autograd/tape.js';
import { maxPool2d, avgPool2d, globalAvgPool } from '../src/ops/pool.js';
import { maxPool2dForward, maxPool2dBackward, pool2dGeometry, batchSplitOverride, batchChunks, type Pool2dOptions, type MaxPoolForwardVariant, type MaxPoolBackwardVariant } from '../kernels/pool.js';
import { applicable, assertVariantsCovered } from './helpers/variants.js';
import type { Tensor } from '../src/engine/tensor.js';
import type { Engine } from '../src/engine/engine.js';

const rng = testRandom('pool');
const prod = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

// ---- float64 references ----------------------------------------------------------------

interface Geo {
  N: number; C: number; H: number; W: number; Ho: number; Wo: number;
  kh: number; kw: number; sh: number; sw: number; ph: number; pw: number;
}

function geometry(shape: number[], o: Pool2dOptions): Geo {
  const two = (v: number | [number, number]): [number, number] => (typeof v === 'number' ? [v, v] : v);
  const [kh, kw] = two(o.kernel);
  const [sh, sw] = two(o.stride ?? o.kernel);
  const [ph, pw] = two(o.padding ?? 0);
  const [N, C, H, W] = shape;
  return { N, C, H, W, kh, kw, sh, sw, ph, pw, Ho: Math.floor((H + 2 * ph - kh) / sh) + 1, Wo: Math.floor((W + 2 * pw - kw) / sw) + 1 };
}

/** Visits every (output element, input position inside its window); out-of-range positions get -1. */
function windows(g: Geo, visit: (o: number, plane: number, pos: number) => void): void {
  for (let plane = 0; plane < g.N * g.C; plane++) {
    for (let oh = 0; oh < g.Ho; oh++) {
      for (let ow = 0; ow < g.Wo; ow++) {
        const o = (plane * g.Ho + oh) * g.Wo + ow;
        for (let dh = 0; dh < g.kh; dh++) {
          for (let dw = 0; dw < g.kw; dw++) {
            const h = oh * g.sh - g.ph + dh;
            const w = ow * g.sw - g.pw + dw;
            visit(o, plane, h < 0 || h >= g.H || w < 0 || w >= g.W ? -1 : h * g.W + w);
          }
        }
      }
    }
  }
}

function maxPoolRef(x: Float32Array, g: Geo) {
  const out = new Float64Array(g.N * g.C * g.Ho * g.Wo).fill(-Infinity);
  const arg = new Int32Array(out.length).fill(-1);
  windows(g, (o, plane, pos) => {
    if (pos < 0) return; // padding is -inf: never the max
    const v = x[plane * g.H * g.W + pos];
    if (v > out[o]) {
      out[o] = v;
      arg[o] = pos;
    }
  });
  return { out, arg };
}

function maxPoolBackwardRef(gout: Float32Array, arg: Int32Array, g: Geo): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  const planeOut = g.Ho * g.Wo;
  for (let o = 0; o < gout.length; o++) dx[Math.floor(o / planeOut) * g.H * g.W + arg[o]] += gout[o];
  return dx;
}

function avgPoolRef(x: Float32Array, g: Geo): Float64Array {
  const out = new Float64Array(g.N * g.C * g.Ho * g.Wo);
  windows(g, (o, plane, pos) => {
    if (pos >= 0) out[o] += x[plane * g.H * g.W + pos] / (g.kh * g.kw);
  });
  return out;
}

function avgPoolBackwardRef(gout: Float32Array, g: Geo): Float64Array {
  const dx = new Float64Array(g.N * g.C * g.H * g.W);
  windows(g, (o, plane, pos) => {
    if (pos >= 0) dx[plane * g.H * g.W + pos] += gout[o] / (g.kh * g.kw);
  });
  return dx;
}

// ---- cases -------------------------------------------------------------------------------

// Odd sizes, channels not multiples of 4, batch 1 and 3, stride 2, padding 1, rectangular kernels.
const cases: [number[], Pool2dOptions][] = [
  [[1, 3, 7, 9], { kernel: 3, stride: 2, padding: 1 }], // ResNet-50 stem pooling
  [[3, 5, 11, 13], { kernel: 2 }], // CNN-5/VGG: 2x2 stride 2 on odd sizes
  [[3, 6, 9, 7], { kernel: 3, stride: 1, padding: 1 }],
  [[1, 7, 13, 5], { kernel: [3, 2], stride: [2, 1], padding: [1, 0] }],
  [[3, 2, 5, 5], { kernel: 5, stride: 3, padding: 2 }],
  [[1, 3, 23, 9], { kernel: 2, stride: 2 }],
  [[3, 5, 13, 11], { kernel: [2, 3], stride: 3, padding: 1 }], // stride > kernel: gaps between windows
  // 2x2 stride 2 on rows a multiple of 4 wide: the vec4 kernels (odd height: a row no window covers)
  [[3, 5, 11, 12], { kernel: 2 }],
  [[2, 3, 8, 4], { kernel: 2, stride: 2 }],
];

const desc = (shape: number[], o: Pool2dOptions) => `[${shape}] ${JSON.stringify(o)}`;

async function maxForwardBackward(e: Engine, x: Float32Array, shape: number[], o: Pool2dOptions, gout: Float32Array) {
  return e.scopeAsync(async () => {
    const xt = e.fromArray(x, shape);
    xt.requiresGrad = true;
    const { value: y, tape } = withTape(e, () => maxPool2d(xt, o));
    const seed = e.fromArray(gout, y.shape);
    backward(tape, y, seed);
    const { out, indices } = maxPool2dForward(xt, o);
    const result = { y: await y.readFloat(), arg: (await indices.read()) as Int32Array, idxOut: await out.readFloat(), dx: await xt.grad!.readFloat(), shape: y.shape };
    xt.grad!.dispose();
    return result;
  });
}

for (const [shape, o] of cases) {
  test(`maxPool2d forward, argmax and backward match float64: ${desc(shape, o)}`, async () => {
    const e = await testEngine();
    const g = geometry(shape, o);
    // All-negative inputs in one case show that padding is not a zero candidate.
    const x = shape[0] === 3 && shape[1] === 2 ? randomArray(rng, prod(shape), -3, -1) : randomArray(rng, prod(shape), -2, 2);
    const gout = randomArray(rng, g.N * g.C * g.Ho * g.Wo);
    const got = await maxForwardBackward(e, x, shape, o, gout);
    const ref = maxPoolRef(x, g);
    assert.equal(got.shape, [g.N, g.C, g.Ho, g.Wo]);
    assertClose(got.y, ref.out, 0, 'max forward'); // a max is exact
    assert.equal(Array.from(got.arg), Array.from(ref.arg), 'argmax');
    assertClose(got.dx, maxPoolBackwardRef(gout, ref.arg, g), 1e-6, 'max backward');
  });

  test(`every max-pooling kernel variant matches float64: ${desc(shape, o)}`, async () => {
    const e = await testEngine();
    const g = geometry(shape, o);
    const x = randomArray(rng, prod(shape), -2, 2);
    const gout = randomArray(rng, g.N * g.C * g.Ho * g.Wo);
    const ref = maxPoolRef(x, g);
    const kg = pool2dGeometry('test', shape, o);
    // Each forward variant's indices feed each backward variant: they share one index format.
    for (const fv of applicable(e, 'maxpool.forward', kg) as MaxPoolForwardVariant[]) {
      for (const bv of applicable(e, 'maxpool.backward', kg) as MaxPoolBackwardVariant[]) {
        const got = await e.scopeAsync(async () => {
          const { out, indices } = maxPool2dForward(e.fromArray(x, shape), o, fv);
          const dx = maxPool2dBackward(e.fromArray(gout, out.shape), indices, shape, o, bv);
          return { y: await out.readFloat(), arg: (await indices.read()) as Int32Array, dx: await dx.readFloat() };
        });
        assertClose(got.y, ref.out, 0, `max forward (${fv})`);
        assert.equal(Array.from(got.arg), Array.from(ref.arg), `argmax (${fv})`);
        assertClose(got.dx, maxPoolBackwardRef(gout, ref.arg, g), 1e-6, `max backward (${fv}, ${bv})`);
      }
    }
  });

  test(`avgPool2d forward and backward match float64: ${desc(shape, o)}`, async () => {
    const e = await testEngine();
    const g = geometry(shape, o);
    const x = randomArray(rng, prod(shape), -2, 2);
    const gout = randomArray(rng, g.N * g.C * g.Ho * g.Wo);
    const [y, dx] = await e.scopeAsync(async () => {
      const xt = e.fromArray(x, shape);
      xt.requiresGrad = true;
      const { value: yt, tape } = withTape(e, () => avgPool2d(xt, o));
      backward(tape, yt, e.fromArray(gout, yt.shape));
      const r = [await yt.readFloat(), await xt.grad!.readFloat()];
      xt.grad!.dispose();
      return r;
    });
    assertClose(y, avgPoolRef(x, g), 1e-6, 'avg forward');
    assertClose(dx, avgPoolBackwardRef(gout, g), 1e-6, 'avg backward');
  });
}

test('ties go to the first position, as PyTorch', async () => {
  const e = await testEngine();
  for (const shape of [[1, 1, 4, 5], [1, 1, 4, 8]]) {
    const x = new Float32Array(prod(shape)).fill(0.5);
    const arg = await e.scopeAsync(async () => (await maxPool2dForward(e.fromArray(x, shape), { kernel: 2 }).indices.read()) as Int32Array);
    assert.equal(Array.from(arg), Array.from(maxPoolRef(x, geometry(shape, { kernel: 2 })).arg));
  }
});

test('2x2 pooling takes the vec4 kernels on rows a multiple of 4 wide, and only there', async () => {
  const e = await testEngine();
  const labels = async (shape: number[]) => {
    const run = await withDispatchLabels(e, () => maxForwardBackward(e, randomArray(rng, prod(shape)), shape, { kernel: 2 }, randomArray(rng, prod(shape) / 4)));
    return [...new Set(run.labels.filter((l) => l.startsWith('pool')))].sort();
  };
  assert.equal(await labels([1, 2, 4, 8]), ['pool2x2.max_backward', 'pool2x2.max_forward']);
  assert.equal(await labels([1, 2, 4, 6]), ['pool.max_backward_disjoint', 'pool.max_forward']);
});

test('split into batch chunks: 2x2 vec4 kernels', async () => {
  const e = await testEngine();
  const shape = [5, 3, 7, 12]; // 252 floats per sample, 90 per output sample
  const o: Pool2dOptions = { kernel: 2 };
  const g = geometry(shape, o);
  const x = randomArray(rng, prod(shape), -2, 2);
  const gout = randomArray(rng, g.N * g.C * g.Ho * g.Wo);
  batchSplitOverride.maxBinding = 2 * 252 * 4 + 256;
  batchSplitOverride.alignment = 256;
  try {
    assert.is(batchChunks(e, 'test', 5, [252, 90]).length, 3, 'the override splits the batch');
    const max = await maxForwardBackward(e, x, shape, o, gout);
    const ref = maxPoolRef(x, g);
    assertClose(max.y, ref.out, 0, 'split max forward');
    assert.equal(Array.from(max.arg), Array.from(ref.arg), 'split argmax');
    assertClose(max.dx, maxPoolBackwardRef(gout, ref.arg, g), 1e-6, 'split max backward');
  } finally {
    batchSplitOverride.maxBinding = null;
    batchSplitOverride.alignment = null;
  }
});

test('globalAvgPool forward and backward match float64 (odd planes, one large)', async () => {
  const e = await testEngine();
  for (const shape of [[3, 5, 7, 9], [1, 3, 1, 1], [2, 3, 373, 64]]) {
    const [N, C, H, W] = shape;
    const x = randomArray(rng, prod(shape), -1, 3);
    const gout = randomArray(rng, N * C);
    const [y, dx] = await e.scopeAsync(async () => {
      const xt = e.fromArray(x, shape);
      xt.requiresGrad = true;
      const { value: yt, tape } = withTape(e, () => globalAvgPool(xt));
      assert.equal(yt.shape, [N, C]);
      backward(tape, yt, e.fromArray(gout, yt.shape));
      const r = [await yt.readFloat(), await xt.grad!.readFloat()];
      xt.grad!.dispose();
      return r;
    });
    const want = new Float64Array(N * C);
    for (let i = 0; i < x.length; i++) want[Math.floor(i / (H * W))] += x[i] / (H * W);
    // Mean of 23,872 float32 values: blocked summation keeps it within a few 1e-7.
    assertClose(y, want, 1e-5, `gap forward [${shape}]`);
    assertClose(dx, Array.from(x, (_, i) => gout[Math.floor(i / (H * W))] / (H * W)), 1e-6, `gap backward [${shape}]`);
  }
});

// ---- finite differences ------------------------------------------------------------------

/** Distinct values 0.05 apart, shuffled: a central difference of step 0.01 never crosses a tie. */
function separated(shape: number[]) {
  const n = prod(shape);
  const values = rng.shuffle(Array.from({ length: n }, (_, i) => (i - n / 2) * 0.05));
  return { shape, data: Float32Array.from(values) };
}

const gradCases: [string, (xs: Tensor[]) => Tensor, { shape: number[]; data: Float32Array }][] = [
  ['maxPool2d 3x3 stride 2 padding 1', ([x]) => maxPool2d(x, { kernel: 3, stride: 2, padding: 1 }), separated([3, 2, 7, 5])],
  ['maxPool2d 2x2 on odd sizes', ([x]) => maxPool2d(x, { kernel: 2 }), separated([1, 3, 9, 7])],
  ['avgPool2d 3x3 stride 2 padding 1', ([x]) => avgPool2d(x, { kernel: 3, stride: 2, padding: 1 }), { shape: [3, 2, 7, 5], data: randomArray(rng, 210) }],
  ['globalAvgPool', ([x]) => globalAvgPool(x), { shape: [3, 5, 3, 7], data: randomArray(rng, 315) }],
];

for (const [name, f, input] of gradCases) {
  test(`gradient of ${name} matches finite differences`, async () => {
    const e = await testEngine();
    const { maxError, checked } = await gradCheck(e, f, [input], { random: () => rng.next(), samples: 16 });
    assert.ok(checked > 0);
    assert.ok(maxError[0] < 2e-2, `relative error ${maxError[0]}`);
  });
}

// ---- the batch-split path ----------------------------------------------------------------

test('split into batch chunks with unaligned sample sizes gives the same results', async () => {
  const e = await testEngine();
  const shape = [5, 3, 11, 9]; // 297 floats per sample: sample starts are not 256-byte aligned
  const o: Pool2dOptions = { kernel: 3, stride: 2, padding: 1 };
  const g = geometry(shape, o);
  const x = randomArray(rng, prod(shape), -2, 2);
  const gout = randomArray(rng, g.N * g.C * g.Ho * g.Wo);
  const gap = randomArray(rng, g.N * g.C);
  batchSplitOverride.maxBinding = 2 * 297 * 4 + 256; // two input samples per chunk
  batchSplitOverride.alignment = 256;
  try {
    assert.is(batchChunks(e, 'test', 5, [297, 60]).length, 3, 'the override splits the batch');
    const max = await maxForwardBackward(e, x, shape, o, gout);
    const ref = maxPoolRef(x, g);
    assertClose(max.y, ref.out, 0, 'split max forward');
    assert.equal(Array.from(max.arg), Array.from(ref.arg), 'split argmax');
    assertClose(max.dx, maxPoolBackwardRef(gout, ref.arg, g), 1e-6, 'split max backward');
    const [avg, avgDx, gy, gdx] = await e.scopeAsync(async () => {
      const xt = e.fromArray(x, shape);
      xt.requiresGrad = true;
      const { value: yt, tape } = withTape(e, () => avgPool2d(xt, o));
      backward(tape, yt, e.fromArray(gout, yt.shape));
      const xg = e.fromArray(x, shape);
      xg.requiresGrad = true;
      const { value: gt, tape: gtape } = withTape(e, () => globalAvgPool(xg));
      backward(gtape, gt, e.fromArray(gap, gt.shape));
      const r = [await yt.readFloat(), await xt.grad!.readFloat(), await gt.readFloat(), await xg.grad!.readFloat()];
      xt.grad!.dispose();
      xg.grad!.dispose();
      return r;
    });
    assertClose(avg, avgPoolRef(x, g), 1e-6, 'split avg forward');
    assertClose(avgDx, avgPoolBackwardRef(gout, g), 1e-6, 'split avg backward');
    const plane = g.H * g.W;
    const gapWant = new Float64Array(g.N * g.C);
    for (let i = 0; i < x.length; i++) gapWant[Math.floor(i / plane)] += x[i] / plane;
    assertClose(gy, gapWant, 1e-6, 'split gap forward');
    assertClose(gdx, Array.from(x, (_, i) => gap[Math.floor(i / plane)] / plane), 1e-6, 'split gap backward');
  } finally {
    batchSplitOverride.maxBinding = null;
    batchSplitOverride.alignment = null;
  }
});

test('a sample larger than a binding is a clear error', async () => {
  const e = await testEngine();
  batchSplitOverride.maxBinding = 1024;
  try {
    e.scope(() => {
      assert.throws(() => maxPool2d(e.fromArray(new Float32Array(2 * 300), [2, 1, 20, 15]), { kernel: 2 }), /maxPool2d: one sample needs 1200 bytes/);
    });
  } finally {
    batchSplitOverride.maxBinding = null;
  }
});

test('bad options are rejected with clear messages', async () => {
  const e = await testEngine();
  e.scope(() => {
    const x = e.fromArray(new Float32Array(2 * 3 * 5 * 5), [2, 3, 5, 5]);
    assert.throws(() => maxPool2d(x, { kernel: 3, padding: 2 }), /padding 2x2 must be between 0 and half the kernel/);
    assert.throws(() => maxPool2d(x, { kernel: 7 }), /smaller than the kernel/);
    assert.throws(() => avgPool2d(x, { kernel: 2, stride: 0 }), /stride must be at least 1/);
    assert.throws(() => avgPool2d(e.view(x, [6, 5, 5]), { kernel: 2 }), /expects \[N, C, H, W\]/);
    assert.throws(() => globalAvgPool(e.view(x, [150])), /expects \[N, C, H, W\]/);
  });
});

test('every max-pooling variant ran against float64', () => assertVariantsCovered(['maxpool.forward', 'maxpool.backward']));

test.run();
