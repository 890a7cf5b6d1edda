// ser-webgpu as a Node library (`import { ... } from 'ser-webgpu'`). Everything in
// src/api/core.ts, plus what needs Node: acquiring a WebGPU device through Dawn, reading
// models and WAV files from paths or URLs, training on a corpus folder, saving checkpoints.
// The README's "Use as a library" shows it in use; test/library.test.ts runs that snippet
// against the packed tarball.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createNodeEngine, type AdapterChoice } from './gpu/node.js';
import type { Engine } from './engine/engine.js';
import { readAudio, decodeAudio } from './audio/decode.js';
import { clipCaution } from './audio/caution.js';
import { writeFileAtomic } from './io/atomic.js';
import { openCorpus } from './data/open.js';
import { corpusFeatures } from './experiment/features.js';
import { bundledModelPath } from './util/package-root.js';

export { bundledModelPath };
import { bundledEmodbDir } from './data/emodb-subset.js';
import { CLASSES } from './data/corpus.js';
import { score } from './metrics/metrics.js';
import { modelFromBytes, newModel, logMel, predict, trainModel, SerModel, type ModelName, type Prediction, type FrontEndOptions, type RecipeName, type TrainConfig, type TrainProgress } from './api/core.js';

export * from './api/core.js';
export type { AdapterChoice };

/**
 * A WebGPU engine on this machine: a real GPU when there is one, else a software adapter
 * (Mesa llvmpipe or SwiftShader); `adapter` (or $SER_ADAPTER) picks one. Throws an error
 * that says how to install one when none is found. The adapter is `engine.adapter`.
 */
export function createEngine(opts: { adapter?: AdapterChoice } = {}): Promise<Engine> {
  process.env.EGL_PLATFORM ??= 'surfaceless'; // Mesa's OpenGL without a display
  return createNodeEngine(opts.adapter);
}

/** The EmoDB 4-class subset that ships with the package (339 WAVs, 16 kHz, CC0-1.0): its folder (wavs in wav/). */
export function bundledCorpusDir(): string {
  return bundledEmodbDir();
}

/**
 * A model from a checkpoint: a file path, an http(s) URL (string or URL), or the file's
 * bytes; with no source, the bundled model (bundledModelPath()). `opts.model` names the
 * architecture of a plain PyTorch state_dict (no metadata). Throws naming the source when it
 * cannot be read or does not hold a model (see modelFromBytes).
 */
export async function loadModel(engine: Engine, source?: string | URL | Uint8Array, opts: { model?: ModelName } = {}): Promise<SerModel> {
  if (source instanceof Uint8Array) return modelFromBytes(engine, source, { model: opts.model, source: 'checkpoint bytes' });
  const where = source === undefined ? bundledModelPath() : String(source);
  let bytes: Uint8Array;
  if (source instanceof URL || /^https?:\/\//i.test(where)) {
    const r = await fetch(where);
    if (!r.ok) throw new Error(`${where}: HTTP ${r.status} ${r.statusText}`);
    bytes = new Uint8Array(await r.arrayBuffer());
  } else {
    try {
      bytes = readFileSync(where);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code ?? (e as Error).message;
      throw new Error(source === undefined ? `no bundled model: cannot read ${where} (${code}); pass a checkpoint (a path, URL or bytes)` : `cannot read checkpoint ${where}: ${code}`);
    }
  }
  return modelFromBytes(engine, bytes, { model: opts.model, source: where });
}

/** Writes the model's checkpoint (safetensors with its metadata), atomically. */
export async function saveModel(model: SerModel, path: string): Promise<void> {
  writeFileAtomic(path, await model.toSafetensors());
}

/**
 * An audio file's bytes (WAV, FLAC, MP3, Ogg Vorbis/Opus, WebM/Opus; src/audio/decode.ts) as
 * mono samples (channels averaged) and their rate. Throws one line naming `name` for an
 * unknown, broken or out-of-limits file.
 */
