import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine, withDispatchLabels } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { unary, binary, affine, clamp, fill, addInPlace, broadcastShapes, elementwiseSplitOverride, type ElementwiseVariant } from '../kernels/elementwise.js';
import { applicable, assertVariantsCovered } from './helpers/variants.js';

const rng = testRandom('elementwise');
const N = 1000 + rng.int(300); // not a multiple of the workgroup
// Lengths for the scalar kernels (odd) and the vec4 ones (a multiple of 4, not of the workgroup).
const LENGTHS = [2 * Math.floor(N / 2) + 1, 4 * Math.floor(N / 4) + 4];

const unaryCases: [Parameters<typeof unary>[0], (x: number) => number, number, number][] = [
  ['relu', (x) => Math.max(0, x), -2, 2],
  ['neg', (x) => -x, -2, 2],
  ['exp_', Math.exp, -3, 3],
  ['log_', Math.log, 0.01, 5],
  ['sqrt_', Math.sqrt, 0, 5],
  ['square', (x) => x * x, -3, 3],
  ['sign_', Math.sign, -1, 1],
];

for (const [op, ref, lo, hi] of unaryCases) {
  test(`unary ${op} matches float64`, async () => {
    const e = await testEngine();
    for (const n of LENGTHS) {
      const x = randomArray(rng, n, lo, hi);
      // Every variant of the elementwise family that applies (vec4: a multiple of 4, an op it has).
      for (const v of applicable(e, 'elementwise', { op, n, broadcast: false }) as ElementwiseVariant[]) {
        const out = await e.scopeAsync(() => unary(op, e.fromArray(x, [n]), v).read());
        assertClose(out, Array.from(x, ref), 1e-5, `${op} (${n}, ${v})`);
      }
    }
  });
}

test('affine and clamp', async () => {
  const e = await testEngine();
  for (const n of LENGTHS) {
    const x = randomArray(rng, n, -3, 3);
    const [a, c] = await e.scopeAsync(async () => {
      const t = e.fromArray(x, [n]);
      return [await affine(t, 1.5, -0.25).read(), await clamp(t, -0.5, 0.75).read()];
    });
    assertClose(a, Array.from(x, (v) => 1.5 * v - 0.25), 1e-6, `affine (${n})`);
    assertClose(c, Array.from(x, (v) => Math.min(0.75, Math.max(-0.5, v))), 0, `clamp (${n})`);
  }
});

test('fill and in-place add', async () => {
  const e = await testEngine();
  for (const n of LENGTHS) {
    const x = randomArray(rng, n);
    const out = await e.scopeAsync(() => {
      const t = fill(e, [n], 0.5);
      addInPlace(t, e.fromArray(x, [n]), -2);
      return t.read();
    });
    assertClose(out, Array.from(x, (v) => 0.5 - 2 * v), 1e-6, `axpy (${n})`);
  }
});

test('same-layout maps over a multiple of 4 elements take the vec4 kernels', async () => {
  const e = await testEngine();
  const { labels } = await withDispatchLabels(e, () =>
    e.scope(() => {
      binary('add', e.fromArray(new Float32Array(8), [8]), e.fromArray(new Float32Array(8), [8]));
      binary('add', e.fromArray(new Float32Array(7), [7]), e.fromArray(new Float32Array(7), [7]));
      binary('add', e.fromArray(new Float32Array(8), [2, 4]), e.fromArray(new Float32Array(4), [4]));
    }),
  );
  assert.equal(labels.filter((l) => l.includes('add')), ['elementwise4.add4', 'elementwise.add', 'elementwise.add']);
});

const refs: Record<string, (a: number, b: number) => number> = {
  add: (a, b) => a + b,
  sub: (a, b) => a - b,
  mul: (a, b) => a * b,
  div: (a, b) => a / b,
  relu_backward: (a, b) => (a > 0 ? b : 0),
};

