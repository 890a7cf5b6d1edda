// Modules: named parameters and buffers in a tree, PyTorch-style, so a model's
// state_dict names (e.g. `layer1.0.conv1.weight`) map one-to-one to PyTorch's.
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';

export abstract class Module {
  training = true;
  private params: [string, Tensor][] = [];
  private buffers: [string, Tensor][] = [];
  private children: [string, Module][] = [];

  constructor(readonly engine: Engine) {}

  abstract forward(x: Tensor): Tensor;

  /**
   * A Sequential asks each layer whether it can run together with the layers after it
   * (`next`); a layer that can returns the output and how many of them it consumed.
   */
  fusedForward(_x: Tensor, _next: readonly Module[]): { out: Tensor; consumed: number } | null {
    return null;
  }

  /** A trainable tensor, owned by the module (outside every scope). */
  protected param(name: string, data: Float32Array, shape: number[]): Tensor {
    const t = this.engine.keep(this.engine.fromArray(data, shape));
    t.requiresGrad = true;
    t.name = name;
    this.params.push([name, t]);
    return t;
  }

  /** Saved state that is not trained (batchnorm running statistics). */
  protected buffer(name: string, data: Float32Array, shape: number[]): Tensor {
    const t = this.engine.keep(this.engine.fromArray(data, shape));
    t.name = name;
    this.buffers.push([name, t]);
    return t;
  }

  protected child<M extends Module>(name: string, m: M): M {
    this.children.push([name, m]);
    return m;
  }

  namedParameters(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = this.params.map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedParameters(`${prefix}${n}.`));
    return out;
  }

  namedBuffers(prefix = ''): [string, Tensor][] {
    const out: [string, Tensor][] = this.buffers.map(([n, t]) => [prefix + n, t]);
    for (const [n, c] of this.children) out.push(...c.namedBuffers(`${prefix}${n}.`));
    return out;
  }

  parameters(): Tensor[] {
    return this.namedParameters().map(([, t]) => t);
  }

  /** Parameters and buffers, in a stable order: the checkpoint's contents. */
  stateEntries(): [string, Tensor][] {
    return [...this.namedParameters(), ...this.namedBuffers()];
  }

  parameterCount(): number {
    return this.parameters().reduce((n, t) => n + t.size, 0);
  }

  train(on = true): this {
    this.training = on;
    for (const [, c] of this.children) c.train(on);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  dispose(): void {
    for (const [, t] of [...this.params, ...this.buffers]) {
      t.grad?.dispose();
      t.dispose();
    }
    for (const [, c] of this.children) c.dispose();
  }
}

/** Children run in order, named by index like torch.nn.Sequential. */
export class Sequential extends Module {
  readonly layers: Module[];
  constructor(engine: Engine, layers: Module[]) {
    super(engine);
    this.layers = layers.map((m, i) => this.child(String(i), m));
  }
  forward(x: Tensor): Tensor {
    let h = x;
    for (let i = 0; i < this.layers.length; ) {
      const fused = this.layers[i].fusedForward(h, this.layers.slice(i + 1, i + 4));
      h = fused ? fused.out : this.layers[i].forward(h);
      i += 1 + (fused?.consumed ?? 0);
    }
    return h;
  }
}
