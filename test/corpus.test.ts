import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRandom, rejects } from './helpers/check.js';
import { CLASSES, type Corpus, type Label } from '../src/data/corpus.js';
import { loadIemocap, parseEmoEvaluation, parseIemocapUtterance } from '../src/data/iemocap.js';
import { EMODB_FOLDS, loadEmodb, parseEmodbName } from '../src/data/emodb.js';
import { loadRavdess, parseRavdessName, ravdessFolds } from '../src/data/ravdess.js';
import { loadCsv, normaliseLabel, parseCsv } from '../src/data/csv.js';
import { loadSynthetic, makeSynthetic, writeWav16 } from '../src/data/synthetic.js';
import { detectCorpus, openCorpus, sharedDataDir } from '../src/data/open.js';
import { bundledEmodbDir } from '../src/data/emodb-subset.js';
import { readWav } from '../src/audio/wav.js';
import { classCounts, describeCorpus, foldClassCounts, speakersOf, splitFold } from '../src/data/folds.js';

const rng = testRandom('corpus');
const root = mkdtempSync(join(tmpdir(), 'ser-corpus-test-'));
process.on('exit', () => rmSync(root, { recursive: true, force: true }));
let dirs = 0;
const freshDir = (name: string) => {
  const d = join(root, `${name}-${dirs++}`);
  mkdirSync(d, { recursive: true });
  return d;
};

/** A tiny valid WAV of random noise. */
function tinyWav(path: string): void {
  const s = new Float32Array(64 + rng.int(64));
  for (let i = 0; i < s.length; i++) s[i] = rng.uniform(-0.5, 0.5);
  writeWav16(path, s, 16000);
}


function countsOf(c: Corpus): Record<Label, number> {
  const n = classCounts(c.utterances);
  return Object.fromEntries(CLASSES.map((k, i) => [k, n[i]])) as Record<Label, number>;
}

// ---------------------------------------------------------------- IEMOCAP

const IEMOCAP_MAP: Record<string, Label | undefined> = { ang: 'angry', hap: 'happy', exc: 'happy', neu: 'neutral', sad: 'sad' };

/** Builds an IEMOCAP-layout fixture with random labels; returns what the loader should find. */
function makeIemocap() {
  const dir = freshDir('iemocap');
  const emotions = ['ang', 'hap', 'exc', 'neu', 'sad', 'fru', 'xxx', 'sur'];
  const expected: { utt: string; label: Label; speaker: string; fold: number }[] = [];
  const dropped: Record<string, number> = {};
  const broken: string[] = [];
  const missing: string[] = [];
  for (let s = 1; s <= 5; s++) {
    const ses = `Ses0${s}`;
    mkdirSync(join(dir, `Session${s}`, 'dialog', 'EmoEvaluation', 'Categorical'), { recursive: true });
    // A per-evaluator file in a subfolder that must be ignored.
    writeFileSync(join(dir, `Session${s}`, 'dialog', 'EmoEvaluation', 'Categorical', 'x.txt'), `[1.0 - 2.0]\t${ses}F_impro01_F000\tang\t[1, 1, 1]\n`);
    for (const dialog of [`${ses}F_impro01`, `${ses}M_script02_1`]) {
      const lines = ['% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]', ''];
      // Every label at least once per session (so no fold lacks a class), then random ones.
      const labels = [...emotions, ...Array.from({ length: 6 }, () => emotions[rng.int(emotions.length)])];
      labels.forEach((emo, i) => {
        const gender = rng.next() < 0.5 ? 'F' : 'M';
        const utt = `${dialog}_${gender}${String(i).padStart(3, '0')}`;
        const wav = join(dir, `Session${s}`, 'sentences', 'wav', dialog, `${utt}.wav`);
        lines.push(`[${(i * 3.1).toFixed(4)} - ${(i * 3.1 + 2).toFixed(4)}]\t${utt}\t${emo}\t[2.5000, 3.0000, 2.5000]`);
        lines.push(`C-E1:\tNeutral;\t()`); // evaluator lines: ignored
        lines.push('');
        const label = IEMOCAP_MAP[emo];
        if (!label) {
          dropped[emo] = (dropped[emo] ?? 0) + 1;
          tinyWav(wav);
          return;
        }
        const fate = i >= emotions.length ? rng.int(10) : 5; // some random extra lines are broken or missing
        if (fate === 0) {
          mkdirSync(join(wav, '..'), { recursive: true });
          writeFileSync(wav, 'this is not a wav file at all');
          broken.push(wav);
        } else if (fate === 1) {
          missing.push(wav);
        } else {
          tinyWav(wav);
          expected.push({ utt, label, speaker: `${ses}${gender}`, fold: s - 1 });
        }
      });
      writeFileSync(join(dir, `Session${s}`, 'dialog', 'EmoEvaluation', `${dialog}.txt`), lines.join('\n'));
    }
  }
  return { dir, expected, dropped, broken, missing };
}

