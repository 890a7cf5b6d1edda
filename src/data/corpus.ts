// The one shape every corpus loader produces, and the checks every loader runs before returning.
import { openSync, readSync, closeSync, statSync } from 'node:fs';

/** Fixed class order: the index of a class here is its label id everywhere (models, metrics). */
export const CLASSES = ['angry', 'happy', 'neutral', 'sad'] as const;
export type Label = (typeof CLASSES)[number];

export interface Utterance {
  /** Absolute path of the WAV file. */
  path: string;
  label: Label;
  /** Unique across the corpus (e.g. 'Ses01F', '03', 'Actor_07'). */
  speaker: string;
  /** 0-based cross-validation fold; every speaker is in exactly one fold. */
  fold: number;
}

export interface Corpus {
  name: string;
  classes: typeof CLASSES;
  utterances: Utterance[];
  /** Number of folds (fold ids are 0 .. folds-1). */
  folds: number;
  /** Files that were found but could not be used, with why (broken header, unparseable name...). */
  skipped: { path: string; reason: string }[];
  /** Utterances left out on purpose because their emotion is not one of the 4 classes, by original label. */
  dropped?: Record<string, number>;
}

/** Label id (index into CLASSES). */
export function labelId(label: Label): number {
  return CLASSES.indexOf(label);
}

/**
 * Optional deeper check of an audio file (e.g. a full WAV decode); throw or return a reason
 * string to have the file skipped. Loaders always run the cheap RIFF/WAVE header check first.
 */
export type FileCheck = (path: string) => string | null | void | Promise<string | null | void>;

/** Reason a file cannot be a usable WAV, from its first bytes only; null when it looks fine. */
export function wavHeaderProblem(path: string): string | null {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    return code === 'ENOENT' ? 'file not found' : `cannot open: ${code ?? String(e)}`;
  }
  try {
    const head = Buffer.alloc(12);
    const n = readSync(fd, head, 0, 12, 0);
    if (n < 12) return `too short for a WAV header (${statSync(path).size} bytes)`;
    if (head.toString('latin1', 0, 4) !== 'RIFF' && head.toString('latin1', 0, 4) !== 'RF64') return 'not a RIFF file';
    if (head.toString('latin1', 8, 12) !== 'WAVE') return 'RIFF file but not WAVE';
    if (statSync(path).size <= 44) return 'WAV file with no audio data';
    return null;
  } finally {
    closeSync(fd);
  }
}

/**
 * Runs the header check and the optional deeper check on each candidate; the good ones are
 * returned, the bad ones are appended to `skipped` with their reason.
 */
export async function keepReadable<T extends { path: string }>(
  items: T[],
  skipped: Corpus['skipped'],
  check?: FileCheck,
): Promise<T[]> {
  const good: T[] = [];
  for (const item of items) {
    let reason = wavHeaderProblem(item.path);
    if (reason === null && check) {
      try {
        reason = (await check(item.path)) ?? null;
      } catch (e) {
        reason = e instanceof Error ? e.message : String(e);
      }
    }
    if (reason === null) good.push(item);
    else skipped.push({ path: item.path, reason });
  }
  return good;
}

/**
 * Throws a clear Error when the corpus cannot be used for 4-class speaker-independent
 * cross-validation: a class with no utterance, an empty fold, a fold id out of range, or a
 * speaker found in two folds.
 */
export function validateCorpus(c: Corpus): Corpus {
  const where = `corpus '${c.name}'`;
  if (!Number.isInteger(c.folds) || c.folds < 2) throw new Error(`${where}: needs at least 2 folds, has ${c.folds}`);
  if (c.utterances.length === 0) {
    const hint = c.skipped.length ? ` (${c.skipped.length} files skipped, first: ${c.skipped[0].path}: ${c.skipped[0].reason})` : '';
    throw new Error(`${where}: no usable utterances${hint}`);
  }
  const perClass = new Array<number>(CLASSES.length).fill(0);
  const perFold = new Array<number>(c.folds).fill(0);
  const speakerFold = new Map<string, number>();
  for (const u of c.utterances) {
    const id = labelId(u.label);
    if (id < 0) throw new Error(`${where}: ${u.path} has label '${u.label}', not one of ${CLASSES.join('/')}`);
    if (!Number.isInteger(u.fold) || u.fold < 0 || u.fold >= c.folds) {
      throw new Error(`${where}: ${u.path} is in fold ${u.fold}, outside 0..${c.folds - 1}`);
    }
    const prev = speakerFold.get(u.speaker);
    if (prev !== undefined && prev !== u.fold) {
      throw new Error(`${where}: speaker '${u.speaker}' is in folds ${prev} and ${u.fold}; folds must be speaker-independent`);
    }
    speakerFold.set(u.speaker, u.fold);
    perClass[id]++;
    perFold[u.fold]++;
  }
  const missing = CLASSES.filter((_, i) => perClass[i] === 0);
  if (missing.length) throw new Error(`${where}: class ${missing.map((m) => `'${m}'`).join(', ')} has no utterances`);
  const empty = perFold.flatMap((n, f) => (n === 0 ? [f] : []));
  if (empty.length) throw new Error(`${where}: fold ${empty.join(', ')} is empty (folds are numbered from 0, ${c.folds} folds)`);
  return c;
}

/** Throws an Error naming the path when it does not exist. */
export function requirePath(path: string, what: string): void {
  try {
    statSync(path);
  } catch {
    throw new Error(`${what} not found: ${path}`);
  }
}

/** Numeric-aware sort so speaker '9' comes before '10'. */
export function naturalCompare(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}

/** Adds one to `dropped[label]`. */
export function countDropped(dropped: Record<string, number>, label: string): void {
  dropped[label] = (dropped[label] ?? 0) + 1;
}
