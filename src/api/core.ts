// The library's public API, the part that runs in Node and in the browser alike: a thin
// facade over the engine's own modules (FrontEnd, predict, fgsm/pgd, train, checkpoints), so
// the numbers are the CLI's. src/index.ts (Node) and src/browser-index.ts add how a device is
// acquired and how files or URLs are read.
//
// Shapes: features are one utterance's log-Mel spectrogram, frames x 64 Mel bands, time-major
// (row t holds the 64 bands of frame t), as a Float32Array of frames * 64 values; the models
// take 373 x 64 (the recipe's fit makes every utterance that long). Waveforms are mono
// Float32Array samples in [-1, 1] at any sample rate (resampled to 16 kHz here).
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { FrontEnd, SAMPLE_RATE } from '../audio/frontend.js';
import type { Fit, FrontEndOptions } from '../audio/reference.js';
import { resample } from '../audio/resample.js';
import { decodeWav } from '../audio/wav.js';
import { recipeOf, DEFAULT_RECIPE, type Recipe, type RecipeName } from '../audio/recipe.js';
import { CLASSES, type Label } from '../data/corpus.js';
import { createModel, type ModelName } from '../models/index.js';
import { modelToSafetensors } from '../nn/checkpoint.js';
import { openModelBytes, checkpointFit } from '../nn/open-model.js';
import { fitInputNorm, inputSpace, Standardized, toFeatureUnits } from '../nn/input-norm.js';
import { predict as predictSet } from '../train/evaluate.js';
import { train, DEFAULT_TRAIN, type TrainConfig, type FeatureSet } from '../train/train.js';
import { fgsm, pgd, clipOf } from '../attacks/fgsm.js';
import { noGrad } from '../autograd/tape.js';
import { softmax } from '../ops/loss.js';

export { CLASSES, type Label };
export { MODEL_NAMES, type ModelName } from '../models/index.js';
export { RECIPES, RECIPE_NAMES, DEFAULT_RECIPE, type Recipe, type RecipeName } from '../audio/recipe.js';
export type { Engine } from '../engine/engine.js';
export type { FrontEndOptions } from '../audio/reference.js';
export { clipCaution, CAUTION_MIN_SECONDS, CAUTION_SILENCE_DBFS } from '../audio/caution.js';
export type { TrainConfig } from '../train/train.js';

/** Mel bands of every recipe's features. */
export const BANDS = 64;

/** A model ready to use: its weights on the engine's device, its name and its recipe. */
export class SerModel {
  constructor(
    readonly engine: Engine,
    /** The network (src/nn/module.ts), with the per-band standardisation in front when the recipe has one; in evaluation mode unless being trained. */
    readonly module: Module,
    readonly name: ModelName,
    /** The checkpoint's metadata (`ser train` writes model, recipe, fit, corpus, ...); {} for a plain state_dict. */
    readonly metadata: Record<string, string>,
    /**
     * The recipe the model was trained with (src/audio/recipe.ts): the checkpoint's `recipe`;
     * `db` for checkpoints from before recipes; for a plain state_dict, `paper` when it holds
     * `input_norm.mean`, else `db` (src/nn/open-model.ts).
     */
    readonly recipe: Recipe,
  ) {}

  /** The fit its features need: the checkpoint's `fit`, else the recipe's. */
  get fit(): Fit {
    return checkpointFit(this.metadata, this.recipe);
  }

  /** The front-end settings its features need: the recipe's, with the checkpoint's `fit`. */
  get frontEnd(): FrontEndOptions {
    return { ...this.recipe.frontEnd, fit: this.fit };
  }

  /** The weights (and metadata) as safetensors bytes with PyTorch's names (tools/pytorch_models.py loads them). */
  toSafetensors(): Promise<Uint8Array> {
    return modelToSafetensors(this.module, { ...this.metadata, model: this.name, recipe: this.recipe.name });
  }

  /** Frees the weights' GPU buffers. */
  dispose(): void {
    this.module.dispose();
  }
}

/** One prediction: the most probable class and every class's probability (they sum to 1). */
export interface Prediction {
  label: Label;
  probabilities: Record<Label, number>;
}

/**
 * A model from safetensors bytes: a checkpoint written by `ser train`, the browser app or
 * `SerModel.toSafetensors`, or a plain PyTorch state_dict when `opts.model` names its
 * architecture. Throws (naming `source`) when the bytes are not safetensors, name no known
 * model, or miss a tensor or hold one of the wrong shape.
 */
