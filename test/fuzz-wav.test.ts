// Fuzzing the path `ser features` takes for a file: decodeAudio -> resample to 16 kHz (->
// the float64 reference front end on some). 400 WAV files, mutated from valid ones of every
// supported kind with a fixed seed: header fields set to edge values (rates 0/1/7/huge,
// channels 0/huge, bits 0/7/13/64, format tags, block align), size fields set to 0 / huge /
// 0xFFFFFFFF, chunks reordered, duplicated, dropped or added, bytes flipped, files cut.
// Each must end in audio of the right shape with finite values, or in an AudioError whose
// message is one line starting with the file's name; never another exception, a hang or
// unbounded memory (the whole run is timed, and the resident set is watched).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { AudioError, decodeAudio } from '../src/audio/decode.js';
import { RATE_RANGE } from '../src/audio/limits.js';
import { resample, resampledLength } from '../src/audio/resample.js';
import { referenceLogMel } from '../src/audio/reference.js';
import { Random } from '../src/util/random.js';

const SEED = 20261129;
const CASES = 400;
const rng = new Random(SEED);

interface Chunk {
  id: string;
  body: Uint8Array;
  /** The size field written, when it should lie. */
  declared?: number;
}
interface Wav {
  riff: string;
  chunks: Chunk[];
}

const pick = <T>(xs: readonly T[]): T => xs[rng.int(xs.length)];

function fmtChunk(tag: number, channels: number, rate: number, bits: number, extensible: boolean, valid = bits): Chunk {
  const body = new Uint8Array(extensible ? 40 : 16);
  const v = new DataView(body.buffer);
  v.setUint16(0, extensible ? 0xfffe : tag, true);
  v.setUint16(2, channels, true);
  v.setUint32(4, rate, true);
  v.setUint32(8, rate * channels * Math.ceil(bits / 8), true);
  v.setUint16(12, channels * Math.ceil(bits / 8), true);
  v.setUint16(14, extensible ? Math.ceil(bits / 8) * 8 : bits, true);
  if (extensible) {
    v.setUint16(16, 22, true);
    v.setUint16(18, valid, true);
    v.setUint16(24, tag, true);
    body.set([0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71], 26);
  }
  return { id: 'fmt ', body };
}

/** A valid file of a random supported kind: PCM 8-32 bits (some with fewer valid bits), float, G.711, plain or EXTENSIBLE, RIFF or RF64. */
function validWav(): Wav {
  const kind = pick(['pcm8', 'pcm16', 'pcm24', 'pcm32', 'pcm12', 'pcm20', 'float32', 'float64', 'mulaw', 'alaw'] as const);
  const tag = kind.startsWith('float') ? 3 : kind === 'mulaw' ? 7 : kind === 'alaw' ? 6 : 1;
  const bits = { pcm8: 8, pcm16: 16, pcm24: 24, pcm32: 32, pcm12: 12, pcm20: 20, float32: 32, float64: 64, mulaw: 8, alaw: 8 }[kind];
  const channels = 1 + rng.int(3);
  const rate = pick([8000, 11025, 16000, 22050, 44100, 48000, 11127]);
  const frames = 50 + rng.int(1500);
  const width = Math.ceil(bits / 8);
  const data = new Uint8Array(frames * channels * width);
  const v = new DataView(data.buffer);
  for (let i = 0; i < frames * channels; i++) {
    const x = Math.sin(i * 0.07) * 0.8;
    if (kind === 'float32') v.setFloat32(i * 4, x, true);
    else if (kind === 'float64') v.setFloat64(i * 8, x, true);
    else for (let b = 0; b < width; b++) data[i * width + b] = rng.int(256);
  }
  const chunks: Chunk[] = [fmtChunk(tag, channels, rate, bits, rng.next() < 0.3), { id: 'data', body: data }];
  if (rng.next() < 0.3) chunks.splice(1, 0, { id: 'LIST', body: Uint8Array.from({ length: rng.int(40) }, () => rng.int(256)) });
  const rf64 = rng.next() < 0.15;
  if (rf64) {
    const ds = new Uint8Array(28);
    new DataView(ds.buffer).setUint32(8, data.length, true);
    chunks.unshift({ id: 'ds64', body: ds });
    chunks[chunks.length - 1].declared = 0xffffffff;
  }
  return { riff: rf64 ? pick(['RF64', 'BW64']) : 'RIFF', chunks };
}

