// Per-Mel-band standardisation as part of the model (the `paper` recipe, DESIGN.md "Two
// recipes"): y = (x - mean) / std with one mean and one std per band, fitted once on the
// training fold's features when training starts, saved in the checkpoint as the buffers
// `input_norm.mean` and `input_norm.std` ([bands]) and applied on the GPU before the first
// layer wherever the model runs (train, eval, predict, attack, the browser, the PyTorch twin).
//
// Where it lives: `Standardized` wraps a network: forward(x) = net(standardize(x)). The
// network keeps its own parameter names (no prefix), so its state_dict is unchanged and only
// the two buffers are added. Attacks work in the STANDARDISED space (the seed's eps are in
// standard deviations of each band): callers split the model with `inputSpace(model)` into
// `toInput` (raw features -> the space the attack perturbs; outside the differentiated part)
// and `net` (what FGSM/PGD differentiate). A model without standardisation (the `db` recipe,
// every checkpoint from before recipes) is its own `net`, with `toInput` the identity.
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Module } from './module.js';
import { standardize } from '../ops/standardize.js';
import { noGrad } from '../autograd/tape.js';

/**
 * Smallest standard deviation stored, in feature units (ln for `paper`). A constant band
 * (std 0: silence, a band above a low sample rate's Nyquist) would otherwise divide by zero;
 * real ln-Mel bands have std of order 1, so the floor only ever meets such bands, which it
 * maps to 0 on the training data (x - mean = 0) and scales by 1000 elsewhere.
 */
export const STD_FLOOR = 1e-3;

/** The standardisation itself: buffers `mean` and `std`, [bands]; identity statistics until fitted. */
export class InputNorm extends Module {
  readonly mean: Tensor;
  readonly std: Tensor;
  constructor(engine: Engine, readonly bands: number) {
    super(engine);
    this.mean = this.buffer('mean', new Float32Array(bands), [bands]);
    this.std = this.buffer('std', new Float32Array(bands).fill(1), [bands]);
  }
  forward(x: Tensor): Tensor {
    return standardize(x, this.mean, this.std);
  }
  /** Sets the statistics (std floored at STD_FLOOR). */
  set(stats: { mean: ArrayLike<number>; std: ArrayLike<number> }): void {
    if (stats.mean.length !== this.bands || stats.std.length !== this.bands) throw new Error(`InputNorm: statistics of ${stats.mean.length}/${stats.std.length} bands, want ${this.bands}`);
    this.engine.write(this.mean.buffer, Float32Array.from(stats.mean));
    this.engine.write(this.std.buffer, Float32Array.from(stats.std, (s) => Math.max(s, STD_FLOOR)));
  }
}

/**
 * Mean and (population, ddof 0, as numpy.std) standard deviation of every band over ALL
 * frames of `features` (each frames x bands, row-major), in float64, two passes. The std is
 * floored at STD_FLOOR. Pass the training fold's features only.
 */
export function bandStatistics(features: readonly Float32Array[], bands: number): { mean: Float64Array; std: Float64Array; frames: number } {
  const sum = new Float64Array(bands);
  let frames = 0;
  for (const f of features) {
    if (f.length % bands !== 0) throw new Error(`bandStatistics: a feature matrix of ${f.length} values is not frames x ${bands}`);
    for (let i = 0; i < f.length; i++) sum[i % bands] += f[i];
    frames += f.length / bands;
  }
  if (frames === 0) throw new Error('bandStatistics: no frames to fit the standardisation on');
  const mean = sum.map((s) => s / frames);
  const sq = new Float64Array(bands);
  for (const f of features) {
    for (let i = 0; i < f.length; i++) {
      const d = f[i] - mean[i % bands];
      sq[i % bands] += d * d;
    }
  }
  const std = sq.map((s) => Math.max(Math.sqrt(s / frames), STD_FLOOR));
  return { mean, std, frames };
}

/** A network preceded by the per-band standardisation; the state_dict is the network's plus `input_norm.*`. */
export class Standardized extends Module {
  readonly inputNorm: InputNorm;
  constructor(
    engine: Engine,
    readonly net: Module,
    bands: number,
  ) {
    super(engine);
    this.inputNorm = new InputNorm(engine, bands);
  }
  forward(x: Tensor): Tensor {
    return this.net.forward(this.inputNorm.forward(x));
  }
  // The network's names stay unprefixed (PyTorch twin: the models gain an `input_norm` child).
  override namedParameters(prefix = ''): [string, Tensor][] {
    return this.net.namedParameters(prefix);
  }
  override namedBuffers(prefix = ''): [string, Tensor][] {
    return [...this.inputNorm.namedBuffers(`${prefix}input_norm.`), ...this.net.namedBuffers(prefix)];
  }
  override train(on = true): this {
    this.training = on;
    this.net.train(on);
    this.inputNorm.train(on);
    return this;
  }
  override dispose(): void {
    this.inputNorm.dispose();
    this.net.dispose();
  }
}

/**
 * Values of the attacked (standardised) space back in feature units, x * std + mean per band:
 * `x` is time-major, [frames, bands], read back from the GPU. For a model without
 * standardisation (db) the values are the features already and come back unchanged.
 */
export async function toFeatureUnits(model: Module, x: Float32Array): Promise<Float32Array> {
  if (!(model instanceof Standardized)) return x;
  const mean = await model.inputNorm.mean.read();
  const std = await model.inputNorm.std.read();
  const bands = mean.length;
  return x.map((v, i) => v * std[i % bands] + mean[i % bands]);
}

/** Fits a standardised model's statistics on `features` (the training fold); no-op for other models. */
export function fitInputNorm(model: Module, features: readonly Float32Array[]): void {
  if (!(model instanceof Standardized)) return;
  model.inputNorm.set(bandStatistics(features, model.inputNorm.bands));
}

/**
 * The model split where attacks work: `toInput` maps raw features to the space the attack
 * perturbs (standardised for a Standardized model, untaped, so it is not differentiated;
 * the identity otherwise, returning x itself), and `net` maps that space to logits.
 * net.forward(toInput(x)) = model.forward(x).
 */
export function inputSpace(model: Module): { toInput: (x: Tensor) => Tensor; net: Module; standardized: boolean } {
  if (model instanceof Standardized) {
    return { toInput: (x) => noGrad(model.engine, () => model.inputNorm.forward(x)), net: model.net, standardized: true };
  }
  return { toInput: (x) => x, net: model, standardized: false };
}
