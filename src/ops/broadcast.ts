// Undoing a broadcast in the backward pass: sum a gradient down to an operand's shape.
import type { Tensor } from '../engine/tensor.js';
import { sumAxis } from '../../kernels/reduce.js';

/** `g` itself when it already has `shape`; otherwise a new tensor (partial sums are scoped). */
export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const engine = g.engine;
  return engine.scope(() => {
    let cur = g;
    // Leading axes the operand does not have.
    while (cur.shape.length > shape.length) cur = sumAxis(cur, 0);
    // Axes where the operand has size 1.
    for (let i = 0; i < shape.length; i++) {
      if (shape[i] === 1 && cur.shape[i] !== 1) cur = sumAxis(cur, i, true);
    }
    return cur === g ? engine.view(g, shape) : cur;
  });
}
