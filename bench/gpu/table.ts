// The GPU benchmark's one Markdown table (bench/gpu/README.md), made from its raw JSON
// (gpu-bench.json): ours beside PyTorch on the same card, per kernel, convolution layer and
// training step, with our rate as a fraction of the adapter's measured arithmetic peak (our
// register-FMA kernel, bench/shaders/fma_peak.wgsl) and of the card's datasheet float32 peak.
// Pure functions, no GPU: test/gpu-bench.test.ts checks them on a fixture.
import type { Timing } from '../lib.js';

/** One part of the run: a command, how it ended, and the JSON it wrote. */
export interface PartResult {
  id: string;
  title: string;
  command: string;
  status: 'ok' | 'failed' | 'timed out' | 'skipped';
  seconds: number;
  /** Why it failed or was skipped, one line. */
  reason?: string;
  /** The end of its output (stdout and stderr), when it did not succeed. */
  tail?: string;
  json?: unknown;
}

export interface GpuBenchRaw {
  date: string;
  dryRun: boolean;
  budgetSeconds: number;
  /** `nvidia-smi` name of the card, if any. */
  gpuName?: string;
  /** `ser adapter --json`. */
  adapter?: { adapter: string; backend: string; kind: string; features?: string[] };
  parts: PartResult[];
}

/** A card's float32 peak (non-tensor) and memory bandwidth from its vendor's datasheet. */
export interface Datasheet {
  card: string;
  fp32Gflops: number;
  gbps: number;
  source: string;
}

// NVIDIA H200 (SXM) datasheet, nvidia.com/en-us/data-center/h200: FP32 67 TFLOPS, 4.8 TB/s HBM3e
// (the FP32 rate is the H100 SXM's: same Hopper chip). Tensor-core rates do not apply: ours and
// PyTorch here both run plain float32 (TF32 off).
export const DATASHEETS: { match: RegExp; sheet: Datasheet }[] = [
  { match: /H200/i, sheet: { card: 'NVIDIA H200', fp32Gflops: 67_000, gbps: 4_800, source: 'NVIDIA H200 SXM datasheet: FP32 67 TFLOPS (non-tensor), HBM3e 4.8 TB/s' } },
];

export function datasheetFor(name: string | undefined): Datasheet | undefined {
  return name ? DATASHEETS.find((d) => d.match.test(name))?.sheet : undefined;
}

interface KernelRow {
  bench: string;
  case: string;
  seconds: Timing;
  flop?: number;
  bytes?: number;
}
interface ConvRow {
  layer: string;
  name?: string;
  variant?: string;
  x: number[];
  w: number[];
  flop: number;
  seconds: Record<'forward' | 'inputGrad' | 'weightGrad', number | Timing>;
}
interface TorchJson {
  version: string;
  device: string;
  peaks: { case: string; seconds: Timing; flop?: number; bytes?: number }[];
  kernels: { case: string; seconds: Timing; flop?: number }[];
  layers: ConvRow[];
  steps: { model: string; case: string; seconds: Timing }[];
  errors: string[];
}

const median = (s: number | Timing | undefined) => (s === undefined ? undefined : typeof s === 'number' ? s : s.median);
// A part's JSON, also what one that was cut short had written (its rows so far).
const part = (raw: GpuBenchRaw, id: string) => raw.parts.find((p) => p.id === id && p.json)?.json;
const partsLike = (raw: GpuBenchRaw, prefix: string) => raw.parts.filter((p) => p.id.startsWith(prefix) && p.json);

/** Milliseconds with 3 significant digits. */
export function ms(seconds: number | undefined): string {
  if (seconds === undefined || !Number.isFinite(seconds)) return '-';
  const v = seconds * 1000;
  return v >= 100 ? v.toFixed(0) : v.toPrecision(3);
}
/** A rate in the unit that reads best: GFLOP/s below 1000, TFLOP/s above (likewise GB/s, TB/s). */
export function rate(amount: number | undefined, seconds: number | undefined, unit: 'FLOP' | 'B'): string {
  if (!amount || !seconds) return '-';
  const g = amount / seconds / 1e9;
  const [big, small] = unit === 'FLOP' ? ['TFLOP/s', 'GFLOP/s'] : ['TB/s', 'GB/s'];
  return g >= 1000 ? `${(g / 1000).toPrecision(3)} ${big}` : `${g.toPrecision(3)} ${small}`;
}
const pct = (x: number | undefined) => (x === undefined || !Number.isFinite(x) ? '-' : x >= 0.1 ? `${(100 * x).toFixed(0)}%` : `${(100 * x).toFixed(1)}%`);
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined || !b ? '-' : `${(a / b).toFixed(2)}x`);
const same = (a: number[] | undefined, b: number[] | undefined) => !!a && !!b && a.length === b.length && a.every((v, i) => v === b[i]);

