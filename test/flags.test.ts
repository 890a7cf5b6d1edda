// Number flags: negative values reach the project's range check (not node:util's "argument is
// ambiguous"), every number flag has an upper bound, and out-of-range values are one line.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCommand, numberFlag, numberListFlag, type CommandSpec } from '../src/cli/args.js';
import { RANGES, epsRange } from '../src/cli/common.js';
import { RECIPES } from '../src/audio/recipe.js';
import { UserError } from '../src/cli/errors.js';

const spec: CommandSpec = {
  name: 'x',
  summary: '',
  usage: '',
  flags: {
    eps: { type: 'string', help: '' },
    snr: { type: 'string', short: 's', help: '' },
    quiet: { type: 'boolean', help: '' },
  },
};

function userError(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    assert.instance(e, UserError, `a UserError, got ${(e as Error).message}`);
    assert.not.match((e as Error).message, /\n/, 'one line');
    return (e as Error).message;
  }
  assert.unreachable('expected a UserError');
  return '';
}

test('a negative number after a string flag is its value, long or short, = or not', () => {
  for (const argv of [['--eps', '-0.1'], ['--eps=-0.1'], ['--eps', '-.1'], ['--eps', '-1e-1']]) {
    const p = parseCommand(spec, argv);
    assert.is(Number(p.flags.eps), -0.1, argv.join(' '));
  }
  assert.is(parseCommand(spec, ['-s', '-5', 'a.wav']).flags.snr, '-5');
  assert.equal(parseCommand(spec, ['-s', '-5', 'a.wav']).positionals, ['a.wav']);
  // After '--' everything is positional, numbers included.
  assert.equal(parseCommand(spec, ['--', '--eps', '-1']).positionals, ['--eps', '-1']);
  // A boolean flag does not take the number.
  assert.match(userError(() => parseCommand(spec, ['--quiet', '-1'])), /Unknown option '-1'/);
});

test('negative and out-of-range numbers: one line naming the flag, the value and the range', () => {
  const msg = userError(() => numberFlag(parseCommand(spec, ['--eps', '-0.1']), 'eps', epsRange(RECIPES.db)));
  assert.match(msg, /^--eps: -0\.1 is below the minimum 0 \(allowed 0 to 1; db: eps is on the \[0, 1\] feature scale\)$/);
  // paper's eps is in standard deviations: 2 is allowed, 20 is not.
  assert.is(numberFlag(parseCommand(spec, ['--eps', '2']), 'eps', epsRange(RECIPES.paper)), 2);
  assert.match(userError(() => numberFlag(parseCommand(spec, ['--eps', '20']), 'eps', epsRange(RECIPES.paper))), /^--eps: 20 is above the maximum 10 \(allowed 0 to 10; paper: eps is in standard deviations/);
  assert.match(userError(() => numberFlag(parseCommand(spec, ['--eps', '2']), 'eps', epsRange(RECIPES.db))), /above the maximum 1 /);
  const it = userError(() => numberFlag({ flags: { iterations: '1e12' }, positionals: [], help: false }, 'iterations', RANGES.iterations));
  assert.match(it, /--iterations: 1e12 is above the maximum 10,000,000 .*a paper run is 10,000/);
  assert.match(userError(() => numberFlag({ flags: { n: '2.5' }, positionals: [], help: false }, 'n', RANGES.fold)), /not a whole number/);
  assert.match(userError(() => numberListFlag({ flags: { snr: '20,-300' }, positionals: [], help: false }, 'snr', RANGES.snr)), /-300 is below the minimum -100/);
  assert.equal(numberListFlag({ flags: { snr: '20,-5,0' }, positionals: [], help: false }, 'snr', RANGES.snr), [20, -5, 0]);
  assert.match(userError(() => numberFlag({ flags: { n: 'Infinity' }, positionals: [], help: false }, 'n', RANGES.lr)), /not a number/);
});

test('the CLI: --eps -0.1 and --iterations 1e12 end in the project\'s one line, exit 2', () => {
  for (const [args, want] of [
    [['train', '--eps', '-0.1'], /^ser: --eps: -0\.1 is below the minimum 0/],
    [['train', '--iterations', '1e12'], /^ser: --iterations: 1e12 is above the maximum 10,000,000/],
    [['sweep', '--noise-snr', '-500'], /^ser: --noise-snr: -500 is below the minimum -100/],
    [['train', '--seed', '-1'], /^ser: --seed: -1 is below the minimum 0/],
    [['sweep', '--recipe', 'db', '--eps', '0,2'], /^ser: --eps: 2 is above the maximum 1 .*db: eps is on the \[0, 1\] feature scale/],
    [['sweep', '--eps', '0,20'], /^ser: --eps: 20 is above the maximum 10 .*paper: eps is in standard deviations/],
  ] as const) {
    const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', timeout: 60_000 });
    assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.match(r.stderr.trim(), want);
  }
});

test('attack and features read the clip before the GPU starts: a bad file is one line (no adapter warnings before it), exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-clip-'));
  try {
    const fake = join(dir, 'fake.wav');
    writeFileSync(fake, 'hello, not audio');
    for (const [args, want] of [
      [['attack', fake], /^ser: .*fake\.wav: unknown audio format/],
      [['attack', join(dir, 'missing.wav')], /^ser: .*missing\.wav: cannot read \(no such file\)/],
      [['features', fake, '--out', join(dir, 'f.npy')], /^ser: .*fake\.wav: unknown audio format/],
    ] as const) {
      const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
      assert.match(r.stderr.trim(), want);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('train and demo check --fold before printing the corpus: the error is the one line after the adapter\'s, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-fold-'));
  try {
    for (const args of [
      ['train', '--corpus', 'emodb', '--fold', '7', '--out', join(dir, 'm.safetensors')],
      ['demo', '--fold', '9'],
    ]) {
      const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', timeout: 60_000 });
      assert.is(r.status, 2, `${args.join(' ')}: ${r.stderr}`);
      // The batch is checked against the adapter first (test/cli.test.ts), so the GPU has
      // started: Dawn's own start-up warnings and the adapter line may come before.
      const lines = r.stderr.trim().split('\n').filter((l) => !/^Warning: maxDynamic|^adapter: /.test(l));
      assert.is(lines.length, 1, r.stderr);
      assert.match(lines[0], /^ser: --fold: fold \d does not exist \(corpus has folds 0\.\.4\)/);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
