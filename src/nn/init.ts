// Parameter initialisation on the CPU (seeded), with PyTorch's default recipes.
import type { Random } from '../util/random.js';

/**
 * Kaiming (He) normal, fan-in mode, ReLU gain: N(0, 2 / fan_in) with fan_in = prod(shape[1:]),
 * as PyTorch's kaiming_normal_(mode='fan_in', nonlinearity='relu').
 */
export function kaimingNormal(rng: Random, shape: number[]): Float32Array {
  if (shape.length < 2 || shape.some((d) => !Number.isInteger(d) || d < 1)) {
    throw new Error(`kaimingNormal: needs a shape of rank >= 2 with positive sizes, got [${shape.join(', ')}]`);
  }
  const fanIn = shape.slice(1).reduce((a, b) => a * b, 1);
  const std = Math.sqrt(2 / fanIn);
  const out = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < out.length; i++) out[i] = rng.normal() * std;
  return out;
}

/**
 * U(-1/sqrt(fanIn), 1/sqrt(fanIn)), n values: PyTorch's default for Linear weights
 * (kaiming_uniform_ with a = sqrt(5) reduces to this bound) and for Linear/Conv biases.
 */
export function linearDefault(rng: Random, fanIn: number, n: number): Float32Array {
  if (!Number.isInteger(fanIn) || fanIn < 1) throw new Error(`linearDefault: fanIn must be a whole number >= 1, got ${fanIn}`);
  if (!Number.isInteger(n) || n < 0) throw new Error(`linearDefault: n must be a whole number >= 0, got ${n}`);
  const bound = 1 / Math.sqrt(fanIn);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = rng.uniform(-bound, bound);
  return out;
}
