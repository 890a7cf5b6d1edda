// Loading a trained checkpoint for the commands that use one: the metadata says which
// model to build, which recipe (input space, standardisation, attack) and which fit it was
// trained with. A checkpoint from before recipes (no `recipe` key) is `db`. A plain PyTorch
// state_dict (no metadata) loads when --model names its architecture (src/nn/open-model.ts).
import { existsSync, readFileSync } from 'node:fs';
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import type { FlagSpec } from './args.js';
import { UserError } from './errors.js';
import { MODEL_NAMES } from '../models/index.js';
import { openModelBytes } from '../nn/open-model.js';
import { bundledModelPath } from '../util/package-root.js';
import { SafetensorsError } from '../io/safetensors.js';
import type { Recipe } from '../audio/recipe.js';
import type { Fit, FrontEndOptions } from '../audio/reference.js';

export { checkpointFit } from '../nn/open-model.js';

/** --model for the commands that read a checkpoint: the architecture of a plain state_dict. */
export const MODEL_FLAG: Record<string, FlagSpec> = {
  model: { type: 'string', value: 'NAME', help: `architecture of a checkpoint without metadata (a plain PyTorch state_dict in safetensors): ${MODEL_NAMES.join(', ')}` },
};

/**
 * The checkpoint a command uses when --checkpoint is not given: the bundled pretrained model
 * (bundledModelPath(), models/default.safetensors in the package), or the file named by the
 * environment variable SER_DEFAULT_MODEL when set (another default for a deployment, and
 * what the tests use). Throws a UserError naming the path when that file does not exist.
 */
export function defaultCheckpoint(): string {
  const env = process.env.SER_DEFAULT_MODEL;
  const path = env !== undefined && env !== '' ? env : bundledModelPath();
  if (!existsSync(path)) {
    throw new UserError(env !== undefined && env !== ''
      ? `SER_DEFAULT_MODEL: ${path} does not exist: pass --checkpoint MODEL.safetensors or point SER_DEFAULT_MODEL at a checkpoint`
      : `no default model is bundled (${path} does not exist): pass --checkpoint MODEL.safetensors (a checkpoint written by 'ser train')`);
  }
  return path;
}

export interface OpenedCheckpoint {
  model: Module;
  meta: Record<string, string>;
  recipe: Recipe;
  fit: Fit;
  /** The recipe's front end with the checkpoint's fit: what its features must be made with. */
  frontEnd: FrontEndOptions;
}

export function openCheckpoint(engine: Engine, path: string, opts: { model?: string } = {}): OpenedCheckpoint {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new UserError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const { model, meta, recipe, fit, frontEnd } = openModelBytes(engine, bytes, path, opts);
    return { model, meta, recipe, fit, frontEnd };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UserError(e.message);
    throw e;
  }
}
