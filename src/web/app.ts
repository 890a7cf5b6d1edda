// The browser face of ser-webgpu. The main thread only handles the page and draws; all GPU
// work (front end, model, attacks, training) runs in worker.ts behind protocol.ts, so a long
// job never freezes the page. On open the page loads a model from a URL (the bundled one, or
// ?model=URL) with its model card beside it (same name, .json), and, if present, an example
// recording (?wav=URL, default models/example.wav), and predicts it.
import { CLASSES } from '../data/corpus.js';
import { isModelName } from '../models/index.js';
import { recipeOf } from '../audio/recipe.js';
import { heatmapFigure } from '../report/figure.js';
import { featureUnits } from '../report/feature-units.js';
import { perturbationSpec, spectrogramSpec } from '../report/attack-figure.js';
import type { AttackOptions, AttackResult } from './analyzer.js';
import type { Snapshot, TrainSettings, History } from './trainer.js';
import type { AdapterState, Analysis, CheckpointInfo, RecordingInfo, WorkerEvent } from './protocol.js';
import { WorkerClient } from './client.js';
import { describeAttack } from './statement.js';
import { drawCurve, drawFigure, drawWaveform } from './draw.js';
import { MicrophoneRecorder } from './microphone.js';
import { store } from './store.js';
import { WEBGPU_BROWSERS } from './webgpu-help.js';
import { $, banner, downloadBytes, fileBytes, renderProbabilities } from './ui.js';

const SNAPSHOT_KEY = 'training-checkpoint';
/** Where the page looks for its model, card and example recording (served by `ser serve`). */
export const DEFAULT_MODEL_URL = 'models/default.safetensors';
export const DEFAULT_WAV_URL = 'models/example.wav';

let client: WorkerClient | null = null;
let adapter: AdapterState | null = null;
let engineError: string | null = null;
let checkpoint: CheckpointInfo | null = null;
let analysis: Analysis | null = null;
let lastAttack: AttackResult | null = null;
let lastStatement: string[] = [];
let dataset: { fingerprint: string } | null = null;
let snapshot: Snapshot | null = null;
let trainRequest: number | null = null;
let history: History = { loss: [], uar: [] };
let engineReady: () => void = () => undefined;
let engineSettled = new Promise<void>((ok) => (engineReady = ok));

function report(err: unknown): void {
  const msg = (err as Error)?.message ?? String(err);
  if (msg !== 'cancelled') banner(msg);
}

function requireClient(): WorkerClient {
  if (!client || !adapter) throw new Error(engineError ? `WebGPU is not available: ${engineError}` : 'the GPU is not ready yet');
  return client;
}

/** The status line under the title for long tasks; null hides it. */
function task(text: string | null): void {
  const el = $('task');
  el.hidden = text === null;
  el.textContent = text ?? '';
}

// ---- the worker and its GPU ------------------------------------------------------------

function onWorkerEvent(e: WorkerEvent): void {
  if (e.kind === 'engine') {
    const wasLost = adapter === null && engineError === 'device lost';
    adapter = e.adapter;
    engineError = e.error;
    const status = $('gpu-status');
    if (e.adapter) {
      status.textContent = `WebGPU adapter (in a worker): ${e.adapter.name} (${e.adapter.backend}${e.adapter.kind === 'cpu' ? ', a software adapter: slow, the small CNN is the one to train' : ''})`;
      status.className = 'status ok';
      if (e.adapter.kind === 'cpu') $<HTMLSelectElement>('t-model').value = 'small';
      else if ($<HTMLSelectElement>('t-model').value === 'small') $<HTMLSelectElement>('t-model').value = 'cnn5';
      if (wasLost) banner(`The GPU device was lost and a new one was acquired.${snapshot ? ` Press "Resume from checkpoint" to continue training from iteration ${snapshot.iteration}.` : ''}`, 'info');
    } else {
      status.textContent = 'No WebGPU';
      status.className = 'status bad';
      banner(`WebGPU is not available: ${e.error}. ${WEBGPU_BROWSERS}`);
    }
    engineReady();
  } else if (e.kind === 'device-lost') {
    adapter = null;
    engineError = 'device lost';
    trainRequest = null;
    const where = snapshot ? ` Training can resume from its checkpoint at iteration ${snapshot.iteration} (kept in this page and in the browser's storage).` : '';
    banner(`The GPU device was lost (${e.message}).${where} Reconnecting…`);
  }
  updateButtons();
}

