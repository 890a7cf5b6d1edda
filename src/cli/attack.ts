// `ser attack FILE [--checkpoint MODEL] --eps X`: the adversarial version of one
// recording's features against a trained model, with the prediction before and after,
// and optionally the adversarial features (.npy) and a clean/adversarial/perturbation image.
// The recipe comes from the checkpoint: a `paper` model is attacked in its standardised space
// (eps in standard deviations per band, x_adv within x ± beta); `db` on [0, 1], clipped to [0, beta].
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag, choiceFlag } from './args.js';
import { RANGES, epsRange, loadClip } from './common.js';
import { UserError } from './errors.js';
import { createNodeEngine } from '../gpu/node.js';
import { defaultCheckpoint, openCheckpoint, MODEL_FLAG } from './model-file.js';
import { loadFeatures } from './predict.js';
import { basename } from 'node:path';
import { stackedFigure } from '../report/figure.js';
import { figureToSvg } from '../report/figure-svg.js';
import { perturbationSpec, spectrogramSpec } from '../report/attack-figure.js';
import { FrontEnd } from '../audio/frontend.js';
import { fgsm, pgd, clipOf } from '../attacks/fgsm.js';
import { inputSpace, Standardized, toFeatureUnits } from '../nn/input-norm.js';
import { softmax } from '../ops/loss.js';
import { noGrad } from '../autograd/tape.js';
import { CLASSES, labelId, type Label } from '../data/corpus.js';
import { writeNpy } from '../io/npy.js';
import { spectrogramsPng } from '../report/png.js';
import { assertWritableFile, writeFileAtomic } from '../io/atomic.js';

