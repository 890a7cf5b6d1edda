// `ser adapter`: which WebGPU adapter this machine gives us, its limits, and the kernel
// variants the autotuner measured on it (--tuned).
import type { CommandSpec, Parsed } from './args.js';
import { createNodeEngine } from '../gpu/node.js';
import { tuneModeOf } from '../gpu/tuning.js';
import type { Engine } from '../engine/engine.js';

export const spec: CommandSpec = {
  name: 'adapter',
  summary: 'Show the WebGPU adapter in use and its limits, or the kernel variants tuned for it.',
  usage: 'ser adapter [--json] [--tuned]',
  flags: {
    json: { type: 'boolean', help: 'print JSON' },
    tuned: {
      type: 'boolean',
      help:
        "list the autotuner's cached choices for this adapter (kernel family, shape class, chosen variant, median ms per candidate) and the cache file. " +
        'Choices are measured the first time a shape is met in training or benchmarks; SER_TUNE=off|cache|force (default cache) and SER_TUNE_CACHE (a folder) control it',
    },
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

export async function run(p: Parsed): Promise<number> {
  if (p.flags.tuned) {
    // Read the cache even when SER_TUNE=off (an unknown value is still an error).
    const mode = tuneModeOf(process.env.SER_TUNE);
    const engine = await createNodeEngine(undefined, { tune: 'cache' });
    const report = tunedReport(engine, mode);
    engine.destroy();
    if (p.flags.json) {
      console.log(JSON.stringify(report, null, 2));
      return 0;
    }
    console.log(`adapter: ${report.adapter}`);
    console.log(`tuning cache: ${report.cache} (SER_TUNE=${mode})`);
    if (report.choices.length === 0) {
      console.log('no tuned choices yet: they are measured the first time a kernel shape is met in training (ser train) or a benchmark');
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
