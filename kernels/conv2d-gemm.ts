// Launchers for shaders/conv2d_gemm.wgsl: convolution as an implicit GEMM with
// workgroup-shared tiles of 64 x 64 or 16 x 256 (the 'gemm' variants of kernels/conv2d.ts), for any kernel
// size, stride and padding; the weight gradient as a split-K reduction whose partial sums
// are added by kernels/reduce.ts, or with subgroupAdd ('gemm-subgroups', needs `subgroups`);
// 'gemm-f16' stores the inputs as f16 and adds in f32 (needs `shader-f16`).
import source from '../shaders/conv2d_gemm.wgsl';
import f16Source from '../shaders/conv2d_gemm_f16.wgsl';
import subgroupSource from '../shaders/conv2d_gemm_subgroups.wgsl';
import type { Binding, BufferRange, Engine } from '../src/engine/engine.js';
import type { Capabilities } from '../src/gpu/capabilities.js';
import type { Tensor } from '../src/engine/tensor.js';
import type { Conv2dGeometry } from './conv2d.js';
import { sumAxis } from './reduce.js';
import { batchChunks, sampleWindow, type BatchChunk } from '../src/engine/windows.js';
import { CONV_GEOMETRY_FIELDS, declareParams, declareShader, withPreamble } from './declare.js';

const GEMM_PARAMS = declareParams([
  ['rows', 'u32', 'GEMM rows: output channels (forward, weight gradient) or input channels'],
  ['cols', 'u32', 'GEMM columns: positions of the chunk, or C*kh*kw (weight gradient)'],
  ['depth', 'u32', "GEMM depth: C*kh*kw, O*kh*kw, or the chunk's output positions"],
  ...CONV_GEOMETRY_FIELDS,
  ['base0', 'u32', 'element offset of the chunk in in_b (to_f16: in cvt_in)'],
  ['base1', 'u32', 'element offset of the chunk in in_a (weight gradient)'],
  ['baseOut', 'u32', 'element offset of the chunk in out'],
  ['split', 'u32', 'depth per workgroup layer (split-K)'],
  ['splits', 'u32', 'workgroup layers in this dispatch'],
  ['chunkBase', 'u32', 'weight gradient: first partial-sum row this dispatch writes'],
  ['hasBias', 'u32'],
  ['relu', 'u32'],
]);

const ENTRIES = ['forward', 'input_grad', 'weight_grad'] as const;
// The element type of the inputs; these lines and `enable f16` are all the f16 module changes.
const F32_TYPES = 'alias in_t = f32;\nalias in4_t = vec4f;';
const F16_TYPES = 'enable f16;\nalias in_t = f16;\nalias in4_t = vec4<f16>;';
const code = withPreamble(source, F32_TYPES, GEMM_PARAMS.wgsl);

/** shaders/conv2d_gemm.wgsl on f32 inputs. */
const GEMM = declareShader('conv2d_gemm', code, ENTRIES);
/** The same GEMM on f16 inputs, and `to_f16` (shaders/conv2d_gemm_f16.wgsl). Needs `shader-f16`. */
const GEMM_F16 = declareShader('conv2d_gemm_f16', `${withPreamble(f16Source, F16_TYPES, GEMM_PARAMS.wgsl)}\n${source}`, [...ENTRIES, 'to_f16']);
/** The split-K partial sums added with subgroupAdd; shares the f32 module's bindings and Params. Needs `subgroups`. */
const SUBGROUPS = declareShader('conv2d_gemm_subgroups', `${subgroupSource}\n${code}`, ['sum_partials']);

/** The shader texts, for the test that the f16 module differs from the f32 one only in its element type. */
/** The shaders of the gemm variants (their sources stamp the tuner's cached choices). */
export const GEMM_SHADERS = [GEMM, GEMM_F16, SUBGROUPS];
export const GEMM_CODE = { f32: GEMM.code, f16: GEMM_F16.code } as const;

const WGSIZE = 256;
const TK = 16;
/** Workgroups a weight-gradient dispatch aims for (split-K layers times tiles): a few per GPU core. */
const TARGET_WORKGROUPS = 512;

/**
 * Fewest partial-sum rows the subgroupAdd sum takes on: it gives each 4 columns a workgroup of
 * 64 invocations, idle past the rows' count (on SwiftShader, CNN-5 conv5's 4 rows of 589,824
 * took 9.1 s against 0.9 s for the plain reduction: bench/conv2d.ts at batch 4).
 */
const SUBGROUP_MIN_ROWS = 16;

export const GEMM_VARIANTS = ['gemm', 'gemm-subgroups', 'gemm-f16'] as const;
export type GemmVariant = (typeof GEMM_VARIANTS)[number];

