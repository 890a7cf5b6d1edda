// One fold of the experiment: train a model (standard or adversarial) on the other folds'
// speakers, then score it on the held-out speakers clean, under FGSM/PGD at each eps, and
// under additive noise at each SNR.
import type { Engine } from '../engine/engine.js';
import type { Corpus, Utterance } from '../data/corpus.js';
import { labelId, CLASSES } from '../data/corpus.js';
import { splitFold } from '../data/folds.js';
import { createModel, type ModelName } from '../models/index.js';
import { train, type TrainConfig, type FeatureSet, type StepReport } from '../train/train.js';
import { predict, type Attack } from '../train/evaluate.js';
import { score as scoreOf, type Scores } from '../metrics/metrics.js';
import type { FoldResult, AttackResult } from './results.js';
import type { Module } from '../nn/module.js';
import { fitInputNorm } from '../nn/input-norm.js';
import { RECIPES, type RecipeName } from '../audio/recipe.js';
import { DB_ATTACK, type AttackSettings } from '../attacks/fgsm.js';

/** Test-time attacks: FGSM at these eps (0 skipped), PGD at these eps, noise at these SNRs. */
export interface AttackPlan {
  fgsmEps: number[];
  pgdEps: number[];
  pgdSteps: number;
  noiseSnr: number[];
}

export interface FoldPlan extends AttackPlan {
  model: ModelName;
  fold: number;
  train: TrainConfig;
  /** The recipe (input space; standardisation when it says so); `db` when absent, as before recipes. */
  recipe?: RecipeName;
}

export interface FoldHooks {
  onStep?: (r: StepReport | null, iteration: number) => void;
  onPhase?: (what: string) => void;
  /** Features of the test utterances with noise at `snr` dB added to the waveform. */
  noisyFeatures?: (paths: string[], snr: number) => Promise<Float32Array[]>;
  /** Receives the trained model before it is disposed (to save a checkpoint). */
  onTrained?: (model: Module) => Promise<void>;
}

/** The features and label ids of some utterances, in their order. */
function featureSet(utts: readonly Utterance[], features: Map<string, Float32Array>, shape: [number, number, number]): FeatureSet {
  return {
    features: utts.map((u) => {
      const f = features.get(u.path);
      if (!f) throw new Error(`no features for ${u.path}`);
      return f;
    }),
    labels: utts.map((u) => labelId(u.label)),
    shape,
  };
}

/** Builds the plan's model, fits its standardisation (paper) on `trainSet` only, and trains it. The caller disposes the model. */
async function trainModelOn(engine: Engine, plan: Omit<FoldPlan, 'fold'>, trainSet: FeatureSet, hooks: FoldHooks): Promise<{ model: Module; losses: StepReport[]; trainSeconds: number }> {
  const recipe = RECIPES[plan.recipe ?? 'db'];
  const model = createModel(plan.model, engine, { seed: plan.train.seed, classes: CLASSES.length, standardize: recipe.standardize, bands: trainSet.shape[2] });
  try {
    // The standardisation is fitted on the training speakers only, never on a held-out one.
    fitInputNorm(model, trainSet.features);
    hooks.onPhase?.('train');
    const t0 = performance.now();
    const { losses } = await train(engine, model, trainSet, plan.train, { onStep: hooks.onStep, logEvery: 10 });
    return { model, losses, trainSeconds: (performance.now() - t0) / 1000 };
  } catch (e) {
    model.dispose();
    throw e;
  }
}

/**
 * Trains on every utterance of the corpus, holding out no speaker: the model to ship once
 * cross-validation (the same plan per fold, runFold) has measured it. `hooks.onTrained`
 * receives the model (to save it) before it is disposed.
 */
