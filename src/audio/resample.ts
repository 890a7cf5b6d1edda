// Band-limited resampling with a Kaiser-windowed sinc (CPU, float64 arithmetic).
//
// Output sample n sits at input time t = n * rateIn / rateOut and is the sum of the
// input samples around t weighted by h(t - k), where h is an ideal low-pass (sinc) with
// its cutoff at ROLLOFF times the lower of the two Nyquist frequencies, truncated by a
// Kaiser window ZERO_CROSSINGS output periods (or input periods, when upsampling) each
// side. ROLLOFF < 1 places the transition band just below that Nyquist so a tone above it
// is attenuated by the full stop-band (about 90 dB) instead of half of it.
// When the rates have a small ratio L/M the kernels for the L possible phases are
// tabulated once; otherwise each output sample evaluates its kernel directly.

const ZERO_CROSSINGS = 64;
const KAISER_BETA = 9;
const ROLLOFF = 0.95;
const MAX_PHASES = 4096;

function gcd(a: number, b: number): number {
  while (b) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0 (power series). */
function besselI0(x: number): number {
  let sum = 1;
  let term = 1;
  const q = (x * x) / 4;
  for (let k = 1; k < 200; k++) {
    term *= q / (k * k);
    sum += term;
    if (term < sum * 1e-17) break;
  }
  return sum;
}

interface Design {
  /** Cutoff in cycles per input sample times 2 (1 = the input Nyquist). */
  cutoff: number;
  /** Half-width of the kernel in input samples. */
  halfWidth: number;
  i0Beta: number;
}

function design(rateIn: number, rateOut: number): Design {
  const ratio = Math.min(1, rateOut / rateIn);
  return { cutoff: ROLLOFF * ratio, halfWidth: ZERO_CROSSINGS / ratio, i0Beta: besselI0(KAISER_BETA) };
}

/** Kernel value at distance d (input samples) from the output instant. */
function kernel(d: number, k: Design): number {
  const r = d / k.halfWidth;
  if (r <= -1 || r >= 1) return 0;
  const x = k.cutoff * d;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  return k.cutoff * sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / k.i0Beta);
}

/** Number of output samples for `n` input samples: ceil(n * rateOut / rateIn). */
export function resampledLength(n: number, rateIn: number, rateOut: number): number {
  const g = gcd(rateIn, rateOut);
  // Integer arithmetic on the reduced ratio keeps ceil exact.
  return Math.ceil((n * (rateOut / g)) / (rateIn / g));
}

/** Resamples `x` from `rateIn` to `rateOut` Hz (whole numbers). Identity when the rates are equal. */
export function resample(x: Float32Array, rateIn: number, rateOut = 16000): Float32Array {
  if (!Number.isInteger(rateIn) || !Number.isInteger(rateOut) || rateIn <= 0 || rateOut <= 0) {
    throw new Error(`resample: rates must be positive whole numbers of Hz (got ${rateIn} -> ${rateOut})`);
  }
  if (rateIn === rateOut) return x.slice();
  const g = gcd(rateIn, rateOut);
  const L = rateOut / g; // output samples per period
  const M = rateIn / g; // input samples per period
  const k = design(rateIn, rateOut);
  const taps = Math.ceil(k.halfWidth); // kernel reaches from i0 - taps + 1 to i0 + taps
  const width = 2 * taps;
  const nOut = resampledLength(x.length, rateIn, rateOut);
  const out = new Float32Array(nOut);

  // Phase p = (n * M) mod L: the output instant is p / L of an input sample past i0.
  let table: Float64Array | null = null;
  if (L <= MAX_PHASES) {
    table = new Float64Array(L * width);
    for (let p = 0; p < L; p++) {
      const frac = p / L;
      for (let j = 0; j < width; j++) table[p * width + j] = kernel(frac - (j - taps + 1), k);
    }
  }
  const row = new Float64Array(width);
  for (let n = 0; n < nOut; n++) {
    const pos = n * M; // input time times L, exact in integers below 2^53
    const i0 = Math.floor(pos / L);
    const p = pos - i0 * L;
    let weights: Float64Array;
    let base = 0;
    if (table) {
      weights = table;
      base = p * width;
    } else {
      for (let j = 0; j < width; j++) row[j] = kernel(p / L - (j - taps + 1), k);
      weights = row;
    }
    const first = i0 - taps + 1;
    const lo = Math.max(0, -first);
    const hi = Math.min(width, x.length - first);
    let sum = 0;
    for (let j = lo; j < hi; j++) sum += weights[base + j] * x[first + j];
    out[n] = sum;
  }
  return out;
}
