// Launcher for shaders/permute.wgsl.
import source from '../shaders/permute.wgsl';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 256;
const MAX_RANK = 8;

const PERMUTE_PARAMS = declareParams([
  ['n', 'u32'],
  ['shape', 'array<vec4u, 2>', 'output axes: sizes'],
  ['stride', 'array<vec4u, 2>', 'output axes: input strides'],
]);
const PERMUTE = declareShader('permute', withPreamble(source, PERMUTE_PARAMS.wgsl), ['permute']);

/** out.shape[i] = x.shape[perm[i]]. */
export function permute(x: Tensor, perm: readonly number[]): Tensor {
  const rank = x.shape.length;
  if (perm.length !== rank || [...perm].sort((a, b) => a - b).some((v, i) => v !== i)) {
    throw new Error(`permute: [${perm}] is not a permutation of ${rank} axes`);
  }
  if (rank > MAX_RANK) throw new Error(`permute: rank ${rank} exceeds ${MAX_RANK}`);
  // Integers would pass through float registers, where denormal flushing could alter them.
  if (x.dtype !== 'f32') throw new Error('permute: expects float32');
  const inStrides = new Array(rank).fill(1);
  for (let i = rank - 2; i >= 0; i--) inStrides[i] = inStrides[i + 1] * x.shape[i + 1];
  const shape = perm.map((p) => x.shape[p]);
  const stride = perm.map((p) => inStrides[p]);
  const engine = x.engine;
  const out = engine.empty(shape, x.dtype);
  const p = PERMUTE_PARAMS.pack(engine, { n: out.size, shape, stride });
  engine.dispatch(PERMUTE.pipeline(engine, 'permute', { WG, RANK: rank }), [x, out, p], engine.grid(out.size, WG));
  return out;
}

export function transpose2d(x: Tensor): Tensor {
  if (x.shape.length !== 2) throw new Error(`transpose2d: expects a matrix, got [${x.shape}]`);
  return permute(x, [1, 0]);
}
