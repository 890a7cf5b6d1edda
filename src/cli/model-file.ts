// Loading a trained checkpoint for the commands that use one: the metadata says which
// model to build and which front-end settings it was trained with. A plain PyTorch
// state_dict (no metadata) loads when --model names its architecture.
import { readFileSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import type { FlagSpec } from './args.js';
import { UserError } from './errors.js';
import { MODEL_NAMES } from '../models/index.js';
import { openModelBytes } from '../nn/open-model.js';
import { SafetensorsError } from '../io/safetensors.js';

/** --model for the commands that read a checkpoint: the architecture of a plain state_dict. */
export const MODEL_FLAG: Record<string, FlagSpec> = {
  model: { type: 'string', value: 'NAME', help: `architecture of a checkpoint without metadata (a plain PyTorch state_dict in safetensors): ${MODEL_NAMES.join(', ')}` },
};

export function openCheckpoint(engine: Engine, path: string, opts: { model?: string } = {}): { model: Module; meta: Record<string, string>; fit: 'resize' | 'crop' } {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const { model, meta } = openModelBytes(engine, bytes, path, opts);
    const fit = meta.fit === 'crop' ? 'crop' : 'resize';
    return { model, meta, fit };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UserError(e.message);
    throw e;
  }
}
