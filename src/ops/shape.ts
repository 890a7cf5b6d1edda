// Differentiable shape ops: reshape (a view, no copy) and permute/transpose.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { permute as permuteKernel } from '../../kernels/permute.js';

export function reshape(x: Tensor, shape: readonly number[]): Tensor {
  const known = shape.filter((d) => d !== -1).reduce((p, d) => p * d, 1);
  const resolved = shape.map((d) => (d === -1 ? x.size / known : d));
  return record('reshape', x.engine.view(x, resolved), [x], (g) => [g.engine.view(g, x.shape)]);
}

export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const inverse = new Array(perm.length);
  perm.forEach((p, i) => (inverse[p] = i));
  return record('permute', permuteKernel(x, perm), [x], (g) => [permuteKernel(g, inverse)]);
}

export function transpose(x: Tensor): Tensor {
  if (x.shape.length !== 2) throw new Error(`transpose: expects a matrix, got [${x.shape}]`);
  return permute(x, [1, 0]);
}
