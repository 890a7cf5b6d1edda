// Launchers for shaders/optimizer.wgsl: in-place Adam and SGD updates of one parameter.
// Parameters larger than one storage binding are updated in windows.
import source from '../shaders/optimizer.wgsl';
import type { Engine, Binding } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { elementRanges, rangeBinding, rangeStep } from '../src/engine/windows.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 256;

const ADAM_PARAMS = declareParams([
  ['step_size', 'f32', 'lr / (1 - beta1^t)'],
  ['inv_sqrt_bc2', 'f32', '1 / sqrt(1 - beta2^t)'],
  ['beta1', 'f32'],
  ['beta2', 'f32'],
  ['eps', 'f32'],
  ['weight_decay', 'f32'],
], 'AdamParams');
const SGD_PARAMS = declareParams([
  ['lr', 'f32'],
  ['momentum', 'f32'],
  ['weight_decay', 'f32'],
], 'SgdParams');
const OPTIMIZER = declareShader('optimizer', withPreamble(source, ADAM_PARAMS.wgsl, SGD_PARAMS.wgsl), ['adam', 'sgd', 'sgd_momentum']);

export interface AdamScalars {
  /** lr / (1 - beta1^t) */
  stepSize: number;
  /** 1 / sqrt(1 - beta2^t) */
  invSqrtBc2: number;
  beta1: number;
  beta2: number;
  eps: number;
  weightDecay: number;
}

export interface SgdScalars {
  lr: number;
  momentum: number;
  weightDecay: number;
}

function checkSame(op: string, param: Tensor, others: (Tensor | null)[]): void {
  if (param.dtype !== 'f32') throw new Error(`${op}: parameter must be float32`);
  for (const t of others) {
    if (t && (t.dtype !== 'f32' || t.shape.join() !== param.shape.join())) {
      throw new Error(`${op}: [${t.shape.join(', ')}] ${t.dtype} does not match parameter [${param.shape.join(', ')}]`);
    }
  }
}

/** Dispatches `entry` over `tensors` (all the parameter's size), window by window. */
function runWindows(engine: Engine, pipeline: GPUComputePipeline, tensors: (Tensor | null)[], uniforms: (GPUBuffer | null)[], size: number, window?: number): void {
  for (const r of elementRanges(engine, 'optimizer', size, window ?? rangeStep(engine))) {
    engine.dispatch(pipeline, [...tensors.map((t) => rangeBinding(t, r)), ...uniforms], engine.grid(r.count, WG));
  }
}

/** One Adam step on `param` in place; `m` and `v` are its moment buffers (updated in place). */
export function adamUpdate(param: Tensor, grad: Tensor, m: Tensor, v: Tensor, s: AdamScalars, window?: number): void {
  checkSame('adam', param, [grad, m, v]);
  const engine = param.engine;
  const u = ADAM_PARAMS.pack(engine, { step_size: s.stepSize, inv_sqrt_bc2: s.invSqrtBc2, beta1: s.beta1, beta2: s.beta2, eps: s.eps, weight_decay: s.weightDecay });
  runWindows(engine, OPTIMIZER.pipeline(engine, 'adam', { WG }), [param, grad, m, v], [u, null], param.size, window);
}

/** One SGD step on `param` in place; `buffer` is the momentum buffer (null when momentum is 0). */
export function sgdUpdate(param: Tensor, grad: Tensor, buffer: Tensor | null, s: SgdScalars, window?: number): void {
  checkSame('sgd', param, [grad, buffer]);
  if (s.momentum !== 0 && !buffer) throw new Error('sgd: momentum needs a buffer');
  const engine = param.engine;
  const u = SGD_PARAMS.pack(engine, { lr: s.lr, momentum: s.momentum, weight_decay: s.weightDecay });
  const pipeline = OPTIMIZER.pipeline(engine, s.momentum !== 0 ? 'sgd_momentum' : 'sgd', { WG });
  runWindows(engine, pipeline, [param, grad, s.momentum !== 0 ? buffer : null, null], [null, u], param.size, window);
}
