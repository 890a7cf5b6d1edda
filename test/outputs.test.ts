// Outputs and the files the project reads back: an unwritable, folder, device or full output,
// a truncated run config and an empty fold file are one line naming the path (exit 2), checked
// before long work; temporary files never outlive a failure; `ser report` stays inside its
// folder whatever the result files say. (Tests run as root, so read-only is made with paths under
// a regular file, /sys, /dev/full and, where mount is allowed, a small or read-only tmpfs.)
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { asOutputError, assertWritableFile, OutputError, writeFileAtomic } from '../src/io/atomic.js';
import { userMessage } from '../src/cli/errors.js';
import { AdapterLimitError, GpuError } from '../src/engine/engine.js';
import { saveFoldResult, type FoldResult } from '../src/experiment/results.js';
import { writeWav16 } from '../src/data/synthetic.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-outputs-'));
const ser = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EGL_PLATFORM: 'surfaceless', SER_CACHE: join(dir, 'cache') } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
function oneLine(r: ReturnType<typeof ser>, pattern: RegExp, code = 2) {
  assert.is(r.code, code, `exit ${code}: ${r.err}`);
  const lines = r.err.split('\n').filter((l) => l.startsWith('ser:'));
  assert.is(lines.length, 1, `one error line: ${r.err}`);
  assert.match(lines[0], pattern);
  assert.not.match(r.err, /internal error|\n\s+at /);
}

/** A tmpfs of `size` mounted at a fresh folder (read-only when `ro`), or null where mount is not allowed. */
function tmpfs(size: string, ro = false): string | null {
  const m = join(dir, `mnt-${Math.random().toString(36).slice(2)}`);
  mkdirSync(m);
  const r = spawnSync('mount', ['-t', 'tmpfs', '-o', `size=${size}${ro ? ',ro' : ''}`, 'tmpfs', m], { encoding: 'utf8' });
  if (r.status !== 0) {
    console.log(`  (tmpfs cases skipped: mount not allowed here: ${(r.stderr || r.error?.message || '').trim()})`);
    return null;
  }
  mounts.push(m);
  return m;
}
const mounts: string[] = [];

const wav = join(dir, 'tone.wav');
writeWav16(wav, Float32Array.from({ length: 32000 }, (_, i) => 0.3 * Math.sin(i / 5)), 16000);

test('writeFileAtomic and assertWritableFile: one OutputError naming the path and the cause', () => {
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  const cases: [string, RegExp][] = [
    [join(file, 'below.npy'), /(a path component is a file, not a folder, ENOTDIR|a file is in the way of a folder, EEXIST)/],
    [dir, /is a folder, EISDIR/],
    ['/dev/full', /not a regular file/],
    ['/sys/ser-test.npy', /(permission denied|read-only|not permitted|no such folder)/],
  ];
  for (const [path, why] of cases) {
    for (const fn of [() => writeFileAtomic(path, 'data'), () => assertWritableFile(path)]) {
      try {
        fn();
        assert.unreachable(`${path} should fail`);
      } catch (e) {
        assert.instance(e, OutputError, `${path}: ${(e as Error).message}`);
        assert.match((e as Error).message, why);
        assert.ok((e as Error).message.includes(path) || (e as Error).message.includes(file), 'names the path');
      }
    }
  }
  assert.is(readFileSync(file, 'utf8'), 'x');
  // A real ENOSPC from the kernel (writing /dev/full directly), as the writers wrap it.
  try {
    writeFileSync('/dev/full', 'x');
    assert.unreachable('/dev/full accepts no bytes');
  } catch (e) {
    assert.match(userMessage(asOutputError(e, '/dev/full')) ?? 'null', /^\/dev\/full: cannot write \(no space left on the device, ENOSPC\)$/);
  }
  // A file-system error with a path that escapes a caller is still one user line naming it.
  try {
    readFileSync(join(dir, 'no-such', 'config.json'));
  } catch (e) {
    assert.is(userMessage(e), `${join(dir, 'no-such', 'config.json')}: cannot open (no such folder, ENOENT)`);
  }
  assert.is(userMessage(new TypeError('x is undefined')), null, 'a bug stays a bug');
  // A tensor over the adapter's buffer limit comes from the sizes asked for: the user's to change.
  assert.match(userMessage(new AdapterLimitError("tensor [1000, 32, 373, 64] needs 3055616000 bytes, over this adapter's maxBufferSize 2147483648")) ?? 'null', /^tensor \[1000, 32, 373, 64\] needs .* maxBufferSize 2147483648: a smaller batch or model needs less$/);
  assert.is(userMessage(new GpuError('device lost')), null, 'other GPU errors stay bugs');
});

