// Predictions on a feature set: clean, or under an attack generated against the model
// itself (white-box), in evaluation mode (running batchnorm statistics, no dropout). A
// standardised model is attacked in its standardised space (src/nn/input-norm.ts).
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../autograd/tape.js';
import { softmax } from '../ops/loss.js';
import { fgsm, pgd, clipOf } from '../attacks/fgsm.js';
import { attackTargets } from '../attacks/labels.js';
import { inputSpace } from '../nn/input-norm.js';
import type { AttackClip, AttackLabels } from '../audio/recipe.js';
import type { Tensor } from '../engine/tensor.js';
import { makeBatch, type FeatureSet } from './train.js';

/** Clip, beta and labels default to the `db` recipe's: [0, beta], beta 1, true labels. */
interface AttackBounds {
  eps: number;
  beta?: number;
  clip?: AttackClip;
  labels?: AttackLabels;
}
export type Attack = { kind: 'none' } | ({ kind: 'fgsm' } & AttackBounds) | ({ kind: 'pgd'; steps?: number } & AttackBounds);

export interface Predictions {
  predicted: number[];
  /** Class probabilities, one row per example. */
  probabilities: Float32Array[];
}

export async function predict(engine: Engine, model: Module, data: FeatureSet, attack: Attack = { kind: 'none' }, batchSize = 32): Promise<Predictions> {
  model.eval();
  const predicted: number[] = [];
  const probabilities: Float32Array[] = [];
  try {
    for (let start = 0; start < data.features.length; start += batchSize) {
      const idx = [...Array(Math.min(batchSize, data.features.length - start)).keys()].map((k) => start + k);
      const probs = await engine.scopeAsync(async () => {
        const { x, y } = makeBatch(engine, data, idx);
        const logits = attack.kind === 'none' || !(attack.eps > 0) ? noGrad(engine, () => model.forward(x)) : attacked(model, x, y, attack);
        return (await softmax(logits).read()) as Float32Array;
      });
      const classes = probs.length / idx.length;
      for (let k = 0; k < idx.length; k++) {
        const row = probs.slice(k * classes, (k + 1) * classes);
        probabilities.push(row);
        let best = 0;
        for (let c = 1; c < classes; c++) if (row[c] > row[best]) best = c;
        predicted.push(best);
      }
    }
  } finally {
    model.train();
  }
  return { predicted, probabilities };
}

/** Logits of the attacked batch: the attack runs in the model's input space (standardised for `paper`). */
function attacked(model: Module, x: Tensor, y: Tensor, attack: Exclude<Attack, { kind: 'none' }>): Tensor {
  const { toInput, net } = inputSpace(model);
  const xs = toInput(x);
  const targets = attackTargets(attack.labels ?? 'true', net, xs, y);
  const clip = clipOf(attack.clip ?? 'range', attack.beta ?? 1);
  const adv = attack.kind === 'fgsm' ? fgsm(net, xs, targets, attack.eps, { clip }) : pgd(net, xs, targets, attack.eps, { steps: attack.steps, clip });
  return noGrad(model.engine, () => net.forward(adv));
}
