// `ser data fetch` against a local HTTP server on 127.0.0.1 serving archives built here; no
// other host is ever contacted. Checks the happy path (atomic, loadable, with progress), and
// that every failure (wrong contents, HTTP error, refused connection, broken download) is one
// clear line and leaves nothing behind.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeZip, type ZipInput } from './helpers/zip-writer.js';
import { fetchCorpus, FetchError, CORPUS_SOURCES, type FetchProgress } from '../src/data/fetch.js';
import { openCorpus } from '../src/data/open.js';
import { testRandom } from './helpers/check.js';

const rng = testRandom('fetch');
const dir = mkdtempSync(join(tmpdir(), 'ser-fetch-'));

/** A tiny but valid PCM16 mono WAV: header + a few random samples (loaders check headers). */
function tinyWav(): Uint8Array {
  const samples = 4 + rng.int(8);
  const b = Buffer.alloc(44 + 2 * samples);
  b.write('RIFF', 0, 'latin1');
  b.writeUInt32LE(36 + 2 * samples, 4);
  b.write('WAVEfmt ', 8, 'latin1');
  b.writeUInt32LE(16, 16);
  b.writeUInt16LE(1, 20); // PCM
  b.writeUInt16LE(1, 22); // mono
  b.writeUInt32LE(16000, 24);
  b.writeUInt32LE(32000, 28);
  b.writeUInt16LE(2, 32);
  b.writeUInt16LE(16, 34);
  b.write('data', 36, 'latin1');
  b.writeUInt32LE(2 * samples, 40);
  for (let i = 0; i < samples; i++) b.writeInt16LE(rng.int(65536) - 32768, 44 + 2 * i);
  return new Uint8Array(b);
}

/** `count` distinct EmoDB names over the 10 speakers and all 7 emotions, as the real corpus has. */
function emodbNames(count: number): string[] {
  const speakers = ['03', '08', '09', '10', '11', '12', '13', '14', '15', '16'];
  const texts = ['a01', 'a02', 'a04', 'a05', 'a07', 'b01', 'b02', 'b03', 'b09', 'b10'];
  const names: string[] = [];
  for (const version of 'abcd') {
    for (const t of texts) for (const s of speakers) for (const e of 'WLEAFTN') names.push(`${s}${t}${e}${version}.wav`);
  }
  return rng.shuffle(names).slice(0, count);
}

/** An archive shaped like the official EmoDB download: wav/ plus the label folders beside it. */
function emodbArchive(count: number): { zip: Uint8Array; names: string[] } {
  const names = emodbNames(count);
  const files: ZipInput[] = [
    { name: 'wav/', data: new Uint8Array(0), method: 'store' },
    ...names.map((n) => ({ name: `wav/${n}`, data: tinyWav(), method: rng.int(2) ? ('store' as const) : ('deflate' as const) })),
    { name: 'lablaut/03a01Fa.lablaut', data: new TextEncoder().encode('label text') },
    { name: 'silb/03a01Fa.silb', data: new TextEncoder().encode('syllables') },
  ];
  return { zip: writeZip(files), names };
}

/** RAVDESS-shaped: Actor_01..Actor_24 with `perActor` speech files each, inside one wrapping folder. */
function ravdessArchive(perActor: number): Uint8Array {
  const files: ZipInput[] = [];
  for (let a = 1; a <= 24; a++) {
    const actor = String(a).padStart(2, '0');
    for (let i = 0; i < perActor; i++) {
      const emotion = String(1 + (i % 8)).padStart(2, '0');
      const name = `03-01-${emotion}-01-0${1 + (i % 2)}-0${1 + Math.floor(i / 8)}-${actor}.wav`;
      files.push({ name: `Audio_Speech_Actors_01-24/Actor_${actor}/${name}`, data: tinyWav() });
    }
  }
  return writeZip(files);
}

const emodb = emodbArchive(535);
const emodbShort = emodbArchive(534);
const ravdess = ravdessArchive(4);

