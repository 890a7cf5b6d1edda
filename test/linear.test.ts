// linear(x, w, b) = x @ wᵀ + b against float64, each gradient against float64 and finite differences.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { withTape, backward } from '../src/autograd/tape.js';
import { linear } from '../src/ops/linear.js';

const rng = testRandom('linear');

function reference(x: Float32Array, w: Float32Array, b: Float32Array | null, g: Float32Array, n: number, inF: number, outF: number) {
  const y = new Float64Array(n * outF);
  const dx = new Float64Array(n * inF);
  const dw = new Float64Array(outF * inF);
  const db = new Float64Array(outF);
  for (let i = 0; i < n; i++) {
    for (let o = 0; o < outF; o++) {
      let s = b ? b[o] : 0;
      for (let k = 0; k < inF; k++) s += x[i * inF + k] * w[o * inF + k];
      y[i * outF + o] = s;
      const go = g[i * outF + o];
      db[o] += go;
      for (let k = 0; k < inF; k++) {
        dx[i * inF + k] += go * w[o * inF + k];
        dw[o * inF + k] += go * x[i * inF + k];
      }
    }
  }
  return { y, dx, dw, db };
}

for (const withBias of [true, false]) {
  test(`linear forward and gradients match float64 (${withBias ? 'with' : 'without'} bias)`, async () => {
    const e = await testEngine();
    const n = 13 + 2 * rng.int(10);
    const inF = 37 + 2 * rng.int(20);
    const outF = 5 + 2 * rng.int(5);
    const x = randomArray(rng, n * inF);
    const w = randomArray(rng, outF * inF);
    const b = withBias ? randomArray(rng, outF) : null;
    const g = randomArray(rng, n * outF);
    const ref = reference(x, w, b, g, n, inF, outF);
    const got = await e.scopeAsync(async () => {
      const xt = e.fromArray(x, [n, inF]);
      const wt = e.fromArray(w, [outF, inF]);
      const bt = b ? e.fromArray(b, [outF]) : null;
      for (const t of [xt, wt, bt]) if (t) t.requiresGrad = true;
      const { value: y, tape } = withTape(e, () => linear(xt, wt, bt));
      assert.equal(y.shape, [n, outF]);
      backward(tape, y, e.fromArray(g, [n, outF]));
      const out = {
        y: await y.read(),
        dx: await xt.grad!.read(),
        dw: await wt.grad!.read(),
        db: bt ? await bt.grad!.read() : null,
      };
      for (const t of [xt, wt, bt]) t?.grad?.dispose();
      return out;
    });
    // Sums of up to ~60 float32 products of values in [-1, 1]: 1e-5 relative (absolute below 1).
    assertClose(got.y, ref.y, 1e-5, 'y');
    assertClose(got.dx, ref.dx, 1e-5, 'dx');
    assertClose(got.dw, ref.dw, 1e-5, 'dw');
    if (withBias) assertClose(got.db!, ref.db, 1e-5, 'db');
  });
}

test('only the inputs that require a gradient get one', async () => {
  const e = await testEngine();
  await e.scopeAsync(async () => {
    const x = e.fromArray(randomArray(rng, 15), [3, 5]);
    const w = e.fromArray(randomArray(rng, 10), [2, 5]);
    const b = e.fromArray(randomArray(rng, 2), [2]);
    x.requiresGrad = true;
    const { value, tape } = withTape(e, () => linear(x, w, b));
    backward(tape, value);
    assert.ok(x.grad, 'x has a gradient');
    assert.is(w.grad, null);
    assert.is(b.grad, null);
    x.grad!.dispose();
  });
});

test('gradient of linear matches finite differences', async () => {
  const e = await testEngine();
  const inp = (shape: number[]) => ({ shape, data: randomArray(rng, shape.reduce((a, b) => a * b, 1)) });
  const { maxError, checked } = await gradCheck(e, ([x, w, b]) => linear(x, w, b), [inp([7, 9]), inp([5, 9]), inp([5])], { random: () => rng.next() });
  assert.ok(checked > 0);
  maxError.forEach((err, i) => assert.ok(err < 2e-2, `input ${i}: relative error ${err}`));
});

test('shape mismatches are rejected', async () => {
  const e = await testEngine();
  e.scope(() => {
    const x = e.fromArray(randomArray(rng, 12), [3, 4]);
    assert.throws(() => linear(x, e.fromArray(randomArray(rng, 10), [2, 5]), null), /features/);
    assert.throws(() => linear(x, e.fromArray(randomArray(rng, 8), [2, 4]), e.fromArray([1, 2, 3], [3])), /bias/);
    assert.throws(() => linear(e.fromArray(randomArray(rng, 12), [12]), e.fromArray(randomArray(rng, 8), [2, 4]), null), /\[N, in\]/);
  });
});

test.run();
