// Training in the browser on WAV files the user picked: features with the shared front end,
// then the shared train() in chunks of `evalEvery` iterations, with the held-out UAR after
// each chunk and a checkpoint (safetensors bytes, as `ser train` writes) kept in memory, so a
// lost GPU device costs at most one chunk.
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { Adam } from '../nn/optim.js';
import type { Fit } from '../audio/reference.js';
import { decodeAudio } from '../audio/decode.js';
import { resample } from '../audio/resample.js';
import { FrontEnd, SAMPLE_RATE } from '../audio/frontend.js';
import { createModel, type ModelName } from '../models/index.js';
import { loadModelFromSafetensors, modelToSafetensors } from '../nn/checkpoint.js';
import { train, DEFAULT_TRAIN, type FeatureSet } from '../train/train.js';
import { predict } from '../train/evaluate.js';
import { score } from '../metrics/metrics.js';
import { CLASSES } from '../data/corpus.js';
import { MIN_SOURCE_RATE } from './analyzer.js';
import { labelFromPath, heldOut, OTHER_EMOTION, type FileLabel } from './labels.js';

export interface PickedFile {
  /** Path inside the picked folder (webkitRelativePath), or the file name. */
  path: string;
  bytes(): Promise<Uint8Array>;
}

export interface Dataset {
  train: FeatureSet;
  test: FeatureSet;
  fit: Fit;
  /** Examples per class in the training part. */
  counts: number[];
  skipped: string[];
  /** Files of other emotions (boredom, fear, calm...), left out as the CLI's loaders do. */
  otherEmotions: number;
  /** Identifies the picked files, so a stored checkpoint is only resumed on the same data. */
  fingerprint: string;
}

const BANDS = 64;
const DECODE_BATCH = 16;
const EVAL_BATCH = 32;

/** Features of the picked files, every 5th speaker held out; `cancelled()` is checked between files (throws 'cancelled'). */
export async function prepareDataset(engine: Engine, files: PickedFile[], fit: Fit, onProgress: (done: number, total: number) => void, cancelled: () => boolean = () => false): Promise<Dataset> {
  const labelled: { file: PickedFile; label: FileLabel }[] = [];
  const skipped: string[] = [];
  let otherEmotions = 0;
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : 1))) {
    const label = labelFromPath(file.path);
    if (label === OTHER_EMOTION) otherEmotions++;
    else if (label) labelled.push({ file, label });
    else if (file.path.toLowerCase().endsWith('.wav')) skipped.push(`${file.path}: no angry/happy/neutral/sad label in its name`);
  }
  if (labelled.length < 2) {
    throw new Error(`found ${labelled.length} labelled WAV file(s): pick a folder of EmoDB (03a01Wa.wav) or RAVDESS (03-01-05-01-02-01-12.wav) files, or one with angry/ happy/ neutral/ sad/ subfolders`);
  }
  const front = new FrontEnd(engine, { fit });
  const features: Float32Array[] = [];
  const kept: FileLabel[] = [];
  try {
    for (let start = 0; start < labelled.length; start += DECODE_BATCH) {
      const signals: Float32Array[] = [];
      for (const { file, label } of labelled.slice(start, start + DECODE_BATCH)) {
        if (cancelled()) throw new Error('cancelled');
        try {
          const wav = await decodeAudio(await file.bytes(), file.path);
          if (wav.sampleRate < MIN_SOURCE_RATE) throw new Error(`${file.path}: sample rate ${wav.sampleRate} Hz is below ${MIN_SOURCE_RATE} Hz; not a speech recording`);
          signals.push(resample(wav.samples, wav.sampleRate, SAMPLE_RATE));
          kept.push(label);
        } catch (e) {
          skipped.push((e as Error).message);
        }
      }
      if (signals.length > 0) features.push(...(await front.logMel(signals)));
      onProgress(Math.min(start + DECODE_BATCH, labelled.length), labelled.length);
    }
  } finally {
    front.dispose();
  }
  const test = heldOut(kept);
  const part = (want: boolean): FeatureSet => {
    const idx = kept.map((_, i) => i).filter((i) => test[i] === want);
    return { features: idx.map((i) => features[i]), labels: idx.map((i) => kept[i].label), shape: [1, features[0].length / BANDS, BANDS] };
  };
  const trainSet = part(false);
  if (trainSet.features.length === 0) throw new Error('every file landed in the held-out part: pick more speakers or files');
  const counts = CLASSES.map((_, c) => trainSet.labels.filter((l) => l === c).length);
  const fingerprint = `${fit}:${labelled.length}:${labelled.map((l) => l.file.path).join('|').length}:${labelled[0].file.path}:${labelled[labelled.length - 1].file.path}`;
  return { train: trainSet, test: part(true), fit, counts, skipped, otherEmotions, fingerprint };
}

