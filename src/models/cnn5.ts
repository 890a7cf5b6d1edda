// CNN-5: five blocks of conv 3x3 (padding 1) -> batchnorm -> ReLU -> max-pool 2x2, with
// 32, 64, 128, 256, 256 channels; global average pooling; dropout 0.3; linear 256 -> classes.
// PyTorch twin: tools/pytorch_models.py `CNN5` (same parameter names).
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { Random } from '../util/random.js';
import { Module, type Sequential } from '../nn/module.js';
import { GlobalAvgPool, Dropout, Linear } from '../nn/layers.js';
import { convBlocks } from './conv-blocks.js';

export const CNN5_CHANNELS = [32, 64, 128, 256, 256];

export class CNN5 extends Module {
  readonly features: Sequential;
  readonly pool: GlobalAvgPool;
  readonly dropout: Dropout;
  readonly fc: Linear;

  constructor(engine: Engine, opts: { seed?: number; classes?: number; inChannels?: number } = {}) {
    super(engine);
    const rng = new Random(opts.seed ?? 1);
    const { features, channels } = convBlocks(engine, rng, opts.inChannels ?? 1, CNN5_CHANNELS.map((c) => [c, 2] as const));
    this.features = this.child('features', features);
    this.pool = new GlobalAvgPool(engine);
    this.dropout = this.child('dropout', new Dropout(engine, 0.3, rng.int(2 ** 31)));
    this.fc = this.child('fc', new Linear(engine, rng, channels, opts.classes ?? 4));
  }

  forward(x: Tensor): Tensor {
    return this.fc.forward(this.dropout.forward(this.pool.forward(this.features.forward(x))));
  }
}
