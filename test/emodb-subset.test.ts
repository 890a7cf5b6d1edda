// The shipped EmoDB subset's maker (`ser data emodb-subset`): which files it keeps, their
// format, the licence and provenance files, and that the committed data/emodb4-16k is exactly
// what it makes from the shared EmoDB copy (when ../shared/data is there).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testRandom, randomArray } from './helpers/check.js';
import { makeEmodbSubset, bundledEmodbDir } from '../src/data/emodb-subset.js';
import { writeWav16 } from '../src/data/synthetic.js';
import { readWav } from '../src/audio/wav.js';
import { resample } from '../src/audio/resample.js';
import { sharedDataDir } from '../src/data/open.js';

const rng = testRandom('emodb-subset');
const dir = mkdtempSync(join(tmpdir(), 'ser-emodb-subset-'));

test('keeps W/F/N/T, writes 16 kHz mono PCM16 of the resampled signal, LICENSE and README; refuses an existing folder', () => {
  const src = join(dir, 'src', 'wav');
  mkdirSync(src, { recursive: true });
  const names = ['03a01Wa.wav', '08b02Fc.wav', '10a05Nb.wav', '16b10Td.wav', '03a02La.wav', '09a01Ea.wav', '11a04Ab.wav'];
  const signal = new Map<string, Float32Array>();
  for (const n of names) {
    const x = randomArray(rng, 22050 * 0.3 + rng.int(500), -0.5, 0.5);
    writeWav16(join(src, n), x, 22050);
    signal.set(n, readWav(join(src, n)).samples);
  }
  const dest = join(dir, 'out');
  const r = makeEmodbSubset(join(dir, 'src'), dest);
  assert.is(r.files, 4);
  assert.equal(r.counts, { W: 1, F: 1, N: 1, T: 1 });
  assert.is(r.sourceRate, 22050);
  assert.equal(readdirSync(join(dest, 'wav')).sort(), names.slice(0, 4).sort());
  for (const n of names.slice(0, 4)) {
    const w = readWav(join(dest, 'wav', n));
    assert.equal([w.channels, w.sampleRate], [1, 16000], n);
    const want = resample(signal.get(n)!, 22050, 16000);
    assert.is(w.samples.length, want.length);
    // Exactly the resampled signal as PCM16 (writeWav16's rounding; the reader divides by 32768).
    const pcm = (v: number) => Math.round(v < 0 ? Math.max(-1, v) * 32768 : Math.min(1, v) * 32767) / 32768;
    assert.ok(w.samples.every((v, i) => v === pcm(want[i])), `${n}: samples are the resampled signal`);
  }
  assert.match(readFileSync(join(dest, 'LICENSE'), 'utf8'), /CC0 1\.0/);
  const note = readFileSync(join(dest, 'README.md'), 'utf8');
  assert.match(note, /22050 Hz/);
  assert.match(note, /2\.000 s/);
  assert.match(note, /ser data emodb-subset/);
  assert.throws(() => makeEmodbSubset(join(dir, 'src'), dest), /already exists/);
  assert.throws(() => makeEmodbSubset(join(dir, 'nowhere'), join(dir, 'out2')), /EmoDB folder not found/);
  assert.not.ok(existsSync(join(dir, 'out2')));
});

const shared = join(sharedDataDir(), 'emodb');
if (existsSync(shared)) {
  test('the committed data/emodb4-16k is what ser data emodb-subset makes from the shared EmoDB', () => {
    const dest = join(dir, 'fresh');
    const r = makeEmodbSubset(shared, dest);
    assert.is(r.files, 339);
    const committed = join(bundledEmodbDir(), 'wav');
    const files = readdirSync(committed).sort();
    assert.equal(readdirSync(join(dest, 'wav')).sort(), files);
    for (const f of files) assert.ok(readFileSync(join(dest, 'wav', f)).equals(readFileSync(join(committed, f))), `${f} differs`);
    for (const f of ['README.md', 'LICENSE']) assert.is(readFileSync(join(dest, f), 'utf8'), readFileSync(join(bundledEmodbDir(), f), 'utf8'), f);
  });
} else {
  console.log(`  skipping the committed-subset check: ${shared} not found (set SER_DATA)`);
  test.skip('the committed data/emodb4-16k is what ser data emodb-subset makes from the shared EmoDB');
}

test.run();
