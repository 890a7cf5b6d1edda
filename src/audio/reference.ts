// The front-end recipe on the CPU in float64: the reference the GPU kernels are tested
// against, and the plain TypeScript implementation the benchmark compares them with.
//
// Two recipes (recipe.ts) share this code; the options pick the variant.
//   frames   center=true (db; librosa): the signal is zero-padded by nFft/2 on both
//            sides; frame i starts at i*hop in the padded signal; 1 + floor(len/hop)
//            frames. center=false (paper; scipy.signal.spectrogram): frame i starts at
//            sample i*hop, no padding; floor((len - nFft)/hop) + 1 frames, and a signal
//            shorter than nFft is zero-padded to one frame.
//   window   'hann-periodic' (db): periodic Hann of winLength; 'hamming-symmetric'
//            (paper): numpy.hamming(winLength) = 0.54 - 0.46 cos(2 pi n / (winLength-1));
//            either zero-padded and centred in nFft.
//   spectrum 'power' (db): |X_k|^2; 'magnitude' (paper): |X_k| / sqrt(sum w^2) (scipy's
//            'density' scaling in 'magnitude' mode, fs = 1, one-sided bins not doubled);
//            k = 0..nFft/2 (a float64 real FFT: an nFft/2-point complex FFT of the
//            even/odd samples, then the split step).
//   mel      nMels triangles (melbank.ts), from fMin to fMax.
//   dB       (compression 'db') 10*log10(max(S, 1e-10)) minus the same of the utterance's
//            maximum, floored at -80, then x = (dB + 80) / 80, so x is in [0, 1].
//   ln       (compression 'ln') ln(S + 1e-8), no reference, no scaling.
//   fit      'resize': linear interpolation along time to `frames` rows with PyTorch's
//            align_corners=false convention: row i samples source position
//            (i + 0.5) * in/out - 0.5, clamped below at 0, between rows floor(.) and
//            min(floor(.)+1, in-1). Applied to the [0, 1] values.
//            'crop': before the STFT, the waveform is replaced by a window of
//            (frames-1)*hop samples (exactly `frames` STFT frames) taken from its centre
//            (start floor((len-W)/2)); a shorter waveform is placed in the middle of a
//            zero window (floor((W-len)/2) zeros before it).
//            'tile': a clip of n < frames STFT frames gives row i = frame i mod n (the
//            clip repeated whole, then its first frames again); a longer clip keeps its
//            first `frames` frames (only those are computed).
//            'none': every frame.
import { melBank, type MelBank } from './melbank.js';

export type Fit = 'resize' | 'crop' | 'none' | 'tile';
/** 'hann-periodic': scipy/librosa's periodic Hann of winLength; 'hamming-symmetric': numpy.hamming(winLength). */
export type WindowKind = 'hann-periodic' | 'hamming-symmetric';
/** 'power': |X|^2; 'magnitude': |X| / sqrt(sum w^2) (scipy.signal.spectrogram 'magnitude', fs = 1). */
export type SpectrumKind = 'power' | 'magnitude';
/** 'db': power_to_db(ref=max, top_db=80) scaled to [0, 1]; 'ln': ln(m + 1e-8). */
export type Compression = 'db' | 'ln';

export interface FrontEndOptions {
  nFft: number;
  winLength: number;
  hop: number;
  nMels: number;
  fMin: number;
  fMax: number;
  htk: boolean;
  fit: Fit;
  frames: number;
  window: WindowKind;
  /** librosa's center=true: zero padding of nFft/2 on both sides; false: frames start at sample 0. */
  center: boolean;
  spectrum: SpectrumKind;
  compression: Compression;
}

export const SAMPLE_RATE = 16000;
export const AMIN = 1e-10;
export const TOP_DB = 80;
/** Added before the natural log of compression 'ln' (the paper recipe's ln(m + 1e-8)). */
export const LN_EPS = 1e-8;

export const DEFAULT_FRONT_END: FrontEndOptions = {
  nFft: 512,
  winLength: 400,
  hop: 160,
  nMels: 64,
  fMin: 0,
  fMax: 8000,
  htk: false,
  fit: 'resize',
  frames: 373,
  window: 'hann-periodic',
  center: true,
  spectrum: 'power',
  compression: 'db',
};