test('IEMOCAP: EmoEvaluation lines and utterance names parse', () => {
  const lines = parseEmoEvaluation('% header\n[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]\nC-E2:\tNeutral;\t()\n[10.0100 - 11.3925]\tSes01F_impro01_M001\texc\t[3, 3, 2]\r\n');
  assert.equal(lines, [
    { start: 6.2901, end: 8.2357, utterance: 'Ses01F_impro01_F000', emotion: 'neu' },
    { start: 10.01, end: 11.3925, utterance: 'Ses01F_impro01_M001', emotion: 'exc' },
  ]);
  assert.equal(parseIemocapUtterance('Ses01F_impro01_M000'), { session: 1, speaker: 'Ses01M', dialog: 'Ses01F_impro01' });
  assert.equal(parseIemocapUtterance('Ses05M_script01_1b_F012'), { session: 5, speaker: 'Ses05F', dialog: 'Ses05M_script01_1b' });
  assert.is(parseIemocapUtterance('not_an_utterance'), null);
});

test('IEMOCAP: loader maps labels, speakers, sessions; skips broken and missing files', async () => {
  const fx = makeIemocap();
  const c = await loadIemocap(fx.dir);
  assert.is(c.name, 'iemocap');
  assert.is(c.folds, 5);
  const got = c.utterances.map((u) => ({ utt: u.path.split('/').pop()!.slice(0, -4), label: u.label, speaker: u.speaker, fold: u.fold }));
  const byName = (a: { utt: string }, b: { utt: string }) => (a.utt < b.utt ? -1 : a.utt > b.utt ? 1 : 0);
  assert.equal(got.sort(byName), [...fx.expected].sort(byName));
  assert.equal(c.dropped, fx.dropped);
  const skippedPaths = c.skipped.map((s) => s.path).sort();
  assert.equal(skippedPaths, [...fx.broken, ...fx.missing].sort());
  for (const s of c.skipped) {
    if (fx.missing.includes(s.path)) assert.match(s.reason, 'missing');
    else assert.match(s.reason, 'RIFF');
  }
  assert.is(detectCorpus(fx.dir), 'iemocap');
  assert.is((await openCorpus(fx.dir)).utterances.length, fx.expected.length);
  assert.is((await openCorpus(`iemocap:${fx.dir}`)).utterances.length, fx.expected.length);
});

test('IEMOCAP: a missing session folder is an error naming it', async () => {
  const fx = makeIemocap();
  rmSync(join(fx.dir, 'Session4'), { recursive: true });
  try {
    await loadIemocap(fx.dir);
    assert.unreachable('should have thrown');
  } catch (e) {
    assert.match((e as Error).message, join(fx.dir, 'Session4'));
  }
});

// ---------------------------------------------------------------- EmoDB

test('EmoDB: file names parse', () => {
  assert.equal(parseEmodbName('03a01Fa.wav'), { speaker: '03', text: 'a01', emotion: 'F', version: 'a' });
  assert.equal(parseEmodbName('16b10Td.wav'), { speaker: '16', text: 'b10', emotion: 'T', version: 'd' });
  assert.is(parseEmodbName('03a01Fa.WAV'), null);
  assert.is(parseEmodbName('3a01Fa.wav'), null);
  assert.is(parseEmodbName('readme.wav'), null);
});

