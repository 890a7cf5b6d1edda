import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { testRandom } from './helpers/check.js';
import { decodeWav, readWav, WavError } from '../src/audio/wav.js';

const rng = testRandom('wav');
const DATA = process.env.SER_DATA ?? resolve('../shared/data');

interface Spec {
  code: number; // 1 PCM, 3 float
  bits: number;
  channels: number;
  rate?: number;
  extensible?: boolean;
  /** Chunks before fmt, between fmt and data, after data. */
  before?: Uint8Array[];
  between?: Uint8Array[];
  after?: Uint8Array[];
  fmtAfterData?: boolean;
}

function chunk(id: string, body: Uint8Array, declared = body.length): Uint8Array {
  const out = new Uint8Array(8 + body.length + (body.length & 1));
  for (let i = 0; i < 4; i++) out[i] = id.charCodeAt(i);
  new DataView(out.buffer).setUint32(4, declared, true);
  out.set(body, 8);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function fmtBody(s: Spec): Uint8Array {
  const body = new Uint8Array(s.extensible ? 40 : 16);
  const v = new DataView(body.buffer);
  v.setUint16(0, s.extensible ? 0xfffe : s.code, true);
  v.setUint16(2, s.channels, true);
  v.setUint32(4, s.rate ?? 16000, true);
  v.setUint32(8, (s.rate ?? 16000) * s.channels * (s.bits / 8), true);
  v.setUint16(12, s.channels * (s.bits / 8), true);
  v.setUint16(14, s.bits, true);
  if (s.extensible) {
    v.setUint16(16, 22, true);
    v.setUint16(18, s.bits, true);
    v.setUint32(20, 0, true);
    v.setUint16(24, s.code, true);
    body.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return body;
}

function riff(chunks: Uint8Array[]): Uint8Array {
  const body = concat(chunks);
  const head = new Uint8Array(12);
  head.set([0x52, 0x49, 0x46, 0x46], 0);
  new DataView(head.buffer).setUint32(4, body.length + 4, true);
  head.set([0x57, 0x41, 0x56, 0x45], 8);
  return concat([head, body]);
}

/** A WAV of random samples in the given format, and the mono signal a decoder must produce (float64). */
function makeWav(s: Spec, frames: number): { bytes: Uint8Array; mono: Float64Array } {
  const width = s.bits / 8;
  const data = new Uint8Array(frames * s.channels * width);
  const v = new DataView(data.buffer);
  const mono = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    for (let c = 0; c < s.channels; c++) {
      const at = (i * s.channels + c) * width;
      let value: number;
      if (s.code === 3) {
        value = rng.uniform(-1, 1);
        if (s.bits === 32) {
          v.setFloat32(at, value, true);
          value = v.getFloat32(at, true);
        } else v.setFloat64(at, value, true);
      } else if (s.bits === 8) {
        const u = rng.int(256);
        v.setUint8(at, u);
        value = (u - 128) / 128;
      } else {
        const max = 2 ** (s.bits - 1);
        const n = rng.int(2 * max) - max;
        if (s.bits === 16) v.setInt16(at, n, true);
        else if (s.bits === 32) v.setInt32(at, n, true);
        else {
          v.setUint8(at, n & 0xff);
          v.setUint8(at + 1, (n >> 8) & 0xff);
          v.setInt8(at + 2, n >> 16);
        }
        value = n / max;
      }
      sum += value;
    }
    mono[i] = sum / s.channels;
  }
  const fmt = chunk('fmt ', fmtBody(s));
  const dataChunk = chunk('data', data);
  const middle = s.fmtAfterData ? [dataChunk, ...(s.between ?? []), fmt] : [fmt, ...(s.between ?? []), dataChunk];
  return { bytes: riff([...(s.before ?? []), ...middle, ...(s.after ?? [])]), mono };
}

function assertDecodes(bytes: Uint8Array, mono: Float64Array, s: Spec, what: string): void {
  const w = decodeWav(bytes, what);
  assert.is(w.channels, s.channels, `${what}: channels`);
  assert.is(w.sampleRate, s.rate ?? 16000, `${what}: rate`);
  assert.is(w.samples.length, mono.length, `${what}: frames`);
  for (let i = 0; i < mono.length; i++) {
    // The only error allowed is the final rounding to float32.
    if (!(Math.abs(w.samples[i] - mono[i]) <= 6e-8 * Math.max(1, Math.abs(mono[i])))) assert.unreachable(`${what}: sample ${i} is ${w.samples[i]}, want ${mono[i]}`);
  }
}

const FORMATS: [number, number][] = [
  [1, 8],
  [1, 16],
  [1, 24],
  [1, 32],
  [3, 32],
  [3, 64],
];

for (const [code, bits] of FORMATS) {
  for (const extensible of [false, true]) {
    const name = `${code === 1 ? 'PCM' : 'float'} ${bits}-bit${extensible ? ' (WAVE_FORMAT_EXTENSIBLE)' : ''}`;
    test(`decodes ${name}, 1/2/3/6 channels, downmixed by averaging`, () => {
      for (const channels of [1, 2, 3, 6]) {
        const s: Spec = { code, bits, channels, extensible, rate: [8000, 22050, 44100, 48000][rng.int(4)] };
        const frames = 1 + rng.int(500);
        const { bytes, mono } = makeWav(s, frames);
        assertDecodes(bytes, mono, s, `${name} x${channels}`);
      }
    });
  }
}

test('walks other chunks: LIST and FLLR before data, odd sizes with a pad byte, fmt after data, trailing chunks', () => {
  const odd = (id: string, n: number) => chunk(id, Uint8Array.from({ length: n }, () => rng.int(256)));
  const cases: Spec[] = [
    { code: 1, bits: 16, channels: 2, before: [odd('LIST', 27)], between: [odd('FLLR', 4044)] },
    { code: 1, bits: 8, channels: 1, between: [odd('junk', 1), odd('bext', 3)], after: [odd('LIST', 5)] },
    { code: 3, bits: 32, channels: 1, fmtAfterData: true, between: [odd('fact', 4)] },
  ];
  cases.forEach((s, i) => {
    const frames = 2 * rng.int(100) + 1; // odd: 8-bit mono data is itself odd-sized and padded
    const { bytes, mono } = makeWav(s, frames);
    assertDecodes(bytes, mono, s, `case ${i}`);
  });
});

function expectWavError(bytes: Uint8Array, pattern: RegExp, what: string): void {
  try {
    decodeWav(bytes, 'bad.wav');
  } catch (e) {
    assert.instance(e, WavError, `${what}: ${e}`);
    const msg = (e as Error).message;
    assert.ok(msg.startsWith('bad.wav: '), `${what}: message names the file: ${msg}`);
    assert.not.match(msg, /\n/, `${what}: one line`);
    assert.match(msg, pattern, `${what}: ${msg}`);
    return;
  }
  assert.unreachable(`${what}: decoded without an error`);
}

test('bad input: each case is a one-line WavError naming the file and the problem', () => {
  const good = (s: Partial<Spec> = {}) => makeWav({ code: 1, bits: 16, channels: 2, ...s }, 100).bytes;
  const withFmt = (edit: (v: DataView) => void, s: Partial<Spec> = {}) => {
    const b = good(s).slice();
    edit(new DataView(b.buffer, 20)); // the fmt body starts at byte 20
    return b;
  };
  expectWavError(new Uint8Array(0), /empty/, 'empty');
  expectWavError(good().subarray(0, 10), /truncated/, 'short header');
  expectWavError(new TextEncoder().encode('ID3\x04 this is an mp3 file, honest'), /not a WAV file/, 'non-RIFF');
  expectWavError(good().subarray(0, 12), /no 'fmt ' chunk/, 'header only');
  expectWavError(withFmt((v) => v.setUint16(2, 0, true)), /zero channels/, 'zero channels');
  expectWavError(withFmt((v) => v.setUint16(2, 40000, true)), /channels is not plausible/, 'huge channel count');
  expectWavError(withFmt((v) => v.setUint16(12, 3, true)), /block align 3 does not match/, 'block align');
  expectWavError(withFmt((v) => v.setUint16(0, 0x55, true)), /unsupported codec: format tag 0x0055/, 'mp3 in wav');
  expectWavError(withFmt((v) => v.setUint16(0, 2, true)), /unsupported codec/, 'ADPCM');
  expectWavError(withFmt((v) => v.setUint16(14, 0, true)), /sample size 0 bits/, '0-bit');
  expectWavError(withFmt((v) => v.setUint16(14, 17, true)), /block align 4 does not match 2 channels of 24-bit samples \(6\)/, '17 bits need a 24-bit container');
  expectWavError(withFmt((v) => v.setUint16(14, 40, true)), /sample size 40 bits/, '40-bit');
  expectWavError(withFmt((v) => v.setUint32(4, 7, true)), /sample rate 7 Hz is outside the accepted range 1000\.\.768000 Hz/, '7 Hz');
  expectWavError(withFmt((v) => v.setUint32(4, 9_999_996, true)), /sample rate 9999996 Hz is outside/, '10 MHz');
  expectWavError(withFmt((v) => v.setUint16(18, 17, true), { extensible: true }), /17 valid bits do not fit a 16-bit container/, 'valid > container');
  expectWavError(withFmt((v) => v.setUint16(14, 16, true), { code: 7, bits: 8, channels: 2 }), /mu-law sample size 16 bits/, '16-bit mu-law');
  expectWavError(withFmt((v) => v.setUint32(4, 0, true)), /sample rate 0/, 'zero rate');
  expectWavError(withFmt((v) => v.setUint8(28, 0x42), { extensible: true }), /subformat GUID/, 'unknown GUID');
  expectWavError(withFmt((v) => v.setUint16(24, 0x0002, true), { extensible: true }), /unsupported codec/, 'extensible ADPCM');
  // A data chunk declaring more bytes than the file holds (truncated copy, or a lying header).
  const cut = good();
  expectWavError(cut.subarray(0, cut.length - 7), /truncated: the data chunk declares 400 bytes but only 393/, 'truncated data');
  const lying = good().slice();
  new DataView(lying.buffer).setUint32(lying.length - 400 - 4, 0x7fffffff, true);
  expectWavError(lying, /declares 2147483647 bytes/, 'data size larger than the file');
  // A data chunk with less than one frame, and a file with no data chunk.
  expectWavError(riff([chunk('fmt ', fmtBody({ code: 1, bits: 16, channels: 2 })), chunk('data', new Uint8Array(3))]), /no audio/, 'no frames');
  expectWavError(riff([chunk('fmt ', fmtBody({ code: 1, bits: 16, channels: 2 })), chunk('LIST', new Uint8Array(6))]), /no 'data' chunk/, 'no data');
  expectWavError(riff([chunk('fmt ', new Uint8Array(12)), chunk('data', new Uint8Array(8))]), /fmt chunk of 12 bytes is too short/, 'short fmt');
  expectWavError(riff([chunk('fmt ', fmtBody({ code: 1, bits: 16, channels: 1 })), chunk('LIST', new Uint8Array(4), 1 << 30)]), /chunk 'LIST' declares/, 'lying LIST');
  const nan = makeWav({ code: 3, bits: 32, channels: 1 }, 10).bytes.slice();
  new DataView(nan.buffer).setFloat32(nan.length - 8, NaN, true);
  expectWavError(nan, /not a finite number/, 'NaN sample');
});

test('never hangs or crashes on corrupted files: random byte damage decodes or gives a WavError', () => {
  const { bytes } = makeWav({ code: 1, bits: 16, channels: 2, between: [chunk('LIST', new Uint8Array(9))] }, 50);
  const start = Date.now();
  for (let trial = 0; trial < 500; trial++) {
    const b = bytes.slice(0, rng.int(2) ? bytes.length : rng.int(bytes.length));
    for (let k = 0; k < 1 + rng.int(4); k++) b[rng.int(Math.min(80, b.length))] = rng.int(256);
    try {
      const w = decodeWav(b, 'fuzz.wav');
      assert.ok(w.samples.length > 0 && w.channels > 0);
    } catch (e) {
      if (!(e instanceof WavError)) assert.unreachable(`trial ${trial}: ${e}`);
    }
  }
  assert.ok(Date.now() - start < 5000, 'fast');
});

// --- G.711 mu-law and A-law -------------------------------------------------------------

/** The reference encoders of ITU-T G.711 as in Sun's public-domain g711.c (16-bit linear in). */
function search(v: number, table: number[]): number {
  for (let i = 0; i < table.length; i++) if (v <= table[i]) return i;
  return table.length;
}
function linearToUlaw(pcm: number): number {
  let v = pcm >> 2;
  let mask = 0xff;
  if (v < 0) {
    v = -v;
    mask = 0x7f;
  }
  v = Math.min(v, 8159) + (0x84 >> 2);
  const seg = search(v, [0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff, 0x1fff]);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((v >> (seg + 1)) & 0xf)) ^ mask;
}
function linearToAlaw(pcm: number): number {
  let v = pcm >> 3;
  let mask = 0xd5;
  if (v < 0) {
    mask = 0x55;
    v = -v - 1;
  }
  const seg = search(v, [0x1f, 0x3f, 0x7f, 0xff, 0x1ff, 0x3ff, 0x7ff, 0xfff]);
  if (seg >= 8) return 0x7f ^ mask;
  return ((seg << 4) | ((seg < 2 ? v >> 1 : v >> seg) & 0xf)) ^ mask;
}

