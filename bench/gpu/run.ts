// The GPU benchmark's driver (bench/gpu/README.md): runs each part as its own process with a
// timeout cut from one time budget (a part that fails or runs out of time is reported and the
// rest go on), then writes gpu-bench.md (one Markdown table, bench/gpu/table.ts),
// gpu-bench.json (every part's raw JSON) and gpu-bench.log (every part's output) to --out.
// bench/gpu/run.sh sets up the packed Node and loaders and starts this; on a machine with Node
// and a GPU it also runs alone:
//   node scripts/build.mjs && node dist/bench/gpu/run.js [--out DIR] [--budget 420] [--dry-run]
import { spawn, spawnSync } from 'node:child_process';
import { appendFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchArgs } from '../lib.js';
import { ADAPTER_CHOICES } from '../../src/gpu/node.js';
import { gpuBenchTable, type GpuBenchRaw, type PartResult } from './table.js';

/** One part: a command, the longest it may take, and where its JSON result comes from. */
export interface PartSpec {
  id: string;
  title: string;
  cmd: string;
  args: string[];
  /** Seconds it may take at most (less when the budget runs short). */
  cap: number;
  /** A file the part writes its JSON to, 'stdout' (its standard output is JSON), or 'text' (its standard output, kept as a string). */
  json?: string;
  env?: Record<string, string>;
  /** A command that may be absent here (nvidia-smi): then the part is skipped, not failed. */
  optional?: boolean;
}

/**
 * Runs `spec` in its own process group, its output appended to `log`; kills the group after
 * `timeout` seconds (SIGTERM, then SIGKILL 3 s later). Never throws: the outcome is in the result.
 */
export function runPart(spec: PartSpec, timeout: number, log: string): Promise<PartResult> {
  const command = [spec.cmd, ...spec.args].join(' ');
  appendFileSync(log, `\n== ${spec.title}: ${command} (timeout ${timeout.toFixed(0)} s)\n`);
  const t0 = performance.now();
  return new Promise((done) => {
    let stdout = '';
    let tail = '';
    let timedOut = false;
    let finished = false;
    const child = spawn(spec.cmd, spec.args, { detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...spec.env } });
    const keep = (chunk: Buffer, isStdout: boolean) => {
      const text = chunk.toString();
      appendFileSync(log, text);
      tail = (tail + text).slice(-4000);
      if (isStdout && stdout.length < 1 << 22) stdout += text;
    };
    child.stdout.on('data', (c: Buffer) => keep(c, true));
    child.stderr.on('data', (c: Buffer) => keep(c, false));
    const kill = (sig: NodeJS.Signals) => {
      try {
        process.kill(-child.pid!, sig);
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill('SIGTERM');
      setTimeout(() => kill('SIGKILL'), 3000).unref();
    }, timeout * 1000);
    const lastLine = () => tail.split('\n').filter((l) => l.trim()).at(-1)?.trim() ?? '';
    const finish = (status: PartResult['status'], reason?: string, json?: unknown) => {
      // 'error' (a command that cannot start) is followed by 'close': report once.
      if (finished) return;
      finished = true;
      clearTimeout(timer);
      const seconds = (performance.now() - t0) / 1000;
      appendFileSync(log, `== ${spec.title}: ${status}${reason ? ` (${reason})` : ''} after ${seconds.toFixed(1)} s\n`);
      done({ id: spec.id, title: spec.title, command, status, seconds, reason, json, ...(status === 'ok' ? {} : { tail }) });
    };
    child.on('error', (e) => {
      if (spec.optional && (e as NodeJS.ErrnoException).code === 'ENOENT') finish('skipped', `no ${spec.cmd} on this machine`);
      else finish('failed', `cannot start ${spec.cmd}: ${e.message}`);
    });
    // What a part that was cut short had written so far (bench/conv2d.ts writes after each layer).
    const partial = () => {
      try {
        return spec.json && spec.json !== 'stdout' && spec.json !== 'text' && existsSync(spec.json) ? JSON.parse(readFileSync(spec.json, 'utf8')) : undefined;
      } catch {
        return undefined;
      }
    };
    child.on('close', (code, signal) => {
      if (timedOut) return finish('timed out', `killed after the part's ${timeout.toFixed(0)} s`, partial());
      if (code !== 0) return finish('failed', `exit ${code ?? signal}: ${lastLine()}`, partial());
      if (!spec.json) return finish('ok');
      if (spec.json === 'text') return finish('ok', undefined, stdout.trim());
      try {
        finish('ok', undefined, JSON.parse(spec.json === 'stdout' ? stdout : readFileSync(spec.json, 'utf8')));
      } catch (e) {
        finish('failed', `no JSON result: ${(e as Error).message}`);
      }
    });
  });
}

