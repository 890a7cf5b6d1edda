// Launchers for shaders/pool.wgsl (and pool2x2.wgsl, 2x2 max pooling on vec4s): max and average pooling (forward and backward) and
// global average pooling, over [N, C, H, W] tensors.
//
// Large activations (VGG-16 at batch 32: [32, 64, 373, 64] = 195 MB) exceed one storage
// binding (128 MiB on llvmpipe), so every kernel runs over chunks of the batch, each tensor
// bound as a byte window. `batchChunks` and `sampleWindow` below plan those windows; the
// batch-norm launcher uses them too.
import source from '../shaders/pool.wgsl';
import source2x2 from '../shaders/pool2x2.wgsl';
import type { Engine, Binding } from '../src/engine/engine.js';
import { batchChunks, sampleWindow, windowOverride, type BatchChunk } from '../src/engine/windows.js';
import type { Tensor } from '../src/engine/tensor.js';
import { WINDOW_2D_FIELDS, declareParams, declareShader, withPreamble, type Shader } from './declare.js';
import { batchClass, benchInput, choose, declareFamily } from './choose.js';
import { batchNormGradFromSums } from './batchnorm.js';

const WG = 256;

/** The uniform both pooling shaders read, declared once: the WGSL struct and the packer. */
const POOL_PARAMS = declareParams([
  ['count', 'u32', 'samples in this chunk'],
  ['C', 'u32'],
  ['H', 'u32'],
  ['W', 'u32'],
  ...WINDOW_2D_FIELDS,
  ['base0', 'u32', 'element offset of the chunk in binding 0'],
  ['base1', 'u32', 'element offset of the chunk in binding 1'],
  ['base2', 'u32', 'element offset of the chunk in binding 2'],
  ['segRows', 'u32', 'pool2x2 max_backward_bn_sums: pooled rows per segment'],
  ['S', 'u32', 'pool2x2 max_backward_bn_sums: segments per plane'],
]);

/** shaders/pool.wgsl: any window, stride and padding. */
const POOL = declareShader('pool', withPreamble(source, POOL_PARAMS.wgsl), [
  'max_forward',
  'max_backward',
  'max_backward_disjoint',
  'avg_forward',
  'avg_backward',
  'global_avg_forward',
  'global_avg_backward',
]);
/** shaders/pool2x2.wgsl: 2x2 max pooling at stride 2 on vec4 rows. */
const POOL_2X2 = declareShader('pool2x2', withPreamble(source2x2, POOL_PARAMS.wgsl), [
  'max_forward',
  'max_forward_bn',
  'max_backward',
  'max_backward_bn_sums',
  'max_backward_bn_input',
]);
/** Output pairs per max_forward_bn invocation (RUN in pool2x2.wgsl). */
const BN_RUN = 4;

// ---- batch windows ---------------------------------------------------------------

// Planned in src/engine/windows.ts (batchnorm's launcher uses them too).
export { batchChunks, sampleWindow, type BatchChunk };
/** Test hook: the engine's one window override (src/engine/windows.ts), under its old name. */
export const batchSplitOverride = windowOverride;

// ---- geometry -----------------------------------------------------------------------

export interface Pool2dOptions {
  kernel: number | [number, number];
  stride?: number | [number, number];
  padding?: number | [number, number];
}

export interface Pool2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  Ho: number;
  Wo: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
}

function pair(v: number | [number, number], what: string, op: string): [number, number] {
  const p: [number, number] = typeof v === 'number' ? [v, v] : v;
  if (!Array.isArray(p) || p.length !== 2 || !p.every(Number.isInteger)) throw new Error(`${op}: ${what} must be a whole number or a pair, got ${JSON.stringify(v)}`);
  return p;
}

function requireNCHW(op: string, x: Tensor): void {
  if (x.dtype !== 'f32') throw new Error(`${op}: expects a float32 tensor, got ${x.dtype}`);
  if (x.shape.length !== 4) throw new Error(`${op}: expects [N, C, H, W], got [${x.shape.join(', ')}]`);
}

