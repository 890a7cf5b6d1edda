// The page's heavy work, off the main thread: a dedicated worker with its own WebGPU device
// (WebGPU is exposed in dedicated workers), running the Analyzer and the training loop.
// Requests come in as protocol.ts messages; GPU jobs run one at a time (engine scopes are a
// stack), while 'cancel' is handled at once and checked by long jobs between steps.
import type { Engine } from '../engine/engine.js';
import { createBrowserEngine } from '../gpu/browser.js';
import { Analyzer } from './analyzer.js';
import { BrowserTraining, prepareDataset, type Dataset } from './trainer.js';
import type { Analysis, FromWorker, RecordingInfo, Request, ToWorker, WorkerEvent } from './protocol.js';
import type { Recording } from './analyzer.js';
import { clipCaution } from '../audio/caution.js';
import { SAMPLE_RATE } from '../audio/frontend.js';

let engine: Engine | null = null;
let analyzer: Analyzer | null = null;
let engineError: string | null = null;
let dataset: Dataset | null = null;
let training: BrowserTraining | null = null;
/** The id of the 'train' request running now. */
let trainingRequest: number | null = null;
const cancelled = new Set<number>();

function post(m: FromWorker, transfer: Transferable[] = []): void {
  (self as unknown as Worker).postMessage(m, transfer);
}
const emit = (id: number | null, event: WorkerEvent) => post({ id, event });

let gpuTail: Promise<unknown> = Promise.resolve();
function exclusive<T>(job: () => Promise<T>): Promise<T> {
  const result = gpuTail.then(job);
  gpuTail = result.catch(() => undefined);
  return result;
}

async function acquire(): Promise<void> {
  try {
    const e = await createBrowserEngine();
    engine = e;
    engineError = null;
    const old = analyzer;
    analyzer = new Analyzer(e);
    // After a lost device: the same recording and checkpoint on the new one.
    if (old?.recording) analyzer.recording = old.recording;
    if (old?.checkpoint) analyzer.loadCheckpointBytes(old.checkpoint.bytes, old.checkpoint.name);
    emit(null, { kind: 'engine', adapter: { name: e.adapter.name, kind: e.adapter.kind, backend: e.adapter.backend }, error: null });
    void e.device.lost.then((info) => {
      if (engine !== e) return;
      engine = null;
      training = null; // its tensors lived on the lost device
      gpuTail = Promise.resolve();
      emit(null, { kind: 'device-lost', message: info.message || String(info.reason) });
      void acquire();
    });
  } catch (err) {
    engine = null;
    analyzer = null;
    engineError = (err as Error).message;
    emit(null, { kind: 'engine', adapter: null, error: engineError });
  }
}
const ready = acquire();

function requireAnalyzer(): Analyzer {
  if (!analyzer || !engine) throw new Error(engineError ? `WebGPU is not available: ${engineError}` : 'the GPU is not ready yet (device being replaced)');
  return analyzer;
}

/** [min, max] of each of `columns` stretches of the signal: enough to draw its waveform. */
function preview(x: Float32Array, columns = 1000): Float32Array {
  const out = new Float32Array(2 * columns);
  for (let c = 0; c < columns; c++) {
    let lo = 0;
    let hi = 0;
    for (let i = Math.floor((c * x.length) / columns); i < Math.floor(((c + 1) * x.length) / columns); i++) [lo, hi] = [Math.min(lo, x[i]), Math.max(hi, x[i])];
    out[2 * c] = lo;
    out[2 * c + 1] = hi;
  }
  return out;
}

/**
 * What the page shows of a recording: name, length, source rate, caution (clipCaution, with
 * the loaded checkpoint's window) and, when asked, the waveform preview.
 */
function recordingInfo(a: Analyzer, rec: Recording, withPreview: boolean): RecordingInfo {
  return { name: rec.name, samples: rec.samples.length, sourceRate: rec.sourceRate, caution: clipCaution(rec.samples, SAMPLE_RATE, a.frontEnd), preview: withPreview ? preview(rec.samples) : new Float32Array(0) };
}

async function analyse(a: Analyzer): Promise<Analysis> {
  const rec = a.recording;
  if (!rec) throw new Error('load a WAV file or record from the microphone first');
  const features = await a.features();
  const probabilities = a.checkpoint ? await a.predict() : null;
  return { recording: recordingInfo(a, rec, false), features, frontEnd: a.frontEnd, probabilities };
}