/** A mono or stereo WAV of 8-bit G.711 codes (format tag 7 mu-law, 6 A-law), plain or EXTENSIBLE. */
function g711Wav(codes: Uint8Array, tag: 6 | 7, extensible: boolean, channels = 1): Uint8Array {
  const body = fmtBody({ code: tag, bits: 8, channels, extensible, rate: 8000 });
  return riff([chunk('fmt ', body), chunk('data', codes)]);
}

for (const [law, tag, encode] of [['mu-law', 7, linearToUlaw], ['A-law', 6, linearToAlaw]] as const) {
  test(`${law} (format tag ${tag}, plain and EXTENSIBLE): every code decodes to the G.711 value and encodes back`, () => {
    const codes = Uint8Array.from({ length: 256 }, (_, i) => i);
    for (const extensible of [false, true]) {
      const w = decodeWav(g711Wav(codes, tag, extensible), `${law}.wav`);
      assert.equal([w.sampleRate, w.channels, w.samples.length], [8000, 1, 256]);
      for (let c = 0; c < 256; c++) {
        const linear = w.samples[c] * 32768;
        assert.ok(Number.isInteger(linear), `${law} code ${c}: ${linear} is not a 16-bit value`);
        // mu-law 0x7f is "negative zero": it decodes to 0, which encodes as 0xff.
        const back = law === 'mu-law' && c === 0x7f ? 0xff : c;
        assert.is(encode(linear), back, `${law} code 0x${c.toString(16)} -> ${linear} -> 0x${encode(linear).toString(16)}`);
      }
    }
    // The standard segment boundaries: the value of mantissa 0 in each of the 8 positive segments.
    const starts = law === 'mu-law' ? [0, 132, 396, 924, 1980, 4092, 8316, 16764] : [8, 264, 528, 1056, 2112, 4224, 8448, 16896];
    const positive = (seg: number) => (law === 'mu-law' ? 0xff - (seg << 4) : (0x80 | (seg << 4)) ^ 0x55);
    const w = decodeWav(g711Wav(Uint8Array.from(starts.map((_, s) => positive(s))), tag, false), 'seg.wav');
    assert.equal(Array.from(w.samples, (v) => v * 32768), starts);
    // Full scale: mu-law +-32124, A-law +-32256; and the encoders' view of known linear values.
    const peak = law === 'mu-law' ? 32124 : 32256;
    const ends = decodeWav(g711Wav(Uint8Array.of(encode(32767), encode(-32768)), tag, false), 'peak.wav');
    assert.equal(Array.from(ends.samples, (v) => v * 32768), [peak, -peak]);
    // Stereo is averaged like PCM.
    const st = decodeWav(g711Wav(Uint8Array.of(encode(1000), encode(-3000)), tag, false, 2), 'st.wav');
    assert.is(st.samples.length, 1);
  });
}