/**
 * Why `variant` cannot run on an adapter with `caps` (null: it can): 'gemm' needs workgroups
 * of WGSIZE invocations, 'gemm-subgroups' also `subgroups`, 'gemm-f16' also `shader-f16`.
 */
export function gemmMisfit(caps: Capabilities, variant: GemmVariant): string | null {
  if (caps.maxWorkgroupInvocations < WGSIZE) return `workgroups of ${WGSIZE} invocations exceed this adapter's ${caps.maxWorkgroupInvocations}`;
  if (variant === 'gemm-subgroups' && !caps.subgroups) return "this adapter has no 'subgroups' feature";
  if (variant === 'gemm-f16' && !caps.f16) return "this adapter has no 'shader-f16' feature";
  return null;
}

/** gemmMisfit on `engine`'s adapter, as { ok } with the reason. */
export function gemmSupport(engine: Engine, variant: GemmVariant): { ok: true } | { ok: false; reason: string } {
  const reason = gemmMisfit(engine.caps, variant);
  return reason === null ? { ok: true } : { ok: false, reason };
}

function requireFeature(engine: Engine, variant: GemmVariant): void {
  const s = gemmSupport(engine, variant);
  if (!s.ok) throw new Error(`conv2d: variant '${variant}': ${s.reason}`);
}

type Extra = Partial<Record<'base0' | 'base1' | 'baseOut' | 'split' | 'splits' | 'chunkBase', number>> & { hasBias?: boolean; relu?: boolean };

function params(engine: Engine, g: Conv2dGeometry, nb: number, rows: number, cols: number, depth: number, e: Extra): GPUBuffer {
  return GEMM_PARAMS.pack(engine, {
    rows, cols, depth, N: nb, C: g.C, H: g.H, W: g.W, O: g.O, Ho: g.Ho, Wo: g.Wo, kh: g.kh, kw: g.kw, sh: g.sh, sw: g.sw, ph: g.ph, pw: g.pw,
    base0: e.base0 ?? 0, base1: e.base1 ?? 0, baseOut: e.baseOut ?? 0, split: e.split ?? depth, splits: e.splits ?? 1, chunkBase: e.chunkBase ?? 0,
    hasBias: !!e.hasBias, relu: !!e.relu,
  });
}

/** A binding seen as vec4s: at least 16 bytes long (buffers come from the pool in 256-byte classes). */
function vec4View(b: Tensor | BufferRange): Binding {
  if ('tensor' in b) return b.size >= 16 ? b : { ...b, size: 16 };
  return b.bytes >= 16 ? b : { tensor: b, offset: 0, size: 16 };
}

function tooLarge(limit: number, bindings: (Tensor | BufferRange)[]): void {
  for (const b of bindings) {
    const bytes = 'tensor' in b ? b.size : b.bytes;
    if (bytes > limit) throw new Error(`conv2d: internal error: a ${bytes}-byte binding exceeds the ${limit}-byte binding limit`);
  }
}

/** Workgroup counts for `workgroups` groups of the 1D flattening the shader undoes. */
function groups(engine: Engine, workgroups: number): [number, number, number] {
  return engine.grid(workgroups * WGSIZE, WGSIZE);
}

/** The padded area of a GEMM of `rows` x `cols` in tiles of `tileRows` x (4096 / tileRows). */
const padded = (rows: number, cols: number, tileRows: number) => Math.ceil(rows / tileRows) * Math.ceil(cols / (4096 / tileRows)) * 4096;
/** Workgroup memory of the 16 x 256 tiles' slabs, bytes (64 x 64 take 8 KiB, within WebGPU's 16 KiB minimum). */
const WIDE_SLABS_BYTES = (16 * 4 + 16 * 64) * 16;
/**
 * Rows of `out` per workgroup: 64 (tiles of 64 x 64), or 16 (16 x 256) where that wastes
 * less of the tiles (few rows and many columns: CNN-5 conv1's forward and input gradient)
 * and the adapter has the workgroup memory.
 */
function tileRows(engine: Engine, rows: number, cols: number): 16 | 64 {
  if (engine.caps.workgroupStorage < WIDE_SLABS_BYTES) return 64;
  return padded(rows, cols, 16) < padded(rows, cols, 64) ? 16 : 64;
}
/** Workgroups covering a GEMM of `rows` x `cols`. */
const tiles = (engine: Engine, rows: number, cols: number) => padded(rows, cols, tileRows(engine, rows, cols)) / 4096;

/** A 1x1 stride-1 unpadded convolution: a batched matmul (y[n] = w[O, C] @ x[n][C, H*W]), whose B rows the GEMM reads as vec4s. */
const isMatmul = (g: Conv2dGeometry) => g.kh === 1 && g.kw === 1 && g.sh === 1 && g.sw === 1 && g.ph === 0 && g.pw === 0;