export const spec: CommandSpec = {
  name: 'attack',
  summary: 'Run FGSM or PGD against a trained model on one WAV file and show the prediction before and after.',
  usage: 'ser attack FILE [--checkpoint MODEL.safetensors (default: the bundled model)] [--eps 0.1] [--method fgsm|pgd] [--label angry] [--out ADV.npy] [--png FIG.png] [--svg FIG.svg]',
  flags: {
    checkpoint: { type: 'string', value: 'FILE', help: "a checkpoint written by 'ser train' (safetensors) (default: the bundled model, models/default.safetensors, or $SER_DEFAULT_MODEL)" },
    ...MODEL_FLAG,
    eps: { type: 'string', value: 'X', default: '0.1', help: "attack strength: standard deviations per band (paper checkpoints) or the [0, 1] feature scale (db)" },
    beta: { type: 'string', value: 'X', help: "clip: paper, x_adv within x ± beta; db, within [0, beta] (default: the checkpoint's recipe's, paper 0.1, db 1)" },
    method: { type: 'string', value: 'NAME', default: 'fgsm', help: 'fgsm | pgd' },
    steps: { type: 'string', value: 'N', default: '10', help: 'PGD iterations' },
    label: { type: 'string', value: 'CLASS', help: "true class to attack away from (default: the model's clean prediction)" },
    out: { type: 'string', value: 'FILE', help: "write the adversarial features (frames x 64 float32 .npy), in the features' own units (before standardisation)" },
    png: { type: 'string', value: 'FILE', help: 'write an image: clean, adversarial and perturbation (like the paper’s Fig. 2), no axes' },
    svg: { type: 'string', value: 'FILE', help: 'write the same three panels with axes (s, Hz), titles and colour bars (the browser app’s figures)' },
    json: { type: 'boolean', help: "print JSON (with 'caution' when the clip is near silence, under 1 s, or longer than the model hears; also said on stderr)" },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length !== 1) throw new UserError('attack: give exactly one WAV file');
  const eps = numberFlag(p, 'eps', RANGES.eps);
  const method = choiceFlag(p, 'method', ['fgsm', 'pgd'] as const);
  const steps = numberFlag(p, 'steps', RANGES.steps);
  if (p.flags.label !== undefined && !(CLASSES as readonly string[]).includes(String(p.flags.label))) {
    throw new UserError(`--label: '${p.flags.label}' is not one of ${CLASSES.join(', ')}`);
  }
  for (const f of ['out', 'png', 'svg'] as const) if (typeof p.flags[f] === 'string') assertWritableFile(p.flags[f] as string);
  const checkpoint = typeof p.flags.checkpoint === 'string' ? p.flags.checkpoint : defaultCheckpoint();
  const signal = await loadClip(p.positionals[0]);
  const samples = signal.length;
  const engine = await createNodeEngine();
  const { model, meta, recipe, frontEnd } = openCheckpoint(engine, checkpoint, { model: typeof p.flags.model === 'string' ? p.flags.model : undefined });
  numberFlag(p, 'eps', epsRange(recipe)); // the checkpoint's recipe may allow less than the widest range checked above
  const beta = p.flags.beta === undefined ? recipe.attack.beta : numberFlag(p, 'beta', RANGES.beta);
  const clip = clipOf(recipe.attack.clip, beta);
  const [{ features, caution }] = await loadFeatures(new FrontEnd(engine, frontEnd), p.positionals, () => signal);
  const shape = [1, 1, features.length / 64, 64];
  const { toInput, net } = inputSpace(model);
  const result = await engine.scopeAsync(async () => {
    const x = toInput(engine.fromArray(features, shape));
    const before = (await noGrad(engine, () => softmax(net.forward(x))).read()) as Float32Array;
    const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
    const label = p.flags.label ? labelId(p.flags.label as Label) : argmax(before);
    const y = engine.fromArray([label], [1], 'i32');
    const adv = method === 'fgsm' ? fgsm(net, x, y, eps, { clip }) : pgd(net, x, y, eps, { steps, clip });
    const after = (await noGrad(engine, () => softmax(net.forward(adv))).read()) as Float32Array;
    return { before, after, clean: (await x.read()) as Float32Array, adv: (await adv.read()) as Float32Array, label, predBefore: argmax(before), predAfter: argmax(after) };
  });
  const frames = features.length / 64;
  if (typeof p.flags.out === 'string') writeNpy(p.flags.out, await toFeatureUnits(model, result.adv), [frames, 64]);
  if (typeof p.flags.png === 'string') {
    // The attacked space; a standardised one is scaled to the clean map's range for display.
    const { clean, adv } = result;
    const [lo, hi] = model instanceof Standardized ? [Math.min(...clean), Math.max(...clean)] : [0, 1];
    const show = (v: Float32Array) => v.map((u) => (u - lo) / (hi - lo || 1));
    const diff = adv.map((v, i) => 0.5 + (v - clean[i]) / (2 * Math.max(eps, 1e-6)));
    writeFileAtomic(p.flags.png, spectrogramsPng([show(clean), show(adv), diff], frames, 64));
  }
  if (typeof p.flags.svg === 'string') {
    // Spectrograms in the features' own units; the perturbation in the attacked space (σ per band for paper).
    const advRaw = await toFeatureUnits(model, result.adv);
    const what = `${method.toUpperCase()}, eps ${eps}`;
    const fig = stackedFigure([
      spectrogramSpec(`Clean log-Mel spectrogram of ${basename(p.positionals[0])} (${CLASSES[result.predBefore]})`, features, frontEnd, samples, recipe),
      spectrogramSpec(`Adversarial (${what}): predicted ${CLASSES[result.predAfter]}`, advRaw, frontEnd, samples, recipe),
      perturbationSpec(result.clean, result.adv, eps, frontEnd, samples, recipe),
    ]);
    writeFileAtomic(p.flags.svg, figureToSvg(fig));
  }
  const probs = (v: Float32Array) => Object.fromEntries(CLASSES.map((c, k) => [c, +v[k].toFixed(4)]));
  if (p.flags.json) {
    console.log(JSON.stringify({ file: p.positionals[0], model: meta.model, recipe: recipe.name, method, eps, beta, label: CLASSES[result.label], before: probs(result.before), after: probs(result.after), ...(caution ? { caution } : {}) }, null, 1));
    return 0;
  }
  console.log(`${p.positionals[0]} (${meta.model}, recipe ${recipe.name}, ${method} eps ${eps} ${recipe.attack.clip === 'ball' ? `within x ± ${beta}` : `clipped to [0, ${beta}]`}, attacking label '${CLASSES[result.label]}'):`);
  console.log(`  clean:       ${CLASSES[result.predBefore].padEnd(8)} ${CLASSES.map((c, k) => `${c} ${result.before[k].toFixed(3)}`).join(', ')}`);
  console.log(`  adversarial: ${CLASSES[result.predAfter].padEnd(8)} ${CLASSES.map((c, k) => `${c} ${result.after[k].toFixed(3)}`).join(', ')}`);
  return 0;
}