function makeEmodb(nested: boolean) {
  const dir = freshDir('emodb');
  const wavDir = nested ? join(dir, 'wav') : dir;
  mkdirSync(wavDir, { recursive: true });
  const letters: Record<string, Label | null> = { W: 'angry', F: 'happy', N: 'neutral', T: 'sad', L: null, E: null, A: null };
  const want: Record<Label, number> = { angry: 0, happy: 0, neutral: 0, sad: 0 };
  const speakerOf = new Map<string, string>();
  let dropped = 0;
  for (const spk of EMODB_FOLDS.flat()) {
    for (const [letter, label] of Object.entries(letters)) {
      const n = 1 + rng.int(3);
      for (let v = 0; v < n; v++) {
        const file = `${spk}a0${v}${letter}${'abc'[v]}.wav`;
        tinyWav(join(wavDir, file));
        if (label) {
          want[label]++;
          speakerOf.set(file, spk);
        } else dropped++;
      }
    }
  }
  return { dir, wavDir, want, speakerOf, dropped };
}

for (const nested of [true, false]) {
  test(`EmoDB: loader (${nested ? 'root/wav' : 'wavs in root'}) counts, speakers and fixed folds`, async () => {
    const fx = makeEmodb(nested);
    const c = await loadEmodb(fx.dir);
    assert.equal(countsOf(c), fx.want);
    assert.is(Object.values(c.dropped!).reduce((a, b) => a + b, 0), fx.dropped);
    for (const u of c.utterances) {
      const file = u.path.split('/').pop()!;
      assert.is(u.speaker, fx.speakerOf.get(file));
      assert.ok(EMODB_FOLDS[u.fold].includes(u.speaker), `${u.speaker} in fold ${u.fold}`);
    }
    assert.is(detectCorpus(fx.dir), 'emodb');
    assert.is((await openCorpus(fx.dir)).name, 'emodb');
  });
}

// ---------------------------------------------------------------- RAVDESS

test('RAVDESS: file names parse', () => {
  assert.equal(parseRavdessName('03-01-05-02-01-02-12.wav'), {
    modality: '03', channel: '01', emotion: '05', intensity: '02', statement: '01', repetition: '02', actor: 12,
  });
  assert.is(parseRavdessName('03-01-05-02-01-02.wav'), null);
  assert.is(parseRavdessName('Actor_01.wav'), null);
});

test('RAVDESS: fold rule is actor-independent and gender-balanced', () => {
  const all = Array.from({ length: 24 }, (_, i) => i + 1);
  const f = ravdessFolds(all, 5);
  const members = (k: number) => all.filter((a) => f.get(a) === k);
  assert.equal(members(0), [1, 2, 11, 12, 21, 22]);
  assert.equal(members(2), [5, 6, 15, 16]);
  for (let k = 0; k < 5; k++) {
    const m = members(k);
    assert.is(m.filter((a) => a % 2 === 1).length, m.filter((a) => a % 2 === 0).length, `fold ${k} gender balance`);
  }
  // A random subset of actors: every actor in exactly one fold, per-fold gender difference at most the leftover.
  const subset = all.filter(() => rng.next() < 0.6);
  const g = ravdessFolds(subset, 3);
  assert.is(g.size, subset.length);
  const males = subset.filter((a) => a % 2 === 1).length;
  const females = subset.length - males;
  for (let k = 0; k < 3; k++) {
    const m = subset.filter((a) => g.get(a) === k);
    const d = Math.abs(m.filter((a) => a % 2 === 1).length - m.filter((a) => a % 2 === 0).length);
    assert.ok(d <= Math.ceil(Math.abs(males - females) / 3) + 1, `fold ${k} imbalance ${d}`);
  }
});

