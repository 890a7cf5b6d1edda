import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { randomArray, testRandom } from './helpers/check.js';
import { fft, fftRadices, stftPower, type StftBatch } from '../kernels/fft.js';
import { RealFft, framing, frontEndOptions, paddedWindow, powerSpectrogram } from '../src/audio/reference.js';

const rng = testRandom('fft');

/** Plain float64 DFT of interleaved complex rows; twiddles indexed exactly (jk mod n). */
function dft(x: Float32Array, n: number): Float64Array {
  const rows = x.length / (2 * n);
  const out = new Float64Array(x.length);
  const c = Float64Array.from({ length: n }, (_, k) => Math.cos((2 * Math.PI * k) / n));
  const s = Float64Array.from({ length: n }, (_, k) => -Math.sin((2 * Math.PI * k) / n));
  for (let r = 0; r < rows; r++) {
    const b = r * 2 * n;
    for (let k = 0; k < n; k++) {
      let re = 0;
      let im = 0;
      for (let j = 0; j < n; j++) {
        const t = (j * k) % n;
        const xr = x[b + 2 * j];
        const xi = x[b + 2 * j + 1];
        re += xr * c[t] - xi * s[t];
        im += xr * s[t] + xi * c[t];
      }
      out[b + 2 * k] = re;
      out[b + 2 * k + 1] = im;
    }
  }
  return out;
}

/**
 * Error relative to the row's scale: float32 FFT rounding grows like eps * log2(n) *
 * ||x||, so each element is compared with tol * sqrt(sum |X|^2 / n) of its row.
 */
function assertSpectrumClose(got: ArrayLike<number>, want: Float64Array, n: number, tol: number, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  for (let r = 0; r < want.length / (2 * n); r++) {
    let energy = 0;
    for (let i = 2 * n * r; i < 2 * n * (r + 1); i++) energy += want[i] * want[i];
    const scale = Math.max(1e-30, Math.sqrt(energy / n));
    for (let i = 2 * n * r; i < 2 * n * (r + 1); i++) {
      const err = Math.abs(got[i] - want[i]) / scale;
      if (!Number.isFinite(got[i]) || !(err <= tol)) assert.unreachable(`${what}: row ${r} value ${i - 2 * n * r} is ${got[i]}, want ${want[i]} (error ${err.toExponential(2)} of the row scale)`);
    }
  }
}

test('radix plan covers every size', () => {
  for (let k = 1; k <= 16; k++) assert.is(fftRadices(2 ** k).reduce((a, b) => a * b, 1), 2 ** k, `2^${k}`);
});

for (let k = 1; k <= 12; k++) {
  const n = 2 ** k;
  test(`fft size ${n} matches a float64 DFT`, async () => {
    const e = await testEngine();
    // Awkward batch counts: odd, and not a multiple of anything the kernel tiles by.
    const rows = n >= 1024 ? 1 + rng.int(3) : 3 + 2 * rng.int(20);
    const x = randomArray(rng, rows * n * 2);
    const got = await e.scopeAsync(() => fft(e.fromArray(x, [rows, n, 2])).read());
    // float32: about eps * log2(n) of the row scale, with margin.
    assertSpectrumClose(got, dft(x, n), n, 2e-6 * (k + 1), `n=${n}`);
  });
}

test('fft of an impulse and of a pure tone', async () => {
  const e = await testEngine();
  const n = 64;
  const x = new Float32Array(2 * n * 2);
  x[2 * 5] = 1; // row 0: impulse at 5 -> X_k = exp(-2 pi i 5k/n)
  const f = 7; // row 1: exp(2 pi i 7 j/n) -> n at bin 7, zero elsewhere
  for (let j = 0; j < n; j++) {
    x[2 * n + 2 * j] = Math.cos((2 * Math.PI * f * j) / n);
    x[2 * n + 2 * j + 1] = Math.sin((2 * Math.PI * f * j) / n);
  }
  const got = await e.scopeAsync(() => fft(e.fromArray(x, [2, n, 2])).read());
  for (let k = 0; k < n; k++) {
    assert.ok(Math.abs(got[2 * k] - Math.cos((2 * Math.PI * 5 * k) / n)) < 1e-6, `impulse re ${k}`);
    assert.ok(Math.abs(got[2 * k + 1] + Math.sin((2 * Math.PI * 5 * k) / n)) < 1e-6, `impulse im ${k}`);
    assert.ok(Math.abs(got[2 * n + 2 * k] - (k === f ? n : 0)) < 1e-4, `tone re ${k}`);
    assert.ok(Math.abs(got[2 * n + 2 * k + 1]) < 1e-4, `tone im ${k}`);
  }
});

