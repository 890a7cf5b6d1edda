// `ser sweep`: the paper's grid — models x training eps x folds — each cell (one fold of one
// model at one training eps) trained and scored on held-out speakers, one result file per
// cell named by the key of its exact settings. Interrupt it at any point and run the same
// command again: finished cells are kept. Processes sharing a run folder (concurrent sweeps,
// --worker processes, job-array tasks with --cell/--shard) split the cells through claims.
import { linkSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join, dirname, relative } from 'node:path';
import { createHash } from 'node:crypto';
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag, numberListFlag } from './args.js';
import { UserError } from './errors.js';
import { RANGES, CORPUS_FLAG, RECIPE_FLAG, TRAIN_FLAGS, trainConfig, modelList, epsList, recipeFlag, frontEndOptions, corpusWithFeatures, corpusExit, trainingProgress } from './common.js';
import { formatSeconds } from './progress.js';
import { createNodeEngine } from '../gpu/node.js';
import { checkBatchFits } from './batch-fit.js';
import { runFold } from '../experiment/run-fold.js';
import { saveFoldResult, findFoldResult, loadFoldResults, readFolderSettings } from '../experiment/results.js';
import { gridCells, cellTag, canonicalJson, differingSettings, settingsKey, LEGACY_DEFAULTS, type Cell, type Settings } from '../experiment/cells.js';
import { tryClaim, describeClaim, heartbeatSeconds, DEFAULT_CLAIM_TIMEOUT_S, type FoundClaim } from '../experiment/claims.js';
import { selectionOf, selectCells } from './selection.js';
import type { Corpus } from '../data/corpus.js';
import { openCorpusOrExplain } from './common.js';
import { assertWritableDir, writeFileAtomic, makeFolders, asOutputError, OutputError } from '../io/atomic.js';
import { JsonFileError } from '../io/json.js';
import { table3 } from '../report/table.js';
import { FrontEnd, loadUtterance } from '../audio/frontend.js';
import type { Engine } from '../engine/engine.js';
import { addNoise } from '../attacks/noise.js';
import { Random } from '../util/random.js';
import type { ModelName } from '../models/index.js';
import type { RecipeName } from '../audio/recipe.js';

export const spec: CommandSpec = {
  name: 'sweep',
  summary: "Run the paper's grid (models x training eps x folds) with speaker-independent cross-validation; resumable.",
  usage: 'ser sweep [--corpus SPEC] [--recipe paper|db] [--models cnn5,vgg16,resnet50] [--eps 0,0.02,...] [--folds all|0,1] [--out DIR] [--list-cells | --cell K | --shard K/N | --worker]',
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
    'list-cells': { type: 'boolean', help: "print the grid's cells (index, cell, key, exact settings), one per line, and exit; with --json as JSON" },
    cell: { type: 'string', value: 'K', help: 'run only cell K (see --list-cells); default from SLURM_ARRAY_TASK_ID or JOB_COMPLETION_INDEX when set' },
    shard: { type: 'string', value: 'K/N', help: 'run share K of N of the cells (cells K, K+N, ...)' },
    worker: { type: 'boolean', help: 'take the next unclaimed cell until none is left, waiting for cells other processes hold' },
    'claim-timeout': { type: 'string', value: 'S', default: String(DEFAULT_CLAIM_TIMEOUT_S), help: 'seconds without a heartbeat after which a claimed cell is taken over (heartbeat every min(30, S/3) s)' },
    quiet: { type: 'boolean', help: 'no progress bars' },
    json: { type: 'boolean', help: 'print every cell result of this run as JSON at the end (or the cells, with --list-cells)' },
  },
};

/** Flags that change no number of any cell (so they are not part of a cell's settings). */
export const FLAGS_OUTSIDE_KEY = ['out', 'cache', 'quiet', 'json', 'list-cells', 'cell', 'shard', 'worker', 'claim-timeout', 'models', 'eps', 'folds'] as const;

/**
 * Identity of a corpus's contents: the number of utterances and a digest of every
 * utterance's path (relative to the corpus's common folder, so a mount point does not
 * matter), label, speaker and fold.
 */
