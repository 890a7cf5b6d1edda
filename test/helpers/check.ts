// Comparing GPU results with float64 CPU references.
import * as assert from 'uvu/assert';
import { Random } from '../../src/util/random.js';

export function randomArray(rng: Random, n: number, lo = -1, hi = 1): Float32Array {
  const a = new Float32Array(n);
  for (let i = 0; i < n; i++) a[i] = rng.uniform(lo, hi);
  return a;
}

/**
 * Asserts every element is finite and within `tol` relative error of the reference:
 * |got - want| <= tol * max(1, |want|). NaN (a poisoned, unwritten element) always fails.
 */
export function assertClose(got: ArrayLike<number>, want: ArrayLike<number>, tol: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let i = 0; i < want.length; i++) {
    const g = got[i];
    const w = want[i];
    const err = Math.abs(g - w) / Math.max(1, Math.abs(w));
    if (!Number.isFinite(g) || !(err <= tol)) {
      assert.unreachable(`${what}: element ${i} is ${g}, want ${w} (tolerance ${tol})`);
    }
  }
}

/** Fresh inputs every run; the run's seed is printed once so a failure can be replayed with TEST_SEED. */
export const TEST_SEED = process.env.TEST_SEED ? Number(process.env.TEST_SEED) : (Math.random() * 2 ** 31) >>> 0;
let announced = false;

export function testRandom(label: string): Random {
  if (!announced) {
    console.log(`  TEST_SEED=${TEST_SEED}`);
    announced = true;
  }
  return new Random((TEST_SEED ^ hash(label)) >>> 0);
}

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619);
  return h >>> 0;
}

/** uvu has no assert.rejects: the promise made by `fn` must reject with a message matching `pattern`. */
export async function rejects(fn: () => Promise<unknown>, pattern: RegExp, what = ''): Promise<void> {
  try {
    await fn();
  } catch (e) {
    assert.match((e as Error).message, pattern, what);
    return;
  }
  assert.unreachable(`should have failed: ${what || pattern}`);
}
