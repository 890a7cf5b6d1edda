// decodeAudio: formats told apart by content, and FLAC / MP3 / Ogg Vorbis / Ogg Opus / WebM
// decoded to the signal that went in. The compressed files are made here by Debian's
// encoders (flac, lame, oggenc, opusenc; scripts/install-audio-tools.sh, run by
// `setup.sh --with-browser`) from a generated signal; a test whose encoder is missing says so
// and skips. The WebM file is a 2.6 KB recording by Chrome's MediaRecorder
// (test/fixtures/chrome-opus-440hz.webm, made by tools/record-webm-fixture.mjs).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { AudioError, decodeAudio, readAudio, sniffFormat, type DecodedAudio } from '../src/audio/decode.js';
import { loadUtterance } from '../src/audio/frontend.js';
import { resampledLength } from '../src/audio/resample.js';
import { demuxWebmOpus } from '../src/audio/webm.js';
import { Random } from '../src/util/random.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-decode-'));

/** The test signal, channel c at time t (s): two tones and a chirp, so a lag search has one answer. */
function signal(t: number, c: number): number {
  const chirp = 0.2 * Math.sin(2 * Math.PI * (200 * t + 1500 * t * t));
  return c === 0 ? 0.4 * Math.sin(2 * Math.PI * 440 * t) + chirp : 0.3 * Math.sin(2 * Math.PI * 1250 * t + 1) + 0.5 * chirp;
}

/** A 16-bit PCM WAV of `seconds` of the signal, and its exact mono average (what a lossless codec must give back). */
function pcmWav(rate: number, channels: number, seconds: number): { bytes: Uint8Array; mono: Float64Array } {
  const frames = Math.round(rate * seconds);
  const bytes = new Uint8Array(44 + frames * channels * 2);
  const v = new DataView(bytes.buffer);
  const text = (at: number, s: string) => [...s].forEach((ch, i) => (bytes[at + i] = ch.charCodeAt(0)));
  text(0, 'RIFF');
  v.setUint32(4, bytes.length - 8, true);
  text(8, 'WAVEfmt ');
  v.setUint32(16, 16, true);
  v.setUint16(20, 1, true);
  v.setUint16(22, channels, true);
  v.setUint32(24, rate, true);
  v.setUint32(28, rate * channels * 2, true);
  v.setUint16(32, channels * 2, true);
  v.setUint16(34, 16, true);
  text(36, 'data');
  v.setUint32(40, frames * channels * 2, true);
  const mono = new Float64Array(frames);
  for (let i = 0; i < frames; i++) {
    for (let c = 0; c < channels; c++) {
      const q = Math.round(signal(i / rate, c) * 32767);
      v.setInt16(44 + 2 * (i * channels + c), q, true);
      mono[i] += q / 32768 / channels;
    }
  }
  return { bytes, mono };
}

/** The analytic mono signal at `rate`. */
function analytic(rate: number, channels: number, n: number): Float64Array {
  return Float64Array.from({ length: n }, (_, i) => {
    let s = 0;
    for (let c = 0; c < channels; c++) s += signal(i / rate, c);
    return s / channels;
  });
}

/**
 * How well `y` reproduces `ref` after the codec's delay: the lag (in samples, up to
 * `maxLag`) with the highest correlation over 0.4 s from 0.2 s, then the SNR in dB of y
 * against the gain-fitted reference over that window.
 */
function match(y: Float32Array, ref: Float64Array, rate: number, maxLag = 2500): { lag: number; snr: number } {
  const from = Math.round(0.2 * rate);
  const n = Math.round(0.4 * rate);
  let best = { lag: 0, corr: -Infinity };
  for (let lag = -maxLag; lag <= maxLag; lag++) {
    if (from + lag < 0 || from + lag + n > y.length) continue;
    let dot = 0;
    for (let i = 0; i < n; i++) dot += y[from + lag + i] * ref[from + i];
    if (dot > best.corr) best = { lag, corr: dot };
  }
  let rr = 0;
  for (let i = 0; i < n; i++) rr += ref[from + i] ** 2;
  const gain = best.corr / rr;
  let err = 0;
  for (let i = 0; i < n; i++) err += (y[from + best.lag + i] - gain * ref[from + i]) ** 2;
  return { lag: best.lag, snr: 10 * Math.log10((gain * gain * rr) / err) };
}

