// Band-limited resampling with a Kaiser-windowed sinc (CPU, float64 arithmetic).
//
// Output sample n sits at input time t = n * rateIn / rateOut and is the sum of the
// input samples around t weighted by h(t - k), where h is an ideal low-pass (sinc) with
// its cutoff at ROLLOFF times the lower of the two Nyquist frequencies, truncated by a
// Kaiser window ZERO_CROSSINGS output periods (or input periods, when upsampling) each
// side. ROLLOFF < 1 places the transition band just below that Nyquist so a tone above it
// is attenuated by the full stop-band (about 90 dB) instead of half of it.
//
// Two ways to get the weights, both bounded in memory and time whatever the rates:
// - When the rates reduce to a ratio L/M whose L phases need at most EXACT_TABLE_MAX
//   weights (every common rate: 44.1, 48, 22.05, 8 kHz...), the kernel of each phase is
//   tabulated exactly once per pair of rates.
// - Otherwise (11,127 Hz, 44,101 Hz: L = 16,000 phases) the weights come from one fixed
//   table of the kernel's shape, PHASES_PER_ZERO_CROSSING points per zero crossing, with
//   linear interpolation between points: the polyphase scheme of libsamplerate, soxr and
//   resampy. Its error against the exact kernel is below 3e-6 of full scale (the test
//   checks it), a tenth of the step of a 16-bit sample.

const ZERO_CROSSINGS = 64;
const KAISER_BETA = 9;
const ROLLOFF = 0.95;
/** Most weights an exact per-phase table may hold (8 MB of float64). */
const EXACT_TABLE_MAX = 1 << 20;
/** Resolution of the interpolated kernel table: 64 * 1024 + 1 points, 512 KB each for values and slopes. */
const PHASES_PER_ZERO_CROSSING = 1024;

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

const I0_BETA = besselI0(KAISER_BETA);

/**
 * The kernel's shape in units of the lower rate's sample period: sinc(ROLLOFF u) times the
 * Kaiser window over |u| < ZERO_CROSSINGS. The kernel at distance d input samples is
 * ROLLOFF * ratio * shape(d * ratio), ratio = min(1, rateOut / rateIn).
 */
function shape(u: number): number {
  const r = u / ZERO_CROSSINGS;
  if (r <= -1 || r >= 1) return 0;
  const x = ROLLOFF * u;
  const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
  return sinc * (besselI0(KAISER_BETA * Math.sqrt(1 - r * r)) / I0_BETA);
}

/** shape() at u = i / PHASES_PER_ZERO_CROSSING, and the slope to the next point; built once. */
let shapeTable: { value: Float64Array; slope: Float64Array } | null = null;
function interpolationTable(): { value: Float64Array; slope: Float64Array } {
  if (!shapeTable) {
    const n = ZERO_CROSSINGS * PHASES_PER_ZERO_CROSSING;
    const value = new Float64Array(n + 1);
    for (let i = 0; i <= n; i++) value[i] = shape(i / PHASES_PER_ZERO_CROSSING);
    const slope = new Float64Array(n + 1); // slope[n] = 0: reached only at the window's edge
    for (let i = 0; i < n; i++) slope[i] = value[i + 1] - value[i];
    shapeTable = { value, slope };
  }
  return shapeTable;
}

interface Plan {
  L: number;
  M: number;
  ratio: number;
  /** Taps each side: the kernel reaches from i0 - taps + 1 to i0 + taps. */
  taps: number;
  /** Exact weights of phase p at [p * 2 * taps, (p + 1) * 2 * taps), or null for the interpolated path. */
  table: Float64Array | null;
}

// The last few plans, so a corpus of 44.1 kHz files builds its table once.
const plans = new Map<string, Plan>();