function serialise(w: Wav): Uint8Array {
  const size = w.chunks.reduce((n, c) => n + 8 + c.body.length + (c.body.length & 1), 4);
  const out = new Uint8Array(8 + size);
  const v = new DataView(out.buffer);
  const text = (at: number, s: string) => [...s].forEach((ch, i) => (out[at + i] = ch.charCodeAt(0)));
  text(0, w.riff);
  v.setUint32(4, w.riff === 'RIFF' ? size : 0xffffffff, true);
  text(8, 'WAVE');
  let at = 12;
  for (const c of w.chunks) {
    text(at, c.id);
    v.setUint32(at + 4, c.declared ?? c.body.length, true);
    out.set(c.body, at + 8);
    at += 8 + c.body.length + (c.body.length & 1);
  }
  return out;
}

const SIZES = [0, 1, 3, 0x7fffffff, 0xfffffffe, 0xffffffff, 1 << 30];
const RATES = [0, 1, 7, 999, 1000, 7999, 768000, 768001, 9_999_996, 0xffffffff];
const CHANNELS = [0, 1, 2, 7, 255, 1024, 1025, 65535];
const BITS = [0, 1, 4, 7, 8, 12, 13, 16, 20, 24, 31, 32, 33, 64, 65535];
const TAGS = [0, 1, 2, 3, 6, 7, 0x11, 0x55, 0xfffe, 0xffff];

/** One structural or byte-level damage, chosen at random; returns the bytes and what was done. */
function mutate(w: Wav): { bytes: Uint8Array; what: string } {
  const fmt = w.chunks.find((c) => c.id === 'fmt ');
  const fv = fmt ? new DataView(fmt.body.buffer) : null;
  const did: string[] = [];
  for (let k = 0, n = rng.int(4); k < n; k++) {
    const op = rng.int(10);
    if (op === 0 && fv) fv.setUint32(4, pick(RATES), true), did.push('rate');
    else if (op === 1 && fv) fv.setUint16(2, pick(CHANNELS), true), did.push('channels');
    else if (op === 2 && fv) fv.setUint16(14, pick(BITS), true), did.push('bits');
    else if (op === 3 && fv) fv.setUint16(rng.next() < 0.5 || fmt!.body.length < 40 ? 0 : 24, pick(TAGS), true), did.push('tag');
    else if (op === 4 && fv) fv.setUint16(12, pick([0, 1, 2, 3, 4, 6, 65535]), true), did.push('block align');
    else if (op === 5) pick(w.chunks).declared = pick(SIZES), did.push('chunk size');
    else if (op === 6) w.riff = pick(['RIFF', 'RF64', 'BW64', 'RIFX', 'JUNK']), did.push('riff id');
    else if (op === 7) rng.shuffle(w.chunks), did.push('chunk order');
    else if (op === 8) {
      const i = rng.int(w.chunks.length);
      if (rng.next() < 0.5) w.chunks.splice(i, 1), did.push('chunk dropped');
      else w.chunks.splice(i, 0, { ...w.chunks[i] }), did.push('chunk duplicated');
    } else if (op === 9 && fmt && fmt.body.length === 40) new DataView(fmt.body.buffer).setUint16(18, pick(BITS), true), did.push('valid bits');
  }
  let bytes = serialise(w);
  if (rng.next() < 0.25) {
    // Byte flips, mostly in the header where they matter.
    for (let k = 0, n = 1 + rng.int(6); k < n; k++) bytes[rng.int(Math.min(bytes.length, rng.next() < 0.8 ? 100 : bytes.length))] = rng.int(256);
    did.push('bytes');
  }
  if (rng.next() < 0.2) bytes = bytes.slice(0, rng.int(bytes.length + 1)), did.push('cut');
  return { bytes, what: did.join(', ') || 'none' };
}

