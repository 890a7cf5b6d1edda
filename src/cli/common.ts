// Flags shared by the commands that train and evaluate, and turning them into configs.
import type { FlagSpec, Parsed } from './args.js';
import { numberFlag, numberListFlag, choiceFlag, type NumberRange } from './args.js';
import { EXIT, UserError } from './errors.js';
import { DEFAULT_TRAIN, type TrainConfig } from '../train/train.js';
import { MODEL_NAMES, type ModelName } from '../models/index.js';
import { openCorpus } from '../data/open.js';
import { validateCorpus, type Corpus, type Utterance } from '../data/corpus.js';
import type { Engine } from '../engine/engine.js';
import { describeCorpus } from '../data/folds.js';
import { corpusFeatures } from '../experiment/features.js';
import type { FoldHooks } from '../experiment/run-fold.js';
import { Progress } from './progress.js';
import { resolve } from 'node:path';
import { assertWritableDir } from '../io/atomic.js';
import { defaultCacheDir } from '../data/cache.js';
import { RECIPE_NAMES, DEFAULT_RECIPE, RECIPES, type Recipe } from '../audio/recipe.js';
import type { Fit, FrontEndOptions } from '../audio/reference.js';
import type { AttackSettings } from '../attacks/fgsm.js';
import { loadUtterance } from '../audio/frontend.js';
import { AudioError } from '../audio/errors.js';

/** --recipe: the input space and attack geometry (src/audio/recipe.ts). */
export const RECIPE_FLAG: Record<string, FlagSpec> = {
  recipe: {
    type: 'string',
    value: 'NAME',
    default: DEFAULT_RECIPE,
    help: "paper (the seed's input: ln-Mel, hop 256, tiled to 373 frames, per-band standardisation in the model, FGSM clipped to x ± beta) | db (the first recipe: dB on [0, 1], hop 160, resized; FGSM clipped to [0, beta])",
  },
};

export const CORPUS_FLAG: Record<string, FlagSpec> = {
  corpus: {
    type: 'string',
    value: 'SPEC',
    default: 'synthetic',
    help: "emodb (the EmoDB 4-class subset shipped in data/emodb4-16k), emodb:DIR, ravdess:DIR, iemocap:DIR, csv:FILE.csv, synthetic[:DIR], or a folder (auto-detected)",
  },
  fit: { type: 'string', value: 'MODE', help: 'fit features to 373 frames: tile | resize | crop (default: paper tile, db resize)' },
  cache: { type: 'string', value: 'DIR', help: 'feature cache folder (default $SER_CACHE or .cache/features)' },
};

const r = RECIPES;
/** --beta and --attack-labels, whose defaults are the recipe's. */
export const ATTACK_FLAGS: Record<string, FlagSpec> = {
  beta: {
    type: 'string',
    value: 'X',
    help: `attack clip: paper, x_adv within [x - beta, x + beta] (standardised units); db, within [0, beta] (default: paper ${r.paper.attack.beta}, db ${r.db.attack.beta})`,
  },
  'attack-labels': {
    type: 'string',
    value: 'WHICH',
    help: `labels the attack pushes away from: predicted (the model's own clean prediction) | true (default: paper ${r.paper.attack.labels}, db ${r.db.attack.labels})`,
  },
};

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  iterations: { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.iterations), help: 'training iterations' },
  batch: { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.batchSize), help: 'batch size (the seed does not state one; its lineage code used 16)' },
  lr: { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.lr), help: 'initial learning rate (Adam)' },
  'lr-decay': { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.lrDecay), help: 'learning-rate factor applied every --lr-every iterations' },
  'lr-every': { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.lrDecayEvery), help: 'iterations between learning-rate decays' },
  alpha: { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.alpha), help: 'weight of the clean loss in adversarial training' },
  ...ATTACK_FLAGS,
  'adv-start': { type: 'string', value: 'N', help: 'iteration where the mixed (adversarial) loss starts; clean loss before it (default: paper 10% of --iterations, db 0)' },
  seed: { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.seed), help: 'random seed (initialisation, batches, dropout)' },
  balanced: { type: 'boolean', help: 'class-balanced batch sampling' },
};

