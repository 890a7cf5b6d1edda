// Targeted FGSM/PGD (the browser's attack panel): the step descends the target class's loss,
// x - eps sign(grad), checked against the input gradient read back and applied on the CPU.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { fgsm, pgd } from '../src/attacks/fgsm.js';
import { inputGradient } from '../src/attacks/gradient.js';
import { createModel } from '../src/models/index.js';
import { softmaxCrossEntropy } from '../src/ops/loss.js';
import { noGrad } from '../src/autograd/tape.js';

const rng = testRandom('targeted attack');

test('targeted FGSM = clamp(x - eps sign(grad of the target loss)); one PGD step of size eps agrees; the target loss falls', async () => {
  const e = await testEngine();
  const model = createModel('small', e, { seed: rng.int(1 << 30) });
  model.eval();
  const frames = 37 + rng.int(20);
  const shape = [1, 1, frames, 64];
  const x0 = randomArray(rng, frames * 64, 0.05, 0.95);
  const target = rng.int(4);
  const eps = 0.003;
  await e.scopeAsync(async () => {
    const x = e.fromArray(x0, shape);
    const y = e.fromArray([target], [1], 'i32');
    const g = (await inputGradient(model, x, y).read()) as Float32Array;
    const want = Array.from(x0, (v, i) => Math.min(1, Math.max(0, v - eps * Math.sign(g[i]))));
    const got = (await fgsm(model, x, y, eps, { targeted: true }).read()) as Float32Array;
    assertClose(got, want, 1e-6, 'targeted fgsm');
    const untargeted = (await fgsm(model, x, y, eps).read()) as Float32Array;
    assert.ok(untargeted.some((v, i) => Math.abs(v - got[i]) > eps), 'the targeted step goes the other way');
    const step = (await pgd(model, x, y, eps, { steps: 1, stepSize: eps, targeted: true }).read()) as Float32Array;
    assertClose(step, want, 1e-6, 'one targeted PGD step');
    const loss = async (v: ArrayLike<number>) => ((await noGrad(e, () => softmaxCrossEntropy(model.forward(e.fromArray(Float32Array.from(v), shape)), y)).read()) as Float32Array)[0];
    const [before, after] = [await loss(x0), await loss(got)];
    assert.ok(after < before, `the target's loss falls at a small eps: ${before} -> ${after}`);
  });
  model.dispose();
});

test.run();
