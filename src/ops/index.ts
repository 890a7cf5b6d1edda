// The differentiable ops, one module per family, each forward beside its backward.
export * from './elementwise.js';
export * from './reduce.js';
export * from './matmul.js';
export * from './shape.js';
export * from './conv2d.js';
export * from './pool.js';
export * from './batchnorm.js';
export * from './linear.js';
export * from './dropout.js';
export * from './loss.js';
export { sumToShape } from './broadcast.js';
