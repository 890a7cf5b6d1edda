// `ser predict FILE.wav --checkpoint MODEL`: class probabilities for one recording.
import type { CommandSpec, Parsed } from './args.js';
import { UserError } from './errors.js';
import { createNodeEngine } from '../gpu/node.js';
import { openCheckpoint, MODEL_FLAG } from './model-file.js';
import { FrontEnd, loadUtterance } from '../audio/frontend.js';
import { predict } from '../train/evaluate.js';
import { CLASSES } from '../data/corpus.js';

export const spec: CommandSpec = {
  name: 'predict',
  summary: 'Print the emotion class probabilities of WAV files under a trained checkpoint.',
  usage: 'ser predict FILE.wav [FILE.wav ...] --checkpoint MODEL.safetensors [--json]',
  flags: {
    checkpoint: { type: 'string', value: 'FILE', help: "a checkpoint written by 'ser train' (safetensors)" },
    ...MODEL_FLAG,
    json: { type: 'boolean', help: 'print JSON' },
  },
};

export async function loadFeatures(front: FrontEnd, files: string[]): Promise<Float32Array[]> {
  const signals: Float32Array[] = [];
  for (const f of files) {
    try {
      signals.push(await loadUtterance(f));
    } catch (e) {
      throw new UserError((e as Error).message);
    }
  }
  return front.logMel(signals);
}

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length === 0) throw new UserError('predict: give at least one WAV file');
  if (typeof p.flags.checkpoint !== 'string') throw new UserError('predict: --checkpoint MODEL.safetensors is required');
  const engine = await createNodeEngine();
  // The checkpoint's recipe and fit make the features; its standardisation (paper) runs in the model.
  const { model, frontEnd } = openCheckpoint(engine, p.flags.checkpoint, { model: typeof p.flags.model === 'string' ? p.flags.model : undefined });
  const front = new FrontEnd(engine, frontEnd);
  const feats = await loadFeatures(front, p.positionals);
  const { probabilities, predicted } = await predict(engine, model, { features: feats, labels: feats.map(() => 0), shape: [1, 373, 64] });
  const rows = p.positionals.map((file, i) => ({
    file,
    predicted: CLASSES[predicted[i]],
    probabilities: Object.fromEntries(CLASSES.map((c, k) => [c, +probabilities[i][k].toFixed(6)])),
  }));
  if (p.flags.json) console.log(JSON.stringify(rows, null, 1));
  else
    for (const r of rows) {
      console.log(`${r.file}: ${r.predicted}  (${CLASSES.map((c) => `${c} ${r.probabilities[c].toFixed(3)}`).join(', ')})`);
    }
  return 0;
}