function cpuBroadcast(op: (a: number, b: number) => number, a: Float32Array, as: number[], b: Float32Array, bs: number[]) {
  const shape = broadcastShapes(as, bs);
  const n = shape.reduce((p, d) => p * d, 1);
  const out = new Float64Array(n);
  const idx = (i: number, s: number[]) => {
    let off = 0;
    let stride = 1;
    let rem = i;
    const coords: number[] = [];
    for (let d = shape.length - 1; d >= 0; d--) {
      coords[d] = rem % shape[d];
      rem = Math.floor(rem / shape[d]);
    }
    for (let d = s.length - 1; d >= 0; d--) {
      const c = coords[shape.length - s.length + d];
      off += (s[d] === 1 ? 0 : c) * stride;
      stride *= s[d];
    }
    return off;
  };
  for (let i = 0; i < n; i++) out[i] = op(a[idx(i, as)], b[idx(i, bs)]);
  return out;
}

const shapes: [number[], number[]][] = [
  [[37, 13], [37, 13]],
  [[36, 12], [36, 12]],
  [[5, 7, 11], [11]],
  [[5, 1, 11], [1, 7, 1]],
  [[3, 4, 5, 6], [4, 1, 6]],
  [[9], [1]],
  [[2, 3, 1, 5, 1, 7, 2, 3, 2], [3, 4, 5, 1, 7, 1, 3, 1]],
];

for (const op of Object.keys(refs)) {
  test(`binary ${op} with broadcasting matches float64`, async () => {
    const e = await testEngine();
    for (const [as, bs] of shapes) {
      const na = as.reduce((p, d) => p * d, 1);
      const nb = bs.reduce((p, d) => p * d, 1);
      const a = randomArray(rng, na);
      const b = op === 'div' ? randomArray(rng, nb, 0.5, 2) : randomArray(rng, nb);
      const broadcast = as.join() !== bs.join();
      for (const v of applicable(e, 'elementwise', { op, n: na, broadcast }) as ElementwiseVariant[]) {
        const out = await e.scopeAsync(() => binary(op as 'add', e.fromArray(a, as), e.fromArray(b, bs), v).read());
        assertClose(out, cpuBroadcast(refs[op], a, as, b, bs), 1e-6, `${op} [${as}] [${bs}] ${v}`);
      }
    }
  });
}

test('shapes that do not broadcast are rejected', async () => {
  const e = await testEngine();
  e.scope(() => {
    assert.throws(() => binary('add', e.fromArray([1, 2, 3], [3]), e.fromArray([1, 2], [2])), /do not broadcast/);
  });
});

test('tensors larger than one storage binding are processed in aligned chunks', async () => {
  const e = await testEngine();
  elementwiseSplitOverride.maxBinding = 4096 + 256; // chunks of 1088 floats; the tail is partial
  try {
    for (const n of [5003, 5004]) {
      const x = randomArray(rng, n);
      const y = randomArray(rng, n);
      const [r, s, f] = await e.scopeAsync(async () => {
        const a = e.fromArray(x, [n]);
        const b = e.fromArray(y, [n]);
        const acc = fill(e, [n], 1);
        addInPlace(acc, a, 0.5);
        return [await unary('relu', a).read(), await binary('sub', a, b).read(), await acc.read()];
      });
      assertClose(r, Array.from(x, (v) => Math.max(0, v)), 0, 'relu split');
      assertClose(s, Array.from(x, (v, i) => v - y[i]), 1e-6, 'sub split');
      assertClose(f, Array.from(x, (v) => 1 + 0.5 * v), 1e-6, 'axpy split');
      e.scope(() => assert.throws(() => binary('add', e.fromArray(x, [n]), e.fromArray([1], [1])), /over one storage binding/));
    }
  } finally {
    elementwiseSplitOverride.maxBinding = null;
  }
});

test('every elementwise variant ran against float64', () => assertVariantsCovered(['elementwise']));

test.run();