export function frontEndOptions(opts: Partial<FrontEndOptions> = {}): FrontEndOptions {
  const o = { ...DEFAULT_FRONT_END, ...opts };
  const pow2 = o.nFft >= 16 && (o.nFft & (o.nFft - 1)) === 0;
  if (!pow2) throw new Error(`front end: nFft ${o.nFft} must be a power of two >= 16`);
  if (!(Number.isInteger(o.winLength) && o.winLength > 0 && o.winLength <= o.nFft)) throw new Error(`front end: winLength ${o.winLength} must be in 1..nFft`);
  if (!(Number.isInteger(o.hop) && o.hop > 0)) throw new Error(`front end: hop ${o.hop} must be a positive whole number`);
  if (!(Number.isInteger(o.frames) && o.frames > 0)) throw new Error(`front end: frames ${o.frames} must be a positive whole number`);
  if (!['resize', 'crop', 'none', 'tile'].includes(o.fit)) throw new Error(`front end: unknown fit '${o.fit}'`);
  if (!['hann-periodic', 'hamming-symmetric'].includes(o.window)) throw new Error(`front end: unknown window '${o.window}'`);
  if (!['power', 'magnitude'].includes(o.spectrum)) throw new Error(`front end: unknown spectrum '${o.spectrum}'`);
  if (!['db', 'ln'].includes(o.compression)) throw new Error(`front end: unknown compression '${o.compression}'`);
  if (typeof o.center !== 'boolean') throw new Error(`front end: center must be true or false`);
  return o;
}

/** Zeros before the first frame's start: nFft/2 with center=true, else 0. */
export function framePad(o: FrontEndOptions): number {
  return o.center ? o.nFft / 2 : 0;
}

/** STFT frames of a framed signal of `length` samples (see the header). */
export function stftFrames(length: number, o: FrontEndOptions): number {
  if (o.center) return 1 + Math.floor(length / o.hop);
  return length <= o.nFft ? 1 : Math.floor((length - o.nFft) / o.hop) + 1;
}

/** How one utterance is framed: the signal seen by the STFT is v[i] = x[i + shift] for 0 <= i < length (zero outside x). */
export interface Framing {
  shift: number;
  length: number;
  /** STFT frames. */
  frames: number;
  /** Rows after the fit. */
  outFrames: number;
}

export function framing(samples: number, o: FrontEndOptions): Framing {
  let shift = 0;
  let length = samples;
  if (o.fit === 'crop') {
    // The window that gives exactly `frames` STFT frames.
    length = (o.frames - 1) * o.hop + (o.center ? 0 : o.nFft);
    shift = samples >= length ? Math.floor((samples - length) / 2) : -Math.floor((length - samples) / 2);
  }
  let frames = stftFrames(length, o);
  if (o.fit === 'tile') frames = Math.min(frames, o.frames); // only the kept frames are computed
  return { shift, length, frames, outFrames: o.fit === 'none' || o.fit === 'crop' ? frames : o.frames };
}

/** The analysis window of winLength (o.window), centred in nFft (zeros outside), float64. */
export function paddedWindow(o: FrontEndOptions): Float64Array {
  const w = new Float64Array(o.nFft);
  const left = Math.floor((o.nFft - o.winLength) / 2);
  const L = o.winLength;
  for (let n = 0; n < L; n++) {
    w[left + n] = o.window === 'hamming-symmetric' ? (L === 1 ? 1 : 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / (L - 1))) : 0.5 - 0.5 * Math.cos((2 * Math.PI * n) / L);
  }
  return w;
}

/** 1 / sqrt(sum w^2) for spectrum 'magnitude' (scipy's 'density' scaling with fs = 1), else 1. */
export function spectrumScale(o: FrontEndOptions): number {
  if (o.spectrum !== 'magnitude') return 1;
  let s = 0;
  for (const v of paddedWindow(o)) s += v * v;
  return 1 / Math.sqrt(s);
}

export function frontEndMelBank(o: FrontEndOptions): MelBank {
  return melBank({ sampleRate: SAMPLE_RATE, nFft: o.nFft, nMels: o.nMels, fMin: o.fMin, fMax: o.fMax, htk: o.htk });
}