/** Runs the parts in order within `budget` seconds from `start` (ms, performance.now()); parts with under `least` seconds left are skipped. */
export async function runParts(specs: PartSpec[], budget: number, log: string, start = performance.now(), least = 15): Promise<PartResult[]> {
  const results: PartResult[] = [];
  for (const spec of specs) {
    const left = budget - (performance.now() - start) / 1000;
    if (left < least) {
      results.push({ id: spec.id, title: spec.title, command: [spec.cmd, ...spec.args].join(' '), status: 'skipped', seconds: 0, reason: `${Math.max(0, left).toFixed(0)} s left of the ${budget} s budget` });
      continue;
    }
    const r = await runPart(spec, Math.min(spec.cap, left), log);
    console.error(`gpu-bench: ${spec.title}: ${r.status} after ${r.seconds.toFixed(1)} s${r.reason ? ` (${r.reason})` : ''}`);
    results.push(r);
  }
  return results;
}

/** Every layer of bench/conv2d.ts (its default leaves out ResNet-50's); bench/gpu/pytorch_gpu.py times the same. */
const CONV_LAYERS = 'cnn5-1,cnn5-2,cnn5-3,cnn5-4,cnn5-5,vgg-1,vgg-2,resnet-1,resnet-2,resnet-3,resnet-4';

