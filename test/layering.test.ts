// Lower layers never import higher ones, and no module imports itself round a cycle
// (the layer order is documented in test/helpers/layers.ts).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync } from 'node:fs';
import { LAYERS, groupOf, importsOf, projectGraph, violations } from './helpers/layers.js';

test('the checker sees every kind of import and flags an upward one and a cycle', () => {
  const text = [
    "import { a } from '../engine/engine.js';",
    "import type { T } from '../autograd/tape.js';",
    'import {\n  b,\n  c,\n} from "../../kernels/elementwise.js";',
    "export * from './x.js';",
    "const m = await import('../cli/progress.js');",
    "// import { no } from '../web/app.js';",
    "import { readFileSync } from 'node:fs';",
  ].join('\n');
  const imps = importsOf('src/engine/y.ts', text);
  assert.equal(
    imps.map((i) => `${i.to}${i.typeOnly ? ' (type)' : ''}`),
    ['src/engine/engine.ts', 'src/autograd/tape.ts (type)', 'kernels/elementwise.ts', 'src/engine/x.ts', 'src/cli/progress.ts'],
  );
  const files = ['src/engine/y.ts', 'src/engine/x.ts', 'src/engine/engine.ts'];
  const found = violations(files, [
    ...imps,
    { from: 'src/engine/x.ts', to: 'src/engine/y.ts', typeOnly: false },
  ]);
  assert.ok(found.some((p) => p.includes('src/autograd/tape.ts (autograd), a higher layer')), found.join('\n'));
  assert.ok(found.some((p) => p.includes('src/cli/progress.ts (cli)')), found.join('\n'));
  assert.ok(found.some((p) => p === 'import cycle: src/engine/y.ts -> src/engine/x.ts -> src/engine/y.ts'), found.join('\n'));
  // A type-only cycle inside one layer is allowed.
  assert.equal(violations(['src/engine/a.ts', 'src/engine/b.ts'], [
    { from: 'src/engine/a.ts', to: 'src/engine/b.ts', typeOnly: false },
    { from: 'src/engine/b.ts', to: 'src/engine/a.ts', typeOnly: true },
  ]), []);
});

test('a listed file belongs to its own layer, not its folder\'s', () => {
  const name = (f: string) => LAYERS[groupOf(f)][0];
  assert.is(name('src/audio/frontend.ts'), 'frontend');
  assert.is(name('src/audio/melbank.ts'), 'dsp');
  assert.is(name('src/gpu/adapter-info.ts'), 'gpu');
  assert.is(name('src/gpu/node.ts'), 'gpu-boot');
});

test('src/ and kernels/ import only downwards, without cycles', () => {
  if (!existsSync('src/engine/engine.ts')) throw new Error('run from the repository root');
  const { files, imports } = projectGraph();
  assert.ok(files.length > 100 && imports.length > 300, `${files.length} files, ${imports.length} imports`);
  const problems = violations(files, imports);
  assert.equal(problems, [], `\n${problems.join('\n')}`);
});

test.run();