export function modelFromBytes(engine: Engine, bytes: Uint8Array, opts: { model?: ModelName; source?: string } = {}): SerModel {
  const { model, modelName, meta, recipe } = openModelBytes(engine, bytes, opts.source ?? 'checkpoint', { model: opts.model });
  return new SerModel(engine, model, modelName, meta, recipe);
}

/**
 * A freshly initialised (untrained) model, e.g. to train with `trainModel`. `opts.recipe`
 * defaults to DEFAULT_RECIPE (`paper`: the network gets the per-band standardisation, whose
 * statistics trainModel fits on its training features). Throws for an unknown recipe.
 */
export function newModel(engine: Engine, name: ModelName, opts: { seed?: number; recipe?: RecipeName } = {}): SerModel {
  const recipe = recipeOf(opts.recipe ?? DEFAULT_RECIPE);
  const module = createModel(name, engine, { seed: opts.seed, standardize: recipe.standardize });
  module.eval();
  return new SerModel(engine, module, name, { model: name, recipe: recipe.name, fit: recipe.frontEnd.fit }, recipe);
}

function frontEndOf(opts: { model?: SerModel; recipe?: RecipeName; frontEnd?: Partial<FrontEndOptions> }): Partial<FrontEndOptions> {
  const base = opts.model ? opts.model.frontEnd : recipeOf(opts.recipe ?? DEFAULT_RECIPE).frontEnd;
  return { ...base, ...opts.frontEnd };
}

/**
 * Log-Mel features of one waveform on the GPU: `samples` (mono, any length) at `sampleRate`
 * Hz are resampled to 16 kHz, then framed, transformed and projected as the recipe says.
 * The recipe is the model's when `opts.model` is given, else `opts.recipe` (default
 * DEFAULT_RECIPE); `opts.frontEnd` overrides single settings. Returns frames x 64 values,
 * time-major (373 x 64 with the recipes' fits). Throws for an empty signal or a bad rate.
 */
export async function logMel(engine: Engine, samples: Float32Array, sampleRate: number, opts: { model?: SerModel; recipe?: RecipeName; frontEnd?: Partial<FrontEndOptions> } = {}): Promise<Float32Array> {
  if (samples.length === 0) throw new Error('logMel: the signal is empty');
  if (!(Number.isFinite(sampleRate) && sampleRate > 0)) throw new Error(`logMel: sample rate ${sampleRate} Hz is not a positive number`);
  const front = new FrontEnd(engine, frontEndOf(opts));
  try {
    const [features] = await front.logMel([resample(samples, sampleRate, SAMPLE_RATE)]);
    return features;
  } finally {
    front.dispose();
  }
}

/** A WAV file's bytes as mono samples (channels averaged) and their rate; throws naming `name` for a broken or unsupported file. */
export function decodeWavBytes(bytes: Uint8Array, name = 'audio.wav'): { samples: Float32Array; sampleRate: number } {
  const wav = decodeWav(bytes, name);
  return { samples: wav.samples, sampleRate: wav.sampleRate };
}

function asPrediction(row: ArrayLike<number>): Prediction {
  let best = 0;
  for (let c = 1; c < row.length; c++) if (row[c] > row[best]) best = c;
  return { label: CLASSES[best], probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, row[k]])) as Record<Label, number> };
}

function checkFeatures(model: SerModel, f: Float32Array, i = 0): number {
  const frames = f.length / BANDS;
  if (!Number.isInteger(frames) || frames === 0) throw new Error(`features ${i}: ${f.length} values is not frames x ${BANDS}`);
  const want = model.frontEnd.frames;
  if (frames !== want) throw new Error(`features ${i}: ${frames} frames, the model takes ${want} (use logMel with the model)`);
  return frames;
}

/**
 * Class probabilities of one or more utterances' features (each frames x 64, from `logMel`
 * with the same model), in evaluation mode, batched on the GPU. Returns one Prediction per
 * utterance, in order.
 */
export async function predict(model: SerModel, features: Float32Array | Float32Array[]): Promise<Prediction[]> {
  const list = Array.isArray(features) ? features : [features];
  const frames = list.length > 0 ? checkFeatures(model, list[0]) : 0;
  list.forEach((f, i) => checkFeatures(model, f, i));
  const { probabilities } = await predictSet(model.engine, model.module, { features: list, labels: list.map(() => 0), shape: [1, frames, BANDS] });
  return probabilities.map(asPrediction);
}

