// The gradient of the loss with respect to the input, with the model's parameters frozen
// so the backward pass computes no weight gradients (the expensive half of a conv backward).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import { withTape, backward } from '../autograd/tape.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { maxAxis } from '../../kernels/reduce.js';

/**
 * grad_x CE(model(x), labels), the shape of x. `labels`: int32 [N], or 'predicted' for the
 * model's own argmax on x (ties: the first class), taken from the same forward pass as the
 * loss: the same labels as `predictedLabels` when the forward is deterministic (evaluation
 * mode), for one forward instead of two.
 */
export function inputGradient(model: Module, x: Tensor, labels: Tensor | 'predicted'): Tensor {
  const engine = x.engine;
  const params = model.parameters();
  const input = engine.view(x, x.shape); // a fresh leaf, so x's own grad is untouched
  input.requiresGrad = true;
  for (const p of params) p.requiresGrad = false;
  let predicted: Tensor | null = null;
  try {
    const { value: loss, tape } = withTape(engine, () => {
      const logits = model.forward(input);
      if (labels !== 'predicted') return softmaxCrossEntropy(logits, labels);
      const { values, indices } = maxAxis(logits, 1);
      values.dispose();
      predicted = indices;
      return softmaxCrossEntropy(logits, indices);
    });
    backward(tape, loss);
  } finally {
    (predicted as Tensor | null)?.dispose();
    for (const p of params) p.requiresGrad = true;
  }
  const g = input.grad!;
  input.grad = null;
  input.dispose();
  return g;
}