/**
 * `count` values of `t` from element `base` stored as f16 (two per word) in a new tensor
 * bound whole, so the GEMM reads them from element 0. f16 variant only.
 */
function toF16(engine: Engine, t: Tensor | BufferRange, base: number, count: number): Tensor {
  const out = engine.empty([Math.max(4, Math.ceil(count / 2))]);
  const p = GEMM_PARAMS.pack(engine, {
    rows: 0, cols: 0, depth: count, N: 0, C: 0, H: 0, W: 0, O: 0, Ho: 0, Wo: 0, kh: 0, kw: 0, sh: 0, sw: 0, ph: 0, pw: 0,
    base0: base, base1: 0, baseOut: 0, split: 0, splits: 0, chunkBase: 0, hasBias: 0, relu: 0,
  });
  const bindings: Binding[] = [];
  bindings[6] = p;
  bindings[7] = t;
  bindings[8] = out;
  engine.dispatch(GEMM_F16.pipeline(engine, 'to_f16'), bindings, groups(engine, Math.ceil(count / 2 / WGSIZE)));
  return out;
}

/** Inputs of one batch chunk as the GEMM binds them: f32 windows, or f16 copies from element 0. */
interface Operand {
  binding: Tensor | BufferRange;
  base: number;
}

function operand(engine: Engine, f16: boolean, t: Tensor, perSample: number, chunk: BatchChunk, batch: number): Operand {
  const s = sampleWindow(t, perSample, chunk, batch);
  if (!f16) return s;
  return { binding: toF16(engine, s.binding, s.base, chunk.count * perSample), base: 0 };
}

function pipelineOf(engine: Engine, variant: GemmVariant, entry: (typeof ENTRIES)[number], rows: number, cols: number, vecA: boolean, vecB: boolean): GPUComputePipeline {
  const shader = variant === 'gemm-f16' ? GEMM_F16 : GEMM;
  return shader.pipeline(engine, entry, { ROWS: tileRows(engine, rows, cols), VEC_A: vecA ? 1 : 0, VEC_B: vecB ? 1 : 0 });
}

// ---- the three passes ------------------------------------------------------------------

/** What the forward pass and the input gradient differ in: their GEMM's sizes and the bias. */
interface WeightsGemm {
  /** Elements per sample of the streamed operand (x or dy) and of the output (y or dx). */
  srcImage: number;
  outImage: number;
  /** GEMM rows (output channels of this pass), depth, and output positions per image. */
  rows: number;
  depth: number;
  positions: number;
  /** The weights' rows read as vec4s. */
  vecA: boolean;
  bias: Tensor | null;
  relu: boolean;
}

/**
 * out = W-GEMM of `src` over batch chunks (the forward pass and the input gradient; the
 * shader's `entry` picks how W and src are indexed). Returns `out`.
 */
function weightsGemm(entry: 'forward' | 'input_grad', src: Tensor, w: Tensor, out: Tensor, g: Conv2dGeometry, limit: number, variant: GemmVariant, k: WeightsGemm): Tensor {
  const engine = src.engine;
  const f16 = variant === 'gemm-f16';
  engine.scope(() => {
    const wt = f16 ? toF16(engine, w, 0, w.size) : w;
    for (const chunk of batchChunks(engine, 'conv2d', g.N, [k.srcImage, k.outImage], limit)) {
      const s = operand(engine, f16, src, k.srcImage, chunk, g.N);
      const o = sampleWindow(out, k.outImage, chunk, g.N);
      tooLarge(limit, [s.binding, o.binding]);
      const cols = chunk.count * k.positions;
      // A 1x1 stride-1 unpadded convolution is a batched matmul: src's planes read as vec4s.
      const vecB = isMatmul(g) && (g.H * g.W) % 4 === 0 && s.base % 4 === 0;
      const pipeline = pipelineOf(engine, variant, entry, k.rows, cols, k.vecA, vecB);
      const p = params(engine, g, chunk.count, k.rows, cols, k.depth, { base0: s.base, baseOut: o.base, hasBias: !!k.bias, relu: k.relu });
      // Without a bias the weights stand in for its unread binding.
      engine.dispatch(pipeline, [s.binding, wt, vec4View(wt), vec4View(s.binding), k.bias ?? wt, o.binding, p], groups(engine, tiles(engine, k.rows, cols)));
    }
  });
  return out;
}

/**
 * y = conv2d(x, w) + b for geometry `g` (kernels/conv2d.ts checked the shapes): x [N,C,H,W],
 * w [O,C,kh,kw], b [O] or null -> [N,O,Ho,Wo]; `limit`: the binding limit in bytes.
 */
