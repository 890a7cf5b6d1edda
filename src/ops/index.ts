// The differentiable ops, one module per family, each forward beside its backward.
export * from './elementwise.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './shape.js';
export { sumToShape } from './broadcast.js';