/** Power spectrum of a real float64 input of power-of-two length n: |X_k|^2 for k = 0..n/2. */
export class RealFft {
  private readonly half: number;
  private readonly cos: Float64Array;
  private readonly sin: Float64Array;
  private readonly bitrev: Int32Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;

  constructor(readonly n: number) {
    if (n < 4 || (n & (n - 1)) !== 0) throw new Error(`RealFft: size ${n} is not a power of two >= 4`);
    const h = (this.half = n / 2);
    this.cos = new Float64Array(h + 1);
    this.sin = new Float64Array(h + 1);
    for (let k = 0; k <= h; k++) {
      this.cos[k] = Math.cos((2 * Math.PI * k) / n);
      this.sin[k] = -Math.sin((2 * Math.PI * k) / n);
    }
    const bits = Math.log2(h);
    this.bitrev = new Int32Array(h);
    for (let i = 0; i < h; i++) {
      let r = 0;
      for (let b = 0; b < bits; b++) r |= ((i >> b) & 1) << (bits - 1 - b);
      this.bitrev[i] = r;
    }
    this.re = new Float64Array(h);
    this.im = new Float64Array(h);
  }

  /** out[k] = |sum_j x[j] e^{-2 pi i jk/n}|^2, k = 0..n/2. */
  power(x: Float64Array, out: Float64Array): void {
    const { half: h, re, im, cos, sin, bitrev } = this;
    // z[m] = x[2m] + i x[2m+1], in bit-reversed order for the in-place radix-2 passes.
    for (let m = 0; m < h; m++) {
      const r = bitrev[m];
      re[r] = x[2 * m];
      im[r] = x[2 * m + 1];
    }
    for (let size = 2; size <= h; size *= 2) {
      const halfSize = size / 2;
      const step = this.n / size; // twiddle e^{-2 pi i j/size} = table[j * step]
      for (let start = 0; start < h; start += size) {
        for (let j = 0; j < halfSize; j++) {
          const a = start + j;
          const b = a + halfSize;
          const wr = cos[j * step];
          const wi = sin[j * step];
          const tr = re[b] * wr - im[b] * wi;
          const ti = re[b] * wi + im[b] * wr;
          re[b] = re[a] - tr;
          im[b] = im[a] - ti;
          re[a] += tr;
          im[a] += ti;
        }
      }
    }
    // Split step: X_k = E_k + W^k O_k with E = (Z_k + conj Z_{h-k})/2, O = (Z_k - conj Z_{h-k})/(2i).
    for (let k = 0; k <= h; k++) {
      const a = k % h;
      const b = (h - k) % h;
      const er = (re[a] + re[b]) / 2;
      const ei = (im[a] - im[b]) / 2;
      const or = (im[a] + im[b]) / 2;
      const oi = -(re[a] - re[b]) / 2;
      const xr = er + cos[k] * or - sin[k] * oi;
      const xi = ei + cos[k] * oi + sin[k] * or;
      out[k] = xr * xr + xi * xi;
    }
  }
}

/** Spectrogram [frames, nFft/2+1] of one utterance (float64): |X|^2, or |X| / sqrt(sum w^2) for spectrum 'magnitude'. */
export function powerSpectrogram(x: Float32Array, o: FrontEndOptions, f = framing(x.length, o), fft = new RealFft(o.nFft)): Float64Array {
  const nBins = o.nFft / 2 + 1;
  const window = paddedWindow(o);
  const scale = spectrumScale(o);
  const frame = new Float64Array(o.nFft);
  const row = new Float64Array(nBins);
  const out = new Float64Array(f.frames * nBins);
  const pad = framePad(o);
  for (let t = 0; t < f.frames; t++) {
    for (let n = 0; n < o.nFft; n++) {
      const i = t * o.hop - pad + n; // index into the framed signal v
      const src = i + f.shift;
      frame[n] = i >= 0 && i < f.length && src >= 0 && src < x.length ? x[src] * window[n] : 0;
    }
    fft.power(frame, row);
    if (o.spectrum === 'magnitude') for (let k = 0; k < nBins; k++) row[k] = Math.sqrt(row[k]) * scale;
    out.set(row, t * nBins);
  }
  return out;
}

