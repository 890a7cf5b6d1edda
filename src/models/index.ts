// The model registry: names used by the CLI, checkpoints and benchmarks.
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { CNN5 } from './cnn5.js';
import { VGG16 } from './vgg16.js';
import { ResNet50 } from './resnet50.js';
import { SmallCNN } from './small-cnn.js';
import { Standardized } from '../nn/input-norm.js';

/** The paper's three models, then a small CNN for quick checks without a GPU. */
export const MODEL_NAMES = ['cnn5', 'vgg16', 'resnet50', 'small'] as const;
export type ModelName = (typeof MODEL_NAMES)[number];

export function isModelName(s: string): s is ModelName {
  return (MODEL_NAMES as readonly string[]).includes(s);
}

/**
 * A model by name. With `standardize` (the `paper` recipe) the network is wrapped in the
 * per-band standardisation (src/nn/input-norm.ts: buffers input_norm.mean/std of `bands`
 * values, default 64, fitted by fitInputNorm before training); without it (`db`, and every
 * checkpoint from before recipes) the network alone, as before.
 */
export function createModel(name: ModelName, engine: Engine, opts: { seed?: number; classes?: number; standardize?: boolean; bands?: number } = {}): Module {
  const net = createNetwork(name, engine, opts);
  return opts.standardize ? new Standardized(engine, net, opts.bands ?? 64) : net;
}

function createNetwork(name: ModelName, engine: Engine, opts: { seed?: number; classes?: number }): Module {
  switch (name) {
    case 'cnn5':
      return new CNN5(engine, opts);
    case 'vgg16':
      return new VGG16(engine, opts);
    case 'resnet50':
      return new ResNet50(engine, opts);
    case 'small':
      return new SmallCNN(engine, opts);
  }
}
