// Optimizers with PyTorch's update rules, run as GPU kernels (kernels/optimizer.ts):
// one dispatch per parameter per step, state buffers kept on the GPU. Parameters with no
// gradient this step are skipped, and Adam counts steps per parameter, as PyTorch does.
import type { Tensor } from '../engine/tensor.js';
import { fill } from '../../kernels/elementwise.js';
import { adamUpdate, sgdUpdate } from '../../kernels/optimizer.js';

function checkNumber(what: string, v: number, lo: number, hi: number, hiOpen = false): void {
  if (!Number.isFinite(v) || v < lo || (hiOpen ? v >= hi : v > hi)) {
    throw new Error(`${what} must be in [${lo}, ${hi}${hiOpen ? ')' : ']'}, got ${v}`);
  }
}

function checkParams(name: string, params: Tensor[]): void {
  if (new Set(params).size !== params.length) throw new Error(`${name}: a parameter is listed twice`);
  for (const p of params) if (p.dtype !== 'f32') throw new Error(`${name}: parameters must be float32, got ${p}`);
}

/** A zero-filled tensor owned by the optimizer (outside every scope). */
function zerosLike(p: Tensor): Tensor {
  return p.engine.keep(fill(p.engine, p.shape, 0));
}

/** Drops every parameter's gradient (backward creates fresh ones). */
function dropGrads(params: Tensor[]): void {
  for (const p of params) {
    p.grad?.dispose();
    p.grad = null;
  }
}

export interface AdamOptions {
  lr?: number;
  beta1?: number;
  beta2?: number;
  eps?: number;
  /** L2 penalty added to the gradient (PyTorch Adam's weight_decay, not AdamW). */
  weightDecay?: number;
}

export class Adam {
  lr: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly eps: number;
  readonly weightDecay: number;
  private state = new Map<Tensor, { m: Tensor; v: Tensor; steps: number }>();

  constructor(
    readonly params: Tensor[],
    opts: AdamOptions = {},
  ) {
    checkParams('Adam', params);
    this.lr = opts.lr ?? 1e-3;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.eps = opts.eps ?? 1e-8;
    this.weightDecay = opts.weightDecay ?? 0;
    checkNumber('Adam lr', this.lr, 0, Infinity);
    checkNumber('Adam beta1', this.beta1, 0, 1, true);
    checkNumber('Adam beta2', this.beta2, 0, 1, true);
    checkNumber('Adam eps', this.eps, 0, Infinity);
    checkNumber('Adam weightDecay', this.weightDecay, 0, Infinity);
  }

  step(): void {
    checkNumber('Adam lr', this.lr, 0, Infinity);
    for (const p of this.params) {
      if (!p.grad) continue;
      let st = this.state.get(p);
      if (!st) {
        st = { m: zerosLike(p), v: zerosLike(p), steps: 0 };
        this.state.set(p, st);
      }
      st.steps++;
      // Bias corrections in float64 on the CPU; the kernel gets the two factors.
      const bc1 = 1 - this.beta1 ** st.steps;
      const bc2 = 1 - this.beta2 ** st.steps;
      adamUpdate(p, p.grad, st.m, st.v, {
        stepSize: this.lr / bc1,
        invSqrtBc2: 1 / Math.sqrt(bc2),
        beta1: this.beta1,
        beta2: this.beta2,
        eps: this.eps,
        weightDecay: this.weightDecay,
      });
    }
  }

  zeroGrad(): void {
    dropGrads(this.params);
  }

  /** Steps taken by `param` (0 before its first update). */
  stepsOf(param: Tensor): number {
    return this.state.get(param)?.steps ?? 0;
  }

  /** Frees the moment buffers. */
  dispose(): void {
    for (const st of this.state.values()) {
      st.m.dispose();
      st.v.dispose();
    }
    this.state.clear();
  }
}

export interface SgdOptions {
  lr?: number;
  /** PyTorch semantics: dampening 0, not Nesterov. */
  momentum?: number;
  weightDecay?: number;
}

export class SGD {
  lr: number;
  readonly momentum: number;
  readonly weightDecay: number;
  private buffers = new Map<Tensor, Tensor>();

  constructor(
    readonly params: Tensor[],
    opts: SgdOptions = {},
  ) {
    checkParams('SGD', params);
    this.lr = opts.lr ?? 1e-3;
    this.momentum = opts.momentum ?? 0;
    this.weightDecay = opts.weightDecay ?? 0;
    checkNumber('SGD lr', this.lr, 0, Infinity);
    checkNumber('SGD momentum', this.momentum, 0, Infinity);
    checkNumber('SGD weightDecay', this.weightDecay, 0, Infinity);
  }

  step(): void {
    checkNumber('SGD lr', this.lr, 0, Infinity);
    for (const p of this.params) {
      if (!p.grad) continue;
      let buffer: Tensor | null = null;
      if (this.momentum !== 0) {
        buffer = this.buffers.get(p) ?? null;
        if (!buffer) {
          buffer = zerosLike(p);
          this.buffers.set(p, buffer);
        }
      }
      sgdUpdate(p, p.grad, buffer, { lr: this.lr, momentum: this.momentum, weightDecay: this.weightDecay });
    }
  }

  zeroGrad(): void {
    dropGrads(this.params);
  }

  dispose(): void {
    for (const b of this.buffers.values()) b.dispose();
    this.buffers.clear();
  }
}

/** Step decay: the learning rate at iteration i is base * factor^floor(i / every). */
export function stepDecay(base: number, factor: number, every: number): (iteration: number) => number {
  checkNumber('stepDecay base', base, 0, Infinity);
  checkNumber('stepDecay factor', factor, 0, Infinity);
  if (!Number.isInteger(every) || every < 1) throw new Error(`stepDecay every must be a whole number >= 1, got ${every}`);
  return (iteration: number) => {
    if (!Number.isInteger(iteration) || iteration < 0) throw new Error(`stepDecay: iteration must be a whole number >= 0, got ${iteration}`);
    return base * factor ** Math.floor(iteration / every);
  };
}
