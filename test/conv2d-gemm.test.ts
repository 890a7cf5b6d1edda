// The implicit-GEMM convolution variants (kernels/conv2d-gemm.ts) against float64 CPU
// references: forward, input gradient and the split-K weight gradient, on awkward shapes
// (odd channels, sizes not multiples of the tiles (64 x 64, or 16 x 256 for GEMMs of few
// rows) or of 4, channels on both sides of the tile-shape switch, strides, padding 0-3,
// 1x1 and 7x7/2), over batch chunks forced by the binding-window hook, on llvmpipe and on
// SwiftShader (Vulkan: subgroups, a different compiler); the f16 variant where an adapter
// has `shader-f16`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subgroupEngine, testEngine, withDispatchLabels } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { cpuConv, type ConvCase } from './helpers/conv.js';
import type { Engine } from '../src/engine/engine.js';
import { windowOverride } from '../src/engine/windows.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dGeometry, type Conv2dOptions } from '../kernels/conv2d.js';
import { GEMM_CODE, gemmSupport, type GemmVariant } from '../kernels/conv2d-gemm.js';

const rng = testRandom('conv2d-gemm');

type Case = ConvCase;

const cases: Case[] = [
  { name: '3x3 pad 1, batch 1, odd channels', x: [1, 3, 11, 9], w: [5, 3, 3, 3], opts: { padding: 1 } },
  { name: '3x3 stride 2 pad 1, odd batch', x: [3, 5, 13, 10], w: [7, 5, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: '7x7 stride 2 pad 3 (ResNet stem)', x: [2, 3, 17, 12], w: [6, 3, 7, 7], opts: { stride: 2, padding: 3 } },
  { name: '1x1, 63 positions', x: [3, 6, 7, 9], w: [9, 6, 1, 1], opts: {} },
  { name: '1x1, 24 positions, 8 channels (vec4 matmul loads)', x: [2, 8, 4, 6], w: [5, 8, 1, 1], opts: {} },
  { name: '1x1 stride 2 (projection)', x: [1, 7, 9, 8], w: [3, 7, 1, 1], opts: { stride: 2 } },
  { name: '3x3 no padding, 70 output channels (two row tiles), depth 36', x: [2, 4, 12, 12], w: [70, 4, 3, 3], opts: {} },
  { name: '40 input channels (64-row tiles for the input gradient), few outputs', x: [1, 40, 6, 5], w: [3, 40, 3, 3], opts: { padding: 1 } },
  { name: 'asymmetric 3x5, stride [2,1], padding [0,2]', x: [2, 3, 10, 13], w: [4, 3, 3, 5], opts: { stride: [2, 1], padding: [0, 2] } },
  { name: 'stride 3 over a 2-wide kernel, padding [2,1]', x: [1, 2, 5, 16], w: [3, 2, 5, 2], opts: { stride: [1, 3], padding: [2, 1] } },
];

/** A fresh random geometry each run (the seed is printed for replay). */
function randomCase(): Case {
  for (;;) {
    const kh = 1 + rng.int(7);
    const kw = 1 + rng.int(7);
    const stride: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    const padding: [number, number] = [rng.int(Math.ceil(kh / 2) + 1), rng.int(Math.ceil(kw / 2) + 1)];
    const x: Case['x'] = [1 + rng.int(3), 1 + rng.int(9), 4 + rng.int(14), 4 + rng.int(14)];
    const w: Case['w'] = [1 + rng.int(11), x[1], kh, kw];
    if (x[2] + 2 * padding[0] >= kh && x[3] + 2 * padding[1] >= kw) {
      return { name: `random x[${x}] w[${w}] stride ${stride} padding ${padding}`, x, w, opts: { stride, padding } };
    }
  }
}

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);
/** Float32 sums of n terms of size about 1 err like sqrt(n) * 6e-8; a margin of over 10x (as test/conv2d.test.ts). */
const tolFor = (reduction: number) => 2e-6 * Math.sqrt(reduction);
/**
 * f16 inputs: each value rounded to 11 significant bits (relative error up to 2^-11, about
 * 5e-4), so each product errs by up to about 1e-3 of its size; n of them add like sqrt(n).
 */
const tolF16 = (reduction: number) => 2e-3 * Math.sqrt(reduction);

