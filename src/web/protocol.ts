// The messages between the page (main thread: DOM and drawing) and worker.ts (WebGPU: the
// front end, the model, attacks, training). Each request has an id; the worker answers it
// once (ok or error) and may send events tagged with that id before (progress). Events
// without an id concern the worker itself (its GPU device).
import type { AttackOptions } from './analyzer.js';
import type { Snapshot, TrainSettings } from './trainer.js';
import type { FrontEndOptions } from '../audio/reference.js';

export type Request =
  | { op: 'loadWav'; bytes: Uint8Array; name: string }
  | { op: 'loadSamples'; samples: Float32Array; rate: number; name: string }
  | { op: 'loadCheckpoint'; bytes: Uint8Array; name: string }
  /** Features (and the clean prediction when a checkpoint is loaded) of the loaded recording. */
  | { op: 'analyse' }
  | { op: 'attack'; options: AttackOptions }
  | { op: 'minimumEps'; options: Omit<AttackOptions, 'eps'>; epsMax: number; rounds: number }
  | { op: 'prepareDataset'; files: { path: string; file: Blob }[] }
  | { op: 'train'; settings: TrainSettings; resume: Snapshot | null }
  | { op: 'cancel'; target: number }
  /** Test hook: destroys the device as a driver reset would. */
  | { op: 'loseDevice' };

export interface RecordingInfo {
  name: string;
  samples: number;
  sourceRate: number;
  /** Why a prediction on it deserves caution (near silence, very short: src/audio/caution.ts), or null. */
  caution: string | null;
  /** Per-column [min, max] pairs of the 16 kHz samples, for the waveform drawing. */
  preview: Float32Array;
}

export interface CheckpointInfo {
  name: string;
  modelName: string;
  fit: string;
  recipe: string;
  meta: Record<string, string>;
}

export interface Analysis {
  recording: RecordingInfo;
  features: Float32Array;
  frontEnd: FrontEndOptions;
  /** Null without a checkpoint. */
  probabilities: Float32Array | null;
}

export interface AdapterState {
  name: string;
  kind: 'gpu' | 'cpu';
  backend: string;
}

export type WorkerEvent =
  | { kind: 'engine'; adapter: AdapterState | null; error: string | null }
  | { kind: 'device-lost'; message: string }
  | { kind: 'progress'; text: string; done?: number; total?: number }
  | { kind: 'train-step'; iteration: number; loss: number; secondsPerIteration: number | null }
  | { kind: 'train-eval'; done: number; total: number }
  | { kind: 'train-uar'; iteration: number; uar: number }
  | { kind: 'train-snapshot'; snapshot: Snapshot };

export type FromWorker = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string } | { id: number | null; event: WorkerEvent };
export type ToWorker = { id: number; request: Request };