test('mu-law of a sine: within the G.711 quantisation step of the source', () => {
  const n = 800;
  const src = Float64Array.from({ length: n }, (_, i) => 0.7 * Math.sin(i * 0.05));
  const codes = Uint8Array.from(src, (v) => linearToUlaw(Math.round(v * 32767)));
  const w = decodeWav(g711Wav(codes, 7, true), 'sine.wav');
  for (let i = 0; i < n; i++) {
    // The step of the top segment is 1024 (of 32768): half of it, plus the 4 the encoder's >> 2 drops.
    assert.ok(Math.abs(w.samples[i] - src[i]) <= 516 / 32768, `sample ${i}: ${w.samples[i]} vs ${src[i]}`);
  }
});

// --- RF64 / BW64 ------------------------------------------------------------------------

function ds64(riffSize: number, dataSize: number, frames: number): Uint8Array {
  const b = new Uint8Array(28);
  const v = new DataView(b.buffer);
  const u64 = (at: number, x: number) => {
    v.setUint32(at, x % 2 ** 32, true);
    v.setUint32(at + 4, Math.floor(x / 2 ** 32), true);
  };
  u64(0, riffSize);
  u64(8, dataSize);
  u64(16, frames);
  return b;
}

function rf64(id: 'RF64' | 'BW64', frames: number, opts: { dsData?: number; dataField?: number; trailing?: boolean } = {}): { bytes: Uint8Array; mono: Float64Array } {
  const { bytes: plain, mono } = makeWav({ code: 1, bits: 16, channels: 2, rate: 48000 }, frames);
  // Re-wrap the plain file's fmt and data in an RF64 container with 0xFFFFFFFF 32-bit sizes.
  const fmt = plain.subarray(12, 12 + 8 + 16);
  const pcm = plain.subarray(12 + 24 + 8, 12 + 24 + 8 + frames * 4);
  const data = chunk('data', pcm, opts.dataField ?? 0xffffffff);
  const tail = opts.trailing ? [chunk('LIST', new Uint8Array(10))] : [];
  const body = concat([chunk('ds64', ds64(0, opts.dsData ?? pcm.length, frames)), fmt, data, ...tail]);
  const head = new Uint8Array(12);
  head.set([...id].map((c) => c.charCodeAt(0)), 0);
  new DataView(head.buffer).setUint32(4, 0xffffffff, true);
  head.set([0x57, 0x41, 0x56, 0x45], 8);
  return { bytes: concat([head, body]), mono };
}

