// The attack kernels against float64 references, the attacks' effect on a real model's
// loss, and additive noise at a given SNR.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { fgsmStep, pgdStep } from '../kernels/fgsm.js';
import { addNoise } from '../src/attacks/noise.js';
import { fgsm, pgd } from '../src/attacks/fgsm.js';
import { createModel } from '../src/models/index.js';
import { softmaxCrossEntropy } from '../src/ops/loss.js';
import { noGrad } from '../src/autograd/tape.js';
import { BatchSampler } from '../src/train/batches.js';
import { Random } from '../src/util/random.js';

const rng = testRandom('attacks');

test('fgsm kernel: clamp(x + eps sign(g), lo, hi), sign(0) = 0', async () => {
  const e = await testEngine();
  const n = 1531;
  const x = randomArray(rng, n, 0, 1);
  const g = randomArray(rng, n, -1, 1).map((v, i) => (i % 17 === 0 ? 0 : v));
  const eps = 0.07;
  const got = await e.scopeAsync(() => fgsmStep(e.fromArray(x, [n]), e.fromArray(g, [n]), eps, { kind: 'range', lo: 0, hi: 0.9 }).read());
  assertClose(got, Array.from(x, (v, i) => Math.min(0.9, Math.max(0, v + eps * Math.sign(g[i])))), 1e-6, 'fgsm');
});

test('pgd step: projected onto the eps ball around x0 and the valid range', async () => {
  const e = await testEngine();
  const n = 999;
  const x0 = randomArray(rng, n, 0, 1);
  const x = x0.map((v) => v + rng.uniform(-0.05, 0.05));
  const g = randomArray(rng, n);
  const [step, eps] = [0.03, 0.04];
  const got = await e.scopeAsync(() => pgdStep(e.fromArray(x, [n]), e.fromArray(g, [n]), e.fromArray(x0, [n]), step, eps, { kind: 'range', lo: 0, hi: 1 }).read());
  const want = Array.from(x, (v, i) => Math.min(1, Math.max(0, Math.min(x0[i] + eps, Math.max(x0[i] - eps, v + step * Math.sign(g[i]))))));
  assertClose(got, want, 1e-6, 'pgd');
});

test('FGSM and PGD raise the loss of a model, stay within eps and the range, and leave weights alone', async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  try {
    const model = createModel('cnn5', e, { seed: 2 }).eval();
    const n = 2;
    const x = randomArray(rng, n * 373 * 64, 0, 1);
    const labels = [1, 3];
    const w0 = await model.parameters()[0].read();
    const { base, afterF, afterP, dist } = await e.scopeAsync(async () => {
      const xt = e.fromArray(x, [n, 1, 373, 64]);
      const y = e.fromArray(labels, [n], 'i32');
      const loss = async (t: typeof xt) => (await noGrad(e, () => softmaxCrossEntropy(model.forward(t), y)).read())[0];
      const xf = fgsm(model, xt, y, 0.05);
      const xp = pgd(model, xt, y, 0.05, { steps: 3 });
      const adv = (await xp.read()) as Float32Array;
      let d = 0;
      for (let i = 0; i < adv.length; i++) {
        d = Math.max(d, Math.abs(adv[i] - x[i]));
        assert.ok(adv[i] >= 0 && adv[i] <= 1, 'inside [0, 1]');
      }
      return { base: await loss(xt), afterF: await loss(xf), afterP: await loss(xp), dist: d };
    });
    assert.ok(afterF > base, `FGSM raises the loss: ${base} -> ${afterF}`);
    assert.ok(afterP > base, `PGD raises the loss: ${base} -> ${afterP}`);
    assert.ok(dist <= 0.05 + 1e-6, `PGD stays in the eps ball (${dist})`);
    const w1 = await model.parameters()[0].read();
    assert.equal(Array.from(w1), Array.from(w0), 'attacks do not touch the weights');
    model.dispose();
  } finally {
    e.poisonNewTensors = true;
  }
});

test('additive noise hits the requested SNR', () => {
  const r = new Random(3);
  const signal = Float32Array.from({ length: 16000 }, (_, i) => Math.sin(i / 7) * 0.3);
  const recording = Float32Array.from({ length: 5000 }, () => r.uniform(-1, 1));
  for (const snr of [20, 10, 0, -5]) {
    for (const noise of [undefined, recording]) {
      const out = addNoise(signal, snr, r, noise);
      let ps = 0;
      let pn = 0;
      for (let i = 0; i < signal.length; i++) {
        ps += signal[i] ** 2;
        pn += (out[i] - signal[i]) ** 2;
      }
      assert.ok(Math.abs(10 * Math.log10(ps / pn) - snr) < 0.01, `SNR ${snr}`);
    }
  }
  assert.throws(() => addNoise(signal, NaN, r), /SNR/);
});

test('batch sampler: every example once per epoch; balanced sampling evens out classes', () => {
  const labels = [0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 3];
  const s = new BatchSampler(labels, 4, new Random(5));
  const seen = [...s.next(), ...s.next(), ...s.next()].slice(0, labels.length).sort((a, b) => a - b);
  assert.equal(seen, [...labels.keys()]);
  const b = new BatchSampler(labels, 4000, new Random(6), true);
  const counts = [0, 0, 0, 0];
  for (const i of b.next()) counts[labels[i]]++;
  for (const c of counts) assert.ok(Math.abs(c - 1000) < 150, `balanced counts ${counts}`);
});

test.run();
