// Our training step side by side with its peers, in one run on the same machine: PyTorch on
// the CPU (bench/peers/pytorch_step.py) and TensorFlow.js on WebGPU through Dawn, on the
// adapter ours uses (bench/peers/tfjs/cnn5_step.mjs). Same model, batch, input shape and
// step (forward + backward + Adam; adversarial = FGSM mixed loss). Prints seconds per step
// and the ratios, writes bench/results/peers.json. A peer that is not installed is skipped
// with the command that installs it.
// --steps timed steps (after one warm-up) for ours and PyTorch, --tfjs-steps for TF.js,
// which takes minutes per step on a software adapter; medians are compared.
//   node scripts/build.mjs && node dist/bench/peers.js [--batch 8] [--steps 2] [--tfjs-steps 1] [--model cnn5] [--peers pytorch,tfjs]
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { MODEL_NAMES } from '../src/models/index.js';
import { benchTrainSteps } from './train-step.js';
import { markdown, saveResults, benchArgs, type BenchRow, type Timing } from './lib.js';

const SOFTWARE = /llvmpipe|swiftshader|lavapipe|softpipe/i;

interface PeerResult {
  peer: string;
  version: string;
  device: string;
  model: string;
  batch: number;
  rows: { case: string; seconds: Timing }[];
}

type PeerOutcome = { ok: true; result: PeerResult } | { ok: false; reason: string };

/** Runs a peer, its progress on our stderr, and parses the one JSON line it prints. */
function runPeer(cmd: string, args: string[]): PeerOutcome {
  const r = spawnSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 20 });
  if (r.error) return { ok: false, reason: `${cmd} failed to start: ${r.error.message}` };
  if (r.status !== 0) return { ok: false, reason: `${cmd} ${args[0]} exited with status ${r.status}` };
  const line = r.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return { ok: true, result: JSON.parse(line) as PeerResult };
  } catch {
    return { ok: false, reason: `${cmd} ${args[0]} printed no JSON result` };
  }
}

/** A Python that can import torch: SER_PYTHON, python3, or Debian's own (pyenv may shadow it). */
function pythonWithTorch(): string | null {
  const candidates = [process.env.SER_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}

function pytorchPeer(model: string, batch: number, steps: number): PeerOutcome {
  const python = pythonWithTorch();
  if (!python) return { ok: false, reason: "PyTorch is not installed (python3 -c 'import torch' fails): apt-get install -y python3-torch" };
  return runPeer(python, ['bench/peers/pytorch_step.py', '--model', model, '--batch', String(batch), '--steps', String(steps), '--warmup', '1', '--threads', '2']);
}

function tfjsPeer(model: string, batch: number, steps: number, oursAdapter: string): PeerOutcome {
  if (model !== 'cnn5') return { ok: false, reason: `the TF.js peer implements cnn5 only, not ${model}` };
  if (!existsSync('bench/peers/tfjs/node_modules/@tensorflow/tfjs-backend-webgpu')) {
    return { ok: false, reason: 'TF.js is not installed: npm install --prefix bench/peers/tfjs' };
  }
  const adapter = SOFTWARE.test(oursAdapter) ? 'llvmpipe' : 'gpu';
  return runPeer(process.execPath, ['bench/peers/tfjs/cnn5_step.mjs', '--batch', String(batch), '--steps', String(steps), '--warmup', '1', '--adapter', adapter]);
}

function peerRows(r: PeerResult): BenchRow[] {
  return r.rows.map((row) => ({
    bench: `${r.peer} ${r.version}`,
    case: `${r.model} ${row.case} batch ${r.batch}`,
    adapter: r.device,
    seconds: row.seconds,
  }));
}

const fmt = (s: number | undefined) => (s === undefined ? '-' : s.toPrecision(3));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '-' : `${(a / b).toFixed(2)}x`);

const args = benchArgs('peers', 'Our training step beside PyTorch on the CPU and TensorFlow.js on WebGPU (same model, batch, input and step); seconds per step and ratios. A peer that is not installed is skipped.', {
  batch: { default: '8', value: 'N', help: 'examples per step' },
  steps: { default: '2', value: 'N', help: 'timed steps (after one warm-up) for ours and PyTorch; medians are compared' },
  'tfjs-steps': { default: '1', value: 'N', help: 'timed steps for TF.js (minutes per step on a software adapter)' },
  model: { default: 'cnn5', value: 'NAME', help: `model: ${MODEL_NAMES.join(', ')} (the TF.js peer has cnn5 only)` },
  peers: { default: 'pytorch,tfjs', value: 'LIST', help: 'peers to run, comma-separated' },
  out: { default: 'bench/results/peers.json', value: 'PATH', help: 'JSON file for the results' },
});
const batch = args.int('batch');
const steps = args.int('steps');
const tfjsSteps = args.int('tfjs-steps');
const model = args.choice('model', MODEL_NAMES);
const peers = args.list('peers', ['pytorch', 'tfjs']);

// One after the other, never in parallel: they share the CPU (and llvmpipe runs on it).
const ours = await benchTrainSteps([model], batch, steps);
const oursAdapter = ours[0].adapter;
const outcomes: Record<string, PeerOutcome> = {};
if (peers.includes('pytorch')) outcomes.pytorch = pytorchPeer(model, batch, steps);
if (peers.includes('tfjs')) outcomes.tfjs = tfjsPeer(model, batch, tfjsSteps, oursAdapter);

const rows: BenchRow[] = ours.map((r) => ({ ...r, bench: 'ours (ser-webgpu)' }));
for (const [name, o] of Object.entries(outcomes)) {
  if (o.ok) rows.push(...peerRows(o.result));
  else console.error(`skipped ${name}: ${o.reason}`);
}

const median = (o: PeerOutcome | undefined, c: string) => (o?.ok ? o.result.rows.find((r) => r.case === c)?.seconds.median : undefined);
const summary = ['| case | ours s/step | PyTorch CPU s/step | TF.js WebGPU s/step | ours / PyTorch | TF.js / ours |', '|---|---|---|---|---|---|'];
const ratios: Record<string, { ours?: number; pytorch?: number; tfjs?: number }> = {};
for (const c of ['standard', 'adversarial']) {
  const o = ours.find((r) => r.case.includes(c))?.seconds.median;
  const p = median(outcomes.pytorch, c);
  const t = median(outcomes.tfjs, c);
  ratios[c] = { ours: o, pytorch: p, tfjs: t };
  summary.push(`| ${model} ${c} batch ${batch} | ${fmt(o)} | ${fmt(p)} | ${fmt(t)} | ${ratio(o, p)} | ${ratio(t, o)} |`);
}

console.log(`\n${markdown(rows)}\n\n${summary.join('\n')}\n`);
console.log(`ours on ${oursAdapter}; ${Object.entries(outcomes).map(([n, o]) => `${n}: ${o.ok ? o.result.device : `skipped (${o.reason})`}`).join('; ')}`);
saveResults(args.str('out'), rows, {
  model,
  batch,
  steps,
  tfjsSteps,
  warmup: 1,
  ratios,
  skipped: Object.fromEntries(Object.entries(outcomes).filter(([, o]) => !o.ok).map(([n, o]) => [n, (o as { reason: string }).reason])),
});
process.exit(0);
