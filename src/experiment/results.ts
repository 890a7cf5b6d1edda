// What one fold of one experiment produces, stored as one JSON file per (model, training
// eps, fold), written atomically: a sweep interrupted anywhere resumes from the files it has.
import { readFileSync, existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import type { Scores } from '../metrics/metrics.js';
import type { AttackLabels, RecipeName } from '../audio/recipe.js';

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

export function hasFoldResult(dir: string, model: string, trainEps: number, fold: number): boolean {
  return existsSync(join(dir, 'folds', foldFileName(model, trainEps, fold)));
}

export function loadFoldResults(dir: string): FoldResult[] {
  const folder = join(dir, 'folds');
  if (!existsSync(folder)) return [];
  return readdirSync(folder)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => withRecipeDefaults(JSON.parse(readFileSync(join(folder, f), 'utf8'))));
}

/** A result file from before recipes existed reads as `db` against true labels (what it was). */
export function withRecipeDefaults(r: FoldResult): FoldResult & Required<Pick<FoldResult, 'recipe' | 'attackLabels'>> {
  return { ...r, recipe: r.recipe ?? 'db', attackLabels: r.attackLabels ?? 'true' };
}
