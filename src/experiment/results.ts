// What one fold of one experiment produces, stored as one JSON file per (model, training
// eps, fold), written atomically: a sweep interrupted anywhere resumes from the files it has.
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonFileError, readJsonFile } from '../io/json.js';
import type { Scores } from '../metrics/metrics.js';
import { RECIPE_NAMES, type AttackLabels, type RecipeName } from '../audio/recipe.js';

export interface AttackResult {
  kind: 'fgsm' | 'pgd' | 'noise';
  /** Attack strength (fgsm, pgd). */
  eps?: number;
  /** Signal-to-noise ratio in dB (noise). */
  snr?: number;
  scores: Scores;
}

export interface FoldResult {
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

export function foldFileName(model: string, trainEps: number, fold: number): string {
  return `${model}-eps${trainEps.toFixed(2)}-fold${fold}.json`;
}

export function saveFoldResult(dir: string, r: FoldResult): string {
  const path = join(dir, 'folds', foldFileName(r.model, r.trainEps, r.fold));
  writeFileAtomic(path, JSON.stringify(r, null, 1));
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
  return null;
}

/** Whether a complete, readable result exists (a damaged file counts as absent, so it is recomputed). */
export function hasFoldResult(dir: string, model: string, trainEps: number, fold: number): boolean {
  const path = join(dir, 'folds', foldFileName(model, trainEps, fold));
  if (!existsSync(path)) return false;
  try {
    readJsonFile(path, foldResultProblem);
    return true;
  } catch {
    return false;
  }
}

/**
 * Every fold result in `dir`/folds, in file-name order. A file that is empty, truncated or not a
 * fold result is passed to `onBad` (path, reason) and left out; without `onBad` it is thrown as
 * a JsonFileError naming the file.
 */
export function loadFoldResults(dir: string, onBad?: (path: string, reason: string) => void): FoldResult[] {
  const folder = join(dir, 'folds');
  if (!existsSync(folder)) return [];
  const out: FoldResult[] = [];
  for (const f of readdirSync(folder).filter((f) => f.endsWith('.json')).sort()) {
    try {
      out.push(withRecipeDefaults(readJsonFile<FoldResult>(join(folder, f), foldResultProblem)));
    } catch (e) {
      if (!(e instanceof JsonFileError) || !onBad) throw e;
      onBad(e.path, e.reason);
    }
  }
  return out;
}

/** A result file from before recipes existed reads as `db` against true labels (what it was). */
export function withRecipeDefaults(r: FoldResult): FoldResult & Required<Pick<FoldResult, 'recipe' | 'attackLabels'>> {
  return { ...r, recipe: r.recipe ?? 'db', attackLabels: r.attackLabels ?? 'true' };
}