export function corpusIdentity(corpus: Corpus): string {
  const paths = corpus.utterances.map((u) => u.path);
  let root = paths.length ? dirname(paths[0]) : '';
  for (const p of paths) while (root && relative(root, p).startsWith('..')) root = root === dirname(root) ? '' : dirname(root);
  const lines = corpus.utterances.map((u) => `${relative(root, u.path)}|${u.label}|${u.speaker}|${u.fold}`).sort();
  return `${corpus.name}:${corpus.utterances.length}:${createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16)}`;
}

/**
 * Checks the run folder's config.json against this run's settings: refuses (one line naming
 * every differing setting) when any differs; creates it atomically when absent; adds
 * settings an older folder did not record.
 */
export function checkFolderSettings(out: string, settings: Settings): void {
  const path = join(out, 'config.json');
  let old: Settings;
  try {
    old = readFolderSettings(out);
  } catch (e) {
    if (e instanceof JsonFileError) throw e; // already one line naming the file and what is wrong
    throw new UserError(`sweep: ${(e as Error).message}; move it away or use another --out`);
  }
  const known = Object.keys(old).length > 0;
  // A setting an older folder never recorded and that has no legacy default is taken as this run's.
  const adopted: Settings = { ...old };
  for (const [k, v] of Object.entries(settings)) if (!(k in old) && !(k in LEGACY_DEFAULTS)) adopted[k] = v;
  const diff = differingSettings(adopted, settings);
  if (known && diff.length > 0) {
    const filled = { ...LEGACY_DEFAULTS, ...adopted };
    const named = diff.map((k) => `${k} ${canonicalJson(settings[k] ?? LEGACY_DEFAULTS[k] ?? null)} here, ${canonicalJson(filled[k] ?? null)} in the folder`).join('; ');
    throw new UserError(`sweep: ${out} holds a run with other settings (${named}); use another --out or the same settings to resume`);
  }
  if (known && canonicalJson(adopted) === canonicalJson(old)) return;
  try {
    makeFolders(out);
    if (known) {
      writeFileAtomic(path, JSON.stringify(adopted, null, 1));
      return;
    }
    // Create-if-absent with its content in one step: write aside, then hard-link (fails if one exists).
    const tmp = `${path}.tmp-${process.pid}-${Date.now()}`;
    writeFileSync(tmp, JSON.stringify(settings, null, 1));
    try {
      linkSync(tmp, path);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      rmSync(tmp, { force: true });
      return checkFolderSettings(out, settings); // another process made it first: compare with theirs
    }
    rmSync(tmp, { force: true });
  } catch (e) {
    if (e instanceof UserError) throw e;
    // A cause the user can fix reads like every other write's (OutputError); others keep their text.
    const out = asOutputError(e, path);
    throw out instanceof OutputError ? out : new UserError(`sweep: cannot write ${path}: ${(e as Error).message}`);
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length > 0) throw new UserError(`sweep: unexpected argument '${p.positionals[0]}'`);
  const models = modelList(p);
  const recipe = recipeFlag(p);
  const trainEps = epsList(p, 'eps', recipe);
  if (new Set(trainEps).size !== trainEps.length) throw new UserError(`--eps: '${p.flags.eps}' names an eps twice`);
  const testEps = p.flags['test-eps'] ? epsList(p, 'test-eps', recipe) : trainEps;
  const pgdEps = p.flags['pgd-eps'] ? epsList(p, 'pgd-eps', recipe) : [];
  const pgdSteps = numberFlag(p, 'pgd-steps', RANGES.steps);
  const noiseSnr = p.flags['noise-snr'] ? numberListFlag(p, 'noise-snr', RANGES.snr) : [];
  const base = trainConfig(p, 0, recipe);
  const frontEnd = frontEndOptions(p, recipe);
  const fit = frontEnd.fit;
  const out = String(p.flags.out);
  const claimTimeout = numberFlag(p, 'claim-timeout', { min: 0.3, max: 86400 });
  const listOnly = p.flags['list-cells'] === true;
  const quiet = p.flags.quiet === true || p.flags.json === true;

  const corpus = await openCorpusOrExplain(String(p.flags.corpus));
  const folds = p.flags.folds === 'all' ? [...Array(corpus.folds).keys()] : numberListFlag(p, 'folds', RANGES.fold);
  for (const f of folds) if (!Number.isInteger(f) || f < 0 || f >= corpus.folds) throw new UserError(`--folds: fold ${f} does not exist (corpus has folds 0..${corpus.folds - 1})`);
  if (new Set(folds).size !== folds.length) throw new UserError(`--folds: '${p.flags.folds}' names a fold twice`);
  if (new Set(models).size !== models.length) throw new UserError(`--models: '${p.flags.models}' names a model twice`);

  // Every setting that changes a number of a cell (FLAGS_OUTSIDE_KEY are the ones that do not):
  // the cell's key hashes this whole object, so a setting added here lands in the key.
  const settings: Settings = {
    recipe: recipe.name,
    corpus: String(p.flags.corpus),
    corpusId: corpusIdentity(corpus),
    fit,
    iterations: base.iterations,
    batch: base.batchSize,
    lr: base.lr,
    lrDecay: base.lrDecay,
    lrEvery: base.lrDecayEvery,
    seed: base.seed,
    alpha: base.alpha,
    beta: base.beta,
    clip: base.clip,
    attackLabels: base.attackLabels,
    evalModeAttack: base.evalModeAttack,
    advStart: base.advStart,
    balanced: base.balanced,
    testEps: testEps.filter((e) => e > 0),
    pgdEps: pgdEps.filter((e) => e > 0),
    // The number of PGD steps changes nothing when no PGD is evaluated.
    pgdSteps: pgdEps.some((e) => e > 0) ? pgdSteps : undefined,
    noiseSnr,
  } as Settings;
  for (const k of Object.keys(settings)) if (settings[k] === undefined) delete settings[k];
  const cells = gridCells(settings, models, trainEps, folds);

  if (listOnly) {
    if (p.flags.json) console.log(JSON.stringify(cells.map((c) => ({ index: c.index, cell: cellTag(c), key: c.key, config: c.config })), null, 1));
    else for (const c of cells) console.log(`${c.index}\t${cellTag(c)}\t${c.key}\t${canonicalJson(c.config)}`);
    console.error(`${cells.length} cells (${models.length} models x ${trainEps.length} eps x ${folds.length} folds)`);
    return 0;
  }
  const selection = selectionOf({ cell: p.flags.cell as string | undefined, shard: p.flags.shard as string | undefined }, process.env, cells.length);
  if (p.flags.worker && selection.kind !== 'all') throw new UserError('sweep: --worker takes cells from the whole grid; drop --cell/--shard (or the array index) or --worker');
  const mine = selectCells(cells, selection);

  // The batch first: a refused one writes nothing, so the same --out takes the retry.
  const engine = await createNodeEngine();
  for (const m of models) checkBatchFits(engine, m, base.batchSize);
  checkFolderSettings(out, settings);
  assertWritableDir(join(out, 'folds')); // now, not after the first cell's training
  // The grid this run asked for, so `ser report` can say which cells are missing.
  writeFileAtomic(join(out, 'grids', `${settingsKey({ cells: cells.map((c) => c.key) })}.json`), JSON.stringify({ settingsKey: settingsKey(settings), models, trainEps, folds, cells: cells.map((c) => ({ index: c.index, cell: cellTag(c), key: c.key })) }, null, 1));

  console.error(`adapter: ${engine.adapter.name} (${engine.adapter.backend})`);
  const { corpus: usable, features, skipped } = await corpusWithFeatures(engine, p, frontEnd, { quiet });
  const front = new FrontEnd(engine, frontEnd);

  const started = Date.now();
  // Plain sweeps and workers wait for cells other processes hold (taking them over if those
  // stop renewing their claim); a single cell or a share leaves them to their holder.
  const wait = selection.kind === 'all';
  let pending = mine;
  let computed = 0;
  for (let round = 0; pending.length > 0; round++) {
    const held: { cell: Cell; by: FoundClaim }[] = [];
    for (const cell of pending) {
      const tag = `cell ${cell.index} ${cellTag(cell)}`;
      if (findFoldResult(out, cell.key)) {
        if (round === 0) console.error(`${tag}: done earlier, kept`);
        continue;
      }
      const outcome = tryClaim(out, cell.key, cellTag(cell), claimTimeout);
      if ('heldBy' in outcome) {
        held.push({ cell, by: outcome.heldBy });
        continue;
      }
      const { claim, tookOver } = outcome;
      try {
        if (tookOver) console.error(`${tag}: claim of ${describeClaim(tookOver)} timed out; taken over`);
        if (findFoldResult(out, cell.key)) continue; // finished between our look and our claim
        console.error(`${tag}: start (host ${claim.info.host} pid ${claim.info.pid})`);
        const result = await runCell(engine, usable, features, front, cell, { recipe: recipe.name, base, pgdSteps, noiseSnr }, `[${computed + 1}/${mine.length}] ${tag}`, quiet);
        if (claim.lost && findFoldResult(out, cell.key)) {
          console.error(`${tag}: our claim was taken over (we stalled past --claim-timeout) and the cell finished elsewhere; our copy dropped`);
          continue;
        }
        saveFoldResult(out, { ...result, config: cell.config, key: cell.key, worker: { host: hostname(), pid: process.pid } });
        computed++;
        const adv = result.attacks.find((a) => a.kind === 'fgsm' && Math.abs((a.eps ?? 0) - (cell.trainEps || testEps.find((e) => e > 0) || 0)) < 1e-9);
        console.error(`${tag}: done, clean UAR ${result.clean.uar.toFixed(3)}${adv ? `, FGSM eps ${adv.eps} UAR ${adv.scores.uar.toFixed(3)}` : ''} (${formatSeconds(result.trainSeconds)} training)`);
      } finally {
        claim.release();
      }
    }
    if (held.length === 0) break;
    if (!wait) {
      for (const h of held) console.error(`cell ${h.cell.index} ${cellTag(h.cell)}: claimed by ${describeClaim(h.by)}; left to it`);
      break;
    }
    if (round === 0 || round % 20 === 0) console.error(`waiting for ${held.length} cells other processes hold (${held.map((h) => `cell ${h.cell.index}: ${describeClaim(h.by)}`).join('; ')})`);
    pending = held.map((h) => h.cell);
    await sleep(Math.min(5000, heartbeatSeconds(claimTimeout) * 1000));
  }
  console.error(`sweep finished in ${formatSeconds((Date.now() - started) / 1000)}: ${computed} cells computed here; results in ${join(out, 'folds')}`);
  const keys = new Set(mine.map((c) => c.key));
  let damaged = 0;
  const results = loadFoldResults(out, (path, reason) => {
    damaged++;
    console.error(`skipped ${path}: ${reason}`);
  }).filter((r) => keys.has(r.key));
  if (p.flags.json) {
    console.log(JSON.stringify(results, null, 1));
    return corpusExit(skipped + damaged);
  }
  console.log(`Recipe ${recipe.name}; FGSM ${base.clip === 'ball' ? `within x ± ${base.beta}` : `clipped to [0, ${base.beta}]`}, against the ${base.attackLabels === 'predicted' ? "model's own predictions" : 'true labels'}.\n`);
  console.log(table3(results));
  console.log(`\nRun 'ser report ${out}' for the full report and figures.`);
  return corpusExit(skipped + damaged);
}


