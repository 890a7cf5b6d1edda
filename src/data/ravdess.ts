// RAVDESS speech: Actor_NN/03-01-EE-II-SS-RR-AA.wav (modality 03 audio-only, channel 01 speech).
import { readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLASSES, type Corpus, type FileCheck, type Label, type Utterance, countDropped, keepReadable, requirePath, validateCorpus } from './corpus.js';

/** Emotion code -> class; 02 calm, 06 fearful, 07 disgust, 08 surprised are dropped. */
const EMOTIONS: Record<string, Label> = { '05': 'angry', '03': 'happy', '01': 'neutral', '04': 'sad' };
const OTHER_EMOTIONS: Record<string, string> = { '02': 'calm', '06': 'fearful', '07': 'disgust', '08': 'surprised' };

export interface RavdessName {
  modality: string;
  channel: string;
  emotion: string;
  intensity: string;
  statement: string;
  repetition: string;
  actor: number;
}

const NAME = /^(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)-(\d\d)\.wav$/;

/** Parses a RAVDESS file name ('03-01-05-01-02-01-12.wav'); null when it is not one. */
export function parseRavdessName(file: string): RavdessName | null {
  const m = NAME.exec(file);
  if (!m) return null;
  return { modality: m[1], channel: m[2], emotion: m[3], intensity: m[4], statement: m[5], repetition: m[6], actor: Number(m[7]) };
}

/**
 * Actor-independent, gender-balanced folds. RAVDESS actors with odd numbers are male, even
 * numbers female. Rule: sort the males and the females by actor number; the i-th male and the
 * i-th female form pair i (actors left over when one gender has more form pairs of one);
 * pair i goes to fold i mod k. With all 24 actors and k = 5: pairs (1,2) (3,4) ... (23,24),
 * folds {1,2,11,12,21,22} {3,4,13,14,23,24} {5,6,15,16} {7,8,17,18} {9,10,19,20}.
 * Returns actor number -> fold.
 */
export function ravdessFolds(actors: number[], k: number): Map<number, number> {
  const sorted = [...new Set(actors)].sort((a, b) => a - b);
  const males = sorted.filter((a) => a % 2 === 1);
  const females = sorted.filter((a) => a % 2 === 0);
  const folds = new Map<number, number>();
  const pairs = Math.max(males.length, females.length);
  for (let i = 0; i < pairs; i++) {
    if (i < males.length) folds.set(males[i], i % k);
    if (i < females.length) folds.set(females[i], i % k);
  }
  return folds;
}

export async function loadRavdess(root: string, opts: { folds?: number; check?: FileCheck } = {}): Promise<Corpus> {
  root = resolve(root);
  requirePath(root, 'RAVDESS folder');
  const k = opts.folds ?? 5;
  const skipped: Corpus['skipped'] = [];
  const dropped: Record<string, number> = {};
  const found: { path: string; label: Label; actor: number }[] = [];
  const actorDirs = readdirSync(root).filter((d) => /^Actor_\d+$/.test(d) && statSync(join(root, d)).isDirectory()).sort();
  if (actorDirs.length === 0) throw new Error(`RAVDESS folder has no Actor_NN folders: ${root}`);
  for (const dir of actorDirs) {
    const dirActor = Number(dir.slice('Actor_'.length));
    for (const file of readdirSync(join(root, dir)).sort()) {
      if (!file.toLowerCase().endsWith('.wav') || file.startsWith('.')) continue;
      const path = join(root, dir, file);
      const name = parseRavdessName(file);
      if (!name) {
        skipped.push({ path, reason: 'not a RAVDESS file name (MM-VV-EE-II-SS-RR-AA.wav)' });
        continue;
      }
      if (name.actor !== dirActor) {
        skipped.push({ path, reason: `actor ${name.actor} in the name but the file is in ${dir}` });
        continue;
      }
      if (name.modality === '01' || name.modality === '02') {
        countDropped(dropped, 'video');
        continue;
      }
      if (name.channel !== '01') {
        countDropped(dropped, 'song');
        continue;
      }
      const label = EMOTIONS[name.emotion];
      if (!label) {
        if (OTHER_EMOTIONS[name.emotion]) countDropped(dropped, OTHER_EMOTIONS[name.emotion]);
        else skipped.push({ path, reason: `unknown RAVDESS emotion code '${name.emotion}'` });
        continue;
      }
      found.push({ path, label, actor: name.actor });
    }
  }
  const foldOf = ravdessFolds(found.map((f) => f.actor), k);
  const candidates: Utterance[] = found.map((f) => ({
    path: f.path,
    label: f.label,
    speaker: `Actor_${String(f.actor).padStart(2, '0')}`,
    fold: foldOf.get(f.actor)!,
  }));
  const utterances = await keepReadable(candidates, skipped, opts.check);
  return validateCorpus({ name: 'ravdess', classes: CLASSES, utterances, folds: k, skipped, dropped });
}
