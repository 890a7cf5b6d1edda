// A tensor is a shape, a dtype and a GPU buffer borrowed from the engine's pool.
// Nothing here reads back to the CPU except `read()`, which the caller asks for.
import type { Engine } from './engine.js';

export type DType = 'f32' | 'i32';

export function sizeOf(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isInteger(d) || d < 0) throw new Error(`bad shape [${shape.join(', ')}]: dimensions must be whole numbers >= 0`);
    n *= d;
  }
  return n;
}

export class Tensor {
  readonly size: number;
  requiresGrad = false;
  /** Accumulated gradient of a leaf (parameter or input) after `backward`. */
  grad: Tensor | null = null;
  name?: string;
  private _buffer: GPUBuffer | null;

  constructor(
    readonly engine: Engine,
    readonly shape: readonly number[],
    readonly dtype: DType,
    buffer: GPUBuffer,
  ) {
    this.size = sizeOf(shape);
    this._buffer = buffer;
  }

  get buffer(): GPUBuffer {
    if (!this._buffer) throw new Error(`tensor${this.name ? ` '${this.name}'` : ''} [${this.shape.join(', ')}] used after dispose`);
    return this._buffer;
  }

  get disposed(): boolean {
    return this._buffer === null;
  }

  get bytes(): number {
    return this.size * 4;
  }

  /** Returns the buffer to the pool. Safe to call twice. */
  dispose(): void {
    if (!this._buffer) return;
    this.engine.releaseBuffer(this._buffer, this);
    this._buffer = null;
  }

  /** Copies the data back to the CPU (flushes pending GPU work). */
  read(): Promise<Float32Array | Int32Array> {
    return this.engine.read(this);
  }

  async readFloat(): Promise<Float32Array> {
    if (this.dtype !== 'f32') throw new Error('readFloat on an int32 tensor');
    return (await this.read()) as Float32Array;
  }

  toString(): string {
    return `Tensor(${this.dtype} [${this.shape.join(', ')}]${this.name ? ` '${this.name}'` : ''})`;
  }
}