/** Output size and window parameters, PyTorch's rules (floor mode, padding at most half the kernel). */
export function pool2dGeometry(op: string, shape: readonly number[], opts: Pool2dOptions): Pool2dGeometry {
  const [N, C, H, W] = shape;
  const [kh, kw] = pair(opts.kernel, 'kernel', op);
  const [sh, sw] = pair(opts.stride ?? opts.kernel, 'stride', op);
  const [ph, pw] = pair(opts.padding ?? 0, 'padding', op);
  if (kh < 1 || kw < 1) throw new Error(`${op}: kernel must be at least 1, got ${kh}x${kw}`);
  if (sh < 1 || sw < 1) throw new Error(`${op}: stride must be at least 1, got ${sh}x${sw}`);
  if (ph < 0 || pw < 0 || 2 * ph > kh || 2 * pw > kw) throw new Error(`${op}: padding ${ph}x${pw} must be between 0 and half the kernel ${kh}x${kw}`);
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (Ho < 1 || Wo < 1) throw new Error(`${op}: input ${H}x${W} is smaller than the kernel ${kh}x${kw} (padding ${ph}x${pw})`);
  return { N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw };
}

// ---- dispatch -----------------------------------------------------------------------

/**
 * Runs `shader`'s `entry` over the batch in chunks (`op` names it in errors). `slots` are bindings 0..2 with their elements per
 * sample (null: unused); `threadsPerSample` invocations per sample.
 */
function runChunked<E extends string>(
  engine: Engine,
  op: string,
  shader: Shader<E>,
  entry: E,
  g: Pool2dGeometry,
  slots: readonly ([Tensor, number] | null)[],
  threadsPerSample: number,
  order: (windows: Binding[], params: GPUBuffer) => Binding[] = (w, p) => [...w, p],
): void {
  const pipeline = shader.pipeline(engine, entry, { WG });
  const used = slots.filter((s): s is [Tensor, number] => s !== null);
  for (const chunk of batchChunks(engine, op, g.N, used.map(([, n]) => n))) {
    const windows = slots.map((s) => (s ? sampleWindow(s[0], s[1], chunk, g.N) : null));
    const bases = windows.map((w) => w?.base ?? 0);
    const { C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw } = g;
    const params = POOL_PARAMS.pack(engine, { count: chunk.count, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, base0: bases[0], base1: bases[1], base2: bases[2], segRows: 0, S: 0 });
    engine.dispatch(pipeline, order(windows.map((w) => w?.binding ?? null), params), engine.grid(chunk.count * threadsPerSample, WG));
  }
}

// ---- max pooling: choosers (kernels/choose.ts) ------------------------------------

const VEC2X2_MISFIT = 'vec2x2 needs 2x2 windows at stride 2 without padding and rows a multiple of 4 wide';
const poolKey = (g: Pool2dGeometry) => `N${batchClass(g.N)} C${g.C} ${g.H}x${g.W} k${g.kh}x${g.kw} s${g.sh}x${g.sw} p${g.ph}x${g.pw}`;
const optsOf = (g: Pool2dGeometry): Pool2dOptions => ({ kernel: [g.kh, g.kw], stride: [g.sh, g.sw], padding: [g.ph, g.pw] });

/** Max pooling's forward: the vec4 kernel of pool2x2.wgsl, or pool.wgsl's for any window. */
export const MAXPOOL_FORWARD = declareFamily({
  name: 'maxpool.forward',
  variants: ['vec2x2', 'general'] as const,
  applies: (v, g: Pool2dGeometry) => (v === 'vec2x2' && !isVec2x2(g) ? VEC2X2_MISFIT : true),
  rule: (g) => (isVec2x2(g) ? 'vec2x2' : 'general'),
  key: poolKey,
  shaders: [POOL, POOL_2X2],
  bench: (engine, g) => {
    const x = benchInput(engine, [g.N, g.C, g.H, g.W]);
    return (v) => void maxPool2dForward(x, optsOf(g), v);
  },
});

/**
 * Max pooling's backward: pool2x2.wgsl's vec4 kernel, pool.wgsl's for non-overlapping
 * windows (stride >= kernel: no loop over the windows), or its general one.
 */
