// The cells of a sweep's grid (model x training eps x fold) and the key that names each
// cell's result: a hash of the exact settings that produce its numbers.
//
// The key is computed over the WHOLE settings object generically (canonical JSON: sorted
// keys, numbers as JavaScript prints them), so a setting added to the sweep's config lands
// in the key without touching this file. A setting missing from an older result file means
// the value it had before the setting existed: LEGACY_DEFAULTS lists those, and a setting
// equal to its legacy default is left out of the hash, so old folders keep their keys.
import { createHash } from 'node:crypto';

/** A plain JSON value (what settings are made of). */
export type Json = null | boolean | number | string | Json[] | { [k: string]: Json };
export type Settings = { [k: string]: Json };

/**
 * Values settings had before they were recorded, i.e. what a field missing from an old
 * config.json or result file means. Add a new number-changing setting here with the value
 * the code used before it existed. Runs without a recipe are db (src/audio/recipe.ts
 * RECIPES.db: fit resize, FGSM clipped to the range [0, beta] with beta 1, against the true
 * labels, a training-mode attack from iteration 0); h2's sweep read config.json files from
 * before recipes with the same values. Defaults of lr-decay/lr-every/pgd-steps:
 * src/train/train.ts DEFAULT_TRAIN and the sweep's --pgd-steps, as they were when results
 * carried no key.
 */
export const LEGACY_DEFAULTS: Settings = {
  recipe: 'db',
  fit: 'resize',
  beta: 1,
  clip: 'range',
  attackLabels: 'true',
  evalModeAttack: false,
  advStart: 0,
  lrDecay: 0.9,
  lrEvery: 100,
  pgdEps: [],
  pgdSteps: 10,
  noiseSnr: [],
  balanced: false,
};

/** JSON with object keys sorted at every level: the same settings always give the same text. */
export function canonicalJson(v: unknown): string {
  if (v === undefined) return 'null';
  if (v === null || typeof v !== 'object') {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new Error(`canonicalJson: non-finite number ${v}`);
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  return `{${Object.keys(o)
    .filter((k) => o[k] !== undefined)
    .sort()
    .map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`)
    .join(',')}}`;
}

/** Settings with every field equal to its legacy default dropped (absent = legacy default). */
export function normalizeSettings(s: Settings): Settings {
  const out: Settings = {};
  for (const [k, v] of Object.entries(s)) {
    if (v === undefined) continue;
    if (k in LEGACY_DEFAULTS && canonicalJson(v) === canonicalJson(LEGACY_DEFAULTS[k])) continue;
    out[k] = v;
  }
  return out;
}

/** Settings with every missing legacy field filled in (for display and comparison). */
export function withLegacyDefaults(s: Settings): Settings {
  return { ...LEGACY_DEFAULTS, ...s };
}

/** The key of a settings object: the first 16 hex digits of SHA-256 of its normalised canonical JSON. */
export function settingsKey(s: Settings): string {
  return createHash('sha256').update(canonicalJson(normalizeSettings(s))).digest('hex').slice(0, 16);
}

/** Names of the settings whose values differ between a and b (legacy defaults filled in), sorted. */
export function differingSettings(a: Settings, b: Settings): string[] {
  const fa = withLegacyDefaults(a);
  const fb = withLegacyDefaults(b);
  return [...new Set([...Object.keys(fa), ...Object.keys(fb)])].filter((k) => canonicalJson(fa[k]) !== canonicalJson(fb[k])).sort();
}

/** One cell of the grid: its position, its axes and its full settings. */
export interface Cell {
  /** Position in the grid, 0-based: models outermost, then training eps, then folds. */
  index: number;
  model: string;
  trainEps: number;
  fold: number;
  /** Every setting that changes a number of this cell (the run's settings plus model, trainEps, fold). */
  config: Settings;
  /** settingsKey(config). */
  key: string;
}

/** The cells of models x training eps x folds, in that order (the index is stable for the same flags). */
export function gridCells(run: Settings, models: string[], trainEps: number[], folds: number[]): Cell[] {
  const cells: Cell[] = [];
  for (const model of models) {
    for (const eps of trainEps) {
      for (const fold of folds) {
        const config = { ...run, model, trainEps: eps, fold };
        cells.push({ index: cells.length, model, trainEps: eps, fold, config, key: settingsKey(config) });
      }
    }
  }
  return cells;
}

/** The grid-wide part of a cell's settings (what must agree for results to be reported together). */
export function runSettingsOf(config: Settings): Settings {
  const { model: _m, trainEps: _e, fold: _f, ...rest } = config;
  return rest;
}

/** File-name-safe readable tag of a cell, e.g. 'cnn5-eps0.02-fold3'. */
export function cellTag(c: { model: string; trainEps: number; fold: number }): string {
  return `${c.model.replace(/[^A-Za-z0-9_.-]/g, '_')}-eps${c.trainEps}-fold${c.fold}`;
}
