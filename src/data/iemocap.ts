// IEMOCAP in its release layout:
//   Session{1..5}/sentences/wav/<dialog>/<utt>.wav
//   Session{1..5}/dialog/EmoEvaluation/<dialog>.txt  (lines "[start - end]\t<utt>\t<emo>\t[v, a, d]")
// Folds are sessions (leave one session out); each session has one male and one female actor.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { CLASSES, type Corpus, type FileCheck, type Label, type Utterance, countDropped, keepReadable, requirePath, validateCorpus } from './corpus.js';

/** The 4-class mapping of the paper: happy and excited merged; fru, sur, fea, dis, oth, xxx dropped. */
const EMOTIONS: Record<string, Label> = { ang: 'angry', hap: 'happy', exc: 'happy', neu: 'neutral', sad: 'sad' };

export const IEMOCAP_SESSIONS = 5;

export interface EmoEvaluationLine {
  start: number;
  end: number;
  utterance: string;
  emotion: string;
}

const LINE = /^\[\s*([\d.]+)\s*-\s*([\d.]+)\s*\]\s+(\S+)\s+(\S+)\s+\[/;

/** The summary lines of one EmoEvaluation file (the per-evaluator lines are ignored). */
export function parseEmoEvaluation(text: string): EmoEvaluationLine[] {
  const out: EmoEvaluationLine[] = [];
  for (const line of text.split(/\r?\n/)) {
    const m = LINE.exec(line);
    if (m) out.push({ start: Number(m[1]), end: Number(m[2]), utterance: m[3], emotion: m[4] });
  }
  return out;
}

/**
 * Session number and speaker of an utterance name: 'Ses01F_impro01_M000' is session 1, and its
 * speaker is the male actor of session 1 ('Ses01M'): the letter opening the last part is the
 * gender of who speaks this line (the F after 'Ses01' only says who wore the motion capture).
 */
export function parseIemocapUtterance(name: string): { session: number; speaker: string; dialog: string } | null {
  const m = /^Ses(\d\d)[MF]_.*_([MF])\d+$/.exec(name);
  if (!m) return null;
  return { session: Number(m[1]), speaker: `Ses${m[1]}${m[2]}`, dialog: name.slice(0, name.lastIndexOf('_')) };
}

function listDir(path: string): string[] {
  return existsSync(path) && statSync(path).isDirectory() ? readdirSync(path).sort() : [];
}

export async function loadIemocap(root: string, opts: { check?: FileCheck } = {}): Promise<Corpus> {
  root = resolve(root);
  requirePath(root, 'IEMOCAP folder');
  const skipped: Corpus['skipped'] = [];
  const dropped: Record<string, number> = {};
  const candidates: Utterance[] = [];
  for (let s = 1; s <= IEMOCAP_SESSIONS; s++) {
    const session = join(root, `Session${s}`);
    const evalDir = join(session, 'dialog', 'EmoEvaluation');
    const wavDir = join(session, 'sentences', 'wav');
    requirePath(session, `IEMOCAP session folder`);
    requirePath(evalDir, `IEMOCAP EmoEvaluation folder`);
    requirePath(wavDir, `IEMOCAP sentences/wav folder`);

    // Index the wavs by utterance name (skipping macOS '._' shadow files).
    const wavs = new Map<string, string>();
    for (const dialog of listDir(wavDir)) {
      for (const file of listDir(join(wavDir, dialog))) {
        if (file.startsWith('.') || !file.toLowerCase().endsWith('.wav')) continue;
        wavs.set(file.slice(0, -4), join(wavDir, dialog, file));
      }
    }
    const labelled = new Set<string>();
    for (const file of listDir(evalDir)) {
      if (file.startsWith('.') || !file.endsWith('.txt')) continue;
      const txt = join(evalDir, file);
      if (!statSync(txt).isFile()) continue;
      for (const line of parseEmoEvaluation(readFileSync(txt, 'utf8'))) {
        if (labelled.has(line.utterance)) continue; // listed twice: keep the first label
        labelled.add(line.utterance);
        const label = EMOTIONS[line.emotion];
        if (!label) {
          countDropped(dropped, line.emotion);
          continue;
        }
        const where = wavs.get(line.utterance) ?? join(wavDir, line.utterance.slice(0, line.utterance.lastIndexOf('_')), `${line.utterance}.wav`);
        const name = parseIemocapUtterance(line.utterance);
        if (!name) {
          skipped.push({ path: where, reason: `unparseable utterance name '${line.utterance}' in ${txt}` });
          continue;
        }
        if (name.session !== s) {
          skipped.push({ path: where, reason: `utterance of session ${name.session} listed under Session${s} (${txt})` });
          continue;
        }
        const path = wavs.get(line.utterance);
        if (!path) {
          skipped.push({ path: where, reason: `labelled in ${txt} but the wav is missing` });
          continue;
        }
        candidates.push({ path, label, speaker: name.speaker, fold: s - 1 });
      }
    }
    for (const name of wavs.keys()) if (!labelled.has(name)) countDropped(dropped, 'unlabelled');
  }
  const utterances = await keepReadable(candidates, skipped, opts.check);
  return validateCorpus({ name: 'iemocap', classes: CLASSES, utterances, folds: IEMOCAP_SESSIONS, skipped, dropped });
}