function startWorker(): void {
  if (!('gpu' in navigator)) {
    engineError = 'this browser has no WebGPU (navigator.gpu is missing)';
    $('gpu-status').textContent = 'No WebGPU';
    $('gpu-status').className = 'status bad';
    banner(`WebGPU is not available: ${engineError}. ${WEBGPU_BROWSERS}`);
    engineReady();
    return;
  }
  const worker = new Worker(new URL('worker.js', import.meta.url), { type: 'module' });
  client = new WorkerClient(worker, onWorkerEvent);
}

// ---- model, recording, prediction --------------------------------------------------------

function cardLine(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isInteger(v) ? String(v) : v.toFixed(3);
  if (typeof v !== 'object') return String(v);
  return Object.entries(v as Record<string, unknown>)
    .map(([k, x]) => `${k} ${typeof x === 'object' && x !== null ? `(${cardLine(x)})` : cardLine(x)}`)
    .join(', ');
}

/** The model card (JSON beside the model): its name, recipe, data and figures as a list. */
function showCard(card: Record<string, unknown> | null, info: CheckpointInfo): void {
  const el = $('model-card');
  el.replaceChildren();
  const name = (card?.name as string | undefined) ?? info.name;
  $('model-name').textContent = `Model: ${name} (${info.modelName}, ${info.recipe} recipe)`;
  $('model-name').className = 'first';
  if (!card) return;
  const dl = document.createElement('dl');
  for (const [k, v] of Object.entries(card)) {
    if (k === 'name') continue;
    const dt = document.createElement('dt');
    dt.textContent = k;
    const dd = document.createElement('dd');
    dd.textContent = cardLine(v);
    dl.append(dt, dd);
  }
  el.append(dl);
}

async function loadCheckpoint(bytes: Uint8Array, name: string, card: Record<string, unknown> | null = null): Promise<CheckpointInfo> {
  const info = await requireClient().call<CheckpointInfo>({ op: 'loadCheckpoint', bytes, name });
  checkpoint = info;
  const m = info.meta;
  const trained = m.trainEps && Number(m.trainEps) > 0 ? `adversarial, ε ${m.trainEps}` : 'standard';
  $('ckpt-info').textContent = `${name}: ${info.modelName}, ${info.recipe} recipe, fit ${info.fit}, ${trained} training${m.corpus ? ` on ${m.corpus}` : ''}${m.iterations ? `, ${m.iterations} iterations` : ''}`;
  showCard(card, info);
  const units = featureUnits(recipeOf(info.recipe));
  const eps = $<HTMLInputElement>('eps');
  eps.max = String(units.epsMax);
  eps.step = 'any';
  $('eps-unit').textContent = units.epsUnit;
  banner(null);
  updateButtons();
  await refreshAnalysis();
  return info;
}

/** Fetches the model (and its card) from a URL; a missing bundled model is a note, not an error. */
async function loadModelFromUrl(url: string, explicit: boolean): Promise<void> {
  $('model-name').textContent = `Loading the model ${url}…`;
  const res = await fetch(url).catch((e: Error) => ({ ok: false, status: 0, statusText: e.message }) as Response);
  if (!res.ok) {
    const why = `${url}: ${res.status ? `HTTP ${res.status}` : res.statusText}`;
    $('model-name').textContent = `No bundled model (${why}): use your own checkpoint, or train one below.`;
    if (explicit) throw new Error(`The model given by ?model= could not be fetched (${why}).`);
    return;
  }
  const bytes = new Uint8Array(await res.arrayBuffer());
  const cardUrl = url.replace(/\.safetensors$/i, '') + '.json';
  const card = await fetch(cardUrl)
    .then((r) => (r.ok ? (r.json() as Promise<Record<string, unknown>>) : null))
    .catch(() => null);
  await loadCheckpoint(bytes, url.split('/').pop() ?? url, card);
}

