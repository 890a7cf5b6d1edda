// The safetensors format: an 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets: [begin, end]}, __metadata__: {...}}, then the raw
// little-endian tensor bytes. Readers in PyTorch (safetensors.torch.load_file) take it as is.
// Pure bytes in and out, so the browser build uses it too.

export type SafeDType = 'F32' | 'I32' | 'I64';

export interface SafeTensor {
  dtype: SafeDType;
  shape: number[];
  data: Float32Array | Int32Array | BigInt64Array;
}

const BYTES: Record<SafeDType, number> = { F32: 4, I32: 4, I64: 8 };

export class SafetensorsError extends Error {}

export function encodeSafetensors(tensors: Map<string, SafeTensor>, metadata: Record<string, string> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    const n = t.shape.reduce((a, b) => a * b, 1);
    if (t.data.length !== n) throw new SafetensorsError(`tensor '${name}': ${t.data.length} values for shape [${t.shape}]`);
    const bytes = n * BYTES[t.dtype];
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + bytes] };
    offset += bytes;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8); // the data starts 8-byte aligned
  const jsonBytes = new TextEncoder().encode(json);
  const out = new Uint8Array(8 + jsonBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(jsonBytes.length), true);
  out.set(jsonBytes, 8);
  let at = 8 + jsonBytes.length;
  for (const t of tensors.values()) {
    const raw = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(raw, at);
    at += raw.length;
  }
  return out;
}

export function decodeSafetensors(bytes: Uint8Array, name = 'checkpoint'): { tensors: Map<string, SafeTensor>; metadata: Record<string, string> } {
  const fail = (why: string) => new SafetensorsError(`${name}: not a valid safetensors file: ${why}`);
  if (bytes.length < 8) throw fail('shorter than its 8-byte header length');
  const headerLen = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (headerLen > bytes.length - 8 || headerLen > 100_000_000) throw fail(`header length ${headerLen} exceeds the file`);
  let header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + headerLen)));
  } catch {
    throw fail('header is not JSON');
  }
  if (header === null || typeof header !== 'object' || Array.isArray(header)) throw fail('header is not a JSON object');
  const meta = header.__metadata__ as unknown;
  if (meta !== undefined && (meta === null || typeof meta !== 'object' || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string'))) {
    throw fail('__metadata__ is not an object of strings');
  }
  const dataStart = 8 + headerLen;
  const dataLen = bytes.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as unknown as Record<string, string>;
  const tensors = new Map<string, SafeTensor>();
  for (const [key, info] of Object.entries(header)) {
    if (key === '__metadata__') continue;
    if (info === null || typeof info !== 'object') throw fail(`entry '${key}' is not a tensor description`);
    const dtype = info.dtype as SafeDType;
    if (typeof dtype !== 'string' || !Object.hasOwn(BYTES, dtype)) throw fail(`tensor '${key}' has unsupported dtype ${JSON.stringify(info.dtype)}`);
    const shape = info.shape;
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) throw fail(`tensor '${key}' has a bad shape`);
    if (!Array.isArray(info.data_offsets) || info.data_offsets.length !== 2) throw fail(`tensor '${key}' has no [begin, end] data offsets`);
    const [begin, end] = info.data_offsets;
    const n = shape.reduce((a, b) => a * b, 1);
    if (!Number.isInteger(begin) || !Number.isInteger(end) || begin < 0 || end > dataLen || end - begin !== n * BYTES[dtype]) {
      throw fail(`tensor '${key}' has data offsets [${begin}, ${end}] that do not fit its shape or the file`);
    }
    // A copy with its own aligned buffer (a Node Buffer's slice would share the whole file's).
    const raw = new Uint8Array(bytes.subarray(dataStart + begin, dataStart + end));
    const data = dtype === 'F32' ? new Float32Array(raw.buffer) : dtype === 'I32' ? new Int32Array(raw.buffer) : new BigInt64Array(raw.buffer);
    tensors.set(key, { dtype, shape, data });
  }
  return { tensors, metadata };
}
