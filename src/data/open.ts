// Picks a corpus loader from a spec string: 'emodb:PATH', 'ravdess:PATH', 'iemocap:PATH',
// 'csv:PATH.csv', 'synthetic[:DIR]', or a bare PATH whose layout tells which corpus it is.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Corpus, FileCheck } from './corpus.js';
import { emodbWavDir, loadEmodb, parseEmodbName } from './emodb.js';
import { loadRavdess } from './ravdess.js';
import { loadIemocap } from './iemocap.js';
import { loadCsv } from './csv.js';
import { loadSynthetic, type SyntheticOptions } from './synthetic.js';
import { bundledEmodbDir } from './emodb-subset.js';

export const CORPUS_KINDS = ['emodb', 'ravdess', 'iemocap', 'csv', 'synthetic'] as const;
export type CorpusKind = (typeof CORPUS_KINDS)[number];

export interface OpenOptions {
  /** Folds for loaders that deal speakers into folds (RAVDESS, CSV without a fold column); default 5. */
  folds?: number;
  /** Deeper per-file check (e.g. a full WAV decode); see FileCheck. */
  check?: FileCheck;
  /** Settings of the generated corpus for 'synthetic'. */
  synthetic?: SyntheticOptions;
}

/** Which corpus a folder or file looks like; null when it matches none. */
export function detectCorpus(path: string): Exclude<CorpusKind, 'synthetic'> | null {
  if (!existsSync(path)) return null;
  if (statSync(path).isFile()) return /\.csv$/i.test(path) ? 'csv' : null;
  const entries = readdirSync(path);
  if (entries.includes('Session1')) return 'iemocap';
  if (entries.some((e) => /^Actor_\d+$/.test(e))) return 'ravdess';
  const wavs = readdirSync(emodbWavDir(path)).filter((f) => f.toLowerCase().endsWith('.wav'));
  if (wavs.length > 0 && wavs.every((f) => f.length === 11 && parseEmodbName(f))) return 'emodb';
  return null;
}

/** Splits 'kind:rest' when kind is a known corpus kind; otherwise the whole spec is a path. */
export function parseCorpusSpec(spec: string): { kind: CorpusKind | null; path: string } {
  const colon = spec.indexOf(':');
  if (colon > 0) {
    const kind = spec.slice(0, colon).toLowerCase();
    if ((CORPUS_KINDS as readonly string[]).includes(kind)) return { kind: kind as CorpusKind, path: spec.slice(colon + 1) };
  }
  if (spec.toLowerCase() === 'synthetic') return { kind: 'synthetic', path: '' };
  // A bare 'emodb' is the EmoDB 4-class subset that ships in the package (data/emodb4-16k).
  if (spec.toLowerCase() === 'emodb') return { kind: 'emodb', path: bundledEmodbDir() };
  return { kind: null, path: spec };
}

export async function openCorpus(spec: string, opts: OpenOptions = {}): Promise<Corpus> {
  const parsed = parseCorpusSpec(spec);
  if (parsed.kind === 'synthetic') {
    return loadSynthetic(parsed.path || undefined, { ...opts.synthetic, folds: opts.synthetic?.folds ?? opts.folds, check: opts.check });
  }
  if (!parsed.path) throw new Error(`corpus spec '${spec}' names no path (e.g. ${parsed.kind ?? 'emodb'}:/data/emodb)`);
  const path = resolve(parsed.path);
  if (!existsSync(path)) throw new Error(`corpus path not found: ${path}`);
  const kind = parsed.kind ?? detectCorpus(path);
  switch (kind) {
    case 'emodb':
      return loadEmodb(path, { check: opts.check });
    case 'ravdess':
      return loadRavdess(path, { folds: opts.folds, check: opts.check });
    case 'iemocap':
      return loadIemocap(path, { check: opts.check });
    case 'csv':
      return loadCsv(path, { folds: opts.folds, check: opts.check });
    default:
      throw new Error(
        `cannot tell which corpus ${path} is (expected Session1/ for IEMOCAP, Actor_NN/ for RAVDESS, wav/SSTTTEV.wav for EmoDB, or a .csv); ` +
          `name it explicitly: emodb:PATH, ravdess:PATH, iemocap:PATH, csv:PATH.csv, synthetic[:DIR]`,
      );
  }
}

/** Where the project's shared development data is: $SER_DATA, else ../shared/data next to the repo. */
export function sharedDataDir(repoRoot = process.cwd()): string {
  return process.env.SER_DATA ? resolve(process.env.SER_DATA) : resolve(join(repoRoot, '..', 'shared', 'data'));
}
