// Inverted dropout. The mask is a hash of (seed, element index) computed in the kernel,
// so the backward pass recomputes it instead of storing it: dx = mask * g / (1 - p).
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { dropoutKernel, dropoutThreshold } from '../../kernels/dropout.js';

/**
 * Zeroes each element with probability p and scales the rest by 1 / (1 - p).
 * When !training or p == 0 it is the identity and returns `x` itself (not a copy).
 * p must be in [0, 1); the same seed gives the same mask.
 */
export function dropout(x: Tensor, p: number, seed: number, training: boolean): Tensor {
  dropoutThreshold(p); // validates p even when the op is the identity
  if (!training || p === 0) return x;
  return record('dropout', dropoutKernel(x, p, seed), [x], (g) => [dropoutKernel(g, p, seed)]);
}
