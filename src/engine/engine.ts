// The engine: one GPU device, its compiled pipelines, a buffer pool, the open command
// encoder, and the scopes that release tensors deterministically.
//
// Dispatches are recorded into one compute pass and submitted together on `flush()`
// (called by `read()`, uploads and the training loop), so a training step is a single
// submission with no readback unless the caller asks for a value.
import { BufferPool, sizeClass } from './pool.js';
import poisonSource from '../../shaders/poison.wgsl';
import { Tensor, sizeOf, type DType } from './tensor.js';
import type { AdapterSummary } from '../gpu/adapter-info.js';
import { capabilitiesOf, type Capabilities } from '../gpu/capabilities.js';
import type { Tuning } from '../gpu/tuning.js';

/** A window of a tensor's buffer, in bytes (offset a multiple of minStorageBufferOffsetAlignment). */
export interface BufferRange {
  tensor: Tensor;
  offset: number;
  size: number;
}
export type Binding = Tensor | GPUBuffer | BufferRange | null;
export type Workgroups = readonly [number, number?, number?];

/** One recorded dispatch: enough to submit it again on its own. */
export interface RecordedDispatch {
  label: string;
  pipeline: GPUComputePipeline;
  bindGroup: GPUBindGroup;
  workgroups: [number, number, number];
}

/** Compute passes one `timeOnGpu` call can time (two timestamps each). */
const TIMED_PASSES = 64;

/** Raised when the device reported a validation error or was lost. */
export class GpuError extends Error {}

/** A tensor larger than one buffer of this adapter may be (maxBufferSize): the sizes asked for, not a bug. */
export class AdapterLimitError extends GpuError {}

export class Engine {
  readonly limits: GPUSupportedLimits;
  readonly features: ReadonlySet<string>;
  readonly pool: BufferPool;
  /** What the kernels' choosers read (src/gpu/capabilities.ts). */
  readonly caps: Capabilities;
  /** Tests set this: every new tensor starts as NaN, so unwritten elements show. */
  poisonNewTensors = false;
  /** Counters for benchmarks and tests. */
  stats = { dispatches: 0, submits: 0, reads: 0, pipelines: 0, largestTensorBytes: 0 };
  /** When set, every dispatch is also appended here (bench/profile.ts replays them one by one). */
  recording: RecordedDispatch[] | null = null;

  private modules = new Map<string, GPUShaderModule>();
  private pipelines = new Map<string, GPUComputePipeline>();
  private labels = new WeakMap<GPUComputePipeline, string>();
  private uniforms = new Map<string, GPUBuffer>();
  private retired: GPUBuffer[] = [];
  /** Mappable buffers for `read`, reused by size so logging a loss allocates nothing. */
  private staging = new Map<number, GPUBuffer[]>();
  private encoder: GPUCommandEncoder | null = null;
  private pass: GPUComputePassEncoder | null = null;
  private pending = 0;
  private scopes: Set<Tensor>[] = [];
  private refs = new Map<GPUBuffer, number>();
  private error: string | null = null;
  private lost: string | null = null;
  /** Timestamp queries for `timeOnGpu`: made on first use. */
  private timer: { querySet: GPUQuerySet; resolved: GPUBuffer; readback: GPUBuffer } | null = null;
  /** Compute passes begun since `timeOnGpu` started (-1: not timing). */
  private timedPasses = -1;

  /** `tuning`: the autotuner's choices (src/gpu/tuning.ts); default off, the choosers' rules only. */
  constructor(
    readonly device: GPUDevice,
    readonly adapter: AdapterSummary,
    tuning?: Tuning,
  ) {
    this.limits = device.limits;
    this.features = new Set([...device.features] as string[]);
    this.pool = new BufferPool(device);
    this.caps = capabilitiesOf(adapter, this.limits, this.features, tuning);
    device.addEventListener('uncapturederror', (ev) => {
      this.error ??= (ev as GPUUncapturedErrorEvent).error.message;
    });
    void device.lost.then((info) => {
      if (info.reason !== 'destroyed') this.lost = `GPU device lost: ${info.message || info.reason}`;
    });
  }

  /** Largest buffer one storage binding may cover, in bytes. */
  get maxBinding(): number {
    return this.limits.maxStorageBufferBindingSize;
  }

  // ---- tensors -------------------------------------------------------------------

