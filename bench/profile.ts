// Where a training step spends its GPU time: records every dispatch of one step, then
// submits each one again on its own (a few times, GPU drained around it) and times it.
// Rows group dispatches by kernel (shader.entry point), heaviest first. Usage:
//   node dist/bench/profile.js [--model cnn5] [--batch 32] [--adversarial] [--repeats 2] [--top 25]
import { tunePending } from '../kernels/tune.js';
import { createNodeEngine } from '../src/gpu/node.js';
import { createModel, MODEL_NAMES, type ModelName } from '../src/models/index.js';
import { train } from '../src/train/train.js';
import { benchStepConfig } from './train-step.js';
import type { Engine, RecordedDispatch } from '../src/engine/engine.js';
import { benchArgs, randomBatch } from './lib.js';

/** Seconds one recorded dispatch takes alone: median of `repeats` submissions. */
async function timeDispatch(engine: Engine, d: RecordedDispatch, repeats: number): Promise<number> {
  const device = engine.device;
  const times: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(d.pipeline);
    pass.setBindGroup(0, d.bindGroup);
    pass.dispatchWorkgroups(...d.workgroups);
    pass.end();
    const commands = encoder.finish();
    await device.queue.onSubmittedWorkDone();
    const t0 = performance.now();
    device.queue.submit([commands]);
    await device.queue.onSubmittedWorkDone();
    times.push((performance.now() - t0) / 1000);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

export async function profileStep(name: ModelName, batch: number, adversarial: boolean, repeats: number) {
  const engine = await createNodeEngine();
  const data = randomBatch(batch);
  const model = createModel(name, engine, { seed: 1 });
  const cfg = benchStepConfig(batch, adversarial); // the step bench/train-step.ts times
  // Step 1 compiles the pipelines; step 2 is timed whole, then recorded and replayed.
  // The tuner measures the shape classes step 1 met before anything is timed; timed steps
  // never tune (budget 0).
  const first = await train(engine, model, data, { ...cfg, iterations: 1 }, { logEvery: 1, tune: { budgetMs: 0 } });
  await tunePending(engine, { budgetMs: Infinity });
  const t0 = performance.now();
  await train(engine, model, data, { ...cfg, iterations: 2 }, { startIteration: 1, optimizer: first.optimizer, logEvery: 1, tune: { budgetMs: 0 } });
  const stepSeconds = (performance.now() - t0) / 1000;
  const recorded: RecordedDispatch[] = [];
  engine.recording = recorded;
  await train(engine, model, data, { ...cfg, iterations: 3 }, { startIteration: 2, optimizer: first.optimizer, logEvery: 1, tune: { budgetMs: 0 } });
  engine.recording = null;
  const byKernel = new Map<string, { seconds: number; count: number; worst: number; worstGrid: string }>();
  let total = 0;
  const sequence: { label: string; grid: string; seconds: number }[] = [];
  for (const d of recorded) {
    const s = await timeDispatch(engine, d, repeats);
    total += s;
    sequence.push({ label: d.label, grid: d.workgroups.join('x'), seconds: s });
    const row = byKernel.get(d.label) ?? { seconds: 0, count: 0, worst: 0, worstGrid: '' };
    row.seconds += s;
    row.count++;
    if (s > row.worst) {
      row.worst = s;
      row.worstGrid = d.workgroups.join('x');
    }
    byKernel.set(d.label, row);
  }
  const rows = [...byKernel.entries()].sort((a, b) => b[1].seconds - a[1].seconds);
  return { adapter: engine.adapter.name, stepSeconds, total, dispatches: recorded.length, rows, sequence, engine, model };
}

if (process.argv[1]?.endsWith('profile.js')) {
  const args = benchArgs('profile', 'Where a training step spends its GPU time: every dispatch of one step replayed alone and timed, grouped by kernel, heaviest first.', {
    model: { default: 'cnn5', value: 'NAME', help: `model: ${MODEL_NAMES.join(', ')}` },
    batch: { default: '32', value: 'N', help: 'examples per step' },
    adversarial: { boolean: true, help: 'profile an adversarial (FGSM mixed loss) step instead of a standard one' },
    repeats: { default: '2', value: 'N', help: 'submissions of each dispatch; the median is kept' },
    top: { default: '25', value: 'N', help: 'kernels to list' },
    each: { boolean: true, help: 'also list every dispatch in order (label, grid, milliseconds) from 1 ms up' },
  });
  const name = args.choice('model', MODEL_NAMES);
  const batch = args.int('batch');
  const adversarial = args.bool('adversarial');
  const top = args.int('top');
  const p = await profileStep(name, batch, adversarial, args.int('repeats'));
  console.log(`${name} ${adversarial ? 'adversarial' : 'standard'} step, batch ${batch}, on ${p.adapter}`);
  console.log(`whole step ${p.stepSeconds.toFixed(3)} s; ${p.dispatches} dispatches, each alone sums to ${p.total.toFixed(3)} s\n`);
  console.log('| kernel | dispatches | seconds | share | slowest one s | its grid |');
  console.log('|---|---|---|---|---|---|');
  for (const [label, r] of p.rows.slice(0, top)) {
    console.log(`| ${label} | ${r.count} | ${r.seconds.toFixed(3)} | ${((100 * r.seconds) / p.total).toFixed(1)}% | ${r.worst.toFixed(4)} | ${r.worstGrid} |`);
  }
  if (args.bool('each')) {
    console.log('\n| # | kernel | grid | ms |\n|---|---|---|---|');
    p.sequence.forEach((d, i) => {
      if (d.seconds >= 1e-3) console.log(`| ${i} | ${d.label} | ${d.grid} | ${(d.seconds * 1000).toFixed(1)} |`);
    });
  }
  process.exit(0);
}
