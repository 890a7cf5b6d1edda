// Launchers for shaders/softmax_xent.wgsl: softmax, per-example cross-entropy (with the
// row statistics the backward pass reuses) and the cross-entropy gradient.
import source from '../shaders/softmax_xent.wgsl';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 64;

const XENT_PARAMS = declareParams([
  ['rows', 'u32'],
  ['cols', 'u32'],
  ['grad_scale', 'f32', 'xent_backward: 1/N for the mean, 1 for per-example losses'],
  ['grad_per_row', 'u32', 'xent_backward: 1 when the upstream gradient has one value per row'],
]);
const XENT = declareShader('softmax_xent', withPreamble(source, XENT_PARAMS.wgsl), ['softmax_stats', 'xent_forward', 'softmax_probs', 'xent_backward']);

function rowsAndCols(op: string, logits: Tensor): [number, number] {
  if (logits.dtype !== 'f32') throw new Error(`${op}: logits must be float32, got ${logits.dtype}`);
  if (logits.shape.length !== 2) throw new Error(`${op}: logits must be [N, C], got [${logits.shape.join(', ')}]`);
  const [rows, cols] = logits.shape;
  if (rows === 0 || cols === 0) throw new Error(`${op}: logits [${rows}, ${cols}] are empty`);
  if (logits.bytes > logits.engine.maxBinding) {
    throw new Error(`${op}: logits of ${logits.bytes} bytes exceed this adapter's storage binding limit (${logits.engine.maxBinding})`);
  }
  return [rows, cols];
}

function params(engine: Engine, rows: number, cols: number, gradScale = 0, gradPerRow = false): GPUBuffer {
  return XENT_PARAMS.pack(engine, { rows, cols, grad_scale: gradScale, grad_per_row: gradPerRow });
}

function run(engine: Engine, entry: (typeof XENT.entries)[number], threads: number, bindings: (Tensor | GPUBuffer | null)[]): void {
  engine.dispatch(XENT.pipeline(engine, entry, { WG }), bindings, engine.grid(threads, WG));
}

/** Row-wise softmax of [N, C] logits. */
export function softmax(logits: Tensor): Tensor {
  const [rows, cols] = rowsAndCols('softmax', logits);
  const engine = logits.engine;
  const stats = engine.empty([rows, 2]);
  const out = engine.empty([rows, cols]);
  const p = params(engine, rows, cols);
  run(engine, 'softmax_stats', rows, [logits, null, stats, null, null, p]);
  run(engine, 'softmax_probs', rows * cols, [logits, null, stats, out, null, p]);
  stats.dispose();
  return out;
}

/**
 * Per-example losses [N] = -log softmax(logits)[label], and the row statistics [N, 2]
 * (max, log of the shifted sum) that `crossEntropyBackward` needs. A label outside
 * [0, C) gives a loss of 0 (the kernel never reads out of bounds; see the shader).
 */
export function crossEntropyForward(logits: Tensor, labels: Tensor): { losses: Tensor; stats: Tensor } {
  const [rows, cols] = rowsAndCols('softmaxCrossEntropy', logits);
  if (labels.dtype !== 'i32') throw new Error(`softmaxCrossEntropy: labels must be int32, got ${labels.dtype}`);
  if (labels.shape.length !== 1 || labels.shape[0] !== rows) {
    throw new Error(`softmaxCrossEntropy: labels [${labels.shape.join(', ')}] do not match logits [${rows}, ${cols}] (want [${rows}])`);
  }
  const engine = logits.engine;
  const stats = engine.empty([rows, 2]);
  const losses = engine.empty([rows]);
  run(engine, 'xent_forward', rows, [logits, labels, stats, losses, null, params(engine, rows, cols)]);
  return { losses, stats };
}

/**
 * Gradient w.r.t. the logits: (softmax - onehot) * g * scale, with `grad` either one
 * value ([1], the mean's gradient) or one per example ([N]).
 */
export function crossEntropyBackward(logits: Tensor, labels: Tensor, stats: Tensor, grad: Tensor, scale: number): Tensor {
  const [rows, cols] = rowsAndCols('softmaxCrossEntropy backward', logits);
  const perRow = grad.size === rows && rows !== 1 ? true : grad.size === 1 ? false : null;
  if (perRow === null) throw new Error(`softmaxCrossEntropy backward: gradient [${grad.shape.join(', ')}] for ${rows} examples`);
  const engine = logits.engine;
  const out = engine.empty([rows, cols]);
  run(engine, 'xent_backward', rows * cols, [logits, labels, stats, out, grad, params(engine, rows, cols, scale, perRow)]);
  return out;
}