/** Trains and scores one cell. Noise for the noise attack is seeded per fold, so a cell's numbers do not depend on which cells ran before it in the process. */
async function runCell(
  engine: Engine,
  corpus: Corpus,
  features: Map<string, Float32Array>,
  front: FrontEnd,
  cell: Cell,
  s: { recipe: RecipeName; base: ReturnType<typeof trainConfig>; pgdSteps: number; noiseSnr: number[] },
  label: string,
  quiet: boolean,
) {
  const testEps = cell.config.testEps as number[];
  const pgdEps = cell.config.pgdEps as number[];
  const noiseRng = new Random(s.base.seed + 7 + 7919 * cell.fold);
  const noisyFeatures = s.noiseSnr.length
    ? async (paths: string[], snr: number) => {
        const signals: Float32Array[] = [];
        for (const path of paths) signals.push(addNoise(await loadUtterance(path), snr, noiseRng)); // in order: the noise is seeded
        return front.logMel(signals);
      }
    : undefined;
  return runFold(
    engine,
    corpus,
    features,
    [1, 373, 64],
    { model: cell.model as ModelName, fold: cell.fold, recipe: s.recipe, train: { ...s.base, eps: cell.trainEps }, fgsmEps: testEps, pgdEps, pgdSteps: s.pgdSteps, noiseSnr: s.noiseSnr },
    { ...trainingProgress(label, s.base.iterations, quiet), noisyFeatures },
  );
}
