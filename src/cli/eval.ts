// `ser eval --checkpoint MODEL --corpus SPEC --fold K`: scores a trained model on one fold's
// speakers, clean and under FGSM, PGD and additive noise.
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag, numberListFlag } from './args.js';
import { UserError } from './errors.js';
import { RANGES, CORPUS_FLAG, RECIPE_FLAG, ATTACK_FLAGS, epsList, corpusWithFeatures, corpusExit, attackSettings } from './common.js';
import { createNodeEngine } from '../gpu/node.js';
import { openCheckpoint, MODEL_FLAG } from './model-file.js';
import { labelId, CLASSES } from '../data/corpus.js';
import { splitFold } from '../data/folds.js';
import { scoreModel } from '../experiment/run-fold.js';
import { FrontEnd, loadUtterance } from '../audio/frontend.js';
import { addNoise } from '../attacks/noise.js';
import { Random } from '../util/random.js';
import { formatConfusion } from '../metrics/metrics.js';

export const spec: CommandSpec = {
  name: 'eval',
  summary: 'Score a trained model on one fold of a corpus: clean, FGSM, PGD and additive noise.',
  usage: 'ser eval --checkpoint MODEL.safetensors --corpus SPEC [--fold K] [--fgsm-eps LIST] [--pgd-eps LIST] [--noise-snr LIST] [--attack-labels predicted|true]',
  flags: {
    checkpoint: { type: 'string', value: 'FILE', help: 'trained checkpoint (safetensors)' },
    ...MODEL_FLAG,
    ...RECIPE_FLAG,
    recipe: { ...RECIPE_FLAG.recipe, default: undefined, help: "the checkpoint's recipe (default: from its metadata; db when it names none); another one is refused" },
    ...CORPUS_FLAG,
    fit: { ...CORPUS_FLAG.fit, help: "the checkpoint's fit (default: from its metadata); another one is refused" },
    ...ATTACK_FLAGS,
    fold: { type: 'string', value: 'K', help: "fold to score, or 'all' (every utterance: another corpus, cross-corpus) (default: the checkpoint's held-out fold)" },
    'fgsm-eps': { type: 'string', value: 'LIST', default: '0.02,0.04,0.06,0.08,0.1', help: 'FGSM eps values' },
    'pgd-eps': { type: 'string', value: 'LIST', help: 'PGD eps values (default: none)' },
    'pgd-steps': { type: 'string', value: 'N', default: '10', help: 'PGD iterations' },
    'noise-snr': { type: 'string', value: 'LIST', default: '20,10,0', help: 'white-noise SNRs in dB' },
    json: { type: 'boolean', help: 'print JSON' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (typeof p.flags.checkpoint !== 'string') throw new UserError('eval: --checkpoint MODEL.safetensors is required');
  const engine = await createNodeEngine();
  const { model, meta, recipe, frontEnd } = openCheckpoint(engine, p.flags.checkpoint, { model: typeof p.flags.model === 'string' ? p.flags.model : undefined });
  // The checkpoint fixes the input space; features from another recipe or fit would be another model's input.
  for (const [flag, have] of [['recipe', recipe.name], ['fit', frontEnd.fit]] as const) {
    if (p.flags[flag] !== undefined && p.flags[flag] !== have) throw new UserError(`--${flag}: ${p.flags.checkpoint} was trained with ${flag} ${have}, not ${p.flags[flag]}`);
  }
  const attack = attackSettings(p, recipe);
  if (p.flags.fold === undefined && meta.heldOutFold === 'none') {
    throw new UserError(`${p.flags.checkpoint}: this model was trained on every speaker (--fold none), so it has no held-out fold; give --fold K, or --fold all for another corpus`);
  }
  const foldSpec = p.flags.fold ?? meta.heldOutFold ?? '0';
  const whole = foldSpec === 'all';
  const fold = whole ? -1 : p.flags.fold !== undefined ? numberFlag(p, 'fold', RANGES.fold) : Number(foldSpec);
  if (!whole && !(Number.isInteger(fold) && fold >= 0)) throw new UserError(`${p.flags.checkpoint}: checkpoint metadata: heldOutFold '${foldSpec}' is not a fold number; give --fold K or --fold all`);
  const { corpus, features, skipped } = await corpusWithFeatures(engine, p, frontEnd, { quiet: p.flags.json === true, fold: whole ? undefined : fold, select: whole ? undefined : (u) => u.fold === fold });
  const test = whole ? corpus.utterances : splitFold(corpus, fold).test;
  const front = new FrontEnd(engine, frontEnd);
  const rng = new Random(1);
  const plan = {
    fgsmEps: epsList(p, 'fgsm-eps', recipe),
    pgdEps: p.flags['pgd-eps'] ? epsList(p, 'pgd-eps', recipe) : [],
    pgdSteps: numberFlag(p, 'pgd-steps', RANGES.steps),
    noiseSnr: numberListFlag(p, 'noise-snr', RANGES.snr),
    attack,
  };
  const { clean, attacks } = await scoreModel(
    engine,
    model,
    { features: test.map((u) => features.get(u.path)!), labels: test.map((u) => labelId(u.label)), shape: [1, 373, 64] },
    test.map((u) => u.path),
    plan,
    {
      noisyFeatures: async (paths, snr) => {
        const signals: Float32Array[] = [];
        for (const f of paths) signals.push(addNoise(await loadUtterance(f), snr, rng)); // in order: the noise is seeded
        return front.logMel(signals);
      },
      onPhase: (w) => p.flags.json || console.error(w),
    },
  );
  if (p.flags.json) {
    console.log(JSON.stringify({ checkpoint: p.flags.checkpoint, recipe: recipe.name, attackLabels: attack.labels, beta: attack.beta, fold: whole ? 'all' : fold, utterances: test.length, clean, attacks }, null, 1));
    return corpusExit(skipped);
  }
  console.log(`${meta.model} on ${corpus.name} ${whole ? 'all folds' : `fold ${fold}`} (${test.length} utterances), recipe ${recipe.name}; attacks ${attack.clip === 'ball' ? `within x ± ${attack.beta}` : `clipped to [0, ${attack.beta}]`}, against the ${attack.labels === 'predicted' ? "model's own predictions" : 'true labels'}:`);
  console.log(`| condition | UAR | WA |\n|---|---|---|\n| clean | ${clean.uar.toFixed(3)} | ${clean.wa.toFixed(3)} |`);
  for (const a of attacks) console.log(`| ${a.kind === 'noise' ? `noise ${a.snr} dB` : `${a.kind.toUpperCase()} eps ${a.eps}`} | ${a.scores.uar.toFixed(3)} | ${a.scores.wa.toFixed(3)} |`);
  console.log(formatConfusion(clean.confusion, CLASSES));
  return corpusExit(skipped);
}
