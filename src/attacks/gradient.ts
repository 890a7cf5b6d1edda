// The gradient of the loss with respect to the input, with the model's parameters frozen
// so the backward pass computes no weight gradients (the expensive half of a conv backward).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import { withTape, backward } from '../autograd/tape.js';
import { softmaxCrossEntropy } from '../ops/loss.js';

export function inputGradient(model: Module, x: Tensor, labels: Tensor): Tensor {
  const engine = x.engine;
  const params = model.parameters();
  const input = engine.view(x, x.shape); // a fresh leaf, so x's own grad is untouched
  input.requiresGrad = true;
  for (const p of params) p.requiresGrad = false;
  try {
    const { value: loss, tape } = withTape(engine, () => softmaxCrossEntropy(model.forward(input), labels));
    backward(tape, loss);
  } finally {
    for (const p of params) p.requiresGrad = true;
  }
  const g = input.grad!;
  input.grad = null;
  input.dispose();
  return g;
}