/** Predicts one waveform: logMel with the model's recipe, then predict. */
export async function predictSamples(model: SerModel, samples: Float32Array, sampleRate: number): Promise<Prediction> {
  return (await predict(model, await logMel(model.engine, samples, sampleRate, { model })))[0];
}

export interface AttackOptions {
  /** 'fgsm' (one signed-gradient step) or 'pgd' (`steps` of them, projected on the eps-ball); default 'fgsm'. */
  method?: 'fgsm' | 'pgd';
  /**
   * Largest change per feature value, in the space the recipe attacks: standard deviations of
   * each Mel band for `paper` (the standardised space), the [0, 1] feature scale for `db`.
   */
  eps: number;
  /** PGD iterations; default 10. */
  steps?: number;
  /** PGD step size; default 2.5 eps / steps (Madry et al.). */
  stepSize?: number;
  /**
   * The clip bound, in the attacked space: `paper` keeps x_adv within x ± beta (the seed's
   * equation 2), `db` within [0, beta]; default the recipe's (paper 0.1, db 1).
   */
  beta?: number;
  /** Untargeted: the class whose loss the attack raises; default the model's clean prediction. */
  label?: Label;
  /** Targeted: the class whose loss the attack lowers (instead of `label`). */
  target?: Label;
}

export interface AttackOutcome {
  /** The adversarial features in the input's own units (ln-Mel or [0, 1] dB), same shape as the input: feed them to predict. */
  adversarial: Float32Array;
  before: Prediction;
  after: Prediction;
  /** The largest change in the attacked space (standardised for `paper`), at most eps. */
  maxChange: number;
  /** The attacked class: the target when targeted, else the label attacked away from. */
  attacked: Label;
}

/**
 * FGSM (Goodfellow et al. 2015) or PGD (Madry et al. 2018) on one utterance's features,
 * white-box against `model` in evaluation mode, on the GPU (src/attacks/fgsm.ts), as the
 * model's recipe says: a `paper` model is attacked in its standardised space (eps in standard
 * deviations per band) with the ball clip x ± beta; a `db` model on the [0, 1] feature scale,
 * clipped to [0, beta]. Throws for a negative or non-finite eps or beta and for a label that
 * is not a class.
 */
export async function attack(model: SerModel, features: Float32Array, opts: AttackOptions): Promise<AttackOutcome> {
  const { eps } = opts;
  if (!(eps >= 0 && Number.isFinite(eps))) throw new Error(`attack: eps must be a finite number >= 0, got ${eps}`);
  for (const key of ['label', 'target'] as const) {
    const l = opts[key];
    if (l !== undefined && !(CLASSES as readonly string[]).includes(l)) throw new Error(`attack: ${key} '${l}' is not one of ${CLASSES.join(', ')}`);
  }
  if (opts.label !== undefined && opts.target !== undefined) throw new Error('attack: give a label to attack away from or a target, not both');
  const frames = checkFeatures(model, features);
  const recipe = model.recipe;
  const beta = opts.beta ?? recipe.attack.beta;
  if (!(beta >= 0 && Number.isFinite(beta))) throw new Error(`attack: beta must be a finite number >= 0, got ${beta}`);
  const clip = clipOf(recipe.attack.clip, beta);
  const engine = model.engine;
  const m = model.module;
  m.eval();
  // The attack's space: standardised features for a paper model, the features themselves for db.
  const { toInput, net } = inputSpace(m);
  const out = await engine.scopeAsync(async () => {
    const x = toInput(engine.fromArray(features, [1, 1, frames, BANDS]));
    const before = (await noGrad(engine, () => softmax(net.forward(x))).read()) as Float32Array;
    const targeted = opts.target !== undefined;
    const attacked = targeted ? CLASSES.indexOf(opts.target!) : opts.label !== undefined ? CLASSES.indexOf(opts.label) : CLASSES.indexOf(asPrediction(before).label);
    const y = engine.fromArray([attacked], [1], 'i32');
    const adv = opts.method === 'pgd' ? pgd(net, x, y, eps, { steps: opts.steps, stepSize: opts.stepSize, clip, targeted }) : fgsm(net, x, y, eps, { clip, targeted });
    const after = (await noGrad(engine, () => softmax(net.forward(adv))).read()) as Float32Array;
    const clean = (await x.read()) as Float32Array;
    const advInput = (await adv.read()) as Float32Array;
    return { before, after, clean, advInput, attacked };
  });
  let maxChange = 0;
  for (let i = 0; i < out.advInput.length; i++) maxChange = Math.max(maxChange, Math.abs(out.advInput[i] - out.clean[i]));
  const adversarial = await toFeatureUnits(m, out.advInput);
  return { adversarial, before: asPrediction(out.before), after: asPrediction(out.after), maxChange, attacked: CLASSES[out.attacked] };
}

