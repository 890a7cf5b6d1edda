// The installed package's root folder (where package.json says name 'ser-webgpu'), found by
// walking up from this module's file: bundles land at different depths (dist/src/cli,
// dist/test, dist/lib), and a user's node_modules/ser-webgpu is a root too.
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

let cached: string | null = null;

/** Absolute path of the ser-webgpu package root; throws when no such package.json is above this file. */
export function packageRoot(): string {
  if (cached) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pj = join(dir, 'package.json');
    if (existsSync(pj)) {
      try {
        if (JSON.parse(readFileSync(pj, 'utf8')).name === 'ser-webgpu') return (cached = dir);
      } catch {
        // not JSON: keep walking
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error(`cannot find the ser-webgpu package root above ${fileURLToPath(import.meta.url)}`);
    dir = up;
  }
}

/**
 * Where the bundled pretrained model is: the package's models/default.safetensors, with its
 * model card models/default.json beside it (the same files the browser app loads on open;
 * models/README.md describes the model).
 */
export function bundledModelPath(): string {
  return join(packageRoot(), 'models', 'default.safetensors');
}
