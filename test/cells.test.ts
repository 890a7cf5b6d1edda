// Sweep cells, their keys, claims and workers: results keyed by the exact settings (issue 16
// item 6), cells picked by index or share (issue 18), claims that let processes sharing a run
// folder compute every cell once, and a killed worker's cell redone after its claim times out.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, readFileSync, writeFileSync, mkdirSync, utimesSync, readdirSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawn } from 'node:child_process';
import { settingsKey, canonicalJson, differingSettings, gridCells, type Settings } from '../src/experiment/cells.js';
import { selectionOf, selectCells } from '../src/cli/selection.js';
import { spec as sweepSpec, FLAGS_OUTSIDE_KEY } from '../src/cli/sweep.js';
import { tryClaim, listClaims } from '../src/experiment/claims.js';
import { testRandom } from './helpers/check.js';
import { TINY, serSync, serAsync, cellEvents, results, listCells } from './helpers/sweep.js';

// As a child of the race test below: wait for the common start time, try the claim, say whether it won.
if (process.env.SER_CLAIM_RACE) {
  const { run, start } = JSON.parse(process.env.SER_CLAIM_RACE);
  while (Date.now() < start);
  console.log('claim' in tryClaim(run, 'k', 'c', 60) ? 'won' : 'lost');
  process.exit(0);
}

const rng = testRandom('cells');
const dir = mkdtempSync(join(tmpdir(), 'ser-cells-'));
const env = { SER_CACHE: join(dir, 'cache') };

function randomSettings(): Settings {
  return { corpus: 'synthetic', iterations: 1 + rng.int(1000), lr: rng.uniform(0, 0.01), balanced: rng.int(2) === 1, testEps: [0.02, rng.uniform(0, 0.1)], fit: 'resize', nested: { b: rng.int(9), a: 'x' } };
}

test('keys: the same settings in any key order give one key; any change of any field gives another', () => {
  for (let t = 0; t < 20; t++) {
    const s = randomSettings();
    const shuffled = Object.fromEntries(Object.entries(s).sort(() => rng.uniform(-1, 1)));
    assert.is(settingsKey(shuffled), settingsKey(s));
    assert.is(canonicalJson(shuffled), canonicalJson(s));
    for (const k of Object.keys(s)) {
      const changed = { ...s, [k]: k === 'balanced' ? !s.balanced : k === 'nested' ? { a: 'x', b: 10 } : typeof s[k] === 'string' ? `${s[k]}!` : Array.isArray(s[k]) ? [0.02] : (s[k] as number) + 1e-9 };
      assert.is.not(settingsKey(changed), settingsKey(s), `changing ${k}`);
      assert.equal(differingSettings(s, changed), [k]);
    }
    assert.is.not(settingsKey({ ...s, added: 1 }), settingsKey(s), 'a new setting lands in the key');
  }
  const cells = gridCells({ a: 1 }, ['cnn5'], [0.02, 0.024], [0]);
  assert.is.not(cells[0].key, cells[1].key, 'eps 0.02 and 0.024 are different cells');
});

test('keys: a missing field means its legacy default (recipe db), so old results keep their keys', () => {
  const s = randomSettings();
  assert.is(settingsKey({ ...s, recipe: 'db' }), settingsKey(s));
  assert.is(settingsKey({ ...s, lrDecay: 0.9, pgdEps: [] }), settingsKey(s));
  assert.is.not(settingsKey({ ...s, recipe: 'paper' }), settingsKey(s));
  assert.equal(differingSettings({ ...s, recipe: 'paper' }, s), ['recipe']);
  assert.equal(differingSettings({ ...s, recipe: 'db' }, s), []);
  // What results from before recipes were: db, fit resize, FGSM in [0, 1] against the true labels, training-mode attack from step 0.
  assert.is(settingsKey({ ...s, fit: 'resize', beta: 1, clip: 'range', attackLabels: 'true', evalModeAttack: false, advStart: 0 }), settingsKey(s));
  for (const [k, v] of Object.entries({ fit: 'tile', beta: 0.1, clip: 'ball', attackLabels: 'predicted', evalModeAttack: true, advStart: 1 })) {
    assert.is.not(settingsKey({ ...s, [k]: v }), settingsKey(s), `${k} ${v}`);
  }
});

