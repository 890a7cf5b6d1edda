// WebM (Matroska) demuxing for an Opus audio track: what browsers' MediaRecorder writes.
// Only the container walk is ours (like wav.ts's RIFF walk); the Opus packets are decoded
// by libopus (the MIT `opus-decoder` package, WebAssembly).
//
// The walk is flat: the master elements that matter (Segment, Cluster, Tracks, TrackEntry,
// Audio, BlockGroup) are entered, every other element is skipped by its size. That also
// reads live recordings, whose Segment and Clusters have the "unknown" size (all ones).
// Every size is checked against the bytes present, and each step moves forward, so a
// broken file ends the walk (with the packets read so far) instead of hanging.

const ID = {
  segment: 0x18538067,
  cluster: 0x1f43b675,
  tracks: 0x1654ae6b,
  trackEntry: 0xae,
  audio: 0xe1,
  blockGroup: 0xa0,
  trackNumber: 0xd7,
  trackType: 0x83,
  codecId: 0x86,
  codecPrivate: 0x63a2,
  codecDelay: 0x56aa,
  channels: 0x9f,
  simpleBlock: 0xa3,
  block: 0xa1,
};
const ENTERED = new Set([ID.segment, ID.cluster, ID.tracks, ID.trackEntry, ID.audio, ID.blockGroup]);

interface Track {
  number: number;
  type: number;
  codec: string;
  codecPrivate: Uint8Array | null;
  codecDelayNs: number;
  channels: number;
}

/** An EBML variable-length integer at `at`: its value (marker bit removed unless `keepMarker`) and length; null past the end or if invalid. */
function vint(b: Uint8Array, at: number, keepMarker: boolean): { value: number; length: number; unknown: boolean } | null {
  if (at >= b.length) return null;
  const first = b[at];
  let length = 1;
  while (length <= 8 && !(first & (0x80 >> (length - 1)))) length++;
  if (length > 8 || at + length > b.length) return null;
  let value = keepMarker ? first : first & (0xff >> length);
  let allOnes = value === (0xff >> length);
  for (let i = 1; i < length; i++) {
    value = value * 256 + b[at + i];
    if (b[at + i] !== 0xff) allOnes = false;
  }
  return { value, length, unknown: !keepMarker && allOnes };
}

function uint(b: Uint8Array, at: number, size: number): number {
  let v = 0;
  for (let i = 0; i < size; i++) v = v * 256 + b[at + i];
  return v;
}

/** The frames in a (Simple)Block's payload after its header, by its lacing (none, Xiph, fixed, EBML). */
function lacedFrames(b: Uint8Array, start: number, end: number, lacing: number, out: Uint8Array[]): void {
  if (lacing === 0) {
    out.push(b.slice(start, end));
    return;
  }
  if (start >= end) return;
  const count = b[start] + 1;
  let at = start + 1;
  const sizes: number[] = [];
  if (lacing === 1) {
    for (let i = 0; i < count - 1; i++) {
      let size = 0;
      while (at < end && b[at] === 255) (size += 255), at++;
      if (at >= end) return;
      sizes.push(size + b[at++]);
    }
  } else if (lacing === 3) {
    const first = vint(b, at, false);
    if (!first) return;
    sizes.push(first.value);
    at += first.length;
    for (let i = 1; i < count - 1; i++) {
      const d = vint(b, at, false);
      if (!d) return;
      at += d.length;
      sizes.push(sizes[i - 1] + d.value - (2 ** (7 * d.length - 1) - 1)); // signed difference
    }
  } else {
    const each = Math.floor((end - at) / count);
    for (let i = 0; i < count - 1; i++) sizes.push(each);
  }
  for (const size of sizes) {
    if (size < 0 || at + size > end) return;
    out.push(b.slice(at, at + size));
    at += size;
  }
  if (at < end) out.push(b.slice(at, end));
}

export interface OpusStream {
  channels: number;
  preSkip: number;
  streamCount: number;
  coupledStreamCount: number;
  channelMappingTable: number[];
  packets: Uint8Array[];
}

