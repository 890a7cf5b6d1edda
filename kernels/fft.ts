// Launchers for shaders/fft.wgsl: the batched complex FFT (Stockham passes, radix 4
// then radix 2) and the STFT spectrum (frame + window + real FFT + |X|^2 or |X|).
import source from '../shaders/fft.wgsl';
import type { Binding, Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { bindingLimit } from '../src/engine/windows.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 256;

const FFT_PARAMS = declareParams([
  ['n', 'u32', 'complex FFT size'],
  ['rows', 'u32', 'rows (frames) in this dispatch'],
  ['ns', 'u32', 'Stockham stride of this pass'],
  ['tw_step', 'u32', 'twiddle table step for w = exp(-2 pi i / (ns*R))'],
  ['frame_base', 'u32', "STFT: global index of this chunk's first frame within the group"],
  ['n_utts', 'u32'],
  ['hop', 'u32'],
  ['n_fft', 'u32'],
  ['log_n', 'u32', 'log2(n)'],
  ['log_ns', 'u32', 'log2(ns)'],
  ['pad', 'u32', "STFT: zeros before the first frame's start (nFft/2 for center=true)"],
  ['magnitude', 'u32', 'split_power: 1 writes |X_k|, 0 writes |X_k|^2'],
]);
const FFT = declareShader('fft', withPreamble(source, FFT_PARAMS.wgsl), ['radix2', 'radix4', 'frame_pack', 'split_power']);
/** Row chunks are multiples of this, so byte offsets of windows stay 256-aligned. */
const ROW_ALIGN = 64;

// Twiddle tables exp(-2 pi i k / size), one per engine and size, kept for the engine's life.
const tables = new WeakMap<Engine, Map<number, Tensor>>();

export function twiddleTable(engine: Engine, size: number): Tensor {
  let perEngine = tables.get(engine);
  if (!perEngine) tables.set(engine, (perEngine = new Map()));
  let t = perEngine.get(size);
  if (!t) {
    const data = new Float32Array(2 * size);
    for (let k = 0; k < size; k++) {
      data[2 * k] = Math.cos((2 * Math.PI * k) / size);
      data[2 * k + 1] = -Math.sin((2 * Math.PI * k) / size);
    }
    t = engine.keep(engine.fromArray(data, [size, 2]));
    perEngine.set(size, t);
  }
  return t;
}

function isPow2(n: number): boolean {
  return Number.isInteger(n) && n >= 1 && (n & (n - 1)) === 0;
}

/** Radices of the passes for size n: as many 4s as fit, then a 2 when log2(n) is odd. */
export function fftRadices(n: number): number[] {
  const r: number[] = [];
  let rem = n;
  while (rem % 4 === 0) {
    r.push(4);
    rem /= 4;
  }
  if (rem === 2) r.push(2);
  return r;
}

function params(
  engine: Engine,
  v: { n?: number; rows: number; ns?: number; twStep?: number; frameBase?: number; nUtts?: number; hop?: number; nFft?: number; pad?: number; magnitude?: boolean },
): GPUBuffer {
  const log2 = (x: number) => (x > 0 ? Math.log2(x) : 0);
  return FFT_PARAMS.pack(engine, {
    n: v.n ?? 0, rows: v.rows, ns: v.ns ?? 0, tw_step: v.twStep ?? 0, frame_base: v.frameBase ?? 0, n_utts: v.nUtts ?? 0,
    hop: v.hop ?? 0, n_fft: v.nFft ?? 0, log_n: log2(v.n ?? 0), log_ns: log2(v.ns ?? 0), pad: v.pad ?? 0, magnitude: !!v.magnitude,
  });
}

/**
 * Forward FFTs of `rows` rows of n complex values, from `input` to `output` (each a
 * tensor or a byte window of one). `table` holds exp(-2 pi i k / tableSize) with
 * tableSize a multiple of n. Temporaries are taken from the pool and released.
 */
function fftPasses(engine: Engine, input: Binding, output: Binding, rows: number, n: number, table: Tensor, tableSize: number): void {
  const radices = fftRadices(n);
  const temps: Tensor[] = [];
  for (let i = 0; i < Math.min(2, radices.length - 1); i++) temps.push(engine.empty([rows, n, 2]));
  let ns = 1;
  radices.forEach((radix, p) => {
    const from = p === 0 ? input : temps[(p - 1) % 2];
    const to = p === radices.length - 1 ? output : temps[p % 2];
    const u = params(engine, { n, rows, ns, twStep: tableSize / (ns * radix) });
    const pipeline = FFT.pipeline(engine, radix === 4 ? 'radix4' : 'radix2', { WG });
    engine.dispatch(pipeline, [from, to, table, u], engine.grid((rows * n) / radix, WG));
    ns *= radix;
  });
  for (const t of temps) t.dispose();
}

/** Forward complex FFT along the last-but-one axis of x [..., n, 2] (interleaved re, im); n a power of two >= 2. */
export function fft(x: Tensor): Tensor {
  const engine = x.engine;
  const n = x.shape[x.shape.length - 2];
  if (x.dtype !== 'f32' || x.shape.length < 2 || x.shape[x.shape.length - 1] !== 2) {
    throw new Error(`fft: expects float32 [..., n, 2] (complex, interleaved), got ${x.dtype} [${x.shape.join(', ')}]`);
  }
  if (!isPow2(n) || n < 2) throw new Error(`fft: size ${n} is not a power of two >= 2`);
  const rowBytes = n * 8;
  if (rowBytes * ROW_ALIGN > bindingLimit(engine)) throw new Error(`fft: size ${n} is too large for this adapter's storage bindings`);
  const rows = x.size / (2 * n);
  const out = engine.empty(x.shape);
  const table = twiddleTable(engine, n);
  const chunk = rows * rowBytes <= bindingLimit(engine) ? rows : Math.floor(bindingLimit(engine) / rowBytes / ROW_ALIGN) * ROW_ALIGN;
  for (let r0 = 0; r0 < rows; r0 += chunk) {
    const count = Math.min(chunk, rows - r0);
    const whole = count === rows;
    const window = (t: Tensor): Binding => (whole ? t : { tensor: t, offset: r0 * rowBytes, size: count * rowBytes });
    fftPasses(engine, window(x), window(out), count, n, table, n);
  }
  return out;
}

/**
 * Utterances of one STFT batch: `signal` holds their samples back to back; `utts` is
 * i32 [nUtts, 8]: signal offset, signal length, shift, framed length, first frame,
 * frames, first output row, output rows. The framed signal of an utterance is
 * v[i] = x[i + shift] for 0 <= i < framed length, zero elsewhere (see reference.ts).
 * `frameUtt` gives the utterance of each frame.
 */
export interface StftBatch {
  signal: Tensor;
  utts: Tensor;
  /** i32 [frames]: the utterance of each frame. */
  frameUtt: Tensor;
  nUtts: number;
  /** Frames of all utterances together. */
  frames: number;
}

/** The largest number of frames one stftPower call may cover on this engine. */
export function maxStftFrames(engine: Engine, nFft: number): number {
  const perFrame = (nFft / 2) * 8;
  return Math.max(ROW_ALIGN, Math.floor(bindingLimit(engine) / perFrame / ROW_ALIGN) * ROW_ALIGN);
}

/** Framing and spectrum of stftPower; center defaults to true, spectrum to 'power'. */
export interface StftOptions {
  nFft: number;
  hop: number;
  /** true: frame t starts at t*hop - nFft/2 of the framed signal (librosa); false: at t*hop. */
  center?: boolean;
  /** Overrides center: frame t starts at t*hop - pad (the front end's segments use it). */
  pad?: number;
  /** 'power': |X|^2; 'magnitude': |X| (scale the window by 1/sqrt(sum w^2) for scipy's density scaling). */
  spectrum?: 'power' | 'magnitude';
}

/**
 * Spectra [frames, nFft/2 + 1] of frames [first, first + frames) of a batch: framing
 * (o.center / o.pad) with `window` (nFft values), real FFT, |X|^2 or |X| (o.spectrum).
 */
export function stftPower(batch: StftBatch, first: number, frames: number, o: StftOptions, window: Tensor): Tensor {
  const engine = batch.signal.engine;
  const { nFft, hop } = o;
  const pad = o.pad ?? (o.center === false ? 0 : nFft / 2);
  if (!(Number.isInteger(pad) && pad >= 0)) throw new Error(`stftPower: pad ${pad} must be a whole number >= 0`);
  if (!isPow2(nFft) || nFft < 4) throw new Error(`stftPower: nFft ${nFft} is not a power of two >= 4`);
  if (window.size !== nFft) throw new Error(`stftPower: window has ${window.size} values, nFft is ${nFft}`);
  if (first < 0 || frames < 1 || first + frames > batch.frames) throw new Error(`stftPower: frames ${first}..${first + frames} outside 0..${batch.frames}`);
  if (batch.frameUtt.size !== batch.frames) throw new Error(`stftPower: frameUtt has ${batch.frameUtt.size} entries for ${batch.frames} frames`);
  if (frames > maxStftFrames(engine, nFft)) throw new Error(`stftPower: ${frames} frames exceed one storage binding; split the call`);
  const h = nFft / 2;
  const table = twiddleTable(engine, nFft);
  const packed = engine.empty([frames, h, 2]);
  const u = params(engine, { n: h, rows: frames, frameBase: first, nUtts: batch.nUtts, hop, nFft, pad });
  engine.dispatch(FFT.pipeline(engine, 'frame_pack', { WG }), [null, packed, null, u, batch.signal, batch.utts, window, null, batch.frameUtt], engine.grid(frames * h, WG));
  const spectrum = engine.empty([frames, h, 2]);
  fftPasses(engine, packed, spectrum, frames, h, table, nFft);
  packed.dispose();
  const power = engine.empty([frames, h + 1]);
  const up = params(engine, { n: h, rows: frames, nFft, magnitude: o.spectrum === 'magnitude' });
  engine.dispatch(FFT.pipeline(engine, 'split_power', { WG }), [spectrum, null, table, up, null, null, null, power], engine.grid(frames * h, WG));
  spectrum.dispose();
  return power;
}