function showRecordingInfo(r: RecordingInfo): void {
  const caution = r.caution ? ` Caution: ${r.caution}; its prediction is not worth much.` : '';
  $('audio-info').textContent = `${r.name}: ${(r.samples / 16000).toFixed(2)} s (from ${r.sourceRate} Hz).${caution}`;
}

/** Features and clean prediction from the worker, then the figure and bars here. */
async function refreshAnalysis(): Promise<void> {
  if (!client || !adapter || !$('audio-info').dataset.loaded) return;
  task('computing the log-Mel features and the prediction…');
  try {
    analysis = await requireClient().call<Analysis>({ op: 'analyse' });
  } finally {
    task(null);
  }
  const a = analysis;
  showRecordingInfo(a.recording); // its caution follows the checkpoint's window
  drawSpectrogram('spectrogram', `Log-Mel spectrogram of ${a.recording.name}`, a.features, a);
  if (a.probabilities) {
    renderProbabilities($('probs-clean'), a.probabilities, `Prediction on ${a.recording.name}${checkpoint ? ` by ${$('model-name').textContent?.replace(/^Model: /, '')}` : ''}`);
    await runAttack();
  }
  updateButtons();
}

function recipeNow() {
  return recipeOf(checkpoint?.recipe ?? 'db');
}

function drawSpectrogram(id: string, title: string, values: Float32Array, a: Analysis): void {
  drawFigure($<HTMLCanvasElement>(id), (w) => heatmapFigure(spectrogramSpec(title, values, a.frontEnd, a.recording.samples, recipeNow()), w, 240));
}

async function loadWav(bytes: Uint8Array, name: string): Promise<void> {
  task(`decoding ${name}…`);
  let rec: RecordingInfo;
  try {
    rec = await requireClient().call<RecordingInfo>({ op: 'loadWav', bytes, name });
  } finally {
    task(null);
  }
  await showRecording(rec);
}

async function showRecording(rec: RecordingInfo): Promise<void> {
  $('audio-info').dataset.loaded = '1';
  drawWaveform($<HTMLCanvasElement>('waveform'), rec.preview);
  showRecordingInfo(rec);
  $('probs-adv').replaceChildren();
  $('attack-statement').replaceChildren();
  banner(null);
  await refreshAnalysis();
}

// ---- the attack panel ------------------------------------------------------------------

function attackOptions(): AttackOptions {
  const method = $<HTMLSelectElement>('a-method').value === 'pgd' ? 'pgd' : 'fgsm';
  const steps = Number($<HTMLInputElement>('a-steps').value);
  const stepText = $<HTMLInputElement>('a-step').value.trim();
  const target = $<HTMLSelectElement>('a-target').value;
  if (method === 'pgd' && !(Number.isInteger(steps) && steps >= 1 && steps <= 1000)) throw new Error(`PGD steps: '${$<HTMLInputElement>('a-steps').value}' is not a whole number from 1 to 1000`);
  const stepSize = stepText === '' ? undefined : Number(stepText);
  if (stepSize !== undefined && !(stepSize > 0)) throw new Error(`PGD step size: '${stepText}' is not a number > 0`);
  return { method, eps: Number($<HTMLInputElement>('eps').value), steps, stepSize, target: target === '' ? null : Number(target) };
}