/** The first audio track's Opus packets and decoder settings; throws Error (the caller adds the file's name) when there is none. */
export function demuxWebmOpus(b: Uint8Array): OpusStream {
  const tracks: Track[] = [];
  const packets = new Map<number, Uint8Array[]>();
  let at = 0;
  while (at < b.length) {
    const id = vint(b, at, true);
    if (!id || id.length > 4) break;
    const size = vint(b, at + id.length, false);
    if (!size) break;
    const start = at + id.length + size.length;
    if (ENTERED.has(id.value)) {
      if (id.value === ID.trackEntry) tracks.push({ number: 0, type: 0, codec: '', codecPrivate: null, codecDelayNs: 0, channels: 0 });
      at = start; // walk into it
      continue;
    }
    if (size.unknown || start + size.value > b.length) break; // a leaf must be whole
    const end = start + size.value;
    const track = tracks[tracks.length - 1];
    if (track && id.value === ID.trackNumber) track.number = uint(b, start, Math.min(size.value, 8));
    else if (track && id.value === ID.trackType) track.type = uint(b, start, Math.min(size.value, 8));
    else if (track && id.value === ID.codecId) track.codec = String.fromCharCode(...b.subarray(start, Math.min(end, start + 64))).replace(/\0+$/, '');
    else if (track && id.value === ID.codecPrivate) track.codecPrivate = b.slice(start, end);
    else if (track && id.value === ID.codecDelay) track.codecDelayNs = uint(b, start, Math.min(size.value, 8));
    else if (track && id.value === ID.channels) track.channels = uint(b, start, Math.min(size.value, 8));
    else if (id.value === ID.simpleBlock || id.value === ID.block) {
      const number = vint(b, start, false);
      if (number && start + number.length + 3 <= end) {
        const flags = b[start + number.length + 2];
        let list = packets.get(number.value);
        if (!list) packets.set(number.value, (list = []));
        lacedFrames(b, start + number.length + 3, end, (flags >> 1) & 3, list);
      }
    }
    at = end;
  }
  const audio = tracks.find((t) => t.type === 2) ?? tracks.find((t) => t.codec.startsWith('A_'));
  if (!audio) throw new Error(tracks.length ? 'no audio track' : 'no tracks (not a WebM/Matroska file, or cut before its track list)');
  if (audio.codec !== 'A_OPUS') throw new Error(`audio codec ${audio.codec || 'unknown'} is not supported (WebM with Opus is)`);
  const head = audio.codecPrivate;
  const fromHead = head && head.length >= 19 && String.fromCharCode(...head.subarray(0, 8)) === 'OpusHead';
  const channels = fromHead ? head[9] : audio.channels || 1;
  const preSkip = fromHead ? head[10] | (head[11] << 8) : Math.round((audio.codecDelayNs / 1e9) * 48000);
  let streamCount = 1;
  let coupledStreamCount = channels === 2 ? 1 : 0;
  let channelMappingTable = channels === 2 ? [0, 1] : [0];
  if (fromHead && head[18] > 0) {
    if (head.length < 21 + channels) throw new Error('OpusHead channel mapping table cut short');
    streamCount = head[19];
    coupledStreamCount = head[20];
    channelMappingTable = Array.from(head.subarray(21, 21 + channels));
  } else if (channels > 2) throw new Error(`${channels} Opus channels without a channel mapping`);
  return { channels, preSkip, streamCount, coupledStreamCount, channelMappingTable, packets: packets.get(audio.number) ?? [] };
}

/** Decodes a WebM file's Opus track with libopus at 48 kHz: one Float32Array per channel. */
export async function decodeWebmOpus(bytes: Uint8Array): Promise<{ channelData: Float32Array[]; sampleRate: number }> {
  const stream = demuxWebmOpus(bytes);
  if (stream.packets.length === 0) throw new Error('no Opus packets in the audio track');
  const { OpusDecoder } = await import('opus-decoder');
  const decoder = new OpusDecoder({
    channels: stream.channels,
    preSkip: stream.preSkip,
    streamCount: stream.streamCount,
    coupledStreamCount: stream.coupledStreamCount,
    channelMappingTable: stream.channelMappingTable,
  });
  try {
    await decoder.ready;
    const out = decoder.decodeFrames(stream.packets);
    return { channelData: out.channelData.map((c) => c.subarray(0, out.samplesDecoded)), sampleRate: out.sampleRate };
  } finally {
    decoder.free();
  }
}