test('fft rejects sizes that are not powers of two', async () => {
  const e = await testEngine();
  e.scope(() => {
    assert.throws(() => fft(e.empty([2, 12, 2])), /power of two/);
    assert.throws(() => fft(e.empty([2, 8, 3])), /\[\.\.\., n, 2\]/);
  });
});

test('CPU real FFT (reference) matches the float64 DFT', () => {
  for (const n of [4, 16, 512]) {
    const x = randomArray(rng, n);
    const complex = new Float32Array(2 * n);
    for (let j = 0; j < n; j++) complex[2 * j] = x[j];
    const want = dft(complex, n);
    const out = new Float64Array(n / 2 + 1);
    new RealFft(n).power(Float64Array.from(x), out);
    for (let k = 0; k <= n / 2; k++) {
      const p = want[2 * k] ** 2 + want[2 * k + 1] ** 2;
      assert.ok(Math.abs(out[k] - p) <= 1e-9 * Math.max(1, p), `n=${n} bin ${k}: ${out[k]} vs ${p}`);
    }
  }
});

/** A batch of utterances for stftPower, framed like the front end does with fit 'none'. */
function batchOf(e: Awaited<ReturnType<typeof testEngine>>, signals: Float32Array[], nFft: number, hop: number): StftBatch {
  const o = frontEndOptions({ nFft, hop, winLength: nFft - 8, fit: 'none' });
  const table: number[] = [];
  const frameUtt: number[] = [];
  let s = 0;
  let frame = 0;
  for (const x of signals) {
    const f = framing(x.length, o);
    table.push(s, x.length, 0, f.length, frame, f.frames, frame, f.frames);
    for (let t = 0; t < f.frames; t++) frameUtt.push(table.length / 8 - 1);
    s += x.length;
    frame += f.frames;
  }
  const flat = new Float32Array(Math.max(1, s));
  let at = 0;
  for (const x of signals) {
    flat.set(x, at);
    at += x.length;
  }
  return { signal: e.fromArray(flat, [flat.length]), utts: e.fromArray(table, [signals.length, 8], 'i32'), frameUtt: e.fromArray(frameUtt, [frame], 'i32'), nUtts: signals.length, frames: frame };
}

for (const nFft of [16, 64, 512, 2048]) {
  test(`STFT power spectrum (nFft ${nFft}) matches float64 framing + window + DFT`, async () => {
    const e = await testEngine();
    const hop = Math.max(3, nFft / 4 - 1);
    const o = frontEndOptions({ nFft, hop, winLength: nFft - 8, fit: 'none' });
    // Several utterances of awkward lengths, including ones shorter than a frame.
    const signals = [nFft * 3 + 17, 5, nFft / 2 + 1, 2 * nFft - 3].map((n) => randomArray(rng, n));
    const window = Float32Array.from(paddedWindow(o));
    const got = await e.scopeAsync(async () => {
      const batch = batchOf(e, signals, nFft, hop);
      // Two calls over frame ranges, as the front end does when it splits a group.
      const cut = Math.floor(batch.frames / 2);
      const w = e.fromArray(window, [nFft]);
      const a = await stftPower(batch, 0, cut, o, w).read();
      const b = await stftPower(batch, cut, batch.frames - cut, o, w).read();
      return [...a, ...b];
    });
    const want = signals.flatMap((x) => Array.from(powerSpectrogram(x, o)));
    assert.is(got.length, want.length, 'length');
    const bins = nFft / 2 + 1;
    for (let r = 0; r < want.length / bins; r++) {
      let total = 0;
      for (let k = 0; k < bins; k++) total += want[r * bins + k];
      // float32: errors scale with the frame's energy (Parseval), not with the bin's own power.
      const scale = Math.max(1e-20, total / bins);
      for (let k = 0; k < bins; k++) {
        const g = got[r * bins + k];
        const w = want[r * bins + k];
        if (!Number.isFinite(g) || Math.abs(g - w) > 1e-5 * scale * Math.log2(nFft)) assert.unreachable(`frame ${r} bin ${k}: ${g} vs ${w}`);
      }
    }
  });
}

test.run();
