// Convolution throughput on the layers of CNN-5, the first of VGG-16 and typical ones of
// ResNet-50 (input N x 1 x 373 x 64): forward, input gradient and weight gradient, in GFLOP/s
// (2*N*O*Ho*Wo*C*kh*kw per pass, the multiply-adds of the direct convolution). Median of
// several timed runs after a warm-up call, whose result is spot-checked against float64.
// --repeat puts several calls into each timed run (for fast GPUs, see bench/gpu/).
//
//   node scripts/build.mjs && node dist/bench/conv2d.js [--batch 32] [--runs 3] [--repeat 1] [--layers cnn5-1,vgg-2] [--variants tiles,rows,gemm] [--out bench/results/conv2d.json]
import { GEMM_VARIANTS, gemmSupport, type GemmVariant } from '../kernels/conv2d-gemm.js';
import { createNodeEngine } from '../src/gpu/node.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { Random } from '../src/util/random.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dGeometry, defaultConvVariant, type Conv2dGeometry, type Conv2dVariant } from '../kernels/conv2d.js';
import { benchArgs } from './lib.js';
import { writeFileAtomic } from '../src/io/atomic.js';

interface Layer {
  id: string;
  name: string;
  /** input [C, H, W] and weight [O, C, k, k]; stride 1 and padding 1 (3x3, "same") unless given */
  x: [number, number, number];
  w: [number, number, number, number];
  stride?: number;
  padding?: number;
}

// Shapes as the models see them: 373 frames x 64 Mel bands, max-pooled 2x2 between CNN-5 blocks.
const LAYERS: Layer[] = [
  { id: 'cnn5-1', name: 'CNN-5 conv1 1->32', x: [1, 373, 64], w: [32, 1, 3, 3] },
  { id: 'cnn5-2', name: 'CNN-5 conv2 32->64', x: [32, 186, 32], w: [64, 32, 3, 3] },
  { id: 'cnn5-3', name: 'CNN-5 conv3 64->128', x: [64, 93, 16], w: [128, 64, 3, 3] },
  { id: 'cnn5-4', name: 'CNN-5 conv4 128->256', x: [128, 46, 8], w: [256, 128, 3, 3] },
  { id: 'cnn5-5', name: 'CNN-5 conv5 256->256', x: [256, 23, 4], w: [256, 256, 3, 3] },
  { id: 'vgg-1', name: 'VGG-16 conv1 1->64', x: [1, 373, 64], w: [64, 1, 3, 3] },
  { id: 'vgg-2', name: 'VGG-16 conv2 64->64', x: [64, 373, 64], w: [64, 64, 3, 3] },
  // ResNet-50 (src/models/resnet50.ts): the 7x7 stem, and stage 1's and stage 2's typical convs.
  { id: 'resnet-1', name: 'ResNet-50 conv1 7x7/2 1->64', x: [1, 373, 64], w: [64, 1, 7, 7], stride: 2, padding: 3 },
  { id: 'resnet-2', name: 'ResNet-50 stage 1 1x1 256->64', x: [256, 94, 16], w: [64, 256, 1, 1], padding: 0 },
  { id: 'resnet-3', name: 'ResNet-50 stage 1 3x3 64->64', x: [64, 94, 16], w: [64, 64, 3, 3] },
  { id: 'resnet-4', name: 'ResNet-50 stage 2 3x3/2 128->128', x: [128, 94, 16], w: [128, 128, 3, 3], stride: 2 },
];

/** Whether the 'rows' family applies (3x3 at stride 1); elsewhere it falls back to 'tiles', so timing it again adds nothing. */
const rowsApplies = (l: Layer) => l.w[2] === 3 && l.w[3] === 3 && (l.stride ?? 1) === 1;

function randomData(rng: Random, shape: readonly number[]): Float32Array {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
  return data;
}

/**
 * Spot check of the three results at full size (this is where batch chunks over binding
 * windows kick in): worst relative error of `samples` random elements against float64.
 */