function plan(rateIn: number, rateOut: number): Plan {
  const key = `${rateIn}:${rateOut}`;
  const cached = plans.get(key);
  if (cached) return cached;
  const g = gcd(rateIn, rateOut);
  const L = rateOut / g; // output samples per period
  const M = rateIn / g; // input samples per period
  const ratio = Math.min(1, rateOut / rateIn);
  const taps = Math.ceil(ZERO_CROSSINGS / ratio);
  const width = 2 * taps;
  let table: Float64Array | null = null;
  if (L * width <= EXACT_TABLE_MAX) {
    // Phase p = (n * M) mod L: the output instant is p / L of an input sample past i0.
    table = new Float64Array(L * width);
    const gain = ROLLOFF * ratio;
    for (let p = 0; p < L; p++) {
      for (let j = 0; j < width; j++) table[p * width + j] = gain * shape((p / L - (j - taps + 1)) * ratio);
    }
  }
  const made: Plan = { L, M, ratio, taps, table };
  if (plans.size >= 8) plans.delete(plans.keys().next().value!);
  plans.set(key, made);
  return made;
}

/** Number of output samples for `n` input samples: ceil(n * rateOut / rateIn). */
export function resampledLength(n: number, rateIn: number, rateOut: number): number {
  const g = gcd(rateIn, rateOut);
  // Integer arithmetic on the reduced ratio keeps ceil exact.
  return Math.ceil((n * (rateOut / g)) / (rateIn / g));
}

/**
 * Resamples `x` from `rateIn` to `rateOut` Hz (whole numbers); returns ceil(n * rateOut /
 * rateIn) samples. Identity (a copy) when the rates are equal. Memory besides the output is
 * bounded (8 MB at most for a table); time is about (output samples) x 2 x ZERO_CROSSINGS x
 * max(1, rateIn / rateOut) multiply-adds. Callers bound the rates (limits.ts: RATE_RANGE).
 */
export function resample(x: Float32Array, rateIn: number, rateOut = 16000): Float32Array {
  if (!Number.isInteger(rateIn) || !Number.isInteger(rateOut) || rateIn <= 0 || rateOut <= 0) {
    throw new Error(`resample: rates must be positive whole numbers of Hz (got ${rateIn} -> ${rateOut})`);
  }
  if (rateIn === rateOut) return x.slice();
  const { L, M, ratio, taps, table } = plan(rateIn, rateOut);
  const nOut = resampledLength(x.length, rateIn, rateOut);
  const out = new Float32Array(nOut);
  const width = 2 * taps;
  const len = x.length;
  if (table) {
    for (let n = 0; n < nOut; n++) {
      const pos = n * M; // input time times L, exact in integers below 2^53
      const i0 = Math.floor(pos / L);
      const base = (pos - i0 * L) * width;
      const first = i0 - taps + 1;
      const lo = Math.max(0, -first);
      const hi = Math.min(width, len - first);
      let sum = 0;
      for (let j = lo; j < hi; j++) sum += table[base + j] * x[first + j];
      out[n] = sum;
    }
    return out;
  }
  const { value, slope } = interpolationTable();
  const step = ratio * PHASES_PER_ZERO_CROSSING; // table points per input sample
  const end = ZERO_CROSSINGS * PHASES_PER_ZERO_CROSSING;
  const gain = ROLLOFF * ratio;
  for (let n = 0; n < nOut; n++) {
    const pos = n * M;
    const i0 = Math.floor(pos / L);
    const frac = (pos - i0 * L) / L;
    let sum = 0;
    // Taps at and before the output instant (distance frac, frac + 1, ...), then after it.
    let u = frac * step;
    for (let k = i0; k >= 0 && u < end; k--, u += step) {
      const i = u | 0;
      sum += x[k] * (value[i] + (u - i) * slope[i]);
    }
    u = (1 - frac) * step;
    for (let k = i0 + 1; k < len && u < end; k++, u += step) {
      const i = u | 0;
      sum += x[k] * (value[i] + (u - i) * slope[i]);
    }
    out[n] = gain * sum;
  }
  return out;
}
