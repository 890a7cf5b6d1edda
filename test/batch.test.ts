// One bad file never costs the others: per-file features in a batch, input expansion (files,
// folders, globs), and `ser predict` end to end (formats, --top-k, exit codes, batching equal
// to one file at a time).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileFeatures } from '../src/experiment/file-features.js';
import type { FrontEnd } from '../src/audio/frontend.js';
import { expandInputs } from '../src/cli/inputs.js';
import { writeWav16 } from '../src/data/synthetic.js';
import { createModel } from '../src/models/index.js';
import { bundledModelPath } from '../src/index.js';
import { CLASSES } from '../src/data/corpus.js';
import { saveCheckpoint } from '../src/nn/checkpoint-file.js';
import { testEngine } from './helpers/gpu.js';
import { testRandom } from './helpers/check.js';

const rng = testRandom('batch');
const dir = mkdtempSync(join(tmpdir(), 'ser-batch-'));

/** A front end that fails any call holding a signal of length `badLength` (as an over-long utterance does). */
function fakeFront(badLength: number) {
  const calls: number[][] = [];
  const front = {
    async logMel(signals: Float32Array[]) {
      calls.push(signals.map((s) => s.length));
      if (signals.some((s) => s.length === badLength)) throw new Error(`front end: utterance ${signals.findIndex((s) => s.length === badLength)} (999.0 s) needs 300000000 bytes in one storage binding; this adapter allows 134217728`);
      return signals.map((s) => Float32Array.of(s.length));
    },
  };
  return { front: front as unknown as FrontEnd, calls };
}

test('fileFeatures: a file that fails to load or in the front end is reported by name; the rest get features, in order', async () => {
  const lengths: Record<string, number> = { 'a.wav': 10, 'b.wav': 999, 'c.wav': 30, 'd.wav': 40 };
  const load = (p: string) => {
    if (p === 'missing.wav') throw new Error('missing.wav: cannot read (no such file)');
    return new Float32Array(lengths[p]);
  };
  const { front, calls } = fakeFront(999);
  const got = await fileFeatures(front, ['a.wav', 'missing.wav', 'b.wav', 'c.wav', 'd.wav'], load);
  assert.equal(
    got.map((g) => g.path),
    ['a.wav', 'missing.wav', 'b.wav', 'c.wav', 'd.wav'],
  );
  assert.equal(Array.from(got[0].features!), [10]);
  assert.equal(Array.from(got[3].features!), [30]);
  assert.equal(Array.from(got[4].features!), [40]);
  assert.is(got[1].reason, 'cannot read (no such file)', 'the path is not repeated in the reason');
  assert.match(got[2].reason!, /^front end: \(999\.0 s\) needs 300000000 bytes/);
  assert.equal(calls[0], [10, 999, 30, 40], 'the decodable files go through the front end together first');
  // All good: exactly one front-end call.
  const ok = fakeFront(-1);
  await fileFeatures(ok.front, ['a.wav', 'c.wav', 'd.wav'], load);
  assert.is(ok.calls.length, 1);
});

