// Fully connected layer, PyTorch layout: y = x @ wᵀ + b with w [out, in].
// One tape node; its rule: dx = g @ w, dw = gᵀ @ x, db = sum of g over the batch.
// The transposes are operand flags of the matmul kernel, never materialised.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { matmul } from '../../kernels/matmul.js';
import { binary } from '../../kernels/elementwise.js';
import { sumAxis } from '../../kernels/reduce.js';

export function linear(x: Tensor, w: Tensor, b: Tensor | null): Tensor {
  if (x.shape.length !== 2 || w.shape.length !== 2) {
    throw new Error(`linear: expects x [N, in] and w [out, in], got [${x.shape.join(', ')}] and [${w.shape.join(', ')}]`);
  }
  const [outFeatures, inFeatures] = w.shape;
  if (x.shape[1] !== inFeatures) throw new Error(`linear: x has ${x.shape[1]} features, w [${w.shape.join(', ')}] expects ${inFeatures}`);
  if (b && (b.shape.length !== 1 || b.shape[0] !== outFeatures)) {
    throw new Error(`linear: bias [${b.shape.join(', ')}] does not match ${outFeatures} outputs`);
  }
  const y = x.engine.scope(() => {
    const xw = matmul(x, w, { transposeB: true });
    return b ? binary('add', xw, b) : xw;
  });
  const inputs = b ? [x, w, b] : [x, w];
  return record('linear', y, inputs, (g) => {
    const grads: (Tensor | null)[] = [
      x.requiresGrad ? matmul(g, w) : null,
      w.requiresGrad ? matmul(g, x, { transposeA: true }) : null,
    ];
    if (b) grads.push(b.requiresGrad ? sumAxis(g, 0) : null);
    return grads;
  });
}
