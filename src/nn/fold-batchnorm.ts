// Inference with a batchnorm folded into the convolution before it: in evaluation the
// batchnorm is a fixed per-channel affine map, so
//   bn(conv(x, w) + b) = conv(x, w * s) + (beta + (b - mean) * s),  s = gamma / sqrt(var + eps)
// and a following ReLU runs in the convolution's epilogue. One pass over the activations
// instead of three (conv, normalize, relu). Only without gradients: the folded weights are
// a temporary, not the parameters the tape would differentiate.
import type { Tensor } from '../engine/tensor.js';
import { unary, binary, affine } from '../../kernels/elementwise.js';
import { conv2dForward, type Conv2dOptions } from '../../kernels/conv2d.js';

let folding = true;

/**
 * Whether evaluation-mode forwards without gradients fold batchnorm (and ReLU) into the
 * convolution before it (default: yes). A process-wide setting for benchmarks that compare
 * folded and separate passes; results agree either way (test/fold-batchnorm.test.ts).
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

/** relu?(batchnorm(conv2d(x, w) + b)) with running statistics, in one convolution pass. */
export function convBatchNormInference(x: Tensor, w: Tensor, b: Tensor | null, bn: BatchNormStats, opts: Conv2dOptions & { relu: boolean }): Tensor {
  const engine = x.engine;
  return engine.scope(() => {
    const O = w.shape[0];
    const s = binary('div', bn.gamma, unary('sqrt_', affine(bn.runningVar, 1, BATCHNORM_EPS)));
    const folded = binary('mul', w, engine.view(s, [O, 1, 1, 1]));
    const centred = b ? binary('sub', b, bn.runningMean) : unary('neg', bn.runningMean);
    const shift = binary('add', bn.beta, binary('mul', centred, s));
    return conv2dForward(x, folded, shift, opts);
  });
}
