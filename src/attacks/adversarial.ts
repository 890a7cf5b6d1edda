// The adversarial half of a training step: FGSM against the current weights, with the
// recipe's clip and labels, made on an evaluation-mode view of the model when the recipe says
// so (`paper`: running statistics, no dropout, nothing updated) or on the training-mode model
// itself (`db`: today's behaviour, batch statistics, and the attack's forward updates the
// running statistics as any training forward does).
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import { fgsm, clipOf, type AttackSettings } from './fgsm.js';
import { attackTargets } from './labels.js';
import { inEvalMode } from '../nn/eval-view.js';

export interface TrainingAttack extends AttackSettings {
  eps: number;
  evalMode: boolean;
}

/** x: the space `net` takes (standardised for `paper`), labels int32 [N] -> x_adv. */
export function adversarialExamples(net: Module, x: Tensor, labels: Tensor, a: TrainingAttack): Tensor {
  const clip = clipOf(a.clip, a.beta);
  // In evaluation mode the forward is deterministic, so the predicted labels come from the
  // attack's own forward pass (one forward, not two).
  if (a.evalMode) return inEvalMode(net, () => fgsm(net, x, a.labels === 'predicted' ? 'predicted' : labels, a.eps, { clip }));
  const targets = attackTargets(a.labels, net, x, labels);
  const adv = fgsm(net, x, targets, a.eps, { clip });
  if (targets !== labels) targets.dispose();
  return adv;
}
