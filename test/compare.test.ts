// bench/compare.ts: two builds' printed benchmark tables side by side (medians per side, B / A).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { compare, tablesOf } from '../bench/compare.js';

const table = (ms: number[]) => `adapter: x\n\n| layer | variant | GFLOP/pass | forward ms | input-grad ms |\n|---|---|---|---|---|\n| conv2 | rows | 7.02 | ${ms[0]} | ${ms[1]} |\n| conv3 | rows | 7.02 | ${ms[2]} |  |\n\ntrailing text\n`;

test('tablesOf keys rows by their first two cells and reads numeric columns; compare takes medians per side', () => {
  const t = tablesOf(table([10, 20, 30]));
  assert.equal([...t.keys()], ['conv2 | rows', 'conv3 | rows']);
  assert.is(t.get('conv2 | rows')!.get('forward ms'), 10);
  assert.is(t.get('conv3 | rows')!.has('input-grad ms'), false, 'an empty cell is no figure');
  const a = [table([10, 20, 30]), table([12, 22, 32]), table([11, 100, 31])].map(tablesOf);
  const b = [table([20, 20, 30]), table([22, 21, 30])].map(tablesOf);
  const rows = compare(a, b, /ms/);
  const fwd = rows.find((r) => r.key === 'conv2 | rows' && r.column === 'forward ms')!;
  assert.equal([fwd.a, fwd.b, fwd.ratio], [11, 21, 21 / 11]);
  assert.is(rows.find((r) => r.column === 'input-grad ms' && r.key === 'conv2 | rows')!.a, 22, 'median, not mean');
  assert.not.ok(rows.some((r) => r.column === 'GFLOP/pass'), 'only the asked columns');
});

test('compare.js prints one well-formed table; a pattern matching no file is one line, exit 2', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-compare-'));
  writeFileSync(join(dir, 'a1.txt'), table([10, 20, 30]));
  writeFileSync(join(dir, 'b1.txt'), table([20, 40, 60]));
  const r = spawnSync(process.execPath, ['dist/bench/compare.js', '--a', join(dir, 'a*.txt'), '--b', join(dir, 'b*.txt')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, /^A: 1 run, B: 1 run \(medians\)/);
  const rows = r.stdout.split('\n').filter((l) => l.startsWith('|'));
  const cells = rows.map((l) => l.split('|').length);
  assert.ok(rows.length === 5 && cells.every((c) => c === cells[0]), `every row as wide as the header:\n${rows.join('\n')}`);
  assert.match(r.stdout, /\| conv2 \| rows \| forward ms \| 10 \| 20 \| 2\.000 \|/);
  const none = spawnSync(process.execPath, ['dist/bench/compare.js', '--a', join(dir, 'none*.txt'), '--b', join(dir, 'b*.txt')], { encoding: 'utf8' });
  assert.is(none.status, 2);
  assert.match(none.stderr.trim(), /^compare: --a '.*none\*\.txt' matches no file$/);
});

/** A bench script's bad options are each one line on stderr and exit 2, and --help prints its usage (exit 0). */
function checkScriptOptions(script: string, cases: readonly (readonly [readonly string[], RegExp])[]): void {
  for (const [args, why] of cases) {
    const r = spawnSync('bash', [script, ...args], { encoding: 'utf8', timeout: 10_000 });
    assert.is(r.status, 2, r.stderr);
    assert.match(r.stderr, why);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
  }
  const help = spawnSync('bash', [script, '--help'], { encoding: 'utf8' });
  assert.is(help.status, 0);
  assert.match(help.stdout, new RegExp(`usage: bash ${script.replace(/[./]/g, '\\$&')}`));
}

test('bench/jit-loop.sh: bad options are one line and exit 2 before anything runs; --help', () => {
  checkScriptOptions('bench/jit-loop.sh', [
    [['--bogus'], /unknown option '--bogus'/],
    [['--pass', 'sideways'], /--pass 'sideways' is not forward, input or weight/],
    [['--seconds', '0'], /--seconds '0' is not a whole number/],
    [['--layer'], /--layer needs a value/],
  ]);
});

test('bench/mesa-compare.sh: bad options are one line and exit 2 before anything is downloaded; --help', () => {
  checkScriptOptions('bench/mesa-compare.sh', [
    [['--bogus'], /unknown option '--bogus'/],
    [['--suite', 'a b'], /--suite 'a b' is not a Debian suite name/],
    [['--layers', 'a b'], /--layers 'a b' is not a comma-separated list/],
    [['--layers'], /--layers needs a value/],
  ]);
});

test.run();
