// The spectrogram and perturbation panels of an attack, as figure.ts heatmaps: one
// definition for the browser's canvases (src/web/app.ts) and `ser attack --svg`.
import type { FrontEndOptions } from '../audio/reference.js';
import type { Recipe } from '../audio/recipe.js';
import type { HeatmapSpec } from './figure.js';
import { SAMPLE_RATE } from '../audio/reference.js';
import { bandCentresHz, featureSeconds, featureUnits } from './feature-units.js';

/** Features (frames x nMels, the recipe's units) of a recording of `samples` 16 kHz samples. */
export function spectrogramSpec(title: string, values: Float32Array, fe: FrontEndOptions, samples: number, recipe: Recipe): HeatmapSpec {
  const units = featureUnits(recipe);
  const shown = values.map((v) => units.display(v));
  let [lo, hi] = [Infinity, -Infinity];
  for (const v of shown) if (Number.isFinite(v)) [lo, hi] = [Math.min(lo, v), Math.max(hi, v)];
  // dB features have a fixed scale: the floor to the utterance maximum.
  if (fe.compression === 'db') [lo, hi] = [units.display(0), units.display(1)];
  return { title: title + fitNote(fe, samples), values: shown, bands: fe.nMels, seconds: featureSeconds(fe, samples), bandHz: bandCentresHz(fe), lo, hi, unit: units.unit };
}

/**
 * What the time axis shows when it is not the recording as it is: a short clip tiled or
 * centred in a zero window to fill the model's input, or a long one cut (reference.ts, fit).
 */
export function fitNote(fe: FrontEndOptions, samples: number): string {
  const recording = samples / SAMPLE_RATE;
  const shown = featureSeconds(fe, samples);
  if (fe.fit === 'resize' || fe.fit === 'none' || Math.abs(recording - shown) < 0.05) return '';
  const [r, w] = [recording.toFixed(1), shown.toFixed(1)];
  if (recording > shown) return fe.fit === 'crop' ? ` (middle ${w} s of ${r} s)` : ` (first ${w} s of ${r} s)`;
  return fe.fit === 'tile' ? ` (${r} s clip repeated to fill ${w} s)` : ` (${r} s clip centred in ${w} s of silence)`;
}

/** adversarial - clean on the symmetric scale ±eps (eps in the feature units of the db recipe). */
export function perturbationSpec(clean: Float32Array, adversarial: Float32Array, eps: number, fe: FrontEndOptions, samples: number, recipe: Recipe): HeatmapSpec {
  const units = featureUnits(recipe);
  const scale = Math.max(eps, 1e-6);
  return {
    title: 'Perturbation: adversarial − clean, on ±ε',
    values: adversarial.map((v, i) => v - clean[i]),
    bands: fe.nMels,
    seconds: featureSeconds(fe, samples),
    bandHz: bandCentresHz(fe),
    lo: -scale,
    hi: scale,
    unit: `Δ (${units.epsShort})`,
    diverging: true,
  };
}
