#!/usr/bin/env node
// Runs the built CLI (npm run build makes dist/src/cli/main.js).
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
const main = fileURLToPath(new URL('../dist/src/cli/main.js', import.meta.url));
if (!existsSync(main)) {
  console.error("ser: not built yet; run 'npm run build' first");
  process.exit(2);
}
process.env.EGL_PLATFORM ??= 'surfaceless';
await import(main);