/** The ranges of the number flags the commands share (one place, so every command agrees). */
export const RANGES = {
  iterations: { min: 1, max: 10_000_000, integer: true, why: 'a paper run is 10,000' },
  advStart: { min: 0, max: 10_000_000, integer: true },
  batch: { min: 1, max: 4096, integer: true },
  lr: { min: 0, max: 10 },
  fraction: { min: 0, max: 1 },
  lrEvery: { min: 1, max: 10_000_000, integer: true },
  beta: { min: 0, max: 1000 },
  seed: { min: 0, max: 4294967295, integer: true, why: 'seeds are 32-bit' },
  fold: { min: 0, max: 999, integer: true },
  steps: { min: 1, max: 10_000, integer: true, why: 'PGD settles within tens of steps' },
  snr: { min: -100, max: 200, why: 'a signal-to-noise ratio in dB' },
  /** The widest eps any recipe allows; epsRange(recipe) narrows it for db. */
  eps: { min: 0, max: 10, why: 'paper: eps is in standard deviations of each standardised Mel band' },
} satisfies Record<string, NumberRange>;

/**
 * The allowed eps for a recipe: db features are on [0, 1], so eps is at most 1; paper eps is in
 * standard deviations of the per-band standardised features, where 10 is already far beyond
 * any perturbation worth measuring (the seed's figures go to 0.1 or so).
 */
export function epsRange(recipe: Recipe): NumberRange {
  return recipe.standardize ? RANGES.eps : { min: 0, max: 1, why: `${recipe.name}: eps is on the [0, 1] feature scale` };
}

/** The recipe named by --recipe (a UserError naming the choices otherwise). */
export function recipeFlag(p: Parsed): Recipe {
  return RECIPES[choiceFlag(p, 'recipe', RECIPE_NAMES)];
}

/** The attack's clip (the recipe's), --beta and --attack-labels (the recipe's defaults unless given). */
export function attackSettings(p: Parsed, recipe: Recipe): AttackSettings {
  return {
    clip: recipe.attack.clip,
    beta: p.flags.beta === undefined ? recipe.attack.beta : numberFlag(p, 'beta', RANGES.beta),
    labels: p.flags['attack-labels'] === undefined ? recipe.attack.labels : choiceFlag(p, 'attack-labels', ['predicted', 'true'] as const),
  };
}

/** The recipe's front end with --fit (default: the recipe's fit) applied. */
export function frontEndOptions(p: Parsed, recipe: Recipe): FrontEndOptions {
  return { ...recipe.frontEnd, fit: fitFlag(p, recipe) };
}

export function trainConfig(p: Parsed, eps: number, recipe: Recipe): TrainConfig {
  const iterations = numberFlag(p, 'iterations', RANGES.iterations);
  const attack = attackSettings(p, recipe);
  const advStart = p.flags['adv-start'] === undefined ? Math.round(recipe.advStartFraction * iterations) : numberFlag(p, 'adv-start', RANGES.advStart);
  if (advStart > iterations) throw new UserError(`--adv-start: ${advStart} is beyond --iterations ${iterations} (the adversarial loss would never start)`);
  return {
    iterations,
    batchSize: numberFlag(p, 'batch', RANGES.batch),
    lr: numberFlag(p, 'lr', RANGES.lr),
    lrDecay: numberFlag(p, 'lr-decay', RANGES.fraction),
    lrDecayEvery: numberFlag(p, 'lr-every', RANGES.lrEvery),
    alpha: numberFlag(p, 'alpha', RANGES.fraction),
    clip: attack.clip,
    beta: attack.beta,
    attackLabels: attack.labels,
    evalModeAttack: recipe.attack.evalModeAttack,
    advStart,
    seed: numberFlag(p, 'seed', RANGES.seed),
    balanced: p.flags.balanced === true,
    eps,
  };
}

/**
 * The training settings a checkpoint records (src/nn/checkpoint metadata, all strings):
 * recipe, fit, trainEps, iterations, batch, beta, attackLabels, advStart. Readers take the
 * recipe with checkpointRecipe (absent: db) and the fit with checkpointFit.
 */
export function checkpointMetadata(recipe: string, fit: Fit, cfg: TrainConfig): Record<string, string> {
  return {
    recipe,
    fit,
    trainEps: String(cfg.eps),
    iterations: String(cfg.iterations),
    batch: String(cfg.batchSize),
    beta: String(cfg.beta),
    attackLabels: cfg.attackLabels,
    advStart: String(cfg.advStart),
  };
}

export function modelList(p: Parsed, name = 'models'): ModelName[] {
  const raw = String(p.flags[name] ?? '');
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of list) if (!(MODEL_NAMES as readonly string[]).includes(m)) throw new UserError(`--${name}: unknown model '${m}' (choose from ${MODEL_NAMES.join(', ')})`);
  if (list.length === 0) throw new UserError(`--${name}: name at least one model`);
  return list as ModelName[];
}

