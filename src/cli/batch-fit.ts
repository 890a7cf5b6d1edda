// Whether a training batch fits the adapter, asked before any corpus is read: a batch whose
// largest activation is over one buffer's limit (maxBufferSize, 2 GiB on llvmpipe) would
// otherwise fail in the first step, after minutes of feature extraction.
import type { Engine } from '../engine/engine.js';
import { createModel, type ModelName } from '../models/index.js';
import { noGrad } from '../autograd/tape.js';
import { UserError } from './errors.js';

/** Input of one example: [1, 1, 373, 64] log-Mel frames x bands, as every recipe fits them. */
const EXAMPLE_SHAPE = [1, 1, 373, 64];

/** Two sizes in GB, in bytes where they would round alike. */
function sizes(a: number, b: number): [string, string] {
  const gb = (bytes: number) => `${(bytes / 1e9).toFixed(2)} GB`;
  return gb(a) === gb(b) ? [`${a} bytes`, `${b} bytes`] : [gb(a), gb(b)];
}

/**
 * Throws a UserError naming `--batch` when `batch` examples of `model` need a tensor over the
 * adapter's maxBufferSize, with the largest batch that fits. One forward pass of one example
 * measures the largest tensor (activations and their gradients grow linearly with the batch;
 * the attack and the mixed loss use the same shapes). Costs about as much as one forward of
 * one example; the model is disposed.
 */
export function checkBatchFits(engine: Engine, model: ModelName, batch: number): void {
  const before = engine.stats.largestTensorBytes;
  engine.stats.largestTensorBytes = 0;
  const m = createModel(model, engine, { seed: 1 });
  try {
    engine.scope(() => noGrad(engine, () => m.forward(engine.fromArray(new Float32Array(373 * 64), EXAMPLE_SHAPE))));
  } finally {
    m.dispose();
  }
  const perExample = engine.stats.largestTensorBytes;
  engine.stats.largestTensorBytes = Math.max(before, perExample);
  const limit = engine.limits.maxBufferSize;
  if (batch * perExample <= limit) return;
  const most = Math.floor(limit / perExample);
  const [need, have] = sizes(batch * perExample, limit);
  throw new UserError(`--batch ${batch}: ${model}'s largest tensor at this batch is ${need}, over this adapter's maxBufferSize of ${have}: at most --batch ${most} here`);
}
