// Layer modules over the differentiable ops, with PyTorch's parameter names and
// initialisation (Kaiming-normal convolutions, PyTorch-default linear layers).
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { Random } from '../util/random.js';
import { Module } from './module.js';
import { kaimingNormal, linearDefault } from './init.js';
import { conv2d } from '../ops/conv2d.js';
import { batchNorm2d, batchNorm2dReluMaxPool } from '../ops/batchnorm.js';
import { linear } from '../ops/linear.js';
import { maxPool2d, avgPool2d, globalAvgPool } from '../ops/pool.js';
import { canPoolBatchNorm } from '../../kernels/pool.js';
import { dropout } from '../ops/dropout.js';
import { relu } from '../ops/elementwise.js';
import { convBatchNormInference, convBatchNormInputOnly, batchNormFolding } from './fold-batchnorm.js';
import { activeTape } from '../autograd/tape.js';

type Pair = number | [number, number];

export class Conv2d extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor | null;
  constructor(
    engine: Engine,
    rng: Random,
    inChannels: number,
    outChannels: number,
    kernel: number,
    readonly opts: { stride?: Pair; padding?: Pair; bias?: boolean } = {},
  ) {
    super(engine);
    const shape = [outChannels, inChannels, kernel, kernel];
    this.weight = this.param('weight', kaimingNormal(rng, shape), shape);
    this.bias = opts.bias ? this.param('bias', linearDefault(rng, inChannels * kernel * kernel, outChannels), [outChannels]) : null;
  }
  forward(x: Tensor): Tensor {
    return conv2d(x, this.weight, this.bias, { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0 });
  }
  /**
   * In evaluation, a following BatchNorm2d (and ReLU) fold into this convolution: one pass
   * instead of three. Without gradients (inference) always; under a tape only where no
   * parameter of the two wants a gradient (an attack on an evaluation-mode view, which needs
   * the input's alone), and then a max-pool after the ReLU joins in. Returns null where that
   * does not apply.
   */
  override fusedForward(x: Tensor, next: readonly Module[]): { out: Tensor; consumed: number } | null {
    const [bn, act, after] = next;
    if (!(bn instanceof BatchNorm2d) || bn.training || !batchNormFolding()) return null;
    const relu = act instanceof ReLU;
    const conv = { stride: this.opts.stride ?? 1, padding: this.opts.padding ?? 0 };
    if (!activeTape(this.engine)) return { out: convBatchNormInference(x, this.weight, this.bias, bn.state, { ...conv, relu }), consumed: relu ? 2 : 1 };
    if ([this.weight, this.bias, bn.state.gamma, bn.state.beta].some((t) => t?.requiresGrad)) return null;
    const pool = relu && after instanceof MaxPool2d ? { kernel: after.kernel, stride: after.stride, padding: after.padding } : undefined;
    const out = convBatchNormInputOnly(x, this.weight, this.bias, bn.state, { ...conv, relu, pool });
    return { out, consumed: (relu ? 2 : 1) + (pool ? 1 : 0) };
  }
}

export class BatchNorm2d extends Module {
  readonly state: { gamma: Tensor; beta: Tensor; runningMean: Tensor; runningVar: Tensor };
  constructor(engine: Engine, channels: number) {
    super(engine);
    this.state = {
      gamma: this.param('weight', new Float32Array(channels).fill(1), [channels]),
      beta: this.param('bias', new Float32Array(channels), [channels]),
      runningMean: this.buffer('running_mean', new Float32Array(channels), [channels]),
      runningVar: this.buffer('running_var', new Float32Array(channels).fill(1), [channels]),
    };
  }
  forward(x: Tensor): Tensor {
    return batchNorm2d(x, this.state, { training: this.training });
  }
  /**
   * A following ReLU runs inside the batchnorm passes (its mask recomputed in the backward),
   * and a 2x2 max-pool after it in the last pass, so the batchnorm output is never stored.
   */
  override fusedForward(x: Tensor, next: readonly Module[]): { out: Tensor; consumed: number } | null {
    const [act, pool] = next;
    if (!(act instanceof ReLU)) return null;
    if (pool instanceof MaxPool2d && canPoolBatchNorm(x.shape, pool.options)) {
      return { out: batchNorm2dReluMaxPool(x, this.state, { training: this.training }), consumed: 2 };
    }
    return { out: batchNorm2d(x, this.state, { training: this.training, relu: true }), consumed: 1 };
  }
}

export class Linear extends Module {
  readonly weight: Tensor;
  readonly bias: Tensor;
  constructor(engine: Engine, rng: Random, inFeatures: number, outFeatures: number) {
    super(engine);
    this.weight = this.param('weight', linearDefault(rng, inFeatures, inFeatures * outFeatures), [outFeatures, inFeatures]);
    this.bias = this.param('bias', linearDefault(rng, inFeatures, outFeatures), [outFeatures]);
  }
  forward(x: Tensor): Tensor {
    return linear(x, this.weight, this.bias);
  }
}

export class ReLU extends Module {
  forward(x: Tensor): Tensor {
    return relu(x);
  }
}

export class MaxPool2d extends Module {
  constructor(engine: Engine, readonly kernel: number, readonly stride = kernel, readonly padding = 0) {
    super(engine);
  }
  get options(): { kernel: number; stride: number; padding: number } {
    return { kernel: this.kernel, stride: this.stride, padding: this.padding };
  }
  forward(x: Tensor): Tensor {
    return maxPool2d(x, this.options);
  }
}

export class AvgPool2d extends Module {
  constructor(engine: Engine, readonly kernel: number, readonly stride = kernel, readonly padding = 0) {
    super(engine);
  }
  forward(x: Tensor): Tensor {
    return avgPool2d(x, { kernel: this.kernel, stride: this.stride, padding: this.padding });
  }
}

/** [N, C, H, W] -> [N, C] */
export class GlobalAvgPool extends Module {
  forward(x: Tensor): Tensor {
    return globalAvgPool(x);
  }
}

/** Inverted dropout; a fresh mask every call (the seed advances), none in evaluation. */
export class Dropout extends Module {
  private calls = 0;
  constructor(
    engine: Engine,
    readonly p: number,
    private seed: number,
  ) {
    super(engine);
  }
  forward(x: Tensor): Tensor {
    if (!this.training || this.p === 0) return x;
    return dropout(x, this.p, (this.seed + 0x9e3779b9 * ++this.calls) >>> 0, true);
  }
}
