// Loading a trained checkpoint for the commands that use one: the metadata says which
// model to build, which recipe (input space, standardisation, attack) and which fit it was
// trained with. A checkpoint from before recipes (no `recipe` key) is `db`.
import type { Engine } from '../engine/engine.js';
import type { Module } from '../nn/module.js';
import { UserError } from './errors.js';
import { createModel, isModelName } from '../models/index.js';
import { loadCheckpoint, readCheckpointMetadata } from '../nn/checkpoint-file.js';
import { SafetensorsError } from '../io/safetensors.js';
import { checkpointRecipe, type Recipe } from '../audio/recipe.js';
import type { Fit, FrontEndOptions } from '../audio/reference.js';

/**
 * The checkpoint a command uses when --checkpoint is not given: the one place where a bundled
 * default model will be resolved. Today there is none, so this throws a UserError saying so.
 */
export function defaultCheckpoint(): string {
  throw new UserError("no default model is bundled yet: pass --checkpoint MODEL.safetensors (a checkpoint written by 'ser train')");
}

export interface OpenedCheckpoint {
  model: Module;
  meta: Record<string, string>;
  recipe: Recipe;
  fit: Fit;
  /** The recipe's front end with the checkpoint's fit: what its features must be made with. */
  frontEnd: FrontEndOptions;
}

/** The fit a checkpoint's metadata names; the recipe's own when it names none. */
export function checkpointFit(meta: Record<string, string>, recipe: Recipe): Fit {
  const fit = meta.fit;
  return fit === 'crop' || fit === 'resize' || fit === 'tile' ? fit : recipe.frontEnd.fit;
}

export function openCheckpoint(engine: Engine, path: string): OpenedCheckpoint {
  try {
    const meta = readCheckpointMetadata(path);
    const name = meta.model ?? '';
    if (!isModelName(name)) throw new UserError(`${path}: checkpoint metadata names no known model (model='${name}')`);
    let recipe: Recipe;
    try {
      recipe = checkpointRecipe(meta);
    } catch (e) {
      throw new UserError(`${path}: checkpoint metadata: ${(e as Error).message}`);
    }
    const model = createModel(name, engine, { standardize: recipe.standardize });
    try {
      loadCheckpoint(model, path);
    } catch (e) {
      model.dispose();
      throw e;
    }
    model.eval();
    const fit = checkpointFit(meta, recipe);
    return { model, meta, recipe, fit, frontEnd: { ...recipe.frontEnd, fit } };
  } catch (e) {
    if (e instanceof SafetensorsError) throw new UserError(e.message);
    throw e;
  }
}
