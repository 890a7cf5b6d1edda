// On-disk cache of per-utterance features (e.g. log-Mel spectrograms), so a corpus is run
// through the front end once. An entry is keyed by the file's absolute path, size and
// modification time plus the front-end settings, so editing the audio or changing any setting
// misses the cache instead of returning stale features.
//
// Entry format (<dir>/<hh>/<hash>.f32): 8-byte magic 'SERFEAT1', uint32 LE element count,
// uint32 LE reserved (0), then the float32 values (little-endian). Written to a temp file and
// renamed into place, so a reader never sees a half-written entry.
import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { sweepTempFiles, writeFileAtomic } from '../io/atomic.js';

const MAGIC = 'SERFEAT1';
const HEADER = 16;

export interface CacheOptions {
  /** Cache folder; default $SER_CACHE, else .cache/features under the working directory. */
  dir?: string;
  /** Compute missing entries in batches of this many paths (default: all in one batch). */
  batchSize?: number;
  /** Filled with how many entries were found and how many were computed. */
  stats?: { hits: number; misses: number };
  onProgress?: (done: number, total: number) => void;
}

export function defaultCacheDir(): string {
  return resolve(process.env.SER_CACHE ?? join('.cache', 'features'));
}

/** JSON with object keys sorted at every level, so equal settings give equal text. */
export function stableStringify(value: unknown): string {
  return JSON.stringify(value, (_k, v) =>
    v && typeof v === 'object' && !Array.isArray(v) && !ArrayBuffer.isView(v)
      ? Object.fromEntries(Object.keys(v).sort().map((k) => [k, (v as Record<string, unknown>)[k]]))
      : v,
  );
}

/** The cache key of one file under one set of settings (hex SHA-256). Throws naming the path if it is missing. */
export function featureKey(path: string, settings: unknown): string {
  const abs = resolve(path);
  let st;
  try {
    st = statSync(abs);
  } catch {
    throw new Error(`audio file not found: ${abs}`);
  }
  const id = stableStringify({ path: abs, size: st.size, mtimeMs: st.mtimeMs, settings });
  return createHash('sha256').update(id).digest('hex');
}

export function entryPath(dir: string, key: string): string {
  return join(dir, key.slice(0, 2), `${key}.f32`);
}

/**
 * Writes one entry atomically (temp file + rename; the temp file is removed on failure).
 * Errors: OutputError naming the entry for a full, read-only or missing cache location.
 */
export function writeFeatureFile(path: string, data: Float32Array): void {
  const header = Buffer.alloc(HEADER);
  header.write(MAGIC, 0, 'latin1');
  header.writeUInt32LE(data.length, 8);
  const body = Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  writeFileAtomic(path, Buffer.concat([header, body]));
}

/**
 * Removes partial entries (temp files of writers killed mid-write) from every shard folder of
 * the cache; returns how many. Called once per cache folder per process.
 */
export function sweepCache(dir: string): number {
  let shards: string[];
  try {
    shards = readdirSync(dir);
  } catch {
    return 0;
  }
  return shards.reduce((n, s) => n + (/^[0-9a-f]{2}$/.test(s) ? sweepTempFiles(join(dir, s)) : 0), 0);
}
const swept = new Set<string>();

/** Reads one entry; null when it is absent or not a complete, well-formed entry. */
export function readFeatureFile(path: string): Float32Array | null {
  let buf: Buffer;
  try {
    buf = readFileSync(path);
  } catch {
    return null;
  }
  if (buf.length < HEADER || buf.toString('latin1', 0, 8) !== MAGIC) return null;
  const n = buf.readUInt32LE(8);
  if (buf.length !== HEADER + 4 * n) return null;
  const out = new Float32Array(n);
  new Uint8Array(out.buffer).set(buf.subarray(HEADER)); // copy: the Buffer's offset may not be 4-aligned
  return out;
}

/**
 * Features of `paths` (in order) under `settings`: cached entries are read from disk; the rest
 * are computed by one call to `compute` (or one per `batchSize`) with the missing paths in
 * input order, and stored. `compute` must return one entry per path it was given: the features,
 * or null for a file that has none (not cached; null in the result too).
 */
export async function getFeatures(
  paths: readonly string[],
  settings: unknown,
  compute: (paths: string[]) => Promise<(Float32Array | null)[]>,
  opts: CacheOptions = {},
): Promise<(Float32Array | null)[]> {
  const dir = resolve(opts.dir ?? defaultCacheDir());
  if (!swept.has(dir)) {
    swept.add(dir);
    sweepCache(dir);
  }
  const keys = paths.map((p) => featureKey(p, settings));
  const out: (Float32Array | null)[] = new Array(paths.length).fill(null);
  const missing = new Map<string, number[]>(); // key -> indices wanting it (a path may repeat)
  let hits = 0;
  keys.forEach((key, i) => {
    const cached = missing.has(key) ? null : readFeatureFile(entryPath(dir, key));
    if (cached) {
      out[i] = cached;
      hits++;
    } else {
      const list = missing.get(key);
      if (list) list.push(i);
      else missing.set(key, [i]);
    }
  });
  const todo = [...missing.values()];
  const batch = opts.batchSize && opts.batchSize > 0 ? opts.batchSize : Math.max(1, todo.length);
  opts.onProgress?.(hits, paths.length);
  let done = hits;
  for (let start = 0; start < todo.length; start += batch) {
    const chunk = todo.slice(start, start + batch);
    const chunkPaths = chunk.map((idx) => resolve(paths[idx[0]]));
    const computed = await compute(chunkPaths);
    if (!Array.isArray(computed) || computed.length !== chunk.length) {
      throw new Error(`feature computation returned ${Array.isArray(computed) ? computed.length : typeof computed} results for ${chunk.length} files`);
    }
    chunk.forEach((idx, j) => {
      const f = computed[j];
      if (f !== null && !(f instanceof Float32Array)) throw new Error(`feature computation returned a non-Float32Array for ${chunkPaths[j]}`);
      if (f !== null) writeFeatureFile(entryPath(dir, keys[idx[0]]), f);
      for (const i of idx) out[i] = f;
      done += idx.length;
    });
    opts.onProgress?.(done, paths.length);
  }
  if (opts.stats) {
    opts.stats.hits = hits;
    opts.stats.misses = paths.length - hits;
  }
  return out;
}