export async function decodeAudioBytes(bytes: Uint8Array, name = 'audio'): Promise<{ samples: Float32Array; sampleRate: number }> {
  const audio = await decodeAudio(bytes, name);
  return { samples: audio.samples, sampleRate: audio.sampleRate };
}

/** Log-Mel features of an audio file (WAV, FLAC, MP3, Ogg, WebM; any rate and channel count; see logMel for the shape). Throws naming the file when it cannot be read or decoded. */
export async function logMelFromFile(engine: Engine, path: string, opts: { model?: SerModel; recipe?: RecipeName; frontEnd?: Partial<FrontEndOptions> } = {}): Promise<Float32Array> {
  const audio = await readAudio(path);
  return logMel(engine, audio.samples, audio.sampleRate, opts);
}

/**
 * Predicts one audio file with the model's recipe. `caution` is set when the clip is near
 * silence or very short (the label is then not worth much) or longer than the recipe's
 * window (the label is of the part heard): clipCaution.
 */
export async function predictFile(model: SerModel, path: string): Promise<Prediction & { caution: string | null }> {
  const audio = await readAudio(path);
  const [p] = await predict(model, await logMel(model.engine, audio.samples, audio.sampleRate, { model }));
  return { ...p, caution: clipCaution(audio.samples, audio.sampleRate, model.frontEnd) };
}

export interface CorpusTrainOptions extends Partial<TrainConfig> {
  /** emodb (the bundled subset), emodb:DIR, ravdess:DIR, iemocap:DIR, csv:FILE.csv, synthetic, or a folder; as `ser train --corpus`. */
  corpus: string;
  /** Architecture; default 'small' (trains in minutes without a GPU). */
  model?: ModelName;
  recipe?: RecipeName;
  /** A fold whose speakers are left out of training (speaker-independent evaluation); default none. */
  heldOutFold?: number;
  /** Feature cache folder (as `ser train --cache`); default none. */
  cacheDir?: string;
  logEvery?: number;
  onProgress?: (p: TrainProgress) => void;
}

/**
 * Trains a new model on a corpus (features on the GPU, then trainModel). Returns the model,
 * the logged losses, and, with `heldOutFold`, the held-out utterances' predictions and UAR
 * (unweighted average recall: the mean over classes of each class's recall).
 */
export async function trainOnCorpus(engine: Engine, opts: CorpusTrainOptions): Promise<{ model: SerModel; losses: { iteration: number; loss: number }[]; heldOut?: { uar: number; count: number } }> {
  const corpus = await openCorpus(opts.corpus);
  const model = newModel(engine, opts.model ?? 'small', { seed: opts.seed, recipe: opts.recipe });
  try {
    const { features } = await corpusFeatures(engine, corpus, model.frontEnd, { cacheDir: opts.cacheDir });
    const usable = corpus.utterances.filter((u) => features.has(u.path));
    const trainSet = usable.filter((u) => u.fold !== opts.heldOutFold);
    const { losses } = await trainModel(model, { features: trainSet.map((u) => features.get(u.path)!), labels: trainSet.map((u) => u.label) }, opts);
    Object.assign(model.metadata, { corpus: opts.corpus, ...(opts.heldOutFold !== undefined ? { heldOutFold: String(opts.heldOutFold) } : {}) });
    if (opts.heldOutFold === undefined) return { model, losses };
    const test = usable.filter((u) => u.fold === opts.heldOutFold);
    if (test.length === 0) throw new Error(`fold ${opts.heldOutFold} has no utterances`);
    const preds = await predict(model, test.map((u) => features.get(u.path)!));
    const scores = score(test.map((u) => CLASSES.indexOf(u.label)), preds.map((p) => CLASSES.indexOf(p.label)), CLASSES.length);
    return { model, losses, heldOut: { uar: scores.uar, count: test.length } };
  } catch (e) {
    model.dispose();
    throw e;
  }
}
