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
  assert.match(clipCaution(noise(2, CAUTION_SILENCE_DBFS - 6), RATE)!, /near silence: the loudest 25 ms is at -5\d(\.\d)? dBFS/);
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
});

test.run();
