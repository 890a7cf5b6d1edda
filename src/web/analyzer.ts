// The page's analysis work without the page (it runs in the worker, worker.ts): one recording,
// one checkpoint, its prediction, FGSM/PGD (untargeted or targeted) on it and the smallest eps
// that changes the prediction. The same modules as `ser predict` and `ser attack` (decodeAudio +
// resample = loadUtterance, FrontEnd, predict, fgsm/pgd), so the numbers match the CLI's.
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { decodeAudio } from '../audio/decode.js';
import { resample } from '../audio/resample.js';
import { FrontEnd, SAMPLE_RATE } from '../audio/frontend.js';
import type { Fit, FrontEndOptions } from '../audio/reference.js';
import { checkpointRecipe, type Recipe } from '../audio/recipe.js';
import { openModelBytes } from '../nn/open-model.js';
import { decodeSafetensors } from '../io/safetensors.js';
import { predict } from '../train/evaluate.js';
import { fgsm, pgd, clipOf } from '../attacks/fgsm.js';
import { inputSpace, toFeatureUnits } from '../nn/input-norm.js';
import { softmax } from '../ops/loss.js';
import { noGrad } from '../autograd/tape.js';
import { argmax } from './statement.js';

export { argmax };
export const BANDS = 64;
/** Source rates the page accepts: below this a WAV is not speech (and resampling it up would take minutes). */
export const MIN_SOURCE_RATE = 4000;
/** A recording longer than this is refused rather than decoded into gigabytes. */
export const MAX_SECONDS = 600;

export interface Recording {
  name: string;
  /** Mono, 16 kHz. */
  samples: Float32Array;
  /** The rate of the source before resampling. */
  sourceRate: number;
}

export interface LoadedCheckpoint {
  name: string;
  model: Module;
  modelName: string;
  /** The checkpoint's recipe (its metadata's `recipe`; db when it names none). */
  recipe: Recipe;
  fit: Fit;
  meta: Record<string, string>;
  bytes: Uint8Array;
}

export interface AttackOptions {
  method: 'fgsm' | 'pgd';
  /** In the recipe's units (feature-units.ts). */
  eps: number;
  /** PGD iterations. */
  steps?: number;
  /** PGD step size; default 2.5 eps / steps (Madry et al.). */
  stepSize?: number;
  /** A class index: descend that class's loss. Null: untargeted, away from the clean prediction. */
  target: number | null;
}

export interface AttackResult extends AttackOptions {
  /** Untargeted: the clean prediction (attacked away from); targeted: the target. */
  attacked: number;
  /** The clip bound: x_adv within x ± beta (paper) or [0, beta] (db). */
  beta: number;
  /** The adversarial features in the recipe's own units (ln-Mel or [0, 1] dB), for the spectrogram. */
  adversarialFeatures: Float32Array;
  /** clean and adversarial below are the attacked space: the features, standardised for a paper checkpoint (σ per band). */
  clean: Float32Array;
  adversarial: Float32Array;
  before: Float32Array;
  after: Float32Array;
}

/** Reads a checkpoint's model name, recipe and fit, checks its weights are finite, and builds the model (with its standardisation). */
export function openCheckpointBytes(engine: Engine, bytes: Uint8Array, name: string): LoadedCheckpoint {
  const { tensors } = decodeSafetensors(bytes, name);
  for (const [tname, t] of tensors) {
    if (t.dtype !== 'F32') continue;
    const data = t.data as Float32Array;
    let bad = 0;
    for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) bad++;
    if (bad > 0) throw new Error(`${name}: tensor '${tname}' holds ${bad} of ${data.length} values that are NaN or infinite (a diverged training?); this checkpoint cannot predict`);
  }
  // The model, its recipe (standardisation) and fit, as the CLI and the library open them.
  const { model, modelName, meta, recipe, fit } = openModelBytes(engine, bytes, name);
  return { name, model, modelName, fit, recipe, meta, bytes };
}

export class Analyzer {
  recording: Recording | null = null;
  checkpoint: LoadedCheckpoint | null = null;
  private fronts = new Map<string, FrontEnd>();
  private featureCache: { key: string; rec: Recording; features: Float32Array } | null = null;

  constructor(readonly engine: Engine) {}

  /** An audio file's bytes (WAV, FLAC, MP3, Ogg, WebM): decoded and resampled exactly as `ser predict` reads a file. */
  async loadWavBytes(bytes: Uint8Array, name: string): Promise<Recording> {
    const audio = await decodeAudio(bytes, name);
    return this.loadSamples(audio.samples, audio.sampleRate, name);
  }

  /** Mono samples at any whole rate (a microphone recording). */
  loadSamples(samples: Float32Array, rate: number, name: string): Recording {
    if (!(rate >= MIN_SOURCE_RATE)) throw new Error(`${name}: sample rate ${rate} Hz is below ${MIN_SOURCE_RATE} Hz; that is not a speech recording (is the header damaged?)`);
    if (samples.length / rate > MAX_SECONDS) throw new Error(`${name}: ${(samples.length / rate).toFixed(0)} s is longer than the ${MAX_SECONDS} s the page analyses; cut it first`);
    if (samples.length === 0) throw new Error(`${name}: the file holds no samples`);
    this.recording = { name, samples: resample(samples, Math.round(rate), SAMPLE_RATE), sourceRate: rate };
    return this.recording;
  }

