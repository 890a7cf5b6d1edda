// One engine per test process (uvu runs every test file in one process), with
// poisoned outputs, and the adapter printed once.
import { createNodeEngine } from '../../src/gpu/node.js';
import type { Engine, RecordedDispatch } from '../../src/engine/engine.js';

let enginePromise: Promise<Engine> | null = null;

export function testEngine(): Promise<Engine> {
  enginePromise ??= createNodeEngine().then((engine) => {
    engine.poisonNewTensors = true;
    console.log(`  adapter: ${engine.adapter.name} (${engine.adapter.backend}, ${engine.adapter.kind})`);
    return engine;
  });
  return enginePromise;
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