test('selection: --cell, --shard and array indices; shares partition the grid; bad values are one-line errors', () => {
  const cells = [...Array(11).keys()].map((index) => ({ index }));
  for (const n of [1, 2, 3, 5, 11, 20]) {
    const seen = cells.map(() => 0);
    for (let k = 0; k < n; k++) for (const c of selectCells(cells, selectionOf({ shard: `${k}/${n}` }, {}, 11))) seen[c.index]++;
    assert.equal(seen, cells.map(() => 1), `shards of ${n}`);
  }
  assert.equal(selectionOf({ cell: '4' }, {}, 11), { kind: 'cell', index: 4 });
  assert.equal(selectionOf({}, {}, 11), { kind: 'all' });
  assert.equal(selectionOf({}, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_COUNT: '11' }, 11), { kind: 'cell', index: 7 });
  assert.equal(selectionOf({}, { SLURM_ARRAY_TASK_ID: '7', SLURM_ARRAY_TASK_MIN: '5', SLURM_ARRAY_TASK_COUNT: '4' }, 11), { kind: 'shard', index: 2, count: 4 });
  assert.equal(selectionOf({}, { JOB_COMPLETION_INDEX: '3' }, 11), { kind: 'cell', index: 3 });
  assert.equal(selectionOf({}, { JOB_COMPLETION_INDEX: '3', SER_ARRAY_SIZE: '4' }, 11), { kind: 'shard', index: 3, count: 4 });
  assert.equal(selectionOf({ cell: '0' }, { SLURM_ARRAY_TASK_ID: '9' }, 11), { kind: 'cell', index: 0 }, '--cell wins over the array');
  const bad: [Parameters<typeof selectionOf>[0], NodeJS.ProcessEnv, RegExp][] = [
    [{ cell: '11' }, {}, /--cell: cell 11 does not exist \(the grid has cells 0\.\.10/],
    [{ cell: '-1' }, {}, /--cell: '-1' is not a whole number/],
    [{ cell: '1.5' }, {}, /not a whole number/],
    [{ shard: '2/2' }, {}, /--shard: K must be below N/],
    [{ shard: '0/0' }, {}, /--shard: N must be at least 1/],
    [{ shard: '1-2' }, {}, /--shard: '1-2' is not K\/N/],
    [{ cell: '1', shard: '0/2' }, {}, /--cell or --shard, not both/],
    [{}, { SLURM_ARRAY_TASK_ID: '11' }, /SLURM_ARRAY_TASK_ID=11: cell 11 does not exist/],
    [{}, { JOB_COMPLETION_INDEX: 'x' }, /JOB_COMPLETION_INDEX: 'x' is not a whole number/],
  ];
  for (const [flags, e, pattern] of bad) {
    try {
      selectionOf(flags, e, 11);
      assert.unreachable(`${JSON.stringify(flags)} ${JSON.stringify(e)} accepted`);
    } catch (err) {
      assert.instance(err, Error);
      assert.match((err as Error).message, pattern);
      assert.not.match((err as Error).message, /\n/);
    }
  }
});

