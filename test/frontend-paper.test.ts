// The paper recipe's front end (issue 15) against its float64 reference, the reference
// against closed-form values, and long utterances in segments (issue 16): equal to one
// pass bit for bit, for both recipes and every fit, under a tiny binding limit too.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testEngine } from './helpers/gpu.js';
import { randomArray, testRandom } from './helpers/check.js';
import { FrontEnd, loadUtterance } from '../src/audio/frontend.js';
import { RECIPES } from '../src/audio/recipe.js';
import { framing, frontEndMelBank, frontEndOptions, paddedWindow, referenceLogMel, spectrumScale, type Fit, type FrontEndOptions } from '../src/audio/reference.js';
import { readNpy } from '../src/io/npy.js';
import { featureSettings } from '../src/experiment/features.js';
import { stableStringify } from '../src/data/cache.js';
import type { Engine } from '../src/engine/engine.js';
import { Tensor } from '../src/engine/tensor.js';

const rng = testRandom('frontend-paper');
const DATA = process.env.SER_DATA ?? resolve('../shared/data');
const PAPER = RECIPES.paper.frontEnd;
const DB = RECIPES.db.frontEnd;
const FITS: Fit[] = ['tile', 'crop', 'none', 'resize'];
// ln units: issue 15 asks for 1e-3.
const TOL = 1e-3;

/** Noise, a tone and a quiet stretch: a wide dynamic range, like speech. */
function testSignal(n: number): Float32Array {
  const x = randomArray(rng, n, -0.3, 0.3);
  const f = 100 + rng.int(3000);
  for (let i = 0; i < n; i++) x[i] = (0.5 + 0.5 * Math.sin((2 * Math.PI * i) / 4000)) * x[i] + 0.5 * Math.sin((2 * Math.PI * f * i) / 16000);
  for (let i = Math.floor(n / 3); i < Math.floor(n / 2); i++) x[i] *= 1e-3;
  return x;
}

function maxAbsDiff(got: ArrayLike<number>, want: ArrayLike<number>, what: string): number {
  assert.is(got.length, want.length, `${what}: length`);
  let worst = 0;
  for (let i = 0; i < want.length; i++) {
    if (!Number.isFinite(got[i])) assert.unreachable(`${what}: element ${i} is ${got[i]}`);
    worst = Math.max(worst, Math.abs(got[i] - want[i]));
  }
  return worst;
}

function sameBits(got: Float32Array, want: Float32Array, what: string): void {
  assert.is(got.length, want.length, `${what}: length`);
  const a = new Uint32Array(got.buffer, got.byteOffset, got.length);
  const b = new Uint32Array(want.buffer, want.byteOffset, want.length);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) assert.unreachable(`${what}: element ${i} is ${got[i]}, one pass gives ${want[i]}`);
}

// Frames of 512 every 256 from sample 0: n = floor((N - 512) / 256) + 1, one frame below 512.
const N_FOR = (frames: number) => 512 + (frames - 1) * 256;

test('paper framing: frame counts, tile and crop', () => {
  const o = frontEndOptions({ ...PAPER, fit: 'none' });
  for (const [n, frames] of [[0, 1], [1, 1], [511, 1], [512, 1], [513, 1], [767, 1], [768, 2], [N_FOR(372), 372], [N_FOR(373) - 1, 372], [N_FOR(373), 373], [N_FOR(374) - 1, 373], [N_FOR(374), 374], [96000, 374]]) {
    assert.is(framing(n, o).frames, frames, `${n} samples`);
  }
  const tile = frontEndOptions({ ...PAPER, fit: 'tile' });
  assert.equal([framing(N_FOR(10), tile).frames, framing(N_FOR(10), tile).outFrames], [10, 373]);
  assert.equal([framing(16000 * 60, tile).frames, framing(16000 * 60, tile).outFrames], [373, 373], 'a long clip computes only its first 373 frames');
  const crop = frontEndOptions({ ...PAPER, fit: 'crop' });
  const c = framing(200000, crop);
  assert.equal([c.length, c.frames, c.shift], [N_FOR(373), 373, Math.floor((200000 - N_FOR(373)) / 2)]);
});

