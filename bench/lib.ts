// Shared benchmark helpers: warm-up, repeated timed runs with the GPU drained before the
// clock stops, medians and spread, and rows that always name the adapter.
import type { Engine } from '../src/engine/engine.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import type { FeatureSet } from '../src/train/train.js';
import { Random } from '../src/util/random.js';

export interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/** Times `fn` (which records GPU work) `runs` times after `warmup` runs; seconds per run. */
export async function timeGpu(engine: Engine, fn: () => void | Promise<void>, opts: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const runs = opts.runs ?? 7;
  for (let i = 0; i < warmup; i++) {
    await engine.scopeAsync(async () => fn());
    await engine.sync();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await engine.sync();
    const t0 = performance.now();
    await engine.scopeAsync(async () => fn());
    await engine.sync();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1], runs };
}

/** Same for CPU code. */
export async function timeCpu(fn: () => unknown, opts: { warmup?: number; runs?: number } = {}): Promise<Timing> {
  for (let i = 0; i < (opts.warmup ?? 1); i++) await fn();
  const times: number[] = [];
  for (let i = 0; i < (opts.runs ?? 5); i++) {
    const t0 = performance.now();
    await fn();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1], runs: times.length };
}

export interface BenchRow {
  bench: string;
  case: string;
  adapter: string;
  seconds: Timing;
  /** Work done per run, to turn time into a rate. */
  flop?: number;
  bytes?: number;
  note?: string;
}

export function gflops(r: BenchRow): number | undefined {
  return r.flop ? r.flop / r.seconds.median / 1e9 : undefined;
}
export function gbps(r: BenchRow): number | undefined {
  return r.bytes ? r.bytes / r.seconds.median / 1e9 : undefined;
}

export function markdown(rows: BenchRow[], peak?: { gflops?: number; gbps?: number }): string {
  const lines = ['| bench | case | median s | spread (min-max) s | GFLOP/s | GB/s | of peak | adapter | note |', '|---|---|---|---|---|---|---|---|---|'];
  for (const r of rows) {
    const gf = gflops(r);
    const gb = gbps(r);
    const frac = gf && peak?.gflops ? gf / peak.gflops : gb && peak?.gbps ? gb / peak.gbps : undefined;
    lines.push(
      `| ${r.bench} | ${r.case} | ${r.seconds.median.toPrecision(3)} | ${r.seconds.min.toPrecision(3)}-${r.seconds.max.toPrecision(3)} | ${gf ? gf.toFixed(2) : ''} | ${gb ? gb.toFixed(2) : ''} | ${frac ? `${(100 * frac).toFixed(0)}%` : ''} | ${r.adapter} | ${r.note ?? ''} |`,
    );
  }
  return lines.join('\n');
}

export function saveResults(path: string, rows: BenchRow[], extra: Record<string, unknown> = {}): void {
  writeFileAtomic(path, JSON.stringify({ date: new Date().toISOString(), ...extra, rows }, null, 1));
}

/** `--name value` from the command line, or the default. */
export function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

/** `batch` random log-Mel-shaped inputs (1 x 373 x 64, uniform in [0, 1]) with labels i % 4: what the step benchmarks train on. */
export function randomBatch(batch: number, seed = 1): FeatureSet {
  const rng = new Random(seed);
  return {
    features: Array.from({ length: batch }, () => Float32Array.from({ length: 373 * 64 }, () => rng.next())),
    labels: Array.from({ length: batch }, (_, i) => i % 4),
    shape: [1, 373, 64],
  };
}
