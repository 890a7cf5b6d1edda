// Binding windows, planned in one place. A tensor larger than one storage binding (VGG-16's
// activations at batch 32 are 195 MB; llvmpipe binds 128 MiB) is bound as byte windows whose
// offsets are multiples of the adapter's minStorageBufferOffsetAlignment. Launchers ask here
// for element ranges or batch chunks and for each tensor's window in them; the one test hook,
// `windowOverride`, makes every launcher plan small windows.
import type { Engine, Binding, BufferRange } from './engine.js';
import type { Tensor } from './tensor.js';

/**
 * Test hook: plan windows as if bindings held at most `maxBinding` bytes and offsets had to
 * be multiples of `alignment` bytes (a multiple of the adapter's; tests use 256). Null: the adapter's.
 */
export const windowOverride: { maxBinding: number | null; alignment: number | null } = { maxBinding: null, alignment: null };

/** Largest binding launchers plan for, bytes (engine.maxBinding: the adapter's maxStorageBufferBindingSize). */
export function bindingLimit(engine: Engine): number {
  return Math.min(engine.maxBinding, windowOverride.maxBinding ?? Infinity);
}

/** Offset alignment of a window, bytes. */
export function bindingAlignment(engine: Engine): number {
  return Math.max(engine.caps.bindingAlignment, windowOverride.alignment ?? 0);
}

// ---- flat element ranges -------------------------------------------------------------

/** Elements [start, start + count) of every tensor of a same-layout dispatch. */
export interface ElementRange {
  start: number;
  count: number;
  /** The range is the whole tensor: bind tensors whole. */
  whole: boolean;
}

/** The most elements one window holds: a multiple of the alignment. */
export function rangeStep(engine: Engine): number {
  const align = bindingAlignment(engine) / 4;
  return Math.floor(bindingLimit(engine) / 4 / align) * align;
}

/**
 * Cuts `size` elements into ranges that each fit one binding and start at an aligned offset:
 * one whole range when everything fits, else steps of `step` elements (default rangeStep;
 * `op` names a bad step in the error).
 */
export function elementRanges(engine: Engine, op: string, size: number, step?: number): ElementRange[] {
  if (step === undefined) {
    if (size * 4 <= bindingLimit(engine)) return [{ start: 0, count: size, whole: true }];
    step = rangeStep(engine);
  }
  const align = bindingAlignment(engine) / 4;
  if (!(step > 0) || step % align !== 0) throw new Error(`${op}: window ${step} must be a positive multiple of ${align}`);
  const out: ElementRange[] = [];
  for (let start = 0; start < size; start += step) {
    const count = Math.min(step, size - start);
    out.push({ start, count, whole: start === 0 && count === size });
  }
  return out;
}

/** The binding of `t` for range `r` (null stays null, uniform buffers pass through). */
export function rangeBinding(t: Tensor | GPUBuffer | null, r: ElementRange): Binding {
  if (t === null || r.whole || !('shape' in t)) return t;
  return { tensor: t, offset: r.start * 4, size: r.count * 4 };
}

// ---- batch chunks ----------------------------------------------------------------------

export interface BatchChunk {
  n0: number;
  count: number;
}

/**
 * Cuts a batch of `batch` samples into chunks such that, for every tensor (given by its
 * elements per sample), the chunk's samples fit one binding even after the window start
 * is rounded down to the offset alignment. One chunk when everything fits whole. `limit`:
 * a smaller binding limit asked for by one call (conv2d's maxBindingBytes).
 */
export function batchChunks(engine: Engine, op: string, batch: number, perSample: readonly number[], limit = bindingLimit(engine)): BatchChunk[] {
  const largest = Math.max(...perSample) * 4;
  if (largest * batch <= limit) return [{ n0: 0, count: batch }];
  const per = Math.floor((limit - bindingAlignment(engine)) / largest);
  if (per < 1) throw new Error(`${op}: one sample needs ${largest} bytes, over the storage binding limit of ${limit} bytes`);
  const chunks: BatchChunk[] = [];
  for (let n0 = 0; n0 < batch; n0 += per) chunks.push({ n0, count: Math.min(per, batch - n0) });
  return chunks;
}

/**
 * Samples [n0, n0 + count) of `t` (each `perSample` elements) as a binding whose offset is
 * aligned; `base` is the element index of sample n0 inside that binding.
 */
export function sampleWindow(t: Tensor, perSample: number, chunk: BatchChunk, batch: number): { binding: Tensor | BufferRange; base: number } {
  if (chunk.n0 === 0 && chunk.count === batch) return { binding: t, base: 0 };
  const align = bindingAlignment(t.engine);
  const start = chunk.n0 * perSample * 4;
  const offset = Math.floor(start / align) * align;
  const end = (chunk.n0 + chunk.count) * perSample * 4;
  return { binding: { tensor: t, offset, size: end - offset }, base: (start - offset) / 4 };
}
