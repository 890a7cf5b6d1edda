// The names of the differentiable ops, and `record` typed by them. The gradient tests keep
// a table keyed by OpName (test/autograd.test.ts), so an op recorded here without a
// gradient check is a type error there.
import { record as tapeRecord, type BackwardRule } from '../autograd/tape.js';
import type { Tensor } from '../engine/tensor.js';

export const OP_NAMES = [
  'add', 'sub', 'mul', 'div', 'scale', 'relu', 'exp', 'log', 'square', 'sqrt',
  'sum', 'mean', 'max', 'sumAll', 'meanAll', 'matmul', 'reshape', 'permute',
  'conv2d', 'conv2d+batchNorm2d folded', 'maxPool2d', 'avgPool2d', 'globalAvgPool', 'batchNorm2d', 'batchNorm2d+relu', 'batchNorm2d+relu+maxPool2d',
  'linear', 'dropout', 'softmaxCrossEntropy', 'standardize',
] as const;
export type OpName = (typeof OP_NAMES)[number];

/**
 * Records `output = op(inputs)` on the active tape (src/autograd/tape.ts). The backward
 * rule runs inside an engine scope, so its temporaries need no dispose().
 */
export function record(op: OpName, output: Tensor, inputs: readonly Tensor[], backward: BackwardRule): Tensor {
  return tapeRecord(op, output, inputs, backward);
}
