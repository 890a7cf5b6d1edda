// NumPy .npy files, float32 only: format version 1.0, little-endian '<f4', C order.
// The header is a Python dict literal padded with spaces to a multiple of 64 bytes
// (magic + version + length + dict + '\n'), as numpy writes it.
import { readFileSync } from 'node:fs';
import { writeFileAtomic } from './atomic.js';

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY

export interface NpyArray {
  shape: number[];
  data: Float32Array;
}

export function encodeNpy(data: Float32Array, shape: readonly number[]): Uint8Array {
  const n = shape.reduce((a, b) => a * b, 1);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0) || n !== data.length) {
    throw new Error(`npy: ${data.length} values do not fill shape (${shape.join(', ')})`);
  }
  const dims = shape.length === 1 ? `${shape[0]},` : shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const out = new Uint8Array(10 + header.length + data.byteLength);
  out.set(MAGIC, 0);
  out[6] = 1; // version 1.0
  out[7] = 0;
  new DataView(out.buffer).setUint16(8, header.length, true);
  for (let i = 0; i < header.length; i++) out[10 + i] = header.charCodeAt(i);
  const body = new DataView(out.buffer, 10 + header.length);
  for (let i = 0; i < data.length; i++) body.setFloat32(i * 4, data[i], true);
  return out;
}

export function decodeNpy(bytes: Uint8Array, name = 'npy'): NpyArray {
  const fail = (why: string): never => {
    throw new Error(`${name}: ${why}`);
  };
  if (bytes.length < 10 || MAGIC.some((b, i) => bytes[i] !== b)) fail('not a .npy file');
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const major = bytes[6];
  const headerLen = major === 1 ? view.getUint16(8, true) : major === 2 || major === 3 ? view.getUint32(8, true) : fail(`unsupported .npy version ${major}`);
  const start = (major === 1 ? 10 : 12) + headerLen;
  if (start > bytes.length) fail('truncated header');
  const header = new TextDecoder().decode(bytes.subarray(major === 1 ? 10 : 12, start));
  const descr = /'descr':\s*'([^']*)'/.exec(header)?.[1];
  if (descr !== '<f4') fail(`dtype '${descr}' is not float32 little-endian ('<f4')`);
  if (!/'fortran_order':\s*False/.test(header)) fail('Fortran-order arrays are not supported');
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header)?.[1] ?? fail('no shape in the header');
  const shape = shapeText
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '')
    .map(Number);
  if (!shape.every((d) => Number.isInteger(d) && d >= 0)) fail(`bad shape (${shapeText})`);
  const n = shape.reduce((a, b) => a * b, 1);
  if (bytes.length - start < n * 4) fail(`truncated: ${n} values declared, ${Math.floor((bytes.length - start) / 4)} present`);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = view.getFloat32(start + i * 4, true);
  return { shape, data };
}

/** Writes atomically (temporary file, then rename). */
export function writeNpy(path: string, data: Float32Array, shape: readonly number[]): void {
  writeFileAtomic(path, encodeNpy(data, shape));
}

export function readNpy(path: string): NpyArray {
  return decodeNpy(readFileSync(path), path);
}
