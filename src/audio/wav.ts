// WAV decoding: walks the RIFF chunks (fmt, data, and anything else such as LIST or
// FLLR, padded to even sizes), decodes PCM of 1 to 32 bits, float 32/64, G.711 mu-law and
// A-law, WAVE_FORMAT_EXTENSIBLE, and RF64/BW64 (64-bit sizes in a 'ds64' chunk), and
// downmixes to mono by averaging the channels.
// Every size in the header is checked against the bytes actually present before
// anything is allocated, so a lying or truncated file gives a WavError, not a hang.
import { readFileSync } from 'node:fs';
import { AudioError } from './errors.js';
import { MAX_CHANNELS, rateProblem } from './limits.js';

export class WavError extends AudioError {
  override name = 'WavError';
}

export interface DecodedWav {
  sampleRate: number;
  channels: number;
  /** Mono: the average of all channels, in [-1, 1] for integer formats. */
  samples: Float32Array;
}

const FORMAT_PCM = 1;
const FORMAT_FLOAT = 3;
const FORMAT_ALAW = 6;
const FORMAT_MULAW = 7;
const FORMAT_EXTENSIBLE = 0xfffe;
// The 14 bytes after the format code in a KSDATAFORMAT_SUBTYPE_* GUID (…-0000-0010-8000-00aa00389b71).
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const UNKNOWN_SIZE = 0xffffffff;

/**
 * G.711 (ITU-T, 1988) expansion of the 256 codes to 16-bit linear values, divided by 32768
 * as libsndfile and FFmpeg scale them: mu-law reaches +-32124/32768, A-law +-32256/32768.
 * mu-law: the code is stored inverted; magnitude = ((mantissa << 3) + 132) << exponent, minus 132.
 * A-law: even bits are inverted (xor 0x55); magnitude = (mantissa << 4) + 8 for segment 0,
 * else ((mantissa << 4) + 264) << (segment - 1); a set sign bit means positive.
 */
function g711Table(law: 'mu' | 'a'): Float32Array {
  const t = new Float32Array(256);
  for (let code = 0; code < 256; code++) {
    let v: number;
    if (law === 'mu') {
      const u = ~code & 0xff;
      const magnitude = ((((u & 0x0f) << 3) + 0x84) << ((u >> 4) & 7)) - 0x84;
      v = u & 0x80 ? -magnitude : magnitude;
    } else {
      const a = code ^ 0x55;
      const segment = (a >> 4) & 7;
      const magnitude = segment === 0 ? ((a & 0x0f) << 4) + 8 : (((a & 0x0f) << 4) + 0x108) << (segment - 1);
      v = a & 0x80 ? magnitude : -magnitude;
    }
    t[code] = v / 32768;
  }
  return t;
}
const MULAW = g711Table('mu');
const ALAW = g711Table('a');

interface Format {
  code: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
  /** Bits of the container each sample is stored in: 8, 16, 24, 32 or 64. */
  bits: number;
}

function tag(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at], bytes[at + 1], bytes[at + 2], bytes[at + 3]);
}

function printable(id: string): string {
  return /^[\x20-\x7e]{4}$/.test(id) ? `'${id}'` : 'binary data';
}

