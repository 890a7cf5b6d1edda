// FGSM (Goodfellow et al.): x_adv = clip(x + eps * sign(grad_x L(theta, x, y))), and PGD
// (Madry et al.): FGSM iterated with a smaller step, projected back onto the eps-ball around
// x after each step. The clip is the recipe's (kernels/fgsm.ts Clip): [0, beta] for `db`,
// [x - beta, x + beta] for `paper` (the seed's equation 2). Both run entirely on the GPU, on
// whatever space `model` takes: callers attacking a standardised model pass its network and
// the standardised input (src/nn/input-norm.ts inputSpace), so eps is in standard deviations.
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import type { AttackClip, AttackLabels } from '../audio/recipe.js';
import { fgsmStep, pgdStep, type Clip } from '../../kernels/fgsm.js';
import { inputGradient } from './gradient.js';

/** How an attack is bounded and whom it attacks: the recipe's defaults, overridable by flags. */
export interface AttackSettings {
  clip: AttackClip;
  /** 'range': the upper end of [0, beta]; 'ball': the radius of [x - beta, x + beta]. */
  beta: number;
  labels: AttackLabels;
}

/** Today's (`db`) attack: clip to [0, 1], true labels. */
export const DB_ATTACK: AttackSettings = { clip: 'range', beta: 1, labels: 'true' };

/** The kernel clip of a recipe's clip kind and beta. */
export function clipOf(kind: AttackClip, beta: number): Clip {
  return kind === 'ball' ? { kind: 'ball', radius: beta } : { kind: 'range', lo: 0, hi: beta };
}

export interface AttackClipOptions {
  /** Default: [0, 1], the `db` feature range. */
  clip?: Clip;
  /** Targeted: `labels` are the target classes and each step descends their loss (x - eps * sign(grad)). */
  targeted?: boolean;
}

const DEFAULT_CLIP: Clip = { kind: 'range', lo: 0, hi: 1 };

/**
 * x [N, ...] (the space `model` takes), labels int32 [N] (or 'predicted': the model's argmax
 * on x from the attack's own forward, see inputGradient) -> x_adv, the shape of x.
 */
export function fgsm(model: Module, x: Tensor, labels: Tensor | 'predicted', eps: number, opts: AttackClipOptions = {}): Tensor {
  if (!(eps >= 0)) throw new Error(`fgsm: eps must be >= 0, got ${eps}`);
  const g = inputGradient(model, x, labels);
  const out = fgsmStep(x, g, opts.targeted ? -eps : eps, opts.clip ?? DEFAULT_CLIP);
  g.dispose();
  return out;
}

export interface PgdOptions extends AttackClipOptions {
  steps?: number;
  /** Step size; default 2.5 * eps / steps (Madry et al.). */
  stepSize?: number;
}

/** PGD within the eps-ball (L-infinity) around x, each step also clipped as `opts.clip` says (a ball clip around the clean x). */
export function pgd(model: Module, x: Tensor, labels: Tensor, eps: number, opts: PgdOptions = {}): Tensor {
  if (!(eps >= 0)) throw new Error(`pgd: eps must be >= 0, got ${eps}`);
  const steps = opts.steps ?? 10;
  const step = opts.stepSize ?? (2.5 * eps) / steps;
  let cur = x;
  for (let k = 0; k < steps; k++) {
    const g = inputGradient(model, cur, labels);
    const next = pgdStep(cur, g, x, opts.targeted ? -step : step, eps, opts.clip ?? DEFAULT_CLIP);
    g.dispose();
    if (cur !== x) cur.dispose();
    cur = next;
  }
  return cur === x ? x.engine.view(x, x.shape) : cur;
}
