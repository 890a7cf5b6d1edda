// The labels an attack pushes away from: the true ones, or the model's own predictions on
// the clean input (the lineage code's choice: no label leaking, and usable without labels).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import type { AttackLabels } from '../audio/recipe.js';
import { noGrad } from '../autograd/tape.js';
import { maxAxis } from '../../kernels/reduce.js';

/** argmax over classes of model(x), int32 [N], on the GPU (no readback; ties: the first class). */
export function predictedLabels(model: Module, x: Tensor): Tensor {
  return noGrad(x.engine, () => {
    const logits = model.forward(x);
    const { values, indices } = maxAxis(logits, 1);
    values.dispose();
    logits.dispose();
    return indices;
  });
}

/** `labels` itself for 'true', the model's predictions for 'predicted'. */
export function attackTargets(kind: AttackLabels, model: Module, x: Tensor, labels: Tensor): Tensor {
  return kind === 'predicted' ? predictedLabels(model, x) : labels;
}
