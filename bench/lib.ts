// Shared benchmark helpers: warm-up, repeated timed runs with the GPU drained before the
// clock stops, medians and spread, rows that always name the adapter, and the command-line
// reader every bench script uses (benchArgs).
import type { Engine } from '../src/engine/engine.js';
import { parseCommand, helpText, numberFlag, choiceFlag, type CommandSpec, type Parsed } from '../src/cli/args.js';
import { UserError } from '../src/cli/errors.js';
import { writeFileAtomic } from '../src/io/atomic.js';
import type { FeatureSet } from '../src/train/train.js';
import { Random } from '../src/util/random.js';

export interface Timing {
  median: number;
  min: number;
  max: number;
  runs: number;
}

/**
 * Times `fn` (which records GPU work) `runs` times after `warmup` runs; seconds per call.
 * `repeat` calls of `fn` go into each timed run (one scope, one drain of the GPU at the end),
 * so that on a fast GPU the fixed cost of a submit and its round trip (tens of microseconds
 * to a millisecond) does not swamp a kernel that takes less; the time is divided by `repeat`.
 */
export async function timeGpu(engine: Engine, fn: () => void | Promise<void>, opts: { warmup?: number; runs?: number; repeat?: number } = {}): Promise<Timing> {
  const warmup = opts.warmup ?? 2;
  const runs = opts.runs ?? 7;
  const repeat = opts.repeat ?? 1;
  for (let i = 0; i < warmup; i++) {
    await engine.scopeAsync(async () => fn());
    await engine.sync();
  }
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    await engine.sync();
    const t0 = performance.now();
    await engine.scopeAsync(async () => {
      for (let k = 0; k < repeat; k++) await fn();
    });
    await engine.sync();
    times.push((performance.now() - t0) / 1000 / repeat);
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

/** One flag of a bench script: a value with its default, or a switch (`boolean: true`). */
export interface BenchFlag {
  /** One line for --help. */
  help: string;
  default?: string;
  /** Placeholder shown in --help, e.g. 'N' or 'PATH'. */
  value?: string;
  boolean?: true;
}

export interface BenchArgs {
  /** Whether the flag has a value: given, or a default. */
  given(name: string): boolean;
  /** A value flag as given, else its default. */
  str(name: string): string;
  /** A whole-number flag, at least `min`. */
  int(name: string, min?: number): number;
  bool(name: string): boolean;
  /** A value flag that must be one of `choices`. */
  choice<T extends string>(name: string, choices: readonly T[]): T;
  /** A comma-separated flag, each item one of `choices`. */
  list<T extends string>(name: string, choices: readonly T[]): T[];
}

/**
 * The command line of bench script `name`, read by the CLI's parser (parseCommand in
 * src/cli/args.ts: node:util parseArgs, strict): --help / -h prints `summary` and one line
 * per flag with its default, and exits 0; an unknown flag, a flag missing its value, a stray
 * argument or a bad value prints one line on stderr and exits 2.
 */
export function benchArgs(name: string, summary: string, flags: Record<string, BenchFlag>, argv = process.argv.slice(2)): BenchArgs {
  const fail = (message: string): never => {
    console.error(`${name}: ${message} (see --help)`);
    process.exit(2);
  };
  // A UserError from src/cli/args.ts becomes one line and exit 2.
  const check = <T>(f: () => T): T => {
    try {
      return f();
    } catch (e) {
      if (e instanceof UserError) return fail(e.message);
      throw e;
    }
  };
  const script = `node dist/bench/${name}.js`;
  const spec: CommandSpec = { name, summary, usage: `${script} [options]`, flags: {}, helpCommand: `${script} --help` };
  for (const [k, f] of Object.entries(flags)) spec.flags[k] = { type: f.boolean ? 'boolean' : 'string', default: f.default, help: f.help, value: f.value };
  let p: Parsed;
  try {
    p = parseCommand(spec, argv);
  } catch (e) {
    if (!(e instanceof UserError)) throw e;
    // Already one line naming the script and how to get help.
    console.error(e.message);
    process.exit(2);
  }
  if (p.help) {
    process.stdout.write(helpText(spec));
    process.exit(0);
  }
  if (p.positionals.length > 0) fail(`unexpected argument '${p.positionals[0]}'`);
  const str = (k: string): string => {
    const v = p.flags[k];
    if (typeof v !== 'string') throw new Error(`bench flag --${k} was not given and has no default`);
    return v;
  };
  return {
    given: (k) => p.flags[k] !== undefined,
    str,
    int: (k, min = 1) => check(() => numberFlag(p, k, { integer: true, min, max: 1_000_000 })),
    bool: (k) => p.flags[k] === true,
    choice: (k, choices) => check(() => choiceFlag(p, k, choices)),
    list<T extends string>(k: string, choices: readonly T[]): T[] {
      const items = str(k).split(',');
      const bad = items.find((x) => !choices.includes(x as T));
      return bad === undefined ? (items as T[]) : fail(`--${k}: '${bad}' is not one of ${choices.join(', ')}`);
    },
  };
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
