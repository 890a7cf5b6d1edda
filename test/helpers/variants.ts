// The guarantee that the autotuner never picks an untested kernel: every variant of every
// declared family (kernels/choose.ts) must have run in its kernel test file, whose float64
// tests iterate over the family's `variants` (so a new variant is tested without a new test).
// Each kernel test file ends with `assertVariantsCovered`; test/choose.test.ts checks that
// every declared family is named in FAMILY_TESTS and that the file named there makes the check.
import * as assert from 'uvu/assert';
import { FAMILIES, check, variantsRun, type AnyFamily } from '../../kernels/choose.js';
import type { Engine } from '../../src/engine/engine.js';

/** The kernel test file (test/NAME.test.ts) that runs each family's variants against float64. */
export const FAMILY_TESTS: Record<string, string> = {
  'conv2d.forward': 'conv2d',
  'conv2d.input_grad': 'conv2d',
  'conv2d.weight_grad': 'conv2d',
  'batchnorm.reduce': 'batchnorm',
  'maxpool.forward': 'pool',
  'maxpool.backward': 'pool',
  elementwise: 'elementwise',
  matmul: 'matmul',
};

export function family(name: string): AnyFamily {
  const f = FAMILIES.find((x) => x.name === name);
  if (!f) throw new Error(`no kernel family '${name}' is declared`);
  return f;
}

/**
 * Fails unless every variant of the named families ran in this process (`choose` returned
 * it). `excused` names variants that could not run on the adapters this machine has, with
 * the reason, which is printed (the tuner cannot pick them here either: they do not apply).
 */
export function assertVariantsCovered(names: readonly string[], excused: Record<string, string> = {}): void {
  for (const name of names) {
    for (const v of family(name).variants) {
      if (variantsRun(name).has(v)) continue;
      if (excused[v]) {
        console.log(`  ${name} variant '${v}' untested here: ${excused[v]}`);
        continue;
      }
      assert.unreachable(`${name} variant '${v}' never ran in ${FAMILY_TESTS[name] ?? '?'}.test: test every variant against float64`);
    }
  }
}

/** The variants of `name` that apply to `shape` on `engine` (a test iterates over these). */
export function applicable<S>(engine: Engine, name: string, shape: S): string[] {
  const f = family(name);
  return f.variants.filter((v) => check(f, v, shape, engine.caps) === true);
}