test('RF64 and BW64: the data size comes from ds64 (a trailing chunk is not audio)', () => {
  for (const id of ['RF64', 'BW64'] as const) {
    const s: Spec = { code: 1, bits: 16, channels: 2, rate: 48000 };
    const frames = 1 + rng.int(300);
    const { bytes, mono } = rf64(id, frames, { trailing: true });
    assertDecodes(bytes, mono, s, `${id} with a trailing LIST`);
    // A writer that left ds64's size at 0 (never finalised): the data runs to the end of the file.
    const open = rf64(id, frames, { dsData: 0 });
    assertDecodes(open.bytes, open.mono, s, `${id} unfinalised`);
    // A small RF64 whose data chunk carries its real 32-bit size.
    const small = rf64(id, frames, { dataField: frames * 4, trailing: true });
    assertDecodes(small.bytes, small.mono, s, `${id} with a 32-bit data size`);
    expectWavError(rf64(id, frames, { dsData: 2 ** 40 }).bytes, /truncated: the data chunk declares 1099511627776 bytes/, `${id} lying ds64`);
  }
  const noDs64 = makeWav({ code: 1, bits: 16, channels: 1 }, 10).bytes.slice();
  noDs64.set([0x52, 0x46, 0x36, 0x34], 0); // 'RF64' on a plain RIFF body
  expectWavError(noDs64, /RF64 file without a 'ds64' chunk first/, 'RF64 without ds64');
});

