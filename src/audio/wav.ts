// WAV decoding: walks the RIFF chunks (fmt, data, and anything else such as LIST or
// FLLR, padded to even sizes), decodes PCM 8/16/24/32-bit, float 32/64 and
// WAVE_FORMAT_EXTENSIBLE, and downmixes to mono by averaging the channels.
// Every size in the header is checked against the bytes actually present before
// anything is allocated, so a lying or truncated file gives a WavError, not a hang.
import { readFileSync } from 'node:fs';

export class WavError extends Error {
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
const FORMAT_EXTENSIBLE = 0xfffe;
// The 14 bytes after the format code in a KSDATAFORMAT_SUBTYPE_* GUID (…-0000-0010-8000-00aa00389b71).
const GUID_TAIL = [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xaa, 0x00, 0x38, 0x9b, 0x71];
const MAX_CHANNELS = 1024;
const MAX_RATE = 10_000_000;

interface Format {
  code: number;
  channels: number;
  sampleRate: number;
  blockAlign: number;
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
  if (riff === 'RF64' || riff === 'RIFX') fail(`${riff} files are not supported (only little-endian RIFF WAVE)`);
  if (riff !== 'RIFF' || tag(bytes, 8) !== 'WAVE') fail(`not a WAV file (starts with ${printable(riff)}, expected 'RIFF' ... 'WAVE')`);

  // Walk the chunks. The RIFF size field is often wrong, so the file length bounds the walk.
  let fmt: Format | null = null;
  let data: { start: number; size: number } | null = null;
  let at = 12;
  while (at + 8 <= bytes.length) {
    const id = tag(bytes, at);
    const declared = view.getUint32(at + 4, true);
    const start = at + 8;
    const available = bytes.length - start;
    if (id === 'data') {
      if (data) fail("two 'data' chunks");
      // 0xFFFFFFFF is the placeholder streaming writers leave: the data runs to the end.
      const size = declared === 0xffffffff ? available : declared;
      if (size > available) fail(`truncated: the data chunk declares ${declared} bytes but only ${available} are in the file`);
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
    at = start + declared + (declared & 1); // chunks are padded to an even size
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
  if (code === FORMAT_EXTENSIBLE) {
    if (size < 40) fail(`WAVE_FORMAT_EXTENSIBLE fmt chunk of ${size} bytes is too short (40)`);
    const guid = start + 24;
    code = view.getUint16(guid, true);
    for (let i = 0; i < GUID_TAIL.length; i++) {
      if (bytes[guid + 2 + i] !== GUID_TAIL[i]) fail('WAVE_FORMAT_EXTENSIBLE with an unknown subformat GUID');
    }
  }
  if (channels === 0) fail('zero channels');
  if (channels > MAX_CHANNELS) fail(`${channels} channels is not plausible (at most ${MAX_CHANNELS})`);
  if (sampleRate === 0 || sampleRate > MAX_RATE) fail(`sample rate ${sampleRate} Hz is not plausible`);
  if (code === FORMAT_PCM) {
    if (![8, 16, 24, 32].includes(bits)) fail(`unsupported PCM sample size ${bits} bits (8, 16, 24 or 32)`);
  } else if (code === FORMAT_FLOAT) {
    if (bits !== 32 && bits !== 64) fail(`unsupported float sample size ${bits} bits (32 or 64)`);
  } else {
    fail(`unsupported codec: format tag 0x${code.toString(16).padStart(4, '0')} (only PCM and IEEE float)`);
  }
  const expected = channels * (bits / 8);
  if (blockAlign !== expected) fail(`block align ${blockAlign} does not match ${channels} channels of ${bits} bits (${expected})`);
  return { code, channels, sampleRate, blockAlign, bits };
}

function sampleReader(view: DataView, code: number, bits: number): (at: number) => number {
  if (code === FORMAT_FLOAT) return bits === 32 ? (p) => view.getFloat32(p, true) : (p) => view.getFloat64(p, true);
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
