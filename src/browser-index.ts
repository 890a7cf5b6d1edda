// ser-webgpu in the browser (the package's "browser" export): everything in src/api/core.ts,
// plus acquiring the page's WebGPU device and loading models from URLs or bytes. Audio comes
// in as samples (Web Audio, a microphone) or WAV bytes (decodeWavBytes).
import { createBrowserEngine } from './gpu/browser.js';
import type { Engine } from './engine/engine.js';
import { modelFromBytes, type ModelName, type SerModel } from './api/core.js';

export * from './api/core.js';

/** The page's WebGPU engine (navigator.gpu). Throws a message saying what is missing when the browser has no WebGPU or grants no adapter. */
export function createEngine(): Promise<Engine> {
  return createBrowserEngine();
}

/**
 * A model from a checkpoint's URL (fetched) or bytes. `opts.model` names the architecture of a
 * plain PyTorch state_dict. Throws naming the source on an HTTP error or a file that holds no model.
 */
export async function loadModel(engine: Engine, source: string | URL | Uint8Array | ArrayBuffer, opts: { model?: ModelName } = {}): Promise<SerModel> {
  if (source instanceof Uint8Array || source instanceof ArrayBuffer) return modelFromBytes(engine, new Uint8Array(source), { model: opts.model, source: 'checkpoint bytes' });
  const url = String(source);
  const r = await fetch(url);
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${r.statusText}`);
  return modelFromBytes(engine, new Uint8Array(await r.arrayBuffer()), { model: opts.model, source: url });
}
