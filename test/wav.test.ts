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
  expectWavError(withFmt((v) => v.setUint16(14, 12, true)), /sample size 12 bits/, '12-bit');
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
