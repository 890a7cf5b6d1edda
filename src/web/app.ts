// The browser face of ser-webgpu: load or record audio, see its log-Mel spectrogram, run a
// trained checkpoint and the FGSM attack on it, and train a model on a picked folder. All the
// numeric work is the CLI's own modules (see analyzer.ts, trainer.ts) on the browser's WebGPU.
import type { Engine } from '../engine/engine.js';
import { createBrowserEngine } from '../gpu/browser.js';
import { CLASSES } from '../data/corpus.js';
import { isModelName } from '../models/index.js';
import { Analyzer, BANDS, type AttackResult } from './analyzer.js';
import { BrowserTraining, prepareDataset, type Dataset, type PickedFile, type Snapshot, type TrainSettings } from './trainer.js';
import { drawCurve, drawPerturbation, drawSpectrogram, drawWaveform } from './draw.js';
import { MicrophoneRecorder } from './microphone.js';
import { store } from './store.js';
import { $, banner, downloadBytes, fileBytes, renderProbabilities } from './ui.js';

const SNAPSHOT_KEY = 'training-checkpoint';

let engine: Engine | null = null;
let analyzer: Analyzer | null = null;
let engineError: string | null = null;
let dataset: Dataset | null = null;
let training: BrowserTraining | null = null;
let snapshot: Snapshot | null = null;
/** The training whose loop is running, if any. */
let activeRun: BrowserTraining | null = null;
let stopWanted = false;
/** The checkpoint the analysis uses, kept as bytes so it can be reloaded on a new device. */
let analysisCheckpoint: { bytes: Uint8Array; name: string } | null = null;
let lastAttack: AttackResult | null = null;

// ---- the GPU: one engine, all its work serialised --------------------------------------

// Engine scopes are a stack, so two async jobs must not interleave on one engine.
let gpuTail: Promise<unknown> = Promise.resolve();
function exclusive<T>(job: () => Promise<T>): Promise<T> {
  const result = gpuTail.then(job);
  gpuTail = result.catch(() => undefined);
  return result;
}

async function acquireEngine(): Promise<void> {
  const status = $('gpu-status');
  try {
    const e = await createBrowserEngine();
    engine = e;
    engineError = null;
    analyzer = new Analyzer(e);
    status.textContent = `WebGPU adapter: ${e.adapter.name} (${e.adapter.backend})`;
    status.className = 'status ok';
    void e.device.lost.then((info) => {
      if (engine === e) onDeviceLost(info);
    });
  } catch (err) {
    engine = null;
    analyzer = null;
    engineError = (err as Error).message;
    status.textContent = 'No WebGPU';
    status.className = 'status bad';
    banner(`WebGPU is not available: ${engineError}. The page needs it for the spectrogram, the model and training.`);
  }
  updateButtons();
}

function requireAnalyzer(): Analyzer {
  if (!analyzer) throw new Error(engineError ? `WebGPU is not available: ${engineError}` : 'the GPU is not ready yet');
  return analyzer;
}

/** The device is gone (driver reset, GPU removed, tab backgrounded too long): get a new one. */
function onDeviceLost(info: GPUDeviceLostInfo): void {
  const old = analyzer;
  engine = null;
  analyzer = null;
  training = null; // its tensors lived on the lost device
  activeRun = null; // its loop may never hear back from the old device
  gpuTail = Promise.resolve();
  updateButtons();
  const where = snapshot ? ` Training can resume from its checkpoint at iteration ${snapshot.iteration} (kept in this page and in the browser's storage).` : '';
  banner(`The GPU device was lost (${info.message || info.reason}).${where} Reconnecting…`);
  void acquireEngine().then(async () => {
    if (!analyzer) return;
    // Bring the analysis back on the new device: same recording, same checkpoint.
    if (old?.recording) analyzer.recording = old.recording;
    if (analysisCheckpoint) analyzer.loadCheckpointBytes(analysisCheckpoint.bytes, analysisCheckpoint.name);
    banner(`The GPU device was lost (${info.message || info.reason}) and a new one was acquired.${snapshot ? ` Press "Resume from checkpoint" to continue training from iteration ${snapshot.iteration}.` : ''}`, 'info');
    updateButtons();
    await refreshAnalysis();
  });
}

// ---- recording, spectrogram, prediction, attack ----------------------------------------

