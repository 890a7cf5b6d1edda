// Mel filterbank in float64, as librosa.filters.mel builds it: triangles between
// consecutive Mel points (Slaney scale by default, HTK as an option), evaluated at the
// FFT bin frequencies, with Slaney area normalisation (each triangle scaled by
// 2 / (f_hi - f_lo), so it has unit area in Hz).

export interface MelBankOptions {
  sampleRate: number;
  nFft: number;
  nMels: number;
  fMin: number;
  fMax: number;
  htk: boolean;
}

export interface MelBank {
  nMels: number;
  /** nFft / 2 + 1 */
  nBins: number;
  /** [nMels, nBins], row-major. */
  weights: Float64Array;
  /** The nMels + 2 band edges in Hz (lower edge, centre, upper edge of band m are m, m+1, m+2). */
  edgesHz: Float64Array;
  /** Per band, the first and one-past-last bin with a non-zero weight. */
  ranges: Int32Array;
}

// Slaney's scale: linear below 1 kHz (200/3 Hz per Mel), logarithmic above.
const F_SP = 200 / 3;
const MIN_LOG_HZ = 1000;
const MIN_LOG_MEL = MIN_LOG_HZ / F_SP;
const LOG_STEP = Math.log(6.4) / 27;

export function hzToMel(f: number, htk = false): number {
  if (htk) return 2595 * Math.log10(1 + f / 700);
  return f < MIN_LOG_HZ ? f / F_SP : MIN_LOG_MEL + Math.log(f / MIN_LOG_HZ) / LOG_STEP;
}

export function melToHz(m: number, htk = false): number {
  if (htk) return 700 * (10 ** (m / 2595) - 1);
  return m < MIN_LOG_MEL ? m * F_SP : MIN_LOG_HZ * Math.exp(LOG_STEP * (m - MIN_LOG_MEL));
}

export function melBank(o: MelBankOptions): MelBank {
  const { sampleRate, nFft, nMels, fMin, fMax, htk } = o;
  if (!(nFft > 0 && nMels > 0 && fMin >= 0 && fMax > fMin && fMax <= sampleRate / 2)) {
    throw new Error(`melBank: bad parameters (nFft ${nFft}, nMels ${nMels}, ${fMin}-${fMax} Hz at ${sampleRate} Hz)`);
  }
  const nBins = Math.floor(nFft / 2) + 1;
  const lo = hzToMel(fMin, htk);
  const hi = hzToMel(fMax, htk);
  const edgesHz = new Float64Array(nMels + 2);
  for (let i = 0; i < nMels + 2; i++) edgesHz[i] = melToHz(lo + ((hi - lo) * i) / (nMels + 1), htk);

  const weights = new Float64Array(nMels * nBins);
  const ranges = new Int32Array(nMels * 2);
  for (let m = 0; m < nMels; m++) {
    const [f0, f1, f2] = [edgesHz[m], edgesHz[m + 1], edgesHz[m + 2]];
    const norm = 2 / (f2 - f0);
    let first = nBins;
    let last = 0;
    for (let k = 0; k < nBins; k++) {
      const f = (k * sampleRate) / nFft;
      const rising = (f - f0) / (f1 - f0);
      const falling = (f2 - f) / (f2 - f1);
      const w = Math.max(0, Math.min(rising, falling)) * norm;
      weights[m * nBins + k] = w;
      if (w > 0) {
        first = Math.min(first, k);
        last = k + 1;
      }
    }
    ranges[2 * m] = Math.min(first, last);
    ranges[2 * m + 1] = last;
  }
  return { nMels, nBins, weights, edgesHz, ranges };
}
