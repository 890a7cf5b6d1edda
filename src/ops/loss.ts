// Softmax cross-entropy, fused: the forward keeps each row's (max, log-sum) and the
// backward recomputes the probabilities from them in one kernel, (softmax - onehot) * g / N.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { sumAxis } from '../../kernels/reduce.js';
import { softmax as softmaxKernel, crossEntropyForward, crossEntropyBackward } from '../../kernels/softmax_xent.js';

export interface CrossEntropyOptions {
  /** 'mean' (default): a [1] tensor, the mean over the N examples; 'none': the [N] per-example losses. */
  reduction?: 'mean' | 'none';
}

/**
 * Cross-entropy of softmax(logits [N, C]) against int32 labels [N]. Differentiable w.r.t.
 * the logits. Labels outside [0, C) cannot be checked without a readback: such an example
 * contributes a loss of 0 and a gradient of 0 (and still counts in the mean's N).
 */
export function softmaxCrossEntropy(logits: Tensor, labels: Tensor, opts: CrossEntropyOptions = {}): Tensor {
  const reduction = opts.reduction ?? 'mean';
  if (reduction !== 'mean' && reduction !== 'none') throw new Error(`softmaxCrossEntropy: unknown reduction '${reduction}'`);
  const n = logits.shape[0];
  const { out, stats } = logits.engine.scope(() => {
    const { losses, stats } = crossEntropyForward(logits, labels);
    return { out: reduction === 'mean' ? sumAxis(losses, 0, true, 1 / n) : losses, stats };
  });
  record('softmaxCrossEntropy', out, [logits], (g) => [crossEntropyBackward(logits, labels, stats, g, reduction === 'mean' ? 1 / n : 1)]);
  // Without a tape the statistics have no reader left.
  if (!out.requiresGrad) stats.dispose();
  return out;
}

/** Row-wise probabilities of [N, C] logits (no gradient). */
export function softmax(logits: Tensor): Tensor {
  return softmaxKernel(logits);
}
