// Any other corpus: a CSV with header "path,label,speaker" and an optional "fold" column.
// Paths are relative to the CSV's folder (absolute paths are kept as they are).
import { readFileSync } from 'node:fs';
import { parse } from 'csv-parse/sync';
import { basename, dirname, isAbsolute, join, resolve } from 'node:path';
import { CLASSES, type Corpus, type FileCheck, type Label, type Utterance, countDropped, keepReadable, naturalCompare, requirePath, validateCorpus } from './corpus.js';

/** Accepted label spellings (case-insensitive) -> class. */
const ALIASES: Record<string, Label> = {
  angry: 'angry', ang: 'angry', anger: 'angry',
  happy: 'happy', hap: 'happy', happiness: 'happy', exc: 'happy', excited: 'happy',
  neutral: 'neutral', neu: 'neutral',
  sad: 'sad', sadness: 'sad',
};

/** The class a label spelling stands for, or null when it is none of the 4. */
export function normaliseLabel(label: string): Label | null {
  return ALIASES[label.trim().toLowerCase()] ?? null;
}

/** One CSV record: its cells and the line (1-based) it starts on. */
export interface CsvRow {
  cells: string[];
  line: number;
}

/**
 * Splits CSV text into records with csv-parse (RFC 4180: quoted cells may hold commas, quotes
 * as "" and line breaks; CRLF, LF or CR line ends; a leading BOM is dropped; blank lines are
 * skipped). Deviations read as Python's csv module reads them: a quote inside an unquoted cell
 * (`he said "wait`) is a literal character and does not swallow the next row, and rows may have
 * fewer or more cells than the header. Errors: a record that cannot be parsed (a quoted cell
 * never closed) throws an Error naming `name` and its line.
 */
export function parseCsvRows(text: string, name = 'CSV'): CsvRow[] {
  text = text.replace(/^\uFEFF/, '');
  let records: { record: string[]; info: { bytes: number } }[];
  try {
    records = (parse as (input: string, options: object) => typeof records)(text, { info: true, relax_quotes: true, relax_column_count: true, skip_empty_lines: true, record_delimiter: ['\r\n', '\n', '\r'] });
  } catch (e) {
    const err = e as Error & { code?: string; lines?: number };
    const why = err.code === 'CSV_QUOTE_NOT_CLOSED' ? 'a quoted cell is never closed' : err.message.replace(/\s*\n\s*/g, ' ');
    throw new Error(`${name}${err.lines ? ` line ${err.lines}` : ''}: cannot parse: ${why}`);
  }
  // A record's line is counted here from its byte offset (info.bytes is where it ends), since
  // csv-parse's own line count takes a CRLF inside a quoted cell for two lines.
  const bytes = Buffer.from(text, 'utf8');
  const isBreak = (i: number) => bytes[i] === 0x0a || bytes[i] === 0x0d;
  let at = 0;
  let line = 1;
  const advance = (to: number) => {
    for (; at < to; at++) if (bytes[at] === 0x0a || (bytes[at] === 0x0d && bytes[at + 1] !== 0x0a)) line++;
  };
  const rows: CsvRow[] = [];
  for (const { record, info } of records) {
    let start = at;
    while (start < bytes.length && isBreak(start)) start++; // blank lines before the record
    advance(start);
    rows.push({ cells: record, line });
    advance(info.bytes);
  }
  return rows.filter((r) => !(r.cells.length === 1 && r.cells[0].trim() === ''));
}

/** The cells of each record of `text` (see parseCsvRows). */
export function parseCsv(text: string, name = 'CSV'): string[][] {
  return parseCsvRows(text, name).map((r) => r.cells);
}

/** Speaker -> fold: speakers in natural sort order, dealt round-robin into k folds. */
export function speakerFolds(speakers: string[], k: number): Map<string, number> {
  const sorted = [...new Set(speakers)].sort(naturalCompare);
  return new Map(sorted.map((s, i) => [s, i % k]));
}

