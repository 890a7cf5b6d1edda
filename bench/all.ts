// `npm run bench`: every benchmark in one run, one after another (never in parallel: the
// machines are small), then one Markdown report and one JSON file in bench/results/.
//   npm run bench [-- --quick]    (--quick: smaller batches and fewer runs)
import { spawnSync } from 'node:child_process';
import { writeFileAtomic } from '../src/io/atomic.js';
import { benchArgs } from './lib.js';

const args = benchArgs('all', 'Every benchmark, one after another, then one Markdown report and one JSON file in bench/results/ (npm run bench [-- --quick]).', {
  quick: { boolean: true, help: 'smaller batches and fewer runs' },
});
const quick = args.bool('quick');
const steps: { name: string; script: string; args: string[] }[] = [
  { name: 'What a load costs', script: 'dist/bench/load-cost.js', args: [] },
  { name: 'Kernels and adapter peaks', script: 'dist/bench/kernels.js', args: ['--runs', quick ? '3' : '5'] },
  { name: 'Convolution layers', script: 'dist/bench/conv2d.js', args: ['--batch', quick ? '8' : '32', '--runs', quick ? '2' : '3'] },
  { name: 'Front end', script: 'dist/bench/frontend.js', args: [] },
  { name: 'Resampling to 16 kHz', script: 'dist/bench/resample.js', args: ['--runs', quick ? '1' : '3'] },
  { name: 'Training steps, CNN-5', script: 'dist/bench/train-step.js', args: ['--models', 'cnn5', '--batch', quick ? '8' : '32', '--steps', quick ? '2' : '3', '--out', 'bench/results/train-step-cnn5.json'] },
  // ResNet-50 and VGG-16 steps take minutes on a software adapter: one timed step after the warm-up.
  ...(quick ? [] : [{ name: 'Training steps, ResNet-50 and VGG-16', script: 'dist/bench/train-step.js', args: ['--models', 'resnet50,vgg16', '--batch', '32', '--steps', '1', '--out', 'bench/results/train-step-large.json'] }]),
  { name: 'Where a CNN-5 training step spends its time', script: 'dist/bench/profile.js', args: ['--model', 'cnn5', '--batch', quick ? '8' : '32'] },
  // Medians of 5 steps for ours and PyTorch (one step varies by up to 1.7x); TF.js takes
  // minutes per step at batch 32 on llvmpipe: one timed step after its warm-up.
  { name: 'Peers (PyTorch CPU, TensorFlow.js WebGPU)', script: 'dist/bench/peers.js', args: ['--batch', quick ? '4' : '32', '--steps', quick ? '2' : '5', '--tfjs-steps', '1'] },
];

const sections: string[] = [`# Benchmarks (${new Date().toISOString()})`, ''];
const summary: { name: string; ok: boolean; seconds: number }[] = [];
for (const s of steps) {
  console.error(`\n== ${s.name}: node ${s.script} ${s.args.join(' ')}`);
  const t0 = Date.now();
  const r = spawnSync(process.execPath, [s.script, ...s.args], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 2 ** 20, // past the limit Node kills the child
    env: { ...process.env, EGL_PLATFORM: 'surfaceless' },
  });
  const ok = r.status === 0;
  const failure = r.error ? r.error.message : r.signal ? `killed by ${r.signal}` : `exit ${r.status}`;
  process.stdout.write(r.stdout ?? '');
  sections.push(`## ${s.name}`, '', `\`node ${s.script} ${s.args.join(' ')}\`${ok ? '' : ` — failed (${failure})`}`, '', (r.stdout ?? '').trim(), '');
  summary.push({ name: s.name, ok, seconds: (Date.now() - t0) / 1000 });
}
writeFileAtomic('bench/results/all.md', sections.join('\n'));
writeFileAtomic('bench/results/all.json', JSON.stringify({ date: new Date().toISOString(), quick, summary }, null, 1));
console.error(`\nwrote bench/results/all.md (${summary.filter((s) => s.ok).length}/${summary.length} benchmarks ran)`);
process.exit(summary.every((s) => s.ok) ? 0 : 1);
