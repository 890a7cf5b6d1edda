// The autotuner: measures the candidates of every shape class the choosers queued
// (kernels/choose.ts) and keeps the fastest in the engine's tuning cache (src/gpu/tuning.ts).
// Launchers are synchronous and WebGPU timing is not, so measuring waits for an async point:
// `await tunePending(engine)` after a training step, in a benchmark, or in `ser adapter --tune`.
import type { Engine } from '../src/engine/engine.js';
import type { TunedChoice } from '../src/gpu/tuning.js';
import { candidates, returnRequests, takeRequests, type TuneRequest } from './choose.js';

export interface TuneOptions {
  /** Timed runs per candidate after its warm-up (default 5; 3 when one run takes over 200 ms). */
  runs?: number;
  /** Where a failed candidate or an unwritable cache is reported (default console.warn). */
  warn?: (line: string) => void;
  /**
   * Stop starting new measurements after this many milliseconds; the shape classes left stay
   * queued for the next call (default: no limit). Training passes a share of its own time so
   * that tuning never stalls a run (src/train/train.ts).
   */
  budgetMs?: number;
  /** Called before each shape class is measured. */
  onProgress?: (done: number, total: number, request: TuneRequest) => void;
}

/** A run longer than this (ms) gets fewer repeats: the tuner should not stall a training run. */
const SLOW_RUN_MS = 200;
/** Runs shorter than this (ms) are repeated inside one timed region, so the submit and wait do not drown them. */
const SHORT_RUN_MS = 2;
/** Most repeats inside one timed region. */
const MAX_REPEATS = 64;
/** A candidate whose warm-up takes this many times the best median so far cannot win: it is not timed further. */
const HOPELESS = 4;
/** Another candidate replaces the rule's only when faster by more than this fraction (timing noise). */
const MARGIN = 0.05;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/**
 * Milliseconds per run of `record`, repeated `repeats` times in one timed region: GPU
 * timestamps if `gpuClock` (null if they failed), else wall time around submit and completion.
 */
async function timeOnce(engine: Engine, record: () => void, gpuClock: boolean, repeats = 1): Promise<number | null> {
  const run = () => {
    for (let i = 0; i < repeats; i++) engine.scope(record);
  };
  if (gpuClock) return engine.timeOnGpu(run).then((t) => (t === null ? null : t / repeats));
  await engine.sync();
  const t0 = performance.now();
  run();
  await engine.sync();
  return (performance.now() - t0) / repeats;
}

/**
 * Measures one queued shape class. Candidates run the rule's first; each gets a warm-up run
 * (it compiles the pipelines), then `runs` timed runs on the same fresh inputs (short runs
 * repeated inside each timing). A candidate whose warm-up is HOPELESS times the best median so
 * far keeps its warm-up time and is not timed further. The choice is the smallest median,
 * unless the rule's variant is within MARGIN of it (then the rule's stays: timing noise
 * should not flip choices). Null when fewer than two candidates ran.
 */
export async function measure(engine: Engine, request: TuneRequest, opts: TuneOptions = {}): Promise<TunedChoice | null> {
  const { family, key, shape } = request;
  const warn = opts.warn ?? ((line: string) => console.warn(line));
  const rule = family.rule(shape, engine.caps);
  const vs = candidates(family, shape, engine.caps).sort((a, b) => Number(b === rule) - Number(a === rule));
  if (vs.length < 2 || !family.bench) return null;
  return engine.scopeAsync(async () => {
    const run = family.bench!(engine, shape);
    await engine.sync();
    // GPU timestamps where the device has them and they read back usable values (the probe
    // also warms the first candidate up); else wall time, for every candidate alike.
    let gpuClock = engine.caps.timestamps;
    if (gpuClock) gpuClock = (await timeOnce(engine, () => run(vs[0]), true).catch(() => null)) !== null;
    const times: Record<string, number | null> = {};
    let best = Infinity;
    for (const v of vs) {
      try {
        const warm = await timeOnce(engine, () => run(v), gpuClock);
        if (warm === null) throw new Error('the GPU clock gave no time');
        if (warm > HOPELESS * best) {
          times[v] = warm;
          continue;
        }
        const repeats = Math.min(MAX_REPEATS, Math.max(1, Math.ceil(SHORT_RUN_MS / Math.max(warm, 1e-3))));
        const n = opts.runs ?? (warm > SLOW_RUN_MS ? 3 : 5);
        const samples: number[] = [];
        for (let i = 0; i < n; i++) {
          const t = await timeOnce(engine, () => run(v), gpuClock, repeats);
          if (t !== null) samples.push(t);
        }
        times[v] = samples.length ? median(samples) : null;
        if (times[v] !== null) best = Math.min(best, times[v]!);
      } catch (e) {
        times[v] = null;
        clearError(engine);
        warn(`ser: tuner: ${family.name} variant '${v}' failed on ${key}: ${(e as Error).message.split('\n')[0]}`);
      }
    }
    const chosen = pick(times, rule);
    if (chosen === null) return null;
    return { family: family.name, key, stamp: family.stamp, variant: chosen, times, timing: gpuClock ? 'gpu-timestamps' : 'wall-clock', measured: new Date().toISOString() } satisfies TunedChoice;
  });
}

/**
 * The choice from measured median times (null: the candidate failed): the fastest, unless the
 * rule's variant is within MARGIN of it. Null when fewer than two candidates have a time.
 */
export function pick(times: Record<string, number | null>, rule: string): string | null {
  const ran = Object.keys(times).filter((v) => times[v] !== null);
  if (ran.length < 2) return null;
  const fastest = ran.reduce((a, b) => (times[b]! < times[a]! ? b : a));
  const ruleTime = times[rule];
  return ruleTime != null && ruleTime <= times[fastest]! * (1 + MARGIN) ? rule : fastest;
}

/** Drops a validation error a failed candidate left on the engine, so the next candidate starts clean. */
function clearError(engine: Engine): void {
  try {
    engine.throwIfFailed();
  } catch {
    // reported with the candidate
  }
}

/**
 * Measures the shape classes queued on `engine` since the last call (all, or as many as
 * `budgetMs` allows; the rest stay queued) and stores the choices
 * (src/gpu/tuning.ts: memory, and this adapter's cache file in Node). Returns them; nothing to
 * do returns [] at once (SER_TUNE=off queues nothing). Outputs of the measured runs are
 * released; the engine's poisoning of new tensors is paused meanwhile. A cache that cannot be
 * written is reported through `warn` and the choices stay in memory.
 */
export async function tunePending(engine: Engine, opts: TuneOptions = {}): Promise<TunedChoice[]> {
  const requests = takeRequests(engine);
  if (requests.length === 0) return [];
  const warn = opts.warn ?? ((line: string) => console.warn(line));
  const chosen: TunedChoice[] = [];
  const poison = engine.poisonNewTensors;
  engine.poisonNewTensors = false;
  try {
    const start = performance.now();
    for (const [i, r] of requests.entries()) {
      if (i > 0 && opts.budgetMs !== undefined && performance.now() - start >= opts.budgetMs) {
        returnRequests(engine, requests.slice(i));
        break;
      }
      opts.onProgress?.(i, requests.length, r);
      const c = await measure(engine, r, opts);
      if (c) {
        engine.caps.tuning.record(c);
        chosen.push(c);
      }
    }
  } finally {
    engine.poisonNewTensors = poison;
  }
  if (chosen.length > 0) {
    try {
      engine.caps.tuning.save();
    } catch (e) {
      warn(`ser: tuner: cannot save the tuning cache: ${(e as Error).message}`);
    }
  }
  return chosen;
}