test('sweep: every flag either changes every cell key or is listed as changing no number', () => {
  // Values to try where halving or incrementing the default does not apply; a new flag lands
  // here or in FLAGS_OUTSIDE_KEY (src/cli/sweep.ts), so no setting escapes the key unnoticed.
  const alternates: Record<string, string[]> = { fit: ['--fit', 'crop'], 'test-eps': ['--test-eps', '0.05'], 'pgd-eps': ['--pgd-eps', '0.1'], 'pgd-steps': ['--pgd-eps', '0.1', '--pgd-steps', '3'], 'noise-snr': ['--noise-snr', '10'], recipe: ['--recipe', 'db'], beta: ['--beta', '0.5'], 'attack-labels': ['--attack-labels', 'true'], 'adv-start': ['--adv-start', '1'] };
  const base = ['--models', 'small', '--eps', '0,0.02', '--folds', '0'];
  const ref = listCells(env, base).map((c) => c.key);
  const refFor = (extra: string[]) => (extra[0] === '--pgd-eps' && extra.length > 2 ? listCells(env, [...base, '--pgd-eps', '0.1']).map((c) => c.key) : ref);
  for (const [name, f] of Object.entries(sweepSpec.flags)) {
    if ((FLAGS_OUTSIDE_KEY as readonly string[]).includes(name) || name === 'corpus') continue; // the corpus is keyed by its identity (corpusId)
    let extra = alternates[name];
    if (!extra && f.type === 'boolean') extra = [`--${name}`];
    if (!extra && typeof f.default === 'string' && Number.isFinite(Number(f.default))) {
      const d = Number(f.default);
      extra = [`--${name}`, String(Number.isInteger(d) ? d + 1 : d / 2)];
    }
    if (!extra) assert.unreachable(`sweep flag --${name}: add it to FLAGS_OUTSIDE_KEY or give it a value to try here`);
    const keys = listCells(env, [...base, ...extra!]).map((c) => c.key);
    const before = refFor(extra!);
    keys.forEach((k, i) => assert.is.not(k, before[i], `--${name} changes cell ${i}'s key`));
  }
});

test('sweep: bad cell choices are one-line errors with exit 2, before any work', () => {
  const base = ['sweep', ...TINY, '--eps', '0,0.02', '--folds', '0,1', '--out', join(dir, 'bad')];
  const cases: [string[], NodeJS.ProcessEnv, RegExp][] = [
    [['--cell', '4'], {}, /--cell: cell 4 does not exist \(the grid has cells 0\.\.3/],
    [['--shard', '3/3'], {}, /--shard: K must be below N/],
    [['--worker', '--cell', '0'], {}, /--worker takes cells from the whole grid/],
    [[], { SLURM_ARRAY_TASK_ID: '9' }, /SLURM_ARRAY_TASK_ID=9: cell 9 does not exist/],
    [['--folds', '0,0'], {}, /--folds: '0,0' names a fold twice/],
    [['--claim-timeout', '0'], {}, /--claim-timeout: 0 is below/],
  ];
  for (const [extra, e, pattern] of cases) {
    const r = serSync({ ...env, ...e }, ...base, ...extra);
    assert.is(r.code, 2, `${extra.join(' ')}: ${r.err}`);
    const lines = r.err.split('\n').filter((l) => l.startsWith('ser:'));
    assert.is(lines.length, 1, r.err);
    assert.match(lines[0], pattern);
  }
  assert.not.ok(existsSync(join(dir, 'bad')), 'nothing written');
});

test('claims: exclusive; released claims can be taken; a stale claim is taken over and its holder learns it lost it', () => {
  const run = join(dir, 'claims-unit');
  const a = tryClaim(run, 'k1', 'cell', 60);
  assert.ok('claim' in a);
  const b = tryClaim(run, 'k1', 'cell', 60);
  assert.ok('heldBy' in b && b.heldBy.pid === process.pid, 'second claim refused, holder named');
  assert.ok(listClaims(run).has('k1'));
  if ('claim' in a) a.claim.release();
  const c = tryClaim(run, 'k1', 'cell', 60);
  assert.ok('claim' in c, 'claimable after release');
  if (!('claim' in c)) return;
  const old = new Date(Date.now() - 120_000);
  utimesSync(join(run, 'claims', 'k1.claim'), old, old);
  const d = tryClaim(run, 'k1', 'cell', 60);
  assert.ok('claim' in d && d.tookOver !== undefined, 'stale claim taken over');
  c.claim.renew();
  assert.ok(c.claim.lost, 'the old holder sees its claim is gone');
  c.claim.release();
  assert.ok(existsSync(join(run, 'claims', 'k1.claim')), "the old holder's release leaves the new claim alone");
  if ('claim' in d) d.claim.release();
  assert.not.ok(existsSync(join(run, 'claims', 'k1.claim')));
});

test('claims: of 8 processes racing for one stale claim, exactly one takes it over', async () => {
  const run = join(dir, 'claims-race');
  mkdirSync(join(run, 'claims'), { recursive: true });
  writeFileSync(join(run, 'claims', 'k.claim'), JSON.stringify({ host: 'gone', pid: 1, started: '', token: 'dead', cell: 'c' }));
  const old = new Date(Date.now() - 3_600_000);
  utimesSync(join(run, 'claims', 'k.claim'), old, old);
  const race = JSON.stringify({ run, start: Date.now() + 2500 });
  const outs = await Promise.all(
    [...Array(8)].map(
      () =>
        new Promise<string>((res) => {
          const c = spawn(process.execPath, [fileURLToPath(import.meta.url)], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, SER_CLAIM_RACE: race } });
          let o = '';
          c.stdout.on('data', (d) => (o += d));
          c.on('close', () => res(o.trim()));
        }),
    ),
  );
  assert.is(outs.filter((o) => o === 'won').length, 1, outs.join(','));
  assert.is(outs.filter((o) => o === 'lost').length, 7, outs.join(','));
  assert.equal(readdirSync(join(run, 'claims')), ['k.claim'], 'no stale copies left');
});