export const MAXPOOL_BACKWARD = declareFamily({
  name: 'maxpool.backward',
  variants: ['vec2x2', 'disjoint', 'general'] as const,
  applies: (v, g: Pool2dGeometry) => {
    if (v === 'vec2x2' && !isVec2x2(g)) return VEC2X2_MISFIT;
    if (v === 'disjoint' && !isDisjoint(g)) return 'disjoint needs a stride at least the kernel size';
    return true;
  },
  rule: (g) => (isVec2x2(g) ? 'vec2x2' : isDisjoint(g) ? 'disjoint' : 'general'),
  key: poolKey,
  shaders: [POOL, POOL_2X2],
  bench: (engine, g) => {
    const grad = benchInput(engine, [g.N, g.C, g.Ho, g.Wo]);
    const indices = benchInput(engine, [g.N, g.C, g.Ho, g.Wo], 'i32');
    return (v) => void maxPool2dBackward(grad, indices, [g.N, g.C, g.H, g.W], optsOf(g), v);
  },
});

export type MaxPoolForwardVariant = (typeof MAXPOOL_FORWARD.variants)[number];
export type MaxPoolBackwardVariant = (typeof MAXPOOL_BACKWARD.variants)[number];

// ---- max pooling ------------------------------------------------------------------

/** A max pooling's outputs (pooled values, int32 positions) and its binding slots: x, out, indices with their per-sample sizes. */
function maxPoolOutputs(x: Tensor, g: Pool2dGeometry) {
  const out = x.engine.empty([g.N, g.C, g.Ho, g.Wo]);
  const indices = x.engine.empty(out.shape, 'i32');
  const outSample = g.C * g.Ho * g.Wo;
  const slots: [Tensor, number][] = [[x, g.C * g.H * g.W], [out, outSample], [indices, outSample]];
  return { out, indices, outSample, slots };
}

/**
 * Max pooling; `indices` (int32, output shape) holds each maximum's position h * W + w in its plane.
 * `variant`: default the chooser's (MAXPOOL_FORWARD); an asked one that does not apply is an Error.
 */
export function maxPool2dForward(x: Tensor, opts: Pool2dOptions, variant?: MaxPoolForwardVariant): { out: Tensor; indices: Tensor } {
  requireNCHW('maxPool2d', x);
  const g = pool2dGeometry('maxPool2d', x.shape, opts);
  const engine = x.engine;
  const { out, indices, outSample, slots } = maxPoolOutputs(x, g);
  if (choose(engine, MAXPOOL_FORWARD, g, variant) === 'vec2x2') runChunked(engine, 'maxPool2d', POOL_2X2, 'max_forward', g, slots, outSample / 2);
  else runChunked(engine, 'maxPool2d', POOL, 'max_forward', g, slots, outSample);
  return { out, indices };
}

/**
 * max-pool 2x2 (stride 2, no padding) of relu(batchnorm(x)) in one pass, the batchnorm given
 * by `stats` ([4, C] from kernels/batchnorm.ts batchNormStatistics): the full-size batchnorm
 * output is never written. x [N, C, H, W] with W a multiple of 4 (`canPoolBatchNorm`); out
 * and indices as maxPool2dForward's for relu(batchnorm(x)), the backward being
 * maxPool2dBackward then the batchnorm+ReLU backward.
 */
export function batchNormReluMaxPool2x2(x: Tensor, stats: Tensor): { out: Tensor; indices: Tensor } {
  requireNCHW('batchNormReluMaxPool2x2', x);
  const g = pool2dGeometry('batchNormReluMaxPool2x2', x.shape, { kernel: 2 });
  if (!isVec2x2(g)) throw new Error(`batchNormReluMaxPool2x2: rows must be a multiple of 4 wide, got [${x.shape.join(', ')}]`);
  if (stats.shape.join() !== `4,${g.C}`) throw new Error(`batchNormReluMaxPool2x2: stats must be [4, ${g.C}], got [${stats.shape.join(', ')}]`);
  const engine = x.engine;
  const { out, indices, slots } = maxPoolOutputs(x, g);
  const threads = g.C * g.Ho * Math.ceil(g.Wo / 2 / BN_RUN);
  runChunked(engine, 'batchNormReluMaxPool2x2', POOL_2X2, 'max_forward_bn', g, slots, threads, (w, p) => [...w, p, null, null, stats]);
  return { out, indices };
}

/** Pooled values per segment of the fused backward's sums: a few hundred, as batchnorm's own segments. */
const BN_SEGMENT = 256;