async function checkCase(e: Engine, c: Case, variant: GemmVariant, opts: Conv2dOptions = {}): Promise<void> {
  const x = randomArray(rng, size(c.x));
  const w = randomArray(rng, size(c.w));
  const b = randomArray(rng, c.w[0]);
  const dy = randomArray(rng, cpuConv(c, x, w, b, null).y.length);
  const ref = cpuConv(c, x, w, b, dy);
  const { N, C, O, kh, kw, Ho, Wo } = ref.g;
  const all = { ...c.opts, ...opts, variant };
  const got = await e.scopeAsync(async () => {
    const xt = e.fromArray(x, c.x);
    const wt = e.fromArray(w, c.w);
    const dyt = e.fromArray(dy, [N, O, Ho, Wo]);
    return {
      y: await conv2dForward(xt, wt, e.fromArray(b, [O]), all).read(),
      yRelu: await conv2dForward(xt, wt, null, { ...all, relu: true }).read(),
      dx: await conv2dInputGrad(dyt, wt, c.x, all).read(),
      dw: await conv2dWeightGrad(xt, dyt, c.w, all).read(),
    };
  });
  const tol = variant === 'gemm-f16' ? tolF16 : tolFor;
  const what = `${c.name} (${variant}, ${e.adapter.name.slice(0, 24)})`;
  assertClose(got.y, ref.y, tol(C * kh * kw), `${what}: forward`);
  const relu = ref.y.map((v, i) => Math.max(0, v - b[Math.floor(i / (Ho * Wo)) % O]));
  assertClose(got.yRelu, relu, tol(C * kh * kw), `${what}: forward without bias, with ReLU`);
  assertClose(got.dx, ref.dx, tol(O * kh * kw), `${what}: input gradient`);
  assertClose(got.dw, ref.dw, tol(N * Ho * Wo), `${what}: weight gradient`);
}

/** SwiftShader (or whichever adapter has subgroups), when it is not the main test adapter. */
async function secondEngine(): Promise<Engine | null> {
  const [main, sg] = await Promise.all([testEngine(), subgroupEngine()]);
  return sg && sg !== main ? sg : null;
}

/** The engines a variant is tested on: the main one and SwiftShader, where each supports it. */
async function enginesFor(variant: GemmVariant): Promise<Engine[]> {
  const list = [await testEngine(), await secondEngine()].filter((e): e is Engine => e !== null);
  return list.filter((e) => gemmSupport(e, variant).ok);
}

const allCases = [...cases, randomCase(), randomCase()];

test('gemm: forward, input and weight gradients match float64 on every case (llvmpipe)', async () => {
  const e = await testEngine();
  for (const c of allCases) await checkCase(e, c, 'gemm');
});

test('gemm and gemm-subgroups match float64 on SwiftShader (small shapes: its compiler is slow)', async () => {
  const e = await secondEngine();
  if (!e) return void console.log('  SwiftShader not available: the second-adapter runs are skipped');
  for (const c of allCases.filter((c) => size(c.x) <= 1200)) await checkCase(e, c, 'gemm');
  for (const variant of ['gemm-subgroups'] as const) {
    if (!gemmSupport(e, variant).ok) continue;
    for (const c of allCases.slice(0, 4)) await checkCase(e, c, variant);
  }
});

test('gemm-subgroups: the split-K sum with subgroupAdd matches float64, or is a clear error without the feature', async () => {
  const main = await testEngine();
  if (!gemmSupport(main, 'gemm-subgroups').ok) {
    await main.scopeAsync(async () => {
      const x = main.fromArray(randomArray(rng, 2 * 3 * 5 * 5), [2, 3, 5, 5]);
      const dy = main.fromArray(randomArray(rng, 2 * 4 * 3 * 3), [2, 4, 3, 3]);
      assert.throws(() => conv2dWeightGrad(x, dy, [4, 3, 3, 3], { variant: 'gemm-subgroups' }), /'gemm-subgroups'.*this adapter has no 'subgroups' feature/);
    });
  }
  const engines = await enginesFor('gemm-subgroups');
  if (engines.length === 0) return void console.log("  no adapter with 'subgroups': gemm-subgroups is skipped");
  // 70 output channels x 27 taps: a column count not a multiple of 4.
  for (const e of engines) {
    // 4 x 9 x 8 output positions: 18 split-K layers of 16, enough rows for the subgroup sum.
    const c: Case = { name: 'subgroup sum', x: [4, 3, 17, 16], w: [70, 3, 3, 3], opts: { stride: 2, padding: 1 } };
    const { labels } = await withDispatchLabels(e, () => checkCase(e, c, 'gemm-subgroups'));
    assert.ok(labels.includes('conv2d_gemm_subgroups.sum_partials') && !labels.includes('reduce.reduce_sum'), labels.join());
  }
});