let attackRunning = false;
let attackAgain = false;
/** Runs the attack with the panel's settings; changes during a run are coalesced into one more run. */
async function runAttack(): Promise<void> {
  if (attackRunning) {
    attackAgain = true;
    return;
  }
  attackRunning = true;
  try {
    do {
      attackAgain = false;
      if (!checkpoint || !analysis || !adapter) return;
      const o = attackOptions();
      $('attack-info').textContent = `attacking (${o.method.toUpperCase()}, ε ${o.eps})…`;
      const r = await requireClient().call<AttackResult>({ op: 'attack', options: o });
      showAttack(r);
    } while (attackAgain);
  } finally {
    attackRunning = false;
  }
}

function showAttack(r: AttackResult, prefix: string[] = []): void {
  lastAttack = r;
  const a = analysis!;
  const units = featureUnits(recipeNow());
  const s = describeAttack({ method: r.method, attacked: r.attacked, targeted: r.target !== null, before: r.before, after: r.after }, CLASSES);
  lastStatement = [...prefix, ...s.lines];
  const el = $('attack-statement');
  el.replaceChildren(
    ...lastStatement.map((line, i) => {
      const p = document.createElement('p');
      p.textContent = line;
      if (i === prefix.length) p.className = 'first';
      return p;
    }),
  );
  const what = `${r.method.toUpperCase()}${r.method === 'pgd' ? ` (${r.steps} steps)` : ''}, ε = ${+r.eps.toPrecision(4)} ${units.epsShort}, ${r.target === null ? 'untargeted' : `targeted at ${CLASSES[r.target]}`}`;
  $('attack-info').textContent = what;
  renderProbabilities($('probs-adv'), r.after, `Prediction under ${what}`);
  drawSpectrogram('adv-spec', `Adversarial log-Mel spectrogram (${what})`, r.adversarialFeatures, a);
  drawFigure($<HTMLCanvasElement>('perturbation'), (w) => heatmapFigure(perturbationSpec(r.clean, r.adversarial, r.eps, a.frontEnd, a.recording.samples, recipeNow()), w, 240));
}

let minRequest: number | null = null;
async function findMinimumEps(): Promise<void> {
  const o = attackOptions();
  const epsMax = Number($<HTMLInputElement>('eps').max);
  const rounds = 10;
  $<HTMLButtonElement>('a-cancel').disabled = false;
  $('attack-info').textContent = `searching: first ε = ${epsMax}, then ${rounds} bisection steps…`;
  try {
    const found = await requireClient().call<{ eps: number; result: AttackResult } | null>(
      { op: 'minimumEps', options: { method: o.method, steps: o.steps, stepSize: o.stepSize, target: o.target }, epsMax, rounds },
      (e) => {
        if (e.kind === 'progress') $('attack-info').textContent = e.text;
      },
      (id) => (minRequest = id),
    );
    const units = featureUnits(recipeNow());
    const goal = o.target === null ? 'changes the prediction' : `makes the prediction ${CLASSES[o.target]}`;
    if (!found) {
      lastStatement = [`None up to ε = ${epsMax}, in ${units.epsUnit}: ${o.method.toUpperCase()} at ε = ${epsMax} does not ${goal.replace(/s /, ' ')}.`];
      $('attack-statement').replaceChildren(...lastStatement.map((t) => Object.assign(document.createElement('p'), { textContent: t, className: 'first' })));
      $('attack-info').textContent = 'minimum ε: none found';
      return;
    }
    $<HTMLInputElement>('eps').value = String(found.eps);
    $('eps-value').textContent = epsText(found.eps);
    showAttack(found.result, [`Minimum ε that ${goal}: ${found.eps.toPrecision(3)}, in ${units.epsUnit}; bisection to within ${(epsMax / 2 ** rounds).toPrecision(2)}.`]);
  } catch (e) {
    if ((e as Error).message !== 'cancelled') throw e;
    $('attack-info').textContent = 'minimum-ε search cancelled';
  } finally {
    minRequest = null;
    $<HTMLButtonElement>('a-cancel').disabled = true;
  }
}

/** eps with three significant digits, and at least three decimals (0.050, 0.00117). */
function epsText(eps: number): string {
  return eps >= 0.01 || eps === 0 ? eps.toFixed(3) : eps.toPrecision(3);
}