test('RAVDESS: loader keeps the 4 classes of speech, one speaker per actor', async () => {
  const dir = freshDir('ravdess');
  const want: Record<Label, number> = { angry: 0, happy: 0, neutral: 0, sad: 0 };
  const codes: Record<string, Label | null> = { '01': 'neutral', '02': null, '03': 'happy', '04': 'sad', '05': 'angry', '06': null, '07': null, '08': null };
  for (let a = 1; a <= 10; a++) {
    const actor = String(a).padStart(2, '0');
    mkdirSync(join(dir, `Actor_${actor}`));
    for (const [code, label] of Object.entries(codes)) {
      for (let r = 1; r <= 1 + rng.int(2); r++) {
        tinyWav(join(dir, `Actor_${actor}`, `03-01-${code}-01-01-0${r}-${actor}.wav`));
        if (label) want[label]++;
      }
    }
    tinyWav(join(dir, `Actor_${actor}`, `03-02-05-01-01-01-${actor}.wav`)); // song: dropped
  }
  writeFileSync(join(dir, 'Actor_03', '03-01-05-01-01-09-03.wav'), Buffer.alloc(10)); // broken
  const c = await loadRavdess(dir, { folds: 5 });
  assert.equal(countsOf(c), want);
  assert.is(c.dropped!.song, 10);
  assert.is(c.skipped.length, 1);
  assert.match(c.skipped[0].path, '03-01-05-01-01-09-03.wav');
  assert.equal(speakersOf(c.utterances), Array.from({ length: 10 }, (_, i) => `Actor_${String(i + 1).padStart(2, '0')}`));
  for (const u of c.utterances) assert.is(u.fold, ravdessFolds(Array.from({ length: 10 }, (_, i) => i + 1), 5).get(Number(u.speaker.slice(6))));
  assert.is(detectCorpus(dir), 'ravdess');
});

// ---------------------------------------------------------------- CSV

test('CSV: parser handles quotes, embedded commas and CRLF', () => {
  assert.equal(parseCsv('a,b\r\n"x,1","say ""hi"""\n\n3,\n'), [['a', 'b'], ['x,1', 'say "hi"'], ['3', '']]);
  assert.throws(() => parseCsv('a,"b\n'), /quoted/);
});

test('CSV: label aliases', () => {
  const want: [string, Label | null][] = [
    ['angry', 'angry'], ['ANG', 'angry'], ['anger', 'angry'],
    ['happy', 'happy'], ['hap', 'happy'], ['exc', 'happy'], ['Happiness', 'happy'],
    ['neutral', 'neutral'], ['neu', 'neutral'], ['sad', 'sad'], [' sadness ', 'sad'],
    ['fear', null], ['', null],
  ];
  for (const [s, l] of want) assert.is(normaliseLabel(s), l, s);
});

/** Writes a CSV corpus: `speakers` speakers, every class per speaker, labels spelled by random aliases. */
function makeCsv(speakers: number, opts: { foldColumn?: 'zero' | 'one'; omit?: Label; brokenEvery?: number } = {}) {
  const dir = freshDir('csv');
  const aliases: Record<Label, string[]> = { angry: ['angry', 'ang', 'anger'], happy: ['happy', 'hap', 'exc', 'happiness'], neutral: ['neutral', 'neu'], sad: ['sad', 'sadness'] };
  const rows = [opts.foldColumn ? 'speaker,path,label,fold' : 'path,label,speaker']; // column order is free
  const want: Record<Label, number> = { angry: 0, happy: 0, neutral: 0, sad: 0 };
  const broken: string[] = [];
  let n = 0;
  for (let s = 0; s < speakers; s++) {
    const spk = `spk${s}`;
    for (const label of CLASSES) {
      if (label === opts.omit) continue;
      const alias = aliases[label][rng.int(aliases[label].length)];
      const rel = `audio/${spk}/u${n}, take.wav`; // a comma in the name: quoted
      if (opts.brokenEvery && n % opts.brokenEvery === 0) {
        mkdirSync(join(dir, 'audio', spk), { recursive: true });
        writeFileSync(join(dir, rel), 'RIFF');
        broken.push(join(dir, rel));
      } else {
        tinyWav(join(dir, rel));
        want[label]++;
      }
      n++;
      const fold = opts.foldColumn === 'one' ? (s % 3) + 1 : s % 3;
      rows.push(opts.foldColumn ? `${spk},"${rel}",${alias},${fold}` : `"${rel}",${alias},${spk}`);
    }
    rows.push(`audio/${spk}/other.wav,fear,${spk}${opts.foldColumn ? ',0' : ''}`); // dropped label
  }
  const csv = join(dir, 'list.csv');
  writeFileSync(csv, rows.join('\n') + '\n');
  return { dir, csv, want, broken };
}