  empty(shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const bytes = sizeOf(shape) * 4;
    if (bytes > this.limits.maxBufferSize) {
      throw new AdapterLimitError(`tensor [${shape.join(', ')}] needs ${bytes} bytes, over this adapter's maxBufferSize ${this.limits.maxBufferSize}`);
    }
    if (bytes > this.stats.largestTensorBytes) this.stats.largestTensorBytes = bytes;
    const buffer = this.pool.acquire(bytes);
    this.refs.set(buffer, 1);
    const t = this.track(new Tensor(this, shape, dtype, buffer));
    if (this.poisonNewTensors && t.size > 0) {
      const p = this.uniform([t.size, 0x7fc00000], 'uu');
      this.dispatch(this.pipeline(poisonSource, 'poison', { WG: 256 }), [t, p], this.grid(t.size, 256));
    }
    return t;
  }

  fromArray(data: ArrayLike<number>, shape: readonly number[], dtype: DType = 'f32'): Tensor {
    const n = sizeOf(shape);
    if (data.length !== n) throw new Error(`fromArray: ${data.length} values for shape [${shape.join(', ')}] (${n})`);
    const t = this.empty(shape, dtype);
    const typed = dtype === 'f32' ? Float32Array.from(data) : Int32Array.from(data);
    this.write(t.buffer, typed);
    return t;
  }

  /** Another shape over the same buffer; the buffer lives until every view is disposed. */
  view(t: Tensor, shape: readonly number[]): Tensor {
    if (sizeOf(shape) !== t.size) throw new Error(`cannot view [${t.shape.join(', ')}] as [${shape.join(', ')}]`);
    const buffer = t.buffer;
    this.refs.set(buffer, (this.refs.get(buffer) ?? 1) + 1);
    return this.track(new Tensor(this, shape, t.dtype, buffer));
  }

  /** Called by Tensor.dispose. */
  releaseBuffer(buffer: GPUBuffer, t: Tensor): void {
    for (const s of this.scopes) s.delete(t);
    const n = (this.refs.get(buffer) ?? 1) - 1;
    if (n > 0) {
      this.refs.set(buffer, n);
      return;
    }
    this.refs.delete(buffer);
    this.pool.release(buffer);
  }

  /** Writes CPU data into a buffer, after the work already recorded (which may still read its old contents). */
  write(buffer: GPUBuffer, data: Float32Array | Int32Array | Uint32Array, byteOffset = 0): void {
    if (this.pending > 0) this.flush();
    this.device.queue.writeBuffer(buffer, byteOffset, data.buffer, data.byteOffset, data.byteLength);
  }

  // ---- scopes --------------------------------------------------------------------

  private track(t: Tensor): Tensor {
    this.scopes[this.scopes.length - 1]?.add(t);
    return t;
  }

  /**
   * Runs `fn`; every tensor created inside and not returned (or kept) is disposed at
   * the end. Returned tensors move to the enclosing scope.
   */
  scope<T>(fn: () => T): T {
    this.scopes.push(new Set());
    let result: T;
    try {
      result = fn();
    } catch (e) {
      this.endScope(new Set());
      throw e;
    }
    this.endScope(collectTensors(result));
    return result;
  }

  async scopeAsync<T>(fn: () => Promise<T>): Promise<T> {
    this.scopes.push(new Set());
    let result: T;
    try {
      result = await fn();
    } catch (e) {
      this.endScope(new Set());
      throw e;
    }
    this.endScope(collectTensors(result));
    return result;
  }

  private endScope(keep: Set<Tensor>): void {
    const mine = this.scopes.pop()!;
    const parent = this.scopes[this.scopes.length - 1];
    for (const t of mine) {
      if (keep.has(t)) parent?.add(t);
      else t.dispose();
    }
  }

  /** Takes a tensor out of every scope: the caller owns it and disposes it. */
  keep<T extends Tensor>(t: T): T {
    for (const s of this.scopes) s.delete(t);
    return t;
  }

  // ---- kernels -------------------------------------------------------------------

  /** A compute pipeline, compiled once per (source, entry point, constants). */
  pipeline(code: string, entryPoint: string, constants: Record<string, number> = {}): GPUComputePipeline {
    const key = `${entryPoint}|${JSON.stringify(constants)}|${code}`;
    let p = this.pipelines.get(key);
    if (!p) {
      let module = this.modules.get(code);
      if (!module) {
        module = this.device.createShaderModule({ code });
        this.modules.set(code, module);
      }
      p = this.device.createComputePipeline({ layout: 'auto', compute: { module, entryPoint, constants } });
      this.pipelines.set(key, p);
      this.labels.set(p, `${shaderName(code)}.${entryPoint}`);
      this.stats.pipelines++;
    }
    return p;
  }

