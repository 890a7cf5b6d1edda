// Flags shared by the commands that train and evaluate, and turning them into configs.
import type { FlagSpec, Parsed } from './args.js';
import { numberFlag, numberListFlag, choiceFlag } from './args.js';
import { UserError } from './errors.js';
import { DEFAULT_TRAIN, type TrainConfig } from '../train/train.js';
import { MODEL_NAMES, type ModelName } from '../models/index.js';
import { openCorpus } from '../data/open.js';
import type { Corpus } from '../data/corpus.js';

export const CORPUS_FLAG: Record<string, FlagSpec> = {
  corpus: {
    type: 'string',
    value: 'SPEC',
    default: 'synthetic',
    help: 'emodb:DIR, ravdess:DIR, iemocap:DIR, csv:FILE.csv, synthetic[:DIR], or a folder (auto-detected)',
  },
  fit: { type: 'string', value: 'MODE', default: 'resize', help: 'fit features to 373 frames: resize | crop' },
  cache: { type: 'string', value: 'DIR', help: 'feature cache folder (default $SER_CACHE or .cache/features)' },
};

export const TRAIN_FLAGS: Record<string, FlagSpec> = {
  iterations: { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.iterations), help: 'training iterations' },
  batch: { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.batchSize), help: 'batch size' },
  lr: { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.lr), help: 'initial learning rate (Adam)' },
  'lr-decay': { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.lrDecay), help: 'learning-rate factor applied every --lr-every iterations' },
  'lr-every': { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.lrDecayEvery), help: 'iterations between learning-rate decays' },
  alpha: { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.alpha), help: 'weight of the clean loss in adversarial training' },
  beta: { type: 'string', value: 'X', default: String(DEFAULT_TRAIN.beta), help: 'upper end of the feature range the attack clips to' },
  seed: { type: 'string', value: 'N', default: String(DEFAULT_TRAIN.seed), help: 'random seed (initialisation, batches, dropout)' },
  balanced: { type: 'boolean', help: 'class-balanced batch sampling' },
};

export function trainConfig(p: Parsed, eps: number): TrainConfig {
  return {
    iterations: numberFlag(p, 'iterations', { min: 1, integer: true }),
    batchSize: numberFlag(p, 'batch', { min: 1, max: 4096, integer: true }),
    lr: numberFlag(p, 'lr', { min: 0 }),
    lrDecay: numberFlag(p, 'lr-decay', { min: 0, max: 1 }),
    lrDecayEvery: numberFlag(p, 'lr-every', { min: 1, integer: true }),
    alpha: numberFlag(p, 'alpha', { min: 0, max: 1 }),
    beta: numberFlag(p, 'beta', { min: 0 }),
    seed: numberFlag(p, 'seed', { min: 0, integer: true }),
    balanced: p.flags.balanced === true,
    eps,
  };
}

export function modelList(p: Parsed, name = 'models'): ModelName[] {
  const raw = String(p.flags[name] ?? '');
  const list = raw.split(',').map((s) => s.trim()).filter(Boolean);
  for (const m of list) if (!(MODEL_NAMES as readonly string[]).includes(m)) throw new UserError(`--${name}: unknown model '${m}' (choose from ${MODEL_NAMES.join(', ')})`);
  if (list.length === 0) throw new UserError(`--${name}: name at least one model`);
  return list as ModelName[];
}

export function epsList(p: Parsed, name: string): number[] {
  const list = numberListFlag(p, name);
  for (const e of list) if (e < 0 || e > 1) throw new UserError(`--${name}: eps ${e} is outside [0, 1]`);
  return list;
}

export function fitFlag(p: Parsed): 'resize' | 'crop' {
  return choiceFlag(p, 'fit', ['resize', 'crop'] as const);
}

/** Opens a corpus, turning a loader's complaint (missing path, missing class...) into a one-line UserError. */
export async function openCorpusOrExplain(spec: string): Promise<Corpus> {
  try {
    return await openCorpus(spec);
  } catch (e) {
    throw new UserError(`corpus '${spec}': ${(e as Error).message}`);
  }
}
