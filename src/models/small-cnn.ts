// A small CNN for quick checks on machines without a GPU (CI's software adapter): three
// blocks of conv 3x3 -> batchnorm -> ReLU -> max-pool (4x4, then 2x2, 2x2) with 8, 16, 32
// channels, global average pooling, linear 32 -> classes. About 1% of CNN-5's arithmetic.
// Not one of the paper's models: the tests use it to check the pipeline's claims in minutes.
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Random } from '../util/random.js';
import { Module, type Sequential } from '../nn/module.js';
import { GlobalAvgPool, Linear } from '../nn/layers.js';
import { convBlocks } from './conv-blocks.js';

export const SMALL_CNN_BLOCKS: [channels: number, pool: number][] = [
  [8, 4],
  [16, 2],
  [32, 2],
];

export class SmallCNN extends Module {
  readonly features: Sequential;
  readonly pool: GlobalAvgPool;
  readonly fc: Linear;

  constructor(engine: Engine, opts: { seed?: number; classes?: number; inChannels?: number } = {}) {
    super(engine);
    const rng = new Random(opts.seed ?? 1);
    const { features, channels } = convBlocks(engine, rng, opts.inChannels ?? 1, SMALL_CNN_BLOCKS);
    this.features = this.child('features', features);
    this.pool = new GlobalAvgPool(engine);
    this.fc = this.child('fc', new Linear(engine, rng, channels, opts.classes ?? 4));
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.pool.forward(this.features.forward(x)));
  }
}