test('sweep: --eps 0.02,0.024 computes two cells with two files; each file records its settings, key and worker', () => {
  const out = join(dir, 'eps');
  const r = serSync(env, 'sweep', ...TINY, '--eps', '0.02,0.024', '--folds', '0', '--out', out);
  assert.is(r.code, 0, r.err);
  const rs = results(out);
  assert.is(rs.length, 2, rs.map((x) => x.file).join(','));
  assert.equal(rs.map((x) => x.trainEps).sort(), [0.02, 0.024]);
  for (const x of rs) {
    assert.ok(x.file.endsWith(`-${x.key}.json`), x.file);
    const full = JSON.parse(readFileSync(join(out, 'folds', x.file), 'utf8'));
    assert.is(settingsKey(full.config), x.key, 'key = hash of the recorded settings');
    assert.is(full.config.lrDecay, 0.9);
    assert.equal(full.worker.pid > 0, true);
  }
});

test('sweep: a resume with any number-changing setting different is refused in one line naming it; --quiet/--json are not settings', () => {
  const out = join(dir, 'eps');
  const base = [...TINY, '--eps', '0.02,0.024', '--folds', '0', '--out', out];
  const cases: [string[], RegExp][] = [
    [['--lr-decay', '0.5'], /lrDecay 0\.5 here, 0\.9 in the folder/],
    [['--lr-every', '7'], /lrEvery 7 here, 100 in the folder/],
    [['--test-eps', '0.05'], /testEps \[0\.05\] here, \[0\.02,0\.024\] in the folder/],
    [['--pgd-eps', '0.1'], /pgdEps \[0\.1\] here, \[\] in the folder/],
    [['--noise-snr', '10'], /noiseSnr \[10\] here/],
    [['--iterations', '5'], /iterations 5 here, 4 in the folder/],
    [['--lr', '0.01', '--seed', '3'], /lr 0\.01 here.*seed 3 here/],
    [['--recipe', 'db'], /recipe "db" here, "paper" in the folder/],
    [['--beta', '0.5'], /beta 0\.5 here, 0\.1 in the folder/],
    [['--attack-labels', 'true'], /attackLabels "true" here, "predicted" in the folder/],
    [['--adv-start', '1'], /advStart 1 here, 0 in the folder/],
  ];
  for (const [extra, pattern] of cases) {
    const r = serSync(env, 'sweep', ...base, ...extra);
    assert.is(r.code, 2, `${extra.join(' ')}: ${r.err}`);
    const lines = r.err.split('\n').filter((l) => l.startsWith('ser:'));
    assert.is(lines.length, 1, r.err);
    assert.match(lines[0], pattern);
  }
  const same = serSync(env, 'sweep', ...base, '--json');
  assert.is(same.code, 0, same.err);
  assert.equal(cellEvents(same.err).started, [], 'nothing recomputed');
  assert.is(JSON.parse(same.out).length, 2);
  // --pgd-steps changes a number only when PGD is evaluated.
  const keys = (extra: string[]) => listCells(env, [...base, ...extra]).map((c) => c.key);
  assert.equal(keys(['--pgd-steps', '3']), keys([]));
  assert.not.equal(keys(['--pgd-eps', '0.1', '--pgd-steps', '3']), keys(['--pgd-eps', '0.1']));
});