/** Steps and step size apply to PGD only. */
function syncMethod(): void {
  const pgd = $<HTMLSelectElement>('a-method').value === 'pgd';
  $<HTMLInputElement>('a-steps').disabled = !pgd;
  $<HTMLInputElement>('a-step').disabled = !pgd;
}

function wireAttack(): void {
  const eps = $<HTMLInputElement>('eps');
  // The form never submits (an inline onsubmit would break the Content-Security-Policy).
  $('attack-form').addEventListener('submit', (e) => e.preventDefault());
  syncMethod();
  $('a-method').addEventListener('change', syncMethod);
  const rerun = () => void runAttack().catch(report);
  eps.addEventListener('input', () => {
    $('eps-value').textContent = epsText(Number(eps.value));
    rerun();
  });
  for (const id of ['a-method', 'a-target']) $(id).addEventListener('change', rerun);
  $('a-run').onclick = rerun;
  $('a-min').onclick = () => void findMinimumEps().catch(report);
  $('a-cancel').onclick = () => {
    if (minRequest !== null) client?.cancel(minRequest);
  };
}

// ---- recording input ---------------------------------------------------------------------

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
      const rec = await requireClient().call<RecordingInfo>({ op: 'loadSamples', samples: pcm.samples, rate: pcm.sampleRate, name: 'microphone recording' });
      await showRecording(rec);
    } catch (err) {
      report(err);
    }
  };
  $<HTMLInputElement>('ckpt-input').addEventListener('change', (e) => {
    const f = (e.target as HTMLInputElement).files?.[0];
    if (f) void fileBytes(f).then((b) => loadCheckpoint(b, f.name)).catch(report);
  });
}

// ---- training ----------------------------------------------------------------------------

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

function drawCurves(h: History, iterations: number): void {
  drawCurve($<HTMLCanvasElement>('loss-curve'), h.loss, { title: 'training loss (cross-entropy) against iteration', colour: '#2b6cb0', xMax: iterations });
  drawCurve($<HTMLCanvasElement>('uar-curve'), h.uar, { title: 'held-out UAR against iteration', colour: '#dd6b20', yMin: 0, yMax: 1, xMax: iterations });
}

function updateButtons(): void {
  const ready = adapter !== null;
  const training = trainRequest !== null;
  $<HTMLButtonElement>('t-start').disabled = !ready || !dataset || training;
  $<HTMLButtonElement>('t-stop').disabled = !training;
  $<HTMLButtonElement>('t-resume').disabled = !ready || !dataset || training || !snapshot || snapshot.fingerprint !== dataset.fingerprint || snapshot.iteration >= snapshot.settings.iterations;
  $<HTMLButtonElement>('t-download').disabled = !snapshot;
  $<HTMLButtonElement>('t-use').disabled = !ready || !snapshot;
  const canAttack = ready && checkpoint !== null && analysis !== null;
  $<HTMLButtonElement>('a-run').disabled = !canAttack;
  $<HTMLButtonElement>('a-min').disabled = !canAttack;
}

let dataRequest: number | null = null;
async function pickFolder(files: FileList): Promise<void> {
  const picked = Array.from(files).map((f) => ({ path: f.webkitRelativePath || f.name, file: f as Blob }));
  const info = $('data-info');
  info.textContent = `reading ${picked.length} files…`;
  $<HTMLButtonElement>('data-cancel').disabled = false;
  try {
    const d = await requireClient().call<{ trainCount: number; testCount: number; counts: number[]; skipped: string[]; otherEmotions: number; fingerprint: string }>(
      { op: 'prepareDataset', files: picked },
      (e) => {
        if (e.kind === 'progress') info.textContent = e.text;
      },
      (id) => (dataRequest = id),
    );
    dataset = d;
    info.textContent = `${d.trainCount} training files (${CLASSES.map((c, i) => `${c} ${d.counts[i]}`).join(', ')}), ${d.testCount} held out${d.otherEmotions ? `; ${d.otherEmotions} of other emotions left out` : ''}${d.skipped.length ? `; ${d.skipped.length} skipped (hover for why)` : ''}`;
    if (d.skipped.length) info.title = d.skipped.join('\n');
  } catch (e) {
    if ((e as Error).message === 'cancelled') info.textContent = 'cancelled: no data.';
    else throw e;
  } finally {
    dataRequest = null;
    $<HTMLButtonElement>('data-cancel').disabled = true;
    updateButtons();
  }
}

