// The autotuner (kernels/tune.ts) and its cache (src/gpu/tuning.ts, src/gpu/tune-store.ts):
// it picks the faster of two candidates that differ in cost, the choice survives a round trip
// through the cache file, files are per adapter, a corrupt file is ignored with one warning,
// SER_TUNE's modes behave as documented, and GPU timestamps time a dispatch where they exist.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, writeFileSync, readFileSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { subgroupEngine, testEngine } from './helpers/gpu.js';
import { Engine } from '../src/engine/engine.js';
import { Tuning, tuneModeOf, type TuneMode } from '../src/gpu/tuning.js';
import { fileStore, tuneCachePath, tuneCacheDir } from '../src/gpu/tune-store.js';
import { SettingError } from '../src/gpu/errors.js';
import { benchInput, choose, declareFamily, pendingRequests } from '../kernels/choose.js';
import { pick, tunePending } from '../kernels/tune.js';
import { matmul } from '../kernels/matmul.js';
import type { AdapterSummary } from '../src/gpu/adapter-info.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-tune-'));

/**
 * A family whose candidates differ in cost by about 40x: 'slow' runs forty NxNxN
 * matmuls, 'fast' one, and 'broken' (where listed) throws. The rule picks 'slow', so only a
 * measurement can pick 'fast'.
 */
function fakeFamily<const V extends string>(name: string, variants: readonly V[]) {
  return declareFamily({
    name,
    variants,
    applies: () => true,
    rule: () => 'slow' as V,
    key: (n: number) => `n${n}`,
    shaders: [],
    bench: (engine, n) => {
      const a = benchInput(engine, [n, n]);
      return (v) => {
        if (v === 'broken') throw new Error('no such kernel');
        // An asked matmul variant: the fake family's runs queue no matmul shape class of their own.
        for (let i = 0; i < (v === 'slow' ? 40 : 1); i++) matmul(a, a, { variant: 'registers' });
      };
    },
  });
}
const costly = fakeFamily('test.tune-costly', ['slow', 'fast']);

/** An engine on the test engine's device with its own tuning (mode, cache file). */
async function engineWith(mode: TuneMode, path: string, adapter?: AdapterSummary, warn?: (line: string) => void): Promise<Engine> {
  const base = await testEngine();
  const summary = adapter ?? base.adapter;
  return new Engine(base.device, summary, new Tuning(mode, fileStore(summary, path, warn)));
}

test('SER_TUNE values: off, cache (the default) and force; anything else is a SettingError', () => {
  assert.is(tuneModeOf(undefined), 'cache');
  assert.is(tuneModeOf(''), 'cache');
  for (const m of ['off', 'cache', 'force']) assert.is(tuneModeOf(m), m);
  assert.throws(() => tuneModeOf('fast'), (e: Error) => e instanceof SettingError && /SER_TUNE='fast'.*off, cache .* or force/.test(e.message));
});

test('the tuner picks the faster candidate and the choice survives a round trip through the cache file', async () => {
  const path = join(dir, 'roundtrip.json');
  const e = await engineWith('cache', path);
  assert.is(choose(e, costly, 96), 'slow', 'first meeting: the rule');
  assert.is(pendingRequests(e), 1);
  const chosen = await tunePending(e, { runs: 3 });
  assert.is(chosen.length, 1);
  const c = chosen[0];
  assert.is(c.variant, 'fast', JSON.stringify(c.times));
  assert.ok(c.times.slow! > c.times.fast!, JSON.stringify(c.times));
  assert.is(c.timing, 'wall-clock'); // llvmpipe has no timestamp-query
  assert.is(choose(e, costly, 96), 'fast', 'after measuring: the tuned choice');
  assert.is(await tunePending(e).then((r) => r.length), 0, 'nothing left to measure');
  // A new process (engine) on the same adapter reads it back from the file.
  const again = await engineWith('cache', path);
  assert.is(choose(again, costly, 96), 'fast');
  assert.is(pendingRequests(again), 0);
  const file = JSON.parse(readFileSync(path, 'utf8'));
  assert.is(file.format, 1);
  assert.is(file.adapter.backend, e.adapter.backend);
  assert.equal(file.choices.map((x: { family: string; key: string; variant: string }) => [x.family, x.key, x.variant]), [['test.tune-costly', 'n96', 'fast']]);
});