export async function trainAllSpeakers(
  engine: Engine,
  corpus: Corpus,
  features: Map<string, Float32Array>,
  shape: [number, number, number],
  plan: Omit<FoldPlan, 'fold'>,
  hooks: FoldHooks = {},
): Promise<{ losses: StepReport[]; trainSeconds: number; trainSize: number }> {
  const trainSet = featureSet(corpus.utterances, features, shape);
  const { model, losses, trainSeconds } = await trainModelOn(engine, plan, trainSet, hooks);
  try {
    await hooks.onTrained?.(model);
    return { losses, trainSeconds, trainSize: corpus.utterances.length };
  } finally {
    model.dispose();
  }
}

export async function runFold(
  engine: Engine,
  corpus: Corpus,
  features: Map<string, Float32Array>,
  shape: [number, number, number],
  plan: FoldPlan,
  hooks: FoldHooks = {},
): Promise<FoldResult> {
  const split = splitFold(corpus, plan.fold);
  const trainSet = featureSet(split.train, features, shape);
  const testSet = featureSet(split.test, features, shape);
  const recipe = RECIPES[plan.recipe ?? 'db'];
  const { model, losses, trainSeconds } = await trainModelOn(engine, plan, trainSet, hooks);
  try {
    await hooks.onTrained?.(model);

    const attack: AttackSettings = { clip: plan.train.clip, beta: plan.train.beta, labels: plan.train.attackLabels };
    const { clean, attacks } = await scoreModel(engine, model, testSet, split.test.map((u) => u.path), { ...plan, attack }, hooks);
    return {
      recipe: recipe.name,
      attackLabels: attack.labels,
      beta: attack.beta,
      advStart: plan.train.advStart,
      corpus: corpus.name,
      model: plan.model,
      trainEps: plan.train.eps,
      fold: plan.fold,
      iterations: plan.train.iterations,
      seed: plan.train.seed,
      clean,
      attacks,
      losses,
      trainSeconds,
      adapter: engine.adapter.name,
      testSize: split.test.length,
      trainSize: split.train.length,
    };
  } finally {
    model.dispose();
  }
}

/**
 * Scores a trained model on a test set: clean, then every attack of the plan, bounded and
 * aimed as `plan.attack` says (default: the `db` recipe's [0, 1] clip against true labels).
 * Noise is added to the waveform (hooks.noisyFeatures gives raw features), so a standardised
 * model standardises noisy features exactly as clean ones.
 */
export async function scoreModel(
  engine: Engine,
  model: Module,
  testSet: FeatureSet,
  testPaths: string[],
  plan: AttackPlan & { attack?: AttackSettings },
  hooks: Pick<FoldHooks, 'onPhase' | 'noisyFeatures'> = {},
): Promise<{ clean: Scores; attacks: AttackResult[] }> {
  const bounds = plan.attack ?? DB_ATTACK;
  const score = async (attack: Attack, data = testSet) => scoreOf(testSet.labels, (await predict(engine, model, data, attack)).predicted, CLASSES.length);
  hooks.onPhase?.('evaluate clean');
  const clean = await score({ kind: 'none' });
  const attacks: AttackResult[] = [];
  for (const eps of plan.fgsmEps.filter((e) => e > 0)) {
    hooks.onPhase?.(`evaluate FGSM eps ${eps}`);
    attacks.push({ kind: 'fgsm', eps, scores: await score({ kind: 'fgsm', eps, ...bounds }) });
  }
  for (const eps of plan.pgdEps.filter((e) => e > 0)) {
    hooks.onPhase?.(`evaluate PGD eps ${eps}`);
    attacks.push({ kind: 'pgd', eps, scores: await score({ kind: 'pgd', eps, steps: plan.pgdSteps, ...bounds }) });
  }
  if (hooks.noisyFeatures) {
    for (const snr of plan.noiseSnr) {
      hooks.onPhase?.(`evaluate noise ${snr} dB`);
      const noisy = await hooks.noisyFeatures(testPaths, snr);
      attacks.push({ kind: 'noise', snr, scores: await score({ kind: 'none' }, { ...testSet, features: noisy }) });
    }
  }
  return { clean, attacks };
}
