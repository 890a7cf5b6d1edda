// One engine per test process (uvu runs every test file in one process), with
// poisoned outputs, and the adapter printed once.
import { createNodeEngine } from '../../src/gpu/node.js';
import type { Engine } from '../../src/engine/engine.js';

let enginePromise: Promise<Engine> | null = null;

export function testEngine(): Promise<Engine> {
  enginePromise ??= createNodeEngine().then((engine) => {
    engine.poisonNewTensors = true;
    console.log(`  adapter: ${engine.adapter.name} (${engine.adapter.backend}, ${engine.adapter.kind})`);
    return engine;
  });
  return enginePromise;
}