  /**
   * A uniform buffer holding `values`, packed as 32-bit words whose types are given by
   * `types` ('u' unsigned, 'i' signed, 'f' float), one letter per value. Buffers are
   * cached by content, so a training loop with fixed shapes allocates none after its first step.
   */
  uniform(values: readonly number[], types: string): GPUBuffer {
    if (types.length !== values.length) throw new Error(`uniform: ${values.length} values but ${types.length} types`);
    const words = Math.max(4, Math.ceil(values.length / 4) * 4);
    const data = new ArrayBuffer(words * 4);
    const view = new DataView(data);
    values.forEach((v, i) => {
      const t = types[i];
      if (t === 'f') view.setFloat32(i * 4, v, true);
      else if (t === 'i') view.setInt32(i * 4, v, true);
      else view.setUint32(i * 4, v, true);
    });
    const key = Array.from(new Uint32Array(data)).join(',');
    let buffer = this.uniforms.get(key);
    if (buffer) {
      // Refresh its place in the insertion order (least recently used goes first).
      this.uniforms.delete(key);
      this.uniforms.set(key, buffer);
      return buffer;
    }
    buffer = this.device.createBuffer({ size: data.byteLength, usage: GPUBufferUsage.UNIFORM, mappedAtCreation: true });
    new Uint8Array(buffer.getMappedRange()).set(new Uint8Array(data));
    buffer.unmap();
    this.uniforms.set(key, buffer);
    if (this.uniforms.size > 4096) {
      const [oldKey, old] = this.uniforms.entries().next().value as [string, GPUBuffer];
      this.uniforms.delete(oldKey);
      this.retired.push(old); // destroyed after the next submit: recorded work may still use it
    }
    return buffer;
  }

  /** Records one dispatch. `bindings[i]` goes to @binding(i) of @group(0); null skips a slot. */
  dispatch(pipeline: GPUComputePipeline, bindings: readonly Binding[], workgroups: Workgroups): void {
    const [x, y = 1, z = 1] = workgroups;
    if (x === 0 || y === 0 || z === 0) return;
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (x > max || y > max || z > max) throw new GpuError(`dispatch of [${x}, ${y}, ${z}] workgroups exceeds ${max} per dimension`);
    const entries: GPUBindGroupEntry[] = [];
    bindings.forEach((b, i) => {
      if (b === null) return;
      if (b instanceof Tensor) entries.push({ binding: i, resource: { buffer: b.buffer, size: Math.max(4, b.bytes) } });
      else if ('tensor' in b) entries.push({ binding: i, resource: { buffer: b.tensor.buffer, offset: b.offset, size: b.size } });
      else entries.push({ binding: i, resource: { buffer: b } });
    });
    const bindGroup = this.device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
    const pass = this.computePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(x, y, z);
    this.recording?.push({ label: this.labels.get(pipeline) ?? '?', pipeline, bindGroup, workgroups: [x, y, z] });
    this.pending++;
    this.stats.dispatches++;
    // Keep command buffers moderate so the GPU starts while we are still recording.
    if (this.pending >= 512) this.flush();
  }

  /** Workgroup counts for `threads` invocations in groups of `size`, folded into 2D past the per-dimension limit. */
  grid(threads: number, size: number): [number, number, number] {
    const groups = Math.ceil(threads / size);
    const max = this.limits.maxComputeWorkgroupsPerDimension;
    if (groups <= max) return [groups, 1, 1];
    const y = Math.ceil(groups / max);
    return [Math.ceil(groups / y), y, 1];
  }

  private computePass(): GPUComputePassEncoder {
    if (!this.pass) {
      this.encoder ??= this.device.createCommandEncoder();
      const i = this.timedPasses;
      const timed = this.timer && i >= 0 && i < TIMED_PASSES;
      this.pass = this.encoder.beginComputePass(
        timed ? { timestampWrites: { querySet: this.timer!.querySet, beginningOfPassWriteIndex: 2 * i, endOfPassWriteIndex: 2 * i + 1 } } : undefined,
      );
      if (i >= 0) this.timedPasses++;
    }
    return this.pass;
  }

