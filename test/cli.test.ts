// The `ser` command as a user meets it: help, and one clear line with a non-zero exit for
// bad input (never a stack trace).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, writeFileSync, rmSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const dir = mkdtempSync(join(tmpdir(), 'ser-cli-'));
const ser = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', env: { ...process.env, SER_CACHE: join(dir, 'cache') } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

function assertOneLineError(r: ReturnType<typeof ser>, pattern: RegExp) {
  assert.is.not(r.code, 0, 'non-zero exit');
  const lines = r.err.split('\n').filter((l) => l.startsWith('ser:'));
  assert.is(lines.length, 1, `one error line, got: ${r.err}`);
  assert.match(lines[0], pattern);
  assert.not.match(r.err, /\n\s+at .*\.(js|ts):\d+/, 'no stack trace');
}

test('help lists the commands; every command has --help', () => {
  const r = ser('--help');
  assert.is(r.code, 0);
  for (const c of ['train', 'eval', 'attack', 'predict', 'sweep', 'report', 'demo', 'adapter']) {
    assert.match(r.out, c);
    const h = ser(c, '--help');
    assert.is(h.code, 0, `${c} --help`);
    assert.match(h.out, /Usage: ser /);
  }
});

test('--version prints the package name and version', () => {
  const r = ser('--version');
  assert.is(r.code, 0);
  const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
  assert.is(r.out.trim(), `${pkg.name} ${pkg.version}`);
});

test('bad input: one clear line and a non-zero exit', () => {
  assertOneLineError(ser('nonsense'), /unknown command 'nonsense'/);
  assertOneLineError(ser('train', '--bogus'), /Unknown option '--bogus'/);
  assertOneLineError(ser('train', '--iterations', 'ten'), /--iterations: 'ten' is not a number/);
  assertOneLineError(ser('train', '--model', 'alexnet'), /unknown model 'alexnet'/);
  assertOneLineError(ser('sweep', '--recipe', 'db', '--eps', '0,2'), /--eps: 2 is above the maximum 1 /);
  assertOneLineError(ser('sweep', '--eps', '0,20'), /--eps: 20 is above the maximum 10 /);
  assertOneLineError(ser('predict', 'x.wav'), /x\.wav/); // the bundled model predicts; the missing file is named
  assertOneLineError(ser('predict', join(dir, 'missing.wav'), '--checkpoint', join(dir, 'missing.safetensors')), /cannot read checkpoint/);
  writeFileSync(join(dir, 'broken.safetensors'), 'garbage!');
  assertOneLineError(ser('predict', 'x.wav', '--checkpoint', join(dir, 'broken.safetensors')), /not a valid safetensors/);
  assertOneLineError(ser('report', join(dir, 'nothing-here')), /no such folder/);
  assertOneLineError(ser('train', '--corpus', join(dir, 'no-such-corpus')), /no-such-corpus/);
});

test('a batch the adapter cannot hold: one line naming --batch and the largest that fits, exit 2, before the corpus is read', () => {
  // VGG-16's first activations at batch 4096: 4096 x 64 x 373 x 64 floats, 25 GB in one buffer.
  const r = ser('train', '--model', 'vgg16', '--batch', '4096', '--corpus', join(dir, 'no-such-corpus'));
  assert.is(r.code, 2, r.err);
  assertOneLineError(r, /--batch 4096: vgg16's largest tensor at this batch is [\d.]+ GB, over this adapter's maxBufferSize of [\d.]+ GB: at most --batch \d+ here/);
  assert.not.match(r.err, /no-such-corpus/, 'refused before the corpus is opened');
  const sweep = ser('sweep', '--models', 'vgg16', '--batch', '4096', '--corpus', 'synthetic', '--out', join(dir, 'sweep'));
  assert.is(sweep.code, 2, sweep.err);
  assertOneLineError(sweep, /--batch 4096: vgg16's largest tensor/);
  assert.not.ok(existsSync(join(dir, 'sweep')), 'nothing written to --out, so the same folder takes the retry');
  // Where the sizes round alike, the bytes tell them apart.
  const edge = ser('train', '--batch', '703', '--corpus', 'synthetic', '--iterations', '1', '--out', join(dir, 'm.safetensors'));
  if (edge.code === 2) assert.not.match(edge.err, /is ([\d.]+ GB), over this adapter's maxBufferSize of \1/, edge.err);
});

test('ser with no command: the help on stderr and exit 2 (a usage error); ser help [COMMAND]: exit 0', () => {
  const none = ser();
  assert.is(none.code, 2);
  assert.match(none.err, /Usage: ser /);
  assert.is(none.out, '');
  const help = ser('help');
  assert.is(help.code, 0);
  assert.match(help.out, /Usage: ser /);
  // `ser help predict` is `ser predict --help`; an unknown command is refused as `ser bogus` is.
  const predictHelp = ser('help', 'predict');
  assert.is(predictHelp.code, 0);
  assert.is(predictHelp.out, ser('predict', '--help').out);
  assertOneLineError(ser('help', 'bogus'), /unknown command 'bogus'/);
  assert.is(ser('help', 'bogus').code, 2);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