// --- Valid bits below the container ------------------------------------------------------

test("12 and 20 valid bits in 16- and 24-bit containers (plain wBitsPerSample and EXTENSIBLE's wValidBitsPerSample): scaled by the container", () => {
  for (const [valid, container] of [[12, 16], [20, 24], [4, 8], [18, 24], [28, 32]] as const) {
    for (const extensible of [false, true]) {
      const channels = 1 + rng.int(2);
      const frames = 1 + rng.int(200);
      const width = container / 8;
      const data = new Uint8Array(frames * channels * width);
      const v = new DataView(data.buffer);
      const mono = new Float64Array(frames);
      for (let i = 0; i < frames; i++) {
        let sum = 0;
        for (let c = 0; c < channels; c++) {
          const at = (i * channels + c) * width;
          // A left-justified sample: its valid bits at the top of the container, zeros below.
          const n = rng.int(2 ** valid) - 2 ** (valid - 1);
          const stored = n * 2 ** (container - valid);
          if (container === 8) v.setUint8(at, stored + 128);
          else if (container === 16) v.setInt16(at, stored, true);
          else if (container === 32) v.setInt32(at, stored, true);
          else {
            v.setUint8(at, stored & 0xff);
            v.setUint8(at + 1, (stored >> 8) & 0xff);
            v.setInt8(at + 2, stored >> 16);
          }
          sum += n / 2 ** (valid - 1);
        }
        mono[i] = sum / channels;
      }
      const body = fmtBody({ code: 1, bits: container, channels, extensible });
      const fv = new DataView(body.buffer);
      if (extensible) fv.setUint16(18, valid, true);
      else fv.setUint16(14, valid, true); // wBitsPerSample 12 with blockAlign 2 per channel
      const bytes = riff([chunk('fmt ', body), chunk('data', data)]);
      assertDecodes(bytes, mono, { code: 1, bits: container, channels }, `${valid} bits in ${container}${extensible ? ' (EXTENSIBLE)' : ''}`);
    }
  }
});