test('CSV: aliases, relative paths, folds dealt by speaker', async () => {
  const fx = makeCsv(7);
  const c = await loadCsv(fx.csv, { folds: 3 });
  assert.is(c.name, 'list');
  assert.equal(countsOf(c), fx.want);
  assert.is(c.dropped!.fear, 7);
  // Round-robin over naturally sorted speakers: spk0 -> 0, spk1 -> 1, spk2 -> 2, spk3 -> 0 ...
  for (const u of c.utterances) {
    assert.is(u.fold, Number(u.speaker.slice(3)) % 3);
    assert.ok(existsSync(u.path), u.path);
  }
  assert.is(detectCorpus(fx.csv), 'csv');
  assert.is((await openCorpus(`csv:${fx.csv}`, { folds: 3 })).utterances.length, c.utterances.length);
});

for (const base of ['zero', 'one'] as const) {
  test(`CSV: fold column numbered from ${base}`, async () => {
    const fx = makeCsv(6, { foldColumn: base });
    const c = await loadCsv(fx.csv);
    assert.is(c.folds, 3);
    for (const u of c.utterances) assert.is(u.fold, Number(u.speaker.slice(3)) % 3);
  });
}

test('CSV: broken files are skipped by name with a reason, and counted', async () => {
  const fx = makeCsv(6, { brokenEvery: 5 });
  const c = await loadCsv(fx.csv, { folds: 3 });
  assert.equal(countsOf(c), fx.want);
  assert.equal(c.skipped.map((s) => s.path).sort(), [...fx.broken].sort());
  assert.ok(fx.broken.length >= 2);
  for (const s of c.skipped) assert.match(s.reason, /header|short/);
  assert.match(describeCorpus(c), `skipped ${fx.broken.length} file(s)`);
  // A deeper check supplied by the caller also skips files.
  const victim = c.utterances[rng.int(c.utterances.length)].path;
  const d = await loadCsv(fx.csv, { folds: 3, check: (p) => (p === victim ? 'decoder says no' : null) });
  assert.is(d.utterances.length, c.utterances.length - 1);
  assert.ok(d.skipped.some((s) => s.path === victim && s.reason === 'decoder says no'));
});

test('CSV: a class with no utterances is an error naming the class', async () => {
  const fx = makeCsv(6, { omit: 'sad' });
  await rejects(() => loadCsv(fx.csv, { folds: 3 }), /class 'sad' has no utterances/);
});

test('CSV: an empty fold is an error naming the fold', async () => {
  const fx = makeCsv(3);
  await rejects(() => loadCsv(fx.csv, { folds: 5 }), /fold 3, 4 is empty/);
});

test('CSV: a speaker in two folds is an error', async () => {
  const dir = freshDir('csv-leak');
  for (const f of ['a', 'b', 'c', 'd', 'e']) tinyWav(join(dir, `${f}.wav`));
  writeFileSync(join(dir, 'x.csv'), 'path,label,speaker,fold\na.wav,ang,s1,0\nb.wav,hap,s1,1\nc.wav,neu,s2,1\nd.wav,sad,s2,1\n');
  await rejects(() => loadCsv(join(dir, 'x.csv')), /speaker 's1' is in folds 0 and 1/);
});

