// EmoDB (Berlin Database of Emotional Speech): <root>/wav/SSTTTEV.wav, or the wavs directly in <root>.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLASSES, type Corpus, type FileCheck, type Label, type Utterance, countDropped, keepReadable, requirePath, validateCorpus } from './corpus.js';

/** Emotion letter (character 6) -> class; L boredom, E disgust, A fear are dropped. */
const EMOTIONS: Record<string, Label> = { W: 'angry', F: 'happy', N: 'neutral', T: 'sad' };
const OTHER_EMOTIONS: Record<string, string> = { L: 'boredom', E: 'disgust', A: 'fear' };

/** The 5 speaker-independent folds: one male and one female speaker each. */
export const EMODB_FOLDS: readonly (readonly [string, string])[] = [
  ['03', '08'],
  ['09', '10'],
  ['11', '13'],
  ['12', '14'],
  ['15', '16'],
];

/** Speaker (2 digits), text (letter + 2 digits), emotion letter, version letter. */
const NAME = /^(\d\d)([a-z]\d\d)([A-Z])([a-z])\.wav$/;

export interface EmodbName {
  speaker: string;
  text: string;
  emotion: string;
  version: string;
}

/** Parses an EmoDB file name ('03a01Fa.wav'); null when it is not one. */
export function parseEmodbName(file: string): EmodbName | null {
  const m = NAME.exec(file);
  return m ? { speaker: m[1], text: m[2], emotion: m[3], version: m[4] } : null;
}

/** The folder holding the wavs: <root>/wav when it exists, else <root> itself. */
export function emodbWavDir(root: string): string {
  const sub = join(root, 'wav');
  return existsSync(sub) && statSync(sub).isDirectory() ? sub : root;
}

export async function loadEmodb(root: string, opts: { check?: FileCheck } = {}): Promise<Corpus> {
  root = resolve(root);
  requirePath(root, 'EmoDB folder');
  const dir = emodbWavDir(root);
  const foldOf = new Map<string, number>();
  EMODB_FOLDS.forEach((pair, f) => pair.forEach((s) => foldOf.set(s, f)));

  const skipped: Corpus['skipped'] = [];
  const dropped: Record<string, number> = {};
  const candidates: Utterance[] = [];
  for (const file of readdirSync(dir).sort()) {
    if (!file.toLowerCase().endsWith('.wav') || file.startsWith('.')) continue;
    const path = join(dir, file);
    const name = parseEmodbName(file);
    if (!name) {
      skipped.push({ path, reason: 'not an EmoDB file name (SSTTTEV.wav)' });
      continue;
    }
    const label = EMOTIONS[name.emotion];
    if (!label) {
      if (OTHER_EMOTIONS[name.emotion]) countDropped(dropped, OTHER_EMOTIONS[name.emotion]);
      else skipped.push({ path, reason: `unknown EmoDB emotion letter '${name.emotion}'` });
      continue;
    }
    const fold = foldOf.get(name.speaker);
    if (fold === undefined) {
      skipped.push({ path, reason: `speaker ${name.speaker} is not one of EmoDB's 10 speakers` });
      continue;
    }
    candidates.push({ path, label, speaker: name.speaker, fold });
  }
  const utterances = await keepReadable(candidates, skipped, opts.check);
  return validateCorpus({ name: 'emodb', classes: CLASSES, utterances, folds: EMODB_FOLDS.length, skipped, dropped });
}
