import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { sumAxis, maxAxis, maxAxisBackward } from '../kernels/reduce.js';

const rng = testRandom('reduce');

function cpuReduce(x: Float32Array, shape: number[], axis: number, f: 'sum' | 'max') {
  const outer = shape.slice(0, axis).reduce((a, b) => a * b, 1);
  const n = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const values = new Float64Array(outer * inner);
  const arg = new Int32Array(outer * inner);
  for (let o = 0; o < outer; o++)
    for (let i = 0; i < inner; i++) {
      let acc = f === 'sum' ? 0 : -Infinity;
      for (let k = 0; k < n; k++) {
        const v = x[(o * n + k) * inner + i];
        if (f === 'sum') acc += v;
        else if (v > acc) {
          acc = v;
          arg[o * inner + i] = k;
        }
      }
      values[o * inner + i] = acc;
    }
  return { values, arg, outer, n, inner };
}

const shapes: [number[], number][] = [
  [[7, 13, 5], 0],
  [[7, 13, 5], 1],
  [[7, 13, 5], 2],
  [[3, 1, 9], 1],
  [[50001], 0], // long single row: takes the two-pass path
  [[2, 9973], 1], // prime length
  [[3, 5000, 2], 1],
];

test('sum along an axis matches float64', async () => {
  const e = await testEngine();
  for (const [shape, axis] of shapes) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomArray(rng, n);
    const ref = cpuReduce(x, shape, axis, 'sum');
    const got = await e.scopeAsync(() => sumAxis(e.fromArray(x, shape), axis).read());
    // float32 accumulation over n terms of magnitude <= 1: error grows like sqrt(n) * 2^-24.
    assertClose(got, ref.values, 2e-6 * Math.sqrt(ref.n), `sum [${shape}] axis ${axis}`);
  }
});

test('mean via scale, keepDims shape', async () => {
  const e = await testEngine();
  const shape = [4, 11, 3];
  const x = randomArray(rng, 132);
  const ref = cpuReduce(x, shape, 1, 'sum');
  const t = e.scope(() => e.keep(sumAxis(e.fromArray(x, shape), 1, true, 1 / 11)));
  assert.equal(t.shape, [4, 1, 3]);
  assertClose(await t.read(), Array.from(ref.values, (v) => v / 11), 1e-6, 'mean');
  t.dispose();
});

test('max and argmax along an axis, and its backward scatter', async () => {
  const e = await testEngine();
  for (const [shape, axis] of shapes.slice(0, 4)) {
    const n = shape.reduce((a, b) => a * b, 1);
    const x = randomArray(rng, n);
    const ref = cpuReduce(x, shape, axis, 'max');
    const g = randomArray(rng, ref.outer * ref.inner);
    const [vals, idx, back] = await e.scopeAsync(async () => {
      const { values, indices } = maxAxis(e.fromArray(x, shape), axis);
      const gt = e.fromArray(g, values.shape);
      const b = maxAxisBackward(gt, indices, shape, axis);
      return [await values.read(), await indices.read(), await b.read()];
    });
    assertClose(vals, ref.values, 0, 'max');
    assert.equal(Array.from(idx), Array.from(ref.arg), 'argmax');
    const want = new Float64Array(n);
    for (let o = 0; o < ref.outer; o++)
      for (let i = 0; i < ref.inner; i++) want[(o * ref.n + ref.arg[o * ref.inner + i]) * ref.inner + i] = g[o * ref.inner + i];
    assertClose(back, want, 0, 'max backward');
  }
});

test('bad axis is rejected', async () => {
  const e = await testEngine();
  e.scope(() => {
    assert.throws(() => sumAxis(e.fromArray([1, 2], [2]), 1), /out of range/);
  });
});

test.run();
