// `ser attack FILE.wav --checkpoint MODEL --eps X`: the adversarial version of one
// recording's features against a trained model, with the prediction before and after,
// and optionally the adversarial features (.npy) and a clean/adversarial/perturbation image.
import type { CommandSpec, Parsed } from './args.js';
import { numberFlag, choiceFlag } from './args.js';
import { RANGES } from './common.js';
import { UserError } from './errors.js';
import { createNodeEngine } from '../gpu/node.js';
import { openCheckpoint } from './model-file.js';
import { loadFeatures } from './predict.js';
import { FrontEnd } from '../audio/frontend.js';
import { fgsm, pgd } from '../attacks/fgsm.js';
import { softmax } from '../ops/loss.js';
import { noGrad } from '../autograd/tape.js';
import { CLASSES, labelId, type Label } from '../data/corpus.js';
import { writeNpy } from '../io/npy.js';
import { spectrogramsPng } from '../report/png.js';
import { assertWritableFile, writeFileAtomic } from '../io/atomic.js';

export const spec: CommandSpec = {
  name: 'attack',
  summary: 'Run FGSM or PGD against a trained model on one WAV file and show the prediction before and after.',
  usage: 'ser attack FILE.wav --checkpoint MODEL.safetensors [--eps 0.1] [--method fgsm|pgd] [--label angry] [--out ADV.npy] [--png FIG.png]',
  flags: {
    checkpoint: { type: 'string', value: 'FILE', help: 'trained checkpoint (safetensors)' },
    eps: { type: 'string', value: 'X', default: '0.1', help: 'attack strength on the [0, 1] feature scale' },
    method: { type: 'string', value: 'NAME', default: 'fgsm', help: 'fgsm | pgd' },
    steps: { type: 'string', value: 'N', default: '10', help: 'PGD iterations' },
    label: { type: 'string', value: 'CLASS', help: "true class to attack away from (default: the model's clean prediction)" },
    out: { type: 'string', value: 'FILE', help: 'write the adversarial features (frames x 64 float32 .npy)' },
    png: { type: 'string', value: 'FILE', help: 'write an image: clean, adversarial and perturbation (like the paper’s Fig. 2)' },
    json: { type: 'boolean', help: 'print JSON' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length !== 1) throw new UserError('attack: give exactly one WAV file');
  if (typeof p.flags.checkpoint !== 'string') throw new UserError('attack: --checkpoint MODEL.safetensors is required');
  const eps = numberFlag(p, 'eps', RANGES.eps);
  const method = choiceFlag(p, 'method', ['fgsm', 'pgd'] as const);
  const steps = numberFlag(p, 'steps', RANGES.steps);
  if (p.flags.label !== undefined && !(CLASSES as readonly string[]).includes(String(p.flags.label))) {
    throw new UserError(`--label: '${p.flags.label}' is not one of ${CLASSES.join(', ')}`);
  }
  for (const f of ['out', 'png'] as const) if (typeof p.flags[f] === 'string') assertWritableFile(p.flags[f] as string);
  const engine = await createNodeEngine();
  const { model, fit, meta } = openCheckpoint(engine, p.flags.checkpoint);
  const beta = 1;
  const [clean] = await loadFeatures(new FrontEnd(engine, { fit }), p.positionals);
  const shape = [1, 1, clean.length / 64, 64];
  const result = await engine.scopeAsync(async () => {
    const x = engine.fromArray(clean, shape);
    const before = (await noGrad(engine, () => softmax(model.forward(x))).read()) as Float32Array;
    const argmax = (v: Float32Array) => v.indexOf(Math.max(...v));
    const label = p.flags.label ? labelId(p.flags.label as Label) : argmax(before);
    const y = engine.fromArray([label], [1], 'i32');
    const adv = method === 'fgsm' ? fgsm(model, x, y, eps, { beta }) : pgd(model, x, y, eps, { steps, beta });
    const after = (await noGrad(engine, () => softmax(model.forward(adv))).read()) as Float32Array;
    return { before, after, adv: (await adv.read()) as Float32Array, label, predBefore: argmax(before), predAfter: argmax(after) };
  });
  const frames = clean.length / 64;
  if (typeof p.flags.out === 'string') writeNpy(p.flags.out, result.adv, [frames, 64]);
  if (typeof p.flags.png === 'string') {
    const diff = result.adv.map((v, i) => 0.5 + (v - clean[i]) / (2 * Math.max(eps, 1e-6)));
    writeFileAtomic(p.flags.png, spectrogramsPng([clean, result.adv, diff], frames, 64));
  }
  const probs = (v: Float32Array) => Object.fromEntries(CLASSES.map((c, k) => [c, +v[k].toFixed(4)]));
  if (p.flags.json) {
    console.log(JSON.stringify({ file: p.positionals[0], model: meta.model, method, eps, label: CLASSES[result.label], before: probs(result.before), after: probs(result.after) }, null, 1));
    return 0;
  }
  console.log(`${p.positionals[0]} (${meta.model}, ${method} eps ${eps}, attacking label '${CLASSES[result.label]}'):`);
  console.log(`  clean:       ${CLASSES[result.predBefore].padEnd(8)} ${CLASSES.map((c, k) => `${c} ${result.before[k].toFixed(3)}`).join(', ')}`);
  console.log(`  adversarial: ${CLASSES[result.predAfter].padEnd(8)} ${CLASSES.map((c, k) => `${c} ${result.after[k].toFixed(3)}`).join(', ')}`);
  return 0;
}
