// A tiny ZIP writer for test fixtures (stored or deflated entries, optional ZIP64 forms), so the
// reader can be tested on archives made by the tests instead of committed binaries.
import { deflateRawSync } from 'node:zlib';
import { crc32 } from '../../src/io/crc32.js';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

export interface ZipInput {
  name: string;
  data: Uint8Array;
  /** Default 'deflate'. */
  method?: 'store' | 'deflate';
}

/**
 * Builds a ZIP archive in memory. `zip64` writes the ZIP64 forms (extra fields, 64-bit end
 * record) even where the sizes would fit, so the reader's ZIP64 path can be exercised.
 */
export function writeZip(files: ZipInput[], opts: { zip64?: boolean; comment?: string } = {}): Uint8Array {
  const parts: Uint8Array[] = [];
  const central: Uint8Array[] = [];
  let offset = 0;
  const z64 = !!opts.zip64;
  for (const f of files) {
    const name = Buffer.from(f.name, 'utf8');
    const method = f.method === 'store' ? 0 : 8;
    const body = method === 0 ? f.data : new Uint8Array(deflateRawSync(f.data));
    const crc = crc32(f.data);
    // Local header: ZIP64 keeps both sizes in the extra field.
    const localExtra = z64 ? le([[0x0001, 2], [16, 2], [f.data.length, 8], [body.length, 8]]) : new Uint8Array(0);
    const local = concat([
      le([
        [SIG_LOCAL, 4], [z64 ? 45 : 20, 2], [0x800, 2], [method, 2], [0, 2], [0x21, 2], [crc, 4],
        [z64 ? U32_MAX : body.length, 4], [z64 ? U32_MAX : f.data.length, 4], [name.length, 2], [localExtra.length, 2],
      ]),
      name,
      localExtra,
    ]);
    const cdExtra = z64 ? le([[0x0001, 2], [24, 2], [f.data.length, 8], [body.length, 8], [offset, 8]]) : new Uint8Array(0);
    central.push(
      concat([
        le([
          [SIG_CENTRAL, 4], [z64 ? 45 : 20, 2], [z64 ? 45 : 20, 2], [0x800, 2], [method, 2], [0, 2], [0x21, 2], [crc, 4],
          [z64 ? U32_MAX : body.length, 4], [z64 ? U32_MAX : f.data.length, 4], [name.length, 2], [cdExtra.length, 2],
          [0, 2], [0, 2], [0, 2], [0, 4], [z64 ? U32_MAX : offset, 4],
        ]),
        name,
        cdExtra,
      ]),
    );
    parts.push(local, body);
    offset += local.length + body.length;
  }
  const cd = concat(central);
  const comment = Buffer.from(opts.comment ?? '', 'utf8');
  const tail: Uint8Array[] = [cd];
  if (z64) {
    const recOffset = offset + cd.length;
    tail.push(
      le([
        [SIG_ZIP64_EOCD, 4], [44, 8], [45, 2], [45, 2], [0, 4], [0, 4],
        [files.length, 8], [files.length, 8], [cd.length, 8], [offset, 8],
      ]),
      le([[SIG_ZIP64_LOCATOR, 4], [0, 4], [recOffset, 8], [1, 4]]),
    );
  }
  tail.push(
    le([
      [SIG_EOCD, 4], [0, 2], [0, 2], [z64 ? U16_MAX : files.length, 2], [z64 ? U16_MAX : files.length, 2],
      [z64 ? U32_MAX : cd.length, 4], [z64 ? U32_MAX : offset, 4], [comment.length, 2],
    ]),
    comment,
  );
  return concat([...parts, ...tail]);
}

/** Little-endian fields [value, byteCount]. */
function le(fields: [number, number][]): Uint8Array {
  const out = new Uint8Array(fields.reduce((s, [, n]) => s + n, 0));
  let p = 0;
  for (const [v, n] of fields) {
    let x = v;
    for (let i = 0; i < n; i++) {
      out[p++] = x % 256;
      x = Math.floor(x / 256);
    }
  }
  return out;
}

function concat(arrays: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(arrays.reduce((s, a) => s + a.length, 0));
  let p = 0;
  for (const a of arrays) {
    out.set(a, p);
    p += a.length;
  }
  return out;
}