/** Compressed Mel values, [frames, nMels]: 10*log10(max(S, AMIN)) (not yet referenced), or ln(S + LN_EPS) when `ln`. */
export function melDb(power: Float64Array, frames: number, bank: MelBank, ln = false): Float64Array {
  const { nMels, nBins, weights, ranges } = bank;
  const out = new Float64Array(frames * nMels);
  for (let t = 0; t < frames; t++) {
    for (let m = 0; m < nMels; m++) {
      let s = 0;
      for (let k = ranges[2 * m]; k < ranges[2 * m + 1]; k++) s += weights[m * nBins + k] * power[t * nBins + k];
      out[t * nMels + m] = ln ? Math.log(s + LN_EPS) : 10 * Math.log10(Math.max(s, AMIN));
    }
  }
  return out;
}

/** In place: dB relative to the maximum, floored at -TOP_DB, scaled to [0, 1]. */
export function normalizeDb(db: Float64Array): void {
  let ref = -Infinity;
  for (const v of db) ref = Math.max(ref, v);
  for (let i = 0; i < db.length; i++) db[i] = (Math.max(db[i] - ref, -TOP_DB) + TOP_DB) / TOP_DB;
}

/** Source rows and weight for output row i of a linear resize from `inRows` to `outRows` (align_corners=false). */
export function resizeSource(i: number, inRows: number, outRows: number): { i0: number; i1: number; lambda: number } {
  const src = Math.max(0, ((i + 0.5) * inRows) / outRows - 0.5);
  const i0 = Math.min(Math.floor(src), inRows - 1);
  const i1 = Math.min(i0 + 1, inRows - 1);
  return { i0, i1, lambda: src - i0 };
}

export function resizeRows(x: Float64Array, inRows: number, cols: number, outRows: number): Float64Array {
  const out = new Float64Array(outRows * cols);
  for (let i = 0; i < outRows; i++) {
    const { i0, i1, lambda } = resizeSource(i, inRows, outRows);
    for (let c = 0; c < cols; c++) out[i * cols + c] = (1 - lambda) * x[i0 * cols + c] + lambda * x[i1 * cols + c];
  }
  return out;
}

/** Rows of a tile fit: row i is frame i mod inRows (a clip repeated whole until outRows). */
export function tileRows(x: Float64Array, inRows: number, cols: number, outRows: number): Float64Array {
  const out = new Float64Array(outRows * cols);
  for (let i = 0; i < outRows; i++) out.set(x.subarray((i % inRows) * cols, (i % inRows + 1) * cols), i * cols);
  return out;
}

/**
 * The whole recipe for one 16 kHz utterance: [outFrames, nMels], row-major, float64.
 * `opts` picks the recipe (RECIPES.paper.frontEnd, RECIPES.db.frontEnd; missing fields
 * are db's). Used as the tests' reference for the GPU front end.
 */
export function referenceLogMel(x: Float32Array, opts: Partial<FrontEndOptions> = {}, cache?: { bank: MelBank; fft: RealFft }): Float64Array {
  const o = frontEndOptions(opts);
  const bank = cache?.bank ?? frontEndMelBank(o);
  const fft = cache?.fft ?? new RealFft(o.nFft);
  const f = framing(x.length, o);
  const db = melDb(powerSpectrogram(x, o, f, fft), f.frames, bank, o.compression === 'ln');
  if (o.compression === 'db') normalizeDb(db);
  if (o.fit === 'resize') return resizeRows(db, f.frames, o.nMels, o.frames);
  if (o.fit === 'tile') return tileRows(db, f.frames, o.nMels, o.frames);
  return db;
}

/** The CPU front end used as the benchmark's peer: the float64 recipe over many utterances, float32 results. */
export function cpuLogMel(signals: Float32Array[], opts: Partial<FrontEndOptions> = {}): Float32Array[] {
  const o = frontEndOptions(opts);
  const cache = { bank: frontEndMelBank(o), fft: new RealFft(o.nFft) };
  return signals.map((x) => Float32Array.from(referenceLogMel(x, o, cache)));
}
