// Undoing a broadcast in the backward pass: sum a gradient down to an operand's shape.
import type { Tensor } from '../engine/tensor.js';
import { sumAxis } from '../../kernels/reduce.js';

export function sumToShape(g: Tensor, shape: readonly number[]): Tensor {
  if (g.shape.join() === shape.join()) return g;
  const engine = g.engine;
  let cur = g;
  // Leading axes the operand does not have.
  while (cur.shape.length > shape.length) {
    const next = sumAxis(cur, 0);
    if (cur !== g) cur.dispose();
    cur = next;
  }
  // Axes where the operand has size 1.
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1 && cur.shape[i] !== 1) {
      const next = sumAxis(cur, i, true);
      if (cur !== g) cur.dispose();
      cur = next;
    }
  }
  return cur === g ? engine.view(g, shape) : cur;
}