  loadCheckpointBytes(bytes: Uint8Array, name: string): LoadedCheckpoint {
    const next = openCheckpointBytes(this.engine, bytes, name);
    this.checkpoint?.model.dispose();
    this.checkpoint = next;
    return next;
  }

  /** The front end the features use: the checkpoint's recipe and fit, else the db recipe's. */
  get frontEnd(): FrontEndOptions {
    const ck = this.checkpoint;
    if (!ck) return { ...checkpointRecipe({}).frontEnd };
    return { ...ck.recipe.frontEnd, fit: ck.fit };
  }

  /** Log-Mel features of the recording, frames x 64, time-major, in the recipe's units. */
  async features(): Promise<Float32Array> {
    const rec = this.requireRecording();
    const opts = this.frontEnd;
    const key = JSON.stringify(opts);
    if (this.featureCache?.rec === rec && this.featureCache.key === key) return this.featureCache.features;
    let front = this.fronts.get(key);
    if (!front) this.fronts.set(key, (front = new FrontEnd(this.engine, opts)));
    const [features] = await front.logMel([rec.samples]);
    this.featureCache = { key, rec, features };
    return features;
  }

  /** Class probabilities of the clean recording (angry, happy, neutral, sad). */
  async predict(): Promise<Float32Array> {
    const { model } = this.requireCheckpoint();
    const x = await this.features();
    const r = await predict(this.engine, model, { features: [x], labels: [0], shape: [1, x.length / BANDS, BANDS] });
    return r.probabilities[0];
  }

  /** FGSM or PGD against the loaded model in evaluation mode, all on the GPU. */
  async attack(o: AttackOptions): Promise<AttackResult> {
    const ck = this.requireCheckpoint();
    if (!(o.eps >= 0 && Number.isFinite(o.eps))) throw new Error(`eps must be a number >= 0, got ${o.eps}`);
    if (o.method === 'pgd' && !(Number.isInteger(o.steps ?? 10) && (o.steps ?? 10) >= 1 && (o.steps ?? 10) <= 1000)) throw new Error(`PGD steps must be a whole number from 1 to 1000, got ${o.steps}`);
    if (o.stepSize !== undefined && !(o.stepSize > 0)) throw new Error(`PGD step size must be > 0, got ${o.stepSize}`);
    if (o.target !== null && !(Number.isInteger(o.target) && o.target >= 0 && o.target < 4)) throw new Error(`target class ${o.target} is not one of the 4 classes`);
    const { model, recipe } = ck;
    const beta = recipe.attack.beta;
    const range = { clip: clipOf(recipe.attack.clip, beta), targeted: o.target !== null };
    const features = await this.features();
    const engine = this.engine;
    model.eval();
    const { toInput, net } = inputSpace(model);
    return engine.scopeAsync(async () => {
      const x = toInput(engine.fromArray(features, [1, 1, features.length / BANDS, BANDS]));
      const before = (await noGrad(engine, () => softmax(net.forward(x))).read()) as Float32Array;
      const attacked = o.target ?? argmax(before);
      const y = engine.fromArray([attacked], [1], 'i32');
      const adv = o.method === 'fgsm' ? fgsm(net, x, y, o.eps, range) : pgd(net, x, y, o.eps, { ...range, steps: o.steps ?? 10, stepSize: o.stepSize });
      const after = (await noGrad(engine, () => softmax(net.forward(adv))).read()) as Float32Array;
      const adversarial = (await adv.read()) as Float32Array;
      const adversarialFeatures = await toFeatureUnits(model, adversarial);
      return { ...o, attacked, beta, clean: (await x.read()) as Float32Array, adversarial, adversarialFeatures, before, after };
    });
  }

  /**
   * The smallest eps in (0, epsMax] at which the attack changes the prediction (targeted: makes
   * it the target), by bisection: first epsMax itself, then `rounds` halvings of the bracket.
   * Returns null when epsMax does not succeed. A non-monotone attack (FGSM can overshoot) may
   * succeed below the eps found too; bisection finds one boundary. Throws 'cancelled' when
   * `cancelled()` turns true between attacks.
   */
  async minimumEps(o: Omit<AttackOptions, 'eps'>, epsMax: number, rounds: number, cancelled: () => boolean, onStep?: (round: number, lo: number, hi: number) => void): Promise<{ eps: number; result: AttackResult } | null> {
    const succeeds = (r: AttackResult) => (o.target === null ? argmax(r.after) !== argmax(r.before) : argmax(r.after) === o.target);
    const top = await this.attack({ ...o, eps: epsMax });
    if (!succeeds(top)) return null;
    let lo = 0;
    let hi = epsMax;
    let best = top;
    for (let k = 0; k < rounds; k++) {
      if (cancelled()) throw new Error('cancelled');
      const mid = (lo + hi) / 2;
      const r = await this.attack({ ...o, eps: mid });
      if (succeeds(r)) {
        hi = mid;
        best = r;
      } else lo = mid;
      onStep?.(k + 1, lo, hi);
    }
    return { eps: hi, result: best };
  }

  dispose(): void {
    this.checkpoint?.model.dispose();
    this.checkpoint = null;
    for (const f of this.fronts.values()) f.dispose();
    this.fronts.clear();
  }

  private requireRecording(): Recording {
    if (!this.recording) throw new Error('load a WAV file or record from the microphone first');
    return this.recording;
  }

  private requireCheckpoint(): LoadedCheckpoint {
    if (!this.checkpoint) throw new Error('load a checkpoint (.safetensors) first');
    return this.checkpoint;
  }
}

