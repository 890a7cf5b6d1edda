// Launchers for shaders/conv2d.wgsl: shape checks, batch chunks that fit a storage
// binding, partial-sum sizing for the weight and bias gradients, dispatch.
import source from '../shaders/conv2d.wgsl';
import rowsSource from '../shaders/conv2d_rows.wgsl';
import type { Binding, Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { sumAxis } from './reduce.js';
import { batchChunks, bindingLimit, sampleWindow, type BatchChunk } from '../src/engine/windows.js';
import { CONV_GEOMETRY_FIELDS, declareParams, declareShader, withPreamble } from './declare.js';
import { batchClass, benchInput, check, choose, declareFamily, type Family } from './choose.js';
import type { Capabilities } from '../src/gpu/capabilities.js';
import { GEMM_SHADERS, GEMM_VARIANTS, gemmForward, gemmInputGrad, gemmMisfit, gemmWeightGrad, type GemmVariant } from './conv2d-gemm.js';

/** The uniform both conv2d shaders read, declared once: the WGSL struct and the packer. */
const CONV_PARAMS = declareParams([
  ...CONV_GEOMETRY_FIELDS,
  ['base0', 'u32', 'element offset of the chunk in binding 0'],
  ['base1', 'u32', 'element offset of the chunk in binding 1'],
  ['baseOut', 'u32', 'element offset of the chunk in the output binding'],
  ['chunk', 'u32', 'weight/bias gradient: positions summed by one invocation'],
  ['chunks', 'u32', 'weight/bias gradient: chunks in this dispatch'],
  ['chunkBase', 'u32', 'weight/bias gradient: first partial-sum row this dispatch writes'],
  ['hasBias', 'u32'],
  ['relu', 'u32', 'forward: max(y, 0) on the way out (inference with batchnorm folded in)'],
]);

/** shaders/conv2d.wgsl: 4x4 register tiles, any shape. */
const TILES = declareShader('conv2d', withPreamble(source, CONV_PARAMS.wgsl), ['forward', 'input_grad', 'weight_grad', 'bias_grad']);
/** The rows kernels' output store (shaders/conv2d_rows.wgsl's `store_quad`): `left` values of `v` from `at`, one by one. */
const STORE_BY_VALUE = `
fn store_quad(at: u32, v: vec4f, left: u32) {
  if (left > 0u) { out[at] = v.x; }
  if (left > 1u) { out[at + 1u] = v.y; }
  if (left > 2u) { out[at + 2u] = v.z; }
  if (left > 3u) { out[at + 3u] = v.w; }
}
`;
/**
 * The same as one vec4 store (at a multiple of 4, a whole quad inside its row): on llvmpipe
 * a store is a loop over the lanes like a load, and a vec4 shares one. It pays where the
 * stores are a large part of an invocation's work (few input channels): CNN-5's conv1 forward
 * pass ran 26% faster, conv2's forward and input gradient 6-7% (README).
 */
const STORE_BY_QUAD = `
@group(0) @binding(7) var<storage, read_write> out4: array<vec4f>;
fn store_quad(at: u32, v: vec4f, left: u32) {
  out4[at / 4u] = v;
}
`;
const ROWS_CODE = withPreamble(rowsSource, CONV_PARAMS.wgsl);
/** shaders/conv2d_rows.wgsl: 3-wide kernels at stride 1 (see Conv2dOptions.variant). */
const ROWS = declareShader('conv2d_rows', ROWS_CODE + STORE_BY_VALUE, [
  'forward_4x8',
  'forward_4x8_aligned',
  'forward_4x4',
  'forward_4x8_whole',
  'forward_4x4_whole',
  'weight_grad',
  'weight_grad_aligned',
  'weight_grad_streamed',
  'weight_grad_down4',
  'weight_grad_down8',
  'weights_by_tap',
  'weights_flipped',
]);
/** The same kernels, outputs stored as vec4s into binding 7: for the `_aligned` and `_whole` forward entries only. */
const ROWS_BY_QUAD = declareShader('conv2d_rows', ROWS_CODE + STORE_BY_QUAD, ['forward_4x8_aligned', 'forward_4x8_whole', 'forward_4x4_whole']);

const WG = 64;
/**
 * Invocations a weight/bias-gradient dispatch aims for: enough to fill a GPU, few enough
 * partial sums. A CPU adapter (2 threads of 8 lanes here) is full with far fewer, and each
 * chunk fewer is a row of partial sums less to write and add up: CNN-5's five weight
 * gradients took 547 ms at 1 << 16 and about 495 ms at 1 << 13, partial sums included
 * (`node dist/bench/conv2d.js --variants rows --passes weight`, alternating builds; 1 << 12
 * and 1 << 11 no faster).
 */
function targetInvocations(engine: Engine): number {
  return engine.caps.kind === 'cpu' ? 1 << 13 : 1 << 16;
}
/** Shortest run of positions one gradient invocation sums (shorter ones only add partial sums). */
const MIN_CHUNK = 64;

export interface Conv2dOptions {
  stride?: number | [number, number];
  padding?: number | [number, number];
  /**
   * Largest storage binding to use, in bytes (defaults to bindingLimit, src/engine/windows.ts). Tests set it
   * small to exercise the batch-chunked path on small tensors.
   */
  maxBindingBytes?: number;
  /**
   * Kernel family: 'tiles' (4x4 register tiles, any shape) or 'rows' (3-wide kernels at
   * stride 1: blocks of output rows x columns x channels from sliding input windows and vec4
   * weights; several times fewer loads per multiply-add), 'gemm', 'gemm-subgroups', 'gemm-f16'
   * (implicit GEMM with workgroup-shared tiles, any shape, kernels/conv2d-gemm.ts; the last two
   * need the `subgroups` / `shader-f16` features), asked for all three passes; a pass the
   * asked variant does not apply to runs 'tiles'. Default: each pass's chooser
   * (CONV_FAMILIES: the tuner's measured choice, else the rule, `defaultConvVariant`).
   */
  variant?: Conv2dVariant;
  /** Forward only: apply ReLU to the output in the same pass (folded batchnorm inference). */
  relu?: boolean;
}

/**
 * The variants of the three passes (conv2d.forward, conv2d.input_grad, conv2d.weight_grad;
 * CONV_FAMILIES below). `Conv2dOptions.variant` asks for one for every pass.
 */
export type Conv2dVariant = (typeof CONV_FAMILIES)[keyof typeof CONV_FAMILIES]['variants'][number];

const isGemm = (v: Conv2dVariant): v is GemmVariant => (GEMM_VARIANTS as readonly string[]).includes(v);

/**
 * The kernel family an adapter gets unless one is asked for or measured: 'rows' (where it
 * applies), except where the shader compiler is slow on long bodies
 * (capabilities.slowShaderCompiler: SwiftShader's Subzero spends minutes and over 24 GB on the
 * rows kernels); there 'tiles', compiled in moments.
 */
export function defaultConvVariant(engine: Engine): Conv2dVariant {
  return preferred(engine.caps);
}

function preferred(caps: Capabilities): 'tiles' | 'rows' {
  return caps.slowShaderCompiler ? 'tiles' : 'rows';
}

/** Sizes of one convolution: input [N,C,H,W], weight [O,C,kh,kw], output [N,O,Ho,Wo]. */
export interface Conv2dGeometry {
  N: number;
  C: number;
  H: number;
  W: number;
  O: number;
  kh: number;
  kw: number;
  sh: number;
  sw: number;
  ph: number;
  pw: number;
  Ho: number;
  Wo: number;
}

function pair(v: number | [number, number] | undefined, fallback: number, what: string, min: number): [number, number] {
  const [a, b] = v === undefined ? [fallback, fallback] : typeof v === 'number' ? [v, v] : v;
  if (![a, b].every((d) => Number.isInteger(d) && d >= min)) {
    throw new Error(`conv2d: ${what} must be whole numbers >= ${min}, got ${JSON.stringify(v)}`);
  }
  return [a, b];
}

/** Validates the shapes and options and computes the output size (PyTorch's formula). */
export function conv2dGeometry(xShape: readonly number[], wShape: readonly number[], opts: Conv2dOptions = {}): Conv2dGeometry {
  if (xShape.length !== 4) throw new Error(`conv2d: input must be [N, C, H, W], got [${xShape.join(', ')}]`);
  if (wShape.length !== 4) throw new Error(`conv2d: weight must be [O, C, kh, kw], got [${wShape.join(', ')}]`);
  const [N, C, H, W] = xShape;
  const [O, Cw, kh, kw] = wShape;
  if (Cw !== C) throw new Error(`conv2d: input has ${C} channels but weight [${wShape.join(', ')}] expects ${Cw}`);
  if ([N, C, H, W, O, kh, kw].some((d) => d < 1)) {
    throw new Error(`conv2d: empty input [${xShape.join(', ')}] or weight [${wShape.join(', ')}]`);
  }
  const [sh, sw] = pair(opts.stride, 1, 'stride', 1);
  const [ph, pw] = pair(opts.padding, 0, 'padding', 0);
  const Ho = Math.floor((H + 2 * ph - kh) / sh) + 1;
  const Wo = Math.floor((W + 2 * pw - kw) / sw) + 1;
  if (Ho < 1 || Wo < 1) {
    throw new Error(`conv2d: kernel ${kh}x${kw} does not fit input ${H}x${W} with padding ${ph},${pw}`);
  }
  return { N, C, H, W, O, kh, kw, sh, sw, ph, pw, Ho, Wo };
}

// ---- choosers: one family per pass (kernels/choose.ts) -------------------------------

/** Why the rows kernels cannot run a pass of `g` (null: they can). */
function rowsMisfit(g: Conv2dGeometry, pass: 'forward' | 'input' | 'weight'): string | null {
  if (g.kw !== 3 || g.sh !== 1 || g.sw !== 1) return 'rows needs a 3-wide kernel at stride 1';
  // The input gradient is a forward pass with padding (kh-1-ph, 2-pw), which must be >= 0.
  if (pass === 'input' && !(g.ph <= g.kh - 1 && g.pw <= 2)) return 'rows needs padding of at most the kernel size - 1 for the input gradient';
  // The weight gradient keeps all nine taps of a 3x3 kernel and reads the output gradient
  // as vec4s along its rows.
  if (pass === 'weight' && !(g.kh === 3 && g.Wo % 4 === 0)) return 'rows needs a 3x3 kernel and output rows a multiple of 4 wide for the weight gradient';
  return null;
}

/** The shape class of a convolution: its geometry with the batch rounded up to a power of two. */
const convKey = (g: Conv2dGeometry) => `N${batchClass(g.N)} C${g.C} ${g.H}x${g.W} O${g.O} k${g.kh}x${g.kw} s${g.sh}x${g.sw} p${g.ph}x${g.pw}`;

/** Every convolution variant, as each pass's family lists them. */
const CONV_VARIANTS = ['tiles', 'rows', ...GEMM_VARIANTS] as const;

function convFamily(pass: 'forward' | 'input' | 'weight', name: string, bench: (engine: Engine, g: Conv2dGeometry) => (v: (typeof CONV_VARIANTS)[number]) => void) {
  return declareFamily({
    name,
    variants: CONV_VARIANTS,
    applies: (v, g: Conv2dGeometry, caps) => (v === 'rows' ? (rowsMisfit(g, pass) ?? true) : v === 'tiles' ? true : (gemmMisfit(caps, v) ?? true)),
    rule: (g, caps) => (preferred(caps) === 'rows' && rowsMisfit(g, pass) === null ? 'rows' : 'tiles'),
    key: convKey,
    shaders: [TILES, ROWS, ROWS_BY_QUAD, ...GEMM_SHADERS],
    // The rows kernels' compile takes minutes where the compiler is slow: never tried there.
    // f16 storage changes the results (about 1e-3): only ever asked for, never picked by time.
    tunable: (v, _g, caps) => (v !== 'rows' || !caps.slowShaderCompiler) && v !== 'gemm-f16',
    bench,
  });
}

const optsOf = (g: Conv2dGeometry, variant: Conv2dVariant): Conv2dOptions => ({ stride: [g.sh, g.sw], padding: [g.ph, g.pw], variant });

/** The convolution families: one chooser per pass. */
export const CONV_FAMILIES = {
  forward: convFamily('forward', 'conv2d.forward', (engine, g) => {
    const x = benchInput(engine, [g.N, g.C, g.H, g.W]);
    const w = benchInput(engine, [g.O, g.C, g.kh, g.kw]);
    const b = benchInput(engine, [g.O]);
    return (v) => void conv2dForward(x, w, b, optsOf(g, v));
  }),
  inputGrad: convFamily('input', 'conv2d.input_grad', (engine, g) => {
    const dy = benchInput(engine, [g.N, g.O, g.Ho, g.Wo]);
    const w = benchInput(engine, [g.O, g.C, g.kh, g.kw]);
    return (v) => void conv2dInputGrad(dy, w, [g.N, g.C, g.H, g.W], optsOf(g, v));
  }),
  weightGrad: convFamily('weight', 'conv2d.weight_grad', (engine, g) => {
    const x = benchInput(engine, [g.N, g.C, g.H, g.W]);
    const dy = benchInput(engine, [g.N, g.O, g.Ho, g.Wo]);
    return (v) => void conv2dWeightGrad(x, dy, [g.O, g.C, g.kh, g.kw], optsOf(g, v));
  }),
};

/**
 * The variant a pass runs. `opts.variant` asks for one for all three passes: where 'rows'
 * does not fit a pass's shape that pass runs 'tiles' (which runs any shape); an unknown name,
 * or a variant this adapter lacks the features for, is an Error. Unasked: the family's
 * chooser (tuned choice, else rule).
 */
function variantOf<V extends string>(engine: Engine, family: Family<V, Conv2dGeometry>, g: Conv2dGeometry, opts: Conv2dOptions): V {
  const asked = opts.variant;
  if (asked === undefined) return choose(engine, family, g);
  return choose(engine, family, g, asked === 'rows' && check(family, asked, g, engine.caps) !== true ? 'tiles' : asked);
}

// ---- uniforms and binding checks (batch chunks and windows: src/engine/windows.ts) ---

function params(
  engine: Engine,
  g: Conv2dGeometry,
  nb: number,
  extra: { base0?: number; base1?: number; baseOut?: number; chunk?: number; chunks?: number; chunkBase?: number; hasBias?: boolean; relu?: boolean },
): GPUBuffer {
  return CONV_PARAMS.pack(engine, {
    N: nb, C: g.C, H: g.H, W: g.W, O: g.O, Ho: g.Ho, Wo: g.Wo, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw,
    base0: extra.base0 ?? 0, base1: extra.base1 ?? 0, baseOut: extra.baseOut ?? 0,
    chunk: extra.chunk ?? 0, chunks: extra.chunks ?? 0, chunkBase: extra.chunkBase ?? 0, hasBias: !!extra.hasBias, relu: !!extra.relu,
  });
}

/**
 * The bindings, after checking that none is larger than `limit` (the binding limit, or the
 * smaller one a test forces): a tensor bound whole where a window was due fails here, in
 * tests with small tensors, instead of on the device with large ones.
 */
function within(limit: number, bindings: Binding[]): Binding[] {
  for (const b of bindings) {
    // A window has `size`; a tensor bound whole has `bytes`; uniform buffers are neither.
    const bytes = b === null ? 0 : 'tensor' in b ? b.size : 'bytes' in b ? b.bytes : 0;
    if (bytes > limit) throw new Error(`conv2d: internal error: a ${bytes}-byte binding exceeds the ${limit}-byte binding limit`);
  }
  return bindings;
}

function limitOf(engine: Engine, opts: Conv2dOptions): number {
  const limit = Math.min(opts.maxBindingBytes ?? bindingLimit(engine), bindingLimit(engine));
  if (!(limit > 0)) throw new Error(`conv2d: bad maxBindingBytes ${opts.maxBindingBytes}`);
  return limit;
}

function requireF32(...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') throw new Error(`conv2d: expects float32 tensors, got ${t.dtype}`);
}

function sameShape(t: Tensor, shape: readonly number[], what: string): void {
  if (t.shape.join() !== shape.join()) throw new Error(`conv2d: ${what} is [${t.shape.join(', ')}], expected [${shape.join(', ')}]`);
}

// ---- forward -------------------------------------------------------------------------

/** y = conv2d(x, w) + b, x [N,C,H,W], w [O,C,kh,kw], b [O] or null -> [N,O,Ho,Wo]. */
export function conv2dForward(x: Tensor, w: Tensor, b: Tensor | null, opts: Conv2dOptions = {}): Tensor {
  requireF32(x, w, ...(b ? [b] : []));
  const g = conv2dGeometry(x.shape, w.shape, opts);
  if (b) sameShape(b, [g.O], 'bias');
  const engine = x.engine;
  const limit = limitOf(engine, opts);
  const variant = variantOf(engine, CONV_FAMILIES.forward, g, opts);
  if (isGemm(variant)) return gemmForward(x, w, b, g, limit, variant, !!opts.relu);
  if (variant === 'rows') {
    return engine.scope(() => forwardRows(x, weightLayout(w, g, 'weights_by_tap'), b, g, limit, !!opts.relu));
  }
  const relu = !!opts.relu;
  const y = engine.empty([g.N, g.O, g.Ho, g.Wo]);
  const xImage = g.C * g.H * g.W;
  const yImage = g.O * g.Ho * g.Wo;
  const pipeline = TILES.pipeline(engine, 'forward', { WG });
  for (const chunk of batchChunks(engine, 'conv2d', g.N, [xImage, yImage], limit)) {
    const xs = sampleWindow(x, xImage, chunk, g.N);
    const ys = sampleWindow(y, yImage, chunk, g.N);
    const p = params(engine, g, chunk.count, { base0: xs.base, baseOut: ys.base, hasBias: !!b, relu });
    const invocations = chunk.count * Math.ceil(g.O / 4) * Math.ceil((g.Ho * g.Wo) / 4);
    // Without a bias the weight stands in for its (unread) binding.
    engine.dispatch(pipeline, within(limit, [xs.binding, w, b ?? w, ys.binding, p]), engine.grid(invocations, WG));
  }
  return y;
}

// ---- the 'rows' variant (shaders/conv2d_rows.wgsl) -------------------------------------

/**
 * The weights rearranged for the rows kernels in blocks of 8 output channels (the last
 * padded with zeros): [ceil(O/8), C*kh*kw, 8] by tap, or [ceil(C/8), O*kh*kw, 8] flipped.
 */
function weightLayout(w: Tensor, g: Conv2dGeometry, entry: 'weights_by_tap' | 'weights_flipped'): Tensor {
  const engine = w.engine;
  const KK = g.kh * g.kw;
  const shape = entry === 'weights_by_tap' ? [Math.ceil(g.O / 8), g.C * KK, 8] : [Math.ceil(g.C / 8), g.O * KK, 8];
  const out = engine.empty(shape);
  const p = params(engine, g, 0, {});
  engine.dispatch(ROWS.pipeline(engine, entry, { WG }), [w, null, null, out, p], engine.grid(out.size, WG));
  return out;
}

/**
 * Whether the rows kernels may read the middle of each input window as vec4s: rows a
 * multiple of 4 wide, padding 1 and whole blocks of `cols` columns, so every window's middle
 * starts at a multiple of 4 in its binding (binding windows start at multiples of 64 floats).
 */
function alignedWindows(g: Conv2dGeometry, cols: number): boolean {
  return g.W % 4 === 0 && g.pw === 1 && g.Wo === g.W && g.Wo % cols === 0;
}

/** The rows forward pass with weights already laid out by `weightLayout` (by tap). */
function forwardRows(x: Tensor, wT: Tensor, b: Tensor | null, g: Conv2dGeometry, limit: number, relu = false): Tensor {
  const engine = x.engine;
  const y = engine.empty([g.N, g.O, g.Ho, g.Wo]);
  const xImage = g.C * g.H * g.W;
  const yImage = g.O * g.Ho * g.Wo;
  // Blocks of 4 rows x 8 columns where rows are at least 8 wide, else 4 rows x 4 columns.
  const wide = g.Wo >= 8;
  const [rows, cols] = wide ? [4, 8] : [4, 4];
  const aligned = alignedWindows(g, cols);
  // Rows exactly one block wide: the windows' edges are the padding (the `_whole` entries skip their reads).
  const whole = aligned && g.W === cols;
  // (Narrow aligned rows are 4 wide, so always whole.)
  const entry = whole ? (wide ? 'forward_4x8_whole' : 'forward_4x4_whole') : wide ? (aligned ? 'forward_4x8_aligned' : 'forward_4x8') : 'forward_4x4';
  // Aligned rows: whole quads of outputs, stored as vec4s (binding 7; rows a multiple of 4 wide
  // and binding windows at multiples of 64 floats keep every quad at a multiple of 4).
  const pipeline = (aligned ? ROWS_BY_QUAD : ROWS).pipeline(engine, entry, { WG });
  for (const chunk of batchChunks(engine, 'conv2d', g.N, [xImage, yImage], limit)) {
    const xs = sampleWindow(x, xImage, chunk, g.N);
    const ys = sampleWindow(y, yImage, chunk, g.N);
    const p = params(engine, g, chunk.count, { base0: xs.base, baseOut: ys.base, hasBias: !!b, relu });
    const invocations = chunk.count * Math.ceil(g.Ho / rows) * Math.ceil(g.Wo / cols) * Math.ceil(g.O / 8);
    // Without a bias the (small) weights stand in for its unread binding; never x, which
    // may be larger than one binding (VGG-16's input gradients are 195 MB at batch 32).
    const out = aligned ? [null, p, xs.binding, null, ys.binding] : [ys.binding, p, xs.binding];
    engine.dispatch(pipeline, within(limit, [xs.binding, wT, b ?? wT, ...out]), engine.grid(invocations, WG));
  }
  return y;
}

// ---- gradients -----------------------------------------------------------------------

/** dL/dx for y = conv2d(x, w): dy [N,O,Ho,Wo], w [O,C,kh,kw] -> [N,C,H,W] of `xShape`. */
export function conv2dInputGrad(dy: Tensor, w: Tensor, xShape: readonly number[], opts: Conv2dOptions = {}): Tensor {
  requireF32(dy, w);
  const g = conv2dGeometry(xShape, w.shape, opts);
  sameShape(dy, [g.N, g.O, g.Ho, g.Wo], 'output gradient');
  const engine = dy.engine;
  const limit = limitOf(engine, opts);
  const variant = variantOf(engine, CONV_FAMILIES.inputGrad, g, opts);
  if (isGemm(variant)) return gemmInputGrad(dy, w, g, limit, variant);
  if (variant === 'rows') {
    // A stride-1 convolution's input gradient is the convolution of dy with the weights
    // turned 180 degrees and their channel axes swapped, padded by (kh-1-ph, kw-1-pw).
    const turned: Conv2dGeometry = { ...g, C: g.O, H: g.Ho, W: g.Wo, O: g.C, ph: g.kh - 1 - g.ph, pw: 2 - g.pw, Ho: g.H, Wo: g.W };
    return engine.scope(() => forwardRows(dy, weightLayout(w, g, 'weights_flipped'), null, turned, limit));
  }
  const dx = engine.empty(xShape);
  const xImage = g.C * g.H * g.W;
  const yImage = g.O * g.Ho * g.Wo;
  const pipeline = TILES.pipeline(engine, 'input_grad', { WG });
  const tiles = Math.ceil(Math.ceil(g.W / g.sw) / 4);
  for (const chunk of batchChunks(engine, 'conv2d', g.N, [xImage, yImage], limit)) {
    const dys = sampleWindow(dy, yImage, chunk, g.N);
    const dxs = sampleWindow(dx, xImage, chunk, g.N);
    const p = params(engine, g, chunk.count, { base0: dys.base, baseOut: dxs.base });
    const invocations = chunk.count * Math.ceil(g.C / 4) * g.H * g.sw * tiles;
    engine.dispatch(pipeline, within(limit, [dys.binding, w, null, dxs.binding, p]), engine.grid(invocations, WG));
  }
  return dx;
}

/**
 * Chunk length for a gradient that sums over `units` (output rows or positions) of
 * `unitSize` positions each: long enough that the partial sums stay small (at most
 * `maxRows` rows), short enough to give about targetInvocations invocations, so no
 * invocation walks the whole batch alone.
 */
function chunkLength(engine: Engine, units: number, unitSize: number, tiles: number, maxRows: number): number {
  const wanted = Math.max(1, Math.min(Math.ceil(targetInvocations(engine) / tiles), maxRows));
  return Math.max(Math.ceil(MIN_CHUNK / unitSize), Math.ceil(units / wanted));
}

/**
 * Runs `dispatchChunk` for every batch chunk with the number of partial-sum rows it needs,
 * and returns the sum of those rows: `partialShape` with the row count prepended, summed over axis 0.
 */
function sumOfPartials(
  engine: Engine,
  unitsPerImage: number,
  batch: BatchChunk[],
  chunk: number,
  rowShape: readonly number[],
  dispatchChunk: (b: BatchChunk, partial: Tensor, chunks: number, chunkBase: number) => void,
): Tensor {
  const rowsOf = (b: BatchChunk) => Math.ceil((b.count * unitsPerImage) / chunk);
  const rows = batch.reduce((s, b) => s + rowsOf(b), 0);
  const partial = engine.empty([rows, ...rowShape]);
  let chunkBase = 0;
  for (const b of batch) {
    dispatchChunk(b, partial, rowsOf(b), chunkBase);
    chunkBase += rowsOf(b);
  }
  const sum = sumAxis(partial, 0);
  partial.dispose();
  return sum;
}

function partialRowsBudget(limit: number, rowFloats: number): number {
  // Partial sums are bound whole; stay well inside the binding and modest in memory.
  return Math.max(1, Math.floor(Math.min(limit / 2, 32 * 2 ** 20) / (rowFloats * 4)));
}

/** dL/dw for y = conv2d(x, w): x [N,C,H,W], dy [N,O,Ho,Wo] -> [O,C,kh,kw] of `wShape`. */
export function conv2dWeightGrad(x: Tensor, dy: Tensor, wShape: readonly number[], opts: Conv2dOptions = {}): Tensor {
  requireF32(x, dy);
  const g = conv2dGeometry(x.shape, wShape, opts);
  sameShape(dy, [g.N, g.O, g.Ho, g.Wo], 'output gradient');
  const engine = x.engine;
  const limit = limitOf(engine, opts);
  const variant = variantOf(engine, CONV_FAMILIES.weightGrad, g, opts);
  if (isGemm(variant)) return gemmWeightGrad(x, dy, g, limit, variant);
  const K = g.C * g.kh * g.kw;
  const xImage = g.C * g.H * g.W;
  const yImage = g.O * g.Ho * g.Wo;
  const tiles = Math.ceil(K / 4) * Math.ceil(g.O / 4);
  const batch = batchChunks(engine, 'conv2d', g.N, [xImage, yImage], limit);
  const maxRows = Math.max(1, partialRowsBudget(limit, g.O * K) - batch.length);
  // Chunks are runs of whole output rows (n, oy).
  if (variant === 'rows') {
    // Invocations: (chunk, block of 8 output channels, pair of input channels).
    const perChunk = Math.ceil(g.C / 2) * Math.ceil(g.O / 8);
    const rowsChunk = chunkLength(engine, g.N * g.Ho, g.Wo, perChunk, maxRows);
    const aligned = alignedWindows(g, 4);
    // Rows of 16 columns or more are streamed (one vec4 read per row per step); on shorter
    // ones the extra read at the row's end costs more than the edge values it saves.
    // Rows of 4 or 8 as tall as the input's are walked down whole (weight_grad_down).
    const down = aligned && g.ph === 1 && g.Ho === g.H && (g.W === 4 || g.W === 8);
    const entry = down ? (g.W === 4 ? 'weight_grad_down4' : 'weight_grad_down8') : aligned ? (g.Wo >= 16 ? 'weight_grad_streamed' : 'weight_grad_aligned') : 'weight_grad';
    const pipeline = ROWS.pipeline(engine, entry, { WG });
    return sumOfPartials(engine, g.Ho, batch, rowsChunk, wShape, (b, partial, chunks, chunkBase) => {
      if (partial.bytes > limit) throw new Error(`conv2d: weight-gradient partial sums (${partial.bytes} bytes) exceed the binding limit ${limit}`);
      const xs = sampleWindow(x, xImage, b, g.N);
      const dys = sampleWindow(dy, yImage, b, g.N);
      const p = params(engine, g, b.count, { base0: xs.base, base1: dys.base, chunk: rowsChunk, chunks, chunkBase });
      // weight_grad_down reads x through its vec4 view (binding 5) alone.
      engine.dispatch(pipeline, within(limit, [down ? null : xs.binding, dys.binding, null, partial, p, xs.binding]), engine.grid(perChunk * chunks, WG));
    });
  }
  const chunk = chunkLength(engine, g.N * g.Ho, g.Wo, tiles, maxRows);
  const pipeline = TILES.pipeline(engine, 'weight_grad', { WG });
  return sumOfPartials(engine, g.Ho, batch, chunk, wShape, (b, partial, chunks, chunkBase) => {
    if (partial.bytes > limit) throw new Error(`conv2d: weight-gradient partial sums (${partial.bytes} bytes) exceed the binding limit ${limit}`);
    const xs = sampleWindow(x, xImage, b, g.N);
    const dys = sampleWindow(dy, yImage, b, g.N);
    const p = params(engine, g, b.count, { base0: xs.base, base1: dys.base, chunk, chunks, chunkBase });
    engine.dispatch(pipeline, within(limit, [xs.binding, dys.binding, null, partial, p]), engine.grid(tiles * chunks, WG));
  });
}

/** dL/db for y = conv2d(x, w) + b: dy [N,O,Ho,Wo] -> [O]. */
export function conv2dBiasGrad(dy: Tensor, opts: Conv2dOptions = {}): Tensor {
  requireF32(dy);
  if (dy.shape.length !== 4) throw new Error(`conv2d: output gradient must be [N, O, Ho, Wo], got [${dy.shape.join(', ')}]`);
  const [N, O, Ho, Wo] = dy.shape;
  // A 1x1 convolution's geometry describes dy's layout; only N, O, Ho, Wo are read.
  const g = conv2dGeometry([N, 1, Ho, Wo], [O, 1, 1, 1]);
  const engine = dy.engine;
  const limit = limitOf(engine, opts);
  const yImage = O * Ho * Wo;
  const batch = batchChunks(engine, 'conv2d', N, [yImage], limit);
  // Chunks are runs of output positions.
  const chunk = chunkLength(engine, N * Ho * Wo, 1, O, partialRowsBudget(limit, O) - batch.length);
  const pipeline = TILES.pipeline(engine, 'bias_grad', { WG });
  return sumOfPartials(engine, Ho * Wo, batch, chunk, [O], (b, partial, chunks, chunkBase) => {
    const dys = sampleWindow(dy, yImage, b, N);
    const p = params(engine, g, b.count, { base0: dys.base, chunk, chunks, chunkBase });
    engine.dispatch(pipeline, within(limit, [dys.binding, null, null, partial, p]), engine.grid(O * chunks, WG));
  });
}
