// The choosers (kernels/choose.ts): an asked variant is checked, a tuned choice wins over the
// rule only where it applies, shape classes are queued for the tuner unless SER_TUNE is off;
// and every declared family is covered by a kernel test that runs all its variants.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { readFileSync, readdirSync } from 'node:fs';
import { FAMILIES, batchClass, choose, declareFamily, pendingRequests, takeRequests } from '../kernels/choose.js';
import { capabilitiesOf, type Capabilities } from '../src/gpu/capabilities.js';
import { Tuning, memoryStore, type TuneMode } from '../src/gpu/tuning.js';
import type { Engine } from '../src/engine/engine.js';
import { FAMILY_TESTS } from './helpers/variants.js';
// Every kernel module that declares a family (the last test checks this list is complete).
import { CONV_FAMILIES, conv2dGeometry } from '../kernels/conv2d.js';
import { BATCHNORM_FAMILY } from '../kernels/batchnorm.js';
import '../kernels/pool.js';
import { ELEMENTWISE_FAMILY } from '../kernels/elementwise.js';
import '../kernels/matmul.js';

/** A stand-in engine: choosers read only `caps` (and key their queues by the engine object). */
function fakeEngine(mode: TuneMode, opts: { name?: string; kind?: 'gpu' | 'cpu'; features?: string[] } = {}): Engine {
  const adapter = { name: opts.name ?? 'test adapter', kind: opts.kind ?? 'gpu', backend: 'test' } as const;
  const limits = { maxStorageBufferBindingSize: 2 ** 27, minStorageBufferOffsetAlignment: 256 } as GPUSupportedLimits;
  const caps: Capabilities = capabilitiesOf(adapter, limits, new Set(opts.features ?? []), mode === 'off' ? Tuning.off() : new Tuning(mode, memoryStore()));
  return { caps } as unknown as Engine;
}

/** A family whose 'wide' variant needs an even size; the rule prefers 'narrow'. */
const toy = declareFamily({
  name: 'test.choose-toy',
  variants: ['narrow', 'wide'] as const,
  applies: (v, n: number) => (v === 'wide' && n % 2 !== 0 ? 'wide needs an even size' : true),
  rule: () => 'narrow',
  key: (n) => `n${batchClass(n)}`,
  shaders: [],
  bench: () => () => {},
});

const choice = (variant: string, key: string, stamp = toy.stamp) => ({ family: toy.name, key, stamp, variant, times: {}, timing: 'wall-clock' as const, measured: '' });

test('an asked variant is checked: unknown or inapplicable ones are errors naming the family and the variant', () => {
  const e = fakeEngine('off');
  assert.is(choose(e, toy, 4, 'wide'), 'wide');
  assert.throws(() => choose(e, toy, 3, 'wide'), (err: Error) => /test\.choose-toy: variant 'wide' does not apply: wide needs an even size/.test(err.message));
  assert.throws(() => choose(e, toy, 4, 'huge'), (err: Error) => /test\.choose-toy: unknown variant 'huge' \(variants: narrow, wide\)/.test(err.message));
  // The real families too: subgroups on an adapter without the feature.
  assert.throws(() => choose(fakeEngine('off'), BATCHNORM_FAMILY, [2, 3, 4, 4], 'subgroups'), /batchnorm\.reduce: variant 'subgroups' does not apply: this adapter has no 'subgroups' feature/);
});

test('a tuned choice overrides the rule only where it applies to the shape, and only with the current stamp', () => {
  const e = fakeEngine('cache');
  e.caps.tuning.record(choice('wide', 'n8'));
  assert.is(choose(e, toy, 8, undefined), 'wide');
  assert.is(choose(e, toy, 6, undefined), 'wide', 'same class (n8), even: the tuned choice');
  assert.is(choose(e, toy, 7, undefined), 'narrow', 'same class, odd: wide does not apply, so the rule');
  e.caps.tuning.record(choice('wide', 'n16', 'another-stamp'));
  assert.is(choose(e, toy, 16, undefined), 'narrow', 'a choice measured on other kernel sources is ignored');
  e.caps.tuning.record(choice('gone', 'n32'));
  assert.is(choose(e, toy, 32, undefined), 'narrow', 'a variant that no longer exists is ignored');
  // An asked variant wins over a tuned one.
  assert.is(choose(e, toy, 8, 'narrow'), 'narrow');
});

test('SER_TUNE=off: rules only, even with choices recorded; nothing is queued', () => {
  const e = fakeEngine('off');
  e.caps.tuning.record(choice('wide', 'n8'));
  assert.is(choose(e, toy, 8), 'narrow');
  assert.is(pendingRequests(e), 0);
});

