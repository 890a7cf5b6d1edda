// Convolution kernels against float64 CPU references, the op's backward rule against
// finite differences, and the batch-chunked path (forced with a small binding limit);
// every kernel variant (tiles, rows, the gemm ones the adapter supports) on every case.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { capabilitiesOf } from '../src/gpu/capabilities.js';
import { testEngine, withDispatchLabels, convVariants } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { cpuConv, type ConvCase } from './helpers/conv.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import type { Engine } from '../src/engine/engine.js';
import { conv2d } from '../src/ops/conv2d.js';
import {
  conv2dForward,
  conv2dInputGrad,
  conv2dWeightGrad,
  conv2dBiasGrad,
  conv2dGeometry,
  defaultConvVariant,
  CONV_FAMILIES,
  type Conv2dOptions,
  type Conv2dVariant,
} from '../kernels/conv2d.js';
import { GEMM_VARIANTS, gemmSupport, type GemmVariant } from '../kernels/conv2d-gemm.js';
import { assertVariantsCovered } from './helpers/variants.js';

const rng = testRandom('conv2d');

type Case = ConvCase;

const fixedCases: Case[] = [
  { name: '3x3 pad 1, batch 1, odd channels', x: [1, 3, 11, 9], w: [5, 3, 3, 3], opts: { padding: 1 } },
  { name: '3x3 stride 2 pad 1, odd batch', x: [3, 5, 13, 10], w: [7, 5, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: '7x7 stride 2 pad 3 (ResNet stem)', x: [2, 1, 17, 12], w: [6, 1, 7, 7], opts: { stride: 2, padding: 3 } },
  { name: '1x1', x: [3, 6, 7, 9], w: [9, 6, 1, 1], opts: {} },
  { name: '1x1 stride 2 (projection)', x: [1, 7, 9, 8], w: [3, 7, 1, 1], opts: { stride: 2 } },
  { name: 'asymmetric 3x5, stride [2,1], padding [0,2]', x: [2, 3, 10, 13], w: [4, 3, 3, 5], opts: { stride: [2, 1], padding: [0, 2] } },
  { name: 'stride larger than kernel, stride [1,3], padding [2,1]', x: [1, 2, 5, 16], w: [3, 2, 5, 2], opts: { stride: [1, 3], padding: [2, 1] } },
  { name: 'kernel wider than the input (taps entirely in the padding)', x: [2, 2, 3, 2], w: [3, 2, 5, 7], opts: { stride: [1, 2], padding: [1, 3] } },
  // Shapes the 'rows' kernels take (kernel width 3, stride 1), with awkward channel counts,
  // rows not a multiple of 4 wide, no padding, padding 2, a tall kernel, one input channel.
  { name: 'rows: 3x3 pad 1, 6 output channels, width 8', x: [2, 5, 9, 8], w: [6, 5, 3, 3], opts: { padding: 1 } },
  { name: 'rows: 3x3 no padding, 9 output channels', x: [3, 4, 7, 10], w: [9, 4, 3, 3], opts: {} },
  { name: 'rows: 3x3 padding [1, 2], width 10', x: [1, 2, 5, 6], w: [3, 2, 3, 3], opts: { padding: [1, 2] } },
  { name: 'rows: 5x3 padding [2, 1]', x: [2, 3, 8, 12], w: [4, 3, 5, 3], opts: { padding: [2, 1] } },
  { name: 'rows: narrow rows (4 columns per invocation)', x: [3, 3, 6, 5], w: [4, 3, 3, 3], opts: { padding: 1 } },
  { name: 'rows: one input channel (the first layer)', x: [2, 1, 13, 16], w: [10, 1, 3, 3], opts: { padding: 1 } },
  // Output channels past one block of 8 (forward and weight gradient), odd row counts, odd input channels.
  { name: 'rows: 21 output channels, 7 rows, width 12', x: [2, 3, 7, 12], w: [21, 3, 3, 3], opts: { padding: 1 } },
  { name: 'rows: 19 output channels, narrow, 10 rows', x: [1, 17, 10, 4], w: [19, 17, 3, 3], opts: { padding: 1 } },
  // Rows of 4 and 8 walked down whole by the weight gradient (weight_grad_down4/8): chunks of
  // 16 and 8 output rows (64 positions) that start inside an image and run into the next.
  { name: 'rows: width 4, three images of 7 rows (rows walked down)', x: [3, 3, 7, 4], w: [5, 3, 3, 3], opts: { padding: 1 } },
  { name: 'rows: width 8, three images of 5 rows (rows walked down)', x: [3, 2, 5, 8], w: [9, 2, 3, 3], opts: { padding: 1 } },
  // Width a multiple of 8 with padding 1: the middle of every window is read as vec4s, and the
  // middle block of columns has real inputs on both edges.
  { name: 'rows: width 24, vec4 windows, 11 rows', x: [2, 6, 11, 24], w: [11, 6, 3, 3], opts: { padding: 1 } },
];

/** A fresh random geometry each run (the seed is printed for replay). */
function randomCase(): Case {
  for (;;) {
    const kh = 1 + rng.int(5);
    const kw = 1 + rng.int(5);
    const stride: [number, number] = [1 + rng.int(3), 1 + rng.int(3)];
    const padding: [number, number] = [rng.int(Math.ceil(kh / 2) + 1), rng.int(Math.ceil(kw / 2) + 1)];
    const x: Case['x'] = [1 + rng.int(3), 1 + rng.int(6), 4 + rng.int(12), 4 + rng.int(12)];
    const w: Case['w'] = [1 + rng.int(9), x[1], kh, kw];
    if (x[2] + 2 * padding[0] >= kh && x[3] + 2 * padding[1] >= kw) {
      return { name: `random x[${x}] w[${w}] stride ${stride} padding ${padding}`, x, w, opts: { stride, padding } };
    }
  }
}

const cases = [...fixedCases, randomCase(), randomCase()];

const size = (s: readonly number[]) => s.reduce((a, b) => a * b, 1);

/**
 * Float32 sums of n terms of size about 1 carry rounding errors growing like sqrt(n) * 6e-8
 * (random-walk accumulation), so each tolerance scales with the square root of the length
 * of its reduction; the constant leaves a margin of more than 10x over what we observe.
 */
const tolFor = (reduction: number) => 2e-6 * Math.sqrt(reduction);

async function checkCase(c: Case, opts: Conv2dOptions): Promise<void> {
  const e = await testEngine();
  const x = randomArray(rng, size(c.x));
  const w = randomArray(rng, size(c.w));
  const b = randomArray(rng, c.w[0]);
  const ref0 = cpuConv(c, x, w, b, new Float32Array(0));
  const dy = randomArray(rng, ref0.y.length);
  const ref = cpuConv(c, x, w, b, dy);
  const { N, C, O, kh, kw, Ho, Wo } = ref.g;
  const got = await e.scopeAsync(async () => {
    const xt = e.fromArray(x, c.x);
    const wt = e.fromArray(w, c.w);
    const dyt = e.fromArray(dy, [N, O, Ho, Wo]);
    return {
      y: await conv2dForward(xt, wt, e.fromArray(b, [O]), opts).read(),
      yNoBias: await conv2dForward(xt, wt, null, opts).read(),
      dx: await conv2dInputGrad(dyt, wt, c.x, opts).read(),
      dw: await conv2dWeightGrad(xt, dyt, c.w, opts).read(),
      db: await conv2dBiasGrad(dyt, opts).read(),
    };
  });
  assertClose(got.y, ref.y, tolFor(C * kh * kw), `${c.name}: forward`);
  assertClose(got.yNoBias, ref.y.map((v, i) => v - b[Math.floor(i / (Ho * Wo)) % O]), tolFor(C * kh * kw), `${c.name}: forward without bias`);
  assertClose(got.dx, ref.dx, tolFor(O * kh * kw), `${c.name}: input gradient`);
  assertClose(got.dw, ref.dw, tolFor(N * Ho * Wo), `${c.name}: weight gradient`);
  assertClose(got.db, ref.db, tolFor(N * Ho * Wo), `${c.name}: bias gradient`);
}

/** Whether this adapter can be asked for the rows kernels (not SwiftShader: see convVariants). */
async function rowsCompile(): Promise<boolean> {
  return convVariants(await testEngine()).includes('rows');
}

/** Why this adapter cannot run a gemm variant (null: it can, or the variant is not a gemm one). */
function unsupported(e: Engine, variant: Conv2dVariant): string | null {
  if (!(GEMM_VARIANTS as readonly string[]).includes(variant)) return null;
  const s = gemmSupport(e, variant as GemmVariant);
  return s.ok ? null : s.reason;
}

// Every variant of the three pass families (kernels/choose.ts), so a new one is tested here.
const variants = [...new Set(Object.values(CONV_FAMILIES).flatMap((f) => f.variants))] as Conv2dVariant[];
for (const c of cases) {
  for (const variant of variants) {
    test(`conv2d ${c.name} (${variant}): forward and gradients match float64`, async () => {
      if (variant === 'rows' && !(await rowsCompile())) return;
      // Variants that need features this adapter lacks (their own tests run them where they exist).
      if (unsupported(await testEngine(), variant)) return;
      await checkCase(c, { ...c.opts, variant });
    });
  }
}

test('the default kernel family is rows, but tiles on SwiftShader', () => {
  const on = (name: string) => {
    const adapter = { name, kind: 'cpu', backend: 'vulkan' } as const;
    const caps = capabilitiesOf(adapter, { maxStorageBufferBindingSize: 2 ** 27, minStorageBufferOffsetAlignment: 256 } as GPUSupportedLimits, new Set());
    return defaultConvVariant({ adapter, caps } as unknown as Engine);
  };
  assert.is(on('llvmpipe-llvm-15-0-6-256-bits- / OpenGL version 4.5 (Core Profile) Mesa 22.3.6'), 'rows');
  assert.is(on('google / swiftshader / swiftshader-device-subzero- / SwiftShader driver 5.0.0'), 'tiles');
  assert.is(on('nvidia / hopper / NVIDIA H100 80GB HBM3'), 'rows');
});

test('the rows variant runs its own kernels where it applies, and only there', async () => {
  if (!(await rowsCompile())) return;
  const e = await testEngine();
  const kernelsOf = async (c: Case, variant: Conv2dVariant) => {
    const { labels } = await withDispatchLabels(e, () =>
      e.scopeAsync(async () => {
        const x = e.fromArray(randomArray(rng, size(c.x)), c.x);
        const w = e.fromArray(randomArray(rng, size(c.w)), c.w);
        const g = conv2dGeometry(c.x, c.w, c.opts);
        const dy = e.fromArray(randomArray(rng, g.N * g.O * g.Ho * g.Wo), [g.N, g.O, g.Ho, g.Wo]);
        conv2dForward(x, w, null, { ...c.opts, variant });
        conv2dInputGrad(dy, w, c.x, { ...c.opts, variant });
        conv2dWeightGrad(x, dy, c.w, { ...c.opts, variant });
        await e.sync();
      }),
    );
    return new Set(labels.filter((l) => l.startsWith('conv2d')));
  };
  const named = (start: string) => fixedCases.find((c) => c.name.startsWith(start))!;
  const rowsCase = named('rows: 3x3 pad 1');
  assert.equal([...(await kernelsOf(rowsCase, 'rows'))].sort(), ['conv2d_rows.forward_4x8_whole', 'conv2d_rows.weight_grad_down8', 'conv2d_rows.weights_by_tap', 'conv2d_rows.weights_flipped']);
  // Rows 4 wide as tall as the input's: walked down; no padding (fewer output rows): not.
  assert.ok((await kernelsOf(named('rows: width 4, three images'), 'rows')).has('conv2d_rows.weight_grad_down4'));
  const unpadded = await kernelsOf(named('rows: 3x3 no padding'), 'rows');
  assert.ok(![...unpadded].some((l) => l.includes('weight_grad_down')), `${[...unpadded]}`);
  // Width 12 is a multiple of 4 but not of the 8-column block: plain windows.
  const ragged = await kernelsOf(named('rows: 21 output channels'), 'rows');
  assert.ok(ragged.has('conv2d_rows.forward_4x8') && !ragged.has('conv2d_rows.forward_4x8_aligned'));
  // Padding 2 on the columns: the weight gradient's windows are not aligned.
  const padded = await kernelsOf(named('rows: 3x3 padding [1, 2]'), 'rows');
  assert.ok(padded.has('conv2d_rows.weight_grad') && !padded.has('conv2d_rows.weight_grad_aligned'));
  assert.ok((await kernelsOf(named('rows: narrow'), 'rows')).has('conv2d_rows.forward_4x4'));
  // Rows exactly one block wide (8 or 4): the windows' edges are the padding (`_whole`).
  assert.ok((await kernelsOf(named('rows: 19 output channels, narrow'), 'rows')).has('conv2d_rows.forward_4x4_whole'));
  // Aligned rows of 16 columns or more: the weight gradient streams them.
  const wide = await kernelsOf(named('rows: width 24'), 'rows');
  assert.ok(wide.has('conv2d_rows.weight_grad_streamed') && !wide.has('conv2d_rows.weight_grad_aligned'));
  assert.ok(wide.has('conv2d_rows.forward_4x8_aligned') && !wide.has('conv2d_rows.forward_4x8_whole'));
  assert.equal([...(await kernelsOf(rowsCase, 'tiles'))].sort(), ['conv2d.forward', 'conv2d.input_grad', 'conv2d.weight_grad']);
  const strided = named('3x3 stride 2');
  assert.equal([...(await kernelsOf(strided, 'rows'))].sort(), ['conv2d.forward', 'conv2d.input_grad', 'conv2d.weight_grad']);
});

test('batch split over binding windows (forced small limit) matches float64', async () => {
  const e = await testEngine();
  // Image sizes that are not multiples of the offset alignment, so windows start before
  // their first image; the limit holds two output images, so 5 images make 3 chunks.
  const c: Case = { name: 'split', x: [5, 2, 15, 13], w: [3, 2, 3, 3], opts: { padding: 1 } };
  const yImageBytes = 3 * 15 * 13 * 4;
  assert.ok(yImageBytes % e.limits.minStorageBufferOffsetAlignment !== 0);
  const limit = 2 * yImageBytes + e.limits.minStorageBufferOffsetAlignment;
  await checkCase(c, { ...c.opts, maxBindingBytes: limit, variant: 'tiles' });
  if (await rowsCompile()) {
    await checkCase(c, { ...c.opts, maxBindingBytes: limit, variant: 'rows' });
    // Rows 16 wide, so the rows weight gradient reads windows of dy as vec4s.
    const r: Case = { name: 'split rows', x: [5, 3, 7, 16], w: [5, 3, 3, 3], opts: { padding: 1 } };
    await checkCase(r, { ...r.opts, maxBindingBytes: 2 * 5 * 7 * 16 * 4 + e.limits.minStorageBufferOffsetAlignment, variant: 'rows' });
  }
  // Strided too, with a limit of one image.
  const s: Case = { name: 'split strided', x: [3, 3, 11, 10], w: [4, 3, 3, 3], opts: { stride: 2, padding: [1, 0] } };
  await checkCase(s, { ...s.opts, maxBindingBytes: 3 * 11 * 10 * 4 + e.limits.minStorageBufferOffsetAlignment });
});

test('one image over the binding limit is a clear error', async () => {
  const e = await testEngine();
  await e.scopeAsync(async () => {
    const x = e.fromArray(randomArray(rng, 2 * 64), [2, 1, 8, 8]);
    const w = e.fromArray(randomArray(rng, 9), [1, 1, 3, 3]);
    assert.throws(() => conv2dForward(x, w, null, { maxBindingBytes: 64 }), /over the storage binding limit/);
  });
});

test('bad shapes and options are clear errors', async () => {
  const e = await testEngine();
  await e.scopeAsync(async () => {
    const x = e.fromArray(randomArray(rng, 2 * 3 * 5 * 5), [2, 3, 5, 5]);
    const w = e.fromArray(randomArray(rng, 4 * 2 * 3 * 3), [4, 2, 3, 3]);
    assert.throws(() => conv2dForward(x, w, null), /3 channels but weight/);
    const w3 = e.fromArray(randomArray(rng, 4 * 3 * 7 * 7), [4, 3, 7, 7]);
    assert.throws(() => conv2dForward(x, w3, null), /does not fit/);
    const w1 = e.fromArray(randomArray(rng, 4 * 3), [4, 3, 1, 1]);
    assert.throws(() => conv2dForward(x, w1, null, { stride: 0 }), /stride/);
    assert.throws(() => conv2dForward(x, w1, e.fromArray([1, 2], [2])), /bias/);
  });
});

const gradCases: Case[] = [
  { name: '3x3 stride 2 pad 1 with bias', x: [2, 3, 7, 6], w: [5, 3, 3, 3], opts: { stride: 2, padding: 1 } },
  { name: 'asymmetric, split over binding windows', x: [3, 2, 6, 7], w: [3, 2, 2, 3], opts: { stride: [1, 2], padding: [1, 0], maxBindingBytes: 1024 } },
];

for (const c of gradCases) {
  test(`gradient of conv2d (${c.name}) matches finite differences`, async () => {
    const e = await testEngine();
    const inputs = [
      { shape: [...c.x], data: randomArray(rng, size(c.x)) },
      { shape: [...c.w], data: randomArray(rng, size(c.w)) },
      { shape: [c.w[0]], data: randomArray(rng, c.w[0]) },
    ];
    const { maxError, checked } = await gradCheck(e, ([x, w, b]) => conv2d(x, w, b, c.opts), inputs, { random: () => rng.next(), samples: 16 });
    assert.ok(checked > 0);
    maxError.forEach((err, i) => assert.ok(err < 2e-2, `input ${i}: relative error ${err}`));
  });
}

test('gradient of conv2d without bias matches finite differences', async () => {
  const e = await testEngine();
  const inputs = [
    { shape: [1, 2, 5, 5], data: randomArray(rng, 50) },
    { shape: [3, 2, 3, 3], data: randomArray(rng, 54) },
  ];
  const { maxError } = await gradCheck(e, ([x, w]) => conv2d(x, w, null, { padding: 1 }), inputs, { random: () => rng.next() });
  maxError.forEach((err, i) => assert.ok(err < 2e-2, `input ${i}: relative error ${err}`));
});

test('every convolution variant ran against float64', async () => {
  const excused: Record<string, string> = (await rowsCompile()) ? {} : { rows: 'this adapter compiles the rows kernels too slowly (SwiftShader)' };
  const e = await testEngine();
  for (const v of variants) {
    const why = unsupported(e, v);
    if (why) excused[v] = `${why} (test/conv2d-gemm.test.ts runs it where the feature exists)`;
  }
  assertVariantsCovered(Object.values(CONV_FAMILIES).map((f) => f.name), excused);
});

test.run();