function report(err: unknown): void {
  banner((err as Error)?.message ?? String(err));
}

async function showRecording(): Promise<void> {
  const a = requireAnalyzer();
  const rec = a.recording!;
  $('audio-info').textContent = `${rec.name}: ${(rec.samples.length / 16000).toFixed(2)} s (from ${rec.sourceRate} Hz)`;
  drawWaveform($<HTMLCanvasElement>('waveform'), rec.samples);
  await refreshAnalysis();
}

/** Features, prediction and attack for whatever is loaded now. */
async function refreshAnalysis(): Promise<void> {
  const a = analyzer;
  if (!a?.recording) return;
  const features = await exclusive(() => a.features());
  drawSpectrogram($<HTMLCanvasElement>('spectrogram'), features, BANDS);
  if (!a.checkpoint) return;
  const probs = await exclusive(() => a.predict());
  renderProbabilities($('probs-clean'), probs, `Prediction on ${a.recording.name}`);
  await runAttack();
}

let attackRunning = false;
let attackAgain = false;
/** Runs FGSM at the slider's eps; slider moves during a run are coalesced into one more run. */
async function runAttack(): Promise<void> {
  if (attackRunning) {
    attackAgain = true;
    return;
  }
  attackRunning = true;
  try {
    do {
      attackAgain = false;
      const a = analyzer;
      if (!a?.recording || !a.checkpoint) return;
      const eps = Number($<HTMLInputElement>('eps').value);
      $('attack-info').textContent = 'attacking…';
      const r = await exclusive(() => a.attack(eps));
      showAttack(r);
    } while (attackAgain);
  } finally {
    attackRunning = false;
  }
}

function showAttack(r: AttackResult): void {
  lastAttack = r;
  drawSpectrogram($<HTMLCanvasElement>('adv-spec'), r.adversarial, BANDS);
  drawPerturbation($<HTMLCanvasElement>('perturbation'), r.clean, r.adversarial, BANDS, r.eps);
  renderProbabilities($('probs-adv'), r.after, `Prediction under FGSM at ε = ${r.eps} (attacking '${CLASSES[r.label]}')`);
  const flipped = r.after.indexOf(Math.max(...r.after)) !== r.label;
  $('attack-info').textContent = flipped ? 'the attack changed the prediction' : 'the prediction held';
}

async function loadWav(bytes: Uint8Array, name: string): Promise<void> {
  requireAnalyzer().loadWavBytes(bytes, name);
  await showRecording();
}

async function loadCheckpoint(bytes: Uint8Array, name: string): Promise<Record<string, string>> {
  const ck = await exclusive(async () => requireAnalyzer().loadCheckpointBytes(bytes, name));
  analysisCheckpoint = { bytes, name };
  const m = ck.meta;
  const trained = m.trainEps && Number(m.trainEps) > 0 ? `adversarial, ε ${m.trainEps}` : 'standard';
  $('ckpt-info').textContent = `${name}: ${ck.modelName}, fit ${ck.fit}, ${trained} training${m.corpus ? ` on ${m.corpus}` : ''}${m.iterations ? `, ${m.iterations} iterations` : ''}`;
  $('ckpt-info').className = '';
  banner(null);
  await refreshAnalysis();
  return m;
}

function wireAudio(): void {
  const drop = $('drop');
  drop.addEventListener('dragover', (e) => {
    e.preventDefault();
    drop.classList.add('over');
  });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    drop.classList.remove('over');
    const f = e.dataTransfer?.files[0];
    if (f) void fileBytes(f).then((b) => loadWav(b, f.name)).catch(report);
  });
  $<HTMLInputElement>('wav-input').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void fileBytes(f).then((b) => loadWav(b, f.name)).catch(report);
  });
  const mic = new MicrophoneRecorder();
  const button = $<HTMLButtonElement>('record');
  button.onclick = async () => {
    try {
      if (!mic.recording) {
        await mic.start();
        button.textContent = '■ Stop';
        button.classList.add('recording');
        return;
      }
      button.textContent = '● Record';
      button.classList.remove('recording');
      const pcm = await mic.stop();
      requireAnalyzer().loadSamples(pcm.samples, pcm.sampleRate, 'microphone recording');
      await showRecording();
    } catch (err) {
      report(err);
    }
  };
  $<HTMLInputElement>('ckpt-input').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void fileBytes(f).then((b) => loadCheckpoint(b, f.name)).catch(report);
  });
  const eps = $<HTMLInputElement>('eps');
  eps.addEventListener('input', () => {
    $('eps-value').textContent = Number(eps.value).toFixed(3);
    void runAttack().catch(report);
  });
}

