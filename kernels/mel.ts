// Launchers for shaders/mel.wgsl: Mel projection + dB or ln, per-utterance maximum, and
// the scaling to [0, 1] with the fit to the output rows.
import source from '../shaders/mel.wgsl';
import type { Binding, Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble } from './declare.js';
import type { MelBank } from '../src/audio/melbank.js';

const WG = 256;

const MEL_PARAMS = declareParams([
  ['frames', 'u32', 'mel_db, row_max: rows in this dispatch'],
  ['n_bins', 'u32'],
  ['n_mels', 'u32'],
  ['n_utts', 'u32'],
  ['out_rows', 'u32', 'fit_rows: rows written by this dispatch'],
  ['resize', 'u32', "1: linear resize to each utterance's output rows"],
  ['amin', 'f32'],
  ['top_db', 'f32'],
  ['out_offset', 'u32', 'fit_rows: first element of `out` to write (the bound window may start earlier)'],
  ['ln', 'u32', '1: compression ln (mel_db: ln(s + amin); fit_rows: no reference or scaling)'],
  ['tile', 'u32', "fit_rows: 1 for fit 'tile'"],
]);
const MEL = declareShader('mel', withPreamble(source, MEL_PARAMS.wgsl), ['mel_db', 'row_max', 'utt_max', 'fit_rows', 'fit_rows_mapped']);

export interface MelBankTensors {
  nMels: number;
  nBins: number;
  /** f32 [nMels, nBins] */
  weights: Tensor;
  /** i32 [nMels, 2]: first and one-past-last non-zero bin of each band */
  ranges: Tensor;
}

/** Uploads a filterbank (float64 weights rounded to float32). The caller owns the tensors. */
export function uploadMelBank(engine: Engine, bank: MelBank): MelBankTensors {
  return {
    nMels: bank.nMels,
    nBins: bank.nBins,
    weights: engine.fromArray(Float32Array.from(bank.weights), [bank.nMels, bank.nBins]),
    ranges: engine.fromArray(bank.ranges, [bank.nMels, 2], 'i32'),
  };
}

interface MelParams {
  frames?: number;
  nBins?: number;
  nMels: number;
  nUtts?: number;
  outRows?: number;
  resize?: boolean;
  amin?: number;
  topDb?: number;
  outOffset?: number;
  ln?: boolean;
  tile?: boolean;
}

function params(engine: Engine, v: MelParams): GPUBuffer {
  return MEL_PARAMS.pack(engine, {
    frames: v.frames ?? 0, n_bins: v.nBins ?? 0, n_mels: v.nMels, n_utts: v.nUtts ?? 0, out_rows: v.outRows ?? 0, resize: !!v.resize,
    amin: v.amin ?? 0, top_db: v.topDb ?? 0, out_offset: v.outOffset ?? 0, ln: !!v.ln, tile: !!v.tile,
  });
}

/**
 * Writes 10 log10(max(mel, amin)) (or, with `ln`, ln(mel + amin)) for `frames` rows of
 * `power` [frames, nBins] (a power or magnitude spectrum) into `out` ([frames, nMels], a
 * tensor or a window of one).
 */
export function melDbInto(power: Tensor, bank: MelBankTensors, out: Binding, frames: number, amin: number, ln = false): void {
  const engine = power.engine;
  if (power.size !== frames * bank.nBins) throw new Error(`melDb: power [${power.shape.join(', ')}] is not [${frames}, ${bank.nBins}]`);
  const u = params(engine, { frames, nBins: bank.nBins, nMels: bank.nMels, amin, ln });
  engine.dispatch(MEL.pipeline(engine, 'mel_db', { WG }), [power, bank.weights, bank.ranges, out, u], engine.grid(frames * bank.nMels, WG));
}

/** db [frames, nMels] -> the maximum of each utterance [nUtts] (utts as in kernels/fft.ts). */
export function utteranceMax(db: Tensor, nMels: number, utts: Tensor, nUtts: number): Tensor {
  const engine = db.engine;
  const frames = db.size / nMels;
  const rmax = engine.empty([frames]);
  engine.dispatch(
    MEL.pipeline(engine, 'row_max', { WG }),
    [null, null, null, null, params(engine, { frames, nMels }), db, rmax],
    engine.grid(frames, WG),
  );
  const refs = engine.empty([nUtts]);
  engine.dispatch(
    MEL.pipeline(engine, 'utt_max', { WG }),
    [null, null, null, null, params(engine, { nMels, nUtts }), null, null, rmax, refs, null, utts],
    engine.grid(nUtts, WG),
  );
  rmax.dispose();
  return refs;
}

/**
 * Writes the output rows [0, outRows) of a group into `out` (a tensor or a window of
 * one) from element `outOffset` on, [outRows, nMels] row-major: dB relative to each
 * utterance's maximum `refs`, floored at -topDb, scaled to [0, 1] (with `ln`: the values
 * as they are; `refs` is then not read but must be bound), and linearly resized along
 * time when `resize`, or tiled when `tile`. With `rowMap` (i32, one entry per frame of
 * the group), frame i is read from row rowMap[i] of `db`.
 */
export function fitRowsInto(
  db: Tensor,
  refs: Tensor,
  utts: Tensor,
  g: { nUtts: number; nMels: number; outRows: number; resize: boolean; topDb: number; ln?: boolean; tile?: boolean },
  out: Binding,
  outOffset = 0,
  rowMap?: Tensor,
): void {
  const engine = db.engine;
  const { nMels, outRows } = g;
  const u = params(engine, { ...g, outOffset });
  const bindings = [null, null, null, null, u, db, null, null, null, refs, utts, out];
  engine.dispatch(
    MEL.pipeline(engine, rowMap ? 'fit_rows_mapped' : 'fit_rows', { WG }),
    rowMap ? [...bindings, rowMap] : bindings,
    engine.grid(outRows * nMels, WG),
  );
}
