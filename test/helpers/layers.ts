// The project's layers and an import-graph check over them (used by test/layering.test.ts).
//
// Every source file of src/ and kernels/ belongs to one group; groups are listed lowest first
// and a file may import only from its own group or an earlier one. So the engine knows
// nothing of autograd, kernels nothing of ops, and no library layer knows the CLI or the
// browser app. Cycles between groups are impossible under a strict order; inside a group, a
// cycle of runtime imports is an error too. A type-only cycle inside one group is allowed
// (a Tensor names the Engine that owns it: engine/engine.ts <-> engine/tensor.ts).
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, dirname, normalize, relative } from 'node:path';

/** Groups, lowest first: [name, path prefixes or files (relative to the repository root)]. */
export const LAYERS: readonly (readonly [string, readonly string[]])[] = [
  ['shaders', ['shaders/']],
  // CPU-only building blocks: no GPU, no tensors.
  ['util', ['src/util/']],
  ['io', ['src/io/']],
  ['metrics', ['src/metrics/']],
  // Audio decoding and the float64 front-end reference (everything in src/audio but the GPU front end).
  ['dsp', ['src/audio/']],
  ['data', ['src/data/']],
  // Adapter facts: limits, features, capabilities. No Engine.
  ['gpu', ['src/gpu/adapter-info.ts', 'src/gpu/device.ts', 'src/gpu/errors.ts', 'src/gpu/capabilities.ts', 'src/gpu/tuning.ts']],
  ['engine', ['src/engine/']],
  // Creating an Engine on a Node (Dawn) or browser adapter.
  ['gpu-boot', ['src/gpu/']],
  ['kernels', ['kernels/']],
  ['frontend', ['src/audio/frontend.ts']],
  ['autograd', ['src/autograd/']],
  ['ops', ['src/ops/']],
  ['nn', ['src/nn/']],
  ['models', ['src/models/']],
  // Opening a checkpoint file as a model of the architecture it names.
  ['model-files', ['src/nn/open-model.ts']],
  ['export', ['src/export/']],
  ['attacks', ['src/attacks/']],
  ['train', ['src/train/']],
  ['experiment', ['src/experiment/']],
  ['report', ['src/report/']],
  // The library's API (issue 17), over everything below.
  ['api', ['src/api/']],
  ['cli', ['src/cli/']],
  ['web', ['src/web/']],
  // The package's entry points.
  ['package', ['src/index.ts', 'src/browser-index.ts']],
];

/** The group of a file: the longest matching prefix wins (a listed file beats its folder). */
export function groupOf(file: string, layers = LAYERS): number {
  let best = -1;
  let bestLength = -1;
  layers.forEach(([, prefixes], i) => {
    for (const p of prefixes) {
      if ((p.endsWith('/') ? file.startsWith(p) : file === p) && p.length > bestLength) {
        best = i;
        bestLength = p.length;
      }
    }
  });
  return best;
}

export interface Import {
  from: string;
  to: string;
  typeOnly: boolean;
}

/** Relative imports of a TypeScript source (static, re-exports and dynamic `import()`). */
export function importsOf(file: string, text: string): Import[] {
  const out: Import[] = [];
  // Strip comments so an example in a docstring is not an import.
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/(^|[^:'"`])\/\/.*$/gm, '$1');
  const re = /(?:^|[;\n}])\s*(import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"](\.[^'"]+)['"]|import\(\s*['"](\.[^'"]+)['"]\s*\)/g;
  for (const m of code.matchAll(re)) {
    const spec = m[3] ?? m[4];
    const target = normalize(join(dirname(file), spec)).replace(/\\/g, '/').replace(/\.js$/, '.ts');
    out.push({ from: file, to: target, typeOnly: !!m[2] });
  }
  return out;
}

export function sourceFiles(root: string, dirs: readonly string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const name of readdirSync(join(root, d))) {
      const rel = `${d}/${name}`;
      if (statSync(join(root, rel)).isDirectory()) walk(rel);
      else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(rel);
    }
  };
  for (const d of dirs) walk(d);
  return out.sort();
}

/**
 * Every violation in `imports`, one line each: an import of a higher group, a file outside
 * every group, or a cycle of runtime imports.
 */
export function violations(files: readonly string[], imports: readonly Import[], layers = LAYERS): string[] {
  const problems: string[] = [];
  const name = (g: number) => (g < 0 ? '(no layer)' : layers[g][0]);
  for (const f of files) if (groupOf(f, layers) < 0) problems.push(`${f} belongs to no layer`);
  for (const imp of imports) {
    const a = groupOf(imp.from, layers);
    const b = groupOf(imp.to, layers);
    if (b > a) problems.push(`${imp.from} (${name(a)}) imports ${imp.to} (${name(b)}), a higher layer`);
  }
  // Runtime cycles: depth-first search for a back edge.
  const edges = new Map<string, string[]>();
  for (const imp of imports) if (!imp.typeOnly) edges.set(imp.from, [...(edges.get(imp.from) ?? []), imp.to]);
  const state = new Map<string, 1 | 2>();
  const stack: string[] = [];
  const visit = (f: string) => {
    state.set(f, 1);
    stack.push(f);
    for (const t of edges.get(f) ?? []) {
      if (state.get(t) === 1) problems.push(`import cycle: ${[...stack.slice(stack.indexOf(t)), t].join(' -> ')}`);
      else if (!state.has(t)) visit(t);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of files) if (!state.has(f)) visit(f);
  return problems;
}

/** The repository's own files and imports (run from the repository root). */
export function projectGraph(root = '.'): { files: string[]; imports: Import[] } {
  const files = sourceFiles(root, ['src', 'kernels']);
  const imports = files.flatMap((f) => importsOf(f, readFileSync(join(root, f), 'utf8')));
  return { files, imports: imports.map((i) => ({ ...i, to: relative('.', i.to).replace(/\\/g, '/') })) };
}
