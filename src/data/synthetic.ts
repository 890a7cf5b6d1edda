// A small SYNTHETIC emotional-speech corpus made by the project itself, for quick end-to-end
// runs and tests without real data. It is not speech: each utterance is a harmonic "voice" with
// a pitch contour, syllable-like loudness envelope, vowel-like formants and noise. The four
// classes differ the way acted emotions tend to (angry: high, bright, loud, fast; happy: high,
// wide rising-falling pitch; neutral: mid, flat, declining; sad: low, dark, soft, slow), with
// per-speaker and per-utterance variation large enough that the classes overlap.
// Written as 16 kHz PCM16 WAVs plus a CSV, so it loads through the CSV loader.
import { existsSync, readFileSync } from 'node:fs';
import { writeFileAtomic } from '../io/atomic.js';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Random } from '../util/random.js';
import { CLASSES, type Corpus, type FileCheck, type Label } from './corpus.js';
import { loadCsv } from './csv.js';

const GENERATOR = 'ser-webgpu synthetic corpus v1';

export interface SyntheticOptions {
  seed?: number; // default 1
  speakers?: number; // default 10 (alternately low- and high-pitched voices)
  perClass?: number; // utterances per class per speaker, default 6
  folds?: number; // default 5; speakers dealt round-robin (speaker i -> fold i mod folds)
  sampleRate?: number; // default 16000
  duration?: [number, number]; // seconds, uniform in this range; default [1.0, 2.0]
}

type Settings = Required<SyntheticOptions>;

function settingsOf(o: SyntheticOptions): Settings {
  const s: Settings = {
    seed: o.seed ?? 1,
    speakers: o.speakers ?? 10,
    perClass: o.perClass ?? 6,
    folds: o.folds ?? 5,
    sampleRate: o.sampleRate ?? 16000,
    duration: o.duration ?? [1.0, 2.0],
  };
  if (!(s.speakers >= s.folds && s.folds >= 2)) throw new Error(`synthetic corpus: needs at least 2 folds and one speaker per fold (speakers ${s.speakers}, folds ${s.folds})`);
  if (!(s.perClass >= 1)) throw new Error(`synthetic corpus: perClass must be at least 1, got ${s.perClass}`);
  return s;
}

/** Default folder for a generated corpus (under the system temp folder, one per setting). */
export function defaultSyntheticDir(opts: SyntheticOptions = {}): string {
  const s = settingsOf(opts);
  return join(tmpdir(), `ser-synthetic-v1-seed${s.seed}-spk${s.speakers}-n${s.perClass}-k${s.folds}-sr${s.sampleRate}-d${s.duration.join('_')}`);
}

/** Writes mono PCM16 WAV (samples in [-1, 1], clipped), atomically: temp file, then rename. */
export function writeWav16(path: string, samples: Float32Array, sampleRate: number): void {
  const n = samples.length;
  const buf = Buffer.alloc(44 + 2 * n);
  buf.write('RIFF', 0, 'latin1');
  buf.writeUInt32LE(36 + 2 * n, 4);
  buf.write('WAVE', 8, 'latin1');
  buf.write('fmt ', 12, 'latin1');
  buf.writeUInt32LE(16, 16); // fmt chunk size
  buf.writeUInt16LE(1, 20); // PCM
  buf.writeUInt16LE(1, 22); // mono
  buf.writeUInt32LE(sampleRate, 24);
  buf.writeUInt32LE(sampleRate * 2, 28); // byte rate
  buf.writeUInt16LE(2, 32); // block align
  buf.writeUInt16LE(16, 34); // bits per sample
  buf.write('data', 36, 'latin1');
  buf.writeUInt32LE(2 * n, 40);
  for (let i = 0; i < n; i++) {
    const v = Math.max(-1, Math.min(1, samples[i]));
    buf.writeInt16LE(Math.round(v < 0 ? v * 32768 : v * 32767), 44 + 2 * i);
  }
  atomicWrite(path, buf);
}

/** The project's atomic write (the temporary file is removed on failure, swept after a crash). */
const atomicWrite = writeFileAtomic;

/** A synthetic voice. */
interface Speaker {
  f0: number; // Hz, typical pitch
  tilt: number; // added to the class's spectral tilt
  formantScale: number; // vocal tract length: scales all formants
  rate: number; // speaking-rate factor
  breath: number; // aspiration noise level
}

