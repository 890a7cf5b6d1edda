import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRandom, randomArray } from './helpers/check.js';
import { entryPath, featureKey, getFeatures, readFeatureFile, stableStringify, writeFeatureFile } from '../src/data/cache.js';

const rng = testRandom('cache');
const root = mkdtempSync(join(tmpdir(), 'ser-cache-test-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = () => {
  const d = join(root, `d${dirs++}`);
  mkdirSync(d);
  return d;
};

/** Audio stand-ins: files with random bytes (the cache never reads them). */
function makeFiles(n: number): string[] {
  const dir = freshDir();
  return Array.from({ length: n }, (_, i) => {
    const p = join(dir, `u${i}.wav`);
    writeFileSync(p, Buffer.from(randomArray(rng, 10 + rng.int(50)).buffer));
    return p;
  });
}

/** A fake front end: features depend on the path and the settings; records every call. */
function fakeCompute(settings: { scale: number }) {
  const calls: string[][] = [];
  const featuresOf = (p: string) => {
    let h = 0;
    for (const ch of p) h = (h * 31 + ch.charCodeAt(0)) | 0;
    return Float32Array.from({ length: 5 + (Math.abs(h) % 7) }, (_, i) => settings.scale * (h % 1000) + i);
  };
  const compute = async (paths: string[]) => {
    calls.push(paths);
    return paths.map(featuresOf);
  };
  return { calls, compute, featuresOf };
}

const bitsEqual = (a: Float32Array, b: Float32Array) =>
  a.length === b.length && Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(Buffer.from(b.buffer, b.byteOffset, b.byteLength));

test('entry file round trip is bit-exact for awkward lengths and special values', () => {
  const dir = freshDir();
  for (const n of [0, 1, 3, 1001 + rng.int(100)]) {
    const a = randomArray(rng, n, -1e3, 1e3);
    if (n > 3) a.set([NaN, Infinity, -0], 1);
    const p = join(dir, `x${n}.f32`);
    writeFeatureFile(p, a.subarray(0)); // a view whose byteOffset is 0
    const b = readFeatureFile(p)!;
    assert.ok(bitsEqual(a, b), `length ${n}`);
  }
  // A view at an odd offset into a larger buffer is stored as just the view.
  const big = randomArray(rng, 50);
  const view = big.subarray(7, 20);
  writeFeatureFile(join(dir, 'view.f32'), view);
  assert.ok(bitsEqual(readFeatureFile(join(dir, 'view.f32'))!, view));
});

test('miss computes all in one batch, in order; then every entry is a hit', async () => {
  const paths = makeFiles(5 + rng.int(10));
  const dir = freshDir();
  const settings = { scale: 2, bands: 64 };
  const f = fakeCompute(settings);
  const stats = { hits: -1, misses: -1 };
  const first = await getFeatures(paths, settings, f.compute, { dir, stats });
  assert.equal(f.calls, [paths]);
  assert.equal(stats, { hits: 0, misses: paths.length });
  first.forEach((a, i) => assert.ok(bitsEqual(a!, f.featuresOf(paths[i]))));
  const second = await getFeatures(paths, settings, f.compute, { dir, stats });
  assert.is(f.calls.length, 1, 'no computation on a full hit');
  assert.equal(stats, { hits: paths.length, misses: 0 });
  second.forEach((a, i) => assert.ok(bitsEqual(a!, first[i]!), `entry ${i}`));
});

test('only the missing paths are computed; duplicates once', async () => {
  const paths = makeFiles(8);
  const dir = freshDir();
  const settings = { scale: 1 };
  const f = fakeCompute(settings);
  await getFeatures(paths.slice(0, 5), settings, f.compute, { dir });
  const ask = [paths[6], paths[1], paths[5], paths[6], paths[3], paths[7]];
  const got = await getFeatures(ask, settings, f.compute, { dir });
  assert.equal(f.calls[1], [paths[6], paths[5], paths[7]]);
  got.forEach((a, i) => assert.ok(bitsEqual(a!, f.featuresOf(ask[i]))));
});

test('changing the file (size or modification time) invalidates its entry', async () => {
  const paths = makeFiles(4);
  const dir = freshDir();
  const settings = { scale: 3 };
  const f = fakeCompute(settings);
  await getFeatures(paths, settings, f.compute, { dir });
  writeFileSync(paths[1], Buffer.alloc(statSync(paths[1]).size + 4)); // new size
  const t = statSync(paths[2]).mtime;
  utimesSync(paths[2], t, new Date(t.getTime() + 5000)); // same bytes, newer mtime
  await getFeatures(paths, settings, f.compute, { dir });
  assert.equal(f.calls[1], [paths[1], paths[2]]);
});

test('changing the settings invalidates; key order in the settings does not', async () => {
  const paths = makeFiles(3);
  const dir = freshDir();
  const f = fakeCompute({ scale: 1 });
  await getFeatures(paths, { nMels: 64, fit: { mode: 'resize', frames: 373 } }, f.compute, { dir });
  await getFeatures(paths, { fit: { frames: 373, mode: 'resize' }, nMels: 64 }, f.compute, { dir });
  assert.is(f.calls.length, 1, 'reordered keys hit');
  await getFeatures(paths, { nMels: 64, fit: { mode: 'crop', frames: 373 } }, f.compute, { dir });
  assert.is(f.calls.length, 2, 'a nested setting change misses');
  assert.is(stableStringify({ b: 1, a: [{ d: 2, c: 3 }] }), '{"a":[{"c":3,"d":2}],"b":1}');
  assert.is.not(featureKey(paths[0], { a: 1 }), featureKey(paths[0], { a: 2 }));
  assert.is(featureKey(paths[0], { a: 1, b: 2 }), featureKey(paths[0], { b: 2, a: 1 }));
});

test('writes are atomic: no temp files remain, truncated or foreign entries are recomputed', async () => {
  const paths = makeFiles(4);
  const dir = freshDir();
  const settings = { scale: 5 };
  const f = fakeCompute(settings);
  await getFeatures(paths, settings, f.compute, { dir });
  const all: string[] = [];
  for (const sub of readdirSync(dir)) for (const e of readdirSync(join(dir, sub))) all.push(e);
  assert.is(all.length, 4);
  assert.ok(all.every((e) => /^[0-9a-f]{64}\.f32$/.test(e)), `only final entries: ${all.join(' ')}`);
  // Simulate a crash mid-write by hand: a truncated entry and garbage are both misses.
  const e0 = entryPath(dir, featureKey(paths[0], settings));
  const e2 = entryPath(dir, featureKey(paths[2], settings));
  writeFileSync(e0, Buffer.from('SERFEAT1\x09\x00\x00\x00\x00\x00\x00\x00abc', 'latin1'));
  writeFileSync(e2, 'garbage');
  assert.is(readFeatureFile(e0), null);
  const got = await getFeatures(paths, settings, f.compute, { dir });
  assert.equal(f.calls[1], [paths[0], paths[2]]);
  assert.ok(bitsEqual(got[0]!, f.featuresOf(paths[0])));
  assert.ok(bitsEqual(readFeatureFile(e2)!, f.featuresOf(paths[2])), 'repaired on disk');
});

test('batchSize splits the computation; progress reaches the total', async () => {
  const paths = makeFiles(7);
  const dir = freshDir();
  const f = fakeCompute({ scale: 1 });
  const progress: number[] = [];
  await getFeatures(paths, { scale: 1 }, f.compute, { dir, batchSize: 3, onProgress: (d, t) => progress.push(d / t) });
  assert.equal(f.calls.map((c) => c.length), [3, 3, 1]);
  assert.is(progress[progress.length - 1], 1);
});

test('errors: missing audio file, wrong result count', async () => {
  const dir = freshDir();
  const gone = join(root, 'nope.wav');
  try {
    await getFeatures([gone], {}, async () => [], { dir });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, gone);
  }
  const paths = makeFiles(2);
  try {
    await getFeatures(paths, {}, async () => [new Float32Array(1)], { dir });
    assert.unreachable('should throw');
  } catch (e) {
    assert.match((e as Error).message, 'returned 1 results for 2 files');
  }
});