/** What training reports: after every iteration, with the loss on the logged ones. */
export interface TrainProgress {
  iteration: number;
  iterations: number;
  /** The mixed loss of this iteration's batch; only on logged iterations (every `logEvery`, and the last). */
  loss?: number;
}

/**
 * Trains `model` in place on labelled features (each frames x 64; labels are class names),
 * standard (eps 0) or adversarially with FGSM at `cfg.eps` (the paper's mixed loss), with
 * Adam and the step-decayed learning rate of src/train/train.ts (DEFAULT_TRAIN's settings
 * for what `cfg` leaves out). The attack during training is the model's recipe's (clip,
 * beta, labels, evaluation-mode view, mixed loss from round(advStartFraction * iterations)),
 * as `ser train` runs it; `cfg` overrides single settings. A `paper` model whose
 * standardisation was never fitted (identity statistics: a newModel) gets it fitted on these
 * features first, as `ser train` fits it on the training fold; a trained one keeps its own.
 * Calls `onProgress` after every iteration. Returns the logged losses. Throws when the loss
 * diverges or the features do not fit the model.
 */
export async function trainModel(
  model: SerModel,
  data: { features: Float32Array[]; labels: Label[] },
  cfg: Partial<TrainConfig> & { logEvery?: number; onProgress?: (p: TrainProgress) => void } = {},
): Promise<{ losses: { iteration: number; loss: number }[] }> {
  if (data.features.length === 0 || data.features.length !== data.labels.length) throw new Error(`trainModel: ${data.features.length} feature arrays for ${data.labels.length} labels`);
  const frames = checkFeatures(model, data.features[0]);
  data.features.forEach((f, i) => checkFeatures(model, f, i));
  const labels = data.labels.map((l, i) => {
    const k = (CLASSES as readonly string[]).indexOf(l);
    if (k < 0) throw new Error(`trainModel: label ${i} '${l}' is not one of ${CLASSES.join(', ')}`);
    return k;
  });
  const recipe = model.recipe;
  const iterations = cfg.iterations ?? DEFAULT_TRAIN.iterations;
  const config: TrainConfig = {
    ...DEFAULT_TRAIN,
    clip: recipe.attack.clip,
    beta: recipe.attack.beta,
    attackLabels: recipe.attack.labels,
    evalModeAttack: recipe.attack.evalModeAttack,
    advStart: Math.round(recipe.advStartFraction * iterations),
    ...trainSettings(cfg),
  };
  if (model.module instanceof Standardized && (await unfitted(model.module))) fitInputNorm(model.module, data.features);
  const set: FeatureSet = { features: data.features, labels, shape: [1, frames, BANDS] };
  const { losses } = await train(model.engine, model.module, set, config, {
    logEvery: cfg.logEvery,
    onStep: (r, it) => cfg.onProgress?.({ iteration: it, iterations: config.iterations, ...(r ? { loss: r.loss } : {}) }),
  });
  model.module.eval();
  Object.assign(model.metadata, {
    iterations: String(config.iterations),
    trainEps: String(config.eps),
    seed: String(config.seed),
    batch: String(config.batchSize),
    beta: String(config.beta),
    attackLabels: config.attackLabels,
    advStart: String(config.advStart),
  });
  return { losses: losses.map((r) => ({ iteration: r.iteration, loss: r.loss })) };
}

/** The standardisation still holds its identity statistics (mean 0, std 1 in every band): never fitted. */
async function unfitted(model: Standardized): Promise<boolean> {
  const mean = (await model.inputNorm.mean.read()) as Float32Array;
  const std = (await model.inputNorm.std.read()) as Float32Array;
  return mean.every((v) => v === 0) && std.every((v) => v === 1);
}

/** The TrainConfig settings `cfg` gives (not undefined); other keys (callbacks, corpus options) left out. */
function trainSettings(cfg: Partial<TrainConfig>): Partial<TrainConfig> {
  return Object.fromEntries(Object.entries(cfg).filter(([k, v]) => k in DEFAULT_TRAIN && v !== undefined)) as Partial<TrainConfig>;
}
