// The GPU front end: 16 kHz waveforms -> log-Mel features in [0, 1], the recipe of
// reference.ts run as GPU kernels (kernels/fft.ts, kernels/mel.ts).
//
// All utterances go through one pass: their samples are uploaded back to back, every
// frame of every utterance is framed, transformed and projected by the same dispatches.
// Where a buffer would exceed one storage binding (engine.maxBinding) the utterances are
// split into groups, and the frames of a group into chunks of STFT work.
import type { Binding, Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { maxStftFrames, stftPower, type StftBatch } from '../../kernels/fft.js';
import { fitRowsInto, melDbInto, uploadMelBank, utteranceMax, type MelBankTensors } from '../../kernels/mel.js';
import { AMIN, DEFAULT_FRONT_END, SAMPLE_RATE, TOP_DB, framing, frontEndMelBank, frontEndOptions, paddedWindow, type FrontEndOptions, type Framing } from './reference.js';
import { readAudio } from './decode.js';
import { resample } from './resample.js';

export { DEFAULT_FRONT_END, SAMPLE_RATE, type FrontEndOptions };

/** Reads an audio file of any supported format (decode.ts), downmixes it to mono and resamples it to 16 kHz; AudioError naming the file if it cannot. */
export async function loadUtterance(path: string): Promise<Float32Array> {
  const audio = await readAudio(path);
  return resample(audio.samples, audio.sampleRate, SAMPLE_RATE);
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

const ALIGN = 256; // minStorageBufferOffsetAlignment on every adapter we target

export class FrontEnd {
  readonly options: FrontEndOptions;
  private readonly window: Tensor;
  private readonly bank: MelBankTensors;

  constructor(
    readonly engine: Engine,
    opts: Partial<FrontEndOptions> = {},
  ) {
    this.options = frontEndOptions(opts);
    this.window = engine.keep(engine.fromArray(Float32Array.from(paddedWindow(this.options)), [this.options.nFft]));
    const bank = uploadMelBank(engine, frontEndMelBank(this.options));
    this.bank = { ...bank, weights: engine.keep(bank.weights), ranges: engine.keep(bank.ranges) };
  }

  dispose(): void {
    this.window.dispose();
    this.bank.weights.dispose();
    this.bank.ranges.dispose();
  }

  /** Features of each utterance, [rows, nMels] row-major (time major). */
  async logMel(signals16k: Float32Array[]): Promise<Float32Array[]> {
    const nMels = this.options.nMels;
    const results: Float32Array[] = [];
    for (const group of this.groups(signals16k)) {
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

  /** Features as one tensor [N, 1, frames, nMels] for the models (fit 'resize' or 'crop'). */
  logMelTensor(signals16k: Float32Array[]): Tensor {
    const { fit, frames, nMels } = this.options;
    if (fit === 'none') throw new Error("logMelTensor: fit 'none' gives utterances different lengths; use 'resize' or 'crop'");
    if (signals16k.length === 0) throw new Error('logMelTensor: no signals');
    return this.engine.scope(() => {
      const out = this.engine.empty([signals16k.length, 1, frames, nMels]);
      for (const group of this.groups(signals16k)) this.runGroup(group, out, group.utts[0].index * frames * nMels);
      return out;
    });
  }

  /** Splits the utterances into groups whose buffers each fit one storage binding. */
  private groups(signals: Float32Array[]): Group[] {
    const o = this.options;
    const budget = this.engine.maxBinding - ALIGN;
    const groups: Group[] = [];
    let g: Group = { utts: [], samples: 0, frames: 0, outRows: 0 };
    signals.forEach((x, index) => {
      const f = framing(x.length, o);
      // Only the samples the framed signal can reach are uploaded.
      const start = Math.max(0, f.shift);
      const end = Math.max(start, Math.min(x.length, f.shift + f.length));
      const u: Utterance = { index, samples: x.subarray(start, end), framing: { ...f, shift: f.shift - start } };
      const bytes = (s: number, fr: number, rows: number) => Math.max(s * 4, fr * o.nMels * 4, rows * o.nMels * 4);
      const alone = bytes(u.samples.length, f.frames, f.outFrames);
      if (alone > budget) {
        throw new Error(`front end: utterance ${index} (${(x.length / SAMPLE_RATE).toFixed(1)} s) needs ${alone} bytes in one storage binding; this adapter allows ${this.engine.maxBinding}`);
      }
      if (g.utts.length > 0 && bytes(g.samples + u.samples.length, g.frames + f.frames, g.outRows + f.outFrames) > budget) {
        groups.push(g);
        g = { utts: [], samples: 0, frames: 0, outRows: 0 };
      }
      g.utts.push(u);
      g.samples += u.samples.length;
      g.frames += f.frames;
      g.outRows += f.outFrames;
    });
    if (g.utts.length > 0) groups.push(g);
    return groups;
  }

  /** Computes one group's rows into `out` from element `outStart` on. */
  private runGroup(group: Group, out: Tensor, outStart: number): void {
    const engine = this.engine;
    const o = this.options;
    engine.scope(() => {
      const signal = new Float32Array(Math.max(1, group.samples));
      const table = new Int32Array(group.utts.length * 8);
      const frameUtt = new Int32Array(group.frames);
      let s = 0;
      let frame = 0;
      let row = 0;
      group.utts.forEach((u, i) => {
        signal.set(u.samples, s);
        table.set([s, u.samples.length, u.framing.shift, u.framing.length, frame, u.framing.frames, row, u.framing.outFrames], i * 8);
        frameUtt.fill(i, frame, frame + u.framing.frames);
        s += u.samples.length;
        frame += u.framing.frames;
        row += u.framing.outFrames;
      });
      const batch: StftBatch = {
        signal: engine.fromArray(signal, [signal.length]),
        utts: engine.fromArray(table, [group.utts.length, 8], 'i32'),
        frameUtt: engine.fromArray(frameUtt, [group.frames], 'i32'),
        nUtts: group.utts.length,
        frames: group.frames,
      };

      // STFT and Mel dB, in chunks of frames that fit one binding.
      const db = engine.empty([group.frames, o.nMels]);
      const chunk = maxStftFrames(engine, o.nFft);
      for (let f0 = 0; f0 < group.frames; f0 += chunk) {
        const count = Math.min(chunk, group.frames - f0);
        const power = stftPower(batch, f0, count, o, this.window);
        const into: Binding = count === group.frames ? db : { tensor: db, offset: f0 * o.nMels * 4, size: count * o.nMels * 4 };
        melDbInto(power, this.bank, into, count, AMIN);
        power.dispose();
      }

      // Reference, floor, scale and fit, written to a 256-aligned window of `out`.
      const refs = utteranceMax(db, o.nMels, batch.utts, batch.nUtts);
      const startByte = outStart * 4;
      const windowStart = Math.floor(startByte / ALIGN) * ALIGN;
      const size = startByte - windowStart + group.outRows * o.nMels * 4;
      const whole = windowStart === 0 && size === out.bytes;
      const target: Binding = whole ? out : { tensor: out, offset: windowStart, size };
      fitRowsInto(
        db,
        refs,
        batch.utts,
        { nUtts: batch.nUtts, nMels: o.nMels, outRows: group.outRows, resize: o.fit === 'resize', topDb: TOP_DB },
        target,
        (startByte - windowStart) / 4,
      );
    });
  }
}