test('sweep: a damaged (truncated or empty) result file counts as absent: its cell is recomputed, the others kept', () => {
  const out = join(dir, 'eps'); // the run folder of the test above: two finished cells
  const before = results(out);
  assert.is(before.length, 2);
  const [victim, kept] = before.sort((a, b) => a.trainEps - b.trainEps);
  const victimPath = join(out, 'folds', victim.file);
  const keptText = readFileSync(join(out, 'folds', kept.file), 'utf8');
  for (const damage of ['{"model": "small", "fol', '']) {
    writeFileSync(victimPath, damage);
    const r = serSync(env, 'sweep', ...TINY, '--eps', '0.02,0.024', '--folds', '0', '--out', out);
    assert.is(r.code, 0, r.err);
    const cells = listCells(env, [...TINY, '--eps', '0.02,0.024', '--folds', '0', '--out', out]);
    const index = cells.find((c) => c.key === victim.key)!.index;
    assert.equal(cellEvents(r.err).started, [index], `only the damaged cell is recomputed: ${r.err}`);
    const again = JSON.parse(readFileSync(victimPath, 'utf8'));
    assert.is(again.key, victim.key, 'rewritten under the same name and key');
    assert.is(readFileSync(join(out, 'folds', kept.file), 'utf8'), keptText, 'the good cell is untouched');
  }
});

test('sweep: a folder written before keys existed still reports, and its results are kept on resume', () => {
  const out = join(dir, 'legacy');
  mkdirSync(join(out, 'folds'), { recursive: true });
  const src = results(join(dir, 'eps')).find((x) => x.trainEps === 0.02)!;
  const full = JSON.parse(readFileSync(join(dir, 'eps', 'folds', src.file), 'utf8'));
  // A file from before keys and recipes (the numbers are a paper run's; what counts is what the file says).
  for (const k of ['config', 'key', 'worker', 'recipe', 'attackLabels', 'beta', 'advStart']) delete full[k];
  writeFileSync(join(out, 'folds', 'small-eps0.02-fold0.json'), JSON.stringify(full));
  writeFileSync(join(out, 'config.json'), JSON.stringify({ corpus: 'synthetic', fit: 'resize', iterations: 4, batch: 4, lr: 0.001, seed: 1, alpha: 0.5, beta: 1, balanced: false }));
  const rep = serSync(env, 'report', out);
  assert.is(rep.code, 0, rep.err);
  assert.match(rep.out, '| adversarial | 0.02 |');
  assert.match(rep.out, /Recipe: db; attacks against the true labels/);
  const r = serSync(env, 'sweep', ...TINY, '--recipe', 'db', '--eps', '0.02', '--test-eps', '0.02,0.024', '--folds', '0', '--out', out);
  assert.is(r.code, 0, r.err);
  assert.match(r.err, /cell 0 small-eps0.02-fold0: done earlier, kept/);
  assert.equal(cellEvents(r.err).started, []);
  const refused = serSync(env, 'sweep', ...TINY, '--recipe', 'db', '--eps', '0.02', '--test-eps', '0.02,0.024', '--folds', '0', '--out', out, '--lr-every', '50');
  assert.is(refused.code, 2);
  assert.match(refused.err, /lrEvery 50 here, 100 in the folder/);
  const paper = serSync(env, 'sweep', ...TINY, '--eps', '0.02', '--test-eps', '0.02,0.024', '--folds', '0', '--out', out);
  assert.is(paper.code, 2, 'a paper run does not resume a db folder');
  assert.match(paper.err, /recipe "paper" here, "db" in the folder/);
});

