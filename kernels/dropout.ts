// Launcher for shaders/dropout.wgsl. Tensors larger than one storage binding are
// processed in windows; the hash uses the global element index, so the mask does not
// depend on how the work is split.
import source from '../shaders/dropout.wgsl';
import type { Tensor } from '../src/engine/tensor.js';
import { elementRanges, rangeBinding, rangeStep } from '../src/engine/windows.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 256;

const DROPOUT_PARAMS = declareParams([
  ['seed', 'u32'],
  ['threshold', 'u32'],
  ['scale', 'f32', '1 / (1 - p)'],
  ['base', 'u32', 'global index of element 0 of this binding (the launcher splits big tensors)'],
]);
const DROPOUT = declareShader('dropout', withPreamble(source, DROPOUT_PARAMS.wgsl), ['dropout']);

/** Elements per window: the binding limit, rounded down to the offset alignment. */

/** Validates p and returns the hash threshold (elements with hash >= threshold are kept). */
export function dropoutThreshold(p: number): number {
  if (!Number.isFinite(p) || p < 0 || p >= 1) throw new Error(`dropout: p must be in [0, 1), got ${p}`);
  return Math.min(Math.floor(p * 2 ** 32), 2 ** 32 - 1);
}

/**
 * out = mask(seed) * x / (1 - p). Applying it to the upstream gradient with the same
 * seed and p is the backward pass. `window` (elements per dispatch) is for tests.
 */
export function dropoutKernel(x: Tensor, p: number, seed: number, window = rangeStep(x.engine)): Tensor {
  if (x.dtype !== 'f32') throw new Error(`dropout: expects float32, got ${x.dtype}`);
  if (!Number.isInteger(seed)) throw new Error(`dropout: seed must be an integer, got ${seed}`);
  const threshold = dropoutThreshold(p);
  const engine = x.engine;
  const ranges = elementRanges(engine, 'dropout', x.size, window);
  const out = engine.empty(x.shape);
  const pipeline = DROPOUT.pipeline(engine, 'dropout', { WG });
  for (const r of ranges) {
    const params = DROPOUT_PARAMS.pack(engine, { seed: seed >>> 0, threshold, scale: 1 / (1 - p), base: r.start });
    engine.dispatch(pipeline, [rangeBinding(x, r), rangeBinding(out, r), params], engine.grid(r.count, WG));
  }
  return out;
}