test('gemm: batch chunks over binding windows (the window hook forced small) match float64', async () => {
  // Images not multiples of the offset alignment, so windows start before their first image.
  const split: Case[] = [
    { name: 'split 3x3', x: [5, 2, 15, 13], w: [3, 2, 3, 3], opts: { padding: 1 } },
    { name: 'split 1x1 vec4', x: [5, 4, 6, 6], w: [3, 4, 1, 1], opts: {} },
    { name: 'split strided', x: [3, 3, 11, 10], w: [4, 3, 3, 3], opts: { stride: 2, padding: [1, 0] } },
  ];
  for (const e of [await testEngine(), await secondEngine()]) {
    if (!e) continue;
    for (const c of split) {
      const g = conv2dGeometry(c.x, c.w, c.opts);
      // Two images of the larger of x and y per window.
      windowOverride.maxBinding = 2 * 4 * Math.max(g.C * g.H * g.W, g.O * g.Ho * g.Wo) + 256;
      windowOverride.alignment = 256;
      try {
        const { labels } = await withDispatchLabels(e, () => checkCase(e, c, 'gemm'));
        // A dispatch per chunk of two images in each pass (the forward pass runs twice).
        const chunks = Math.ceil(g.N / 2);
        assert.is(labels.filter((l) => l === 'conv2d_gemm.forward').length, 2 * chunks, labels.join());
        assert.is(labels.filter((l) => l === 'conv2d_gemm.input_grad').length, chunks, labels.join());
        assert.is(labels.filter((l) => l === 'conv2d_gemm.weight_grad').length, chunks, labels.join());
      } finally {
        windowOverride.maxBinding = null;
        windowOverride.alignment = null;
      }
    }
  }
});

test('gemm runs only its own kernels (and the partial-sum reduction)', async () => {
  const e = await testEngine();
  const c = cases[1];
  const { labels } = await withDispatchLabels(e, () => checkCase(e, c, 'gemm'));
  const kernels = new Set(labels.filter((l) => !l.startsWith('poison')));
  assert.equal([...kernels].sort(), ['conv2d_gemm.forward', 'conv2d_gemm.input_grad', 'conv2d_gemm.weight_grad', 'reduce.reduce_sum']);
});

test('gemm-f16: f16 inputs, f32 sums, within f16 rounding of float64 (where shader-f16 exists)', async () => {
  const main = await testEngine();
  const engines = await enginesFor('gemm-f16');
  if (!gemmSupport(main, 'gemm-f16').ok) {
    await main.scopeAsync(async () => {
      const x = main.fromArray(randomArray(rng, 3 * 25), [1, 3, 5, 5]);
      const w = main.fromArray(randomArray(rng, 4 * 27), [4, 3, 3, 3]);
      assert.throws(() => conv2dForward(x, w, null, { variant: 'gemm-f16' }), /'gemm-f16'.*this adapter has no 'shader-f16' feature/);
    });
  }
  if (engines.length === 0) return void console.log("  no adapter here has 'shader-f16': the gemm-f16 numerics are not tested (compile check of its other lines below)");
  for (const e of engines) for (const c of [...cases.slice(0, 5), randomCase()]) await checkCase(e, c, 'gemm-f16');
});

test('gemm-f16 module: the f32 GEMM with f16 inputs; with f16 read as f32 it compiles here', async () => {
  const e = await testEngine();
  // Everything after the Params struct and the f16 file's own entry is the f32 module's text.
  const body = GEMM_CODE.f32.slice(GEMM_CODE.f32.indexOf('\n// 2D convolution as an implicit GEMM'));
  assert.ok(body.length > 1000 && GEMM_CODE.f16.endsWith(body), 'the f16 module ends with the f32 GEMM source');
  assert.match(GEMM_CODE.f16, /^\/\/ shader: conv2d_gemm_f16\nenable f16;\nalias in_t = f16;\nalias in4_t = vec4<f16>;\n/);
  // Without the feature, f16 cannot be compiled; as f32 every other line of it can (to_f16 included).
  const asF32 = GEMM_CODE.f16.replace('enable f16;\n', '').replace(/\bf16\b/g, 'f32');
  for (const entry of ['forward', 'input_grad', 'weight_grad', 'to_f16']) e.pipeline(asF32, entry, entry === 'to_f16' ? {} : { VEC_A: 1, VEC_B: 1 });
  await e.sync();
});

test.run();
