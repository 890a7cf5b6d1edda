// The ZIP reader against archives built by the writer (stored, deflated, ZIP64), and against
// damaged or hostile ones: every failure names the archive and says what is wrong.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { deflateRawSync } from 'node:zlib';
import { ZipArchive, crc32 } from '../src/io/zip.js';
import { writeZip, type ZipInput } from './helpers/zip-writer.js';

import { testRandom, rejects } from './helpers/check.js';

const rng = testRandom('zip');
const dir = mkdtempSync(join(tmpdir(), 'ser-zip-'));

function randomBytes(n: number, compressible: boolean): Uint8Array {
  const b = new Uint8Array(n);
  // Compressible: a small alphabet with runs, so deflate really shortens it.
  for (let i = 0; i < n; i++) b[i] = compressible ? (i % 97 < 40 ? 65 : 65 + rng.int(4)) : rng.int(256);
  return b;
}

/** Files of awkward sizes and random contents, half stored, half deflated. */
function randomFiles(): ZipInput[] {
  const sizes = [0, 1, 2, 3, 7, 255, 1000 + rng.int(5000), 65535, 65537, 200_003 + rng.int(100)];
  return sizes.map((n, i) => ({
    name: `d${i % 3}/sub dir/file-${i}-ü.bin`,
    data: randomBytes(n, i % 2 === 0),
    method: rng.int(2) === 0 ? 'store' : 'deflate',
  }));
}

/** CRC-32 bit by bit, straight from the definition, to check the table-driven one. */
function crc32Reference(data: Uint8Array): number {
  let c = 0xffffffff;
  for (const byte of data) {
    c ^= byte;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  }
  return (c ^ 0xffffffff) >>> 0;
}

test('crc32 matches the bitwise definition, the check value, and continues over chunks', () => {
  assert.is(crc32(new TextEncoder().encode('123456789')), 0xcbf43926); // the standard check value
  const data = randomBytes(1000 + rng.int(1000), false);
  assert.is(crc32(data), crc32Reference(data));
  const cut = rng.int(data.length);
  assert.is(crc32(data.subarray(cut), crc32(data.subarray(0, cut))), crc32(data));
});

for (const zip64 of [false, true]) {
  test(`round trip (${zip64 ? 'ZIP64' : 'classic'}): names, sizes, methods and bytes survive, in memory and from a file`, async () => {
    const files = randomFiles();
    const bytes = writeZip(files, { zip64, comment: 'a comment at the end' });
    // A comment holding a fake end record (signature + zeros) is refused, never misread.
    await rejects(() => ZipArchive.fromBytes(writeZip(files, { zip64, comment: `comment PK\x05\x06${'\0'.repeat(18)}tail` }), 'fake.zip'), /^fake\.zip: /);
    const path = join(dir, `round-${zip64}.zip`);
    writeFileSync(path, bytes);
    for (const archive of [await ZipArchive.fromBytes(bytes, 'mem.zip'), await ZipArchive.open(path)]) {
      assert.is(archive.entries.length, files.length);
      for (const [i, f] of files.entries()) {
        const e = archive.entries[i];
        assert.is(e.name, f.name);
        assert.is(e.size, f.data.length);
        assert.is(e.method, f.method === 'store' ? 0 : 8);
        assert.equal(Buffer.from(await archive.read(e)).equals(Buffer.from(f.data)), true, `${f.name} content`);
      }
      archive.close();
    }
    // Deflate really compressed the compressible ones (even indices).
    (await ZipArchive.fromBytes(bytes)).entries.forEach((e, i) => {
      if (e.method === 8 && i % 2 === 0 && e.size > 1000) assert.ok(e.compressedSize < e.size / 2, `${e.name} compressed`);
    });
  });
}

test('extractAll writes every file under the destination, with directories', async () => {
  const files = randomFiles();
  const out = join(dir, 'extract');
  const archive = await ZipArchive.fromBytes(writeZip([{ name: 'empty-dir/', data: new Uint8Array(0), method: 'store' }, ...files]));
  let seen = 0;
  const written = await archive.extractAll(out, (done, total) => {
    seen = done;
    assert.is(total, files.length + 1);
  });
  assert.is(written, files.length);
  assert.is(seen, files.length + 1);
  assert.ok(existsSync(join(out, 'empty-dir')));
  for (const f of files) assert.ok(Buffer.from(readFileSync(join(out, ...f.name.split('/')))).equals(Buffer.from(f.data)), f.name);
});

test('a changed byte fails the CRC check, naming the archive and the entry', async () => {
  const data = randomBytes(500 + rng.int(500), false);
  const bytes = writeZip([{ name: 'a.wav', data, method: 'store' }]);
  // Stored data starts after the 30-byte local header and the 5-byte name.
  const at = 35 + rng.int(data.length);
  bytes[at] ^= 1 << rng.int(8);
  const archive = await ZipArchive.fromBytes(bytes, 'corpus.zip');
  await rejects(() => archive.read(archive.entries[0]), /corpus\.zip: entry 'a\.wav': CRC-32 mismatch/);
  // Extraction checks it too, entry by entry as it streams.
  await rejects(() => archive.extractAll(join(dir, 'crc-out')), /corpus\.zip: entry 'a\.wav': CRC-32 mismatch/);
});

