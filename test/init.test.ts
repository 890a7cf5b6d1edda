// Initialisation statistics with tolerances from the sample size, and seeded repeatability.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testRandom } from './helpers/check.js';
import { Random } from '../src/util/random.js';
import { kaimingNormal, linearDefault } from '../src/nn/init.js';

const rng = testRandom('init');

function moments(a: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of a) s += v;
  const mean = s / a.length;
  let q = 0;
  for (const v of a) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / (a.length - 1)) };
}

for (const shape of [
  [64, 32, 3, 3],
  [33, 1, 7, 7],
  [100, 257],
]) {
  test(`kaimingNormal [${shape}]: mean 0, std sqrt(2 / fan_in), normal shape`, () => {
    const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
    const sigma = Math.sqrt(2 / fanIn);
    const w = kaimingNormal(rng.fork(), shape);
    const n = w.length;
    assert.is(n, shape.reduce((a, b) => a * b, 1));
    const { mean, std } = moments(w);
    // 5 standard errors: the mean's is sigma/sqrt(n), the sample std's about sigma/sqrt(2n).
    assert.ok(Math.abs(mean) <= (5 * sigma) / Math.sqrt(n), `mean ${mean}`);
    assert.ok(Math.abs(std - sigma) <= (5 * sigma) / Math.sqrt(2 * n), `std ${std}, want ${sigma}`);
    // Normal, not some other distribution with that variance: P(|x| < sigma) = 0.6827.
    const inside = w.filter((v) => Math.abs(v) < sigma).length / n;
    assert.ok(Math.abs(inside - 0.6827) <= 5 * Math.sqrt((0.6827 * 0.3173) / n), `fraction within one sigma ${inside}`);
  });
}

test('linearDefault: U(-1/sqrt(fanIn), 1/sqrt(fanIn))', () => {
  const fanIn = 37 + rng.int(500);
  const bound = 1 / Math.sqrt(fanIn);
  const n = 50_001;
  const w = linearDefault(rng.fork(), fanIn, n);
  assert.is(w.length, n);
  assert.ok(w.every((v) => Math.abs(v) <= bound), 'all values within the bound');
  const { mean, std } = moments(w);
  const sigma = bound / Math.sqrt(3);
  assert.ok(Math.abs(mean) <= (5 * sigma) / Math.sqrt(n), `mean ${mean}`);
  // Sample std of a uniform: standard error about sigma * sqrt((kurtosis - 1) / 4n) = sigma * sqrt(0.8 / 4n).
  assert.ok(Math.abs(std - sigma) <= 5 * sigma * Math.sqrt(0.8 / (4 * n)), `std ${std}, want ${sigma}`);
  // Uniform: each quarter of the range holds a quarter of the values.
  const q = w.filter((v) => v > bound / 2).length / n;
  assert.ok(Math.abs(q - 0.25) <= 5 * Math.sqrt((0.25 * 0.75) / n), `top quarter ${q}`);
});

test('same seed, same values; different seed, different values', () => {
  const seed = rng.int(2 ** 31) + 1;
  assert.equal(Array.from(kaimingNormal(new Random(seed), [8, 3, 3, 3])), Array.from(kaimingNormal(new Random(seed), [8, 3, 3, 3])));
  assert.equal(Array.from(linearDefault(new Random(seed), 10, 50)), Array.from(linearDefault(new Random(seed), 10, 50)));
  assert.not.equal(Array.from(kaimingNormal(new Random(seed), [8, 3, 3, 3])), Array.from(kaimingNormal(new Random(seed + 1), [8, 3, 3, 3])));
  assert.not.equal(Array.from(linearDefault(new Random(seed), 10, 50)), Array.from(linearDefault(new Random(seed + 1), 10, 50)));
});

test('bad shapes are rejected', () => {
  assert.throws(() => kaimingNormal(new Random(1), [10]), /rank >= 2/);
  assert.throws(() => kaimingNormal(new Random(1), [10, 0]), /positive/);
  assert.throws(() => linearDefault(new Random(1), 0, 5), /fanIn/);
});

test.run();