/** A comma-separated eps list, each within the recipe's range (epsRange). */
export function epsList(p: Parsed, name: string, recipe: Recipe): number[] {
  return numberListFlag(p, name, epsRange(recipe));
}

/** --fit, or the recipe's fit (paper: tile, db: resize) when not given. */
export function fitFlag(p: Parsed, recipe: Recipe): Fit {
  if (p.flags.fit === undefined) return recipe.frontEnd.fit;
  return choiceFlag(p, 'fit', ['tile', 'resize', 'crop'] as const);
}

/** Opens a corpus, turning a loader's complaint (missing path, missing class...) into a one-line UserError. */
export async function openCorpusOrExplain(spec: string): Promise<Corpus> {
  try {
    return await openCorpus(spec);
  } catch (e) {
    throw new UserError(`corpus '${spec}': ${(e as Error).message}`);
  }
}

/**
 * What every corpus command does first: open the corpus named by --corpus (and check that
 * `fold` exists, before anything is printed), print its fold x class table, compute (or read
 * cached) features, name every skipped file with a count, and keep only the utterances that
 * have features (`frontEnd`: the recipe's, with --fit). `select` narrows the corpus before
 * features are computed (eval needs one fold only).
 */
export async function corpusWithFeatures(
  engine: Engine,
  p: Parsed,
  frontEnd: FrontEndOptions,
  opts: { quiet?: boolean; fold?: number; select?: (u: Utterance) => boolean } = {},
): Promise<{ corpus: Corpus; features: Map<string, Float32Array>; skipped: number }> {
  const corpus = await openCorpusOrExplain(String(p.flags.corpus));
  if (opts.fold !== undefined && opts.fold >= corpus.folds) {
    throw new UserError(`--fold: fold ${opts.fold} does not exist (corpus has folds 0..${corpus.folds - 1})`);
  }
  if (corpus.name === 'synthetic') {
    console.error('corpus: SYNTHETIC speech generated by this project (tones shaped per class) — a pipeline check, not an emotion-recognition result');
  }
  if (!opts.quiet) console.error(describeCorpus(corpus));
  if (opts.select) corpus.utterances = corpus.utterances.filter(opts.select);
  assertWritableDir(resolve(typeof p.flags.cache === 'string' ? p.flags.cache : defaultCacheDir()));
  const { features, skipped } = await corpusFeatures(engine, corpus, frontEnd, {
    cacheDir: p.flags.cache as string | undefined,
    progress: new Progress('features', corpus.utterances.length, { quiet: opts.quiet, unit: 'files' }),
  });
  const all = [...corpus.skipped, ...skipped];
  for (const s of all) console.error(`skipped ${s.path}: ${s.reason}`);
  corpus.utterances = corpus.utterances.filter((u) => features.has(u.path));
  if (all.length > 0) console.error(`corpus: ${corpus.utterances.length} utterances used, ${all.length} files skipped (named above)`);
  // What is left must still be a corpus the command can use (every class, no empty fold).
  if (!opts.select) {
    try {
      validateCorpus(corpus);
    } catch (e) {
      throw new UserError(`after skipping ${all.length} files: ${(e as Error).message}`);
    }
  } else if (corpus.utterances.length === 0) throw new UserError(`corpus '${corpus.name}': no usable utterances in the selected fold (${all.length} files skipped)`);
  return { corpus, features, skipped: all.length };
}

/** A corpus command's exit code: 1 (EXIT.SOME_FAILED) when files were skipped, each named on stderr. */
export function corpusExit(skipped: number): number {
  return skipped > 0 ? EXIT.SOME_FAILED : EXIT.OK;
}

/** Progress-bar hooks for one training run followed by its evaluation phases. */
export function trainingProgress(label: string, iterations: number, quiet: boolean): Pick<FoldHooks, 'onStep' | 'onPhase'> {
  const bar = new Progress(label, iterations, { quiet });
  let loss = '';
  return {
    onStep: (s) => {
      if (s) loss = `loss ${s.loss.toFixed(3)}`;
      bar.tick(1, loss);
    },
    onPhase: (what) => {
      if (what !== 'train') bar.finish(`${loss}; ${what}`);
    },
  };
}

/**
 * One audio file decoded and resampled to the front end's 16 kHz (mono samples). A file that
 * does not decode is a UserError naming it: commands read their clip before they start the
 * GPU, so a bad file is one line (Dawn prints its own start-up warnings).
 */
export async function loadClip(path: string): Promise<Float32Array> {
  try {
    return await loadUtterance(path);
  } catch (e) {
    if (e instanceof AudioError) throw new UserError(e.message);
    throw e;
  }
}