function spotCheck(rng: Random, g: Conv2dGeometry, x: Float32Array, w: Float32Array, b: Float32Array, dy: Float32Array, got: { y: Float32Array; dx: Float32Array; dw: Float32Array }, samples = 24): number {
  const { N, C, H, W, O, kh, kw, sh, sw, ph, pw, Ho, Wo } = g;
  const xAt = (n: number, c: number, iy: number, ix: number) => (iy < 0 || iy >= H || ix < 0 || ix >= W ? 0 : x[((n * C + c) * H + iy) * W + ix]);
  const dyAt = (n: number, o: number, oy: number, ox: number) => dy[((n * O + o) * Ho + oy) * Wo + ox];
  const wAt = (o: number, c: number, ky: number, kx: number) => w[((o * C + c) * kh + ky) * kw + kx];
  let worst = 0;
  const note = (got: number, want: number) => (worst = Math.max(worst, Math.abs(got - want) / Math.max(1, Math.abs(want))));
  for (let s = 0; s < samples; s++) {
    const [n, o, oy, ox] = [rng.int(N), rng.int(O), rng.int(Ho), rng.int(Wo)];
    let y = b[o];
    for (let c = 0; c < C; c++) for (let ky = 0; ky < kh; ky++) for (let kx = 0; kx < kw; kx++) y += xAt(n, c, oy * sh - ph + ky, ox * sw - pw + kx) * wAt(o, c, ky, kx);
    note(got.y[((n * O + o) * Ho + oy) * Wo + ox], y);
    const [c, iy, ix] = [rng.int(C), rng.int(H), rng.int(W)];
    let dx = 0;
    for (let o2 = 0; o2 < O; o2++)
      for (let ky = 0; ky < kh; ky++)
        for (let kx = 0; kx < kw; kx++) {
          const ty = iy + ph - ky;
          const tx = ix + pw - kx;
          if (ty % sh || tx % sw || ty < 0 || tx < 0 || ty / sh >= Ho || tx / sw >= Wo) continue;
          dx += dyAt(n, o2, ty / sh, tx / sw) * wAt(o2, c, ky, kx);
        }
    note(got.dx[((n * C + c) * H + iy) * W + ix], dx);
    const [ky, kx] = [rng.int(kh), rng.int(kw)];
    let dw = 0;
    for (let n2 = 0; n2 < N; n2++) for (let y2 = 0; y2 < Ho; y2++) for (let x2 = 0; x2 < Wo; x2++) dw += dyAt(n2, o, y2, x2) * xAt(n2, c, y2 * sh - ph + ky, x2 * sw - pw + kx);
    // The weight gradient sums N*Ho*Wo products: compare relative to its scale, sqrt of that count.
    worst = Math.max(worst, Math.abs(got.dw[((o * C + c) * kh + ky) * kw + kx] - dw) / Math.sqrt(N * Ho * Wo));
  }
  return worst;
}