// ---- training ----------------------------------------------------------------------

function settings(): TrainSettings {
  const num = (id: string, min: number) => {
    const v = Number($<HTMLInputElement>(id).value);
    if (!Number.isFinite(v) || v < min) throw new Error(`${id.replace('t-', '')}: '${$<HTMLInputElement>(id).value}' is not a number >= ${min}`);
    return v;
  };
  const model = $<HTMLSelectElement>('t-model').value;
  if (!isModelName(model)) throw new Error(`unknown model ${model}`);
  return {
    model,
    iterations: Math.round(num('t-iterations', 1)),
    batchSize: Math.round(num('t-batch', 1)),
    lr: num('t-lr', 0),
    eps: Math.min(1, num('t-eps', 0)),
    evalEvery: Math.round(num('t-every', 1)),
    seed: 1,
  };
}

function drawCurves(history: Snapshot['history'], iterations: number): void {
  drawCurve($<HTMLCanvasElement>('loss-curve'), history.loss, { title: 'training loss', colour: '#2b6cb0', xMax: iterations });
  drawCurve($<HTMLCanvasElement>('uar-curve'), history.uar, { title: 'held-out UAR', colour: '#dd6b20', yMin: 0, yMax: 1, xMax: iterations });
}

function updateButtons(): void {
  const ready = engine !== null;
  $<HTMLButtonElement>('t-start').disabled = !ready || !dataset || activeRun !== null;
  $<HTMLButtonElement>('t-stop').disabled = activeRun === null;
  $<HTMLButtonElement>('t-resume').disabled = !ready || !dataset || activeRun !== null || !snapshot || snapshot.fingerprint !== dataset.fingerprint || snapshot.iteration >= snapshot.settings.iterations;
  $<HTMLButtonElement>('t-download').disabled = !snapshot;
  $<HTMLButtonElement>('t-use').disabled = !ready || !snapshot;
}

async function pickFolder(files: FileList): Promise<void> {
  const picked: PickedFile[] = Array.from(files).map((f) => ({ path: f.webkitRelativePath || f.name, bytes: () => fileBytes(f) }));
  const info = $('data-info');
  info.textContent = `reading ${picked.length} files…`;
  const e = engine;
  if (!e) throw new Error(engineError ? `WebGPU is not available: ${engineError}` : 'the GPU is not ready yet');
  dataset = await exclusive(() => prepareDataset(e, picked, 'resize', (done, total) => (info.textContent = `features: ${done} / ${total} files`)));
  const d = dataset;
  info.textContent = `${d.train.features.length} training files (${CLASSES.map((c, i) => `${c} ${d.counts[i]}`).join(', ')}), ${d.test.features.length} held out${d.otherEmotions ? `; ${d.otherEmotions} of other emotions left out` : ''}${d.skipped.length ? `; ${d.skipped.length} skipped (hover for why)` : ''}`;
  if (d.skipped.length) info.title = d.skipped.join('\n');
  updateButtons();
}

async function trainLoop(t: BrowserTraining): Promise<void> {
  activeRun = t;
  stopWanted = false;
  updateButtons();
  const info = $('train-info');
  const s = t.settings;
  banner(null);
  drawCurves(t.history, s.iterations);
  const started = performance.now();
  const startIt = t.iteration;
  try {
    while (!t.done && !stopWanted && training === t) {
      await exclusive(() =>
        t.runChunk({
          onLoss: (it, loss) => {
            const rate = (it - startIt) / ((performance.now() - started) / 1000);
            info.textContent = `iteration ${it} / ${s.iterations}, loss ${loss.toFixed(3)} (${rate.toFixed(2)} it/s)`;
            drawCurves(t.history, s.iterations);
          },
          onUar: () => drawCurves(t.history, s.iterations),
          onSnapshot: async (snap) => {
            snapshot = snap;
            updateButtons();
            // Best effort: a full or blocked storage only loses the after-reload resume.
            await store.put(SNAPSHOT_KEY, snap).catch(() => undefined);
          },
        }),
      );
    }
    const uar = t.history.uar.at(-1);
    info.textContent = `${t.done ? 'done' : 'stopped'} at iteration ${t.iteration} / ${s.iterations}${uar ? `; held-out UAR ${uar[1].toFixed(3)}` : ''}. The checkpoint can be downloaded for the CLI.`;
  } catch (err) {
    if (training !== t) {
      info.textContent = `training interrupted at iteration ${t.iteration} (GPU device lost); the last checkpoint is from iteration ${snapshot?.iteration ?? 0}.`;
    } else report(err);
  } finally {
    if (activeRun === t) activeRun = null;
    updateButtons();
  }
}