test('a file compute gives no features (null) is not cached and comes back null; the others are stored', async () => {
  const paths = makeFiles(4);
  const dir = freshDir();
  const settings = { scale: 6 };
  const f = fakeCompute(settings);
  const compute = async (todo: string[]) => (await f.compute(todo)).map((a, i) => (todo[i] === paths[1] ? null : a));
  const got = await getFeatures(paths, settings, compute, { dir });
  assert.is(got[1], null);
  assert.ok(bitsEqual(got[2]!, f.featuresOf(paths[2])));
  assert.is(readFeatureFile(entryPath(dir, featureKey(paths[1], settings))), null, 'no entry for the failed file');
  await getFeatures(paths, settings, compute, { dir });
  assert.equal(f.calls[1], [paths[1]], 'only the failed file is tried again');
});

test("partial entries of a killed writer are swept on the next run; a live writer's are kept", async () => {
  const paths = makeFiles(2);
  const dir = freshDir();
  const settings = { scale: 7 };
  const f = fakeCompute(settings);
  const shard = join(dir, 'ab');
  mkdirSync(shard, { recursive: true });
  // pid 2^22+1 is above Linux's default pid_max, so no process has it.
  const dead = join(shard, `${'ab'.padEnd(64, '0')}.f32.tmp-4194305-deadbeef`);
  const live = join(shard, `${'ab'.padEnd(64, '1')}.f32.tmp-${process.ppid}-livewrtr`);
  writeFileSync(dead, 'half an entry');
  writeFileSync(live, 'being written');
  const old = new Date(Date.now() - 120_000);
  utimesSync(dead, old, old);
  await getFeatures(paths, settings, f.compute, { dir });
  const left = readdirSync(shard);
  assert.not.ok(left.some((e) => e.includes('deadbeef')), `swept: ${left.join(' ')}`);
  assert.ok(left.some((e) => e.includes('livewrtr')), 'a live writer is left alone');
});

test.run();