test('a damaged deflate stream is refused, not returned', async () => {
  const data = randomBytes(5000, true);
  const bytes = writeZip([{ name: 'x', data, method: 'deflate' }]);
  for (let i = 31; i < 31 + 40; i++) bytes[i] = 0xff;
  const archive = await ZipArchive.fromBytes(bytes, 'bad.zip');
  await rejects(() => archive.read(archive.entries[0]), /bad\.zip: entry 'x': /);
});

test('unsafe names are refused before anything is extracted', async () => {
  const hostile = ['../evil.txt', 'a/../../evil.txt', '/etc/evil', 'C:/evil', 'a\\..\\evil', 'wav/..'];
  for (const name of hostile) {
    const bytes = writeZip([{ name: 'fine.txt', data: new Uint8Array([1]) }, { name, data: new Uint8Array([2]) }]);
    await rejects(() => ZipArchive.fromBytes(bytes, 'hostile.zip'), /hostile\.zip: refusing entry: .*(relative path|absolute path|invalid characters)/, name);
  }
  // Nothing escaped: extraction never started, so the temp dir holds only earlier outputs.
  assert.not.ok(existsSync(join(dir, '..', 'evil.txt')));
});

test('truncated archives are refused with a clear reason', async () => {
  const bytes = writeZip(randomFiles());
  await rejects(() => ZipArchive.fromBytes(bytes.subarray(0, 10), 't.zip'), /t\.zip: /);
  // Cut anywhere: the end record is gone (or the directory points past the end).
  const cut = 22 + rng.int(bytes.length - 23);
  await rejects(() => ZipArchive.fromBytes(bytes.subarray(0, cut), 't.zip'), /t\.zip: /, `cut at ${cut}`);
  // Data missing but the tail kept: the entries point at bytes that are not headers any more.
  const archive = await ZipArchive.fromBytes(bytes);
  const lastLocal = archive.entries[archive.entries.length - 1].localOffset;
  const tail = bytes.subarray(lastLocal);
  const spliced = new Uint8Array(bytes.length - 7);
  spliced.set(bytes.subarray(0, lastLocal - 7));
  spliced.set(tail, lastLocal - 7);
  await rejects(async () => {
    const a = await ZipArchive.fromBytes(spliced, 's.zip');
    for (const e of a.entries) await a.read(e);
  }, /s\.zip: /);
  const path = join(dir, 'trunc.zip');
  writeFileSync(path, bytes.subarray(0, bytes.length - 30));
  await rejects(() => ZipArchive.open(path), new RegExp(`${path.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: `));
  await rejects(() => ZipArchive.open(join(dir, 'missing.zip')), /cannot open archive .*missing\.zip: no such file/);
});

test('absurd sizes, encryption and unknown methods are refused', async () => {
  const data = randomBytes(3000, true);
  const bytes = writeZip([{ name: 'big.wav', data }]);
  await rejects(() => ZipArchive.fromBytes(bytes, 'z.zip', { maxEntryBytes: 2999 }), /z\.zip: entry 'big\.wav' claims 3000 bytes, more than the limit/);
  await rejects(() => ZipArchive.fromBytes(writeZip([{ name: 'a', data }, { name: 'b', data }]), 'z.zip', { maxTotalBytes: 5000 }), /add up to more than/);
  await rejects(() => ZipArchive.fromBytes(bytes, 'z.zip', { maxEntries: 0 }), /entries is more than the limit/);

  // A lying size field: a deflate bomb that claims to be small is stopped at the claim.
  const bomb = new Uint8Array(deflateRawSync(new Uint8Array(1 << 20)));
  const lying = writeZip([{ name: 'bomb', data: new Uint8Array(1 << 20) }]);
  const cdAt = lying.length - 22 - (46 + 4);
  assert.is(new DataView(lying.buffer).getUint32(cdAt, true), 0x02014b50);
  new DataView(lying.buffer).setUint32(cdAt + 24, 100, true); // uncompressed size := 100
  const a = await ZipArchive.fromBytes(lying, 'bomb.zip');
  assert.ok(bomb.length < 2000);
  await rejects(() => a.read(a.entries[0]), /bomb\.zip: entry 'bomb'/);

  const enc = writeZip([{ name: 'secret', data }]);
  new DataView(enc.buffer).setUint16(enc.length - 22 - (46 + 6) + 8, 0x801, true); // central flags: encrypted
  await rejects(() => ZipArchive.fromBytes(enc, 'e.zip'), /e\.zip: entry 'secret' is encrypted/);

  const lzma = writeZip([{ name: 'odd', data, method: 'store' }]);
  new DataView(lzma.buffer).setUint16(lzma.length - 22 - (46 + 3) + 10, 14, true); // method 14 (LZMA)
  await rejects(() => ZipArchive.fromBytes(lzma, 'l.zip'), /l\.zip: entry 'odd' uses compression method 14/);
});

test('ZIP64 markers without the ZIP64 record are refused', async () => {
  const bytes = writeZip([{ name: 'a', data: new Uint8Array([1, 2, 3]) }]);
  new DataView(bytes.buffer).setUint32(bytes.length - 22 + 16, 0xffffffff, true); // directory offset := ZIP64 marker
  await rejects(() => ZipArchive.fromBytes(bytes, 'z64.zip'), /z64\.zip: /);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