export interface CsvOptions {
  /** Folds when the CSV has no fold column (default 5). */
  folds?: number;
  check?: FileCheck;
  /** Corpus name (default: the CSV's file name without .csv). */
  name?: string;
}

/**
 * Loads a CSV corpus. A `fold` column, when present, gives each row's fold as an integer,
 * numbered from 0 or from 1 (decided by the smallest value); the fold count is the largest
 * fold + 1. Without it, folds come from `speakerFolds`. Rows whose label is not one of the
 * 4 classes are counted in `dropped`; rows with a missing or broken file are `skipped`.
 */
export async function loadCsv(csvPath: string, opts: CsvOptions = {}): Promise<Corpus> {
  csvPath = resolve(csvPath);
  requirePath(csvPath, 'CSV file');
  const base = dirname(csvPath);
  const rows = parseCsvRows(readFileSync(csvPath, 'utf8'), csvPath);
  if (rows.length === 0) throw new Error(`CSV file is empty: ${csvPath}`);
  const header = rows[0].cells.map((h) => h.trim().toLowerCase());
  const col = (name: string) => header.indexOf(name);
  for (const need of ['path', 'label', 'speaker']) {
    if (col(need) < 0) throw new Error(`CSV ${csvPath} has no '${need}' column (header must name path,label,speaker[,fold]; found ${rows[0].cells.join(',')})`);
  }
  const [pc, lc, sc, fc] = [col('path'), col('label'), col('speaker'), col('fold')];

  const skipped: Corpus['skipped'] = [];
  const dropped: Record<string, number> = {};
  const rowsOk: { path: string; label: Label; speaker: string; fold: number | null }[] = [];
  for (let r = 1; r < rows.length; r++) {
    const cells = rows[r].cells.map((c) => c.trim());
    const rel = cells[pc] ?? '';
    const path = rel && (isAbsolute(rel) ? rel : join(base, rel));
    const what = `${csvPath} line ${rows[r].line}`;
    if (!rel) {
      skipped.push({ path: what, reason: 'empty path' });
      continue;
    }
    const speaker = cells[sc] ?? '';
    if (!speaker) {
      skipped.push({ path, reason: `empty speaker (${what})` });
      continue;
    }
    const label = normaliseLabel(cells[lc] ?? '');
    if (!label) {
      countDropped(dropped, (cells[lc] ?? '').trim().toLowerCase() || '(empty)');
      continue;
    }
    let fold: number | null = null;
    if (fc >= 0) {
      const v = cells[fc] ?? '';
      if (!/^\d+$/.test(v)) throw new Error(`${what}: fold '${v}' is not a non-negative integer`);
      fold = Number(v);
    }
    rowsOk.push({ path, label, speaker, fold });
  }

  // Unreadable files are removed first, so speaker-dealt folds only count usable speakers.
  const readable = await keepReadable(rowsOk, skipped, opts.check);
  let folds: number;
  let utterances: Utterance[];
  if (fc >= 0) {
    const values = rowsOk.map((r) => r.fold!);
    const lo = values.length ? Math.min(...values) : 0;
    if (lo > 1) throw new Error(`CSV ${csvPath}: fold numbers must start at 0 or 1, smallest is ${lo}`);
    folds = (values.length ? Math.max(...values) : 0) - lo + 1;
    utterances = readable.map((r) => ({ path: r.path, label: r.label, speaker: r.speaker, fold: r.fold! - lo }));
  } else {
    folds = opts.folds ?? 5;
    const foldOf = speakerFolds(readable.map((r) => r.speaker), folds);
    utterances = readable.map((r) => ({ path: r.path, label: r.label, speaker: r.speaker, fold: foldOf.get(r.speaker)! }));
  }
  const name = opts.name ?? basename(csvPath).replace(/\.csv$/i, '');
  return validateCorpus({ name, classes: CLASSES, utterances, folds, skipped, dropped });
}