test('paper reference: an impulse gives the closed-form ln-Mel; the window is numpy.hamming', () => {
  const o = frontEndOptions({ ...PAPER, fit: 'none' });
  // numpy.hamming(512)[n] = 0.54 - 0.46 cos(2 pi n / 511); sum of squares over the
  // full period n = 0..510 is 511 (0.54^2 + 0.46^2 / 2), plus n = 511: (0.54 - 0.46)^2.
  const ham = (n: number) => 0.54 - 0.46 * Math.cos((2 * Math.PI * n) / 511);
  const w = paddedWindow(o);
  for (const n of [0, 1, 100, 255, 256, 511]) assert.ok(Math.abs(w[n] - ham(n)) < 1e-15, `window ${n}`);
  const sumSq = 511 * (0.54 ** 2 + 0.46 ** 2 / 2) + 0.08 ** 2;
  assert.ok(Math.abs(spectrumScale(o) - 1 / Math.sqrt(sumSq)) < 1e-15, 'scale 1/sqrt(sum w^2)');
  // A unit impulse at sample 300 of 1024 samples: frames start at 0, 256, 512. Frame t
  // sees w[300 - 256 t] * delta, so |X_k| = w[300 - 256 t] at every bin; frame 2 misses it.
  const x = new Float32Array(1024);
  x[300] = 1;
  const got = referenceLogMel(x, o);
  const bank = frontEndMelBank(o);
  assert.is(got.length, 3 * 64);
  for (let t = 0; t < 3; t++) {
    const mag = t < 2 ? ham(300 - 256 * t) / Math.sqrt(sumSq) : 0;
    for (let m = 0; m < 64; m++) {
      let rowSum = 0;
      for (let k = 0; k < 257; k++) rowSum += bank.weights[m * 257 + k];
      const want = Math.log(mag * rowSum + 1e-8);
      assert.ok(Math.abs(got[t * 64 + m] - want) < 1e-9, `frame ${t} band ${m}: ${got[t * 64 + m]} vs ${want}`);
    }
  }
  // The bank starts at 20 Hz: bin 0 (0 Hz) is in no band.
  for (let m = 0; m < 64; m++) assert.is(bank.weights[m * 257], 0, `band ${m} at 0 Hz`);
  assert.ok(Math.abs(bank.edgesHz[0] - 20) < 1e-9 && Math.abs(bank.edgesHz[65] - 8000) < 1e-9, 'edges 20..8000 Hz');
  // Tile: a clip of 3 frames gives rows 0, 1, 2, 0, 1, 2, ...
  const tiled = referenceLogMel(x, { ...o, fit: 'tile' });
  assert.is(tiled.length, 373 * 64);
  for (const r of [0, 4, 372]) assert.equal(Array.from(tiled.subarray(r * 64, r * 64 + 64)), Array.from(got.subarray((r % 3) * 64, (r % 3) * 64 + 64)), `tile row ${r}`);
});

test('paper front end matches the float64 reference on random signals of awkward lengths', async () => {
  const e = await testEngine();
  const lengths = [100 + rng.int(300), 512, 513, 767, 768, N_FOR(2) + rng.int(256), N_FOR(372), N_FOR(373) + rng.int(256), N_FOR(374), 16000 * 7 + rng.int(1000)];
  const signals = lengths.map(testSignal);
  for (const fit of FITS) {
    const fe = new FrontEnd(e, { ...PAPER, fit });
    const got = await fe.logMel(signals);
    fe.dispose();
    let worst = 0;
    signals.forEach((x, i) => {
      const want = referenceLogMel(x, { ...PAPER, fit });
      if (fit !== 'none' && fit !== 'crop') assert.is(got[i].length, 373 * 64, `${fit} ${x.length}: rows`);
      worst = Math.max(worst, maxAbsDiff(got[i], want, `${fit} ${x.length} samples`));
    });
    console.log(`  paper ${fit}: max abs error ${worst.toExponential(2)} ln units (${signals.length} random signals)`);
    assert.ok(worst <= TOL, `${fit}: max abs error ${worst.toExponential(2)} > ${TOL}`);
  }
});

test('paper logMelTensor: [N, 1, 373, 64] with the same values as logMel', async () => {
  const e = await testEngine();
  const fe = new FrontEnd(e, PAPER);
  const signals = [300, N_FOR(50), 100000].map(testSignal);
  const rows = await fe.logMel(signals);
  const flat = await e.scopeAsync(async () => {
    const t = fe.logMelTensor(signals);
    assert.equal(t.shape, [3, 1, 373, 64]);
    return t.readFloat();
  });
  fe.dispose();
  signals.forEach((_, i) => sameBits(flat.slice(i * 373 * 64, (i + 1) * 373 * 64), rows[i], `utterance ${i}`));
});

const REAL = [
  ['16 kHz', 'ravdess4-16k/Actor_01'],
  ['22.05 kHz', 'emodb/wav'],
  ['48 kHz', 'ravdess-48k-samples'],
];