test('a shape class met without a choice is queued once, and only if two candidates apply', () => {
  const e = fakeEngine('cache');
  assert.is(choose(e, toy, 8), 'narrow');
  choose(e, toy, 7 + 1);
  choose(e, toy, 5); // class n8 again: not queued twice
  choose(e, toy, 3); // class n4, odd: only 'narrow' applies, nothing to measure
  const queued = takeRequests(e);
  assert.equal(queued.map((r) => [r.family.name, r.key, r.shape]), [['test.choose-toy', 'n8', 8]]);
  assert.is(pendingRequests(e), 0);
});

test('elementwise maps too small for launch overhead to hide a difference are not measured', () => {
  const e = fakeEngine('cache');
  choose(e, ELEMENTWISE_FAMILY, { op: 'add', n: 4000, broadcast: false });
  assert.is(pendingRequests(e), 0);
  assert.is(choose(e, ELEMENTWISE_FAMILY, { op: 'add', n: 1 << 16, broadcast: false }), 'vec4');
  assert.is(pendingRequests(e), 1);
  choose(e, ELEMENTWISE_FAMILY, { op: 'add', n: 1 << 16, broadcast: true }); // scalar only
  assert.is(pendingRequests(e), 1);
});

test('conv2d rules: rows where it applies except on slow compilers, per pass', () => {
  const llvmpipe = fakeEngine('off', { name: 'llvmpipe-llvm-15 / OpenGL Mesa', kind: 'cpu' });
  const swiftshader = fakeEngine('off', { name: 'google / swiftshader / SwiftShader driver 5.0.0', kind: 'cpu' });
  const g3 = conv2dGeometry([2, 3, 8, 8], [4, 3, 3, 3], { padding: 1 });
  const strided = conv2dGeometry([2, 3, 8, 8], [4, 3, 3, 3], { padding: 1, stride: 2 });
  const narrow = conv2dGeometry([2, 3, 8, 7], [4, 3, 3, 3], { padding: 1 }); // Wo = 7: no rows weight gradient
  for (const f of Object.values(CONV_FAMILIES)) {
    assert.is(choose(llvmpipe, f, g3), 'rows', f.name);
    assert.is(choose(swiftshader, f, g3), 'tiles', f.name);
    assert.is(choose(llvmpipe, f, strided), 'tiles', f.name);
  }
  assert.is(choose(llvmpipe, CONV_FAMILIES.forward, narrow), 'rows');
  assert.is(choose(llvmpipe, CONV_FAMILIES.weightGrad, narrow), 'tiles');
  // The tuner never tries the rows kernels where their compile takes minutes.
  assert.is(CONV_FAMILIES.forward.tunable!('rows', g3, swiftshader.caps), false);
  assert.is(CONV_FAMILIES.forward.tunable!('rows', g3, llvmpipe.caps), true);
});

test('batch classes round up to a power of two; keys name the exact geometry otherwise', () => {
  assert.equal([1, 2, 3, 4, 5, 31, 32, 33].map(batchClass), [1, 2, 4, 4, 8, 32, 32, 64]);
  const key = (n: number) => CONV_FAMILIES.forward.key(conv2dGeometry([n, 3, 8, 8], [4, 3, 3, 3], { padding: 1 }));
  assert.is(key(24), key(32));
  assert.is.not(key(32), key(33));
  assert.is.not(key(32), CONV_FAMILIES.forward.key(conv2dGeometry([32, 3, 8, 8], [4, 3, 3, 3], { padding: 0 })));
});

test('every declared kernel family is covered by a kernel test that runs all its variants against float64', () => {
  // Every kernel module that declares a family is imported above, so all are declared here.
  const self = readFileSync('test/choose.test.ts', 'utf8');
  for (const f of readdirSync('kernels').filter((f) => f.endsWith('.ts'))) {
    if (/declareFamily\(/.test(readFileSync(`kernels/${f}`, 'utf8')) && f !== 'choose.ts') {
      assert.ok(self.includes(`'../kernels/${f.replace(/\.ts$/, '.js')}'`), `kernels/${f} declares a kernel family: import it in test/choose.test.ts`);
    }
  }
  const declared = FAMILIES.map((f) => f.name).filter((n) => !n.startsWith('test.'));
  assert.ok(declared.length >= 8, declared.join(', '));
  for (const name of declared) {
    const file = FAMILY_TESTS[name];
    assert.ok(file, `kernel family '${name}' is in no test: add it to FAMILY_TESTS (test/helpers/variants.ts) and run its variants in that test`);
    const source = readFileSync(`test/${file}.test.ts`, 'utf8');
    assert.ok(/assertVariantsCovered\(/.test(source), `test/${file}.test.ts does not check that every variant of ${name} ran`);
  }
  for (const name of Object.keys(FAMILY_TESTS)) assert.ok(declared.includes(name), `FAMILY_TESTS names '${name}', which no kernel declares`);
  // Each family's stamp changes with its shader sources (stale measurements are ignored).
  for (const f of FAMILIES) assert.match(f.stamp, /^[0-9a-f]{16}$/);
});

test.run();
