// Differentiable reductions: sum, mean and max along an axis, and the full sum/mean.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { sumAxis, maxAxis, maxAxisBackward, axisView } from '../../kernels/reduce.js';
import { binary } from '../../kernels/elementwise.js';
import { fill } from '../../kernels/elementwise.js';

function keptShape(shape: readonly number[], axis: number): number[] {
  const a = axis < 0 ? axis + shape.length : axis;
  return shape.map((d, i) => (i === a ? 1 : d));
}

/** Broadcasts a reduced gradient back over the reduced axis, times `scale`. */
function expand(g: Tensor, inputShape: readonly number[], axis: number, scale: number): Tensor {
  const engine = g.engine;
  return binary('mul', fill(engine, inputShape, scale), engine.view(g, keptShape(inputShape, axis)));
}

export function sum(x: Tensor, axis: number, keepDims = false): Tensor {
  return record('sum', sumAxis(x, axis, keepDims), [x], (g) => [expand(g, x.shape, axis, 1)]);
}

export function mean(x: Tensor, axis: number, keepDims = false): Tensor {
  const { n } = axisView(x.shape, axis);
  return record('mean', sumAxis(x, axis, keepDims, 1 / n), [x], (g) => [expand(g, x.shape, axis, 1 / n)]);
}

export function max(x: Tensor, axis: number, keepDims = false): Tensor {
  const { values, indices } = maxAxis(x, axis, keepDims);
  return record('max', values, [x], (g) => [maxAxisBackward(g, indices, x.shape, axis)]);
}

/** Sum of every element, as a [1] tensor. */
export function sumAll(x: Tensor): Tensor {
  const out = x.engine.scope(() => sumAxis(x.engine.view(x, [x.size]), 0, true));
  return record('sumAll', out, [x], (g) => [binary('mul', fill(x.engine, x.shape, 1), g)]);
}

export function meanAll(x: Tensor): Tensor {
  const out = x.engine.scope(() => sumAxis(x.engine.view(x, [x.size]), 0, true, 1 / x.size));
  return record('meanAll', out, [x], (g) => [binary('mul', fill(x.engine, x.shape, 1 / x.size), g)]);
}