test('missing paths are errors naming the path', async () => {
  const gone = join(root, 'does-not-exist');
  for (const spec of [`emodb:${gone}`, `ravdess:${gone}`, `iemocap:${gone}`, `csv:${gone}.csv`, gone]) {
    try {
      await openCorpus(spec);
      assert.unreachable(`${spec} should fail`);
    } catch (e) {
      assert.match((e as Error).message, gone, spec);
    }
  }
  const plain = freshDir('plain');
  await rejects(() => openCorpus(plain), /cannot tell which corpus/);
});

// ---------------------------------------------------------------- synthetic

const SMALL = { speakers: 4, perClass: 2, folds: 2, duration: [0.3, 0.5] as [number, number] };

function filesOf(dir: string): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  const walk = (d: string) => {
    for (const f of readdirSync(d)) {
      const p = join(d, f);
      if (statSync(p).isDirectory()) walk(p);
      else out.set(p.slice(dir.length), readFileSync(p));
    }
  };
  walk(dir);
  return out;
}

test('synthetic: seeded generation is repeatable byte for byte; another seed differs', async () => {
  const seed = 1 + rng.int(1000);
  const a = freshDir('syn');
  const b = freshDir('syn');
  const c = freshDir('syn');
  makeSynthetic(a, { ...SMALL, seed });
  makeSynthetic(b, { ...SMALL, seed });
  makeSynthetic(c, { ...SMALL, seed: seed + 1 });
  const fa = filesOf(a);
  const fb = filesOf(b);
  const fc = filesOf(c);
  assert.is(fa.size, 4 * 4 * 2 + 2); // wavs + csv + manifest
  assert.equal([...fa.keys()].sort(), [...fb.keys()].sort());
  for (const [k, v] of fa) assert.ok(v.equals(fb.get(k)!), `${k} differs between two runs with seed ${seed}`);
  let differing = 0;
  for (const [k, v] of fa) if (k.endsWith('.wav') && !v.equals(fc.get(k)!)) differing++;
  assert.is(differing, 32);
});

test('synthetic: loads as a labelled 4-class corpus, reused when already generated', async () => {
  const dir = freshDir('syn');
  const c = await loadSynthetic(dir, SMALL);
  assert.is(c.name, 'synthetic');
  assert.is(c.folds, 2);
  assert.equal(foldClassCounts(c), [[4, 4, 4, 4], [4, 4, 4, 4]]);
  assert.is(c.skipped.length, 0);
  assert.match(readFileSync(join(dir, 'synthetic.json'), 'utf8'), 'SYNTHETIC');
  // WAV header: 16 kHz mono PCM16 of the requested length.
  const w = readFileSync(c.utterances[0].path);
  assert.is(w.readUInt32LE(24), 16000);
  assert.is(w.readUInt16LE(22), 1);
  assert.is(w.readUInt16LE(34), 16);
  const seconds = w.readUInt32LE(40) / 2 / 16000;
  assert.ok(seconds >= 0.3 && seconds <= 0.5, `duration ${seconds}`);
  const before = statSync(c.utterances[0].path).mtimeMs;
  const again = await openCorpus(`synthetic:${dir}`, { synthetic: SMALL });
  assert.is(again.utterances.length, c.utterances.length);
  assert.is(statSync(c.utterances[0].path).mtimeMs, before, 'not regenerated');
});

test('writeWav16: header, clipping, rounding, no temp file left behind', () => {
  const dir = freshDir('wav');
  const p = join(dir, 'x.wav');
  writeWav16(p, Float32Array.from([0, 0.5, -0.5, 2, -2, 1, -1]), 8000);
  const b = readFileSync(p);
  assert.is(b.toString('latin1', 0, 4), 'RIFF');
  assert.is(b.toString('latin1', 8, 16), 'WAVEfmt ');
  assert.is(b.readUInt32LE(4), b.length - 8);
  assert.is(b.readUInt32LE(24), 8000);
  const samples = Array.from({ length: 7 }, (_, i) => b.readInt16LE(44 + 2 * i));
  assert.equal(samples, [0, Math.round(0.5 * 32767), Math.round(-0.5 * 32768), 32767, -32768, 32767, -32768]);
  assert.equal(readdirSync(dir), ['x.wav']);
});

