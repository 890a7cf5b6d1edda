// The EmoDB 4-class subset that ships in the project's data/emodb4-16k: anger, happiness,
// neutral and sadness (W, F, N, T; 339 utterances, 10 speakers; CC0-1.0), resampled to
// 16 kHz mono PCM16 with the project's own resampler, plus the licence and a provenance
// note. `ser data emodb-subset` runs it; the committed folder is its output.
import { existsSync, readdirSync, rmSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { readWav } from '../audio/wav.js';
import { resample } from '../audio/resample.js';
import { writeWav16 } from './synthetic.js';
import { emodbWavDir, parseEmodbName } from './emodb.js';
import { packageRoot } from '../util/package-root.js';
import { makeFolders } from '../io/atomic.js';

/** Emotion letters kept (W anger, F happiness, N neutral, T sadness). */
export const SUBSET_EMOTIONS = ['W', 'F', 'N', 'T'] as const;
export const SUBSET_RATE = 16000;

/** The shipped subset's folder: <package root>/data/emodb4-16k (its wavs are in wav/). */
export function bundledEmodbDir(): string {
  return join(packageRoot(), 'data', 'emodb4-16k');
}

export interface SubsetResult {
  files: number;
  speakers: number;
  counts: Record<string, number>;
  bytes: number;
  sourceRate: number;
}

/**
 * Writes the subset of the EmoDB folder `source` (SSTTTEV.wav files, in `source` or
 * `source/wav`) into `dest`/wav as 16 kHz mono PCM16, with `dest`/LICENSE and
 * `dest`/README.md. The folder is built beside `dest` and renamed into place, so a failed
 * run leaves no half-made subset. Throws when `dest` exists or a source file is unreadable.
 */
export function makeEmodbSubset(source: string, dest: string, opts: { command?: string; onFile?: () => void } = {}): SubsetResult {
  source = resolve(source);
  dest = resolve(dest);
  if (!existsSync(source)) throw new Error(`EmoDB folder not found: ${source}`);
  if (existsSync(dest)) throw new Error(`${dest} already exists; remove it first`);
  const dir = emodbWavDir(source);
  const files = readdirSync(dir)
    .filter((f) => {
      const n = parseEmodbName(f);
      return n !== null && (SUBSET_EMOTIONS as readonly string[]).includes(n.emotion);
    })
    .sort();
  if (files.length === 0) throw new Error(`${dir}: no EmoDB files of emotions ${SUBSET_EMOTIONS.join(', ')}`);
  const tmp = `${dest}.tmp-${process.pid}`;
  rmSync(tmp, { recursive: true, force: true });
  makeFolders(join(tmp, 'wav'));
  const counts: Record<string, number> = {};
  const speakers = new Set<string>();
  const rates = new Set<number>();
  let bytes = 0;
  try {
    for (const f of files) {
      const wav = readWav(join(dir, f));
      rates.add(wav.sampleRate);
      const y = resample(wav.samples, wav.sampleRate, SUBSET_RATE);
      writeWav16(join(tmp, 'wav', f), y, SUBSET_RATE);
      bytes += 44 + 2 * y.length;
      const n = parseEmodbName(f)!;
      counts[n.emotion] = (counts[n.emotion] ?? 0) + 1;
      speakers.add(n.speaker);
      opts.onFile?.();
    }
    const sourceRate = rates.size === 1 ? [...rates][0] : NaN;
    writeFileSync(join(tmp, 'LICENSE'), LICENSE);
    writeFileSync(join(tmp, 'README.md'), provenance(files.length, speakers.size, counts, [...rates], opts.command ?? 'ser data emodb-subset --from EMODB_DIR'));
    makeFolders(dirname(dest));
    renameSync(tmp, dest);
    return { files: files.length, speakers: speakers.size, counts, bytes, sourceRate };
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    throw e;
  }
}

const LICENSE = `EmoDB (Berlin Database of Emotional Speech)
F. Burkhardt, A. Paeschke, M. Rolfes, W. Sendlmeier, B. Weiss: A Database of German
Emotional Speech. Proc. Interspeech 2005, Lisbon, pp. 1517-1520.

Licence: CC0 1.0 Universal (public domain dedication).
https://creativecommons.org/publicdomain/zero/1.0/

The files in wav/ are a subset of EmoDB, resampled; see README.md for what was done.
`;

function provenance(n: number, speakers: number, counts: Record<string, number>, rates: number[], command: string): string {
  return `# EmoDB, 4-class subset, 16 kHz (the project's real-speech default)

- **What**: the utterances of EmoDB (Berlin Database of Emotional Speech; Burkhardt et al.,
  Interspeech 2005) with emotion letters W (anger), F (happiness), N (neutral) and T (sadness):
  ${n} utterances (W ${counts.W ?? 0}, F ${counts.F ?? 0}, N ${counts.N ?? 0}, T ${counts.T ?? 0}) by ${speakers} speakers
  (male 03 10 11 12 15, female 08 09 13 14 16). The other three emotions (L boredom,
  E disgust, A fear) are left out.
- **Licence**: CC0-1.0 (see LICENSE).
- **File names** are EmoDB's own: \`SSTTTEV.wav\`, speaker = characters 1-2, text = 3-5,
  emotion = 6, version = 7. The project's EmoDB loader reads this folder as it is
  (\`--corpus emodb\` or \`--corpus emodb:data/emodb4-16k\`).
- **Source**: the copy of EmoDB this project was developed with. That copy had already been
  processed by its publisher: resampled to ${rates.join(', ')} Hz mono PCM16 and cut or zero-padded to
  exactly 2.000 s per utterance (the original recordings are 16 kHz with natural lengths).
  So these files are 2.000 s long, and some utterances are cut short.
- **What was done here**: each file decoded, resampled to 16 kHz by the project's windowed-sinc
  resampler (src/audio/resample.ts) and written as 16 kHz mono PCM16 WAV (rounded, clipped to
  [-1, 1]). Nothing else (no normalisation, no trimming).
- **Made by**: \`${command}\`
`;
}