export function gemmForward(x: Tensor, w: Tensor, b: Tensor | null, g: Conv2dGeometry, limit: number, variant: GemmVariant, relu: boolean): Tensor {
  requireFeature(x.engine, variant);
  const depth = g.C * g.kh * g.kw;
  const y = x.engine.empty([g.N, g.O, g.Ho, g.Wo]);
  return weightsGemm('forward', x, w, y, g, limit, variant, {
    srcImage: g.C * g.H * g.W, outImage: g.O * g.Ho * g.Wo, rows: g.O, depth, positions: g.Ho * g.Wo, vecA: depth % 4 === 0, bias: b, relu,
  });
}

/** dL/dx: dy [N,O,Ho,Wo], w [O,C,kh,kw] -> [N,C,H,W]; a GEMM of the weights with dy (any stride). */
export function gemmInputGrad(dy: Tensor, w: Tensor, g: Conv2dGeometry, limit: number, variant: GemmVariant): Tensor {
  requireFeature(dy.engine, variant);
  const dx = dy.engine.empty([g.N, g.C, g.H, g.W]);
  return weightsGemm('input_grad', dy, w, dx, g, limit, variant, {
    srcImage: g.O * g.Ho * g.Wo, outImage: g.C * g.H * g.W, rows: g.C, depth: g.O * g.kh * g.kw, positions: g.H * g.W, vecA: false, bias: null, relu: false,
  });
}

/**
 * dL/dw: x [N,C,H,W], dy [N,O,Ho,Wo] -> [O,C,kh,kw]. Split-K: each batch chunk's output
 * positions are cut into runs of `split` (a multiple of 16), one workgroup layer each, which
 * write rows of partial sums; then the rows are added (subgroupAdd for 'gemm-subgroups').
 */
export function gemmWeightGrad(x: Tensor, dy: Tensor, g: Conv2dGeometry, limit: number, variant: GemmVariant): Tensor {
  const engine = x.engine;
  requireFeature(engine, variant);
  const f16 = variant === 'gemm-f16';
  const xImage = g.C * g.H * g.W;
  const yImage = g.O * g.Ho * g.Wo;
  const cols = g.C * g.kh * g.kw;
  const rowBytes = g.O * cols * 4;
  const batch = batchChunks(engine, 'conv2d', g.N, [xImage, yImage], limit);
  // Partial sums are bound whole: at most half the binding limit and 32 MiB.
  const budget = Math.floor(Math.min(limit / 2, 32 * 2 ** 20) / rowBytes);
  if (budget < batch.length) throw new Error(`conv2d: weight-gradient partial sums (${batch.length} rows of ${rowBytes} bytes) exceed the binding limit ${limit}`);
  const layersPer = Math.max(1, Math.min(Math.ceil(TARGET_WORKGROUPS / tiles(engine, g.O, cols)), Math.floor(budget / batch.length)));
  const plan = batch.map((chunk) => {
    const positions = chunk.count * g.Ho * g.Wo;
    const split = Math.ceil(positions / layersPer / TK) * TK;
    return { chunk, positions, split, layers: Math.ceil(positions / split) };
  });
  const rows = plan.reduce((s, c) => s + c.layers, 0);
  return engine.scope(() => {
    const partial = engine.empty([rows, g.O, g.C, g.kh, g.kw]);
    let chunkBase = 0;
    for (const { chunk, positions, split, layers } of plan) {
      const xs = operand(engine, f16, x, xImage, chunk, g.N);
      const dys = operand(engine, f16, dy, yImage, chunk, g.N);
      tooLarge(limit, [xs.binding, dys.binding, partial]);
      const vecA = (g.Ho * g.Wo) % 4 === 0 && dys.base % 4 === 0;
      const pipeline = pipelineOf(engine, variant, 'weight_grad', g.O, cols, vecA, false);
      const p = params(engine, g, chunk.count, g.O, cols, positions, { base0: xs.base, base1: dys.base, split, splits: layers, chunkBase });
      engine.dispatch(pipeline, [xs.binding, dys.binding, vec4View(dys.binding), vec4View(xs.binding), dys.binding, partial, p], groups(engine, tiles(engine, g.O, cols) * layers));
      chunkBase += layers;
    }
    if (variant !== 'gemm-subgroups' || rows < SUBGROUP_MIN_ROWS) return sumAxis(partial, 0);
    const dw = engine.empty([g.O, g.C, g.kh, g.kw]);
    const p = params(engine, g, 0, rows, g.O * cols, 0, {});
    const bindings: Binding[] = [];
    bindings[1] = partial;
    bindings[5] = dw;
    bindings[6] = p;
    engine.dispatch(SUBGROUPS.pipeline(engine, 'sum_partials'), bindings, engine.grid(Math.ceil((g.O * cols) / 4) * 64, 64));
    return dw;
  });
}