/**
 * The backward of batchNormReluMaxPool2x2 without the full-size gradient between the pool and
 * the batchnorm: per-segment sums read x at the maxima alone, batchnorm's per-channel step
 * (kernels/batchnorm.ts batchNormGradFromSums), then one pass that scatters the pooled
 * gradient and applies the batchnorm + ReLU backward (pool2x2.wgsl max_backward_bn_*).
 * grad [N, C, Ho, Wo] is the pooled output's gradient, indices, x [N, C, H, W] and stats
 * ([4, C]) the forward's; `training` as the forward's statistics (batch or running).
 * Returns dx and the batchnorm's dgamma and dbeta, as maxPool2dBackward then
 * batchNormBackward(..., { relu: true }) give them, or null when a tensor needs more than one
 * binding window (the caller then runs those two).
 */
export function batchNormReluMaxPool2x2Backward(
  grad: Tensor,
  indices: Tensor,
  x: Tensor,
  stats: Tensor,
  gamma: Tensor,
  training: boolean,
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } | null {
  const op = 'batchNormReluMaxPool2x2 backward';
  requireNCHW(op, x);
  const g = pool2dGeometry(op, x.shape, { kernel: 2 });
  if (!isVec2x2(g)) throw new Error(`${op}: rows must be a multiple of 4 wide, got [${x.shape.join(', ')}]`);
  checkGradShape(op, grad, [g.N, g.C, g.Ho, g.Wo]);
  checkGradShape(op, indices, [g.N, g.C, g.Ho, g.Wo]);
  const engine = x.engine;
  if (batchChunks(engine, op, g.N, [g.C * g.H * g.W, g.C * g.Ho * g.Wo]).length > 1) return null;
  const segRows = Math.max(1, Math.floor(BN_SEGMENT / g.Wo));
  const S = Math.ceil(g.Ho / segRows);
  const { C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw } = g;
  const params = POOL_PARAMS.pack(engine, { count: g.N, C, H, W, Ho, Wo, kh, kw, sh, sw, ph, pw, base0: 0, base1: 0, base2: 0, segRows, S });
  const part = engine.empty([2, C, g.N, S]);
  // Bindings: 0 x4, 2 arg2, 3 params, 4 gy2, 5 gx4, 6 bnStats, 7 x1, 8 bnPartial, 9 bnCoeffs.
  engine.dispatch(POOL_2X2.pipeline(engine, 'max_backward_bn_sums', { WG }), [null, null, indices, params, grad, null, stats, x, part], engine.grid(g.N * C * S, WG));
  const { dgamma, dbeta, coeffs } = batchNormGradFromSums(part, x, stats, gamma, training);
  part.dispose();
  const dx = engine.empty(x.shape);
  const threads = g.N * C * Math.ceil(H / 2) * (W / 4);
  engine.dispatch(POOL_2X2.pipeline(engine, 'max_backward_bn_input', { WG }), [x, null, indices, params, grad, dx, stats, null, null, coeffs], engine.grid(threads, WG));
  coeffs.dispose();
  return { dx, dgamma, dbeta };
}

/** Whether batchNormReluMaxPool2x2 takes x of this shape with these pooling options. */
export function canPoolBatchNorm(shape: readonly number[], opts: Pool2dOptions): boolean {
  return shape.length === 4 && shape[2] >= 2 && shape[3] >= 2 && isVec2x2(pool2dGeometry('maxPool2d', shape, opts));
}

/**
 * Gradient of max pooling: each input element gathers the gradients of the windows it won.
 * `variant`: default the chooser's (MAXPOOL_BACKWARD); an asked one that does not apply is an Error.
 */