test('a time budget measures some shape classes and leaves the rest queued, in order, for the next call', async () => {
  const e = await engineWith('cache', join(dir, 'budget.json'));
  for (const n of [40, 48, 56]) choose(e, costly, n);
  assert.is(pendingRequests(e), 3);
  const seen: string[] = [];
  const first = await tunePending(e, { runs: 1, budgetMs: 1e-6, onProgress: (_, __, r) => seen.push(r.key) });
  assert.is(first.length, 1, 'a call with any budget measures one class');
  assert.is(pendingRequests(e), 2);
  assert.equal(seen, ['n40']);
  const rest = await tunePending(e, { runs: 1, budgetMs: Infinity, onProgress: (_, __, r) => seen.push(r.key) });
  assert.equal(rest.map((c) => c.key), ['n48', 'n56']);
  assert.is(pendingRequests(e), 0);
});

test("the choice: the fastest candidate, unless the rule's is within 5% of it; failed candidates never", () => {
  assert.is(pick({ a: 10, b: 5 }, 'a'), 'b');
  assert.is(pick({ a: 5.2, b: 5 }, 'a'), 'a', 'within 5%: the rule stays');
  assert.is(pick({ a: 5.3, b: 5 }, 'a'), 'b');
  assert.is(pick({ a: null, b: 5, c: 7 }, 'a'), 'b');
  assert.is(pick({ a: null, b: 5 }, 'b'), null, 'one time: nothing to compare');
});

test('cache files are per adapter: a choice measured on one never steers another', async () => {
  const base = await testEngine();
  const other: AdapterSummary = { ...base.adapter, name: 'google / swiftshader / SwiftShader driver 5.0.0', info: { vendor: 'google', architecture: 'swiftshader', device: 'swiftshader-device-subzero-', description: 'SwiftShader driver 5.0.0' } };
  const newerDriver: AdapterSummary = { ...base.adapter, info: { ...base.adapter.info!, description: `${base.adapter.info!.description} (newer)` } };
  const paths = [base.adapter, other, newerDriver].map((a) => tuneCachePath(a, dir));
  assert.is(new Set(paths).size, 3, paths.join('\n'));
  const mine = await engineWith('cache', paths[0]);
  choose(mine, costly, 64);
  await tunePending(mine, { runs: 3 });
  const theirs = await engineWith('cache', paths[1], other);
  assert.is(choose(theirs, costly, 64), 'slow');
  assert.ok(!existsSync(paths[1]));
  assert.equal(tuneCacheDir({ SER_TUNE_CACHE: '/x/y' }), '/x/y');
  assert.equal(tuneCacheDir({ XDG_CACHE_HOME: '/c' }), '/c/ser-webgpu');
});

test('a corrupt cache file is ignored with one warning naming it, and rewritten after the next measurement', async () => {
  for (const text of ['{"format": 1, "choices": [', '{"format": 99, "choices": []}', '{"format": 1, "choices": [{"family": 3}]}', '']) {
    const path = join(dir, `corrupt-${Math.random().toString(36).slice(2)}.json`);
    writeFileSync(path, text);
    const warnings: string[] = [];
    const store = fileStore((await testEngine()).adapter, path, (line) => warnings.push(line));
    assert.equal(store.load(), []);
    assert.equal(store.load(), []);
    assert.is(warnings.length, 1, `one warning for ${JSON.stringify(text)}: ${warnings.join(' | ')}`);
    assert.ok(warnings[0].includes(path) && /ignoring the tuning cache/.test(warnings[0]), warnings[0]);
    store.save([{ family: 'f', key: 'k', stamp: 's', variant: 'v', times: { v: 1 }, timing: 'wall-clock', measured: '' }]);
    assert.is(store.load().length, 1);
  }
});

test('SER_TUNE=force re-measures shape classes that are cached; off neither reads nor writes the cache', async () => {
  const path = join(dir, 'modes.json');
  const first = await engineWith('cache', path);
  choose(first, costly, 80);
  await tunePending(first, { runs: 3 });
  const before = readFileSync(path, 'utf8');
  const forced = await engineWith('force', path);
  assert.is(choose(forced, costly, 80), 'slow', 'force: the cached choice is not used before it is measured again');
  assert.is(pendingRequests(forced), 1);
  assert.is((await tunePending(forced, { runs: 3 }))[0].variant, 'fast');
  assert.is(choose(forced, costly, 80), 'fast');
  assert.is.not(readFileSync(path, 'utf8'), before, 'force rewrites the measurement');
  const off = await engineWith('off', path);
  assert.is(choose(off, costly, 80), 'slow');
  assert.is(pendingRequests(off), 0);
  const offPath = join(dir, 'off.json');
  const off2 = await engineWith('off', offPath);
  choose(off2, costly, 72);
  assert.equal(await tunePending(off2), []);
  assert.ok(!existsSync(offPath));
});