/** A Python that imports torch: SER_PYTHON, python3, then Debian's /usr/bin/python3. */
function pythonWithTorch(): string | null {
  const candidates = [process.env.SER_PYTHON, 'python3', '/usr/bin/python3'].filter((c): c is string => !!c);
  return candidates.find((c) => spawnSync(c, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0) ?? null;
}

async function main(): Promise<void> {
  const args = benchArgs('gpu/run', "The GPU benchmark: kernels, convolution layers and training steps (CNN-5, VGG-16, ResNet-50 at batch 32) on a hardware adapter beside PyTorch on the same card, in one time budget; writes gpu-bench.md, gpu-bench.json and gpu-bench.log.", {
    out: { default: process.env.OUT || 'bench/results/gpu', value: 'DIR', help: 'folder for gpu-bench.md, .json and .log (default $OUT, else bench/results/gpu)' },
    budget: { default: '420', value: 'S', help: 'seconds for all parts together; each part also has its own cap' },
    'dry-run': { boolean: true, help: 'small settings (batch 2, CNN-5 only, 1 step, adapter auto, PyTorch on CPU without CUDA): checks the pipeline, not speed' },
    adapter: { value: 'NAME', help: `our adapter: ${ADAPTER_CHOICES.join(', ')} (default gpu; dry run: auto)` },
  });
  const dry = args.bool('dry-run');
  const out = args.str('out');
  const budget = args.int('budget', 10);
  const adapter = args.given('adapter') ? args.choice('adapter', ADAPTER_CHOICES) : dry ? 'auto' : 'gpu';
  mkdirSync(out, { recursive: true });
  const log = join(out, 'gpu-bench.log');
  writeFileSync(log, `ser-webgpu GPU benchmark ${new Date().toISOString()}${dry ? ' (dry run)' : ''}\n`);
  const tmp = mkdtempSync(join(tmpdir(), 'ser-gpu-bench-'));
  const start = performance.now();
  const node = process.execPath;
  const script = (rel: string) => fileURLToPath(new URL(rel, import.meta.url));
  const oursEnv = { SER_ADAPTER: adapter, EGL_PLATFORM: process.env.EGL_PLATFORM ?? 'surfaceless' };
  const batch = dry ? '2' : '32';

  // The card and our adapter first: without a hardware adapter our parts are not run.
  const host = await runParts([{ id: 'host', title: 'nvidia-smi', cmd: 'nvidia-smi', args: ['--query-gpu=name,driver_version,memory.total,clocks.max.sm,power.limit', '--format=csv,noheader'], cap: 15, json: 'text', optional: true }], budget, log, start);
  const gpuName = typeof host[0].json === 'string' && host[0].json ? host[0].json.split(',')[0].trim() : undefined;
  const adapterSpec = (choice: string, id = 'adapter'): PartSpec => ({ id, title: `adapter (${choice})`, cmd: node, args: [script('../../src/cli/main.js'), 'adapter', '--json'], cap: 40, json: 'stdout', env: { ...oursEnv, SER_ADAPTER: choice, SER_DAWN_LOG: '1' } });
  const parts: PartResult[] = [...host, ...(await runParts([adapterSpec(adapter)], budget, log, start))];
  let info = parts.at(-1)!.json as GpuBenchRaw['adapter'];
  let glInfo: GpuBenchRaw['adapter'];
  if (!info && adapter === 'gpu') {
    // Vulkan found no GPU: NVIDIA's OpenGL through EGL may still give one (Dawn's GL backend).
    const gl = (await runParts([adapterSpec('llvmpipe', 'adapter-gl')], budget, log, start))[0];
    parts.push(gl);
    glInfo = gl.json as GpuBenchRaw['adapter'];
    if (glInfo?.kind === 'gpu') {
      info = glInfo;
      oursEnv.SER_ADAPTER = 'llvmpipe'; // the choice that reaches the GL backend; the adapter is the GPU's
    }
  }
  // A software adapter is benchmarked only when asked for (a dry run, or --adapter given).
  const oursOk = !!info && (dry || info.kind === 'gpu' || args.given('adapter'));

  const python = pythonWithTorch();
  const torchPart: PartSpec = {
    id: 'pytorch',
    title: 'PyTorch (same steps, same card)',
    cmd: python ?? 'python3',
    args: dry
      ? ['bench/gpu/pytorch_gpu.py', '--device', 'auto', '--batch', batch, '--models', 'cnn5', '--steps', '1', '--layers', 'cnn5-2', '--runs', '1', '--repeat', '1', '--matmul', '512', '--threads', '2', '--out', join(tmp, 'pytorch.json')]
      : ['bench/gpu/pytorch_gpu.py', '--device', 'cuda', '--batch', batch, '--out', join(tmp, 'pytorch.json')],
    cap: dry ? 120 : 100,
    json: join(tmp, 'pytorch.json'),
    env: { PYTHONUNBUFFERED: '1' },
  };
  const ours: PartSpec[] = [
    {
      id: 'kernels',
      title: 'kernels and peaks (bench/kernels.ts)',
      cmd: node,
      args: [script('../kernels.js'), '--batch', batch, '--runs', dry ? '1' : '7', '--repeat', dry ? '1' : '5', '--peak-scale', dry ? '1' : '16', '--out', join(tmp, 'kernels.json')],
      cap: dry ? 120 : 60,
      json: join(tmp, 'kernels.json'),
      env: oursEnv,
    },
    {
      id: 'conv2d',
      title: 'convolution layers (bench/conv2d.ts)',
      cmd: node,
      args: [script('../conv2d.js'), '--batch', batch, '--runs', dry ? '1' : '5', '--repeat', dry ? '1' : '3', '--layers', dry ? 'cnn5-2' : CONV_LAYERS, '--out', join(tmp, 'conv2d.json')],
      cap: dry ? 120 : 100,
      json: join(tmp, 'conv2d.json'),
      env: oursEnv,
    },
    ...(dry ? [['cnn5', '1', 180] as const] : ([['cnn5', '10', 50], ['resnet50', '5', 75], ['vgg16', '3', 75]] as const)).map(([model, steps, cap]) => ({
      id: `train-${model}`,
      title: `${model} training steps and inference (bench/train-step.ts)`,
      cmd: node,
      args: [script('../train-step.js'), '--models', model, '--batch', batch, '--steps', steps, '--out', join(tmp, `train-${model}.json`)],
      cap,
      json: join(tmp, `train-${model}.json`),
      env: oursEnv,
    })),
  ];
  if (python) parts.push(...(await runParts([torchPart], budget, log, start)));
  else parts.push({ id: 'pytorch', title: torchPart.title, command: 'python3 bench/gpu/pytorch_gpu.py', status: 'skipped', seconds: 0, reason: "no Python with PyTorch (python3 -c 'import torch' fails; SER_PYTHON names one)" });
  if (oursOk) parts.push(...(await runParts(ours, budget, log, start)));
  else for (const s of ours) parts.push({ id: s.id, title: s.title, command: [s.cmd, ...s.args].join(' '), status: 'skipped', seconds: 0, reason: info ? `the adapter is ${info.adapter} (${info.kind}), not a GPU` : `no GPU adapter${glInfo ? ` (OpenGL gave only ${glInfo.adapter}, ${glInfo.kind})` : ''}: see the adapter parts in gpu-bench.log` });

  const raw: GpuBenchRaw = { date: new Date().toISOString(), dryRun: dry, budgetSeconds: budget, gpuName, adapter: info, parts };
  writeFileSync(join(out, 'gpu-bench.json'), JSON.stringify(raw, null, 1));
  const table = gpuBenchTable(raw);
  writeFileSync(join(out, 'gpu-bench.md'), table);
  rmSync(tmp, { recursive: true, force: true });
  console.log(table);
  const ok = parts.filter((p) => p.status === 'ok').length;
  console.error(`gpu-bench: ${ok} of ${parts.length} parts ran; wrote ${join(out, 'gpu-bench.md')}, gpu-bench.json and gpu-bench.log in ${(performance.now() - start) / 1000 | 0} s`);
}

if (process.argv[1]?.endsWith(join('gpu', 'run.js')) && existsSync(process.argv[1])) {
  await main();
  process.exit(0);
}
