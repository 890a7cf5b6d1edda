// Speaker-independent splits of a corpus for cross-validation, and per-class counts.
import { Random } from '../util/random.js';
import { CLASSES, type Corpus, type Utterance, labelId, naturalCompare } from './corpus.js';

export interface Split {
  train: Utterance[];
  /** Held-out speakers from the training folds (empty unless valFraction > 0). */
  val: Utterance[];
  test: Utterance[];
}

/**
 * Test = fold `testFold`; train = all other folds. With `valFraction` > 0, whole speakers are
 * moved from train to val (chosen by a seeded shuffle of the training speakers) until val holds
 * at least that fraction of the training utterances; at least one speaker stays in train.
 * No speaker is ever in two of train/val/test (checked).
 */
export function splitFold(corpus: Corpus, testFold: number, opts: { valFraction?: number; seed?: number } = {}): Split {
  if (!Number.isInteger(testFold) || testFold < 0 || testFold >= corpus.folds) {
    throw new Error(`test fold ${testFold} is out of range: corpus '${corpus.name}' has folds 0..${corpus.folds - 1}`);
  }
  const valFraction = opts.valFraction ?? 0;
  if (!(valFraction >= 0 && valFraction < 1)) throw new Error(`valFraction must be in [0, 1), got ${valFraction}`);
  const test = corpus.utterances.filter((u) => u.fold === testFold);
  let train = corpus.utterances.filter((u) => u.fold !== testFold);
  let val: Utterance[] = [];
  if (valFraction > 0) {
    const speakers = new Random(opts.seed ?? 0).shuffle(speakersOf(train));
    const perSpeaker = new Map<string, number>();
    for (const u of train) perSpeaker.set(u.speaker, (perSpeaker.get(u.speaker) ?? 0) + 1);
    const want = valFraction * train.length;
    const chosen = new Set<string>();
    let count = 0;
    for (const s of speakers.slice(0, -1)) {
      if (count >= want) break;
      chosen.add(s);
      count += perSpeaker.get(s)!;
    }
    if (chosen.size === 0) throw new Error(`cannot hold out validation speakers: fold ${testFold}'s training part has only ${speakers.length} speaker`);
    val = train.filter((u) => chosen.has(u.speaker));
    train = train.filter((u) => !chosen.has(u.speaker));
  }
  assertDisjointSpeakers({ train, val, test });
  return { train, val, test };
}

/** Throws when a speaker appears in more than one part of a split. */
export function assertDisjointSpeakers(split: Split): void {
  const owner = new Map<string, string>();
  for (const part of ['train', 'val', 'test'] as const) {
    for (const u of split[part]) {
      const prev = owner.get(u.speaker);
      if (prev !== undefined && prev !== part) throw new Error(`speaker '${u.speaker}' is in both ${prev} and ${part}: split is not speaker-independent`);
      owner.set(u.speaker, part);
    }
  }
}

/** Distinct speakers in natural sort order. */
export function speakersOf(utts: readonly Utterance[]): string[] {
  return [...new Set(utts.map((u) => u.speaker))].sort(naturalCompare);
}

/** Utterances per class, in CLASSES order. */
export function classCounts(utts: readonly Utterance[]): number[] {
  const n = new Array<number>(CLASSES.length).fill(0);
  for (const u of utts) n[labelId(u.label)]++;
  return n;
}

/** [fold][class] utterance counts. */
export function foldClassCounts(corpus: Corpus): number[][] {
  return Array.from({ length: corpus.folds }, (_, f) => classCounts(corpus.utterances.filter((u) => u.fold === f)));
}

/** Label ids (index into CLASSES) of a list of utterances, for the models and metrics. */
export function labelIds(utts: readonly Utterance[]): Int32Array {
  return Int32Array.from(utts, (u) => labelId(u.label));
}

/** A text table: one row per fold (speakers, per-class counts, total), a total row, and skip/drop counts. */
export function describeCorpus(corpus: Corpus): string {
  const head = ['fold', 'speakers', ...CLASSES, 'total'];
  const rows: string[][] = [];
  const counts = foldClassCounts(corpus);
  for (let f = 0; f < corpus.folds; f++) {
    const utts = corpus.utterances.filter((u) => u.fold === f);
    rows.push([String(f), speakersOf(utts).join(' '), ...counts[f].map(String), String(utts.length)]);
  }
  const all = classCounts(corpus.utterances);
  rows.push(['all', String(speakersOf(corpus.utterances).length), ...all.map(String), String(corpus.utterances.length)]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((c, i) => (i === 1 ? c.padEnd(widths[i]) : c.padStart(widths[i]))).join('  ');
  const out = [`corpus ${corpus.name}: ${corpus.utterances.length} utterances, ${corpus.folds} folds`, line(head), ...rows.map(line)];
  const dropped = Object.entries(corpus.dropped ?? {});
  if (dropped.length) out.push(`dropped (not among the 4 classes): ${dropped.map(([k, v]) => `${k} ${v}`).join(', ')}`);
  if (corpus.skipped.length) {
    out.push(`skipped ${corpus.skipped.length} file(s):`);
    for (const s of corpus.skipped.slice(0, 10)) out.push(`  ${s.path}: ${s.reason}`);
    if (corpus.skipped.length > 10) out.push(`  ... and ${corpus.skipped.length - 10} more`);
  }
  return out.join('\n');
}
