// Dropout: the mask against a CPU copy of the hash, statistics of the mask, seeds,
// the backward pass reusing the mask, windows, and evaluation mode.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { withTape, backward } from '../src/autograd/tape.js';
import { dropout } from '../src/ops/dropout.js';
import { dropoutKernel } from '../kernels/dropout.js';
import type { Engine } from '../src/engine/engine.js';

const rng = testRandom('dropout');

// CPU copy of the shader's hash (u32 arithmetic via Math.imul and >>> 0).
function pcg(v: number): number {
  const state = (Math.imul(v >>> 0, 747796405) + 2891336453) >>> 0;
  const word = Math.imul(((state >>> ((state >>> 28) + 4)) ^ state) >>> 0, 277803737) >>> 0;
  return ((word >>> 22) ^ word) >>> 0;
}
function keepRef(seed: number, i: number, p: number): boolean {
  const h = pcg((pcg((i ^ pcg(seed)) >>> 0) + seed) >>> 0);
  return h >= Math.min(Math.floor(p * 2 ** 32), 2 ** 32 - 1);
}

/** Values away from zero, so a zero in the output can only come from the mask. */
function nonZero(n: number): Float32Array {
  return randomArray(rng, n, 0.5, 1.5).map((v) => (rng.next() < 0.5 ? -v : v));
}

async function runDropout(e: Engine, x: Float32Array, p: number, seed: number): Promise<Float32Array> {
  return e.scopeAsync(async () => (await dropout(e.fromArray(x, [x.length]), p, seed, true).read()) as Float32Array);
}

/** Binomial tolerance: 5 standard deviations of a fraction of n trials with probability q. */
const tol = (q: number, n: number) => 5 * Math.sqrt((q * (1 - q)) / n);

test('the mask matches a CPU copy of the hash, kept values are scaled by 1/(1-p)', async () => {
  const e = await testEngine();
  const n = 4099 + rng.int(1000);
  const p = 0.3;
  const seed = rng.int(2 ** 32);
  const x = nonZero(n);
  const got = await runDropout(e, x, p, seed);
  const scale = Math.fround(1 / (1 - p));
  const want = Array.from(x, (v, i) => (keepRef(seed, i, p) ? Math.fround(v * scale) : 0));
  assertClose(got, want, 1e-6, 'dropout');
});

for (const p of [0.1, 0.3, 0.5, 0.9]) {
  test(`fraction of zeros is near p = ${p}; kept values are x / (1 - p)`, async () => {
    const e = await testEngine();
    const n = 200_003;
    const x = nonZero(n);
    const got = await runDropout(e, x, p, rng.int(2 ** 32));
    let zeros = 0;
    let bothZero = 0;
    for (let i = 0; i < n; i++) {
      if (got[i] === 0) {
        zeros++;
        if (i > 0 && got[i - 1] === 0) bothZero++;
      } else {
        const want = x[i] / (1 - p);
        assert.ok(Math.abs(got[i] - want) <= 1e-6 * Math.abs(want), `element ${i}: ${got[i]} vs ${want}`);
      }
    }
    const frac = zeros / n;
    assert.ok(Math.abs(frac - p) <= tol(p, n), `zero fraction ${frac}, want ${p} ± ${tol(p, n)}`);
    // Neighbours independent: both dropped with probability p².
    const pair = bothZero / (n - 1);
    assert.ok(Math.abs(pair - p * p) <= tol(p * p, n - 1), `neighbours both zero ${pair}, want ${p * p}`);
  });
}

test('same seed gives the same mask; a different seed (even the next one) an independent one', async () => {
  const e = await testEngine();
  const n = 100_001;
  const p = 0.5;
  const x = nonZero(n);
  const seed = rng.int(2 ** 31);
  const a = await runDropout(e, x, p, seed);
  const b = await runDropout(e, x, p, seed);
  assert.equal(Array.from(a), Array.from(b));
  for (const other of [seed + 1, seed ^ 0x80000000, rng.int(2 ** 31)]) {
    if (other === seed) continue;
    const c = await runDropout(e, x, p, other);
    let agree = 0;
    for (let i = 0; i < n; i++) if ((a[i] === 0) === (c[i] === 0)) agree++;
    // Independent masks agree with probability p² + (1-p)² = 0.5.
    const q = p * p + (1 - p) * (1 - p);
    assert.ok(Math.abs(agree / n - q) <= tol(q, n), `seed ${other}: masks agree on ${agree / n}, want ${q}`);
  }
});

test('backward applies the same mask and scale to the gradient', async () => {
  const e = await testEngine();
  const n = 3001;
  const p = 0.4;
  const seed = rng.int(2 ** 32);
  const x = nonZero(n);
  const g = nonZero(n);
  const [y, dx] = await e.scopeAsync(async () => {
    const xt = e.fromArray(x, [n]);
    xt.requiresGrad = true;
    const { value, tape } = withTape(e, () => dropout(xt, p, seed, true));
    backward(tape, value, e.fromArray(g, [n]));
    const out = [(await value.read()) as Float32Array, (await xt.grad!.read()) as Float32Array];
    xt.grad!.dispose();
    return out;
  });
  const scale = Math.fround(1 / (1 - p));
  let dropped = 0;
  for (let i = 0; i < n; i++) {
    const kept = y[i] !== 0;
    if (!kept) dropped++;
    const want = kept ? Math.fround(g[i] * scale) : 0;
    assert.ok(Math.abs(dx[i] - want) <= 1e-6 * Math.abs(want), `element ${i}: gradient ${dx[i]}, want ${want}`);
  }
  assert.ok(dropped > 0 && dropped < n, 'the mask dropped some elements and kept others');
});

test('gradient of dropout (fixed seed) matches finite differences', async () => {
  const e = await testEngine();
  const seed = rng.int(2 ** 32);
  const { maxError, checked } = await gradCheck(e, ([x]) => dropout(x, 0.5, seed, true), [{ shape: [6, 7], data: randomArray(rng, 42) }], {
    random: () => rng.next(),
    samples: 42,
  });
  assert.is(checked, 42);
  assert.ok(maxError[0] < 2e-2, `relative error ${maxError[0]}`);
});

test('splitting into binding windows does not change the mask', async () => {
  const e = await testEngine();
  const n = 5000 + rng.int(1000);
  const x = nonZero(n);
  const seed = rng.int(2 ** 32);
  const align = e.limits.minStorageBufferOffsetAlignment / 4;
  const [whole, windowed] = await e.scopeAsync(async () => {
    const t = e.fromArray(x, [n]);
    return [await dropoutKernel(t, 0.3, seed).read(), await dropoutKernel(t, 0.3, seed, align * 7).read()];
  });
  assert.equal(Array.from(windowed), Array.from(whole));
});

test('identity (the input itself) in evaluation mode or with p = 0', async () => {
  const e = await testEngine();
  e.scope(() => {
    const x = e.fromArray(randomArray(rng, 10), [2, 5]);
    assert.is(dropout(x, 0.5, 1, false), x);
    assert.is(dropout(x, 0, 1, true), x);
  });
});

test('p outside [0, 1) is rejected', async () => {
  const e = await testEngine();
  e.scope(() => {
    const x = e.fromArray(randomArray(rng, 10), [10]);
    for (const p of [1, -0.1, NaN, 2]) {
      assert.throws(() => dropout(x, p, 1, true), /p must be in \[0, 1\)/);
      assert.throws(() => dropout(x, p, 1, false), /p must be in \[0, 1\)/);
    }
  });
});

test.run();