test('sweep: a folder of the recipe era before keys (config.json with the recipe, result files with recipe, labels, beta, adv-start) reports, and resumes', () => {
  // What the sweep wrote after recipes and before keys: config.json with these fields, result files without config or key.
  const out = join(dir, 'recipe-era');
  mkdirSync(join(out, 'folds'), { recursive: true });
  const keyed = results(join(dir, 'eps'));
  assert.is(keyed.length, 2);
  let config: Record<string, unknown> = {};
  for (const x of keyed) {
    const full = JSON.parse(readFileSync(join(dir, 'eps', 'folds', x.file), 'utf8'));
    assert.equal([full.recipe, full.attackLabels, full.beta, full.advStart], ['paper', 'predicted', 0.1, 0], 'the source files are paper results');
    config = Object.fromEntries(['recipe', 'corpus', 'fit', 'iterations', 'batch', 'lr', 'seed', 'alpha', 'beta', 'clip', 'attackLabels', 'evalModeAttack', 'advStart', 'balanced'].map((k) => [k, full.config[k]]));
    for (const k of ['config', 'key', 'worker']) delete full[k];
    // That sweep named files by eps.toFixed(2), which would name 0.02 and 0.024 alike (what keys fixed); 3 digits here.
    writeFileSync(join(out, 'folds', `small-eps${x.trainEps.toFixed(3)}-fold0.json`), JSON.stringify(full));
  }
  assert.equal([config.recipe, config.fit, config.clip, config.evalModeAttack], ['paper', 'tile', 'ball', true]);
  writeFileSync(join(out, 'config.json'), JSON.stringify(config));
  const rep = serSync(env, 'report', out);
  assert.is(rep.code, 0, rep.err);
  assert.match(rep.out, "Recipe: paper; attacks against the model's own predictions");
  assert.match(rep.out, '| adversarial | 0.02 |');
  assert.match(rep.out, '2 cells finished. No grid with these settings is recorded');
  const json = JSON.parse(serSync(env, 'report', out, '--json').out);
  assert.is(json.missing, null, 'missing cells unknown');
  assert.equal(json.results.map((x: { recipe: string; attackLabels: string }) => [x.recipe, x.attackLabels]), [['paper', 'predicted'], ['paper', 'predicted']]);
  // Resuming with the same (paper) settings keeps both results; another attack setting is refused.
  const base = [...TINY, '--eps', '0.02,0.024', '--folds', '0', '--out', out];
  const refused = serSync(env, 'sweep', ...base, '--attack-labels', 'true');
  assert.is(refused.code, 2, refused.err);
  assert.match(refused.err, /attackLabels "true" here, "predicted" in the folder/);
  const r = serSync(env, 'sweep', ...base);
  assert.is(r.code, 0, r.err);
  assert.equal(cellEvents(r.err).started, [], r.err);
  assert.match(r.err, /cell 1 small-eps0.024-fold0: done earlier, kept/);
});

const GRID = ['--eps', '0,0.02', '--folds', '0,1,2'];

