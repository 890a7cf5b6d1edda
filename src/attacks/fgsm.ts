// FGSM (Goodfellow et al.): x_adv = clip(x + eps * sign(grad_x L(theta, x, y)), 0, beta),
// and PGD (Madry et al.): FGSM iterated with a smaller step, projected back onto the
// eps-ball around x after each step. Both run entirely on the GPU.
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import { fgsmStep, pgdStep } from '../../kernels/fgsm.js';
import { inputGradient } from './gradient.js';

export interface AttackRange {
  /** Upper end of the valid feature range (the paper's beta); the lower end is 0. */
  beta?: number;
  /** Targeted: `labels` are the target classes and the step descends their loss (x - eps * sign(grad)). */
  targeted?: boolean;
}

export function fgsm(model: Module, x: Tensor, labels: Tensor, eps: number, range: AttackRange = {}): Tensor {
  if (!(eps >= 0)) throw new Error(`fgsm: eps must be >= 0, got ${eps}`);
  const g = inputGradient(model, x, labels);
  const out = fgsmStep(x, g, range.targeted ? -eps : eps, 0, range.beta ?? 1);
  g.dispose();
  return out;
}

export interface PgdOptions extends AttackRange {
  steps?: number;
  /** Step size; default 2.5 * eps / steps (Madry et al.). */
  stepSize?: number;
}

export function pgd(model: Module, x: Tensor, labels: Tensor, eps: number, opts: PgdOptions = {}): Tensor {
  if (!(eps >= 0)) throw new Error(`pgd: eps must be >= 0, got ${eps}`);
  const steps = opts.steps ?? 10;
  const step = opts.stepSize ?? (2.5 * eps) / steps;
  let cur = x;
  for (let k = 0; k < steps; k++) {
    const g = inputGradient(model, cur, labels);
    const next = pgdStep(cur, g, x, opts.targeted ? -step : step, eps, 0, opts.beta ?? 1);
    g.dispose();
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur === x ? x.engine.view(x, x.shape) : cur;
}