  /**
   * Runs `record` (which records dispatches) in compute passes of its own and returns the GPU
   * time they took, in milliseconds, from timestamp queries; null when the device lacks
   * `timestamp-query`, the work took more than TIMED_PASSES passes, or the clock read back
   * unusable values. Work recorded before is submitted first and not counted.
   */
  async timeOnGpu(record: () => void): Promise<number | null> {
    if (!this.features.has('timestamp-query')) return null;
    this.flush();
    this.timer ??= {
      querySet: this.device.createQuerySet({ type: 'timestamp', count: 2 * TIMED_PASSES }),
      resolved: this.device.createBuffer({ size: 16 * TIMED_PASSES, usage: GPUBufferUsage.QUERY_RESOLVE | GPUBufferUsage.COPY_SRC }),
      readback: this.device.createBuffer({ size: 16 * TIMED_PASSES, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST }),
    };
    this.timedPasses = 0;
    let passes = 0;
    try {
      record();
    } finally {
      this.endPass();
      passes = this.timedPasses;
      this.timedPasses = -1;
    }
    if (passes === 0 || passes > TIMED_PASSES) {
      await this.sync();
      return null;
    }
    const { querySet, resolved, readback } = this.timer;
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.resolveQuerySet(querySet, 0, 2 * passes, resolved, 0);
    this.encoder.copyBufferToBuffer(resolved, 0, readback, 0, 16 * passes);
    this.pending++;
    this.flush();
    await readback.mapAsync(GPUMapMode.READ);
    const ticks = new BigUint64Array(readback.getMappedRange(0, 16 * passes).slice(0));
    readback.unmap();
    this.throwIfFailed();
    let ns = 0;
    for (let p = 0; p < passes; p++) {
      const [begin, end] = [ticks[2 * p], ticks[2 * p + 1]];
      if (end < begin) return null;
      ns += Number(end - begin);
    }
    return ns > 0 ? ns / 1e6 : null;
  }

  copy(src: Tensor, dst: Tensor): void {
    if (src.size !== dst.size) throw new Error(`copy: sizes differ (${src.size} vs ${dst.size})`);
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    this.encoder.copyBufferToBuffer(src.buffer, 0, dst.buffer, 0, src.bytes);
    this.pending++;
  }

  private endPass(): void {
    if (this.pass) {
      this.pass.end();
      this.pass = null;
    }
  }

  /** Submits the recorded work. Throws if the device has reported an error. */
  flush(): void {
    this.endPass();
    if (this.encoder) {
      this.device.queue.submit([this.encoder.finish()]);
      this.encoder = null;
      this.stats.submits++;
    }
    this.pending = 0;
    for (const b of this.retired) b.destroy();
    this.retired = [];
    this.throwIfFailed();
  }

  /** Reports a validation error once (later work may still succeed); a lost device stays lost. */
  throwIfFailed(): void {
    if (this.lost) throw new GpuError(this.lost);
    if (this.error) {
      const message = this.error;
      this.error = null;
      throw new GpuError(message);
    }
  }

  /** Waits until the GPU has finished everything submitted so far. */
  async sync(): Promise<void> {
    this.flush();
    await this.device.queue.onSubmittedWorkDone();
    this.throwIfFailed();
  }

  async read(t: Tensor): Promise<Float32Array | Int32Array> {
    const bytes = t.bytes;
    const size = sizeClass(Math.max(4, bytes));
    const staging = this.staging.get(size)?.pop() ?? this.device.createBuffer({ size, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
    this.endPass();
    this.encoder ??= this.device.createCommandEncoder();
    if (bytes > 0) this.encoder.copyBufferToBuffer(t.buffer, 0, staging, 0, bytes);
    this.pending++;
    this.flush();
    this.stats.reads++;
    await staging.mapAsync(GPUMapMode.READ);
    let copy: ArrayBuffer;
    try {
      this.throwIfFailed();
      copy = staging.getMappedRange(0, bytes).slice(0);
    } finally {
      staging.unmap();
      let list = this.staging.get(size);
      if (!list) this.staging.set(size, (list = []));
      if (list.length < 4) list.push(staging);
      else staging.destroy();
    }
    return t.dtype === 'f32' ? new Float32Array(copy) : new Int32Array(copy);
  }

  /** Frees pooled memory and the device. The engine cannot be used afterwards. */
  destroy(): void {
    this.flush();
    this.pool.trim();
    for (const b of this.uniforms.values()) b.destroy();
    this.uniforms.clear();
    for (const list of this.staging.values()) for (const b of list) b.destroy();
    this.staging.clear();
    if (this.timer) {
      this.timer.querySet.destroy();
      this.timer.resolved.destroy();
      this.timer.readback.destroy();
    }
    this.device.destroy();
  }
}

/** The shader's file name, which the build writes on its first line ("// shader: conv2d"). */
function shaderName(code: string): string {
  return /^\/\/ shader: (\S+)/.exec(code)?.[1] ?? 'inline';
}

function collectTensors(value: unknown, out = new Set<Tensor>(), depth = 0): Set<Tensor> {
  if (value instanceof Tensor) out.add(value);
  else if (depth < 4 && value && typeof value === 'object') {
    for (const v of Array.isArray(value) ? value : Object.values(value)) collectTensors(v, out, depth + 1);
  }
  return out;
}
