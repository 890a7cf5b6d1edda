// One esbuild pass for Node (CLI, tests, benchmarks) and one for the browser.
// WGSL files are imported as text, so the same kernels ship to both runtimes.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';

const list = (dir) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)) : [];

const common = { bundle: true, format: 'esm', loader: { '.wgsl': 'text' }, sourcemap: 'inline', logLevel: 'warning' };

rmSync('dist', { recursive: true, force: true });
const nodeEntries = [...list('test'), ...list('bench'), ...(existsSync('src/cli/main.ts') ? ['src/cli/main.ts'] : [])];
await build({
  ...common,
  entryPoints: nodeEntries,
  outdir: 'dist',
  outbase: '.',
  platform: 'node',
  target: 'node20',
  packages: 'external',
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
});
if (existsSync('src/web/app.ts')) {
  await build({ ...common, entryPoints: ['src/web/app.ts'], outdir: 'dist/web', platform: 'browser', target: 'chrome120' });
}
