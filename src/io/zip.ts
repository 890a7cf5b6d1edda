// Reading ZIP archives (the corpora `ser data fetch` downloads) with yauzl: it reads the
// central directory (ZIP64 included) through an open file at explicit offsets, streams one
// entry at a time, checks each entry's size against its header (a lying size cannot inflate
// without bound) and refuses unsafe names (.., absolute paths). On top of it, this module adds
// what yauzl leaves to the caller: the CRC-32 of every entry, limits on entry count and sizes,
// refusing encrypted entries and methods other than stored/deflate, and every error naming the
// archive (and the entry).
import { createWriteStream } from 'node:fs';
import { join, resolve, sep } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import yauzl from 'yauzl';
import { crc32 } from './crc32.js';
import { makeFolders } from './atomic.js';

export { crc32 };

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

const hex = (v: number) => `0x${v.toString(16).padStart(8, '0')}`;

/** yauzl's wording for a truncated archive, said the way a user reads it. */
function describe(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e);
  if (/end of central directory record signature not found/i.test(msg)) return 'not a ZIP archive, or truncated (no end-of-central-directory record)';
  return msg;
}

/** An opened archive: its entries (checked when opened), and reading or extracting them. */
export class ZipArchive {
  private constructor(
    /** The archive's path (or a label for in-memory bytes), used in every error message. */
    readonly label: string,
    readonly entries: ZipEntry[],
    private zip: yauzl.ZipFile,
    private raw: Map<ZipEntry, yauzl.Entry>,
  ) {}

  /** Opens a ZIP file (kept open until close()). Errors name the path. */
  static async open(path: string, limits: ZipLimits = {}): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.openPromise(path, { lazyEntries: true, autoClose: false, strictFileNames: true });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      throw new Error(code ? `cannot open archive ${path}: ${code === 'ENOENT' ? 'no such file' : code}` : `${path}: ${describe(e)}`);
    }
    return ZipArchive.list(path, zip, limits);
  }

  /** Reads an archive held in memory; `label` names it in errors. */
  static async fromBytes(bytes: Uint8Array, label = 'zip archive', limits: ZipLimits = {}): Promise<ZipArchive> {
    let zip: yauzl.ZipFile;
    try {
      zip = await yauzl.fromBufferPromise(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { lazyEntries: true, autoClose: false, strictFileNames: true });
    } catch (e) {
      throw new Error(`${label}: ${describe(e)}`);
    }
    return ZipArchive.list(label, zip, limits);
  }

  private static async list(label: string, zip: yauzl.ZipFile, limits: ZipLimits): Promise<ZipArchive> {
    const lim = { maxEntryBytes: limits.maxEntryBytes ?? 2 * 2 ** 30, maxTotalBytes: limits.maxTotalBytes ?? 64 * 2 ** 30, maxEntries: limits.maxEntries ?? 1_000_000 };
    const entries: ZipEntry[] = [];
    const raw = new Map<ZipEntry, yauzl.Entry>();
    try {
      if (zip.entryCount > lim.maxEntries) throw new Error(`${zip.entryCount} entries is more than the limit of ${lim.maxEntries}`);
      let total = 0;
      for await (const e of zip.eachEntry()) {
        const name = e.fileName;
        const isDirectory = name.endsWith('/');
        if (e.isEncrypted()) throw new Error(`entry '${name}' is encrypted (not supported)`);
        if (!isDirectory && e.compressionMethod !== 0 && e.compressionMethod !== 8) {
          throw new Error(`entry '${name}' uses compression method ${e.compressionMethod}; only stored (0) and deflate (8) are supported`);
        }
        if (e.uncompressedSize > lim.maxEntryBytes) throw new Error(`entry '${name}' claims ${e.uncompressedSize} bytes, more than the limit of ${lim.maxEntryBytes}`);
        total += e.uncompressedSize;
        if (total > lim.maxTotalBytes) throw new Error(`entries add up to more than the limit of ${lim.maxTotalBytes} bytes`);
        const entry: ZipEntry = { name, isDirectory, method: e.compressionMethod, crc: e.crc32, compressedSize: e.compressedSize, size: e.uncompressedSize, localOffset: e.relativeOffsetOfLocalHeader };
        entries.push(entry);
        raw.set(entry, e);
      }
    } catch (e) {
      zip.close();
      const msg = describe(e);
      // yauzl's name checks ("invalid relative path", "absolute path"...) come with the name.
      throw new Error(`${label}: ${/relative path|absolute path|invalid characters/.test(msg) ? `refusing entry: ${msg}` : msg}`);
    }
    return new ZipArchive(label, entries, zip, raw);
  }

  /** A stream of the entry's uncompressed bytes that fails on a size or CRC-32 mismatch. */
  private async stream(entry: ZipEntry): Promise<{ source: Readable; check: Transform }> {
    const where = `${this.label}: entry '${entry.name}'`;
    let source: Readable;
    try {
      source = await this.zip.openReadStreamPromise(this.raw.get(entry)!);
    } catch (e) {
      throw new Error(`${where}: ${describe(e)}`);
    }
    let crc = 0;
    const check = new Transform({
      transform(chunk: Buffer, _enc, done) {
        crc = crc32(chunk, crc);
        done(null, chunk);
      },
      flush(done) {
        done(crc === entry.crc ? null : new Error(`CRC-32 mismatch (stored ${hex(entry.crc)}, computed ${hex(crc)}); the archive is corrupt`));
      },
    });
    return { source, check };
  }

  /** The uncompressed bytes of `entry`, size- and CRC-checked. */
  async read(entry: ZipEntry): Promise<Uint8Array> {
    const where = `${this.label}: entry '${entry.name}'`;
    const chunks: Buffer[] = [];
    try {
      const { source, check } = await this.stream(entry);
      await pipeline(source, check, async function* (input) {
        for await (const c of input) chunks.push(c as Buffer);
      });
    } catch (e) {
      const msg = describe(e);
      throw new Error(msg.startsWith(where) ? msg : `${where}: ${msg}`);
    }
    return new Uint8Array(Buffer.concat(chunks));
  }

  /**
   * Extracts every entry under `destDir` (created if needed), one streamed entry at a time.
   * Names were checked when the archive was opened; each target is checked again to lie
   * inside destDir. Returns the number of files written.
   */
  async extractAll(destDir: string, onEntry?: (done: number, total: number, entry: ZipEntry) => void): Promise<number> {
    const root = resolve(destDir);
    makeFolders(root);
    let files = 0;
    for (const [i, entry] of this.entries.entries()) {
      const target = resolve(join(root, ...entry.name.split('/')));
      if (target !== root && !target.startsWith(root + sep)) throw new Error(`${this.label}: entry '${entry.name}' would be written outside ${root}`);
      if (entry.isDirectory) makeFolders(target);
      else {
        makeFolders(resolve(target, '..'));
        const where = `${this.label}: entry '${entry.name}'`;
        try {
          const { source, check } = await this.stream(entry);
          await pipeline(source, check, createWriteStream(target));
        } catch (e) {
          const msg = describe(e);
          throw new Error(msg.startsWith(where) ? msg : `${where}: ${msg}`);
        }
        files++;
      }
      onEntry?.(i + 1, this.entries.length, entry);
    }
    return files;
  }

  close(): void {
    this.zip.close();
  }
}
