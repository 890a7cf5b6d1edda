// `ser features IN.wav --out OUT.npy`: the log-Mel features of one file, frames x nMels
// float32, computed by the GPU front end with a recipe's options (recipe.ts): `paper`
// gives ln-Mel values before any standardisation, `db` values in [0, 1].
import type { CommandSpec, Parsed } from './args.js';
import { choiceFlag } from './args.js';
import { UserError } from './errors.js';
import { loadClip } from './common.js';
import { createNodeEngine } from '../gpu/node.js';
import { FrontEnd } from '../audio/frontend.js';
import { writeNpy } from '../io/npy.js';
import { assertWritableFile } from '../io/atomic.js';
import { Progress } from './progress.js';
import type { Fit } from '../audio/reference.js';
import { DEFAULT_RECIPE, RECIPE_NAMES, RECIPES } from '../audio/recipe.js';

const FITS: readonly Fit[] = ['tile', 'resize', 'crop', 'none'];

export const spec: CommandSpec = {
  name: 'features',
  summary: "Compute the log-Mel features of a WAV file (64 bands; recipe paper: ln-Mel, db: [0, 1]) and write them as a float32 .npy (frames x 64).",
  usage: 'ser features IN.wav --out OUT.npy [--recipe paper|db] [--fit tile|resize|crop|none] [--htk]',
  flags: {
    out: { type: 'string', value: 'PATH', help: 'output .npy file (required)' },
    recipe: { type: 'string', value: 'NAME', default: DEFAULT_RECIPE, help: "paper (hop 256, Hamming, ln-Mel, 20-8000 Hz) or db (hop 160, Hann, dB scaled to [0, 1])" },
    fit: { type: 'string', value: 'MODE', help: "tile (paper's default: repeat/keep the first 373 frames), resize (db's default: 373 frames), crop (centre 373 frames) or none (all frames)" },
    htk: { type: 'boolean', help: 'HTK Mel scale instead of Slaney' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length !== 1) throw new UserError(`features: expected one input WAV file, got ${p.positionals.length} (see 'ser features --help')`);
  const out = p.flags.out;
  if (typeof out !== 'string' || out === '') throw new UserError('features: --out PATH is required');
  const recipe = RECIPES[choiceFlag(p, 'recipe', RECIPE_NAMES)];
  const fit = p.flags.fit === undefined ? recipe.frontEnd.fit : choiceFlag(p, 'fit', FITS);
  assertWritableFile(out);
  const signal = await loadClip(p.positionals[0]);
  const engine = await createNodeEngine();
  // Long files run in segments: a progress bar in frames.
  let progress: Progress | null = null;
  let shown = 0;
  const onSegment = (done: number, total: number) => {
    progress ??= new Progress('features', total, { unit: 'frames' });
    if (done === total) progress.finish();
    else progress.tick(done - shown);
    shown = done;
  };
  const fe = new FrontEnd(engine, { ...recipe.frontEnd, fit, htk: p.flags.htk === true }, { onSegment });
  const [features] = await fe.logMel([signal]);
  fe.dispose();
  engine.destroy();
  writeNpy(out, features, [features.length / fe.options.nMels, fe.options.nMels]);
  console.log(`${out}: ${features.length / fe.options.nMels} x ${fe.options.nMels} (recipe ${recipe.name}, fit ${fit})`);
  return 0;
}