test('a candidate that fails is reported and not chosen; an unwritable cache warns and keeps the choice in memory', async () => {
  const flaky = fakeFamily('test.tune-flaky', ['broken', 'slow', 'fast']);
  const blocker = join(dir, 'a-file');
  writeFileSync(blocker, 'x');
  const warnings: string[] = [];
  const e = await engineWith('cache', join(blocker, 'tune.json'), undefined, (l) => warnings.push(l)); // a folder that is a file
  choose(e, flaky, 64);
  const [c] = await tunePending(e, { runs: 3, warn: (l) => warnings.push(l) });
  assert.is(c.variant, 'fast');
  assert.is(c.times.broken, null);
  assert.ok(warnings.some((w) => /test\.tune-flaky variant 'broken' failed on n64: no such kernel/.test(w)), warnings.join('\n'));
  assert.ok(warnings.some((w) => /cannot save the tuning cache/.test(w)), warnings.join('\n'));
  assert.is(choose(e, flaky, 64), 'fast');
});

test('GPU timestamps time a dispatch where the adapter has timestamp-query', async () => {
  const e = await subgroupEngine(); // SwiftShader has timestamp-query; llvmpipe has not
  const main = await testEngine();
  if (!main.features.has('timestamp-query')) assert.is(await main.timeOnGpu(() => {}), null);
  if (!e || !e.features.has('timestamp-query')) {
    console.log('  timestamp test skipped: no adapter with timestamp-query');
    return;
  }
  const ms = await e.scopeAsync(async () => {
    const a = benchInput(e, [64, 64]);
    return e.timeOnGpu(() => void matmul(a, a));
  });
  assert.ok(ms !== null && ms > 0 && ms < 10_000, `GPU time ${ms} ms`);
});

test("`ser adapter --tuned` lists this adapter's choices and the cache file; a bad SER_TUNE exits 2", async () => {
  const cacheDir = join(dir, 'cli');
  const e = await testEngine();
  const path = tuneCachePath(e.adapter, cacheDir);
  fileStore(e.adapter, path).save([{ family: costly.name, key: 'n88', stamp: costly.stamp, variant: 'fast', times: { slow: 12.5, fast: 0.25 }, timing: 'wall-clock', measured: new Date().toISOString() }]);
  const ser = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ['bin/ser.js', 'adapter', ...args], { encoding: 'utf8', env: { ...process.env, SER_TUNE_CACHE: cacheDir, ...env } });
  const r = ser({}, '--tuned');
  assert.is(r.status, 0, r.stderr);
  assert.ok(r.stdout.includes(path), r.stdout);
  assert.match(r.stdout, /test\.tune-costly\s+n88\s+fast\s+slow 12\.500, fast 0\.250/);
  const json = JSON.parse(ser({}, '--tuned', '--json').stdout);
  assert.is(json.cache, path);
  assert.equal(json.choices.map((c: { family: string; variant: string }) => [c.family, c.variant]), [['test.tune-costly', 'fast']]);
  const bad = ser({ SER_TUNE: 'fastest' });
  assert.is(bad.status, 2);
  assert.match(bad.stderr.trim(), /^ser: SER_TUNE='fastest' is not a tuning mode/);
  assert.is(bad.stderr.trim().split('\n').length, 1);
});

test('`ser adapter --tune` measures a training step\'s kernels and lists them; bad --model, --batch or SER_TUNE=off exit 2', () => {
  const cacheDir = join(dir, 'cli-tune');
  const ser = (env: Record<string, string>, ...args: string[]) =>
    spawnSync(process.execPath, ['bin/ser.js', 'adapter', ...args], { encoding: 'utf8', env: { ...process.env, SER_TUNE_CACHE: cacheDir, ...env } });
  const r = ser({ SER_TUNE: 'cache' }, '--tune', '--model', 'small', '--batch', '2');
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stderr, /tuning standard step: 1\/\d+ /);
  assert.match(r.stdout, /conv2d\.forward\s+N2 C1 373x64 O8 k3x3 s1x1 p1x1\s+(rows|tiles)\s+/);
  for (const [env, args, why] of [
    [{ SER_TUNE: 'off' }, ['--tune'], /SER_TUNE=off/],
    [{}, ['--tune', '--model', 'vgg17'], /--model: unknown architecture 'vgg17'/],
    [{}, ['--tune', '--batch', '0'], /--batch: expected a whole number/],
  ] as const) {
    const bad = ser(env, ...args);
    assert.is(bad.status, 2, `${args.join(' ')}: ${bad.stderr}`);
    assert.match(bad.stderr, why);
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));

test.run();