function startTraining(resume: boolean): void {
  if (!engine || !dataset) return;
  const s = resume && snapshot ? snapshot.settings : settings();
  training = new BrowserTraining(engine, dataset, s, resume ? (snapshot ?? undefined) : undefined);
  void trainLoop(training);
}

function wireTraining(): void {
  $<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
    const files = (e.target as HTMLInputElement).files;
    if (files?.length) void pickFolder(files).catch(report);
  });
  // The settings form never submits (an inline onsubmit would break the Content-Security-Policy).
  $('train-form').addEventListener('submit', (e) => e.preventDefault());
  $('t-start').onclick = () => {
    try {
      startTraining(false);
    } catch (err) {
      report(err);
    }
  };
  $('t-resume').onclick = () => startTraining(true);
  $('t-stop').onclick = () => {
    stopWanted = true;
    training?.stop();
  };
  $('t-download').onclick = () => {
    if (snapshot) downloadBytes(snapshot.bytes, `ser-${snapshot.settings.model}-browser-it${snapshot.iteration}.safetensors`);
  };
  $('t-use').onclick = () => {
    if (snapshot) void loadCheckpoint(snapshot.bytes, `browser training, iteration ${snapshot.iteration}`).catch(report);
  };
}

/** A checkpoint from an earlier visit: downloadable, usable, and resumable on the same folder. */
async function restoreSnapshot(): Promise<void> {
  const stored = await store.get<Snapshot>(SNAPSHOT_KEY).catch(() => undefined);
  if (!stored || snapshot) return;
  snapshot = stored;
  $('train-info').textContent = `A training checkpoint (${stored.settings.model}, iteration ${stored.iteration} / ${stored.settings.iterations}) is stored in this browser: download it, use it, or pick the same folder to resume.`;
  drawCurves(stored.history, stored.settings.iterations);
  updateButtons();
}

// ---- start-up and the test hook ------------------------------------------------------

const ready = (async () => {
  wireAudio();
  wireTraining();
  drawCurves({ loss: [], uar: [] }, 1);
  await acquireEngine();
  await restoreSnapshot();
})();

/** For tests and the console: the page's operations without clicking. */
const hook = {
  ready,
  async loadWavBytes(bytes: ArrayLike<number>, name: string) {
    await loadWav(Uint8Array.from(bytes), name);
    return { samples: requireAnalyzer().recording!.samples.length };
  },
  async loadCheckpointBytes(bytes: ArrayLike<number>, name: string) {
    return loadCheckpoint(Uint8Array.from(bytes), name);
  },
  async features() {
    const a = requireAnalyzer();
    return Array.from(await exclusive(() => a.features()));
  },
  async predict() {
    const a = requireAnalyzer();
    return Array.from(await exclusive(() => a.predict()));
  },
  async attack(eps: number) {
    const a = requireAnalyzer();
    const r = await exclusive(() => a.attack(eps));
    showAttack(r);
    let maxChange = 0;
    r.adversarial.forEach((v, i) => (maxChange = Math.max(maxChange, Math.abs(v - r.clean[i]))));
    return { label: r.label, before: Array.from(r.before), after: Array.from(r.after), adversarial: Array.from(r.adversarial), maxChange };
  },
  /** Simulates a lost device (as a driver reset would). */
  loseDevice() {
    engine?.device.destroy();
  },
  state() {
    return {
      adapter: engine?.adapter.name ?? null,
      engineError,
      trainingActive: activeRun !== null,
      iteration: training?.iteration ?? null,
      snapshotIteration: snapshot?.iteration ?? null,
      history: training?.history ?? snapshot?.history ?? null,
      lastAttackEps: lastAttack?.eps ?? null,
    };
  },
};
(window as unknown as { __ser: typeof hook }).__ser = hook;