test('readWav: a missing file is a WavError naming it', () => {
  assert.throws(() => readWav('/no/such/dir/x.wav'), (e: Error) => e instanceof WavError && /\/no\/such\/dir\/x\.wav: cannot read \(no such file\)/.test(e.message));
});

test('real RAVDESS originals: FLLR chunk, stereo, 48 kHz', () => {
  const dir = join(DATA, 'ravdess-48k-samples');
  if (!existsSync(dir)) return console.log(`  skipped: ${dir} not found (set SER_DATA)`);
  const files = readdirSync(dir).filter((f) => f.endsWith('.wav'));
  assert.is(files.length, 4);
  for (const f of files) {
    const path = join(dir, f);
    const raw = readFileSync(path);
    assert.ok(raw.indexOf('FLLR') > 0 && raw.indexOf('FLLR') < raw.indexOf('data'), `${f}: FLLR before data`);
    const w = readWav(path);
    const stereo = f === '03-01-02-01-01-02-01.wav' || f === '03-01-03-01-02-01-20.wav';
    assert.is(w.channels, stereo ? 2 : 1, `${f}: channels`);
    assert.is(w.sampleRate, 48000, `${f}: rate`);
    // Independent read of the data chunk: its declared size, 16-bit frames, average of the channels.
    const at = raw.indexOf('data') + 8;
    const size = raw.readUInt32LE(at - 4);
    assert.is(w.samples.length, size / (2 * w.channels), `${f}: frames`);
    for (let i = 0; i < w.samples.length; i += 997) {
      let sum = 0;
      for (let c = 0; c < w.channels; c++) sum += raw.readInt16LE(at + 2 * (i * w.channels + c)) / 32768;
      assert.ok(Math.abs(w.samples[i] - sum / w.channels) < 1e-7, `${f}: sample ${i}`);
    }
    const peak = w.samples.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    assert.ok(peak > 0.01 && peak <= 1, `${f}: peak ${peak}`);
  }
});

test('real EmoDB / RAVDESS 16 kHz files decode as mono PCM16', () => {
  const emodb = join(DATA, 'emodb/wav');
  if (!existsSync(emodb)) return console.log(`  skipped: ${emodb} not found (set SER_DATA)`);
  for (const f of readdirSync(emodb).slice(0, 20)) {
    const w = readWav(join(emodb, f));
    assert.equal([w.channels, w.sampleRate, w.samples.length], [1, 22050, 44100], f);
  }
  const rav = join(DATA, 'ravdess4-16k/Actor_02');
  for (const f of readdirSync(rav).slice(0, 5)) {
    const w = readWav(join(rav, f));
    assert.equal([w.channels, w.sampleRate], [1, 16000], f);
  }
});

test.run();