export interface TrainSettings {
  model: ModelName;
  iterations: number;
  batchSize: number;
  lr: number;
  /** FGSM eps for adversarial training; 0 trains on clean data. */
  eps: number;
  /** Iterations between held-out UAR evaluations and checkpoints. */
  evalEvery: number;
  seed: number;
}

export interface Snapshot {
  iteration: number;
  /** A safetensors checkpoint with `ser train`'s metadata: `ser predict` reads it. */
  bytes: Uint8Array;
  settings: TrainSettings;
  fingerprint: string;
  history: History;
}

export interface History {
  loss: [number, number][];
  uar: [number, number][];
}

export interface TrainHooks {
  onLoss?(iteration: number, loss: number): void;
  /** Held-out examples scored so far in this chunk's evaluation. */
  onEval?(done: number, total: number): void;
  onUar?(iteration: number, uar: number): void;
  onSnapshot?(s: Snapshot): void | Promise<void>;
}

class StopRequested extends Error {}

export class BrowserTraining {
  iteration = 0;
  history: History = { loss: [], uar: [] };
  snapshot: Snapshot | null = null;
  private stopRequested = false;
  private optimizer: Adam;
  readonly model: Module;

  /** A fresh model, or the one in `resumeFrom` (Adam's moments start again from zero). */
  constructor(
    readonly engine: Engine,
    readonly data: Dataset,
    readonly settings: TrainSettings,
    resumeFrom?: Snapshot,
  ) {
    this.model = createModel(settings.model, engine, { seed: settings.seed });
    this.optimizer = new Adam(this.model.parameters(), { lr: settings.lr });
    if (resumeFrom) {
      loadModelFromSafetensors(this.model, resumeFrom.bytes, 'stored training checkpoint');
      this.iteration = resumeFrom.iteration;
      this.history = { loss: [...resumeFrom.history.loss], uar: [...resumeFrom.history.uar] };
      this.snapshot = resumeFrom;
    }
  }

  get done(): boolean {
    return this.iteration >= this.settings.iterations;
  }

  /** Ends the current chunk after the step in progress. */
  stop(): void {
    this.stopRequested = true;
  }

  /**
   * Trains up to the next evaluation point (or until stop()), then scores the held-out part and
   * takes a checkpoint. The caller loops, and may run other GPU work between chunks.
   */
  async runChunk(hooks: TrainHooks = {}): Promise<void> {
    const s = this.settings;
    this.stopRequested = false;
    const start = this.iteration;
    const end = Math.min(s.iterations, start + s.evalEvery);
    // A new seed per chunk: train() restarts its batch order from the seed on every call.
    const cfg = { ...DEFAULT_TRAIN, iterations: end, batchSize: s.batchSize, lr: s.lr, eps: s.eps, seed: s.seed + start };
    try {
      await train(this.engine, this.model, this.data.train, cfg, {
        startIteration: start,
        optimizer: this.optimizer,
        logEvery: 2,
        onStep: (report, it) => {
          this.iteration = it;
          if (report) {
            this.history.loss.push([report.iteration, report.loss]);
            hooks.onLoss?.(report.iteration, report.loss);
          }
          if (this.stopRequested && it < end) throw new StopRequested();
        },
      });
    } catch (e) {
      if (!(e instanceof StopRequested)) throw e;
    }
    // The held-out UAR, in batches so the page can show progress; a stop skips the rest.
    const test = this.data.test;
    if (test.features.length > 0) {
      const predicted: number[] = [];
      for (let at = 0; at < test.features.length && !this.stopRequested; at += EVAL_BATCH) {
        const part = { ...test, features: test.features.slice(at, at + EVAL_BATCH), labels: test.labels.slice(at, at + EVAL_BATCH) };
        predicted.push(...(await predict(this.engine, this.model, part)).predicted);
        hooks.onEval?.(predicted.length, test.features.length);
      }
      if (predicted.length === test.features.length) {
        const uar = score(test.labels, predicted, CLASSES.length).uar;
        this.history.uar.push([this.iteration, uar]);
        hooks.onUar?.(this.iteration, uar);
      }
    }
    await this.takeSnapshot();
    await hooks.onSnapshot?.(this.snapshot!);
  }

  private async takeSnapshot(): Promise<void> {
    const s = this.settings;
    const bytes = await modelToSafetensors(this.model, {
      model: s.model,
      // Training in the page runs the db recipe (its front end, no standardisation, DEFAULT_TRAIN's attack).
      recipe: 'db',
      fit: this.data.fit,
      trainEps: String(s.eps),
      corpus: 'browser',
      heldOutFold: 'every 5th speaker',
      iterations: String(this.iteration),
      classes: CLASSES.join(','),
    });
    this.snapshot = { iteration: this.iteration, bytes, settings: s, fingerprint: this.data.fingerprint, history: { loss: [...this.history.loss], uar: [...this.history.uar] } };
  }

  dispose(): void {
    this.model.dispose();
  }
}
