// `ser train`: trains one model (standard, or adversarial with --eps) on a corpus, holding
// out one fold of speakers (or none: `--fold none`, the model to ship), saves the checkpoint,
// and scores the held-out fold.
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag } from './args.js';
import { UserError } from './errors.js';
import { RANGES, CORPUS_FLAG, RECIPE_FLAG, TRAIN_FLAGS, trainConfig, recipeFlag, frontEndOptions, epsRange, corpusWithFeatures, corpusExit, trainingProgress, checkpointMetadata } from './common.js';
import { formatSeconds } from './progress.js';
import { createNodeEngine } from '../gpu/node.js';
import { checkBatchFits } from './batch-fit.js';
import { CLASSES } from '../data/corpus.js';
import { runFold, trainAllSpeakers } from '../experiment/run-fold.js';
import { saveCheckpoint } from '../nn/checkpoint-file.js';
import { assertWritableFile } from '../io/atomic.js';
import { isModelName, MODEL_NAMES } from '../models/index.js';
import { formatConfusion } from '../metrics/metrics.js';
import type { Module } from '../nn/module.js';

export const spec: CommandSpec = {
  name: 'train',
  summary: 'Train a model on a corpus with one fold of speakers held out, save it, and score the held-out fold.',
  usage: 'ser train --corpus SPEC --model cnn5 [--recipe paper|db] [--eps 0.1] [--fold 0] --out MODEL.safetensors',
  flags: {
    ...RECIPE_FLAG,
    ...CORPUS_FLAG,
    model: { type: 'string', value: 'NAME', default: 'cnn5', help: MODEL_NAMES.join(' | ') },
    eps: { type: 'string', value: 'X', default: '0', help: 'FGSM eps for adversarial training (0 = standard training)' },
    fold: { type: 'string', value: 'K', default: '0', help: "held-out fold of speakers (scored after training), or 'none' to train on every speaker (no score: measure the same command per fold first)" },
    out: { type: 'string', value: 'FILE', default: 'model.safetensors', help: 'checkpoint to write (safetensors, PyTorch names)' },
    ...TRAIN_FLAGS,
    json: { type: 'boolean', help: 'print the scores as JSON' },
    quiet: { type: 'boolean', help: 'no progress bar' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UserError(`train: unexpected argument '${p.positionals[0]}'`);
  const modelName = String(p.flags.model);
  if (!isModelName(modelName)) throw new UserError(`--model: unknown model '${modelName}' (choose from ${MODEL_NAMES.join(', ')})`);
  const recipe = recipeFlag(p);
  const eps = numberFlag(p, 'eps', epsRange(recipe));
  const allSpeakers = p.flags.fold === 'none';
  const fold = allSpeakers ? -1 : numberFlag(p, 'fold', RANGES.fold);
  const cfg = trainConfig(p, eps, recipe);
  const frontEnd = frontEndOptions(p, recipe);
  const out = String(p.flags.out);
  const quiet = p.flags.quiet === true || p.flags.json === true;
  assertWritableFile(out); // now, not after training
  const engine = await createNodeEngine();
  console.error(`adapter: ${engine.adapter.name} (${engine.adapter.backend})`);
  checkBatchFits(engine, modelName, cfg.batchSize);
  const { corpus, features, skipped } = await corpusWithFeatures(engine, p, frontEnd, { quiet, fold: allSpeakers ? undefined : fold });
  const label = `${modelName} ${eps > 0 ? `adversarial eps ${eps}` : 'standard'}`;
  const save = (model: Module, heldOutFold: string) =>
    saveCheckpoint(model, out, {
      model: modelName,
      ...checkpointMetadata(recipe.name, frontEnd.fit, cfg),
      corpus: corpus.name,
      heldOutFold,
      classes: CLASSES.join(','),
    });
  if (allSpeakers) {
    const plan = { model: modelName, recipe: recipe.name, train: cfg, fgsmEps: [], pgdEps: [], pgdSteps: 10, noiseSnr: [] };
    const r = await trainAllSpeakers(engine, corpus, features, [1, 373, 64], plan, { ...trainingProgress(label, cfg.iterations, quiet), onTrained: (model) => save(model, 'none') });
    if (p.flags.json) {
      console.log(JSON.stringify({ checkpoint: out, recipe: recipe.name, heldOutFold: null, trainSize: r.trainSize, trainSeconds: r.trainSeconds }, null, 1));
      return corpusExit(skipped);
    }
    console.log(`saved ${out}`);
    console.log(`trained on all ${r.trainSize} utterances (every speaker; recipe ${recipe.name}) in ${formatSeconds(r.trainSeconds)}: no held-out score; the same command with --fold 0..${corpus.folds - 1} measures it`);
    return corpusExit(skipped);
  }
  const r = await runFold(engine, corpus, features, [1, 373, 64], { model: modelName, fold, recipe: recipe.name, train: cfg, fgsmEps: eps > 0 ? [eps] : [0.1], pgdEps: [], pgdSteps: 10, noiseSnr: [] }, {
    ...trainingProgress(label, cfg.iterations, quiet),
    onTrained: (model) => save(model, String(fold)),
  });
  const adv = r.attacks[0];
  if (p.flags.json) {
    console.log(JSON.stringify({ checkpoint: out, recipe: recipe.name, attackLabels: cfg.attackLabels, clean: r.clean, fgsm: adv ? { eps: adv.eps, ...adv.scores } : null, trainSeconds: r.trainSeconds }, null, 1));
    return corpusExit(skipped);
  }
  console.log(`saved ${out}`);
  console.log(`held-out fold ${fold} (${r.testSize} utterances): clean UAR ${r.clean.uar.toFixed(3)}, WA ${r.clean.wa.toFixed(3)}; FGSM eps ${adv.eps} UAR ${adv.scores.uar.toFixed(3)} (recipe ${recipe.name}, attacking ${cfg.attackLabels} labels); trained in ${formatSeconds(r.trainSeconds)}`);
  console.log(formatConfusion(r.clean.confusion, CLASSES));
  return corpusExit(skipped);
}
