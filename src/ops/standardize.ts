// Per-feature standardisation y = (x - mean) / std, broadcast over the last axis (the Mel
// band), with its backward rule dx = g / std. mean and std are constants (buffers, never
// trained), so only x receives a gradient: that is what lets an attack's input gradient
// flow through the standardisation when it is part of the differentiated model.
import type { Tensor } from '../engine/tensor.js';
import { record } from './record.js';
import { binary } from '../../kernels/elementwise.js';

/** x [..., F], mean [F], std [F] (std > 0) -> [..., F]. */
export function standardize(x: Tensor, mean: Tensor, std: Tensor): Tensor {
  const f = x.shape[x.shape.length - 1];
  if (mean.shape.join() !== String(f) || std.shape.join() !== String(f)) {
    throw new Error(`standardize: input [${x.shape}] needs mean and std of shape [${f}], got [${mean.shape}] and [${std.shape}]`);
  }
  const out = x.engine.scope(() => binary('div', binary('sub', x, mean), std));
  return record('standardize', out, [x], (g) => [binary('div', g, std)]);
}
