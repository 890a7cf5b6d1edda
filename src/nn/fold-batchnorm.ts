// Batchnorm folded into the convolution before it. In evaluation the batchnorm is a fixed
// per-channel affine map, so
//   bn(conv(x, w) + b) = conv(x, w * s) + (beta + (b - mean) * s),  s = gamma / sqrt(var + eps)
// and a following ReLU runs in the convolution's epilogue: one pass over the activations
// instead of three (conv, normalize, relu). Two uses:
// - inference without gradients (convBatchNormInference);
// - an attack on an evaluation-mode view with the parameters frozen (the `paper` recipe's
//   training-time FGSM), which needs grad_x only: the fold is then differentiable in x alone
//   (convBatchNormInputOnly), so neither the forward nor the backward runs a batchnorm pass,
//   and a following max-pool joins it (its ReLU mask taken at the pooled size).
// The folded weights are temporaries, not the parameters a tape would differentiate, so
// neither applies where a parameter wants a gradient.
import type { Tensor } from '../engine/tensor.js';
import { unary, binary, affine } from '../../kernels/elementwise.js';
import { conv2dForward, conv2dInputGrad, type Conv2dOptions } from '../../kernels/conv2d.js';
import { maxPool2dForward, maxPool2dBackward, type Pool2dOptions } from '../../kernels/pool.js';
import { record } from '../ops/record.js';

let folding = true;

/**
 * Whether evaluation-mode convolutions fold the batchnorm after them (default: yes). A
 * process-wide setting for benchmarks that compare folded and separate passes; results agree
 * either way (test/fold-batchnorm.test.ts).
 */
export function setBatchNormFolding(on: boolean): void {
  folding = on;
}

export function batchNormFolding(): boolean {
  return folding;
}

/** batchNorm2d's default epsilon, the one BatchNorm2d layers use. */
const BATCHNORM_EPS = 1e-5;

export interface BatchNormStats {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

/** w * s ([O, C, kh, kw]) and beta + (b - mean) * s ([O]), s = gamma / sqrt(runningVar + eps). */
function foldWeights(w: Tensor, b: Tensor | null, bn: BatchNormStats): { weight: Tensor; shift: Tensor } {
  const engine = w.engine;
  return engine.scope(() => {
    const O = w.shape[0];
    const s = binary('div', bn.gamma, unary('sqrt_', affine(bn.runningVar, 1, BATCHNORM_EPS)));
    const weight = binary('mul', w, engine.view(s, [O, 1, 1, 1]));
    const centred = b ? binary('sub', b, bn.runningMean) : unary('neg', bn.runningMean);
    return { weight, shift: binary('add', bn.beta, binary('mul', centred, s)) };
  });
}

/** relu?(batchnorm(conv2d(x, w) + b)) with running statistics, in one convolution pass. */
export function convBatchNormInference(x: Tensor, w: Tensor, b: Tensor | null, bn: BatchNormStats, opts: Conv2dOptions & { relu: boolean }): Tensor {
  return x.engine.scope(() => {
    const { weight, shift } = foldWeights(w, b, bn);
    return conv2dForward(x, weight, shift, opts);
  });
}

/**
 * maxPool?(relu?(batchnorm(conv2d(x, w) + b))) with running statistics, x [N, C, H, W], and
 * its gradient with respect to x alone (w, b and the batchnorm's tensors are constants here:
 * callers check that none wants a gradient). Forward: one convolution pass with the ReLU in
 * its epilogue, then the pooling. Backward: the ReLU mask at the pooled size (the maximum of
 * ReLU outputs is positive exactly where the ReLU at its argmax passed; ties as PyTorch's
 * relu-then-maxpool), the pooling's scatter, and the convolution's input gradient with the
 * folded weights. No batchnorm pass either way.
 */
export function convBatchNormInputOnly(
  x: Tensor,
  w: Tensor,
  b: Tensor | null,
  bn: BatchNormStats,
  opts: Conv2dOptions & { relu: boolean; pool?: Pool2dOptions },
): Tensor {
  const { relu, pool, ...conv } = opts;
  const { weight, shift } = foldWeights(w, b, bn);
  const y = conv2dForward(x, weight, shift, { ...conv, relu });
  const inputGrad = (gy: Tensor) => conv2dInputGrad(gy, weight, x.shape, conv);
  if (!pool) {
    return record('conv2d+batchNorm2d folded', y, [x], (g) => [inputGrad(relu ? binary('relu_backward', y, g) : g)]);
  }
  const { out, indices } = maxPool2dForward(y, pool);
  const yShape = y.shape;
  y.dispose(); // the backward needs only the pooled output and the argmax
  return record('conv2d+batchNorm2d folded', out, [x], (g) => [inputGrad(maxPool2dBackward(relu ? binary('relu_backward', out, g) : g, indices, yShape, pool))]);
}