test('a folder that cannot be made under /proc is one line at once, not a hang (Node 20 loops in mkdirSync recursive there)', () => {
  // Child processes with a time limit: the bug this guards against never returns.
  const opts = { encoding: 'utf8' as const, timeout: 30_000, env: { ...process.env, EGL_PLATFORM: 'surfaceless' } };
  const train = spawnSync(process.execPath, ['bin/ser.js', 'train', '--corpus', 'synthetic', '--model', 'small', '--iterations', '1', '--out', '/proc/ser-x/y/m.safetensors'], opts);
  assert.is(train.signal, null, 'train --out under /proc finished');
  oneLine({ code: train.status, out: train.stdout, err: train.stderr }, /\/proc\/ser-x.*cannot write/);
  // A sweep's folder there: the same one line as every other write (not Node's own message).
  const sweep = spawnSync(process.execPath, ['bin/ser.js', 'sweep', '--corpus', 'synthetic', '--models', 'small', '--iterations', '1', '--out', '/proc/ser-x/runs'], opts);
  assert.is(sweep.signal, null, 'sweep --out under /proc finished');
  oneLine({ code: sweep.status, out: sweep.stdout, err: sweep.stderr }, /^ser: \/proc\/ser-x\/runs\/config\.json: cannot write \(no such folder, ENOENT\)$/);
  // The tuner's cache there: a warning, and the command finishes.
  const tune = spawnSync(process.execPath, ['bin/ser.js', 'adapter', '--tune', '--model', 'small', '--batch', '2'], { ...opts, env: { ...opts.env, SER_TUNE: 'cache', SER_TUNE_CACHE: '/proc/ser-x' } });
  assert.is(tune.signal, null, 'adapter --tune with its cache under /proc finished');
  assert.is(tune.status, 0, tune.stderr);
  assert.match(tune.stderr, /cannot save the tuning cache: \/proc\/ser-x.*cannot write/);
  // Nested folders that can be made are made.
  const deep = join(dir, 'a', 'b', 'c');
  writeFileAtomic(join(deep, 'f.txt'), 'x');
  assert.is(readFileSync(join(deep, 'f.txt'), 'utf8'), 'x');
});

test('a full disk: exit 2 naming the file, and no temporary file is left behind', () => {
  const m = tmpfs('8k');
  if (!m) return;
  const out = join(m, 'features.npy');
  oneLine(ser('features', wav, '--fit', 'none', '--out', out), new RegExp(`^ser: ${out}: cannot write \\(no space left on the device, ENOSPC\\)`));
  assert.equal(readdirSync(m), [], `nothing left: ${readdirSync(m).join(' ')}`);
});

test('train --out to an unwritable place fails before any work (no adapter, no features)', () => {
  const file = join(dir, 'plain2');
  writeFileSync(file, 'x');
  const targets = [join(file, 'model.safetensors'), dir];
  const ro = tmpfs('64k', true);
  if (ro) targets.push(join(ro, 'model.safetensors'));
  for (const out of targets) {
    const r = ser('train', '--corpus', 'synthetic', '--model', 'small', '--iterations', '1', '--out', out);
    oneLine(r, /cannot write/);
    assert.not.match(r.err, /adapter:|features/, 'stopped before the work');
  }
  oneLine(ser('attack', wav, '--checkpoint', join(dir, 'none.safetensors'), '--png', dir), /is a folder/);
  oneLine(ser('train', '--corpus', 'synthetic', '--cache', join(file, 'cache')), /cannot write .*(ENOTDIR|EEXIST)/);
});

function foldResult(model: string, fold: number): FoldResult {
  const scores = { uar: 0.5, wa: 0.5, confusion: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0], [0, 0, 0, 1]], recall: [1, 1, 1, 1] } as unknown as FoldResult['clean'];
  return { corpus: 'synthetic', model, trainEps: 0, fold, iterations: 1, seed: 1, clean: scores, attacks: [{ kind: 'fgsm', eps: 0.1, scores }], losses: [{ iteration: 0, loss: 1 }], trainSeconds: 1, adapter: 'test | adapter\nx', testSize: 4, trainSize: 4 };
}

test('ser report: a damaged fold file is skipped by name (exit 1); a model name with ../ stays inside the run folder', () => {
  const run = join(dir, 'run', 'inner');
  saveFoldResult(run, foldResult('cnn5', 0));
  // A hand-edited or foreign result: the file name is fine, the model name inside is not.
  writeFileSync(join(run, 'folds', 'x-eps0.00-fold1.json'), JSON.stringify(foldResult('../../../../escaped', 1)));
  writeFileSync(join(run, 'folds', 'cnn5-eps0.00-fold2.json'), ''); // an empty fold file
  writeFileSync(join(run, 'folds', 'cnn5-eps0.00-fold3.json'), '{"model": "cnn5", "fol'); // truncated
  const r = ser('report', run);
  assert.is(r.code, 1, r.err);
  assert.match(r.err, new RegExp(`skipped ${join(run, 'folds', 'cnn5-eps0.00-fold2.json')}: empty file`));
  assert.match(r.err, new RegExp(`skipped ${join(run, 'folds', 'cnn5-eps0.00-fold3.json')}: not valid JSON`));
  assert.match(r.err, /2 fold results used, 2 damaged files skipped/, r.err);
  assert.not.ok(existsSync(join(dir, 'run', 'confusion-')), 'nothing written above');
  const outside = readdirSync(join(dir, 'run')).filter((f) => f !== 'inner');
  assert.equal(outside, [], `nothing outside the run folder: ${outside.join(' ')}`);
  assert.equal(readdirSync(dir).filter((f) => f.includes('escaped')), []);
  const inside = readdirSync(run);
  assert.ok(inside.some((f) => /^confusion-_+escaped-eps0\.00\.svg$/.test(f)), inside.join(' '));
  const md = readFileSync(join(run, 'report.md'), 'utf8');
  assert.match(md, /adapter: test   adapter x; settings [0-9a-f]{16}\./, 'a | or newline from a file cannot break the Markdown');
});

test('a truncated sweep config.json: exit 2 naming it', () => {
  const run = join(dir, 'sweep');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'config.json'), '{"corpus": "synth');
  oneLine(ser('sweep', '--out', run), new RegExp(`^ser: ${join(run, 'config.json')}: not valid JSON, truncated or damaged`));
  writeFileSync(join(run, 'config.json'), '');
  oneLine(ser('sweep', '--out', run), /config\.json: empty file/);
});

test.after(() => {
  for (const m of mounts) spawnSync('umount', [m]);
  rmSync(dir, { recursive: true, force: true });
});
test.run();
