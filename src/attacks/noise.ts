// Additive noise at a given signal-to-noise ratio, on the waveform (before the front
// end): white Gaussian noise, or a noise recording looped/cropped to the signal's length.
import type { Random } from '../util/random.js';

function power(x: Float32Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i] * x[i];
  return s / Math.max(1, x.length);
}

/** signal + noise scaled so that 10 log10(P_signal / P_noise) = snrDb. */
export function addNoise(signal: Float32Array, snrDb: number, rng: Random, noise?: Float32Array): Float32Array {
  if (!Number.isFinite(snrDb)) throw new Error(`SNR must be a number of dB, got ${snrDb}`);
  const n = signal.length;
  const shaped = new Float32Array(n);
  if (noise) {
    if (noise.length === 0) throw new Error('the noise recording is empty');
    const start = rng.int(noise.length);
    for (let i = 0; i < n; i++) shaped[i] = noise[(start + i) % noise.length];
  } else {
    for (let i = 0; i < n; i++) shaped[i] = rng.normal();
  }
  const ps = power(signal);
  const pn = power(shaped);
  const out = new Float32Array(n);
  if (ps === 0 || pn === 0) {
    out.set(signal);
    return out;
  }
  const gain = Math.sqrt(ps / (pn * 10 ** (snrDb / 10)));
  for (let i = 0; i < n; i++) out[i] = signal[i] + gain * shaped[i];
  return out;
}