let server: Server;
let base = '';
test.before(async () => {
  server = createServer((req, res) => {
    const send = (body: Uint8Array, chunked = false) => {
      res.writeHead(200, chunked ? { 'content-type': 'application/zip' } : { 'content-type': 'application/zip', 'content-length': body.length });
      if (!chunked) return void res.end(body);
      // Several writes without a length: transfer-encoding chunked.
      const step = 1 + Math.floor(body.length / 5);
      for (let p = 0; p < body.length; p += step) res.write(body.subarray(p, p + step));
      res.end();
    };
    switch (req.url) {
      case '/emodb.zip':
        return send(emodb.zip);
      case '/emodb-534.zip':
        return send(emodbShort.zip);
      case '/ravdess.zip':
        return send(ravdess, true);
      case '/moved':
        res.writeHead(302, { location: '/emodb.zip' });
        return void res.end();
      case '/garbage.zip':
        return send(new TextEncoder().encode('<html>not an archive</html>'));
      case '/cut.zip':
        // Promises the whole archive, sends half, then drops the connection.
        res.writeHead(200, { 'content-length': emodb.zip.length });
        res.write(emodb.zip.subarray(0, emodb.zip.length >> 1));
        return void setTimeout(() => res.socket?.destroy(), 20);
      default:
        res.writeHead(404, { 'content-type': 'text/plain' });
        return void res.end('not here');
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
test.after(async () => {
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

/** The destination folder's parent holds nothing but the destination (no .partial, no .download.zip). */
function assertNoLeftovers(parent: string, dest: string | null) {
  assert.equal(readdirSync(parent), dest ? [dest] : [], `left in ${parent}`);
}

async function rejection(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  assert.unreachable('expected a failure');
  throw new Error('unreachable');
}

test('an EmoDB-shaped archive with 535 files passes, lands atomically, and loads as a corpus', async () => {
  const parent = join(dir, 'ok');
  const dest = join(parent, 'emodb');
  const events: FetchProgress[] = [];
  const r = await fetchCorpus('emodb', dest, { url: `${base}/emodb.zip`, onProgress: (p) => events.push({ ...p }) });
  assert.is(r.files, 535);
  assert.is(r.bytes, emodb.zip.length);
  assert.is(readdirSync(join(dest, 'wav')).length, 535);
  assertNoLeftovers(parent, 'emodb');
  const downloads = events.filter((e) => e.phase === 'download');
  assert.is(downloads[downloads.length - 1].done, emodb.zip.length);
  assert.ok(downloads.every((e) => e.total === emodb.zip.length));
  const extracts = events.filter((e) => e.phase === 'extract');
  assert.is(extracts[extracts.length - 1].done, extracts[0].total);

  // The project's own loader accepts it: the 4-class subset W/F/N/T, over the 5 folds.
  const corpus = await openCorpus(`emodb:${dest}`);
  const fourClass = emodb.names.filter((n) => 'WFNT'.includes(n[5])).length;
  assert.is(corpus.utterances.length, fourClass);
  assert.is(corpus.folds, 5);
});

test('a redirect is followed; a RAVDESS archive in a wrapping folder without a length passes', async () => {
  const parent = join(dir, 'rav');
  const r = await fetchCorpus('ravdess', join(parent, 'ravdess'), { url: `${base}/ravdess.zip`, expectedFiles: 24 * 4 });
  assert.is(r.files, 96);
  assert.equal(readdirSync(join(parent, 'ravdess')).filter((d) => d.startsWith('Actor_')).length, 24);
  assertNoLeftovers(parent, 'ravdess');
  const viaRedirect = await fetchCorpus('emodb', join(dir, 'moved', 'emodb'), { url: `${base}/moved` });
  assert.is(viaRedirect.files, 535);
});

test('a wrong file count fails saying what was expected and found, and leaves nothing', async () => {
  const parent = join(dir, 'short');
  const e = await rejection(fetchCorpus('emodb', join(parent, 'emodb'), { url: `${base}/emodb-534.zip` }));
  assert.instance(e, FetchError);
  assert.match(e.message, /expected 535 files wav\/SSTTTEV\.wav, found 534/);
  assert.not.ok(existsSync(parent), 'nothing left behind');
  const r = await rejection(fetchCorpus('ravdess', join(parent, 'ravdess'), { url: `${base}/ravdess.zip` }));
  assert.match(r.message, /expected 1440 files Actor_01\.\.Actor_24\/03-01-\*\.wav, found 96 in 24 Actor_NN folders/);
  // An EmoDB archive is not a RAVDESS one.
  const x = await rejection(fetchCorpus('ravdess', join(parent, 'x'), { url: `${base}/emodb.zip` }));
  assert.match(x.message, /found 0 in 0 Actor_NN folders/);
  assert.not.ok(existsSync(parent), 'the folder this run created is gone again');
});

test('HTTP errors, refused connections, broken downloads and non-archives: one line each', async () => {
  const parent = join(dir, 'bad');
  const dest = join(parent, 'emodb');
  const hand = new RegExp(`download it by hand from ${base.replace(/[.]/g, '\\.')}/\\S+, unpack it, and pass --corpus emodb:DIR`);

  const notFound = await rejection(fetchCorpus('emodb', dest, { url: `${base}/nope.zip` }));
  assert.match(notFound.message, /^127\.0\.0\.1:\d+ answered HTTP 404 Not Found for /);
  assert.match(notFound.message, hand);

  // A port nobody listens on: open a server, note its port, close it.
  const closed = createServer();
  await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
  const port = (closed.address() as AddressInfo).port;
  await new Promise((r) => closed.close(r));
  const refused = await rejection(fetchCorpus('emodb', dest, { url: `http://127.0.0.1:${port}/emodb.zip` }));
  assert.match(refused.message, new RegExp(`^cannot reach 127\\.0\\.0\\.1:${port}: .*ECONNREFUSED.*; download it by hand from http://127\\.0\\.0\\.1:${port}/emodb\\.zip`));

  const cut = await rejection(fetchCorpus('emodb', dest, { url: `${base}/cut.zip` }));
  assert.match(cut.message, /^download from 127\.0\.0\.1:\d+ (broke off after|ended after) \d+/);

  const garbage = await rejection(fetchCorpus('emodb', dest, { url: `${base}/garbage.zip` }));
  assert.match(garbage.message, /is not a usable ZIP archive: .*not a ZIP archive/);

  for (const e of [notFound, refused, cut, garbage]) {
    assert.instance(e, FetchError);
    assert.not.match(e.message, /\n/, 'one line');
  }
  assert.not.ok(existsSync(parent), 'nothing left behind');
});

test('an existing, non-empty destination is refused before downloading', async () => {
  const dest = join(dir, 'taken');
  mkdirSync(dest, { recursive: true });
  writeFileSync(join(dest, 'mine.txt'), 'keep me');
  const e = await rejection(fetchCorpus('emodb', dest, { url: `${base}/emodb.zip` }));
  assert.match(e.message, /taken already exists; remove it or choose another destination/);
  assert.equal(readdirSync(dest), ['mine.txt']);
});

/** Runs the built CLI without blocking this process (the server lives here). */
function ser(args: string[], env: Record<string, string> = {}): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['bin/ser.js', ...args], { env: { ...process.env, ...env }, cwd: process.cwd() });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

function assertOneLineError(r: { code: number | null; err: string }, pattern: RegExp) {
  assert.is.not(r.code, 0, 'non-zero exit');
  const lines = r.err.split('\n').filter((l) => l.startsWith('ser:'));
  assert.is(lines.length, 1, `one error line, got: ${r.err}`);
  assert.match(lines[0], pattern);
  assert.not.match(r.err, /\n\s+at .*\.(js|ts):\d+/, 'no stack trace');
}

test('CLI: fetch prints the licence, the citation and the --corpus spec; bad input is one line', async () => {
  const dest = join(dir, 'cli', 'emodb');
  const ok = await ser(['data', 'fetch', 'emodb', '--dest', dest, '--url', `${base}/emodb.zip`, '--quiet']);
  assert.is(ok.code, 0, ok.err);
  assert.ok(ok.out.includes(CORPUS_SOURCES.emodb.licence), 'licence');
  assert.ok(ok.out.includes(CORPUS_SOURCES.emodb.citation), 'citation');
  assert.match(ok.out, /Checked: 535 files/);
  assert.ok(ok.out.includes(`--corpus emodb:${dest}`), ok.out);

  // SER_FETCH_URL stands in for --url; progress goes to stderr.
  const env = await ser(['data', 'fetch', 'emodb', '--dest', join(dir, 'cli', 'env')], { SER_FETCH_URL: `${base}/emodb.zip` });
  assert.is(env.code, 0, env.err);
  assert.match(env.err, /download \[#+\]/);

  const help = await ser(['data', '--help']);
  assert.is(help.code, 0);
  assert.match(help.out, /Usage: ser data fetch emodb\|ravdess/);

  assertOneLineError(await ser(['data']), /say what to do: ser data fetch emodb\|ravdess/);
  assertOneLineError(await ser(['data', 'pull', 'emodb']), /unknown action 'pull'/);
  assertOneLineError(await ser(['data', 'fetch']), /which corpus\?/);
  assertOneLineError(await ser(['data', 'fetch', 'timit']), /unknown corpus 'timit'/);
  assertOneLineError(await ser(['data', 'fetch', 'emodb', 'extra']), /unexpected argument 'extra'/);
  assertOneLineError(await ser(['data', 'fetch', 'emodb', '--url', 'ftp://example.org/x.zip']), /not an http\(s\) address/);
  assertOneLineError(await ser(['data', 'fetch', 'emodb', '--url', 'nonsense']), /not a valid URL/);
  assertOneLineError(await ser(['data', 'fetch', 'emodb', '--bogus']), /Unknown option '--bogus'/);
  assertOneLineError(
    await ser(['data', 'fetch', 'emodb', '--dest', join(dir, 'cli', 'x'), '--url', `${base}/gone.zip`]),
    /answered HTTP 404 .*pass --corpus emodb:DIR$/,
  );
  assertOneLineError(
    await ser(['data', 'fetch', 'emodb', '--dest', join(dir, 'cli', 'y'), '--url', `${base}/emodb-534.zip`]),
    /expected 535 files wav\/SSTTTEV\.wav, found 534/,
  );
});

test.run();