interface Line {
  part: string;
  case: string;
  ours?: number;
  oursNote?: string;
  flop?: number;
  bytes?: number;
  torch?: number;
}

/**
 * The Markdown report: a header (adapter, card, peaks and their sources), one table with a
 * row per measured case, and the parts that failed or were skipped. Every figure comes from
 * `raw`; a missing side shows '-'.
 */
export function gpuBenchTable(raw: GpuBenchRaw): string {
  const kernels = part(raw, 'kernels') as { rows: KernelRow[]; peak?: { gflops: number; gbps: number } } | undefined;
  const conv = part(raw, 'conv2d') as { rows: ConvRow[] } | undefined;
  const torch = part(raw, 'pytorch') as TorchJson | undefined;
  const sheet = datasheetFor(raw.gpuName) ?? datasheetFor(raw.adapter?.adapter);
  const fmaPeak = kernels?.peak?.gflops;
  const copyPeak = kernels?.peak?.gbps;

  const lines: Line[] = [];
  // Kernels (bench/kernels.ts); PyTorch's matmul at the same size beside ours.
  for (const r of kernels?.rows ?? []) {
    const t = torch?.kernels.find((k) => k.case === r.case);
    lines.push({ part: `kernel: ${r.bench}`, case: r.case, ours: r.seconds.median, flop: r.flop, bytes: r.bytes, torch: median(t?.seconds) });
  }
  // Convolution layers (bench/conv2d.ts): our fastest variant per pass, the others in the note.
  const passes = [
    ['forward', 'forward'],
    ['inputGrad', 'input grad'],
    ['weightGrad', 'weight grad'],
  ] as const;
  const layerIds = [...new Set([...(conv?.rows ?? []).map((r) => r.layer), ...(torch?.layers ?? []).map((r) => r.layer)])];
  for (const id of layerIds) {
    const ours = (conv?.rows ?? []).filter((r) => r.layer === id);
    const t = torch?.layers.find((r) => r.layer === id);
    const ref = ours[0] ?? t!;
    const shapesAgree = ours.length === 0 || !t || (same(ours[0].x, t.x) && same(ours[0].w, t.w));
    for (const [key, label] of passes) {
      const byVariant = ours.map((r) => ({ variant: r.variant ?? '', s: median(r.seconds[key]) })).filter((v) => v.s !== undefined) as { variant: string; s: number }[];
      byVariant.sort((a, b) => a.s - b.s);
      const best = byVariant[0];
      const others = byVariant.slice(1).map((v) => `${v.variant} ${ms(v.s)} ms`);
      const note = [best ? `${best.variant}` : '', ...others, shapesAgree ? '' : 'PyTorch shapes differ: not compared'].filter(Boolean).join('; ');
      lines.push({
        part: 'conv layer',
        case: `${ref.name ?? id} ${label} [${ref.x.join(',')}]`,
        ours: best?.s,
        oursNote: note,
        flop: ref.flop,
        torch: shapesAgree ? median(t?.seconds[key]) : undefined,
      });
    }
  }
  // Training steps and inference (bench/train-step.ts), one part per model.
  for (const p of partsLike(raw, 'train-')) {
    for (const r of (p.json as { rows: KernelRow[] }).rows) {
      const model = r.case.split(' ')[0];
      const kind = r.bench === 'inference' ? 'forward' : /adversarial/.test(r.case) ? 'adversarial' : 'standard';
      const t = torch?.steps.find((s) => s.model === model && s.case === kind);
      lines.push({ part: r.bench, case: r.case, ours: r.seconds.median, flop: r.flop, torch: median(t?.seconds) });
    }
  }
  // PyTorch's steps for models whose part of ours did not finish still show.
  for (const s of torch?.steps ?? []) {
    const shown = lines.some((l) => l.case.startsWith(`${s.model} `) && (s.case === 'forward' ? l.part === 'inference' : l.case.includes(s.case)));
    if (!shown) lines.push({ part: s.case === 'forward' ? 'inference' : 'train step', case: `${s.model} ${s.case} batch ${(torch as unknown as { batch?: number }).batch ?? '?'} (ours: no result)`, torch: s.seconds.median });
  }

  const out: string[] = [];
  out.push(`# ser-webgpu on ${raw.gpuName ?? raw.adapter?.adapter ?? 'an unknown adapter'}${raw.dryRun ? ' (dry run: small sizes, figures not meaningful)' : ''}`, '');
  out.push(`- date: ${raw.date}; budget ${raw.budgetSeconds} s; parts took ${raw.parts.reduce((s, p) => s + p.seconds, 0).toFixed(0)} s`);
  out.push(`- ours: ${raw.adapter ? `${raw.adapter.adapter} (${raw.adapter.backend}, ${raw.adapter.kind})` : 'no adapter'}; PyTorch: ${torch ? `${torch.version}, ${torch.device}` : 'no result'}`);
  out.push(`- peaks: our register-FMA kernel ${fmaPeak ? rate(fmaPeak * 1e9, 1, 'FLOP') : '-'}, our buffer copy ${copyPeak ? rate(copyPeak * 1e9, 1, 'B') : '-'} (bench/kernels.ts)${sheet ? `; datasheet ${rate(sheet.fp32Gflops * 1e9, 1, 'FLOP')} float32, ${rate(sheet.gbps * 1e9, 1, 'B')} (${sheet.source})` : '; datasheet: none known for this card'}`);
  for (const p of torch?.peaks ?? []) out.push(`- PyTorch ${p.case}: ${ms(p.seconds.median)} ms, ${p.flop ? rate(p.flop, p.seconds.median, 'FLOP') : rate(p.bytes, p.seconds.median, 'B')}`);
  out.push('- "of FMA peak" / "of datasheet": our FLOP rate over those peaks (bandwidth rows: GB/s over our copy rate / the datasheet bandwidth); "ours / PyTorch": time ratio, below 1 means ours is faster', '');
  out.push('| part | case | ours ms | ours rate | of FMA peak | of datasheet | PyTorch ms | PyTorch rate | ours / PyTorch | note |');
  out.push('|---|---|---|---|---|---|---|---|---|---|');
  for (const l of lines) {
    const isFlop = !!l.flop;
    const oursRate = isFlop ? rate(l.flop, l.ours, 'FLOP') : rate(l.bytes, l.ours, 'B');
    const g = l.ours && (l.flop || l.bytes) ? (l.flop ?? l.bytes)! / l.ours / 1e9 : undefined;
    const ofPeak = g === undefined ? undefined : isFlop ? (fmaPeak ? g / fmaPeak : undefined) : copyPeak ? g / copyPeak : undefined;
    const ofSheet = g === undefined || !sheet ? undefined : g / (isFlop ? sheet.fp32Gflops : sheet.gbps);
    const torchRate = isFlop ? rate(l.flop, l.torch, 'FLOP') : '-';
    out.push(`| ${l.part} | ${l.case} | ${ms(l.ours)} | ${oursRate} | ${pct(ofPeak)} | ${pct(ofSheet)} | ${ms(l.torch)} | ${torchRate} | ${ratio(l.ours, l.torch)} | ${l.oursNote ?? ''} |`);
  }
  const bad = raw.parts.filter((p) => p.status !== 'ok');
  const torchErrors = torch?.errors ?? [];
  if (bad.length || torchErrors.length) {
    out.push('', 'Not measured:');
    for (const p of bad) out.push(`- ${p.title}: ${p.status}${p.reason ? ` (${p.reason})` : ''} after ${p.seconds.toFixed(0)} s${p.json ? '; the rows it finished are in the table' : ''}`);
    for (const e of torchErrors) out.push(`- PyTorch ${e}`);
  }
  return out.join('\n') + '\n';
}
