// Predictions on a feature set: clean, or under an attack generated against the model
// itself (white-box), in evaluation mode (running batchnorm statistics, no dropout).
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { noGrad } from '../autograd/tape.js';
import { softmax } from '../ops/loss.js';
import { fgsm, pgd } from '../attacks/fgsm.js';
import { makeBatch, type FeatureSet } from './train.js';

export type Attack = { kind: 'none' } | { kind: 'fgsm'; eps: number; beta?: number } | { kind: 'pgd'; eps: number; steps?: number; beta?: number };

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
        const input =
          attack.kind === 'fgsm' && attack.eps > 0
            ? fgsm(model, x, y, attack.eps, { beta: attack.beta })
            : attack.kind === 'pgd' && attack.eps > 0
              ? pgd(model, x, y, attack.eps, { steps: attack.steps, beta: attack.beta })
              : x;
        return (await noGrad(engine, () => softmax(model.forward(input))).read()) as Float32Array;
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
