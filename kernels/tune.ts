// The autotuner: measures the candidates of every shape class the choosers queued
// (kernels/choose.ts) and keeps the fastest in the engine's tuning cache (src/gpu/tuning.ts).
// Launchers are synchronous and WebGPU timing is not, so measuring waits for an async point:
// `await tunePending(engine)` after a training step, in a benchmark, or in `ser adapter --tune`.
import type { Engine } from '../src/engine/engine.js';
import type { TunedChoice } from '../src/gpu/tuning.js';
import { candidates, takeRequests, type TuneRequest } from './choose.js';

export interface TuneOptions {
  /** Timed runs per candidate after its warm-up (default 5; 3 when one run takes over 200 ms). */
  runs?: number;
  /** Where a failed candidate or an unwritable cache is reported (default console.warn). */
  warn?: (line: string) => void;
  /** Called before each shape class is measured. */
  onProgress?: (done: number, total: number, request: TuneRequest) => void;
}

/** A run longer than this (ms) gets fewer repeats: the tuner should not stall a training run. */
const SLOW_RUN_MS = 200;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** One run of `record` in milliseconds: GPU timestamps if `gpuClock` (null if they failed), else wall time around submit and completion. */
async function timeOnce(engine: Engine, record: () => void, gpuClock: boolean): Promise<number | null> {
  const run = () => engine.scope(record);
  if (gpuClock) return engine.timeOnGpu(run);
  await engine.sync();
  const t0 = performance.now();
  run();
  await engine.sync();
  return performance.now() - t0;
}

/**
 * Measures one queued shape class: for each candidate a warm-up run (it compiles the
 * pipelines), then `runs` timed runs on the same fresh inputs; the choice is the candidate with
 * the smallest median. Null when fewer than two candidates ran.
 */
export async function measure(engine: Engine, request: TuneRequest, opts: TuneOptions = {}): Promise<TunedChoice | null> {
  const { family, key, shape } = request;
  const warn = opts.warn ?? ((line: string) => console.warn(line));
  const vs = candidates(family, shape, engine.caps);
  if (vs.length < 2 || !family.bench) return null;
  return engine.scopeAsync(async () => {
    const run = family.bench!(engine, shape);
    await engine.sync();
    // GPU timestamps where the device has them and they read back usable values (the probe
    // also warms the first candidate up); else wall time, for every candidate alike.
    let gpuClock = engine.caps.timestamps;
    if (gpuClock) gpuClock = (await timeOnce(engine, () => run(vs[0]), true).catch(() => null)) !== null;
    const times: Record<string, number | null> = {};
    for (const v of vs) {
      try {
        const warm = await timeOnce(engine, () => run(v), gpuClock);
        const n = opts.runs ?? (warm !== null && warm > SLOW_RUN_MS ? 3 : 5);
        const samples: number[] = [];
        for (let i = 0; i < n; i++) {
          const t = await timeOnce(engine, () => run(v), gpuClock);
          if (t !== null) samples.push(t);
        }
        times[v] = samples.length ? median(samples) : null;
      } catch (e) {
        times[v] = null;
        warn(`ser: tuner: ${family.name} variant '${v}' failed on ${key}: ${(e as Error).message}`);
      }
    }
    const ran = vs.filter((v) => times[v] !== null);
    if (ran.length < 2) return null;
    const best = ran.reduce((a, b) => (times[b]! < times[a]! ? b : a));
    return { family: family.name, key, stamp: family.stamp, variant: best, times, timing: gpuClock ? 'gpu-timestamps' : 'wall-clock', measured: new Date().toISOString() } satisfies TunedChoice;
  });
}

/**
 * Measures every shape class queued on `engine` since the last call and stores the choices
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
    for (const [i, r] of requests.entries()) {
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
