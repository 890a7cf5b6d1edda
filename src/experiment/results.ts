// What one fold of one experiment produces, stored as one JSON file per cell, named by the
// cell and the key of its exact settings (cells.ts), written atomically: a sweep interrupted
// anywhere resumes from the files it has, and results of other settings never stand in. A
// damaged file (empty, truncated, not a result) counts as absent, so a sweep recomputes it.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonFileError, readJsonFile } from '../io/json.js';
import type { Scores } from '../metrics/metrics.js';
import { cellTag, settingsKey, type Settings, type Json } from './cells.js';
import { RECIPE_NAMES, type AttackLabels, type RecipeName } from '../audio/recipe.js';

export interface AttackResult {
  kind: 'fgsm' | 'pgd' | 'noise';
  /** Attack strength (fgsm, pgd). */
  eps?: number;
  /** Signal-to-noise ratio in dB (noise). */
  snr?: number;
  scores: Scores;
}

export interface FoldResult extends ResultProvenance {
  /** The recipe (input space, attack geometry). Files from before recipes have none: read as `db`. */
  recipe?: RecipeName;
  /** Labels the test-time (and training) attacks used; `true` in files from before recipes. */
  attackLabels?: AttackLabels;
  /** The attack's clip bound (db: range [0, beta]; paper: ball of radius beta); absent before recipes (1). */
  beta?: number;
  /** First iteration of the mixed loss (absent before recipes: 0). */
  advStart?: number;
  corpus: string;
  model: string;
  /** FGSM eps used in training; 0 = standard training. */
  trainEps: number;
  fold: number;
  iterations: number;
  seed: number;
  clean: Scores;
  attacks: AttackResult[];
  losses: { iteration: number; loss: number }[];
  trainSeconds: number;
  adapter: string;
  testSize: number;
  trainSize: number;
}

/** The settings a result was computed with (see cells.ts), its key, and who computed it. */
export interface ResultProvenance {
  /** Every setting that changes a number of this cell; absent in results written before keys existed. */
  config?: Settings;
  /** settingsKey(config): also in the file name. */
  key?: string;
  /** The process that computed it. */
  worker?: { host: string; pid: number };
}

/** A result file's name: readable cell, then the key of its exact settings. */
export function foldFileName(r: { model: string; trainEps: number; fold: number }, key: string): string {
  return `${cellTag(r)}-${key}.json`;
}

/**
 * The settings of a result: its recorded config, or for a result written before configs were
 * recorded, the folder's config.json plus what the file itself says (model, eps, fold, the
 * attacks evaluated; recipe, attack labels, beta and adv-start when it has them), missing
 * fields meaning their legacy defaults (cells.ts).
 */
export function resultConfig(r: FoldResult, folder: Settings = {}): Settings {
  if (r.config) return r.config;
  const at = (kind: string) => r.attacks.filter((a) => a.kind === kind).map((a) => (kind === 'noise' ? a.snr! : a.eps!));
  // What a file from the recipe era (before keys) says of its recipe and attack wins over the folder's.
  const own: Settings = {};
  for (const k of ['recipe', 'attackLabels', 'beta', 'advStart'] as const) if (r[k] !== undefined) own[k] = r[k]!;
  return { ...folder, ...own, corpus: (folder.corpus as Json) ?? r.corpus, iterations: r.iterations, seed: r.seed, testEps: at('fgsm'), pgdEps: at('pgd'), noiseSnr: at('noise'), model: r.model, trainEps: r.trainEps, fold: r.fold };
}

/** Writes a result atomically under folds/, named by its key; returns the path. */
export function saveFoldResult(dir: string, r: FoldResult): string {
  const key = r.key ?? settingsKey(resultConfig(r, readFolderSettings(dir)));
  const path = join(dir, 'folds', foldFileName(r, key));
  writeFileAtomic(path, JSON.stringify({ ...r, key }, null, 1));
  return path;
}