/** Class prototypes: pitch multiplier, contour range (semitones), tilt (dB-ish exponent), syllables/s, loudness, breathiness. */
const STYLE: Record<Label, { f0: number; range: number; tilt: number; rate: number; gain: number; breath: number }> = {
  angry: { f0: 1.3, range: 4, tilt: 0.8, rate: 5.0, gain: 1.6, breath: 0.02 },
  happy: { f0: 1.3, range: 8, tilt: 1.3, rate: 4.4, gain: 1.2, breath: 0.03 },
  neutral: { f0: 1.0, range: 2.5, tilt: 1.75, rate: 4.0, gain: 1.0, breath: 0.03 },
  sad: { f0: 0.88, range: 1.5, tilt: 2.3, rate: 3.0, gain: 0.55, breath: 0.08 },
};

/** Formants (Hz) of a few vowels; each syllable picks one. */
const VOWELS = [
  [730, 1090, 2440],
  [270, 2290, 3010],
  [300, 870, 2240],
  [530, 1840, 2480],
  [570, 840, 2410],
];

function makeSpeaker(rng: Random, index: number): Speaker {
  const high = index % 2 === 1; // alternate low and high voices
  return {
    f0: high ? rng.uniform(180, 240) : rng.uniform(95, 140),
    tilt: rng.uniform(-0.15, 0.15),
    formantScale: high ? rng.uniform(1.08, 1.2) : rng.uniform(0.9, 1.02),
    rate: rng.uniform(0.85, 1.15),
    breath: rng.uniform(0.5, 1.5),
  };
}

/** One utterance of class `label` by `spk`, as samples in [-1, 1]. */
export function synthesiseUtterance(rng: Random, label: Label, spk: Speaker, sampleRate: number, seconds: number): Float32Array {
  const st = STYLE[label];
  // Per-utterance variation: wide enough that neighbouring classes overlap.
  const f0 = spk.f0 * st.f0 * Math.exp(0.08 * rng.normal());
  const range = st.range * Math.exp(0.3 * rng.normal());
  const tilt = st.tilt + spk.tilt + 0.2 * rng.normal();
  const rate = st.rate * spk.rate * Math.exp(0.15 * rng.normal());
  const gain = 0.12 * st.gain * Math.exp(0.2 * rng.normal());
  const snrNoise = 0.12 * Math.pow(10, -rng.uniform(15, 35) / 20); // background noise, fixed level: quiet classes get lower SNR

  const n = Math.round(seconds * sampleRate);
  const out = new Float32Array(n);

  // Syllables: voiced stretches separated by short pauses, each with a vowel and an accent.
  const syllables: { start: number; end: number; vowel: number[]; accent: number }[] = [];
  let t = rng.uniform(0.05, 0.15);
  while (t < seconds - 0.1) {
    const len = (0.7 / rate) * Math.exp(0.25 * rng.normal());
    const end = Math.min(seconds - 0.05, t + len);
    syllables.push({ start: t, end, vowel: VOWELS[rng.int(VOWELS.length)], accent: rng.next() < 0.35 ? 1 : 0 });
    t = end + (0.3 / rate) * rng.uniform(0.3, 1.5);
  }

  const block = Math.round(sampleRate * 0.005); // amplitudes are updated every 5 ms
  const maxHarm = 48;
  const amps = new Float64Array(maxHarm + 1);
  let phase = 0;
  let syl = 0;
  let wobble = 0; // slow random pitch drift (semitones)
  for (let b = 0; b < n; b += block) {
    const tb = b / sampleRate;
    const x = tb / seconds; // position in the utterance, 0..1
    while (syl < syllables.length && syllables[syl].end < tb) syl++;
    const s = syllables[syl];
    const inside = s !== undefined && tb >= s.start && tb <= s.end;
    // Loudness: raised-cosine bump per syllable.
    const env = inside ? Math.sin((Math.PI * (tb - s.start)) / (s.end - s.start)) ** 0.7 : 0;
    // Pitch contour in semitones, by class.
    const local = inside ? (tb - s.start) / (s.end - s.start) : 0;
    let contour: number;
    if (label === 'angry') contour = range * (0.6 * (1 - x) + (s?.accent ?? 0) * (1 - local)); // accented falls
    else if (label === 'happy') contour = range * (Math.sin(Math.PI * x) - 0.3 + 0.5 * Math.sin(Math.PI * local) * (s?.accent ?? 0.5)); // wide rise-fall
    else if (label === 'neutral') contour = range * (0.5 - x); // gentle declination
    else contour = -range * x * 0.8; // sad: low and falling
    wobble = 0.95 * wobble + 0.15 * rng.normal();
    const pitch = f0 * Math.pow(2, (contour + 0.3 * wobble) / 12);
    const harmonics = Math.min(maxHarm, Math.floor((0.45 * sampleRate) / pitch));
    for (let k = 1; k <= maxHarm; k++) {
      if (k > harmonics) {
        amps[k] = 0;
        continue;
      }
      const f = k * pitch;
      let formant = 0.05;
      if (inside) {
        for (let j = 0; j < 3; j++) {
          const fj = s.vowel[j] * spk.formantScale;
          const bw = 80 + 0.06 * fj;
          formant += (j === 0 ? 1 : 0.6) * Math.exp(-0.5 * ((f - fj) / bw) ** 2);
        }
      }
      amps[k] = gain * env * Math.pow(k, -tilt) * formant;
    }
    const end = Math.min(n, b + block);
    for (let i = b; i < end; i++) {
      phase += (2 * Math.PI * pitch) / sampleRate;
      if (phase > 2 * Math.PI) phase -= 2 * Math.PI;
      // sin(k*phase) by the Chebyshev recurrence: one sin/cos per sample instead of one per harmonic.
      const c2 = 2 * Math.cos(phase);
      let sPrev = 0;
      let sCur = Math.sin(phase);
      let v = 0;
      for (let k = 1; k <= harmonics; k++) {
        v += amps[k] * sCur;
        const sNext = c2 * sCur - sPrev;
        sPrev = sCur;
        sCur = sNext;
      }
      const breath = st.breath * spk.breath * env * gain * rng.normal();
      out[i] = v + breath + snrNoise * rng.normal();
    }
  }
  // Keep clear of clipping without normalising loudness away.
  let peak = 0;
  for (let i = 0; i < n; i++) peak = Math.max(peak, Math.abs(out[i]));
  if (peak > 0.95) for (let i = 0; i < n; i++) out[i] *= 0.95 / peak;
  return out;
}

