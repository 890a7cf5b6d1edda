// The page's analysis work without the page: one recording, one checkpoint, its prediction
// and the FGSM attack on it. The same modules as `ser predict` and `ser attack` (decodeWav +
// resample = loadUtterance, FrontEnd, predict, fgsm), so the numbers match the CLI's.
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { decodeWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { FrontEnd, SAMPLE_RATE } from '../audio/frontend.js';
import type { Fit } from '../audio/reference.js';
import { openModelBytes } from '../nn/open-model.js';
import { predict } from '../train/evaluate.js';
import { fgsm } from '../attacks/fgsm.js';
import { softmax } from '../ops/loss.js';
import { noGrad } from '../autograd/tape.js';

export const BANDS = 64;

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
  fit: Fit;
  meta: Record<string, string>;
  bytes: Uint8Array;
}

export interface AttackResult {
  eps: number;
  /** The class attacked away from: the clean prediction. */
  label: number;
  clean: Float32Array;
  adversarial: Float32Array;
  before: Float32Array;
  after: Float32Array;
}

export function argmax(v: ArrayLike<number>): number {
  let best = 0;
  for (let i = 1; i < v.length; i++) if (v[i] > v[best]) best = i;
  return best;
}

/** Reads a checkpoint's model name and front-end fit, and builds the model with its weights. */
export function openCheckpointBytes(engine: Engine, bytes: Uint8Array, name: string): LoadedCheckpoint {
  const { model, modelName, meta } = openModelBytes(engine, bytes, name);
  return { name, model, modelName, fit: meta.fit === 'crop' ? 'crop' : 'resize', meta, bytes };
}

export class Analyzer {
  recording: Recording | null = null;
  checkpoint: LoadedCheckpoint | null = null;
  private fronts = new Map<Fit, FrontEnd>();
  private featureCache: { fit: Fit; rec: Recording; features: Float32Array } | null = null;

  constructor(readonly engine: Engine) {}

  /** A WAV file's bytes: decoded and resampled exactly as `ser predict` reads a file. */
  loadWavBytes(bytes: Uint8Array, name: string): Recording {
    const wav = decodeWav(bytes, name);
    return this.loadSamples(wav.samples, wav.sampleRate, name);
  }

  /** Mono samples at any whole rate (a microphone recording). */
  loadSamples(samples: Float32Array, rate: number, name: string): Recording {
    this.recording = { name, samples: resample(samples, Math.round(rate), SAMPLE_RATE), sourceRate: rate };
    return this.recording;
  }

  loadCheckpointBytes(bytes: Uint8Array, name: string): LoadedCheckpoint {
    const next = openCheckpointBytes(this.engine, bytes, name);
    this.checkpoint?.model.dispose();
    this.checkpoint = next;
    return next;
  }

  /** The fit the features use: the checkpoint's, else the default. */
  get fit(): Fit {
    return this.checkpoint?.fit ?? 'resize';
  }

  /** Log-Mel features of the recording, frames x 64, time-major, on the [0, 1] scale. */
  async features(): Promise<Float32Array> {
    const rec = this.requireRecording();
    const fit = this.fit;
    if (this.featureCache?.rec === rec && this.featureCache.fit === fit) return this.featureCache.features;
    let front = this.fronts.get(fit);
    if (!front) this.fronts.set(fit, (front = new FrontEnd(this.engine, { fit })));
    const [features] = await front.logMel([rec.samples]);
    this.featureCache = { fit, rec, features };
    return features;
  }

  /** Class probabilities of the clean recording (angry, happy, neutral, sad). */
  async predict(): Promise<Float32Array> {
    const { model } = this.requireCheckpoint();
    const x = await this.features();
    const r = await predict(this.engine, model, { features: [x], labels: [0], shape: [1, x.length / BANDS, BANDS] });
    return r.probabilities[0];
  }

  /** FGSM at `eps` against the loaded model, attacking its clean prediction (as `ser attack`). */
  async attack(eps: number, beta = 1): Promise<AttackResult> {
    if (!(eps >= 0 && eps <= 1)) throw new Error(`eps must be between 0 and 1, got ${eps}`);
    const { model } = this.requireCheckpoint();
    const clean = await this.features();
    const engine = this.engine;
    model.eval();
    return engine.scopeAsync(async () => {
      const x = engine.fromArray(clean, [1, 1, clean.length / BANDS, BANDS]);
      const before = (await noGrad(engine, () => softmax(model.forward(x))).read()) as Float32Array;
      const label = argmax(before);
      const y = engine.fromArray([label], [1], 'i32');
      const adv = fgsm(model, x, y, eps, { beta });
      const after = (await noGrad(engine, () => softmax(model.forward(adv))).read()) as Float32Array;
      return { eps, label, clean, adversarial: (await adv.read()) as Float32Array, before, after };
    });
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