async function handle(id: number, r: Request): Promise<unknown> {
  const isCancelled = () => cancelled.has(id);
  switch (r.op) {
    case 'cancel':
      cancelled.add(r.target);
      if (r.target === trainingRequest) training?.stop();
      return null;
    case 'loseDevice':
      engine?.device.destroy();
      return null;
    case 'loadWav':
      emit(id, { kind: 'progress', text: `decoding ${r.name}…` });
      return exclusive(async () => {
        const a = requireAnalyzer();
        return recordingInfo(a, await a.loadWavBytes(r.bytes, r.name), true);
      });
    case 'loadSamples':
      return exclusive(async () => {
        const a = requireAnalyzer();
        return recordingInfo(a, a.loadSamples(r.samples, r.rate, r.name), true);
      });
    case 'loadCheckpoint':
      return exclusive(async () => {
        const ck = requireAnalyzer().loadCheckpointBytes(r.bytes, r.name);
        return { name: ck.name, modelName: ck.modelName, fit: ck.fit, recipe: ck.recipe.name, meta: ck.meta };
      });
    case 'analyse':
      return exclusive(() => analyse(requireAnalyzer()));
    case 'attack':
      return exclusive(() => requireAnalyzer().attack(r.options));
    case 'minimumEps':
      return exclusive(() =>
        requireAnalyzer().minimumEps(r.options, r.epsMax, r.rounds, isCancelled, (k, lo, hi) =>
          emit(id, { kind: 'progress', text: `bisection ${k} / ${r.rounds}: the eps is in (${lo.toPrecision(3)}, ${hi.toPrecision(3)}]`, done: k, total: r.rounds }),
        ),
      );
    case 'prepareDataset': {
      const e = engine;
      if (!e) throw new Error(engineError ? `WebGPU is not available: ${engineError}` : 'the GPU is not ready yet');
      const files = r.files.map((f) => ({ path: f.path, bytes: async () => new Uint8Array(await f.file.arrayBuffer()) }));
      const d = await exclusive(() => prepareDataset(e, files, 'resize', (done, total) => emit(id, { kind: 'progress', text: `features: ${done} / ${total} files`, done, total }), isCancelled));
      dataset = d;
      return { trainCount: d.train.features.length, testCount: d.test.features.length, counts: d.counts, skipped: d.skipped, otherEmotions: d.otherEmotions, fingerprint: d.fingerprint };
    }
    case 'train':
      return trainLoop(id, r, isCancelled);
  }
}

/** Chunks of training until done or cancelled; every chunk ends with a checkpoint (a stop leaves one too). */
async function trainLoop(id: number, r: Extract<Request, { op: 'train' }>, isCancelled: () => boolean): Promise<unknown> {
  const e = engine;
  const d = dataset;
  if (!e || !d) throw new Error(!e ? 'the GPU is not ready yet' : 'pick a folder of WAV files first');
  if (r.resume && r.resume.fingerprint !== d.fingerprint) throw new Error('the stored checkpoint was trained on other files: pick the same folder to resume');
  training?.dispose();
  const t = new BrowserTraining(e, d, r.settings, r.resume ?? undefined);
  training = t;
  trainingRequest = id;
  // Time per iteration from the logged steps (each logged loss is read back, so the clock
  // sees finished GPU work), leaving out the first, which compiles the pipelines.
  let first: { it: number; at: number } | null = null;
  while (!t.done && !isCancelled() && training === t) {
    await exclusive(() =>
      t.runChunk({
        onLoss: (it, loss) => {
          const now = performance.now();
          if (!first) first = { it, at: now };
          const rate = it > first.it ? (now - first.at) / 1000 / (it - first.it) : null;
          emit(id, { kind: 'train-step', iteration: it, loss, secondsPerIteration: rate });
        },
        onEval: (done, total) => emit(id, { kind: 'train-eval', done, total }),
        onUar: (it, uar) => emit(id, { kind: 'train-uar', iteration: it, uar }),
        onSnapshot: (snapshot) => emit(id, { kind: 'train-snapshot', snapshot }),
      }),
    );
  }
  if (training !== t) throw new Error(`training interrupted at iteration ${t.iteration} (GPU device lost)`);
  return { iteration: t.iteration, done: t.done, history: t.history };
}

self.onmessage = (m: MessageEvent<ToWorker>) => {
  const { id, request } = m.data;
  void ready
    .then(() => handle(id, request))
    .then(
      (result) => {
        const transfer: Transferable[] = [];
        const res = result as { features?: Float32Array; clean?: Float32Array; adversarial?: Float32Array };
        for (const k of ['adversarial'] as const) if (res?.[k] instanceof Float32Array) transfer.push(res[k]!.buffer as ArrayBuffer);
        post({ id, ok: true, result }, transfer);
      },
      (err: unknown) => post({ id, ok: false, error: (err as Error)?.message ?? String(err) }),
    )
    .finally(() => cancelled.delete(id));
};