interface Manifest {
  generator: string;
  note: string;
  settings: Settings;
  files: number;
}

/**
 * Generates the corpus into `dir` (WAVs under dir/wav/<speaker>/, dir/synthetic.csv and
 * dir/synthetic.json), unless the same settings were already generated there. Same seed and
 * settings -> byte-identical files. Returns the CSV path.
 */
export function makeSynthetic(dir: string, opts: SyntheticOptions = {}): string {
  const s = settingsOf(opts);
  dir = resolve(dir);
  const csvPath = join(dir, 'synthetic.csv');
  const manifestPath = join(dir, 'synthetic.json');
  if (existsSync(manifestPath) && existsSync(csvPath)) {
    try {
      const m = JSON.parse(readFileSync(manifestPath, 'utf8')) as Manifest;
      if (m.generator === GENERATOR && JSON.stringify(m.settings) === JSON.stringify(s)) return csvPath;
    } catch {
      // unreadable manifest: regenerate
    }
  }
  const rng = new Random(s.seed);
  const rows = ['path,label,speaker,fold'];
  for (let p = 0; p < s.speakers; p++) {
    const spkRng = rng.fork();
    const spk = makeSpeaker(spkRng, p);
    const name = `syn${String(p).padStart(2, '0')}`;
    for (const label of CLASSES) {
      for (let u = 0; u < s.perClass; u++) {
        const seconds = spkRng.uniform(s.duration[0], s.duration[1]);
        const samples = synthesiseUtterance(spkRng, label, spk, s.sampleRate, seconds);
        const rel = `wav/${name}/${name}_${label}_${String(u).padStart(3, '0')}.wav`;
        writeWav16(join(dir, rel), samples, s.sampleRate);
        rows.push(`${rel},${label},${name},${p % s.folds}`);
      }
    }
  }
  atomicWrite(csvPath, rows.join('\n') + '\n');
  const manifest: Manifest = {
    generator: GENERATOR,
    note: 'SYNTHETIC data generated by ser-webgpu (harmonic tones with emotion-like prosody), not real speech',
    settings: s,
    files: rows.length - 1,
  };
  atomicWrite(manifestPath, JSON.stringify(manifest, null, 2) + '\n'); // last: marks the folder complete
  return csvPath;
}

/** Generates (or reuses) the synthetic corpus and loads it; name 'synthetic'. */
export async function loadSynthetic(dir?: string, opts: SyntheticOptions & { check?: FileCheck } = {}): Promise<Corpus> {
  const csv = makeSynthetic(dir ?? defaultSyntheticDir(opts), opts);
  return loadCsv(csv, { name: 'synthetic', check: opts.check });
}