export function decodeWav(bytes: Uint8Array, name: string): DecodedWav {
  const fail = (problem: string): never => {
    throw new WavError(`${name}: ${problem}`);
  };
  if (bytes.length === 0) fail('empty file');
  if (bytes.length < 12) fail(`truncated: ${bytes.length} bytes, too short for a RIFF/WAVE header`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const riff = tag(bytes, 0);
  if (riff === 'RIFX') fail('RIFX (big-endian) WAV files are not supported');
  const rf64 = riff === 'RF64' || riff === 'BW64';
  if ((riff !== 'RIFF' && !rf64) || tag(bytes, 8) !== 'WAVE') fail(`not a WAV file (starts with ${printable(riff)}, expected 'RIFF' ... 'WAVE')`);

  // RF64 (EBU Tech 3306) and BW64 (ITU-R BS.2088): a 'ds64' chunk first holds the 64-bit
  // sizes; a 32-bit size field of 0xFFFFFFFF means "see ds64".
  let dataSize64 = -1;
  let at = 12;
  if (rf64) {
    if (bytes.length < 20 || tag(bytes, 12) !== 'ds64') fail(`${riff} file without a 'ds64' chunk first`);
    const size = view.getUint32(16, true);
    if (size < 24 || size > bytes.length - 20) fail(`${riff} 'ds64' chunk of ${size} bytes is too short or truncated (at least 24)`);
    dataSize64 = view.getUint32(28, true) + view.getUint32(32, true) * 2 ** 32;
    at = 20 + size + (size & 1);
  }

  // Walk the chunks. The RIFF size field is often wrong, so the file length bounds the walk.
  let fmt: Format | null = null;
  let data: { start: number; size: number } | null = null;
  while (at + 8 <= bytes.length) {
    const id = tag(bytes, at);
    const declared = view.getUint32(at + 4, true);
    const start = at + 8;
    const available = bytes.length - start;
    if (id === 'data') {
      if (data) fail("two 'data' chunks");
      // 0xFFFFFFFF is the placeholder streaming writers leave: the data runs to the end
      // (in RF64, the size is in ds64; 0 there is a writer that never finalised the file).
      let size = declared;
      if (declared === UNKNOWN_SIZE) size = dataSize64 > 0 ? dataSize64 : available;
      if (size > available) fail(`truncated: the data chunk declares ${size} bytes but only ${available} are in the file`);
      data = { start, size };
    } else if (id === 'fmt ') {
      if (fmt) fail("two 'fmt ' chunks");
      if (declared > available) fail(`truncated: the fmt chunk declares ${declared} bytes but only ${available} are in the file`);
      fmt = parseFormat(view, bytes, start, declared, fail);
    } else if (declared > available) {
      // An unknown chunk running past the end: nothing after it can be trusted.
      if (fmt && data) break;
      fail(`truncated: chunk ${printable(id)} declares ${declared} bytes but only ${available} are in the file`);
    }
    if (id === 'data' && declared === UNKNOWN_SIZE) at = start + data!.size + (data!.size % 2);
    else at = start + declared + (declared & 1); // chunks are padded to an even size
    if (fmt && data && at >= bytes.length) break;
  }
  if (!fmt) fail("no 'fmt ' chunk");
  if (!data) fail("no 'data' chunk");
  const f = fmt!;
  const d = data!;

  const frames = Math.floor(d.size / f.blockAlign);
  if (frames === 0) fail(`no audio: the data chunk holds ${d.size} bytes, less than one ${f.blockAlign}-byte frame`);
  const samples = new Float32Array(frames);
  const bytesPerSample = f.blockAlign / f.channels;
  const read = sampleReader(view, f.code, f.bits);
  const scale = 1 / f.channels;
  for (let i = 0; i < frames; i++) {
    let sum = 0;
    let p = d.start + i * f.blockAlign;
    for (let c = 0; c < f.channels; c++, p += bytesPerSample) sum += read(p);
    samples[i] = sum * scale;
  }
  if (f.code === FORMAT_FLOAT) {
    // A float file's NaN or Inf would poison every feature computed from it.
    for (let i = 0; i < frames; i++) if (!Number.isFinite(samples[i])) fail(`float sample ${i} is not a finite number`);
  }
  return { sampleRate: f.sampleRate, channels: f.channels, samples };
}

function parseFormat(view: DataView, bytes: Uint8Array, start: number, size: number, fail: (p: string) => never): Format {
  if (size < 16) fail(`fmt chunk of ${size} bytes is too short (at least 16)`);
  let code = view.getUint16(start, true);
  const channels = view.getUint16(start + 2, true);
  const sampleRate = view.getUint32(start + 4, true);
  const blockAlign = view.getUint16(start + 12, true);
  const bits = view.getUint16(start + 14, true);
  // Integer PCM may declare fewer valid bits than its container holds: wBitsPerSample 12 or
  // 20 with a 2- or 3-byte container (blockAlign / channels), or wValidBitsPerSample < the
  // container in WAVE_FORMAT_EXTENSIBLE. The samples are left-justified in the container,
  // so they are read and scaled as container-sized integers: what libsndfile (bytewidth =
  // ceil(bits / 8)) and scipy.io.wavfile (the container's dtype, "left-justified") return.
  let container = Math.ceil(bits / 8) * 8;
  let valid = bits;
  if (code === FORMAT_EXTENSIBLE) {
    if (size < 40) fail(`WAVE_FORMAT_EXTENSIBLE fmt chunk of ${size} bytes is too short (40)`);
    const guid = start + 24;
    code = view.getUint16(guid, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (bytes[guid + 2 + i] !== GUID_TAIL[i]) fail('WAVE_FORMAT_EXTENSIBLE with an unknown subformat GUID');
    }
    container = bits;
    valid = view.getUint16(start + 18, true) || bits; // 0: all bits valid
    if (valid > container) fail(`${valid} valid bits do not fit a ${container}-bit container`);
  }
  if (channels === 0) fail('zero channels');
  if (channels > MAX_CHANNELS) fail(`${channels} channels is not plausible (at most ${MAX_CHANNELS})`);
  const badRate = rateProblem(sampleRate);
  if (badRate) fail(badRate);
  if (code === FORMAT_PCM) {
    if (valid < 1 || ![8, 16, 24, 32].includes(container)) fail(`unsupported PCM sample size ${bits} bits (1 to 32 bits in an 8, 16, 24 or 32-bit container)`);
  } else if (code === FORMAT_FLOAT) {
    if (bits !== 32 && bits !== 64) fail(`unsupported float sample size ${bits} bits (32 or 64)`);
  } else if (code === FORMAT_MULAW || code === FORMAT_ALAW) {
    if (bits !== 8) fail(`unsupported ${code === FORMAT_MULAW ? 'mu-law' : 'A-law'} sample size ${bits} bits (8)`);
  } else {
    fail(`unsupported codec: format tag 0x${code.toString(16).padStart(4, '0')} (PCM, IEEE float, mu-law and A-law are supported)`);
  }
  const expected = channels * (container / 8);
  if (blockAlign !== expected) fail(`block align ${blockAlign} does not match ${channels} channels of ${container}-bit samples (${expected})`);
  return { code, channels, sampleRate, blockAlign, bits: container };
}

function sampleReader(view: DataView, code: number, bits: number): (at: number) => number {
  if (code === FORMAT_FLOAT) return bits === 32 ? (p) => view.getFloat32(p, true) : (p) => view.getFloat64(p, true);
  if (code === FORMAT_MULAW) return (p) => MULAW[view.getUint8(p)];
  if (code === FORMAT_ALAW) return (p) => ALAW[view.getUint8(p)];
  switch (bits) {
    case 8:
      return (p) => (view.getUint8(p) - 128) / 128; // 8-bit PCM is unsigned
    case 16:
      return (p) => view.getInt16(p, true) / 32768;
    case 24:
      return (p) => ((view.getUint8(p) | (view.getUint8(p + 1) << 8) | (view.getInt8(p + 2) << 16)) / 8388608);
    default:
      return (p) => view.getInt32(p, true) / 2147483648;
  }
}

/** Reads and decodes a WAV file; any failure (missing file included) is a WavError naming the file. */
export function readWav(path: string): DecodedWav {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.message;
    throw new WavError(`${path}: cannot read (${why})`);
  }
  return decodeWav(bytes, path);
}