test('paper front end matches the reference on real files at 16, 22.05 and 48 kHz', async () => {
  const e = await testEngine();
  for (const [rate, dir] of REAL) {
    const path = join(DATA, dir);
    if (!existsSync(path)) {
      console.log(`  ${rate} skipped: ${path} not found (set SER_DATA)`);
      continue;
    }
    const files = readdirSync(path).filter((f) => f.endsWith('.wav')).sort().slice(0, 3);
    const signals = await Promise.all(files.map((f) => loadUtterance(join(path, f))));
    for (const fit of ['none', 'tile'] as Fit[]) {
      const fe = new FrontEnd(e, { ...PAPER, fit });
      const got = await fe.logMel(signals);
      fe.dispose();
      let worst = 0;
      signals.forEach((x, i) => (worst = Math.max(worst, maxAbsDiff(got[i], referenceLogMel(x, { ...PAPER, fit }), `${files[i]} ${fit}`))));
      console.log(`  ${rate} (${dir}, ${files.length} files) ${fit}: max abs error ${worst.toExponential(2)} ln units`);
      assert.ok(worst <= TOL, `${rate} ${fit}: max abs error ${worst.toExponential(2)} > ${TOL}`);
    }
  }
});

/** Features of `signals` in one pass and in forced segments of `segmentFrames`; equal bit for bit. */
async function segmentsEqualOnePass(e: Engine, opts: FrontEndOptions, signals: Float32Array[], segmentFrames: number, what: string): Promise<void> {
  const one = new FrontEnd(e, opts);
  const seg = new FrontEnd(e, opts, { segmentFrames });
  assert.is(seg.segmentFrames, segmentFrames, 'the forced segment size is used');
  const a = await one.logMel(signals);
  const b = await seg.logMel(signals);
  one.dispose();
  seg.dispose();
  signals.forEach((x, i) => sameBits(b[i], a[i], `${what}, ${x.length} samples`));
}

for (const [name, recipe] of [['paper', PAPER], ['db', DB]] as const) {
  test(`${name}: segments of frames equal one pass bit for bit, every fit`, async () => {
    const e = await testEngine();
    // Lengths that end mid-segment, on a segment edge, below one frame, and over 373 frames.
    const signals = [300, 5000, 50 * recipe.hop + 7, 100000, 16000 * 9 + rng.int(999)].map(testSignal);
    for (const fit of FITS) {
      for (const segmentFrames of [1, 7, 50 + rng.int(30)]) {
        await segmentsEqualOnePass(e, { ...recipe, fit }, signals, segmentFrames, `${name} ${fit} segments of ${segmentFrames}`);
      }
    }
  });
}

test('a tiny storage-binding limit: every binding stays under it, results equal the normal ones', async () => {
  const e = await testEngine();
  const limit = 1 << 18;
  const signals = [700, 20000, 16000 * 8 + 3].map(testSignal);
  for (const recipe of [PAPER, DB]) {
    for (const fit of ['tile', 'resize', 'none'] as Fit[]) {
      const normal = new FrontEnd(e, { ...recipe, fit });
      const want = await normal.logMel(signals);
      normal.dispose();
      const dispatch = e.dispatch.bind(e);
      let biggest = 0;
      Object.defineProperty(e, 'maxBinding', { value: limit, configurable: true });
      e.dispatch = (pipeline, bindings, groups) => {
        for (const b of bindings) {
          const bytes = b instanceof Tensor ? b.bytes : b && 'tensor' in b ? b.size : 0;
          biggest = Math.max(biggest, bytes);
        }
        dispatch(pipeline, bindings, groups);
      };
      try {
        const small = new FrontEnd(e, { ...recipe, fit });
        const got = await small.logMel(signals);
        small.dispose();
        signals.forEach((x, i) => sameBits(got[i], want[i], `${recipe.compression} ${fit} ${x.length} under a ${limit}-byte limit`));
      } finally {
        delete (e as { maxBinding?: number }).maxBinding;
        e.dispatch = dispatch;
      }
      assert.ok(biggest <= limit, `a binding of ${biggest} bytes under a limit of ${limit}`);
    }
  }
});

