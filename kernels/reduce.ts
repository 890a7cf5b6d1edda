// Launchers for shaders/reduce.wgsl.
import source from '../shaders/reduce.wgsl';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 256;

const REDUCE_PARAMS = declareParams([
  ['outer', 'u32'],
  ['n', 'u32'],
  ['inner', 'u32'],
  ['scale', 'f32'],
  ['chunks', 'u32', 'reduce_sum: the axis is cut into `chunks` pieces of `chunk`, one output each'],
  ['chunk', 'u32'],
]);
const REDUCE = declareShader('reduce', withPreamble(source, REDUCE_PARAMS.wgsl), ['reduce_sum', 'reduce_max', 'max_backward']);
/** Past this length, with few outputs, a sum is done in two passes. */
const SPLIT = 4096;

function normalizeAxis(axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new Error(`axis ${axis} out of range for rank ${rank}`);
  return a;
}

/** [outer, n, inner] view of `shape` around `axis`. */
export function axisView(shape: readonly number[], axis: number): { outer: number; n: number; inner: number } {
  const a = normalizeAxis(axis, shape.length);
  const outer = shape.slice(0, a).reduce((x, y) => x * y, 1);
  const inner = shape.slice(a + 1).reduce((x, y) => x * y, 1);
  return { outer, n: shape[a], inner };
}

function reducedShape(shape: readonly number[], axis: number, keepDims: boolean): number[] {
  const a = normalizeAxis(axis, shape.length);
  return keepDims ? shape.map((d, i) => (i === a ? 1 : d)) : shape.filter((_, i) => i !== a);
}

function sumRaw(x: Tensor, outer: number, n: number, inner: number, scale: number, outShape: readonly number[]): Tensor {
  const engine = x.engine;
  if (n > SPLIT && outer * inner < 1024) {
    // Two passes: partial sums over chunks of about sqrt(n), then the sum of those.
    const chunk = Math.ceil(Math.sqrt(n));
    const chunks = Math.ceil(n / chunk);
    const partial = engine.empty([outer, chunks, inner]);
    const p = REDUCE_PARAMS.pack(engine, { outer, n, inner, scale: 1, chunks, chunk });
    engine.dispatch(REDUCE.pipeline(engine, 'reduce_sum', { WG }), [x, partial, null, p], engine.grid(partial.size, WG));
    const result = sumRaw(partial, outer, chunks, inner, scale, outShape);
    partial.dispose();
    return result;
  }
  const out = engine.empty(outShape);
  const p = REDUCE_PARAMS.pack(engine, { outer, n, inner, scale, chunks: 1, chunk: n });
  engine.dispatch(REDUCE.pipeline(engine, 'reduce_sum', { WG }), [x, out, null, p], engine.grid(outer * inner, WG));
  return out;
}

/** scale * sum along `axis`. */
export function sumAxis(x: Tensor, axis: number, keepDims = false, scale = 1): Tensor {
  if (x.dtype !== 'f32') throw new Error('sum: expects float32');
  const { outer, n, inner } = axisView(x.shape, axis);
  if (n === 0) throw new Error('sum over an empty axis');
  return sumRaw(x, outer, n, inner, scale, reducedShape(x.shape, axis, keepDims));
}

/** Max along `axis` and the (first) position of the max, as int32. */
export function maxAxis(x: Tensor, axis: number, keepDims = false): { values: Tensor; indices: Tensor } {
  if (x.dtype !== 'f32') throw new Error('max: expects float32');
  const engine = x.engine;
  const { outer, n, inner } = axisView(x.shape, axis);
  if (n === 0) throw new Error('max over an empty axis');
  const shape = reducedShape(x.shape, axis, keepDims);
  const values = engine.empty(shape);
  const indices = engine.empty(shape, 'i32');
  const p = REDUCE_PARAMS.pack(engine, { outer, n, inner, scale: 0, chunks: 1, chunk: n });
  engine.dispatch(REDUCE.pipeline(engine, 'reduce_max', { WG }), [x, values, indices, p], engine.grid(outer * inner, WG));
  return { values, indices };
}

/** Scatters `grad` (the reduced shape) to the argmax positions of an input of `inputShape`. */
export function maxAxisBackward(grad: Tensor, indices: Tensor, inputShape: readonly number[], axis: number): Tensor {
  const engine = grad.engine;
  const { outer, n, inner } = axisView(inputShape, axis);
  const out = engine.empty(inputShape);
  const p = REDUCE_PARAMS.pack(engine, { outer, n, inner, scale: 0, chunks: 1, chunk: n });
  engine.dispatch(REDUCE.pipeline(engine, 'max_backward', { WG }), [grad, out, indices, p], engine.grid(out.size, WG));
  return out;
}
