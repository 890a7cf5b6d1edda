// The two recipes (DESIGN.md, "Two recipes"): the input space a model sees and the attack
// geometry in that space. A recipe is chosen once (`--recipe`, default `paper`) and travels
// with the checkpoint, so predict, attack, eval and the browser rebuild the same input.
//
//   paper  the seed's own input: the public code of its reference [2] (Ren et al., ICASSP
//          2020): 16 kHz, frames of 512 every 256 from sample 0 (no centring), symmetric
//          Hamming (numpy.hamming), |rfft| / sqrt(sum w^2) (scipy.signal.spectrogram
//          'magnitude', fs = 1), librosa Slaney Mel 64 bands 20-8000 Hz, ln(m + 1e-8), clips
//          tiled to 373 frames; a per-band standardisation fitted on the training fold is
//          part of the model; FGSM in that standardised space, clipped to [x - beta, x + beta]
//          (beta 0.1), made on an evaluation-mode view of the model against its own
//          predictions, the mixed loss starting after a warm-up (10% of the iterations).
//   db     the project's first recipe: hop 160, periodic Hann of 400 centred in 512, power,
//          Slaney Mel 0-8000 Hz, dB referenced to the utterance maximum, floored at -80,
//          scaled to [0, 1], linearly resized to 373 frames; FGSM clipped to [0, beta]
//          (beta 1) against the true labels from step 0. Checkpoints without a recipe are db.
import { DEFAULT_FRONT_END, type FrontEndOptions } from './reference.js';

export const RECIPE_NAMES = ['paper', 'db'] as const;
export type RecipeName = (typeof RECIPE_NAMES)[number];
export const DEFAULT_RECIPE: RecipeName = 'paper';

/** Where FGSM/PGD results are clipped: 'range' is [0, beta]; 'ball' is [x - beta, x + beta] (the seed's equation 2). */
export type AttackClip = 'range' | 'ball';
/** Which labels the attack's loss uses: the true ones, or the model's own predictions (no label leaking). */
export type AttackLabels = 'true' | 'predicted';

export interface AttackDefaults {
  clip: AttackClip;
  beta: number;
  labels: AttackLabels;
  /** Adversarial examples during training come from an evaluation-mode view (running statistics, no dropout, no statistic updated). */
  evalModeAttack: boolean;
}

export interface Recipe {
  name: RecipeName;
  frontEnd: FrontEndOptions;
  /** Per-Mel-band mean/std over the training fold's frames, stored in the checkpoint, applied on the GPU before the first layer. */
  standardize: boolean;
  attack: AttackDefaults;
  /** The mixed loss starts at iteration round(advStartFraction * iterations) unless --adv-start says otherwise. */
  advStartFraction: number;
}

export const RECIPES: Record<RecipeName, Recipe> = {
  paper: {
    name: 'paper',
    frontEnd: {
      nFft: 512,
      winLength: 512,
      hop: 256,
      nMels: 64,
      fMin: 20,
      fMax: 8000,
      htk: false,
      fit: 'tile',
      frames: 373,
      window: 'hamming-symmetric',
      center: false,
      spectrum: 'magnitude',
      compression: 'ln',
    },
    standardize: true,
    attack: { clip: 'ball', beta: 0.1, labels: 'predicted', evalModeAttack: true },
    advStartFraction: 0.1,
  },
  db: {
    name: 'db',
    // The first recipe's front end is reference.ts's DEFAULT_FRONT_END, unchanged.
    frontEnd: { ...DEFAULT_FRONT_END },
    standardize: false,
    attack: { clip: 'range', beta: 1, labels: 'true', evalModeAttack: false },
    advStartFraction: 0,
  },
};

/** The recipe of a name; throws naming the valid ones. */
export function recipeOf(name: string): Recipe {
  if (!(RECIPE_NAMES as readonly string[]).includes(name)) throw new Error(`unknown recipe '${name}' (choose from ${RECIPE_NAMES.join(', ')})`);
  return RECIPES[name as RecipeName];
}

/** The recipe a checkpoint was made with: its metadata's `recipe`, or `db` for checkpoints from before recipes existed. */
export function checkpointRecipe(metadata: Record<string, string>): Recipe {
  return recipeOf(metadata.recipe ?? 'db');
}
