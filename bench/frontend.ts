// Front-end throughput on the real corpora in ../shared/data (or SER_DATA): hours of
// audio turned into log-Mel features per second of wall time, the GPU front end
// (src/audio/frontend.ts) against the plain TypeScript CPU implementation of the same
// recipe (cpuLogMel in src/audio/reference.ts: float64 real FFT, sparse Mel sums).
// Both start from the same 16 kHz waveforms in memory; WAV decoding and resampling
// (CPU, shared by both) are timed on their own line. GPU times include the upload of
// the waveforms and, for logMel, the readback of the features. Median of --runs timed
// runs after one warm-up.
//
//   node scripts/build.mjs && node dist/bench/frontend.js [--runs 3] [--fit resize|crop|none] [--limit N]
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { createNodeEngine } from '../src/gpu/node.js';
import { FrontEnd, loadUtterance } from '../src/audio/frontend.js';
import { cpuLogMel, type Fit } from '../src/audio/reference.js';
import { benchArgs } from './lib.js';

function wavFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir).sort()) {
    const p = join(dir, e);
    if (statSync(p).isDirectory()) out.push(...wavFiles(p));
    else if (/\.wav$/i.test(e)) out.push(p);
  }
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

async function timeRuns(runs: number, fn: () => Promise<unknown>): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    const t0 = performance.now();
    await fn();
    if (r > 0) times.push((performance.now() - t0) / 1000);
  }
  return median(times);
}

async function main(): Promise<void> {
  const args = benchArgs('frontend', 'Front-end throughput on the real corpora in ../shared/data (or SER_DATA): hours of audio turned into log-Mel features per second, GPU against the CPU TypeScript implementation.', {
    runs: { default: '3', value: 'N', help: 'timed runs after one warm-up; the median is reported' },
    fit: { default: 'resize', value: 'resize|crop|none', help: 'how utterances are fitted to 373 frames (none: every frame)' },
    limit: { default: '0', value: 'N', help: 'use only the first N WAV files (0: all)' },
  });
  const runs = args.int('runs');
  const fit = args.choice<Fit>('fit', ['resize', 'crop', 'none']);
  const limit = args.int('limit', 0);
  const data = process.env.SER_DATA ?? resolve('../shared/data');
  if (!existsSync(data)) {
    console.log(`front-end bench skipped: ${data} not found (set SER_DATA to the folder of real corpora)`);
    return;
  }
  let files = wavFiles(data);
  if (limit > 0) files = files.slice(0, limit);

  const t0 = performance.now();
  const signals: Float32Array[] = [];
  for (const f of files) signals.push(await loadUtterance(f));
  const loadSeconds = (performance.now() - t0) / 1000;
  const hours = signals.reduce((n, x) => n + x.length, 0) / 16000 / 3600;

  const engine = await createNodeEngine();
  const fe = new FrontEnd(engine, { fit });
  let gpuOut: Float32Array[] = [];
  const gpuRead = await timeRuns(runs, async () => {
    gpuOut = await fe.logMel(signals);
  });
  const gpuTensor = fit === 'none' ? NaN : await timeRuns(runs, async () => {
    const t = fe.logMelTensor(signals);
    await engine.sync();
    t.dispose();
  });
  let cpuOut: Float32Array[] = [];
  const cpu = await timeRuns(runs, async () => {
    cpuOut = cpuLogMel(signals, { fit });
  });
  let worst = 0;
  gpuOut.forEach((g, i) => g.forEach((v, j) => (worst = Math.max(worst, Math.abs(v - cpuOut[i][j])))));

  const row = (name: string, s: number) => `| ${name} | ${s.toFixed(3)} | ${(hours / s).toFixed(2)} | ${(cpu / s).toFixed(2)}x |`;
  console.log(`\nFront end on ${files.length} files from ${data}: ${(hours * 60).toFixed(1)} min of audio at 16 kHz, fit '${fit}'`);
  console.log(`adapter: ${engine.adapter.name} (${engine.adapter.backend}, ${engine.adapter.kind}); median of ${runs} runs after a warm-up\n`);
  console.log('| implementation | wall s | hours of audio / s | vs CPU |');
  console.log('|---|---|---|---|');
  console.log(row('GPU FrontEnd.logMel (upload + kernels + readback)', gpuRead));
  if (!Number.isNaN(gpuTensor)) console.log(row('GPU FrontEnd.logMelTensor (upload + kernels, stays on GPU)', gpuTensor));
  console.log(row('CPU TypeScript (float64 real FFT)', cpu));
  console.log(`| WAV decode + resample to 16 kHz (CPU, once) | ${loadSeconds.toFixed(3)} | ${(hours / loadSeconds).toFixed(2)} | - |`);
  console.log(`\nGPU vs CPU: ${(cpu / gpuRead).toFixed(2)}x (logMel); max |GPU - CPU| on the [0, 1] scale: ${worst.toExponential(2)}`);
  fe.dispose();
  engine.destroy();
}

await main();
