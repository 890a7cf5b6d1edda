// Audio files of every kind people hold, told apart by their first bytes (never by the
// file name's extension) and decoded to one mono signal: WAV (wav.ts, our own: RIFF is a
// container of PCM); FLAC, MP3, Ogg Vorbis and Ogg Opus through the WebAssembly decoders of
// the audiojs project (@audio/decode-*: libFLAC, mpg123, libvorbis, libopus); WebM with
// Opus, what browsers' MediaRecorder writes, by webm.ts's container walk and libopus
// (opus-decoder). The packages are MIT-licensed (codec-parser, their Ogg/FLAC framing, is
// LGPL-3.0); @audio/decode-webm was not used because it pulls GPL decoders (AAC, AC-3, DTS) in. The codec modules are loaded on first use, so reading WAV
// files costs nothing extra.
import { readFileSync } from 'node:fs';
import { AudioError } from './errors.js';
import { MAX_CHANNELS, rateProblem } from './limits.js';
import { decodeWav } from './wav.js';
import { decodeWebmOpus } from './webm.js';

export { AudioError };

export type AudioFormat = 'wav' | 'flac' | 'mp3' | 'ogg-vorbis' | 'ogg-opus' | 'webm';

/** How each format is named in messages. */
export const FORMAT_NAMES: Record<AudioFormat, string> = {
  wav: 'WAV',
  flac: 'FLAC',
  mp3: 'MP3',
  'ogg-vorbis': 'Ogg Vorbis',
  'ogg-opus': 'Ogg Opus',
  webm: 'WebM',
};
const SUPPORTED = 'WAV, FLAC, MP3, Ogg Vorbis, Ogg Opus and WebM/Opus are supported';

export interface DecodedAudio {
  format: AudioFormat;
  sampleRate: number;
  /** Channels in the file. */
  channels: number;
  /** Mono: the average of all channels, nominally in [-1, 1]. */
  samples: Float32Array;
}

function ascii(bytes: Uint8Array, at: number, n: number): string {
  let s = '';
  for (let i = 0; i < n && at + i < bytes.length; i++) s += String.fromCharCode(bytes[at + i]);
  return s;
}

/** The first bytes of a file, as text if printable, else in hex: what an error shows. */
function describe(bytes: Uint8Array): string {
  const head = ascii(bytes, 0, 4);
  if (/^[\x20-\x7e]{4}$/.test(head)) return `'${head}'`;
  return Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ');
}

/** The length of an ID3v2 tag at the start of `bytes` (10-byte header, syncsafe size, optional footer), or 0. */
function id3Length(bytes: Uint8Array): number {
  if (bytes.length < 10 || ascii(bytes, 0, 3) !== 'ID3') return 0;
  const size = ((bytes[6] & 0x7f) << 21) | ((bytes[7] & 0x7f) << 14) | ((bytes[8] & 0x7f) << 7) | (bytes[9] & 0x7f);
  return 10 + size + (bytes[5] & 0x10 ? 10 : 0);
}

/**
 * The format of a file from its content (magic bytes), or why it is not one we decode:
 * RIFF/RF64/BW64 ... WAVE; fLaC; OggS whose first packet is OpusHead or \x01vorbis; the
 * EBML header 1A 45 DF A3 (WebM); an MPEG audio frame sync (FF Ex/Fx, layer I-III), after
 * an ID3v2 tag if any. Container formats we do not read (AIFF, MP4/M4A, AAC) are named.
 */