function duration(s: number): string {
  if (s < 60) return `${Math.round(s)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
  return `${Math.floor(s / 3600)} h ${Math.round((s % 3600) / 60)} min`;
}

async function startTraining(resume: boolean): Promise<void> {
  const s = resume && snapshot ? snapshot.settings : settings();
  const info = $('train-info');
  const eta = $('train-eta');
  // Feedback at once: the first step compiles the GPU pipelines and may take a while.
  info.textContent = `preparing… (${s.model}: building the model and compiling its GPU pipelines for the first step)`;
  eta.textContent = '';
  banner(null);
  history = resume && snapshot ? { loss: [...snapshot.history.loss], uar: [...snapshot.history.uar] } : { loss: [], uar: [] };
  drawCurves(history, s.iterations);
  let done = false;
  try {
    const r = await requireClient().call<{ iteration: number; done: boolean }>(
      { op: 'train', settings: s, resume: resume ? snapshot : null },
      (e) => {
        if (e.kind === 'train-step') {
          history.loss.push([e.iteration, e.loss]);
          info.textContent = `iteration ${e.iteration} / ${s.iterations}, loss ${e.loss.toFixed(3)}`;
          eta.textContent =
            e.secondsPerIteration === null
              ? 'measuring the time per iteration…'
              : `${e.secondsPerIteration.toFixed(2)} s per iteration (measured), about ${duration(e.secondsPerIteration * (s.iterations - e.iteration))} left`;
          drawCurves(history, s.iterations);
        } else if (e.kind === 'train-eval') info.textContent = `evaluating the held-out part: ${e.done} / ${e.total} files`;
        else if (e.kind === 'train-uar') {
          history.uar.push([e.iteration, e.uar]);
          drawCurves(history, s.iterations);
        } else if (e.kind === 'train-snapshot') {
          snapshot = e.snapshot;
          updateButtons();
          // Best effort: a full or blocked storage only loses the after-reload resume.
          void store.put(SNAPSHOT_KEY, e.snapshot).catch(() => undefined);
        }
      },
      (id) => {
        trainRequest = id;
        updateButtons();
      },
    );
    done = r.done;
    const uar = history.uar.at(-1);
    info.textContent = `${done ? 'done' : 'stopped'} at iteration ${r.iteration} / ${s.iterations}${uar ? `; held-out UAR ${uar[1].toFixed(3)}` : ''}. The checkpoint (iteration ${snapshot?.iteration ?? 0}) can be downloaded for the CLI or used for prediction.`;
    eta.textContent = '';
  } catch (err) {
    if (/interrupted/.test((err as Error).message)) {
      info.textContent = `training interrupted (GPU device lost); the last checkpoint is from iteration ${snapshot?.iteration ?? 0}.`;
    } else report(err);
  } finally {
    trainRequest = null;
    updateButtons();
  }
}

function wireTraining(): void {
  $<HTMLInputElement>('folder-input').addEventListener('change', (e) => {
    const files = (e.target as HTMLInputElement).files;
    if (files?.length) void pickFolder(files).catch(report);
  });
  // The settings forms never submit (an inline onsubmit would break the Content-Security-Policy).
  $('train-form').addEventListener('submit', (e) => e.preventDefault());
  $('data-cancel').onclick = () => {
    if (dataRequest !== null) client?.cancel(dataRequest);
  };
  $('t-start').onclick = () => void startTraining(false).catch(report);
  $('t-resume').onclick = () => void startTraining(true).catch(report);
  $('t-stop').onclick = () => {
    if (trainRequest === null) return;
    $('train-info').textContent = 'stopping after this step; a checkpoint is taken…';
    client?.cancel(trainRequest);
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

// ---- start-up and the test hook ------------------------------------------------------------

const params = new URLSearchParams(location.search);
const ready = (async () => {
  wireAudio();
  wireAttack();
  wireTraining();
  drawCurves(history, 1);
  startWorker();
  await engineSettled;
  await restoreSnapshot();
  if (!adapter) {
    $('model-name').textContent = 'No model loaded: the page needs WebGPU (see the message above).';
    return;
  }
  let modelProblem: unknown = null;
  await loadModelFromUrl(params.get('model') ?? DEFAULT_MODEL_URL, params.has('model')).catch((e) => (modelProblem = e));
  const wavUrl = params.get('wav') ?? DEFAULT_WAV_URL;
  const wav = await fetch(wavUrl).catch(() => null);
  if (wav?.ok) await loadWav(new Uint8Array(await wav.arrayBuffer()), wavUrl.split('/').pop() ?? wavUrl).catch(report);
  // Said after the example recording, whose loading clears the message line.
  if (modelProblem) report(modelProblem);
})();

/** For tests and the console: the page's operations without clicking. */
const hook = {
  ready,
  async loadWavBytes(bytes: ArrayLike<number>, name: string) {
    await loadWav(Uint8Array.from(bytes), name);
    return { samples: analysis?.recording.samples ?? 0 };
  },
  async loadCheckpointBytes(bytes: ArrayLike<number>, name: string) {
    return (await loadCheckpoint(Uint8Array.from(bytes), name)).meta;
  },
  async features() {
    return Array.from((await requireClient().call<Analysis>({ op: 'analyse' })).features);
  },
  async predict() {
    return Array.from((await requireClient().call<Analysis>({ op: 'analyse' })).probabilities ?? []);
  },
  /** The attack with the panel's defaults overridden by `o`; shows it and returns its numbers and statement. */
  async attack(o: Partial<AttackOptions> | number) {
    const opts = { ...attackOptions(), ...(typeof o === 'number' ? { eps: o } : o) };
    // The panel shows the settings the attack used.
    $<HTMLSelectElement>('a-method').value = opts.method;
    syncMethod();
    $<HTMLSelectElement>('a-target').value = opts.target === null ? '' : String(opts.target);
    $<HTMLInputElement>('a-steps').value = String(opts.steps ?? 10);
    $<HTMLInputElement>('eps').value = String(opts.eps);
    $('eps-value').textContent = epsText(opts.eps);
    const r = await requireClient().call<AttackResult>({ op: 'attack', options: opts });
    showAttack(r);
    let maxChange = 0;
    r.adversarial.forEach((v, i) => (maxChange = Math.max(maxChange, Math.abs(v - r.clean[i]))));
    return { label: r.attacked, attacked: r.attacked, before: Array.from(r.before), after: Array.from(r.after), adversarial: Array.from(r.adversarial), maxChange, statement: $('attack-statement').innerText };
  },
  /** Simulates a lost device (as a driver reset would). */
  loseDevice() {
    engineSettled = new Promise<void>((ok) => (engineReady = ok));
    void client?.call({ op: 'loseDevice' });
  },
  state() {
    return {
      adapter: adapter?.name ?? null,
      adapterKind: adapter?.kind ?? null,
      engineError,
      model: checkpoint?.name ?? null,
      trainingActive: trainRequest !== null,
      snapshotIteration: snapshot?.iteration ?? null,
      history: trainRequest !== null || !snapshot ? history : snapshot.history,
      lastAttackEps: lastAttack?.eps ?? null,
      statement: lastStatement,
    };
  },
};
(window as unknown as { __ser: typeof hook }).__ser = hook;