/** Why a parsed value is not a fold result (a field missing or of the wrong type), or null. */
export function foldResultProblem(v: unknown): string | null {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return 'not a fold result (not a JSON object)';
  const r = v as Record<string, unknown>;
  for (const [k, type] of [['model', 'string'], ['corpus', 'string'], ['trainEps', 'number'], ['fold', 'number'], ['clean', 'object'], ['attacks', 'object'], ['losses', 'object']] as const) {
    if (typeof r[k] !== type || r[k] === null) return `not a fold result ('${k}' is missing or not a ${type})`;
  }
  const clean = r.clean as Record<string, unknown>;
  if (typeof clean.uar !== 'number' || !Array.isArray(clean.confusion)) return "not a fold result ('clean' has no uar or confusion)";
  if (!Array.isArray(r.attacks) || !Array.isArray(r.losses)) return "not a fold result ('attacks' or 'losses' is not a list)";
  // Absent in files from before recipes (read as db, true labels); present, they must be known names.
  if (r.recipe !== undefined && !(RECIPE_NAMES as readonly unknown[]).includes(r.recipe)) return `not a fold result (unknown recipe ${JSON.stringify(r.recipe)})`;
  if (r.attackLabels !== undefined && r.attackLabels !== 'true' && r.attackLabels !== 'predicted') return `not a fold result (unknown attackLabels ${JSON.stringify(r.attackLabels)})`;
  // Absent in files from before keys; present, the key is settingsKey's 16 hex digits and the config an object.
  if (r.key !== undefined && (typeof r.key !== 'string' || !/^[0-9a-f]{16}$/.test(r.key))) return `not a fold result (key ${JSON.stringify(r.key)} is not 16 hex digits)`;
  if (r.config !== undefined && (r.config === null || typeof r.config !== 'object' || Array.isArray(r.config))) return "not a fold result ('config' is not an object)";
  return null;
}

const KEYED_NAME = /-[0-9a-f]{16}\.json$/;

/** Whether the file at `path` is a complete, readable fold result. */
function readable(path: string): boolean {
  try {
    readJsonFile(path, foldResultProblem);
    return true;
  } catch {
    return false;
  }
}

/**
 * The path of the readable result with this key, if there is one. A damaged file with the
 * key's name counts as absent (the sweep recomputes it and overwrites it atomically).
 */
export function findFoldResult(dir: string, key: string): string | undefined {
  const folder = join(dir, 'folds');
  if (!existsSync(folder)) return undefined;
  const names = readdirSync(folder);
  const name = names.find((f) => f.endsWith(`-${key}.json`));
  if (name) return readable(join(folder, name)) ? join(folder, name) : undefined;
  // Results written before keys were in file names: derive their keys (damaged ones left out).
  if (names.some((f) => f.endsWith('.json') && !KEYED_NAME.test(f))) return loadFoldResults(dir, () => {}).find((r) => r.key === key)?.file;
  return undefined;
}

/** The run folder's config.json (its grid-wide settings), or {} when there is none. Errors: JsonFileError naming the file. */
export function readFolderSettings(dir: string): Settings {
  const path = join(dir, 'config.json');
  if (!existsSync(path)) return {};
  return readJsonFile<Settings>(path, (v) => (!v || typeof v !== 'object' || Array.isArray(v) ? 'not a run configuration (not a JSON object)' : null));
}

/** A result as loaded: with its settings and key filled in (derived for old files). */
export type KeyedResult = FoldResult & Required<Pick<FoldResult, 'recipe' | 'attackLabels'>> & { config: Settings; key: string; file: string };

/**
 * Every result in a run folder, sorted by file name; old results get derived settings and keys.
 * A file that is empty, truncated or not a fold result is passed to `onBad` (path, reason) and
 * left out; without `onBad` it is thrown as a JsonFileError naming the file.
 */
export function loadFoldResults(dir: string, onBad?: (path: string, reason: string) => void): KeyedResult[] {
  const folder = join(dir, 'folds');
  if (!existsSync(folder)) return [];
  const settings = readFolderSettings(dir);
  const out: KeyedResult[] = [];
  for (const f of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
    const file = join(folder, f);
    let r: FoldResult;
    try {
      r = readJsonFile<FoldResult>(file, foldResultProblem);
    } catch (e) {
      if (!(e instanceof JsonFileError) || !onBad) throw e;
      onBad(e.path, e.reason);
      continue;
    }
    const config = resultConfig(r, settings);
    out.push({ ...withRecipeDefaults(r), config, key: r.key ?? settingsKey(config), file });
  }
  return out;
}

/** A result file from before recipes existed reads as `db` against true labels (what it was). */
export function withRecipeDefaults<R extends FoldResult>(r: R): R & Required<Pick<FoldResult, 'recipe' | 'attackLabels'>> {
  return { ...r, recipe: r.recipe ?? 'db', attackLabels: r.attackLabels ?? 'true' };
}