export function sniffFormat(bytes: Uint8Array): AudioFormat | { problem: string } {
  if (bytes.length === 0) return { problem: 'empty file' };
  const magic = ascii(bytes, 0, 4);
  if (['RIFF', 'RF64', 'BW64', 'RIFX'].includes(magic)) return 'wav';
  if (magic === 'fLaC') return 'flac';
  if (magic === 'OggS') {
    // The first page's first packet names the codec: 27-byte page header, then the segment table.
    const packet = 27 + (bytes[26] ?? 0);
    if (ascii(bytes, packet, 8) === 'OpusHead') return 'ogg-opus';
    if (ascii(bytes, packet, 7) === '\x01vorbis') return 'ogg-vorbis';
    const codec = ascii(bytes, packet, 8).replace(/[^\x20-\x7e]/g, '').trim();
    return { problem: `unsupported Ogg codec${codec ? ` '${codec}'` : ''} (Ogg Vorbis and Ogg Opus are supported)` };
  }
  if (bytes.length >= 4 && bytes[0] === 0x1a && bytes[1] === 0x45 && bytes[2] === 0xdf && bytes[3] === 0xa3) return 'webm';
  if (ascii(bytes, 0, 4) === 'FORM' && /^AIF[FC]$/.test(ascii(bytes, 8, 4))) return { problem: `AIFF is not supported (${SUPPORTED})` };
  if (ascii(bytes, 4, 4) === 'ftyp') return { problem: `MP4/M4A is not supported (${SUPPORTED})` };
  const skip = id3Length(bytes);
  if (skip > 0) {
    if (skip >= bytes.length) return { problem: 'an ID3 tag and no audio after it' };
    if (ascii(bytes, skip, 4) === 'fLaC') return 'flac';
  }
  const b0 = bytes[skip];
  const b1 = bytes[skip + 1] ?? 0;
  if (b0 === 0xff && (b1 & 0xe0) === 0xe0) {
    const layer = (b1 >> 1) & 3; // 0 is reserved in MPEG audio, and marks AAC in ADTS
    if (layer === 0) return { problem: `AAC (ADTS) is not supported (${SUPPORTED})` };
    if (((b1 >> 3) & 3) !== 1) return 'mp3'; // version bits 01 are reserved
  }
  return { problem: `unknown audio format (starts with ${describe(bytes)}; ${SUPPORTED})` };
}

type Decoded = { channelData: Float32Array[]; sampleRate: number };
type Decoder = (bytes: Uint8Array) => Promise<Decoded>;

// Imported on first use: each module compiles a WebAssembly codec.
const CODECS: Record<Exclude<AudioFormat, 'wav'>, () => Promise<Decoder>> = {
  flac: async () => (await import('@audio/decode-flac')).default,
  mp3: async () => (await import('@audio/decode-mp3')).default,
  'ogg-vorbis': async () => (await import('@audio/decode-vorbis')).default,
  'ogg-opus': async () => (await import('@audio/decode-opus')).default,
  webm: async () => decodeWebmOpus,
};

/**
 * Decodes a whole audio file held in memory, whatever its format (sniffFormat), to mono.
 * `name` is the file's name for messages. Throws AudioError, one line starting with
 * `name`, for an unknown or broken file, one outside the limits (limits.ts: 1000..768000
 * Hz, 1..1024 channels), one with no samples or with non-finite samples.
 */
export async function decodeAudio(bytes: Uint8Array, name: string): Promise<DecodedAudio> {
  const format = sniffFormat(bytes);
  if (typeof format !== 'string') throw new AudioError(`${name}: ${format.problem}`);
  if (format === 'wav') return { format, ...decodeWav(bytes, name) };
  const label = FORMAT_NAMES[format];
  let out: Decoded;
  try {
    out = await (await CODECS[format]())(bytes);
  } catch (e) {
    const why = String((e as Error)?.message ?? e).split('\n')[0].trim() || 'decoder failed';
    throw new AudioError(`${name}: cannot decode as ${label} (${why})`);
  }
  const fail = (problem: string): never => {
    throw new AudioError(`${name}: ${label}: ${problem}`);
  };
  const channels = out?.channelData?.length ?? 0;
  const frames = channels > 0 ? Math.min(...out.channelData.map((c) => c.length)) : 0;
  if (channels === 0 || frames === 0) fail('no audio decoded (empty or broken stream)');
  if (channels > MAX_CHANNELS) fail(`${channels} channels is not plausible (at most ${MAX_CHANNELS})`);
  const badRate = rateProblem(out.sampleRate);
  if (badRate) fail(badRate);
  const samples = new Float32Array(frames);
  for (const channel of out.channelData) for (let i = 0; i < frames; i++) samples[i] += channel[i] / channels;
  for (let i = 0; i < frames; i++) if (!Number.isFinite(samples[i])) fail(`decoded sample ${i} is not a finite number`);
  return { format, sampleRate: out.sampleRate, channels, samples };
}

/** Reads and decodes an audio file (Node); any failure, a missing file included, is an AudioError naming it. */
export async function readAudio(path: string): Promise<DecodedAudio> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'ERR_FS_FILE_TOO_LARGE' ? 'larger than 2 GiB' : err.message;
    throw new AudioError(`${path}: cannot read (${why})`);
  }
  return decodeAudio(bytes, path);
}