test('expandInputs: files as given, folders recursively (no hidden, no link loops), globs, and a reason for what names nothing', () => {
  const root = join(dir, 'tree');
  mkdirSync(join(root, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(root, '.hidden'), { recursive: true });
  mkdirSync(join(root, 'empty'), { recursive: true });
  for (const f of ['a10.wav', 'a9.wav', 'sub/b.WAV', 'sub/deeper/c.wav', '.hidden/h.wav', 'notes.txt']) writeFileSync(join(root, f), 'x');
  symlinkSync(root, join(root, 'sub', 'loop'));
  const r = expandInputs([root, join(root, 'notes.txt'), join(root, 'a9.wav'), `${root}/sub/../a9.wav`, join(root, 'nope.wav'), join(root, 'empty'), `${root}/sub/**/*.wav`, `${root}/*.flac`]);
  assert.equal(
    r.files,
    [`${root}/a9.wav`, `${root}/a10.wav`, `${root}/sub/b.WAV`, `${root}/sub/deeper/c.wav`, join(root, 'notes.txt')],
    'natural order, a9 before a10; no duplicates; a named file is taken whatever its ending',
  );
  assert.equal(
    r.errors.map((e) => [e.path.slice(root.length), e.reason]),
    [
      ['/nope.wav', 'no such file or folder'],
      ['/empty', 'folder holds no audio files (.wav, .wave, .flac, .mp3, .ogg, .oga, .opus, .webm)'],
      ['/*.flac', 'no files match this pattern'],
    ],
  );
});

// The CLI end to end, with a real (untrained, seeded) small CNN checkpoint.
const serEnv = (env: NodeJS.ProcessEnv, ...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', timeout: 240_000, env: { ...process.env, EGL_PLATFORM: 'surfaceless', ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};
const ser = (...args: string[]) => serEnv({}, ...args);

test('ser predict: good files are predicted even next to missing and broken ones; exit 1 says some failed', async () => {
  const engine = await testEngine();
  const ckpt = join(dir, 'small.safetensors');
  await saveCheckpoint(createModel('small', engine, { seed: 3 }), ckpt, { model: 'small', fit: 'resize' });
  const wavs = join(dir, 'wavs');
  mkdirSync(join(wavs, 'more'), { recursive: true });
  const files: string[] = [];
  for (let i = 0; i < 37; i++) {
    const f = join(wavs, i % 2 ? 'more' : '.', `u${i}.wav`);
    const x = new Float32Array(24000 + rng.int(12000)).map(() => rng.uniform(-0.5, 0.5)); // over 1 s: no caution
    writeWav16(f, x, i % 3 ? 16000 : 22050);
    files.push(f);
  }
  writeFileSync(join(wavs, 'broken.wav'), 'RIFF\x24\x00\x00\x00WAVEjunk');
  const missing = join(dir, 'missing.wav');

  const two = ser('predict', files[0], missing, '--checkpoint', ckpt);
  assert.is(two.code, 1, two.err);
  assert.match(two.out, /^label\s+angry\s+happy\s+neutral\s+sad\s+file\n/);
  assert.match(two.out, new RegExp(`\\n(angry|happy|neutral|sad)\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+\\s+[0-9.]+\\s+${files[0]}\\n`), 'the good file is printed');
  assert.match(two.err, new RegExp(`ser: ${missing}: no such file or folder`));
  assert.match(two.err, /predict: 1 file predicted, 1 failed/);

  // Nothing predicted: the table has no header alone on stdout, the error is on stderr.
  const none = ser('predict', join(wavs, 'broken.wav'), '--checkpoint', ckpt);
  assert.is(none.code, 1, none.err);
  assert.is(none.out, '', 'no table header without a row');
  assert.match(none.err, /0 files predicted, 1 failed/);

  // A folder (recursive, 38 files: more than one batch) as JSON Lines.
  const all = ser('predict', wavs, '--checkpoint', ckpt, '--format', 'jsonl');
  assert.is(all.code, 1, all.err);
  const rows = all.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.is(rows.length, 38);
  const bad = rows.filter((r) => r.error);
  assert.is(bad.length, 1);
  assert.is(bad[0].path, join(wavs, 'broken.wav'));
  assert.match(all.err, new RegExp(`ser: ${join(wavs, 'broken.wav')}: `));
  assert.match(all.err, /37 files predicted, 1 failed/);
  for (const r of rows.filter((r) => !r.error)) {
    const p = Object.values(r.probabilities) as number[];
    assert.is(p.length, 4);
    assert.ok(Math.abs(p.reduce((a, b) => a + b, 0) - 1) < 1e-4, 'probabilities sum to 1');
    assert.is(r.label, Object.entries(r.probabilities).sort((a, b) => (b[1] as number) - (a[1] as number))[0][0]);
  }
  // Batched results equal one file at a time.
  for (const i of [0, 1, 36]) {
    const one = ser('predict', files[i], '--checkpoint', ckpt, '--format', 'jsonl');
    assert.is(one.code, 0, one.err);
    const alone = JSON.parse(one.out);
    const inBatch = rows.find((r) => r.path === files[i]);
    for (const c of Object.keys(alone.probabilities)) assert.ok(Math.abs(alone.probabilities[c] - inBatch.probabilities[c]) < 1e-5, `${files[i]} ${c}`);
  }

  // CSV with --top-k 2 from a glob; a path with a comma is quoted.
  const comma = join(wavs, 'a,b.wav');
  writeWav16(comma, new Float32Array(8000).map(() => rng.uniform(-0.5, 0.5)), 16000);
  const csv = ser('predict', `${wavs}/*.wav`, '--checkpoint', ckpt, '--format', 'csv', '--top-k', '2', '--quiet');
  assert.is(csv.code, 1, csv.err);
  const lines = csv.out.trim().split('\n');
  assert.is(lines[0], 'path,label,class_1,p_1,class_2,p_2,error,caution');
  assert.ok(lines.some((l) => l.startsWith(`"${comma}",`)), 'quoted path');
  const good = lines.find((l) => l.startsWith(`${files[0]},`))!.split(',');
  assert.is(good.length, 8);
  assert.is(good[1], good[2], 'label is the top class');
  assert.ok(Number(good[3]) >= Number(good[5]), 'most probable first');
  assert.ok(lines.some((l) => l.startsWith(`${join(wavs, 'broken.wav')},,,,,,`)), 'an error row');

  // Silence and a 0.3 s clip still get a label (exit 0), with a caution beside it on stderr and
  // in the row; a clip with enough sound gets none (no key, an empty CSV cell).
  const silent = join(dir, 'silent.wav');
  writeWav16(silent, new Float32Array(32000), 16000);
  const shortClip = join(dir, 'short.wav');
  writeWav16(shortClip, new Float32Array(4800).map(() => rng.uniform(-0.5, 0.5)), 16000);
  const long = join(dir, 'long.wav');
  writeWav16(long, new Float32Array(32000).map(() => rng.uniform(-0.5, 0.5)), 16000);
  const cautious = ser('predict', silent, shortClip, long, '--checkpoint', ckpt, '--format', 'jsonl');
  assert.is(cautious.code, 0, cautious.err);
  const [rs, rq, rl] = cautious.out.trim().split('\n').map((l) => JSON.parse(l));
  assert.ok(CLASSES.includes(rs.label), 'silence is still labelled');
  assert.match(rs.caution, /^silence/);
  assert.match(rq.caution, /^only 0\.30 s of audio/);
  assert.not.ok('caution' in rl, 'no caution key on a clip with enough sound');
  assert.match(cautious.err, new RegExp(`ser: ${silent}: caution: silence`));
  assert.match(cautious.err, /predict: 3 files predicted \(2 with a caution\), 0 failed/);
  const cautiousCsv = ser('predict', silent, long, '--checkpoint', ckpt, '--format', 'csv', '--quiet').out.trim().split('\n');
  assert.match(cautiousCsv[1], /^[^,]+silent\.wav,.*,silence \(every sample is 0\)$/);
  assert.match(cautiousCsv[2], /,$/, 'an empty caution cell');
  // A checkpoint whose fit keeps the first frames (tile, as the paper recipe's): a 5 s clip is
  // heard in part, and says so; the resize checkpoint above hears it all.
  const tiled = join(dir, 'tiled.safetensors');
  await saveCheckpoint(createModel('small', engine, { seed: 3 }), tiled, { model: 'small', fit: 'tile' });
  const five = join(dir, 'five.wav');
  writeWav16(five, new Float32Array(80000).map(() => rng.uniform(-0.5, 0.5)), 16000);
  const partly = ser('predict', five, '--checkpoint', tiled, '--format', 'jsonl');
  assert.is(partly.code, 0, partly.err);
  assert.match(JSON.parse(partly.out).caution, /^the model hears only the first 3\.73 s of 5\.00 s/);
  assert.not.ok('caution' in JSON.parse(ser('predict', five, '--checkpoint', ckpt, '--format', 'jsonl').out));
  const table = ser('predict', silent, '--checkpoint', ckpt);
  assert.match(table.out, /silent\.wav\n$/, 'the table row as usual');
  assert.match(table.err, /caution: silence/);

  // All good: exit 0. Usage errors: exit 2.
  assert.is(ser('predict', files[2], '--checkpoint', ckpt, '--quiet').code, 0);
  assert.is(ser('predict', files[2], '--checkpoint', ckpt, '--top-k', '5').code, 2);
  // Without --checkpoint: the bundled default model ($SER_DEFAULT_MODEL stands in for
  // models/default.safetensors here), the same numbers as naming it; none there is one line, exit 2.
  const noCkpt = serEnv({ SER_DEFAULT_MODEL: join(dir, 'no-such-default.safetensors') }, 'predict', files[2]);
  assert.is(noCkpt.code, 2);
  assert.match(noCkpt.err, /^ser: SER_DEFAULT_MODEL: .*no-such-default\.safetensors does not exist: pass --checkpoint/m);
  const named = ser('predict', files[2], '--checkpoint', ckpt, '--format', 'jsonl');
  const byDefault = serEnv({ SER_DEFAULT_MODEL: ckpt }, 'predict', files[2], '--format', 'jsonl');
  assert.is(byDefault.code, 0, byDefault.err);
  assert.equal(JSON.parse(byDefault.out), JSON.parse(named.out));
  const bundled = bundledModelPath();
  if (existsSync(bundled)) {
    const plain = serEnv({ SER_DEFAULT_MODEL: '' }, 'predict', files[2], '--format', 'jsonl');
    assert.is(plain.code, 0, `the bundled ${bundled}: ${plain.err}`);
    assert.equal(Object.keys(JSON.parse(plain.out).probabilities).sort(), [...CLASSES].sort());
  } else {
    const none = serEnv({ SER_DEFAULT_MODEL: '' }, 'predict', files[2]);
    assert.is(none.code, 2);
    assert.match(none.err, /^ser: no default model is bundled \(.*default\.safetensors does not exist\): pass --checkpoint/m);
    console.log(`  (${bundled} absent: the bundled-model prediction is not checked)`);
  }
});

test('ser train: a corpus file that cannot be decoded is skipped by name, training goes on, exit 1', () => {
  const c = join(dir, 'corpus');
  mkdirSync(c, { recursive: true });
  const rows = ['path,label,speaker,fold'];
  ['angry', 'happy', 'neutral', 'sad'].forEach((label, k) => {
    for (const fold of [0, 1]) {
      writeWav16(join(c, `${label}${fold}.wav`), new Float32Array(8000).map(() => rng.uniform(-0.5, 0.5)), 16000);
      rows.push(`${label}${fold}.wav,${label},s${fold},${fold}`);
    }
    if (k === 0) {
      // A RIFF/WAVE header (so the corpus loader's quick check passes) over a body that does not decode.
      writeFileSync(join(c, 'bad.wav'), Buffer.concat([Buffer.from('RIFF\x40\x00\x00\x00WAVEfmt \x02\x00\x00\x00', 'latin1'), Buffer.alloc(60, 7)]));
      rows.push('bad.wav,angry,s0,0');
    }
  });
  writeFileSync(join(c, 'c.csv'), rows.join('\n'));
  const out = join(c, 'm.safetensors');
  const r = ser('train', '--corpus', `csv:${join(c, 'c.csv')}`, '--model', 'small', '--iterations', '1', '--batch', '2', '--out', out, '--quiet', '--cache', join(c, 'cache'));
  assert.is(r.code, 1, r.err);
  assert.match(r.err, new RegExp(`skipped ${join(c, 'bad.wav')}: `));
  assert.match(r.err, /corpus: 8 utterances used, 1 files skipped/);
  assert.match(r.out, /held-out fold 0 \(4 utterances\)/);
  assert.ok(statSync(out).size > 1000, 'the checkpoint was written');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
