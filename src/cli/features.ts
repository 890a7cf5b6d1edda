// `ser features IN.wav --out OUT.npy`: the log-Mel features of one file, frames x nMels
// float32, computed by the GPU front end.
import type { CommandSpec, Parsed } from './args.js';
import { choiceFlag } from './args.js';
import { UserError } from './errors.js';
import { createNodeEngine } from '../gpu/node.js';
import { FrontEnd, loadUtterance } from '../audio/frontend.js';
import { WavError } from '../audio/wav.js';
import { writeNpy } from '../io/npy.js';
import { assertWritableFile } from '../io/atomic.js';
import type { Fit } from '../audio/reference.js';

const FITS: readonly Fit[] = ['resize', 'crop', 'none'];

export const spec: CommandSpec = {
  name: 'features',
  summary: 'Compute the log-Mel features of a WAV file (64 bands, [0, 1]) and write them as a float32 .npy (frames x 64).',
  usage: 'ser features IN.wav --out OUT.npy [--fit resize|crop|none] [--htk]',
  flags: {
    out: { type: 'string', value: 'PATH', help: 'output .npy file (required)' },
    fit: { type: 'string', value: 'MODE', default: 'resize', help: 'resize (373 frames), crop (centre 3.75 s) or none (all frames)' },
    htk: { type: 'boolean', help: 'HTK Mel scale instead of Slaney' },
  },
};

export async function run(p: Parsed): Promise<number> {
  if (p.positionals.length !== 1) throw new UserError(`features: expected one input WAV file, got ${p.positionals.length} (see 'ser features --help')`);
  const out = p.flags.out;
  if (typeof out !== 'string' || out === '') throw new UserError('features: --out PATH is required');
  const fit = choiceFlag(p, 'fit', FITS);
  assertWritableFile(out);
  let signal: Float32Array;
  try {
    signal = loadUtterance(p.positionals[0]);
  } catch (e) {
    if (e instanceof WavError) throw new UserError(e.message);
    throw e;
  }
  const engine = await createNodeEngine();
  const fe = new FrontEnd(engine, { fit, htk: p.flags.htk === true });
  const [features] = await fe.logMel([signal]);
  fe.dispose();
  engine.destroy();
  writeNpy(out, features, [features.length / fe.options.nMels, fe.options.nMels]);
  console.log(`${out}: ${features.length / fe.options.nMels} x ${fe.options.nMels} (fit ${fit})`);
  return 0;
}