function tool(name: string): boolean {
  const ok = spawnSync(name, ['--version'], { stdio: 'ignore' }).status === 0;
  if (!ok) console.log(`  skipped: '${name}' not found (scripts/install-audio-tools.sh installs it)`);
  return ok;
}

/** Encodes a generated WAV with `cmd` (which reads IN and writes OUT) and decodes the result. */
async function roundTrip(rate: number, channels: number, out: string, cmd: (src: string, dst: string) => string[]): Promise<{ audio: DecodedAudio; wav: { mono: Float64Array }; path: string }> {
  const src = join(dir, `src-${rate}-${channels}.wav`);
  const wav = pcmWav(rate, channels, 1);
  writeFileSync(src, wav.bytes);
  const path = join(dir, out);
  const [bin, ...args] = cmd(src, path);
  const r = spawnSync(bin, args, { encoding: 'utf8' });
  assert.is(r.status, 0, `${bin}: ${r.stderr}`);
  return { audio: await readAudio(path), wav, path };
}

test('FLAC is lossless: 16 kHz mono and 44.1 kHz stereo give back the exact PCM', async () => {
  if (!tool('flac')) return;
  for (const [rate, channels] of [[16000, 1], [44100, 2]]) {
    const { audio, wav } = await roundTrip(rate, channels, `t-${rate}.flac`, (s, d) => ['flac', '-s', '-f', '-5', '-o', d, s]);
    assert.equal([audio.format, audio.sampleRate, audio.channels, audio.samples.length], ['flac', rate, channels, wav.mono.length]);
    // Lossless up to the scale: the decoder divides 16-bit values by 32767 where WAV readers
    // (ours, libsndfile, scipy) divide by 32768, a gain 3e-5 apart (0.0003 dB). Any other
    // difference, one wrong sample included, fails.
    let yq = 0, qq = 0;
    for (let i = 0; i < wav.mono.length; i++) {
      yq += audio.samples[i] * wav.mono[i];
      qq += wav.mono[i] ** 2;
    }
    const gain = yq / qq;
    assert.ok(Math.abs(gain - 1) < 4e-5, `FLAC ${rate} Hz x${channels}: gain ${gain}`);
    let worst = 0;
    for (let i = 0; i < wav.mono.length; i++) worst = Math.max(worst, Math.abs(audio.samples[i] - gain * wav.mono[i]));
    assert.ok(worst < 1e-7, `FLAC ${rate} Hz x${channels}: worst error ${worst}`);
  }
});

test('MP3 (lame: MPEG-1 44.1 kHz stereo, MPEG-2 16 kHz mono): delay and padding trimmed, SNR > 40 dB', async () => {
  if (!tool('lame')) return;
  for (const [rate, channels] of [[44100, 2], [16000, 1]]) {
    const { audio } = await roundTrip(rate, channels, `t-${rate}.mp3`, (s, d) => ['lame', '--silent', '-b', '128', s, d]);
    assert.is(audio.format, 'mp3');
    assert.is(audio.sampleRate, rate);
    // lame's delay (~1105 samples) and end padding are trimmed by the decoder (LAME header).
    assert.ok(Math.abs(audio.samples.length - rate) <= 1152, `length ${audio.samples.length}`);
    const m = match(audio.samples, analytic(rate, channels, rate), rate);
    // Measured: 74 dB at 128 kbps for these tones.
    assert.ok(Math.abs(m.lag) <= 1152 && m.snr > 40, `MP3 ${rate} Hz: SNR ${m.snr.toFixed(1)} dB at lag ${m.lag}`);
  }
});

test('Ogg Vorbis (oggenc, 22.05 kHz stereo): same length, no delay, SNR > 20 dB (measured 30)', async () => {
  if (!tool('oggenc')) return;
  const { audio } = await roundTrip(22050, 2, 't.ogg', (s, d) => ['oggenc', '-Q', '-q', '5', '-o', d, s]);
  assert.equal([audio.format, audio.sampleRate, audio.channels, audio.samples.length], ['ogg-vorbis', 22050, 2, 22050]);
  const m = match(audio.samples, analytic(22050, 2, 22050), 22050);
  assert.is(m.lag, 0);
  assert.ok(m.snr > 20, `Vorbis: SNR ${m.snr.toFixed(1)} dB`);
});

