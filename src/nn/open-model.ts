// A checkpoint's bytes -> the model it holds, for every place that loads one (CLI, browser
// app, library). The model is named by the file's metadata (`ser train` writes `model`), or,
// for a plain PyTorch state_dict saved with safetensors.torch.save_file (no metadata), by the
// caller. The recipe (input space, standardisation, attack) is the metadata's `recipe`; a
// checkpoint from before recipes names none and is `db`; a plain state_dict is `paper` when
// it holds the standardisation's `input_norm.mean` (only the paper recipe has one), else `db`.
// Tensors are matched by their PyTorch names (tools/pytorch_models.py); PyTorch's
// `num_batches_tracked` counters and other extra tensors are ignored.
import type { Engine } from '../engine/engine.js';
import type { Module } from './module.js';
import { createModel, isModelName, MODEL_NAMES, type ModelName } from '../models/index.js';
import { loadModelFromSafetensors } from './checkpoint.js';
import { decodeSafetensors, SafetensorsError } from '../io/safetensors.js';
import { checkpointRecipe, RECIPES, type Recipe } from '../audio/recipe.js';
import type { Fit, FrontEndOptions } from '../audio/reference.js';

export interface OpenedModel {
  model: Module;
  modelName: ModelName;
  /** The file's __metadata__ ({} for a plain state_dict). */
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

/**
 * Builds the model a safetensors checkpoint holds (with the per-band standardisation when
 * its recipe has one) and loads its weights (evaluation mode). `opts.model` names the
 * architecture when the metadata does not (a plain state_dict); when both name one they must
 * agree. Throws SafetensorsError naming `source` and the cause: not safetensors, no model
 * named, an unknown recipe, the first missing tensor, or the first of the wrong dtype/shape.
 */
export function openModelBytes(engine: Engine, bytes: Uint8Array, source: string, opts: { model?: string } = {}): OpenedModel {
  const { metadata, tensors } = decodeSafetensors(bytes, source);
  if (opts.model !== undefined && !isModelName(opts.model)) {
    throw new SafetensorsError(`unknown model '${opts.model}' (choose from ${MODEL_NAMES.join(', ')})`);
  }
  const named = metadata.model;
  if (named !== undefined && opts.model !== undefined && named !== opts.model) {
    throw new SafetensorsError(`${source}: the checkpoint holds model '${named}', not '${opts.model}'`);
  }
  const name = named ?? opts.model ?? '';
  if (!isModelName(name)) {
    throw new SafetensorsError(
      named === undefined
        ? `${source}: checkpoint metadata names no model; for a plain PyTorch state_dict say which one it is (--model ${MODEL_NAMES.join('|')})`
        : `${source}: checkpoint metadata names no known model (model='${named}'; expected ${MODEL_NAMES.join(', ')})`,
    );
  }
  let recipe: Recipe;
  if (named === undefined && metadata.recipe === undefined) {
    recipe = tensors.has('input_norm.mean') ? RECIPES.paper : RECIPES.db;
  } else {
    try {
      recipe = checkpointRecipe(metadata);
    } catch (e) {
      throw new SafetensorsError(`${source}: checkpoint metadata: ${(e as Error).message}`);
    }
  }
  const model = createModel(name, engine, { standardize: recipe.standardize });
  try {
    loadModelFromSafetensors(model, bytes, source);
  } catch (e) {
    model.dispose();
    throw e;
  }
  model.eval();
  const fit = checkpointFit(metadata, recipe);
  return { model, modelName: name, meta: metadata, recipe, fit, frontEnd: { ...recipe.frontEnd, fit } };
}