test('a 21-minute utterance: features in segments, shape and values against the reference', async () => {
  const e = await testEngine();
  const n = 16000 * 60 * 21 + 12345;
  const x = new Float32Array(n);
  // Broadband (noise) plus a gliding tone: a pure tone alone leaves far bands at the
  // float32 FFT's noise floor, where ln magnifies its relative error past 1e-3.
  let s = 12345;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1103515245) + 12345) >>> 0;
    x[i] = 0.1 * (s / 2 ** 32 - 0.5) + 0.3 * Math.sin(i * (0.05 + (i % 7919) * 1e-6));
  }
  const frames = Math.floor((n - 512) / 256) + 1;
  const fe = new FrontEnd(e, { ...PAPER, fit: 'none' });
  assert.ok(frames > fe.segmentFrames, 'runs in segments');
  const [none] = await fe.logMel([x]);
  fe.dispose();
  assert.is(none.length, frames * 64, 'frames x 64');
  // Frame t sees samples [256 t, 256 t + 512) only, so one frame's reference is that of its 512 samples.
  let worst = 0;
  for (const t of [0, 1, 16383, 16384, 40000, frames - 1]) {
    const want = referenceLogMel(x.subarray(t * 256, t * 256 + 512), { ...PAPER, fit: 'none' });
    worst = Math.max(worst, maxAbsDiff(none.subarray(t * 64, (t + 1) * 64), want, `frame ${t}`));
  }
  const tile = new FrontEnd(e, PAPER);
  const [tiled] = await tile.logMel([x]);
  tile.dispose();
  worst = Math.max(worst, maxAbsDiff(tiled, referenceLogMel(x.subarray(0, N_FOR(373)), PAPER), 'tile: the first 373 frames'));
  console.log(`  ${(n / 16000 / 60).toFixed(1)} min, ${frames} frames: max abs error ${worst.toExponential(2)} ln units`);
  assert.ok(worst <= TOL, `max abs error ${worst.toExponential(2)}`);
});

test('feature cache settings: db hashes as before recipes existed; paper (and its recipe name) changes the key', () => {
  // The settings text of caches made before recipe.ts (FEATURE_VERSION 1): nine fields.
  const legacy = (fit: string) => `{"frontEnd":{"fMax":8000,"fMin":0,"fit":"${fit}","frames":373,"hop":160,"htk":false,"nFft":512,"nMels":64,"winLength":400},"version":1}`;
  for (const fit of ['resize', 'crop', 'none'] as Fit[]) {
    assert.is(stableStringify(featureSettings(frontEndOptions({ fit }))), legacy(fit), `db defaults, fit ${fit}`);
    assert.is(stableStringify(featureSettings(frontEndOptions({ ...DB, fit }))), legacy(fit), `RECIPES.db, fit ${fit}`);
  }
  const paper = featureSettings(frontEndOptions(PAPER));
  assert.is(paper.recipe, 'paper');
  const texts = new Set([legacy('resize'), stableStringify(paper), stableStringify(featureSettings(frontEndOptions({ ...DB, fit: 'tile' })))]);
  // Only one recipe field changed: still a different key, named 'custom'.
  const oneField = featureSettings(frontEndOptions({ ...DB, compression: 'ln' }));
  assert.is(oneField.recipe, 'custom');
  texts.add(stableStringify(oneField));
  assert.is(texts.size, 4, 'all different');
});

function ser(args: string[]) {
  return spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', env: { ...process.env, EGL_PLATFORM: 'surfaceless' } });
}

test('ser features --recipe paper --fit none: the ln-Mel values, frames x 64; tile by default; bad recipe -> one line', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-features-paper-'));
  try {
    const path = join(DATA, 'emodb/wav');
    if (existsSync(path)) {
      const wav = join(path, readdirSync(path).filter((f) => f.endsWith('.wav')).sort()[0]);
      const x = await loadUtterance(wav);
      for (const [args, fit] of [[['--recipe', 'paper', '--fit', 'none'], 'none'], [[], 'tile']] as const) {
        const out = join(dir, `${fit}.npy`);
        const r = ser(['features', wav, '--out', out, ...args]);
        assert.is(r.status, 0, r.stderr);
        const { shape, data } = readNpy(out);
        const want = referenceLogMel(x, { ...PAPER, fit });
        assert.equal(shape, [want.length / 64, 64]);
        const worst = maxAbsDiff(data, want, `cli ${fit}`);
        assert.ok(worst <= TOL, `cli ${fit}: ${worst}`);
      }
    } else console.log(`  real file part skipped: ${path} not found`);
    const r = ser(['features', join(dir, 'x.wav'), '--out', join(dir, 'x.npy'), '--recipe', 'mfcc']);
    assert.is(r.status, 2, r.stderr);
    assert.is(r.stderr.trim().split('\n').length, 1, r.stderr);
    assert.ok(/recipe/.test(r.stderr), r.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
