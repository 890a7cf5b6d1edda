// A prediction on a clip that holds (almost) nothing to recognise gets a caution: near silence
// or too little audio. The model still answers (a label is always a softmax's argmax), so the
// caution is what tells a user not to trust it.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { clipCaution, CAUTION_MIN_SECONDS, CAUTION_SILENCE_DBFS } from '../src/audio/caution.js';
import { testRandom } from './helpers/check.js';

const rng = testRandom('caution');
const RATE = 16000;
/** Uniform noise whose RMS is `dbfs` (uniform on [-a, a] has RMS a / sqrt(3)). */
const noise = (seconds: number, dbfs: number) => {
  const a = Math.sqrt(3) * 10 ** (dbfs / 20);
  return new Float32Array(Math.round(seconds * RATE)).map(() => rng.uniform(-a, a));
};

test('clipCaution: silence, near silence, too short and empty clips are named; ordinary clips get none', () => {
  assert.match(clipCaution(new Float32Array(2 * RATE), RATE)!, /silence/);
  assert.match(clipCaution(noise(2, CAUTION_SILENCE_DBFS - 6), RATE)!, /near silence: the loudest 25 ms is at -6\d(\.\d)? dBFS/);
  // Quiet but real speech levels (RAVDESS's quietest sad clips peak at -50 to -55 dBFS per 25 ms) pass.
  assert.is(clipCaution(noise(2, -55), RATE), null);
  assert.is(clipCaution(noise(2, CAUTION_SILENCE_DBFS + 6), RATE), null, 'quiet speech-level audio is fine');
  assert.is(clipCaution(noise(2, -20), RATE), null);
  // One loud burst in a quiet recording: the loudest frame decides, not the mean.
  const burst = noise(3, -80);
  burst.set(noise(0.4, -15), RATE);
  assert.is(clipCaution(burst, RATE), null);
  const short = clipCaution(noise(0.3, -20), RATE)!;
  assert.match(short, /only 0\.30 s of audio/);
  assert.ok(CAUTION_MIN_SECONDS > 0.3);
  assert.is(clipCaution(noise(CAUTION_MIN_SECONDS + 0.01, -20), RATE), null);
  assert.match(clipCaution(new Float32Array(0), RATE)!, /no audio/);
  // Both at once: both are said.
  const both = clipCaution(new Float32Array(RATE / 10), RATE)!;
  assert.match(both, /only 0\.10 s/);
  assert.match(both, /silence/);
  // Any rate: the frames are 25 ms of the clip's own rate.
  assert.is(clipCaution(noise(3, -20).subarray(0, 44100), 44100), null);
  assert.throws(() => clipCaution(noise(1, -20), 0), /rate/);
  // Very few samples are counted, not rounded to 0.00 s.
  assert.match(clipCaution(noise(1, -20).subarray(0, 10), RATE)!, /only 10 samples of audio/);
});

test('clipCaution with the front end: a clip longer than the window a tile or crop fit keeps, or squeezed by resize, is named; none hears it all', () => {
  const paper = { fit: 'tile', frames: 373, hop: 256 } as const; // 373 * 256 / 16000 = 5.968 s
  const long = noise(46, -20);
  assert.match(clipCaution(long, RATE, paper)!, /^the model hears only the first 5\.97 s of 46\.00 s/);
  assert.match(clipCaution(long, RATE, { ...paper, fit: 'crop' })!, /^the model hears only the middle 5\.97 s of 46\.00 s/);
  assert.match(clipCaution(long, RATE, { ...paper, fit: 'resize' })!, /^the model hears 46\.00 s squeezed/);
  assert.is(clipCaution(long, RATE, { ...paper, fit: 'none' }), null);
  assert.is(clipCaution(noise(5.9, -20), RATE, paper), null, 'a clip inside the window');
  // At another rate the clip's own duration counts (the hop is in 16 kHz samples).
  assert.match(clipCaution(noise(46, -20).subarray(0, 44100 * 10), 44100, paper)!, /first 5\.97 s of 10\.00 s/);
  // With silence too, both are said.
  assert.match(clipCaution(new Float32Array(46 * RATE), RATE, paper)!, /first 5\.97 s of 46\.00 s.*; silence/);
  // The level is measured where the model listens: speech after 10 s of silence is not heard.
  const late = new Float32Array(12 * RATE);
  late.set(noise(2, -20), 10 * RATE);
  assert.match(clipCaution(late, RATE, paper)!, /first 5\.97 s of 12\.00 s.*; silence in the part the model hears/);
  assert.is(clipCaution(late, RATE), null, 'without a front end the whole clip counts');
  const middle = new Float32Array(30 * RATE);
  middle.set(noise(2, -20), 14 * RATE);
  assert.match(clipCaution(middle, RATE, { ...paper, fit: 'crop' })!, /^the model hears only the middle 5\.97 s of 30\.00 s[^;]*$/, 'crop hears the middle');
  assert.match(clipCaution(middle, RATE, paper)!, /; silence in the part the model hears/, 'tile does not');
  // resize squeezes a long clip into the window: named from 3x on (the db recipe's window is 3.73 s).
  const db = { fit: 'resize', frames: 373, hop: 160 } as const;
  assert.match(clipCaution(noise(60, -20), RATE, db)!, /^the model hears 60\.00 s squeezed into its 373-frame window \(16\.1x faster than speech\)/);
  assert.is(clipCaution(noise(9, -20), RATE, db), null, 'EmoDB-length utterances squeeze less than 3x');
  // A clip shorter than one 25 ms frame: its level, not "the loudest 25 ms".
  const tiny = clipCaution(noise(0.01, CAUTION_SILENCE_DBFS - 10), RATE)!;
  const level = Number(/near silence: its level is (-[\d.]+) dBFS/.exec(tiny)?.[1]);
  assert.ok(Math.abs(level - (CAUTION_SILENCE_DBFS - 10)) < 3, tiny); // 160 random samples: their RMS is near the one asked for
});

test.run();
