// Features of every utterance of a corpus: read, resampled to 16 kHz, log-Mel on the GPU,
// cached on disk by file and front-end settings. Files that fail to decode are skipped and
// reported by name; the caller gets the count.
import type { Engine } from '../engine/engine.js';
import type { Corpus } from '../data/corpus.js';
import { existsSync } from 'node:fs';
import { getFeatures } from '../data/cache.js';
import { FrontEnd, type FrontEndOptions } from '../audio/frontend.js';
import { RECIPE_NAMES, RECIPES } from '../audio/recipe.js';
import { fileFeatures } from './file-features.js';
import type { ProgressSink } from '../util/progress.js';

/** Utterances decoded per GPU batch: bounds memory for long corpora. */
const BATCH = 64;
/** Bump when the front end's output changes for the same options, to invalidate caches. */
const FEATURE_VERSION = 1;

/** The option fields recipes added (recipe.ts); a db-valued set of them is left out of cache keys. */
const RECIPE_FIELDS = ['window', 'center', 'spectrum', 'compression'] as const;

/**
 * The cache settings of a front end (the feature cache's key, with the file's identity).
 * db's options give exactly the settings of caches made before recipes existed (the
 * fields recipes added are dropped when they hold db's values), so those caches keep
 * working; any other values keep those fields and add the recipe's name ('custom' when
 * they match no recipe), so `paper` and `db` never share an entry.
 */
export function featureSettings(o: FrontEndOptions): Record<string, unknown> {
  const db = RECIPES.db.frontEnd;
  const isDb = RECIPE_FIELDS.every((k) => o[k] === db[k]);
  if (isDb) {
    const legacy: Record<string, unknown> = { ...o };
    for (const k of RECIPE_FIELDS) delete legacy[k];
    return { frontEnd: legacy, version: FEATURE_VERSION };
  }
  const recipe = RECIPE_NAMES.find((name) => RECIPE_FIELDS.every((k) => o[k] === RECIPES[name].frontEnd[k])) ?? 'custom';
  return { frontEnd: o, recipe, version: FEATURE_VERSION };
}

/**
 * Features of every utterance of a corpus, [rows, nMels] per file path, cached on disk.
 * `opts`: full front-end options, e.g. `{ ...RECIPES[name].frontEnd, fit }` (recipe.ts);
 * missing fields are db's. Files that fail to decode are skipped and listed. `cfg.progress`
 * hears one tick per file (the CLI passes its bar, src/cli/progress.ts); none by default.
 */
export async function corpusFeatures(
  engine: Engine,
  corpus: Corpus,
  opts: Partial<FrontEndOptions>,
  cfg: { cacheDir?: string; progress?: ProgressSink } = {},
): Promise<{ features: Map<string, Float32Array>; skipped: { path: string; reason: string }[] }> {
  const front = new FrontEnd(engine, opts);
  const skipped: { path: string; reason: string }[] = [];
  // A file gone since the corpus was listed has no cache key: skipped here, by name.
  const paths = corpus.utterances.map((u) => u.path).filter((p) => {
    if (existsSync(p)) return true;
    skipped.push({ path: p, reason: 'file not found' });
    return false;
  });
  const compute = async (todo: string[]): Promise<(Float32Array | null)[]> => {
    const got = await fileFeatures(front, todo);
    for (const g of got) if (g.features === undefined) skipped.push({ path: g.path, reason: g.reason });
    cfg.progress?.tick(todo.length);
    return got.map((g) => g.features ?? null);
  };
  const stats = { hits: 0, misses: 0 };
  const settings = featureSettings(front.options);
  const arrays = await getFeatures(paths, settings, compute, { dir: cfg.cacheDir, batchSize: BATCH, stats });
  cfg.progress?.finish(stats.hits ? `(${stats.hits} from cache)` : '');
  front.dispose();
  const features = new Map<string, Float32Array>();
  paths.forEach((p, i) => {
    const f = arrays[i];
    if (f) features.set(p, f);
  });
  return { features, skipped };
}
