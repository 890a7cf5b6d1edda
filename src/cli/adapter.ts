// `ser adapter`: which WebGPU adapter this machine gives us, its limits, and the kernel
// variants the autotuner measured on it (--tuned).
import type { CommandSpec, Parsed } from './args.js';
import { createNodeEngine } from '../gpu/node.js';
import { tuneModeOf } from '../gpu/tuning.js';
import type { Engine } from '../engine/engine.js';
import { createModel, isModelName, MODEL_NAMES, type ModelName } from '../models/index.js';
import { train, DEFAULT_TRAIN, type FeatureSet } from '../train/train.js';
import { Random } from '../util/random.js';
import { UserError } from './errors.js';

export const spec: CommandSpec = {
  name: 'adapter',
  summary: 'Show the WebGPU adapter in use and its limits, or the kernel variants tuned for it.',
  usage: 'ser adapter [--json] [--tuned | --tune [--model cnn5] [--batch 32]]',
  flags: {
    json: { type: 'boolean', help: 'print JSON' },
    tuned: {
      type: 'boolean',
      help:
        "list the autotuner's cached choices for this adapter (kernel family, shape class, chosen variant, median ms per candidate) and the cache file. " +
        'Choices are measured the first time a shape is met in training or benchmarks; SER_TUNE=off|cache|force (default cache) and SER_TUNE_CACHE (a folder) control it',
    },
    tune: {
      type: 'boolean',
      help: "measure now the kernels of one standard and one adversarial training step of --model at --batch on random inputs (shape classes already cached are skipped; SER_TUNE=force re-measures them), then list the choices as --tuned",
    },
    model: { type: 'string', value: 'NAME', help: `--tune: the architecture whose step is tuned, one of ${MODEL_NAMES.join(', ')} (default cnn5)` },
    batch: { type: 'string', value: 'N', help: '--tune: the batch size (default 32; shape classes round batches up to a power of two)' },
  },
};

/** The cached choices and where they live, as printed by --tuned. */
function tunedReport(engine: Engine, mode: string) {
  const tuning = engine.caps.tuning;
  return {
    adapter: engine.adapter.name,
    cache: tuning.store?.where ?? null,
    mode,
    choices: tuning.entries().map((c) => ({ family: c.family, shape: c.key, variant: c.variant, times: c.times, timing: c.timing, measured: c.measured })),
  };
}

/**
 * One standard and one adversarial training step of `model` at `batch` on random inputs:
 * train() measures the shape classes they meet. Returns how many were measured.
 */
async function tuneSteps(engine: Engine, model: ModelName, batch: number): Promise<number> {
  let measured = 0;
  const rng = new Random(1);
  const data: FeatureSet = {
    features: Array.from({ length: batch }, () => Float32Array.from({ length: 373 * 64 }, () => rng.next())),
    labels: Array.from({ length: batch }, (_, i) => i % 4),
    shape: [1, 373, 64],
  };
  for (const eps of [0, 0.02]) {
    const net = createModel(model, engine, { seed: 1 });
    const tune = {
      // Everything now: this command exists to measure (training's own share does not apply).
      budgetMs: Infinity,
      onProgress: (done: number, total: number, r: { family: { name: string }; key: string }) => {
        measured++;
        process.stderr.write(`tuning ${eps ? 'adversarial' : 'standard'} step: ${done + 1}/${total} ${r.family.name} ${r.key}\n`);
      },
    };
    const { optimizer } = await train(engine, net, data, { ...DEFAULT_TRAIN, batchSize: batch, iterations: 1, eps }, { logEvery: 1, tune });
    optimizer.dispose();
    net.dispose();
  }
  return measured;
}

export async function run(p: Parsed): Promise<number> {
  if (p.flags.tuned || p.flags.tune) {
    // --tuned reads the cache even when SER_TUNE=off (an unknown value is still an error).
    const mode = tuneModeOf(process.env.SER_TUNE);
    const model = typeof p.flags.model === 'string' ? p.flags.model : 'cnn5';
    if (!isModelName(model)) throw new UserError(`--model: unknown architecture '${model}' (one of ${MODEL_NAMES.join(', ')})`);
    const batch = p.flags.batch === undefined ? 32 : Number(p.flags.batch);
    if (!Number.isInteger(batch) || batch < 1 || batch > 1024) throw new UserError(`--batch: expected a whole number from 1 to 1024, got '${p.flags.batch}'`);
    if (p.flags.tune && mode === 'off') throw new UserError('--tune measures kernels, but SER_TUNE=off: unset it or use SER_TUNE=cache or force');
    const engine = await createNodeEngine(undefined, { tune: mode === 'off' ? 'cache' : mode });
    if (p.flags.tune) {
      const t0 = performance.now();
      const measured = await tuneSteps(engine, model, batch);
      process.stderr.write(`measured ${measured} shape classes in ${((performance.now() - t0) / 1000).toFixed(1)} s (two training steps included)\n`);
    }
    const report = tunedReport(engine, mode);
    engine.destroy();
    if (p.flags.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    console.log(`adapter: ${report.adapter}`);
    console.log(`tuning cache: ${report.cache} (SER_TUNE=${mode})`);
    if (report.choices.length === 0) {
      console.log(
        mode === 'off'
          ? 'SER_TUNE=off: the rules choose every kernel; no cached choice is read or measured'
          : "no tuned choices yet: they are measured the first time a kernel shape is met in training (ser train) or a benchmark, or now with 'ser adapter --tune'",
      );
      return 0;
    }
    const rows = report.choices.map((c) => [
      c.family,
      c.shape,
      c.variant,
      Object.entries(c.times)
        .map(([v, t]) => `${v} ${t === null ? 'failed' : t.toFixed(3)}`)
        .join(', '),
    ]);
    const head = ['family', 'shape class', 'chosen', 'median ms per candidate'];
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
    for (const r of [head, ...rows]) console.log(r.map((cell, i) => (i < 3 ? cell.padEnd(widths[i]) : cell)).join('  '));
    return 0;
  }
  const engine = await createNodeEngine();
  const l = engine.limits;
  const info = {
    adapter: engine.adapter.name,
    backend: engine.adapter.backend,
    kind: engine.adapter.kind,
    features: [...engine.features].sort(),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
  };
  if (p.flags.json) console.log(JSON.stringify(info, null, 2));
  else for (const [k, v] of Object.entries(info)) console.log(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  engine.destroy();
  return 0;
}