export function maxPool2dBackward(grad: Tensor, indices: Tensor, inputShape: readonly number[], opts: Pool2dOptions, variant?: MaxPoolBackwardVariant): Tensor {
  const g = pool2dGeometry('maxPool2d backward', inputShape, opts);
  checkGradShape('maxPool2d backward', grad, [g.N, g.C, g.Ho, g.Wo]);
  const engine = grad.engine;
  const dx = engine.empty(inputShape);
  const inSample = g.C * g.H * g.W;
  const outSample = g.C * g.Ho * g.Wo;
  const slots: [Tensor, number][] = [[grad, outSample], [dx, inSample], [indices, outSample]];
  const v = choose(engine, MAXPOOL_BACKWARD, g, variant);
  if (v === 'vec2x2') {
    // pool2x2.wgsl reads the gradient and writes dx through its own (vec) bindings 4 and 5;
    // an invocation takes four columns of two input rows.
    const threads = g.C * Math.ceil(g.H / 2) * (g.W / 4);
    runChunked(engine, 'maxPool2d backward', POOL_2X2, 'max_backward', g, slots, threads, ([gy, gx, idx], p) => [null, null, idx, p, gy, gx]);
    return dx;
  }
  runChunked(engine, 'maxPool2d backward', POOL, v === 'disjoint' ? 'max_backward_disjoint' : 'max_backward', g, slots, inSample);
  return dx;
}

/** 2x2 windows at stride 2 without padding, rows a multiple of 4 wide: the vec4 kernels of pool2x2.wgsl. */
function isVec2x2(g: Pool2dGeometry): boolean {
  return g.kh === 2 && g.kw === 2 && g.sh === 2 && g.sw === 2 && g.ph === 0 && g.pw === 0 && g.W % 4 === 0;
}

/** Non-overlapping windows (stride >= kernel). */
function isDisjoint(g: Pool2dGeometry): boolean {
  return g.sh >= g.kh && g.sw >= g.kw;
}

// ---- average pooling ----------------------------------------------------------------

export function avgPool2dForward(x: Tensor, opts: Pool2dOptions): Tensor {
  requireNCHW('avgPool2d', x);
  const g = pool2dGeometry('avgPool2d', x.shape, opts);
  const out = x.engine.empty([g.N, g.C, g.Ho, g.Wo]);
  const outSample = g.C * g.Ho * g.Wo;
  runChunked(x.engine, 'avgPool2d', POOL, 'avg_forward', g, [[x, g.C * g.H * g.W], [out, outSample], null], outSample);
  return out;
}

export function avgPool2dBackward(grad: Tensor, inputShape: readonly number[], opts: Pool2dOptions): Tensor {
  const g = pool2dGeometry('avgPool2d backward', inputShape, opts);
  checkGradShape('avgPool2d backward', grad, [g.N, g.C, g.Ho, g.Wo]);
  const dx = grad.engine.empty(inputShape);
  const inSample = g.C * g.H * g.W;
  runChunked(grad.engine, 'avgPool2d backward', POOL, 'avg_backward', g, [[grad, g.C * g.Ho * g.Wo], [dx, inSample], null], inSample);
  return dx;
}

// ---- global average pooling -----------------------------------------------------------

/** [N, C, H, W] -> [N, C]: the mean of each plane. */
export function globalAvgPoolForward(x: Tensor): Tensor {
  requireNCHW('globalAvgPool', x);
  const [N, C, H, W] = x.shape;
  if (H * W === 0) throw new Error('globalAvgPool: empty planes');
  const g: Pool2dGeometry = { N, C, H, W, Ho: 1, Wo: 1, kh: H, kw: W, sh: 1, sw: 1, ph: 0, pw: 0 };
  const out = x.engine.empty([N, C]);
  runChunked(x.engine, 'globalAvgPool', POOL, 'global_avg_forward', g, [[x, C * H * W], [out, C], null], C);
  return out;
}

export function globalAvgPoolBackward(grad: Tensor, inputShape: readonly number[]): Tensor {
  const [N, C, H, W] = inputShape;
  checkGradShape('globalAvgPool backward', grad, [N, C]);
  const g: Pool2dGeometry = { N, C, H, W, Ho: 1, Wo: 1, kh: H, kw: W, sh: 1, sw: 1, ph: 0, pw: 0 };
  const dx = grad.engine.empty(inputShape);
  runChunked(grad.engine, 'globalAvgPool backward', POOL, 'global_avg_backward', g, [[grad, C], [dx, C * H * W], null], C * H * W);
  return dx;
}

function checkGradShape(op: string, grad: Tensor, want: number[]): void {
  if (grad.shape.join() !== want.join()) throw new Error(`${op}: gradient [${grad.shape.join(', ')}], expected [${want.join(', ')}]`);
}