/** Median seconds per call of `runs` timed runs of `repeat` calls of `fn` (warmed up by the caller); each result is disposed. */
async function time(engine: Engine, runs: number, fn: () => Tensor, repeat = 1): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    await engine.sync();
    const t0 = performance.now();
    const outs = Array.from({ length: repeat }, fn);
    await engine.sync();
    const dt = (performance.now() - t0) / 1000 / repeat;
    for (const out of outs) out.dispose();
    times.push(dt);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const args = benchArgs('conv2d', 'Convolution throughput (forward, input grad, weight grad) on the layers of CNN-5 and typical ones of VGG-16 and ResNet-50, input N x 1 x 373 x 64.', {
    batch: { default: '32', value: 'N', help: 'examples per batch' },
    runs: { default: '3', value: 'N', help: 'timed runs per pass, after one warm-up call; the median is reported' },
    repeat: { default: '1', value: 'N', help: 'calls per timed run (the time is per call); more on a fast GPU' },
    out: { default: 'bench/results/conv2d.json', value: 'PATH', help: 'JSON file for the results' },
    // ResNet-50's layers are opt-in, so `npm run bench` on a software adapter takes no longer (bench/gpu/ asks for them).
    layers: { default: LAYERS.filter((l) => !l.id.startsWith('resnet')).map((l) => l.id).join(','), value: 'IDS', help: `layers to time, comma-separated: ${LAYERS.map((l) => l.id).join(', ')}` },
    variants: { value: 'tiles,rows,gemm', help: 'kernel families (default: tiles,rows,gemm, without rows where the adapter cannot compile it; also gemm-subgroups, gemm-f16)' },
    passes: { default: 'forward,input,weight', value: 'LIST', help: "passes to time (the others print '-'): forward, input (gradient), weight (gradient)" },
  });
  const passes = args.list('passes', ['forward', 'input', 'weight']);
  const batch = args.int('batch');
  const runs = args.int('runs');
  const repeat = args.int('repeat');
  const results: Record<string, unknown>[] = [];
  const wanted = args.list('layers', LAYERS.map((l) => l.id));
  const asked = args.given('variants') ? args.list<Conv2dVariant>('variants', ['tiles', 'rows', 'gemm', 'gemm-subgroups', 'gemm-f16']) : undefined;
  const engine = await createNodeEngine();
  // tiles, rows and gemm side by side by default, without rows where the adapter's compiler
  // cannot take its kernels (SwiftShader: see defaultConvVariant); --variants asks explicitly.
  const variants: Conv2dVariant[] = asked ?? (defaultConvVariant(engine) === 'rows' ? ['tiles', 'rows', 'gemm'] : ['tiles', 'gemm']);
  // A variant this adapter lacks the features for (gemm-subgroups, gemm-f16): one line, exit 2.
  for (const v of variants) {
    const s = (GEMM_VARIANTS as readonly string[]).includes(v) ? gemmSupport(engine, v as GemmVariant) : { ok: true as const };
    if (!s.ok) {
      console.error(`conv2d: --variants: '${v}' cannot run on ${engine.adapter.name}: ${s.reason}`);
      process.exit(2);
    }
  }
  const rng = new Random(1);
  const adapter = { name: engine.adapter.name, backend: engine.adapter.backend, kind: engine.adapter.kind };
  console.log(`adapter: ${engine.adapter.name} (${engine.adapter.backend}, ${engine.adapter.kind})`);
  console.log(`batch ${batch}, median of ${runs} runs after a warm-up; max storage binding ${engine.maxBinding} bytes\n`);
  console.log('| layer | variant | input | weight | GFLOP/pass | forward GFLOP/s | input-grad GFLOP/s | weight-grad GFLOP/s | forward ms | input-grad ms | weight-grad ms | spot-check error |');
  console.log('|---|---|---|---|---|---|---|---|---|---|---|---|');
  for (const layer of LAYERS.filter((l) => wanted.includes(l.id))) for (const variant of variants.filter((v) => v !== 'rows' || rowsApplies(layer))) {
    const xShape = [batch, ...layer.x];
    const opts = { padding: layer.padding ?? 1, stride: layer.stride ?? 1, variant };
    const g = conv2dGeometry(xShape, layer.w, opts);
    const flop = 2 * g.N * g.O * g.Ho * g.Wo * g.C * g.kh * g.kw;
    const host = { x: randomData(rng, xShape), w: randomData(rng, layer.w), b: randomData(rng, [g.O]), dy: randomData(rng, [g.N, g.O, g.Ho, g.Wo]) };
    const [fwd, dgrad, wgrad, error] = await engine.scopeAsync(async () => {
      const x = engine.fromArray(host.x, xShape);
      const w = engine.fromArray(host.w, layer.w);
      const b = engine.fromArray(host.b, [g.O]);
      const dy = engine.fromArray(host.dy, [g.N, g.O, g.Ho, g.Wo]);
      const results = {
        y: (await conv2dForward(x, w, b, opts).read()) as Float32Array,
        dx: (await conv2dInputGrad(dy, w, xShape, opts).read()) as Float32Array,
        dw: (await conv2dWeightGrad(x, dy, layer.w, opts).read()) as Float32Array,
      };
      const timed = async (pass: (typeof passes)[number], fn: () => Tensor) => (passes.includes(pass) ? time(engine, runs, fn, repeat) : NaN);
      return [
        await timed('forward', () => conv2dForward(x, w, b, opts)),
        await timed('input', () => conv2dInputGrad(dy, w, xShape, opts)),
        await timed('weight', () => conv2dWeightGrad(x, dy, layer.w, opts)),
        spotCheck(rng, g, host.x, host.w, host.b, host.dy, results),
      ];
    });
    const rate = (s: number) => (Number.isNaN(s) ? '-' : (flop / s / 1e9).toFixed(2));
    const ms = (s: number) => (Number.isNaN(s) ? '-' : (s * 1000).toFixed(1));
    // float32 elements as MiB, or KiB under one MiB (a small batch's input is not "0 MiB").
    const bytes = (n: number) => (n * 4 >= 2 ** 20 ? `${((n * 4) / 2 ** 20).toFixed(0)} MiB` : `${Math.ceil((n * 4) / 2 ** 10)} KiB`);
    console.log(
      `| ${layer.name} | ${variant} | [${xShape.join(',')}] (${bytes(g.N * g.C * g.H * g.W)}) | [${layer.w.join(',')}] | ${(flop / 1e9).toFixed(2)} | ` +
        `${rate(fwd)} | ${rate(dgrad)} | ${rate(wgrad)} | ${ms(fwd)} | ${ms(dgrad)} | ${ms(wgrad)} | ${error.toExponential(1)} |`,
    );
    results.push({ layer: layer.id, name: layer.name, variant, x: xShape, w: layer.w, stride: opts.stride, padding: opts.padding, flop, seconds: { forward: fwd, inputGrad: dgrad, weightGrad: wgrad }, error });
    // After every layer, so a run cut short (bench/gpu/run.ts's time budget) keeps what it measured.
    writeFileAtomic(args.str('out'), JSON.stringify({ date: new Date().toISOString(), adapter, batch, runs, repeat, rows: results }, null, 1));
  }
  engine.destroy();
}

await main();
