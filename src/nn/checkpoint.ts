// A model's state (parameters and batchnorm statistics) to and from safetensors tensors,
// with PyTorch's names, so weights move between the two frameworks. Runtime-neutral: the
// Node file functions live in checkpoint-file.ts, the browser passes bytes.
import type { Module } from './module.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError, type SafeTensor } from '../io/safetensors.js';

export async function modelToSafetensors(model: Module, metadata: Record<string, string> = {}): Promise<Uint8Array> {
  const tensors = new Map<string, SafeTensor>();
  for (const [name, t] of model.stateEntries()) {
    tensors.set(name, { dtype: 'F32', shape: [...t.shape], data: (await t.read()) as Float32Array });
    if (name.endsWith('running_var')) {
      // PyTorch's BatchNorm also saves this counter; written so load_state_dict(strict=True) accepts the file.
      tensors.set(name.replace(/running_var$/, 'num_batches_tracked'), { dtype: 'I64', shape: [], data: new BigInt64Array([0n]) });
    }
  }
  return encodeSafetensors(tensors, { format: 'pt', ...metadata });
}

/** Index of the first NaN or infinite value of `data`, or -1. */
function firstNonFinite(data: Float32Array): number {
  for (let i = 0; i < data.length; i++) if (!Number.isFinite(data[i])) return i;
  return -1;
}

/**
 * Loads weights into `model`. Every tensor the model has must be in the file as F32 of the
 * model's shape and hold only finite values (NaN or Inf weights would predict "NaN" and score as
 * a real model); nothing is written into the model unless all pass. Returns the file's metadata.
 * Errors: SafetensorsError naming `source` and the first bad tensor.
 */
export function loadModelFromSafetensors(model: Module, bytes: Uint8Array, source = 'checkpoint'): Record<string, string> {
  const { tensors, metadata } = decodeSafetensors(bytes, source);
  const entries = model.stateEntries();
  const missing = entries.filter(([n]) => !tensors.has(n)).map(([n]) => n);
  if (missing.length > 0) {
    throw new SafetensorsError(`${source}: does not fit this model: missing ${missing.slice(0, 3).join(', ')}${missing.length > 3 ? ` and ${missing.length - 3} more` : ''}`);
  }
  for (const [name, t] of entries) {
    const st = tensors.get(name)!;
    if (st.dtype !== 'F32' || st.shape.join() !== t.shape.join()) {
      throw new SafetensorsError(`${source}: tensor '${name}' is ${st.dtype} [${st.shape}], the model wants F32 [${t.shape}]`);
    }
    const bad = firstNonFinite(st.data as Float32Array);
    if (bad >= 0) {
      throw new SafetensorsError(`${source}: tensor '${name}' holds ${(st.data as Float32Array)[bad]} at element ${bad} (a damaged or diverged model: weights must be finite)`);
    }
  }
  for (const [name, t] of entries) t.engine.write(t.buffer, tensors.get(name)!.data as Float32Array);
  return metadata;
}
