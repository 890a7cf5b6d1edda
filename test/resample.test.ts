import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { randomArray, testRandom } from './helpers/check.js';
import { resample, resampledLength } from '../src/audio/resample.js';

const rng = testRandom('resample');

function tone(rate: number, freq: number, seconds: number, amplitude: number, phase: number): Float32Array {
  return Float32Array.from({ length: Math.round(rate * seconds) }, (_, i) => amplitude * Math.sin((2 * Math.PI * freq * i) / rate + phase));
}

/** Least-squares fit of a*sin + b*cos at `freq` over the middle of x (away from edge effects): amplitude and residual RMS. */
function fitTone(x: Float32Array, rate: number, freq: number): { amplitude: number; residual: number; rms: number } {
  const lo = Math.floor(x.length * 0.2);
  const hi = Math.floor(x.length * 0.8);
  let ss = 0, cc = 0, sc = 0, xs = 0, xc = 0, xx = 0;
  for (let i = lo; i < hi; i++) {
    const s = Math.sin((2 * Math.PI * freq * i) / rate);
    const c = Math.cos((2 * Math.PI * freq * i) / rate);
    ss += s * s; cc += c * c; sc += s * c; xs += x[i] * s; xc += x[i] * c; xx += x[i] * x[i];
  }
  const det = ss * cc - sc * sc;
  const a = (xs * cc - xc * sc) / det;
  const b = (xc * ss - xs * sc) / det;
  let r = 0;
  for (let i = lo; i < hi; i++) {
    const e = x[i] - a * Math.sin((2 * Math.PI * freq * i) / rate) - b * Math.cos((2 * Math.PI * freq * i) / rate);
    r += e * e;
  }
  return { amplitude: Math.hypot(a, b), residual: Math.sqrt(r / (hi - lo)), rms: Math.sqrt(xx / (hi - lo)) };
}

const RATES = [48000, 44100, 32000, 22050, 11025, 8000];

test('a tone well below Nyquist keeps its amplitude and frequency', () => {
  for (const rate of RATES) {
    const freq = 200 + rng.int(2800); // below 3 kHz: in the pass band of every conversion
    const amplitude = 0.2 + 0.7 * rng.next();
    const y = resample(tone(rate, freq, 0.5, amplitude, rng.uniform(0, 6)), rate, 16000);
    const fit = fitTone(y, 16000, freq);
    // The fit is at the exact expected frequency: a wrong frequency leaves a large residual.
    assert.ok(Math.abs(fit.amplitude / amplitude - 1) < 2e-3, `${rate} Hz, ${freq} Hz tone: amplitude ${fit.amplitude} vs ${amplitude}`);
    assert.ok(fit.residual < 1e-3 * amplitude, `${rate} Hz, ${freq} Hz tone: residual ${fit.residual}`);
  }
});

test('a tone above the new Nyquist is attenuated by more than 40 dB (no aliasing)', () => {
  for (const rate of [48000, 44100, 32000, 22050]) {
    for (const freq of [8600, 9500, Math.min(rate / 2 - 500, 15000)]) {
      const y = resample(tone(rate, freq, 0.5, 0.9, 0.3), rate, 16000);
      const { rms } = fitTone(y, 16000, 1000); // only the total level matters here
      const db = 20 * Math.log10(rms / (0.9 / Math.SQRT2));
      assert.ok(db < -40, `${rate} Hz input, ${freq} Hz tone: ${db.toFixed(1)} dB`);
    }
  }
});

test('upsampling 8 kHz creates no image above the old Nyquist', () => {
  const y = resample(tone(8000, 1000, 0.5, 0.8, 0), 8000, 16000);
  // The image of 1 kHz would appear at 7 kHz.
  const image = fitTone(y, 16000, 7000).amplitude;
  assert.ok(20 * Math.log10(image / 0.8) < -60, `image at 7 kHz: ${image}`);
});

test('lengths: ceil(n * 16000 / rate); identity (a copy) at 16 kHz', () => {
  for (const rate of [...RATES, 16000, 96000, 44101]) {
    for (const n of [0, 1, 2, 3, 159, 1000 + rng.int(5000)]) {
      const y = resample(new Float32Array(n), rate, 16000);
      assert.is(y.length, Math.ceil((n * 16000) / rate), `${rate} Hz, ${n} samples`);
      assert.is(resampledLength(n, rate, 16000), y.length);
    }
  }
  const x = randomArray(rng, 777);
  const same = resample(x, 16000, 16000);
  assert.equal(Array.from(same), Array.from(x));
  assert.ok(same !== x, 'a copy, not the input');
  assert.throws(() => resample(x, 0, 16000), /positive whole numbers/);
  assert.throws(() => resample(x, 44100.5, 16000), /positive whole numbers/);
});

test('an awkward rate (44101 Hz, no small ratio) is still band-limited and in tune', () => {
  const y = resample(tone(44101, 1234, 0.2, 0.5, 1), 44101, 16000);
  const fit = fitTone(y, 16000, 1234);
  assert.ok(Math.abs(fit.amplitude / 0.5 - 1) < 2e-3 && fit.residual < 1e-3, `amplitude ${fit.amplitude}, residual ${fit.residual}`);
});

test.run();
