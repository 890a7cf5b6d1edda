// Differentiable 2D convolution (PyTorch's conv2d: cross-correlation, zero padding).
// Backward: dx is a transposed convolution of dy with w, dw correlates x with dy over
// the batch, db sums dy over batch and positions; each is one family of kernels.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dWeightGrad,
  conv2dBiasGrad,
  type Conv2dOptions,
} from '../../kernels/conv2d.js';

/** x [N,C,H,W], w [O,C,kh,kw], b [O] or null -> [N,O,Ho,Wo], Ho = floor((H + 2ph - kh) / sh) + 1. */
export function conv2d(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  const y = conv2dForward(x, w, b, opts);
  const inputs = b ? [x, w, b] : [x, w];
  return record('conv2d', y, inputs, (g) => [
    x.requiresGrad ? conv2dInputGrad(g, w, x.shape, opts) : null,
    w.requiresGrad ? conv2dWeightGrad(x, g, w.shape, opts) : null,
    ...(b ? [b.requiresGrad ? conv2dBiasGrad(g, opts) : null] : []),
  ]);
}
