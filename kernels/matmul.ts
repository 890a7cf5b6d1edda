// Launcher for shaders/matmul.wgsl (register blocks, no barriers) and shaders/matmul_tiled.wgsl
// (workgroup-shared tiles).
import source from '../shaders/matmul.wgsl';
import tiledSource from '../shaders/matmul_tiled.wgsl';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble } from './declare.js';
import { batchClass, benchInput, choose, declareFamily } from './choose.js';

const WGX = 8;

const MATMUL_PARAMS = declareParams([
  ['M', 'u32'],
  ['N', 'u32'],
  ['K', 'u32'],
  ['batch', 'u32'],
  ['strideA', 'u32', 'elements between batches (0 broadcasts one matrix to every batch)'],
  ['strideB', 'u32'],
  ['strideC', 'u32'],
]);
const MATMUL = declareShader('matmul', withPreamble(source, MATMUL_PARAMS.wgsl), ['matmul']);
const WGY = 8;
const TILED = declareShader('matmul_tiled', withPreamble(tiledSource, MATMUL_PARAMS.wgsl), ['matmul_tiled']);
/** Rows and columns of C per workgroup of the tiled variant. */
const TILE = 64;

export interface MatmulOptions {
  transposeA?: boolean;
  transposeB?: boolean;
  /** Default: the chooser's (MATMUL_FAMILY); an asked one that does not apply is an Error. */
  variant?: MatmulVariant;
}

/** What the matmul chooser sees: C[batch] (M x N) = op(A) (M x K) @ op(B) (K x N). */
export interface MatmulShape {
  M: number;
  N: number;
  K: number;
  batch: number;
  transposeA: boolean;
  transposeB: boolean;
}

/**
 * 'registers': shaders/matmul.wgsl, each invocation a 4 x 4 block of C read straight from
 * memory, no barriers (what software adapters run fastest; the rule). 'tiled':
 * shaders/matmul_tiled.wgsl, 64 x 64 tiles per workgroup with operands shared in workgroup
 * memory (the GPU way; needs workgroups of 256).
 */
export const MATMUL_FAMILY = declareFamily({
  name: 'matmul',
  variants: ['registers', 'tiled'] as const,
  applies: (v, _s: MatmulShape, caps) =>
    v === 'registers' || caps.maxWorkgroupInvocations >= 256 || `the tiled variant's workgroups of 256 invocations exceed this adapter's ${caps.maxWorkgroupInvocations}`,
  rule: () => 'registers',
  key: (s) => `b${batchClass(s.batch)} ${s.M}x${s.K}x${s.N}${s.transposeA ? ' tA' : ''}${s.transposeB ? ' tB' : ''}`,
  shaders: [MATMUL, TILED],
  bench: (engine, s) => {
    const lead = s.batch > 1 ? [s.batch] : [];
    const a = benchInput(engine, [...lead, ...(s.transposeA ? [s.K, s.M] : [s.M, s.K])]);
    const b = benchInput(engine, [...lead, ...(s.transposeB ? [s.N, s.K] : [s.K, s.N])]);
    return (variant) => void matmul(a, b, { transposeA: s.transposeA, transposeB: s.transposeB, variant });
  },
});
export type MatmulVariant = (typeof MATMUL_FAMILY.variants)[number];

/**
 * op(A) @ op(B) for 2D matrices, or batched over a leading dimension when either is 3D
 * (a 2D operand is shared by every batch). Shapes are checked here, not in the shader.
 */
export function matmul(a: Tensor, b: Tensor, opts: MatmulOptions = {}): Tensor {
  const ta = !!opts.transposeA;
  const tb = !!opts.transposeB;
  if (a.dtype !== 'f32' || b.dtype !== 'f32') throw new Error('matmul: expects float32');
  if (a.shape.length < 2 || a.shape.length > 3 || b.shape.length < 2 || b.shape.length > 3) {
    throw new Error(`matmul: expects 2D or 3D operands, got [${a.shape}] and [${b.shape}]`);
  }
  const [ar, ac] = a.shape.slice(-2);
  const [br, bc] = b.shape.slice(-2);
  const M = ta ? ac : ar;
  const K = ta ? ar : ac;
  const Kb = tb ? bc : br;
  const N = tb ? br : bc;
  if (K !== Kb) throw new Error(`matmul: inner sizes differ: [${a.shape}]${ta ? 'ᵀ' : ''} @ [${b.shape}]${tb ? 'ᵀ' : ''}`);
  const batchA = a.shape.length === 3 ? a.shape[0] : 1;
  const batchB = b.shape.length === 3 ? b.shape[0] : 1;
  if (batchA !== batchB && batchA !== 1 && batchB !== 1) throw new Error(`matmul: batch sizes ${batchA} and ${batchB} differ`);
  const batch = Math.max(batchA, batchB);
  const batched = a.shape.length === 3 || b.shape.length === 3;
  const engine = a.engine;
  const variant = choose(engine, MATMUL_FAMILY, { M, N, K, batch, transposeA: ta, transposeB: tb }, opts.variant);
  const out = engine.empty(batched ? [batch, M, N] : [M, N]);
  const p = MATMUL_PARAMS.pack(engine, { M, N, K, batch, strideA: batchA === 1 ? 0 : M * K, strideB: batchB === 1 ? 0 : K * N, strideC: M * N });
  if (variant === 'tiled') {
    // Rows read as vec4s where they are contiguous and every batch's start is a multiple of 4.
    const constants = { TA: ta ? 1 : 0, TB: tb ? 1 : 0, VEC_A: !ta && K % 4 === 0 ? 1 : 0, VEC_B: !tb && N % 4 === 0 ? 1 : 0 };
    const v4 = (t: Tensor) => (t.bytes >= 16 ? t : { tensor: t, offset: 0, size: 16 });
    engine.dispatch(TILED.pipeline(engine, 'matmul_tiled', constants), [a, b, out, p, v4(a), v4(b)], [Math.ceil(N / TILE), Math.ceil(M / TILE), batch]);
    return out;
  }
  const pipeline = MATMUL.pipeline(engine, 'matmul', { TA: ta ? 1 : 0, TB: tb ? 1 : 0, WGX, WGY });
  engine.dispatch(pipeline, [a, b, out, p], [Math.ceil(N / 4 / WGX), Math.ceil(M / 4 / WGY), batch]);
  return out;
}
