// The GPU front end: 16 kHz waveforms -> log-Mel features in [0, 1], the recipe of
// reference.ts run as GPU kernels (kernels/fft.ts, kernels/mel.ts).
//
// Both recipes (recipe.ts): the options pick window, framing, spectrum and compression.
// Utterances go through one pass: their samples are uploaded back to back, every frame
// of every utterance is framed, transformed and projected by the same dispatches. Where a
// buffer would exceed one storage binding (engine.maxBinding) the utterances are split
// into groups, and the frames of a group into chunks of STFT work.
//
// An utterance of more than `segmentFrames` STFT frames (minutes of audio) is run alone in
// segments of frames: each segment uploads only the samples its frames reach (segments
// overlap by nFft - hop samples), its pre-reference rows are read back, and only the rows
// the fit needs are kept (all of them for fit 'none'). The dB reference is the maximum over
// every segment; the last step is the same fit kernel as the one-pass path, reading the
// kept rows through a row map. Every frame is computed by the same kernels from the same
// samples, so the result equals the one-pass result bit for bit, in memory bounded by the
// segment and the output.
import type { Binding, Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { bindingAlignment, bindingLimit } from '../engine/windows.js';
import { maxStftFrames, stftPower, type StftBatch } from '../../kernels/fft.js';
import { fitRowsInto, melDbInto, uploadMelBank, utteranceMax, type MelBankTensors } from '../../kernels/mel.js';
import {
  AMIN,
  DEFAULT_FRONT_END,
  LN_EPS,
  SAMPLE_RATE,
  TOP_DB,
  framePad,
  framing,
  frontEndMelBank,
  frontEndOptions,
  paddedWindow,
  spectrumScale,
  type FrontEndOptions,
  type Framing,
} from './reference.js';
import { readAudio } from './decode.js';
import { resample } from './resample.js';

export { DEFAULT_FRONT_END, SAMPLE_RATE, type FrontEndOptions };

/**
 * Reads an audio file of any supported format (decode.ts), downmixes it to mono and resamples
 * it to 16 kHz (no copy when it already is 16 kHz: an hour is 230 MB); AudioError naming the
 * file if it cannot.
 */
export async function loadUtterance(path: string): Promise<Float32Array> {
  const audio = await readAudio(path);
  return audio.sampleRate === SAMPLE_RATE ? audio.samples : resample(audio.samples, audio.sampleRate, SAMPLE_RATE);
}

interface Utterance {
  index: number;
  /** The part of the waveform the STFT can see, and its framing relative to that part. */
  samples: Float32Array;
  framing: Framing;
}

interface Group {
  utts: Utterance[];
  samples: number;
  frames: number;
  outRows: number;
}

/** An utterance run alone in segments: its whole waveform and its framing. */
interface Long {
  index: number;
  x: Float32Array;
  framing: Framing;
}

type Work = { group: Group } | { long: Long };

/** Default STFT frames per segment of a long utterance (db: 164 s, paper: 262 s): bounds memory. */
export const SEGMENT_FRAMES = 16384;

export interface FrontEndTuning {
  /** STFT frames per segment of a long utterance; an utterance with more frames is run in segments. Tests force small values. */
  segmentFrames?: number;
  /** Called after each segment of a long utterance with the STFT frames done and its total (for progress bars). */
  onSegment?: (done: number, total: number) => void;
}

export class FrontEnd {
  readonly options: FrontEndOptions;
  /** STFT frames per segment (see the header). */
  readonly segmentFrames: number;
  private readonly window: Tensor;
  private readonly bank: MelBankTensors;
  private readonly onSegment?: (done: number, total: number) => void;

  /**
   * @param opts front-end options; missing fields are db's (DEFAULT_FRONT_END). Pass
   *   RECIPES[name].frontEnd (recipe.ts) for a recipe. Throws on invalid options.
   */
  constructor(
    readonly engine: Engine,
    opts: Partial<FrontEndOptions> = {},
    tuning: FrontEndTuning = {},
  ) {
    this.options = frontEndOptions(opts);
    const o = this.options;
    // The longest segment whose samples and rows fit one binding, within the memory bound.
    const budget = bindingLimit(engine) - bindingAlignment(engine);
    const fit = Math.min(Math.floor((budget / 4 - o.nFft) / o.hop), Math.floor(budget / (4 * o.nMels)), maxStftFrames(engine, o.nFft));
    const want = tuning.segmentFrames ?? SEGMENT_FRAMES;
    if (!(Number.isInteger(want) && want >= 1)) throw new Error(`front end: segmentFrames ${want} must be a positive whole number`);
    this.segmentFrames = Math.max(1, Math.min(want, fit));
    this.onSegment = tuning.onSegment;
    // The magnitude spectrum's 1 / sqrt(sum w^2) is folded into the window (float64, then rounded).
    const scale = spectrumScale(o);
    this.window = engine.keep(engine.fromArray(Float32Array.from(paddedWindow(o), (v) => v * scale), [o.nFft]));
    const bank = uploadMelBank(engine, frontEndMelBank(o));
    this.bank = { ...bank, weights: engine.keep(bank.weights), ranges: engine.keep(bank.ranges) };
  }

  dispose(): void {
    this.window.dispose();
    this.bank.weights.dispose();
    this.bank.ranges.dispose();
  }

  /**
   * Features of each 16 kHz utterance, [rows, nMels] row-major (time major): rows =
   * options.frames for fit 'resize' and 'tile', the STFT frames for 'crop' and 'none'.
   * Values: [0, 1] for compression 'db', ln(mel + 1e-8) for 'ln'. Any length: long
   * utterances run in segments (see the header).
   */
  async logMel(signals16k: Float32Array[]): Promise<Float32Array[]> {
    const nMels = this.options.nMels;
    const results: Float32Array[] = [];
    for (const work of this.plan(signals16k)) {
      if ('long' in work) {
        results[work.long.index] = await this.runLong(work.long);
        continue;
      }
      const group = work.group;
      const flat = await this.engine.scopeAsync(async () => {
        const out = this.engine.empty([group.outRows, nMels]);
        this.runGroup(group, out, 0);
        return (await out.read()) as Float32Array;
      });
      let row = 0;
      for (const u of group.utts) {
        results[u.index] = flat.slice(row * nMels, (row + u.framing.outFrames) * nMels);
        row += u.framing.outFrames;
      }
    }
    return results;
  }

  /**
   * Features as one tensor [N, 1, frames, nMels] for the models (fit 'resize', 'tile' or
   * 'crop'), without reading back. Utterances longer than segmentFrames STFT frames are
   * refused (they need readbacks): use logMel for those.
   */
  logMelTensor(signals16k: Float32Array[]): Tensor {
    const { fit, frames, nMels } = this.options;
    if (fit === 'none') throw new Error("logMelTensor: fit 'none' gives utterances different lengths; use 'resize', 'tile' or 'crop'");
    if (signals16k.length === 0) throw new Error('logMelTensor: no signals');
    const plan = this.plan(signals16k);
    for (const w of plan) {
      if ('long' in w) throw new Error(`logMelTensor: utterance ${w.long.index} (${(w.long.x.length / SAMPLE_RATE).toFixed(1)} s) needs segments; use logMel`);
    }
    return this.engine.scope(() => {
      const out = this.engine.empty([signals16k.length, 1, frames, nMels]);
      for (const w of plan) if ('group' in w) this.runGroup(w.group, out, w.group.utts[0].index * frames * nMels);
      return out;
    });
  }

  /** Framed samples [start, end) of x the STFT frames of `f` can reach (framed index i is x[i + f.shift]). */
  private reach(x: Float32Array, f: Framing, pad: number): { start: number; end: number } {
    const o = this.options;
    const last = Math.min(f.length, (f.frames - 1) * o.hop - pad + o.nFft);
    const start = Math.max(0, f.shift);
    return { start, end: Math.max(start, Math.min(x.length, f.shift + last)) };
  }

  /** Splits the utterances into groups whose buffers each fit one storage binding, and long ones run alone. */
  private plan(signals: Float32Array[]): Work[] {
    const o = this.options;
    const budget = bindingLimit(this.engine) - bindingAlignment(this.engine);
    const work: Work[] = [];
    let g: Group = { utts: [], samples: 0, frames: 0, outRows: 0 };
    const close = () => {
      if (g.utts.length > 0) work.push({ group: g });
      g = { utts: [], samples: 0, frames: 0, outRows: 0 };
    };
    signals.forEach((x, index) => {
      const f = framing(x.length, o);
      // Only the samples the framed signal can reach are uploaded.
      const { start, end } = this.reach(x, f, framePad(o));
      const u: Utterance = { index, samples: x.subarray(start, end), framing: { ...f, shift: f.shift - start } };
      const bytes = (s: number, fr: number, rows: number) => Math.max(s * 4, fr * o.nMels * 4, rows * o.nMels * 4);
      if (f.frames > this.segmentFrames || bytes(u.samples.length, f.frames, f.outFrames) > budget) {
        close();
        work.push({ long: { index, x, framing: f } });
        return;
      }
      if (g.utts.length > 0 && bytes(g.samples + u.samples.length, g.frames + f.frames, g.outRows + f.outFrames) > budget) close();
      g.utts.push(u);
      g.samples += u.samples.length;
      g.frames += f.frames;
      g.outRows += f.outFrames;
    });
    close();
    return work;
  }

  /** The uploaded batch of a list of utterances (kernels/fft.ts StftBatch), in the current scope. */
  private batch(utts: Utterance[], samples: number, frames: number): StftBatch {
    const engine = this.engine;
    const signal = new Float32Array(Math.max(1, samples));
    const table = new Int32Array(utts.length * 8);
    const frameUtt = new Int32Array(frames);
    let s = 0;
    let frame = 0;
    let row = 0;
    utts.forEach((u, i) => {
      signal.set(u.samples, s);
      table.set([s, u.samples.length, u.framing.shift, u.framing.length, frame, u.framing.frames, row, u.framing.outFrames], i * 8);
      frameUtt.fill(i, frame, frame + u.framing.frames);
      s += u.samples.length;
      frame += u.framing.frames;
      row += u.framing.outFrames;
    });
    return {
      signal: engine.fromArray(signal, [signal.length]),
      utts: engine.fromArray(table, [utts.length, 8], 'i32'),
      frameUtt: engine.fromArray(frameUtt, [frames], 'i32'),
      nUtts: utts.length,
      frames,
    };
  }

  /** Pre-reference rows [frames, nMels] of a batch (dB, or ln values): STFT and Mel in chunks of frames that fit one binding. */
  private melRows(batch: StftBatch, pad: number): Tensor {
    const engine = this.engine;
    const o = this.options;
    const db = engine.empty([batch.frames, o.nMels]);
    const chunk = maxStftFrames(engine, o.nFft);
    const ln = o.compression === 'ln';
    for (let f0 = 0; f0 < batch.frames; f0 += chunk) {
      const count = Math.min(chunk, batch.frames - f0);
      const power = stftPower(batch, f0, count, { nFft: o.nFft, hop: o.hop, pad, spectrum: o.spectrum }, this.window);
      const into: Binding = count === batch.frames ? db : { tensor: db, offset: f0 * o.nMels * 4, size: count * o.nMels * 4 };
      melDbInto(power, this.bank, into, count, ln ? LN_EPS : AMIN, ln);
      power.dispose();
    }
    return db;
  }

  /** The fit's parameters for fitRowsInto. */
  private fitParams(nUtts: number, outRows: number) {
    const o = this.options;
    return { nUtts, nMels: o.nMels, outRows, resize: o.fit === 'resize', tile: o.fit === 'tile', ln: o.compression === 'ln', topDb: TOP_DB };
  }

  /** Computes one group's rows into `out` from element `outStart` on. */
  private runGroup(group: Group, out: Tensor, outStart: number): void {
    const engine = this.engine;
    const o = this.options;
    engine.scope(() => {
      const batch = this.batch(group.utts, group.samples, group.frames);
      const db = this.melRows(batch, framePad(o));
      // Reference, floor, scale and fit, written to an aligned window of `out`.
      const refs = utteranceMax(db, o.nMels, batch.utts, batch.nUtts);
      const startByte = outStart * 4;
      const align = bindingAlignment(engine);
      const windowStart = Math.floor(startByte / align) * align;
      const size = startByte - windowStart + group.outRows * o.nMels * 4;
      const whole = windowStart === 0 && size === out.bytes;
      const target: Binding = whole ? out : { tensor: out, offset: windowStart, size };
      fitRowsInto(db, refs, batch.utts, this.fitParams(batch.nUtts, group.outRows), target, (startByte - windowStart) / 4);
    });
  }

  /**
   * Pre-reference rows of STFT frames [a, b) of a long utterance, read back. The segment's
   * first frame starts at framed index c = a*hop - pad: it is uploaded from there on (or
   * with the remaining pad when c < 0), so each frame sees exactly the samples it sees in
   * one pass.
   */
  private async segmentRows(long: Long, a: number, b: number): Promise<Float32Array> {
    const o = this.options;
    const f = long.framing;
    const c = a * o.hop - framePad(o);
    const pad = Math.max(0, -c);
    const delta = Math.max(0, c);
    const seg: Framing = { shift: f.shift + delta, length: f.length - delta, frames: b - a, outFrames: b - a };
    const { start, end } = this.reach(long.x, seg, pad);
    const u: Utterance = { index: 0, samples: long.x.subarray(start, end), framing: { ...seg, shift: seg.shift - start } };
    return this.engine.scopeAsync(async () => {
      const db = this.melRows(this.batch([u], u.samples.length, b - a), pad);
      return (await db.read()) as Float32Array;
    });
  }

  /** Frames of a long utterance the fit reads (all for 'none', 'crop' and 'tile'; for 'resize' the two sources of each row). */
  private neededFrames(frames: number): Uint8Array | null {
    const o = this.options;
    if (o.fit !== 'resize') return null;
    const need = new Uint8Array(frames);
    const f32 = Math.fround;
    const ratio = f32(f32(frames) / o.frames);
    for (let i = 0; i < o.frames; i++) {
      // The kernel's float32 source position, and a frame either side for its rounding.
      const src = Math.max(0, f32(f32(f32(i + 0.5) * ratio) - 0.5));
      const i0 = Math.min(Math.floor(src), frames - 1);
      for (let j = Math.max(0, i0 - 1); j <= Math.min(frames - 1, i0 + 2); j++) need[j] = 1;
    }
    return need;
  }

  /** One long utterance in segments (see the header): [outFrames, nMels]. */
  private async runLong(long: Long): Promise<Float32Array> {
    const engine = this.engine;
    const o = this.options;
    const { frames, outFrames } = long.framing;
    const need = this.neededFrames(frames);
    const rowMap = new Int32Array(need ? frames : 0);
    let keptRows = 0;
    if (need) {
      for (let t = 0; t < frames; t++) if (need[t]) rowMap[t] = keptRows++;
    } else {
      keptRows = frames;
    }
    const kept = new Float32Array(keptRows * o.nMels);
    let ref = -Infinity;
    for (let a = 0; a < frames; a += this.segmentFrames) {
      const b = Math.min(frames, a + this.segmentFrames);
      const rows = await this.segmentRows(long, a, b);
      for (const v of rows) ref = Math.max(ref, v);
      if (!need) kept.set(rows, a * o.nMels);
      else for (let t = a; t < b; t++) if (need[t]) kept.set(rows.subarray((t - a) * o.nMels, (t - a + 1) * o.nMels), rowMap[t] * o.nMels);
      this.onSegment?.(b, frames);
    }
    if (o.compression === 'ln') ref = 0; // not read
    const fitChunk = async (db: Float32Array, dbRows: number, fitFrames: number, rows: number, map?: Int32Array): Promise<Float32Array> =>
      engine.scopeAsync(async () => {
        const out = engine.empty([rows, o.nMels]);
        const utts = engine.fromArray([0, 0, 0, 0, 0, fitFrames, 0, rows], [1, 8], 'i32');
        const refs = engine.fromArray([ref], [1]);
        const dbT = engine.fromArray(db, [dbRows, o.nMels]);
        const mapT = map ? engine.fromArray(map, [map.length], 'i32') : undefined;
        fitRowsInto(dbT, refs, utts, this.fitParams(1, rows), out, 0, mapT);
        return (await out.read()) as Float32Array;
      });
    if (need || o.fit !== 'none') {
      // Fixed-size output: one fit over the kept rows (the row map is the identity without `need`).
      const map = need ? rowMap : Int32Array.from({ length: frames }, (_, t) => t);
      return fitChunk(kept, keptRows, frames, outFrames, map);
    }
    // fit 'none': the same per-row fit in chunks of rows, in place.
    for (let r0 = 0; r0 < frames; r0 += this.segmentFrames) {
      const r1 = Math.min(frames, r0 + this.segmentFrames);
      const chunk = kept.subarray(r0 * o.nMels, r1 * o.nMels);
      chunk.set(await fitChunk(chunk, r1 - r0, r1 - r0, r1 - r0));
    }
    return kept;
  }
}