test('sweep: two plain sweeps started at once in one folder split the cells: each computed once', async () => {
  const out = join(dir, 'twice');
  const t0 = Date.now();
  const runs = [0, 1].map(() => serAsync(env, 'sweep', ...TINY, ...GRID, '--out', out));
  const codes = await Promise.all(runs.map((r) => r.done));
  assert.equal(codes, [0, 0], runs.map((r) => r.err()).join('\n'));
  const started = runs.flatMap((r) => cellEvents(r.err()).started).sort();
  assert.equal(started, [0, 1, 2, 3, 4, 5], `every cell started once: ${started}`);
  assert.is(results(out).length, 6);
  assert.equal(readdirSync(join(out, 'claims')), [], 'no claims left');
  console.log(`  two concurrent sweeps, 6 cells: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('workers: three --worker processes, one SIGKILLed mid-cell; its cell is redone after the claim times out, the rest once; report complete', async () => {
  const out = join(dir, 'workers');
  const t0 = Date.now();
  // Enough iterations that a cell outlasts the moment between seeing a claim and killing its holder.
  const grid = [...TINY, '--iterations', '60', ...GRID, '--out', out];
  const args = ['sweep', ...grid, '--worker', '--claim-timeout', '4'];
  const workers = [0, 1, 2].map(() => serAsync(env, ...args));
  const pids = workers.map((w) => w.child.pid!);
  const deadline = setTimeout(() => workers.forEach((w) => w.child.kill('SIGKILL')), 240_000);
  let victim = -1;
  let victimKey = '';
  while (victim < 0) {
    for (const [key, c] of listClaims(out)) {
      const i = pids.indexOf(c.pid);
      if (i >= 0) {
        workers[i].child.kill('SIGKILL');
        victim = i;
        victimKey = key;
        break;
      }
    }
    if (victim < 0) {
      if (workers.every((w) => w.child.exitCode !== null)) assert.unreachable('workers ended without claiming');
      await new Promise((r) => setTimeout(r, 20));
    }
  }
  const codes = await Promise.all(workers.map((w) => w.done));
  clearTimeout(deadline);
  const ev = workers.map((w) => cellEvents(w.err()));
  const killedCell = listCells(env, grid).find((c) => c.key === victimKey)!.index;
  assert.not.ok(ev[victim].finished.includes(killedCell), 'the victim was killed mid-cell');
  workers.forEach((w, i) => i !== victim && assert.is(codes[i], 0, w.err()));
  const finished = ev.flatMap((e) => e.finished).sort();
  assert.equal(finished, [0, 1, 2, 3, 4, 5], `every cell finished exactly once: ${finished}`);
  const survivorsStarted = ev.filter((_, i) => i !== victim).flatMap((e) => e.started).sort();
  assert.equal(survivorsStarted, [...new Set(survivorsStarted)], `no cell started twice by the survivors: ${survivorsStarted}`);
  assert.ok(survivorsStarted.includes(killedCell), 'the killed cell was redone');
  for (const c of ev[victim].started) assert.ok(c === killedCell || ev[victim].finished.includes(c), `the victim started only what it finished and the killed cell: ${ev[victim].started}`);
  assert.ok(workers.some((w, i) => i !== victim && /claim of host \S+ pid \d+.*timed out; taken over/.test(w.err())), 'a survivor took the claim over');
  const rs = results(out);
  assert.is(rs.length, 6);
  const redone = rs.find((x) => x.key === victimKey)!;
  assert.ok(redone && redone.worker!.pid !== pids[victim] && pids.includes(redone.worker!.pid), 'redone by a survivor, which the file names');
  const rep = serSync(env, 'report', out);
  assert.is(rep.code, 0, rep.err);
  assert.match(readFileSync(join(out, 'report.md'), 'utf8'), 'All 6 cells of the grid are finished.');
  console.log(`  three workers with one killed, 6 cells: ${((Date.now() - t0) / 1000).toFixed(1)} s`);
});

test('report: says which cells are missing and who claims them', () => {
  const out = join(dir, 'partial');
  const r = serSync(env, 'sweep', ...TINY, ...GRID, '--out', out, '--cell', '1');
  assert.is(r.code, 0, r.err);
  const cells = listCells(env, [...TINY, ...GRID, '--out', out]);
  mkdirSync(join(out, 'claims'), { recursive: true });
  writeFileSync(join(out, 'claims', `${cells[4].key}.claim`), JSON.stringify({ host: 'node7', pid: 4242, started: new Date().toISOString(), token: 't', cell: cells[4].cell }));
  const rep = serSync(env, 'report', out);
  assert.is(rep.code, 0, rep.err);
  const md = readFileSync(join(out, 'report.md'), 'utf8');
  assert.match(md, '1 of 6 cells finished; 5 missing (1 claimed, 4 not started)');
  assert.match(md, /\| 4 \| small-eps0.02-fold1 \| claimed by host node7 pid 4242/);
  assert.match(rep.err, /missing: cell 0 small-eps0-fold0 \(not started\)/);
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
