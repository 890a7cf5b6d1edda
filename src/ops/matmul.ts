// Differentiable matrix product. With C = A @ B: dA = dC @ Bᵀ, dB = Aᵀ @ dC; the
// transposes are folded into the kernel's operand order, never materialised.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { matmul as matmulKernel } from '../../kernels/matmul.js';

export function matmul(a: Tensor, b: Tensor): Tensor {
  if (a.shape.length !== 2 || b.shape.length !== 2) throw new Error('matmul op: 2D operands (use kernels/matmul for batches)');
  return record('matmul', matmulKernel(a, b), [a, b], (g) => [
    a.requiresGrad ? matmulKernel(g, b, { transposeB: true }) : null,
    b.requiresGrad ? matmulKernel(a, g, { transposeA: true }) : null,
  ]);
}
