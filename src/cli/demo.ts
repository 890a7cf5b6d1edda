// `ser demo`: the quick start's main job. Trains CNN-5 twice on one speaker-independent
// fold — standard, and adversarially with FGSM — then prints the clean and FGSM UAR of
// both on the held-out speakers. With no --corpus it uses the EmoDB 4-class subset that ships
// in data/emodb4-16k (real speech); `--corpus synthetic` runs on tones the project generates
// itself (clearly labelled: a smoke test of the pipeline, not a result).
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag } from './args.js';
import { UserError } from './errors.js';
import { RANGES, CORPUS_FLAG, RECIPE_FLAG, TRAIN_FLAGS, trainConfig, recipeFlag, frontEndOptions, epsRange, corpusWithFeatures, corpusExit, trainingProgress } from './common.js';
import { formatSeconds } from './progress.js';
import { createNodeEngine } from '../gpu/node.js';
import { checkBatchFits } from './batch-fit.js';
import { runFold } from '../experiment/run-fold.js';
import type { FoldResult } from '../experiment/results.js';

export const spec: CommandSpec = {
  name: 'demo',
  summary: 'Train CNN-5 with and without adversarial training on one fold and print clean and FGSM UAR for both.',
  usage: 'ser demo [--corpus SPEC] [--recipe paper|db] [--eps 0.1] [--iterations N] [--json]',
  flags: {
    ...RECIPE_FLAG,
    ...CORPUS_FLAG,
    corpus: { ...CORPUS_FLAG.corpus, default: 'emodb', help: `${CORPUS_FLAG.corpus.help}; 'synthetic' for generated tones` },
    eps: { type: 'string', value: 'X', default: '0.1', help: 'FGSM eps for adversarial training and for the attack at test time' },
    fold: { type: 'string', value: 'K', default: '0', help: 'held-out fold' },
    ...TRAIN_FLAGS,
    iterations: { type: 'string', value: 'N', default: '40', help: 'training iterations per model (the paper: 10000; 40 keeps the demo near 2 minutes without a GPU)' },
    batch: { type: 'string', value: 'N', default: '4', help: 'batch size (the seed does not state one; its lineage code used 16)' },
    'lr-every': { type: 'string', value: 'N', default: '100', help: 'iterations between learning-rate decays' },
    json: { type: 'boolean', help: 'print the results as JSON' },
    quiet: { type: 'boolean', help: 'no progress bars' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UserError(`demo: unexpected argument '${p.positionals[0]}'`);
  const recipe = recipeFlag(p);
  const eps = numberFlag(p, 'eps', { ...epsRange(recipe), min: 0.0001 });
  const fold = numberFlag(p, 'fold', RANGES.fold);
  const base = trainConfig(p, 0, recipe);
  const frontEnd = frontEndOptions(p, recipe);
  const quiet = p.flags.quiet === true || p.flags.json === true;
  const engine = await createNodeEngine();
  console.error(`adapter: ${engine.adapter.name} (${engine.adapter.backend})`);
  checkBatchFits(engine, 'cnn5', base.batchSize);
  const { corpus, features, skipped } = await corpusWithFeatures(engine, p, frontEnd, { quiet, fold });

  const results: FoldResult[] = [];
  for (const trainEps of [0, eps]) {
    const label = trainEps === 0 ? 'standard' : `adversarial (eps ${trainEps})`;
    const r = await runFold(
      engine,
      corpus,
      features,
      [1, 373, 64],
      { model: 'cnn5', fold, recipe: recipe.name, train: { ...base, eps: trainEps }, fgsmEps: [eps], pgdEps: [], pgdSteps: 10, noiseSnr: [] },
      trainingProgress(`CNN-5 ${label}`, base.iterations, quiet),
    );
    results.push(r);
  }
  const rows = results.map((r) => ({
    training: r.trainEps === 0 ? 'standard' : `adversarial eps ${r.trainEps}`,
    cleanUar: r.clean.uar,
    fgsmUar: r.attacks[0]?.scores.uar ?? NaN,
    seconds: r.trainSeconds,
  }));
  if (p.flags.json) {
    console.log(JSON.stringify({ recipe: recipe.name, attackLabels: base.attackLabels, advStart: base.advStart, corpus: corpus.name, fold, eps, iterations: base.iterations, batch: base.batchSize, adapter: engine.adapter.name, results: rows }, null, 1));
    return corpusExit(skipped);
  }
  console.log(`\nCNN-5 on ${corpus.name}${corpus.name === 'synthetic' ? ' (SYNTHETIC data)' : ''}, fold ${fold} held out (${results[0].testSize} test / ${results[0].trainSize} train utterances), ${base.iterations} iterations of batch ${base.batchSize}, recipe ${recipe.name} (FGSM ${base.clip === 'ball' ? `within x ± ${base.beta}` : `clipped to [0, ${base.beta}]`}, against ${base.attackLabels} labels${base.advStart ? `, adversarial loss from iteration ${base.advStart}` : ''}):`);
  console.log(`\n| training | clean UAR | FGSM UAR (eps ${eps}) | training time |`);
  console.log('|---|---|---|---|');
  for (const r of rows) console.log(`| ${r.training} | ${r.cleanUar.toFixed(3)} | ${r.fgsmUar.toFixed(3)} | ${formatSeconds(r.seconds)} |`);
  console.log(`\nChance UAR is 0.250. Adapter: ${engine.adapter.name}.`);
  return corpusExit(skipped);
}
