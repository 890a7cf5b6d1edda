// The block CNN-5 and the small CNN are made of: conv 3x3 (padding 1, no bias) -> batchnorm
// -> ReLU -> max-pool, numbered like torch.nn.Sequential (conv at 4k, batchnorm at 4k + 1).
import type { Engine } from '../engine/engine.js';
import type { Random } from '../util/random.js';
import { Module, Sequential } from '../nn/module.js';
import { Conv2d, BatchNorm2d, ReLU, MaxPool2d } from '../nn/layers.js';

/** Blocks of [output channels, pooling size]; returns the stack and its output channels. */
export function convBlocks(engine: Engine, rng: Random, inChannels: number, blocks: readonly (readonly [number, number])[]): { features: Sequential; channels: number } {
  const layers: Module[] = [];
  let c = inChannels;
  for (const [out, pool] of blocks) {
    layers.push(new Conv2d(engine, rng, c, out, 3, { padding: 1 }), new BatchNorm2d(engine, out), new ReLU(engine), new MaxPool2d(engine, pool));
    c = out;
  }
  return { features: new Sequential(engine, layers), channels: c };
}
