// The autotuner's cache on disk (Node): one JSON file per adapter, so choices measured on one
// GPU or driver never steer another. Written atomically; a corrupt file is reported once on
// stderr and ignored (it is only a cache: the next save replaces it).
import { createHash } from 'node:crypto';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/atomic.js';
import { JsonFileError, readJsonFile } from '../io/json.js';
import type { AdapterSummary } from './adapter-info.js';
import type { TuneStore, TunedChoice } from './tuning.js';

/** The cache file's format; a file of another format is ignored like a corrupt one. */
const FORMAT = 1;

/** The folder of the tuning caches: $SER_TUNE_CACHE, else $XDG_CACHE_HOME/ser-webgpu, else ~/.cache/ser-webgpu. */
export function tuneCacheDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.SER_TUNE_CACHE) return env.SER_TUNE_CACHE;
  return join(env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'ser-webgpu');
}

/** What tells adapters apart: vendor, architecture, device, description (which names the driver on Mesa and SwiftShader) and backend. */
export function adapterIdentity(adapter: AdapterSummary): Record<string, string> {
  const info = adapter.info ?? { description: adapter.name };
  return { ...info, backend: adapter.backend };
}

/** The cache file of an adapter in `dir`: a readable slug of its name and a hash of its identity. */
export function tuneCachePath(adapter: AdapterSummary, dir = tuneCacheDir()): string {
  const identity = adapterIdentity(adapter);
  const hash = createHash('sha256').update(JSON.stringify(identity)).digest('hex').slice(0, 12);
  const slug = adapter.name.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 48) || 'adapter';
  return join(dir, `tune-${slug}-${hash}.json`);
}

const warned = new Set<string>();

function checkFile(v: unknown): string | null {
  const f = v as { format?: unknown; choices?: unknown };
  if (!f || typeof f !== 'object' || f.format !== FORMAT || !Array.isArray(f.choices)) return `not a tuning cache of format ${FORMAT}`;
  for (const c of f.choices as Partial<TunedChoice>[]) {
    const ok =
      c && typeof c.family === 'string' && typeof c.key === 'string' && typeof c.stamp === 'string' && typeof c.variant === 'string' && c.times && typeof c.times === 'object';
    if (!ok) return `a choice is malformed: ${JSON.stringify(c).slice(0, 80)}`;
  }
  return null;
}

/**
 * The store of `adapter`'s choices at `path` (default tuneCachePath). A missing file holds no
 * choices; a corrupt one holds none and is named once on stderr (`warn`).
 */
export function fileStore(adapter: AdapterSummary, path = tuneCachePath(adapter), warn: (line: string) => void = (line) => void process.stderr.write(`${line}\n`)): TuneStore {
  return {
    where: path,
    load() {
      let file: { choices: TunedChoice[] };
      try {
        file = readJsonFile(path, checkFile);
      } catch (e) {
        if (e instanceof JsonFileError && /no such file/.test(e.reason)) return [];
        if (!warned.has(path)) {
          warned.add(path);
          warn(`ser: ignoring the tuning cache ${(e as Error).message} (it is rewritten after the next measurement)`);
        }
        return [];
      }
      return file.choices;
    },
    save(choices) {
      writeFileAtomic(path, `${JSON.stringify({ format: FORMAT, adapter: adapterIdentity(adapter), choices }, null, 1)}\n`);
    },
  };
}
