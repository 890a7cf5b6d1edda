// Differentiable 2D batch normalisation (PyTorch's BatchNorm2d), forward beside backward.
// Training: batch mean and biased variance normalise; runningMean and runningVar are updated
// in place on the GPU (momentum, unbiased variance). Evaluation: the running statistics.
// Differentiable with respect to x, gamma and beta in both modes (evaluation mode is what
// an FGSM attack on a trained model differentiates). With `relu` the op is batchnorm then
// ReLU in the same passes (what a BatchNorm2d followed by a ReLU module runs).
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { batchNormForward, batchNormBackward, batchNormStatistics, type BatchNormState, type BatchNormOptions } from '../../kernels/batchnorm.js';
import { batchNormReluMaxPool2x2, batchNormReluMaxPool2x2Backward, maxPool2dBackward } from '../../kernels/pool.js';

export type { BatchNormState, BatchNormOptions };

export function batchNorm2d(x: Tensor, state: BatchNormState, opts: BatchNormOptions): Tensor {
  const { out, stats } = batchNormForward(x, state, opts);
  const { gamma, beta } = state;
  record(opts.relu ? 'batchNorm2d+relu' : 'batchNorm2d', out, [x, gamma, beta], (g) => {
    const { dx, dgamma, dbeta } = batchNormBackward(g, x, stats, gamma, opts.training, { reduction: opts.reduction, relu: opts.relu });
    const wanted = (t: Tensor, input: Tensor) => (input.requiresGrad ? t : null);
    return [wanted(dx, x), wanted(dgamma, gamma), wanted(dbeta, beta)];
  });
  // Not taped: the statistics are not needed after the forward.
  if (!out.requiresGrad) stats.dispose();
  return out;
}

/**
 * maxPool2d(relu(batchNorm2d(x))) with 2x2 windows at stride 2, x [N, C, H, W] with W a
 * multiple of 4 (kernels/pool.ts canPoolBatchNorm): the statistics passes, then one pass that
 * pools the batchnorm + ReLU output without storing it (what a BatchNorm2d, ReLU, MaxPool2d
 * run of modules executes). The backward scatters the pooled gradient inside the batchnorm +
 * ReLU backward's passes (kernels/pool.ts batchNormReluMaxPool2x2Backward), or, where the
 * tensors need several binding windows or the subgroup sums are asked for, runs the two ops'
 * own backward passes (the pooling's scatter, then batchnorm + ReLU with its mask recomputed
 * from x).
 */
export function batchNorm2dReluMaxPool(x: Tensor, state: BatchNormState, opts: BatchNormOptions): Tensor {
  const stats = batchNormStatistics(x, state, opts);
  const { out, indices } = batchNormReluMaxPool2x2(x, stats);
  const { gamma, beta } = state;
  record('batchNorm2d+relu+maxPool2d', out, [x, gamma, beta], (g) => {
    const { dx, dgamma, dbeta } = fusedBackward(g, indices, x, stats, gamma, opts) ?? unfusedBackward(g, indices, x, stats, gamma, opts);
    const wanted = (t: Tensor, input: Tensor) => (input.requiresGrad ? t : null);
    return [wanted(dx, x), wanted(dgamma, gamma), wanted(dbeta, beta)];
  });
  if (!out.requiresGrad) {
    stats.dispose();
    indices.dispose();
  }
  return out;
}

type Grads = { dx: Tensor; dgamma: Tensor; dbeta: Tensor };

/** The fused backward, or null where it does not apply (an asked-for subgroup reduction, several batch windows). */
function fusedBackward(g: Tensor, indices: Tensor, x: Tensor, stats: Tensor, gamma: Tensor, opts: BatchNormOptions): Grads | null {
  if (opts.reduction === 'subgroups') return null;
  return batchNormReluMaxPool2x2Backward(g, indices, x, stats, gamma, opts.training);
}

function unfusedBackward(g: Tensor, indices: Tensor, x: Tensor, stats: Tensor, gamma: Tensor, opts: BatchNormOptions): Grads {
  const gy = maxPool2dBackward(g, indices, x.shape, { kernel: 2 });
  return batchNormBackward(gy, x, stats, gamma, opts.training, { reduction: opts.reduction, relu: true });
}
