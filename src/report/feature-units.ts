// What a recipe's feature values and eps mean, for figures and the attack panel's wording.
//   db     features are dB re the utterance maximum, floored at -80, scaled to [0, 1]
//          (reference.ts: x = (dB + 80) / 80), so the display value is 80 x - 80 dB, and eps
//          is a fraction of that [0, 1] range (eps 0.05 = 4 dB).
//   paper  features are ln(Mel + 1e-8); the model standardises each Mel band itself
//          (DESIGN.md, "Two recipes"), and eps is in standard deviations of each band.
import { melBank } from '../audio/melbank.js';
import type { FrontEndOptions } from '../audio/reference.js';
import { SAMPLE_RATE, TOP_DB } from '../audio/reference.js';
import type { Recipe } from '../audio/recipe.js';

export interface FeatureUnits {
  /** Colour-bar label of the (unstandardised) features. */
  unit: string;
  /** A feature value in display units. */
  display(v: number): number;
  /** eps's unit in words, for the attack panel and the perturbation's colour bar. */
  epsUnit: string;
  /** A short eps unit for compact labels. */
  epsShort: string;
  /** The attack slider's upper end. */
  epsMax: number;
}

export function featureUnits(recipe: Recipe): FeatureUnits {
  if (recipe.frontEnd.compression === 'db') {
    return {
      unit: `dB re utterance maximum (floor -${TOP_DB})`,
      display: (v) => TOP_DB * v - TOP_DB,
      epsUnit: `fraction of the [0, 1] feature range (1 = ${TOP_DB} dB)`,
      epsShort: 'of the [0, 1] range',
      epsMax: 0.2,
    };
  }
  return {
    unit: 'ln-Mel (not standardised)',
    display: (v) => v,
    epsUnit: 'standard deviations of each Mel band (the model standardises its input)',
    epsShort: 'σ per band',
    epsMax: 1,
  };
}

/** Centre frequency (Hz) of each Mel band of a front end: the bank's edges 1 .. nMels (melbank.ts). */
export function bandCentresHz(o: FrontEndOptions): Float64Array {
  const bank = melBank({ sampleRate: SAMPLE_RATE, nFft: o.nFft, nMels: o.nMels, fMin: o.fMin, fMax: o.fMax, htk: o.htk });
  return bank.edgesHz.slice(1, o.nMels + 1);
}

/**
 * The time the model's frames span for a recording of `samples` at 16 kHz: 'resize' stretches
 * the whole recording over the frames; 'crop' and 'tile' show frames x hop of signal.
 */
export function featureSeconds(o: FrontEndOptions, samples: number): number {
  return o.fit === 'resize' ? samples / SAMPLE_RATE : (o.frames * o.hop) / SAMPLE_RATE;
}
