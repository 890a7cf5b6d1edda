// Kernel declarations (kernels/declare.ts): every declared entry point exists in its WGSL,
// each shader gets its Params struct once (the declared one), and the packer writes the
// fields in declaration order with their types.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readdirSync, readFileSync } from 'node:fs';
import { testEngine } from './helpers/gpu.js';
import { SHADERS, computeEntries, declareParams, withPreamble } from '../kernels/declare.js';
import '../kernels/conv2d.js';
import '../kernels/pool.js';
import '../kernels/batchnorm.js';
import '../kernels/elementwise.js';
import '../kernels/matmul.js';
import '../kernels/reduce.js';
import '../kernels/softmax_xent.js';
import '../kernels/fgsm.js';
import '../kernels/dropout.js';
import '../kernels/optimizer.js';
import '../kernels/permute.js';
import '../kernels/fft.js';
import '../kernels/mel.js';

test('computeEntries finds @compute functions, not helpers or commented ones', () => {
  const code = [
    '@compute @workgroup_size(WG)',
    'fn first(@builtin(workgroup_id) wid: vec3u) {}',
    'fn helper(i: u32) -> u32 { return i; }',
    '@compute',
    '@workgroup_size(64, 1, 1)',
    'fn second() {}',
    '// @compute @workgroup_size(1) fn commented() {}',
  ].join('\n');
  assert.equal(computeEntries(code), ['first', 'second']);
});

test('every declared entry point is a @compute function of its shader', () => {
  assert.ok(SHADERS.length >= 12, `${SHADERS.length} shaders declared`);
  for (const s of SHADERS) {
    const defined = new Set(computeEntries(s.code));
    for (const e of s.entries) assert.ok(defined.has(e), `${s.name}: no @compute fn ${e}`);
    const structs = [...s.code.replace(/\/\/.*$/gm, '').matchAll(/\bstruct (\w+)/g)].map((m) => m[1]);
    assert.ok(structs.some((n) => n.endsWith('Params')), `${s.name}: a declared Params struct`);
    assert.is(new Set(structs).size, structs.length, `${s.name}: each struct once (${structs.join(', ')})`);
    assert.ok(s.code.startsWith(`// shader: ${s.name}\n`), `${s.name}: the build's name line stays first`);
  }
});

test('no shader file declares a Params struct its launcher also declares', () => {
  const declared = new Set(SHADERS.map((s) => s.name));
  for (const f of readdirSync('shaders').filter((f) => f.endsWith('.wgsl'))) {
    const name = f.replace(/\.wgsl$/, '');
    if (declared.has(name)) assert.not.match(readFileSync(`shaders/${f}`, 'utf8'), /^struct \w*Params\b/m, f);
  }
});

test('shared helpers (shaders/common) are defined once, by the build, in the shaders that call them', () => {
  const helpers = readdirSync('shaders/common').map((f) => f.replace(/\.wgsl$/, ''));
  assert.ok(helpers.includes('flat_index'));
  for (const f of readdirSync('shaders').filter((f) => f.endsWith('.wgsl'))) {
    for (const h of helpers) assert.not.match(readFileSync(`shaders/${f}`, 'utf8'), new RegExp(`\\bfn\\s+${h}\\b`), `${f} copies ${h}`);
  }
  let users = 0;
  for (const s of SHADERS) {
    for (const h of helpers) {
      const calls = new RegExp(`\\b${h}\\s*\\(`).test(s.code.replace(new RegExp(`fn\\s+${h}`, 'g'), ''));
      const defs = s.code.match(new RegExp(`\\bfn\\s+${h}\\b`, 'g'))?.length ?? 0;
      assert.is(defs, calls ? 1 : 0, `${s.name}: ${defs} definitions of ${h}`);
      if (calls) users++;
    }
  }
  assert.ok(users >= 6, `${users} declared shaders call a shared helper`);
});

test('declareParams: WGSL text, and packing in declaration order with each type', async () => {
  const layout = declareParams([
    ['n', 'u32', 'count'],
    ['shift', 'i32'],
    ['scale', 'f32'],
    ['flag', 'u32'],
    ['dims', 'array<vec4u, 2>'],
  ]);
  assert.match(layout.wgsl, /^struct Params \{\n {2}n: u32, +\/\/ count\n {2}shift: i32,\n {2}scale: f32,\n {2}flag: u32,\n {2}dims: array<vec4u, 2>,\n\}\n$/);
  const padded = declareParams([['a', 'u32'], ['v', 'array<vec4u, 2>']], 'Padded');
  assert.match(padded.wgsl, /^struct Padded \{\n {2}a: u32,\n {2}_pad1: u32,\n {2}_pad2: u32,\n {2}_pad3: u32,\n {2}v: array<vec4u, 2>,\n\}\n$/);
  const e = await testEngine();
  assert.is(padded.pack(e, { a: 9, v: [1, 2, 3, 4, 5, 6, 7, 8] }), e.uniform([9, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8], 'u'.repeat(12)));
  const packed = e.uniform([7, -3, 0.5, 1, 4, 5, 0, 0, 0, 0, 0, 0], 'uifuuuuuuuuu');
  assert.is(layout.pack(e, { n: 7, shift: -3, scale: 0.5, flag: true, dims: [4, 5] }), packed, 'same bytes, so the same cached buffer');
  assert.equal(withPreamble('// shader: x\nfn f() {}\n', 'struct P {}'), '// shader: x\nstruct P {}\nfn f() {}\n');
});

test.run();
