// One engine per test process (uvu runs every test file in one process), with
// poisoned outputs, and the adapter printed once.
import { createNodeEngine } from '../../src/gpu/node.js';
import type { Engine, RecordedDispatch } from '../../src/engine/engine.js';
import { defaultConvVariant, type Conv2dVariant } from '../../kernels/conv2d.js';

// The suite runs the choosers' rules only, so its timing and kernels do not depend on a tuning
// cache (the tuner's own tests, test/tune.test.ts, use their own engines and a temp folder).
process.env.SER_TUNE ??= 'off';

let enginePromise: Promise<Engine> | null = null;

export function testEngine(): Promise<Engine> {
  enginePromise ??= createNodeEngine().then((engine) => {
    engine.poisonNewTensors = true;
    console.log(`  adapter: ${engine.adapter.name} (${engine.adapter.backend}, ${engine.adapter.kind})`);
    return engine;
  });
  return enginePromise;
}

let subgroupPromise: Promise<Engine | null> | null = null;

/**
 * An engine whose device has the `subgroups` feature: the test engine if it has it, else
 * SwiftShader (Vulkan; needs libvulkan1 and chromium's driver, which scripts/setup.sh
 * --with-browser installs), else null, with the reason printed once (tests then skip).
 */
export function subgroupEngine(): Promise<Engine | null> {
  subgroupPromise ??= (async () => {
    const main = await testEngine();
    if (main.features.has('subgroups')) return main;
    try {
      const e = await createNodeEngine('swiftshader');
      if (!e.features.has('subgroups')) throw new Error(`${e.adapter.name} has no 'subgroups' feature`);
      e.poisonNewTensors = true;
      console.log(`  subgroup tests on: ${e.adapter.name} (${e.adapter.backend}, ${e.adapter.kind})`);
      return e;
    } catch (err) {
      console.log(`  subgroup tests skipped: no adapter with 'subgroups' (${(err as Error).message})`);
      return null;
    }
  })();
  return subgroupPromise;
}

/** Runs `fn` with the engine recording, and returns its value and the dispatches' labels (shader.entry), in order. */
export async function withDispatchLabels<T>(e: Engine, fn: () => T | Promise<T>): Promise<{ value: T; labels: string[] }> {
  const recorded: RecordedDispatch[] = [];
  e.recording = recorded;
  try {
    const value = await fn();
    return { value, labels: recorded.map((d) => d.label) };
  } finally {
    e.recording = null;
  }
}

/**
 * The conv kernel families tests can ask of this adapter: both, except on SwiftShader, whose
 * compiler takes minutes and tens of GB on the rows kernels (so it defaults to tiles).
 */
export function convVariants(e: Engine): Conv2dVariant[] {
  return defaultConvVariant(e) === 'rows' ? ['tiles', 'rows'] : ['tiles'];
}
