// One esbuild pass for Node (CLI, tests, benchmarks) and one for the browser.
// WGSL files are imported as text, so the same kernels ship to both runtimes.
import { build } from 'esbuild';
import { readdirSync, existsSync, rmSync, copyFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join, basename } from 'node:path';

const list = (dir) =>
  existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('.ts')).map((f) => join(dir, f)) : [];

// WGSL as text, with a first line naming the file, so profiles can label each pipeline.
// Shared helpers live in shaders/common/NAME.wgsl, each defining `fn NAME`; a shader that
// calls one gets it prepended (after any `enable` directives), and only then.
const helpers = readdirSync('shaders/common')
  .filter((f) => f.endsWith('.wgsl'))
  .map((f) => ({ name: basename(f, '.wgsl'), text: readFileSync(join('shaders/common', f), 'utf8') }));
function withHelpers(code) {
  const used = helpers.filter((h) => new RegExp(`\\b${h.name}\\s*\\(`).test(code) && !new RegExp(`\\bfn\\s+${h.name}\\b`).test(code));
  if (used.length === 0) return code;
  const enables = /^(?:\s*(?:\/\/[^\n]*)?\n)*(?:\s*enable [^;]+;[^\n]*\n)+/.exec(code)?.[0] ?? '';
  return `${enables}${used.map((h) => h.text).join('\n')}\n${code.slice(enables.length)}`;
}
const wgsl = {
  name: 'wgsl',
  setup(b) {
    b.onLoad({ filter: /\.wgsl$/ }, (a) => ({
      loader: 'text',
      contents: `// shader: ${basename(a.path, '.wgsl')}\n${withHelpers(readFileSync(a.path, 'utf8'))}`,
    }));
  },
};
const common = { bundle: true, format: 'esm', plugins: [wgsl], sourcemap: 'inline', logLevel: 'warning' };

rmSync('dist', { recursive: true, force: true });
const nodeEntries = [...list('test'), ...list('bench'), ...list('bench/gpu'), ...(existsSync('src/cli/main.ts') ? ['src/cli/main.ts'] : [])];
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
// The browser bundle shares its modules with the CLI, and a few of those also hold Node-only
// helpers (readWav, checkpoint files). Their node:fs/path/zlib imports resolve to a stub whose
// every export throws when called, so the shared code bundles and only a misuse fails, loudly.
const nodeStub = {
  name: 'node-stub',
  setup(b) {
    b.onResolve({ filter: /^node:(fs|path|zlib)$/ }, (a) => ({ path: a.path, namespace: 'node-stub' }));
    b.onLoad({ filter: /.*/, namespace: 'node-stub' }, (a) => ({
      loader: 'js',
      // CommonJS, so any named import binds; lookups fall through to a Proxy prototype.
      contents: `const fail = (k) => () => { throw new Error(${JSON.stringify(a.path)} + '.' + k + ' is not available in the browser'); };
        module.exports = Object.create(new Proxy({}, { get: (_, k) => (typeof k === 'string' && k !== '__esModule' && k !== 'then' ? fail(k) : undefined) }));`,
    }));
  },
};
// The library (package.json "exports"): Node and browser ESM bundles without source maps, so
// the packed tarball stays small. Declarations: `npm run build:types` (tsc; run by prepack).
if (existsSync('src/index.ts')) {
  await build({ ...common, sourcemap: false, entryPoints: { index: 'src/index.ts' }, outdir: 'dist/lib', platform: 'node', target: 'node20', packages: 'external', banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" } });
}
if (existsSync('src/browser-index.ts')) {
  await build({ ...common, sourcemap: false, entryPoints: { browser: 'src/browser-index.ts' }, outdir: 'dist/lib', platform: 'browser', target: 'chrome120', plugins: [wgsl, nodeStub] });
}
if (existsSync('src/web/app.ts')) {
  // The page (main thread) and its worker (all GPU work) are two bundles. Splitting: the audio
  // codecs (src/audio/decode.ts imports them on first use, ~3 MB of WebAssembly) become chunks
  // loaded only when a non-WAV file is opened.
  await build({ ...common, entryPoints: ['src/web/app.ts', 'src/web/worker.ts'], outdir: 'dist/web', platform: 'browser', target: 'chrome120', plugins: [wgsl, nodeStub], splitting: true, chunkNames: 'chunks/[name]-[hash]' });
  for (const f of ['index.html', 'style.css']) copyFileSync(join('src/web', f), join('dist/web', f));
  // The bundled model, its card and an example recording, fetched by the page on open
  // (models/default.safetensors, models/default.json, models/example.wav).
  if (existsSync('models')) {
    mkdirSync('dist/web/models', { recursive: true });
    for (const f of readdirSync('models').filter((f) => /\.(safetensors|json|wav)$/.test(f))) copyFileSync(join('models', f), join('dist/web/models', f));
  }
}