// ---------------------------------------------------------------- folds

test('splitFold: speaker-independent train/val/test', async () => {
  const fx = makeCsv(9);
  const c = await loadCsv(fx.csv, { folds: 3 });
  for (let f = 0; f < 3; f++) {
    const s = splitFold(c, f, { valFraction: 0.2, seed: rng.int(1000) });
    assert.is(s.train.length + s.val.length + s.test.length, c.utterances.length);
    assert.ok(s.test.every((u) => u.fold === f));
    assert.ok(s.val.length >= 0.2 * (s.train.length + s.val.length), 'val fraction');
    const sets = [s.train, s.val, s.test].map((p) => new Set(p.map((u) => u.speaker)));
    for (let i = 0; i < 3; i++) for (let j = i + 1; j < 3; j++) for (const spk of sets[i]) assert.not.ok(sets[j].has(spk), `${spk} in two parts`);
    assert.ok(sets[0].size >= 1);
  }
  const plain = splitFold(c, 1);
  assert.is(plain.val.length, 0);
  assert.throws(() => splitFold(c, 3), /out of range/);
});

// ---------------------------------------------------------------- real corpora (when present)

const shared = sharedDataDir();
// The shared EmoDB when present, else the 4-class subset that ships in data/emodb4-16k.
const emodbDir = existsSync(join(shared, 'emodb')) ? join(shared, 'emodb') : bundledEmodbDir();
const ravdessDir = join(shared, 'ravdess4-16k');

if (existsSync(emodbDir)) {
  test('real EmoDB: 127/71/79/62 = 339, 10 speakers, 5 folds of 2', async () => {
    const c = await openCorpus(emodbDir);
    assert.is(c.name, 'emodb');
    assert.equal(countsOf(c), { angry: 127, happy: 71, neutral: 79, sad: 62 });
    assert.is(c.utterances.length, 339);
    assert.is(c.skipped.length, 0);
    assert.is(speakersOf(c.utterances).length, 10);
    for (let f = 0; f < 5; f++) assert.equal(speakersOf(c.utterances.filter((u) => u.fold === f)), [...EMODB_FOLDS[f]]);
  });
} else {
  console.log(`  skipping real EmoDB checks: ${emodbDir} not found (set SER_DATA)`);
  test.skip('real EmoDB counts');
}

test('the shipped EmoDB subset: 339 files of 2.000 s at 16 kHz, and bare "emodb" opens it', async () => {
  const dir = bundledEmodbDir();
  const c = await openCorpus('emodb');
  assert.is(c.name, 'emodb');
  assert.ok(c.utterances.every((u) => u.path.startsWith(dir)), 'paths in data/emodb4-16k');
  assert.equal(countsOf(c), { angry: 127, happy: 71, neutral: 79, sad: 62 });
  assert.is(speakersOf(c.utterances).length, 10);
  for (const u of c.utterances.filter((_, i) => i % 37 === 0)) {
    const w = readWav(u.path);
    assert.equal([w.channels, w.sampleRate, w.samples.length], [1, 16000, 32000], u.path);
  }
  for (const f of ['LICENSE', 'README.md']) assert.ok(existsSync(join(dir, f)), f);
  assert.match(readFileSync(join(dir, 'LICENSE'), 'utf8'), /CC0/);
});

if (existsSync(ravdessDir)) {
  test('real RAVDESS: 672 files, 24 actors, 96/192/192/192', async () => {
    const c = await openCorpus(ravdessDir);
    assert.is(c.name, 'ravdess');
    assert.is(c.utterances.length, 672);
    assert.equal(countsOf(c), { angry: 192, happy: 192, neutral: 96, sad: 192 });
    assert.is(speakersOf(c.utterances).length, 24);
    assert.is(c.folds, 5);
  });
} else {
  console.log(`  skipping real RAVDESS checks: ${ravdessDir} not found (set SER_DATA)`);
  test.skip('real RAVDESS counts');
}

test.run();