test(`fuzz: ${CASES} mutated WAV files (seed ${SEED}) each give audio or one line naming the file, in bounded time and memory`, async () => {
  const start = performance.now();
  const rss0 = process.memoryUsage().rss;
  let peakRss = rss0;
  const counts = { decoded: 0, refused: 0, frontEnd: 0 };
  const reasons = new Map<string, number>();
  for (let i = 0; i < CASES; i++) {
    const name = `fuzz/case-${i}.wav`;
    const { bytes, what } = mutate(validWav());
    const t0 = performance.now();
    try {
      const audio = await decodeAudio(bytes, name);
      assert.ok(audio.samples instanceof Float32Array && audio.samples.length > 0, `case ${i} (${what}): no samples`);
      assert.ok(audio.channels >= 1 && audio.channels <= 1024, `case ${i} (${what}): ${audio.channels} channels`);
      assert.ok(Number.isInteger(audio.sampleRate) && audio.sampleRate >= RATE_RANGE.min && audio.sampleRate <= RATE_RANGE.max, `case ${i} (${what}): rate ${audio.sampleRate}`);
      const x = resample(audio.samples, audio.sampleRate, 16000);
      assert.is(x.length, resampledLength(audio.samples.length, audio.sampleRate, 16000), `case ${i} (${what}): resampled length`);
      for (let j = 0; j < x.length; j++) if (!Number.isFinite(x[j])) assert.unreachable(`case ${i} (${what}): sample ${j} is ${x[j]}`);
      if (counts.decoded % 10 === 0) {
        // The float64 reference front end (the features' definition) on some of them.
        const f = referenceLogMel(x, { fit: 'resize' });
        assert.is(f.length, 373 * 64, `case ${i}: features`);
        assert.ok(f.every(Number.isFinite), `case ${i} (${what}): features not finite`);
        counts.frontEnd++;
      }
      counts.decoded++;
    } catch (e) {
      if (!(e instanceof AudioError)) throw new Error(`case ${i} (${what}): not an AudioError: ${(e as Error)?.stack ?? e}`);
      const msg = e.message;
      assert.ok(msg.startsWith(`${name}: `) && !/[\n\r]/.test(msg) && msg.length < 300, `case ${i} (${what}): ${JSON.stringify(msg)}`);
      const reason = msg.slice(name.length + 2).replace(/\d+/g, 'N');
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
      counts.refused++;
    }
    const ms = performance.now() - t0;
    assert.ok(ms < 5000, `case ${i} (${what}): ${ms.toFixed(0)} ms`);
    peakRss = Math.max(peakRss, process.memoryUsage().rss);
  }
  const seconds = (performance.now() - start) / 1000;
  const growth = (peakRss - rss0) / 2 ** 20;
  if (process.env.FUZZ_VERBOSE) for (const [r, n] of [...reasons].sort((a, b) => b[1] - a[1])) console.log(`  ${n} x ${r}`);
  console.log(`  ${counts.decoded} decoded (${counts.frontEnd} through the front end), ${counts.refused} refused in ${reasons.size} kinds of message; ${seconds.toFixed(1)} s; resident set +${growth.toFixed(0)} MB at most`);
  assert.ok(counts.decoded >= CASES / 10 && counts.refused >= CASES / 10, `both outcomes exercised: ${JSON.stringify(counts)}`);
  assert.ok(seconds < 60, `${seconds.toFixed(1)} s for ${CASES} cases`);
  assert.ok(growth < 300, `resident set grew by ${growth.toFixed(0)} MB`);
});

test.run();