test('Ogg Opus (opusenc, 16 kHz mono in): decoded at 48 kHz, pre-skip trimmed, SNR > 25 dB (measured 41)', async () => {
  if (!tool('opusenc')) return;
  const { audio, path } = await roundTrip(16000, 1, 't.opus', (s, d) => ['opusenc', '--quiet', '--bitrate', '64', s, d]);
  assert.equal([audio.format, audio.sampleRate, audio.channels], ['ogg-opus', 48000, 1]);
  assert.ok(Math.abs(audio.samples.length - 48000) <= 960, `length ${audio.samples.length}`);
  const m = match(audio.samples, analytic(48000, 1, 48000), 48000);
  assert.ok(Math.abs(m.lag) < 100 && m.snr > 25, `Opus: SNR ${m.snr.toFixed(1)} dB at lag ${m.lag}`);
  // The path `ser features` takes: decode, resample to 16 kHz.
  const x = await loadUtterance(path);
  assert.is(x.length, resampledLength(audio.samples.length, 48000, 16000));
});

test("WebM/Opus as Chrome's MediaRecorder writes it: a 440 Hz tone at amplitude 0.5", async () => {
  const audio = await readAudio('test/fixtures/chrome-opus-440hz.webm');
  assert.equal([audio.format, audio.sampleRate, audio.channels], ['webm', 48000, 1]);
  assert.ok(audio.samples.length > 0.4 * 48000, `length ${audio.samples.length}`);
  // Least-squares fit of a sin + b cos at 440 Hz over 0.1 .. 0.4 s (the recording's phase is unknown).
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0, xx = 0;
  for (let i = 4800; i < 19200; i++) {
    const s = Math.sin((2 * Math.PI * 440 * i) / 48000);
    const c = Math.cos((2 * Math.PI * 440 * i) / 48000);
    const x = audio.samples[i];
    ss += s * s; cc += c * c; sc += s * c; xs += x * s; xc += x * c; xx += x * x;
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  const amplitude = Math.hypot(a, b);
  const residual = xx - (a * xs + b * xc); // energy not explained by the 440 Hz tone
  assert.ok(Math.abs(amplitude - 0.5) < 0.02, `amplitude ${amplitude}`);
  assert.ok(10 * Math.log10(xx / residual) > 20, `tone-to-rest ${(10 * Math.log10(xx / residual)).toFixed(1)} dB`);
});

/** An EBML element: ID bytes, then the size as an 8-byte vint (or 'unknown', all ones), then the payload. */
function ebml(id: number[], payload: Uint8Array | number[], unknown = false): Uint8Array {
  const body = Uint8Array.from(payload);
  const size = [0x01, 0, 0, 0, 0, 0, 0, 0];
  if (unknown) size.fill(0xff, 1);
  else for (let i = 7, n = body.length; i > 0; i--, n = Math.floor(n / 256)) size[i] = n & 0xff;
  return Uint8Array.from([...id, ...size, ...body]);
}
const cat = (...parts: (Uint8Array | number[])[]) => Uint8Array.from(parts.flatMap((p) => Array.from(p)));
/** An n-byte EBML vint of `v`. */
const vintBytes = (v: number, n: number) => Array.from({ length: n }, (_, i) => (i === 0 ? 0x80 >> (n - 1) : 0) | ((v / 256 ** (n - 1 - i)) & 0xff));

test('WebM walk: unknown-size Segment and Clusters, Xiph / EBML / fixed lacing, BlockGroups, other tracks: the same audio as plain blocks', async () => {
  const webm = readFileSync('test/fixtures/chrome-opus-440hz.webm');
  const original = await decodeAudio(webm, 'chrome.webm');
  const { packets, channels, preSkip } = demuxWebmOpus(webm);
  assert.ok(packets.length >= 9, `${packets.length} packets`);
  const head = cat(ascii('OpusHead'), [1, channels, preSkip & 0xff, preSkip >> 8, 0x80, 0xbb, 0, 0, 0, 0, 0]);
  const track = (n: number, codec: string) =>
    ebml([0xae], cat(ebml([0xd7], [n]), ebml([0x83], [2]), ebml([0x86], ascii(codec)), ebml([0x63, 0xa2], head), ebml([0xe1], cat(ebml([0x9f], [channels]), ebml([0xb5], [0x40, 0xe7, 0x70, 0, 0, 0, 0, 0])))));
  const block = (frames: Uint8Array[], lacing: number, trackNo = 1) => {
    let lace: number[] = [];
    if (lacing === 1) lace = [frames.length - 1, ...frames.slice(0, -1).flatMap((f) => [...Array(Math.floor(f.length / 255)).fill(255), f.length % 255])];
    if (lacing === 3) lace = [frames.length - 1, ...vintBytes(frames[0].length, 2), ...frames.slice(1, -1).flatMap((f, i) => vintBytes(f.length - frames[i].length + 8191, 2))];
    if (lacing === 2) lace = [frames.length - 1];
    return cat([0x80 | trackNo, 0, 0, 0x80 | (lacing << 1)], lace, ...frames);
  };
  const p = packets;
  const rest = p.slice(9);
  const cluster1 = ebml([0x1f, 0x43, 0xb6, 0x75], cat(
    ebml([0xe7], [0]),
    ebml([0xa3], block([p[0]], 0)),
    ebml([0xa3], block([p[0], p[1]], 0, 2)), // another track: ignored
    ebml([0xa3], block([p[1], p[2], p[3]], 1)), // Xiph lacing
    ebml([0xa3], block([p[4], p[5], p[6]], 3)), // EBML lacing
    ebml([0xa0], ebml([0xa1], block([p[7]], 0))), // a BlockGroup
  ), true);
  const cluster2 = ebml([0x1f, 0x43, 0xb6, 0x75], cat(ebml([0xe7], [1]), ebml([0xa3], block([p[8]], 2)), ...rest.map((f) => ebml([0xa3], block([f], 0)))), true); // fixed lacing, one frame
  const header = ebml([0x1a, 0x45, 0xdf, 0xa3], ebml([0x42, 0x82], ascii('webm')));
  const file = (codec: string) => cat(header, ebml([0x18, 0x53, 0x80, 0x67], cat(ebml([0x16, 0x54, 0xae, 0x6b], track(1, codec)), cluster1, cluster2, ebml([0x1c, 0x53, 0xbb, 0x6b], [0xbb, 0x80])), true));
  const rebuilt = await decodeAudio(file('A_OPUS'), 'rebuilt.webm');
  assert.equal([rebuilt.format, rebuilt.sampleRate, rebuilt.samples.length], ['webm', 48000, original.samples.length]);
  assert.equal(Array.from(rebuilt.samples), Array.from(original.samples), 'sample for sample the same');
  await expectAudioError(file('A_VORBIS'), /cannot decode as WebM \(audio codec A_VORBIS is not supported \(WebM with Opus is\)\)/, 'Vorbis in WebM');
});

test('the format comes from the content, not the name: FLAC named .wav, WAV named .mp3', async () => {
  const wav = pcmWav(8000, 1, 0.1);
  const wrongName = join(dir, 'really-a-wav.mp3');
  writeFileSync(wrongName, wav.bytes);
  assert.is((await readAudio(wrongName)).format, 'wav');
  if (!tool('flac')) return;
  const src = join(dir, 'src.wav');
  writeFileSync(src, wav.bytes);
  const flacNamedWav = join(dir, 'really-a-flac.wav');
  assert.is(spawnSync('flac', ['-s', '-f', '-o', flacNamedWav, src]).status, 0);
  assert.is((await readAudio(flacNamedWav)).format, 'flac');
});

function ascii(s: string): Uint8Array {
  return Uint8Array.from(s, (c) => c.charCodeAt(0));
}

test('sniffFormat: magic bytes of each format, ID3-tagged MP3, and what it refuses by name', () => {
  const ogg = (packet: string) => {
    const page = new Uint8Array(28 + packet.length);
    page.set(ascii('OggS'), 0);
    page[26] = 1; // one segment
    page[27] = packet.length;
    page.set(ascii(packet), 28);
    return page;
  };
  const id3 = Uint8Array.from([...ascii('ID3'), 4, 0, 0, 0, 0, 0, 3, 1, 2, 3, 0xff, 0xfb, 0x90, 0x00]);
  const cases: [Uint8Array, string | RegExp][] = [
    [ascii('RIFF\0\0\0\0WAVE'), 'wav'],
    [ascii('RF64\xff\xff\xff\xffWAVE'), 'wav'],
    [ascii('fLaC\0\0\0\x22'), 'flac'],
    [ogg('OpusHead\x01\x01'), 'ogg-opus'],
    [ogg('\x01vorbis\0\0'), 'ogg-vorbis'],
    [Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x9f), 'webm'],
    [Uint8Array.of(0xff, 0xfb, 0x90, 0x00), 'mp3'],
    [Uint8Array.of(0xff, 0xf3, 0x48, 0xc4), 'mp3'],
    [id3, 'mp3'],
    [new Uint8Array(0), /empty file/],
    [ogg('Speex   1.2'), /unsupported Ogg codec 'Speex'/],
    [ascii('FORM\0\0\0\0AIFF'), /AIFF is not supported/],
    [ascii('\0\0\0\x20ftypM4A '), /MP4\/M4A is not supported/],
    [Uint8Array.of(0xff, 0xf1, 0x50, 0x80), /AAC \(ADTS\) is not supported/],
    [ascii('MZ\x90\0 an executable'), /unknown audio format \(starts with 4d 5a 90 00; WAV, FLAC, MP3, Ogg Vorbis, Ogg Opus and WebM\/Opus are supported\)/],
    [ascii('<html><body>'), /unknown audio format \(starts with '<htm'/],
    [ascii('ID3\x04\0\0\0\0\x7f\x7f'), /an ID3 tag and no audio after it/],
  ];
  for (const [bytes, want] of cases) {
    const got = sniffFormat(bytes);
    if (typeof want === 'string') assert.is(got, want, `${want}: ${JSON.stringify(got)}`);
    else assert.match(typeof got === 'string' ? got : got.problem, want);
  }
});

async function expectAudioError(bytes: Uint8Array, pattern: RegExp, what: string): Promise<void> {
  try {
    await decodeAudio(bytes, 'in/bad.file');
  } catch (e) {
    assert.instance(e, AudioError, `${what}: ${e}`);
    const msg = (e as Error).message;
    assert.ok(msg.startsWith('in/bad.file: ') && !msg.includes('\n'), `${what}: one line naming the file: ${JSON.stringify(msg)}`);
    assert.match(msg, pattern, `${what}: ${msg}`);
    return;
  }
  assert.unreachable(`${what}: decoded without an error`);
}

test('broken compressed files: one line naming the file, never a crash', async () => {
  await expectAudioError(ascii('fLaC'), /FLAC/, 'bare fLaC magic');
  await expectAudioError(Uint8Array.of(0x1a, 0x45, 0xdf, 0xa3, 0x80), /WebM/, 'empty EBML header');
  await expectAudioError(ascii('OggS\0\x02' + '\0'.repeat(20) + '\x01\x13OpusHead'), /Opus/, 'cut Opus header');
  await expectAudioError(ascii('GIF89a'), /unknown audio format \(starts with 'GIF8'/, 'a picture');
  const webm = readFileSync('test/fixtures/chrome-opus-440hz.webm');
  await expectAudioError(webm.subarray(0, 200), /WebM/, 'WebM cut in its header');
  if (tool('flac')) {
    // Cut and damaged copies of a real FLAC file: decoded to something finite, or refused in one line.
    const src = join(dir, 'cut.wav');
    writeFileSync(src, pcmWav(16000, 1, 0.5).bytes);
    const flac = join(dir, 'cut.flac');
    assert.is(spawnSync('flac', ['-s', '-f', '-o', flac, src]).status, 0);
    const whole = readFileSync(flac);
    for (const cut of [10, 42, 100, Math.floor(whole.length / 2)]) {
      try {
        const a = await decodeAudio(whole.subarray(0, cut), 'in/bad.file');
        assert.ok(a.samples.every(Number.isFinite) && a.samples.length > 0, `cut at ${cut}`);
      } catch (e) {
        assert.instance(e, AudioError, `cut at ${cut}: ${e}`);
      }
    }
  }
});

test('damaged compressed files (bytes flipped, cut short; fixed seed): finite audio or one line naming the file, each in bounded time', async () => {
  const sources: string[] = ['test/fixtures/chrome-opus-440hz.webm'];
  const src = join(dir, 'dmg.wav');
  writeFileSync(src, pcmWav(16000, 1, 0.5).bytes);
  const encoders: [string, (d: string) => string[]][] = [
    ['flac', (d) => ['flac', '-s', '-f', '-o', d, src]],
    ['mp3', (d) => ['lame', '--silent', src, d]],
    ['ogg', (d) => ['oggenc', '-Q', '-o', d, src]],
    ['opus', (d) => ['opusenc', '--quiet', src, d]],
  ];
  for (const [ext, cmd] of encoders) {
    const [bin, ...args] = cmd(join(dir, `dmg.${ext}`));
    if (spawnSync(bin, ['--version'], { stdio: 'ignore' }).status === 0 && spawnSync(bin, args).status === 0) sources.push(join(dir, `dmg.${ext}`));
  }
  const rng = new Random(7);
  const outcomes: Record<string, number> = {};
  for (const path of sources) {
    const base = readFileSync(path);
    for (let i = 0; i < 30; i++) {
      let b = Uint8Array.from(base);
      for (let k = 0, n = 1 + rng.int(8); k < n; k++) b[rng.int(Math.min(b.length, rng.next() < 0.5 ? 200 : b.length))] = rng.int(256);
      if (rng.next() < 0.3) b = b.slice(0, rng.int(b.length));
      const t0 = performance.now();
      let outcome: string;
      try {
        const a = await decodeAudio(b, 'in/bad.file');
        assert.ok(a.samples.length > 0 && a.samples.every(Number.isFinite), `${path} #${i}: samples`);
        outcome = 'decoded';
      } catch (e) {
        if (!(e instanceof AudioError)) throw new Error(`${path} #${i}: not an AudioError: ${e}`);
        assert.ok(e.message.startsWith('in/bad.file: ') && !e.message.includes('\n'), `${path} #${i}: ${JSON.stringify(e.message)}`);
        outcome = 'refused';
      }
      assert.ok(performance.now() - t0 < 5000, `${path} #${i}: slow`);
      const key = `${path.split('.').pop()} ${outcome}`;
      outcomes[key] = (outcomes[key] ?? 0) + 1;
    }
  }
  console.log(`  ${Object.entries(outcomes).map(([k, n]) => `${k} ${n}`).join(', ')}`);
});

function ser(...args: string[]) {
  return spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', env: { ...process.env, EGL_PLATFORM: 'surfaceless' } });
}

test('ser features: an MP3 gives its features; a 7 Hz WAV and an unknown file give one line naming the file, exit 2', () => {
  const sevenHz = pcmWav(8000, 1, 0.1).bytes;
  new DataView(sevenHz.buffer).setUint32(24, 7, true);
  const bad: [string, Uint8Array, RegExp][] = [
    ['7hz.wav', sevenHz, /7hz\.wav: sample rate 7 Hz is outside the accepted range 1000\.\.768000 Hz/],
    ['noise.mp3', Uint8Array.from({ length: 64 }, (_, i) => (i * 37 + 11) & 0xff), /noise\.mp3: unknown audio format \(starts with 0b 30 55 7a;/],
  ];
  for (const [file, bytes, pattern] of bad) {
    const path = join(dir, file);
    writeFileSync(path, bytes);
    const r = ser('features', path, '--out', join(dir, 'x.npy'));
    assert.is(r.status, 2, `${file}: ${r.stderr}`);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ser: '));
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], pattern);
  }
  if (!tool('lame')) return;
  const src = join(dir, 'cli.wav');
  writeFileSync(src, pcmWav(44100, 2, 1).bytes);
  const mp3 = join(dir, 'cli.mp3');
  assert.is(spawnSync('lame', ['--silent', src, mp3]).status, 0);
  const r = ser('features', mp3, '--out', join(dir, 'cli.npy'));
  assert.is(r.status, 0, r.stderr);
  assert.ok(readFileSync(join(dir, 'cli.npy')).length > 373 * 64 * 4, 'a 373 x 64 float32 .npy');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
