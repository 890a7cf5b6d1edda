// Loading a trained checkpoint for the commands that use one: the metadata says which
// model to build and which front-end settings it was trained with.
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { UserError } from './errors.js';
import { createModel, isModelName } from '../models/index.js';
import { loadCheckpoint, readCheckpointMetadata } from '../nn/checkpoint-file.js';
import { SafetensorsError } from '../io/safetensors.js';

/**
 * The checkpoint a command uses when --checkpoint is not given: the one place where a bundled
 * default model will be resolved. Today there is none, so this throws a UserError saying so.
 */
export function defaultCheckpoint(): string {
  throw new UserError("no default model is bundled yet: pass --checkpoint MODEL.safetensors (a checkpoint written by 'ser train')");
}

export function openCheckpoint(engine: Engine, path: string): { model: Module; meta: Record<string, string>; fit: 'resize' | 'crop' } {
  try {
    const meta = readCheckpointMetadata(path);
    const name = meta.model ?? '';
    if (!isModelName(name)) throw new UserError(`${path}: checkpoint metadata names no known model (model='${name}')`);
    const model = createModel(name, engine);
    loadCheckpoint(model, path);
    model.eval();
    const fit = meta.fit === 'crop' ? 'crop' : 'resize';
    return { model, meta, fit };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UserError(e.message);
    throw e;
  }
}
