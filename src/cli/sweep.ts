// `ser sweep`: the paper's grid — models x training eps x folds — each fold trained and
// scored on held-out speakers, one result file per fold. Interrupt it at any point and run
// the same command again: finished folds are kept and skipped.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag, numberListFlag } from './args.js';
import { UserError } from './errors.js';
import { RANGES, CORPUS_FLAG, RECIPE_FLAG, TRAIN_FLAGS, trainConfig, modelList, epsList, recipeFlag, frontEndOptions, corpusWithFeatures, corpusExit, trainingProgress } from './common.js';
import { formatSeconds } from './progress.js';
import { createNodeEngine } from '../gpu/node.js';
import { runFold } from '../experiment/run-fold.js';
import { saveFoldResult, hasFoldResult, loadFoldResults } from '../experiment/results.js';
import { assertWritableDir, writeFileAtomic } from '../io/atomic.js';
import { readJsonFile } from '../io/json.js';
import { table3 } from '../report/table.js';
import { FrontEnd, loadUtterance } from '../audio/frontend.js';
import { addNoise } from '../attacks/noise.js';
import { Random } from '../util/random.js';

export const spec: CommandSpec = {
  name: 'sweep',
  summary: "Run the paper's grid (models x training eps x folds) with speaker-independent cross-validation; resumable.",
  usage: 'ser sweep [--corpus SPEC] [--recipe paper|db] [--models cnn5,vgg16,resnet50] [--eps 0,0.02,...] [--folds all|0,1] [--out DIR]',
  flags: {
    ...RECIPE_FLAG,
    ...CORPUS_FLAG,
    models: { type: 'string', value: 'LIST', default: 'cnn5', help: 'models: cnn5, vgg16, resnet50 (comma-separated)' },
    eps: { type: 'string', value: 'LIST', default: '0,0.02,0.04,0.06,0.08,0.1', help: 'training eps grid (0 = standard training)' },
    'test-eps': { type: 'string', value: 'LIST', help: 'FGSM eps evaluated on every model (default: the --eps grid)' },
    'pgd-eps': { type: 'string', value: 'LIST', help: 'PGD eps evaluated on every model (default: none)' },
    'pgd-steps': { type: 'string', value: 'N', default: '10', help: 'PGD iterations' },
    'noise-snr': { type: 'string', value: 'LIST', help: 'additive white-noise SNRs in dB evaluated, e.g. 20,10,0 (default: none)' },
    folds: { type: 'string', value: 'LIST', default: 'all', help: "test folds to run: 'all' or a list like 0,2" },
    out: { type: 'string', value: 'DIR', default: 'runs/sweep', help: 'run folder (results, report, config)' },
    ...TRAIN_FLAGS,
    quiet: { type: 'boolean', help: 'no progress bars' },
    json: { type: 'boolean', help: 'print every fold result of this run folder as JSON at the end' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UserError(`sweep: unexpected argument '${p.positionals[0]}'`);
  const models = modelList(p);
  const recipe = recipeFlag(p);
  const trainEps = epsList(p, 'eps', recipe);
  const testEps = p.flags['test-eps'] ? epsList(p, 'test-eps', recipe) : trainEps;
  const pgdEps = p.flags['pgd-eps'] ? epsList(p, 'pgd-eps', recipe) : [];
  const pgdSteps = numberFlag(p, 'pgd-steps', RANGES.steps);
  const noiseSnr = p.flags['noise-snr'] ? numberListFlag(p, 'noise-snr', RANGES.snr) : [];
  const base = trainConfig(p, 0, recipe);
  const frontEnd = frontEndOptions(p, recipe);
  const fit = frontEnd.fit;
  const out = String(p.flags.out);
  const quiet = p.flags.quiet === true || p.flags.json === true;

  // Every setting that changes a result: the recipe and its attack settings included.
  const config = {
    recipe: recipe.name,
    corpus: String(p.flags.corpus),
    fit,
    iterations: base.iterations,
    batch: base.batchSize,
    lr: base.lr,
    seed: base.seed,
    alpha: base.alpha,
    beta: base.beta,
    clip: base.clip,
    attackLabels: base.attackLabels,
    evalModeAttack: base.evalModeAttack,
    advStart: base.advStart,
    balanced: base.balanced,
  };
  const configPath = join(out, 'config.json');
  if (existsSync(configPath)) {
    const read = readJsonFile<Record<string, unknown>>(configPath, (v) => (v && typeof v === 'object' && !Array.isArray(v) ? null : 'not a sweep configuration (not a JSON object)'));
    // A run folder from before recipes was a db run with today's db settings.
    const old: Record<string, unknown> = { recipe: 'db', clip: 'range', attackLabels: 'true', evalModeAttack: false, advStart: 0, ...read };
    for (const [k, v] of Object.entries(config)) {
      if (JSON.stringify(old[k]) !== JSON.stringify(v)) {
        throw new UserError(`sweep: ${out} holds a run with ${k}=${JSON.stringify(old[k])}, not ${JSON.stringify(v)}; use another --out or the same settings to resume`);
      }
    }
  }
  writeFileAtomic(configPath, JSON.stringify(config, null, 1));
  assertWritableDir(join(out, 'folds'));

  const engine = await createNodeEngine();
  console.error(`adapter: ${engine.adapter.name} (${engine.adapter.backend})`);
  const { corpus, features, skipped } = await corpusWithFeatures(engine, p, frontEnd, { quiet });

  const folds = p.flags.folds === 'all' ? [...Array(corpus.folds).keys()] : numberListFlag(p, 'folds', RANGES.fold);
  for (const f of folds) if (!Number.isInteger(f) || f < 0 || f >= corpus.folds) throw new UserError(`--folds: fold ${f} does not exist (corpus has folds 0..${corpus.folds - 1})`);

  const front = new FrontEnd(engine, frontEnd);
  const noiseRng = new Random(base.seed + 7);
  const noisyFeatures = noiseSnr.length
    ? async (paths: string[], snr: number) => {
        const signals: Float32Array[] = [];
        for (const path of paths) signals.push(addNoise(await loadUtterance(path), snr, noiseRng)); // in order: the noise is seeded
        return front.logMel(signals);
      }
    : undefined;

  const jobs = models.flatMap((model) => trainEps.flatMap((eps) => folds.map((fold) => ({ model, eps, fold }))));
  const started = Date.now();
  let done = 0;
  for (const job of jobs) {
    const tag = `${job.model} eps ${job.eps.toFixed(2)} fold ${job.fold}`;
    if (hasFoldResult(out, job.model, job.eps, job.fold)) {
      console.error(`${tag}: done earlier, kept`);
      done++;
      continue;
    }
    const result = await runFold(
      engine,
      corpus,
      features,
      [1, 373, 64],
      { model: job.model, fold: job.fold, recipe: recipe.name, train: { ...base, eps: job.eps }, fgsmEps: testEps, pgdEps, pgdSteps, noiseSnr },
      { ...trainingProgress(`[${done + 1}/${jobs.length}] ${tag}`, base.iterations, quiet), noisyFeatures },
    );
    saveFoldResult(out, result);
    done++;
    const adv = result.attacks.find((a) => a.kind === 'fgsm' && Math.abs((a.eps ?? 0) - (job.eps || testEps.find((e) => e > 0) || 0)) < 1e-9);
    console.error(`${tag}: clean UAR ${result.clean.uar.toFixed(3)}${adv ? `, FGSM eps ${adv.eps} UAR ${adv.scores.uar.toFixed(3)}` : ''} (${formatSeconds(result.trainSeconds)} training)`);
  }
  console.error(`sweep finished in ${formatSeconds((Date.now() - started) / 1000)}; results in ${join(out, 'folds')}`);
  let damaged = 0;
  const results = loadFoldResults(out, (path, reason) => {
    damaged++;
    console.error(`skipped ${path}: ${reason}`);
  }).filter((r) => models.includes(r.model as never));
  if (p.flags.json) {
    console.log(JSON.stringify(results, null, 1));
    return corpusExit(skipped + damaged);
  }
  console.log(`Recipe ${recipe.name}; FGSM ${base.clip === 'ball' ? `within x ± ${base.beta}` : `clipped to [0, ${base.beta}]`}, against the ${base.attackLabels === 'predicted' ? "model's own predictions" : 'true labels'}.\n`);
  console.log(table3(results));
  console.log(`\nRun 'ser report ${out}' for the full report and figures.`);
  return corpusExit(skipped + damaged);
}
