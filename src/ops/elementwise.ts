// Differentiable elementwise ops: each forward with its backward rule beside it.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { unary, binary, affine, clamp as clampKernel } from '../../kernels/elementwise.js';
import { sumToShape } from './broadcast.js';

export function add(a: Tensor, b: Tensor): Tensor {
  return record('add', binary('add', a, b), [a, b], (g) => [sumToShape(g, a.shape), sumToShape(g, b.shape)]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return record('sub', binary('sub', a, b), [a, b], (g) => [sumToShape(g, a.shape), sumToShape(affine(g, -1), b.shape)]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return record('mul', binary('mul', a, b), [a, b], (g) => {
    const ga = a.requiresGrad ? sumToShape(binary('mul', g, b), a.shape) : null;
    const gb = b.requiresGrad ? sumToShape(binary('mul', g, a), b.shape) : null;
    return [ga, gb];
  });
}

export function div(a: Tensor, b: Tensor): Tensor {
  const out = binary('div', a, b);
  return record('div', out, [a, b], (g) => {
    const ga = a.requiresGrad ? sumToShape(binary('div', g, b), a.shape) : null;
    // d(a/b)/db = -(a/b)/b
    const gb = b.requiresGrad ? sumToShape(affine(binary('mul', g, binary('div', out, b)), -1), b.shape) : null;
    return [ga, gb];
  });
}

/** alpha * a + beta */
export function scale(a: Tensor, alpha: number, beta = 0): Tensor {
  return record('scale', affine(a, alpha, beta), [a], (g) => [affine(g, alpha)]);
}

export function neg(a: Tensor): Tensor {
  return scale(a, -1);
}

export function relu(a: Tensor): Tensor {
  return record('relu', unary('relu', a), [a], (g) => [binary('relu_backward', a, g)]);
}

export function exp(a: Tensor): Tensor {
  const out = unary('exp_', a);
  return record('exp', out, [a], (g) => [binary('mul', g, out)]);
}

export function log(a: Tensor): Tensor {
  return record('log', unary('log_', a), [a], (g) => [binary('div', g, a)]);
}

export function square(a: Tensor): Tensor {
  return record('square', unary('square', a), [a], (g) => [affine(binary('mul', g, a), 2)]);
}

export function sqrt(a: Tensor): Tensor {
  const out = unary('sqrt_', a);
  return record('sqrt', out, [a], (g) => [affine(binary('div', g, out), 0.5)]);
}

/** Not differentiable (the gradient of sign is zero almost everywhere). */
export function sign(a: Tensor): Tensor {
  return unary('sign_', a);
}

/** Clamp to [lo, hi]; not differentiable here (only used on attack outputs). */
export function clamp(a: Tensor, lo: number, hi: number): Tensor {
  return clampKernel(a, lo, hi);
}
