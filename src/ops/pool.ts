// Differentiable pooling over [N, C, H, W]: max, average (count_include_pad = true) and
// global average pooling, each forward beside its backward rule (PyTorch semantics).
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import {
  maxPool2dForward,
  maxPool2dBackward,
  avgPool2dForward,
  avgPool2dBackward,
  globalAvgPoolForward,
  globalAvgPoolBackward,
  type Pool2dOptions,
} from '../../kernels/pool.js';

export type { Pool2dOptions };

/** Max pooling; stride defaults to the kernel, padding (at most half the kernel) never wins. */
export function maxPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  const { out, indices } = maxPool2dForward(x, opts);
  record('maxPool2d', out, [x], (g) => [maxPool2dBackward(g, indices, x.shape, opts)]);
  // Not taped: nobody will ask for the argmax.
  if (!out.requiresGrad) indices.dispose();
  return out;
}

export function avgPool2d(x: Tensor, opts: Pool2dOptions): Tensor {
  return record('avgPool2d', avgPool2dForward(x, opts), [x], (g) => [avgPool2dBackward(g, x.shape, opts)]);
}

/** [N, C, H, W] -> [N, C] */
export function globalAvgPool(x: Tensor): Tensor {
  return record('globalAvgPool', globalAvgPoolForward(x), [x], (g) => [globalAvgPoolBackward(g, x.shape)]);
}
