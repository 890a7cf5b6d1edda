// A small ZIP reader (and a tiny writer for test fixtures), no dependencies: finds the
// end-of-central-directory record (ZIP64 included), walks the central directory, and
// extracts stored and deflated entries with their CRC-32 checked. Reads go through an open
// file descriptor at explicit offsets, so archives larger than memory are fine; only one
// entry at a time is held in memory. Unsafe names (.., absolute paths) and absurd sizes are
// refused before anything is written.
import { openSync, readSync, closeSync, fstatSync, mkdirSync, writeFileSync } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { inflateRawSync, deflateRawSync } from 'node:zlib';

const SIG_LOCAL = 0x04034b50;
const SIG_CENTRAL = 0x02014b50;
const SIG_EOCD = 0x06054b50;
const SIG_ZIP64_LOCATOR = 0x07064b50;
const SIG_ZIP64_EOCD = 0x06064b50;
const EOCD_SIZE = 22;
const MAX_COMMENT = 0xffff;
/** A 16/32-bit field holding its maximum means "the real value is in the ZIP64 record". */
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

// ---------------------------------------------------------------------------------------
// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320), table-driven.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 of `data`; pass the previous result as `crc` to continue over several chunks. */
export function crc32(data: Uint8Array, crc = 0): number {
  let c = ~crc >>> 0;
  for (let i = 0; i < data.length; i++) c = CRC_TABLE[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  return ~c >>> 0;
}

// ---------------------------------------------------------------------------------------
// Reading

export interface ZipEntry {
  /** The name as stored, '/'-separated; directories end with '/'. */
  name: string;
  isDirectory: boolean;
  /** 0 stored, 8 deflated. */
  method: number;
  crc: number;
  compressedSize: number;
  size: number;
  /** Offset of the entry's local header in the archive. */
  localOffset: number;
}

export interface ZipLimits {
  /** Largest uncompressed entry accepted (default 2 GiB). */
  maxEntryBytes?: number;
  /** Largest sum of uncompressed sizes accepted (default 64 GiB). */
  maxTotalBytes?: number;
  /** Most entries accepted (default 1,000,000). */
  maxEntries?: number;
}

/** Where the bytes come from: a whole archive in memory, or an open file. */
interface Source {
  size: number;
  read(offset: number, length: number): Uint8Array;
  close(): void;
}

function memorySource(bytes: Uint8Array): Source {
  return { size: bytes.length, read: (o, n) => bytes.subarray(o, o + n), close() {} };
}

function fileSource(path: string): Source {
  const fd = openSync(path, 'r');
  const size = fstatSync(fd).size;
  return {
    size,
    read(offset, length) {
      const buf = new Uint8Array(length);
      let got = 0;
      while (got < length) {
        const n = readSync(fd, buf, got, length - got, offset + got);
        if (n === 0) break;
        got += n;
      }
      return got === length ? buf : buf.subarray(0, got);
    },
    close: () => closeSync(fd),
  };
}

const u16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
const u32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;
/** 64-bit little-endian as a JS number; values beyond 2^53 cannot be real offsets here. */
function u64(b: Uint8Array, o: number, what: string, archive: string): number {
  const v = u32(b, o) + u32(b, o + 4) * 2 ** 32;
  if (!Number.isSafeInteger(v)) throw new Error(`${archive}: ${what} is absurdly large`);
  return v;
}

/** A read ZIP archive: its entries, and extraction of one entry or of all of them. */
export class ZipArchive {
  private constructor(
    /** The archive's path (or a label for in-memory bytes), used in every error message. */
    readonly label: string,
    readonly entries: ZipEntry[],
    private source: Source,
    private limits: Required<ZipLimits>,
  ) {}

  /** Opens a ZIP file; the file stays open until close(). */
  static open(path: string, limits: ZipLimits = {}): ZipArchive {
    let source: Source;
    try {
      source = fileSource(path);
    } catch (e) {
      throw new Error(`cannot open archive ${path}: ${(e as Error).message}`);
    }
    try {
      return ZipArchive.fromSource(path, source, limits);
    } catch (e) {
      source.close();
      throw e;
    }
  }

  /** Reads an archive held in memory; `label` names it in errors. */
  static fromBytes(bytes: Uint8Array, label = 'zip archive', limits: ZipLimits = {}): ZipArchive {
    return ZipArchive.fromSource(label, memorySource(bytes), limits);
  }

  private static fromSource(label: string, source: Source, limits: ZipLimits): ZipArchive {
    const lim: Required<ZipLimits> = {
      maxEntryBytes: limits.maxEntryBytes ?? 2 * 2 ** 30,
      maxTotalBytes: limits.maxTotalBytes ?? 64 * 2 ** 30,
      maxEntries: limits.maxEntries ?? 1_000_000,
    };
    const entries = readCentralDirectory(label, source, lim);
    return new ZipArchive(label, entries, source, lim);
  }

  /** The uncompressed bytes of `entry`, CRC-checked. */
  read(entry: ZipEntry): Uint8Array {
    const where = `${this.label}: entry '${entry.name}'`;
    const header = this.source.read(entry.localOffset, 30);
    if (header.length < 30 || u32(header, 0) !== SIG_LOCAL) {
      throw new Error(`${where}: no local header at offset ${entry.localOffset} (archive truncated or corrupt)`);
    }
    // The local header's own name/extra lengths decide where the data starts (they may
    // differ from the central directory's); sizes come from the central directory, which is
    // authoritative when a data descriptor follows the data.
    const dataStart = entry.localOffset + 30 + u16(header, 26) + u16(header, 28);
    if (dataStart + entry.compressedSize > this.source.size) {
      throw new Error(`${where}: data runs past the end of the archive (truncated?)`);
    }
    const raw = this.source.read(dataStart, entry.compressedSize);
    let data: Uint8Array;
    if (entry.method === 0) {
      if (entry.compressedSize !== entry.size) throw new Error(`${where}: stored entry with different compressed and uncompressed sizes`);
      data = raw;
    } else {
      try {
        // maxOutputLength stops a lying size field from inflating without bound.
        data = inflateRawSync(raw, { maxOutputLength: Math.max(1, entry.size) });
      } catch (e) {
        throw new Error(`${where}: cannot inflate (${(e as Error).message})`);
      }
    }
    if (data.length !== entry.size) throw new Error(`${where}: expected ${entry.size} bytes, got ${data.length}`);
    const crc = crc32(data);
    if (crc !== entry.crc) {
      throw new Error(`${where}: CRC-32 mismatch (stored ${hex(entry.crc)}, computed ${hex(crc)}); the archive is corrupt`);
    }
    return data;
  }

  /**
   * Extracts every entry under `destDir` (created if needed). Names were checked when the
   * archive was opened; each target is checked again to lie inside destDir.
   * Returns the number of files written.
   */
  extractAll(destDir: string, onEntry?: (done: number, total: number, entry: ZipEntry) => void): number {
    const root = resolve(destDir);
    mkdirSync(root, { recursive: true });
    let files = 0;
    this.entries.forEach((entry, i) => {
      const target = resolve(join(root, ...entry.name.split('/')));
      if (target !== root && !target.startsWith(root + sep)) {
        throw new Error(`${this.label}: entry '${entry.name}' would be written outside ${root}`);
      }
      if (entry.isDirectory) {
        mkdirSync(target, { recursive: true });
      } else {
        const data = this.read(entry);
        mkdirSync(resolve(target, '..'), { recursive: true });
        writeFileSync(target, data);
        files++;
      }
      onEntry?.(i + 1, this.entries.length, entry);
    });
    return files;
  }

  close(): void {
    this.source.close();
  }
}

const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

/** Locates the end-of-central-directory record: scan back over a possible comment. */
function findEocd(label: string, src: Source): { offset: number; record: Uint8Array } {
  if (src.size < EOCD_SIZE) throw new Error(`${label}: not a ZIP archive (only ${src.size} bytes)`);
  const tailLen = Math.min(src.size, EOCD_SIZE + MAX_COMMENT);
  const tailStart = src.size - tailLen;
  const tail = src.read(tailStart, tailLen);
  for (let i = tail.length - EOCD_SIZE; i >= 0; i--) {
    // The comment length must reach exactly to the end of the file; otherwise the four
    // signature bytes are just data that happens to look like one.
    if (u32(tail, i) === SIG_EOCD && i + EOCD_SIZE + u16(tail, i + 20) === tail.length) {
      return { offset: tailStart + i, record: tail.subarray(i, i + EOCD_SIZE) };
    }
  }
  throw new Error(`${label}: not a ZIP archive, or truncated (no end-of-central-directory record)`);
}

function readCentralDirectory(label: string, src: Source, lim: Required<ZipLimits>): ZipEntry[] {
  const { offset: eocdOffset, record } = findEocd(label, src);
  if (u16(record, 4) !== 0 || u16(record, 6) !== 0) throw new Error(`${label}: multi-volume (split) archives are not supported`);
  let count = u16(record, 10);
  let cdSize = u32(record, 12);
  let cdOffset = u32(record, 16);

  // ZIP64: a locator just before the classic record points at the 64-bit record.
  if (eocdOffset >= 20) {
    const loc = src.read(eocdOffset - 20, 20);
    if (u32(loc, 0) === SIG_ZIP64_LOCATOR) {
      const recOffset = u64(loc, 8, 'ZIP64 record offset', label);
      const rec = src.read(recOffset, 56);
      if (rec.length < 56 || u32(rec, 0) !== SIG_ZIP64_EOCD) throw new Error(`${label}: ZIP64 end-of-central-directory record missing or corrupt`);
      count = u64(rec, 32, 'entry count', label);
      cdSize = u64(rec, 40, 'central directory size', label);
      cdOffset = u64(rec, 48, 'central directory offset', label);
    } else if (count === U16_MAX || cdSize === U32_MAX || cdOffset === U32_MAX) {
      throw new Error(`${label}: ZIP64 archive without its ZIP64 locator (corrupt)`);
    }
  }
  if (count > lim.maxEntries) throw new Error(`${label}: ${count} entries is more than the limit of ${lim.maxEntries}`);
  if (cdOffset + cdSize > src.size) throw new Error(`${label}: central directory lies past the end of the file (truncated archive?)`);

  const cd = src.read(cdOffset, cdSize);
  const entries: ZipEntry[] = [];
  let total = 0;
  let p = 0;
  for (let i = 0; i < count; i++) {
    if (p + 46 > cd.length || u32(cd, p) !== SIG_CENTRAL) throw new Error(`${label}: central directory entry ${i + 1} of ${count} is corrupt`);
    const flags = u16(cd, p + 8);
    const method = u16(cd, p + 10);
    const crc = u32(cd, p + 16);
    let compressedSize = u32(cd, p + 20);
    let size = u32(cd, p + 24);
    const nameLen = u16(cd, p + 28);
    const extraLen = u16(cd, p + 30);
    const commentLen = u16(cd, p + 32);
    let localOffset = u32(cd, p + 42);
    const end = p + 46 + nameLen + extraLen + commentLen;
    if (end > cd.length) throw new Error(`${label}: central directory entry ${i + 1} runs past the directory`);
    const nameBytes = cd.subarray(p + 46, p + 46 + nameLen);
    // Bit 11: the name is UTF-8; otherwise it is CP437, read as Latin-1 (same for ASCII).
    const name = Buffer.from(nameBytes).toString(flags & 0x800 ? 'utf8' : 'latin1');

    // ZIP64 extended information: the fields that overflowed, in this order.
    if (size === U32_MAX || compressedSize === U32_MAX || localOffset === U32_MAX) {
      const extra = cd.subarray(p + 46 + nameLen, p + 46 + nameLen + extraLen);
      const z = findExtra(extra, 0x0001);
      if (!z) throw new Error(`${label}: entry '${name}' needs a ZIP64 extra field but has none`);
      let q = 0;
      const next = (what: string) => {
        if (q + 8 > z.length) throw new Error(`${label}: entry '${name}': ZIP64 extra field too short for ${what}`);
        const v = u64(z, q, what, label);
        q += 8;
        return v;
      };
      if (size === U32_MAX) size = next('size');
      if (compressedSize === U32_MAX) compressedSize = next('compressed size');
      if (localOffset === U32_MAX) localOffset = next('local header offset');
    }

    checkName(label, name);
    if (flags & 0x1) throw new Error(`${label}: entry '${name}' is encrypted (not supported)`);
    const isDirectory = name.endsWith('/');
    if (!isDirectory && method !== 0 && method !== 8) {
      throw new Error(`${label}: entry '${name}' uses compression method ${method}; only stored (0) and deflate (8) are supported`);
    }
    if (size > lim.maxEntryBytes) throw new Error(`${label}: entry '${name}' claims ${size} bytes, more than the limit of ${lim.maxEntryBytes}`);
    total += size;
    if (total > lim.maxTotalBytes) throw new Error(`${label}: entries add up to more than the limit of ${lim.maxTotalBytes} bytes`);
    if (localOffset + 30 > cdOffset) throw new Error(`${label}: entry '${name}' points outside the archive's data`);
    entries.push({ name, isDirectory, method, crc, compressedSize, size, localOffset });
    p = end;
  }
  return entries;
}

function findExtra(extra: Uint8Array, id: number): Uint8Array | null {
  for (let p = 0; p + 4 <= extra.length; ) {
    const len = u16(extra, p + 2);
    if (u16(extra, p) === id) return extra.subarray(p + 4, Math.min(extra.length, p + 4 + len));
    p += 4 + len;
  }
  return null;
}

/** Refuses names that could escape the destination folder. */
function checkName(label: string, name: string): void {
  const bad = (why: string) => new Error(`${label}: refusing entry '${name}': ${why}`);
  if (name.length === 0) throw bad('empty name');
  if (name.includes('\0')) throw bad('NUL in the name');
  if (name.includes('\\')) throw bad('backslash in the name');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw bad('absolute path');
  if (name.split('/').some((part) => part === '..')) throw bad("'..' in the path");
}

// ---------------------------------------------------------------------------------------
// Writing (small archives, built in memory; used to make test fixtures)

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
