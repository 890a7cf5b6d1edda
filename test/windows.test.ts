// Binding windows are planned in one place (src/engine/windows.ts): its one test hook makes
// every family's launcher split its work, and the split results equal the whole ones.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { randomArray, testRandom } from './helpers/check.js';
import { windowOverride, elementRanges } from '../src/engine/windows.js';
import { unary } from '../kernels/elementwise.js';
import { dropoutKernel } from '../kernels/dropout.js';
import { maxPool2dForward } from '../kernels/pool.js';
import { conv2dForward } from '../kernels/conv2d.js';
import { adamUpdate } from '../kernels/optimizer.js';
import type { Engine } from '../src/engine/engine.js';

const rng = testRandom('windows');

async function runAll(e: Engine, x: Float32Array, w: Float32Array): Promise<{ values: number[][]; dispatches: number }> {
  const before = e.stats.dispatches;
  const values = await e.scopeAsync(async () => {
    const xt = e.fromArray(x, [6, 4, 16, 16]);
    const wt = e.fromArray(w, [3, 4, 3, 3]);
    const p = e.fromArray(x, [x.length]);
    const zeros = () => e.fromArray(new Float32Array(x.length), [x.length]);
    adamUpdate(p, e.fromArray(x, [x.length]), zeros(), zeros(), { stepSize: 0.01, invSqrtBc2: 1, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0 });
    const outs = [
      unary('relu', xt),
      dropoutKernel(xt, 0.3, 7),
      maxPool2dForward(xt, { kernel: 2 }).out,
      conv2dForward(xt, wt, null, { padding: 1, variant: 'tiles' }),
      p,
    ];
    return Promise.all(outs.map(async (t) => Array.from(await t.readFloat())));
  });
  return { values, dispatches: e.stats.dispatches - before };
}

test('windowOverride splits every family, and the split results equal the whole ones', async () => {
  const e = await testEngine();
  const x = randomArray(rng, 6 * 4 * 16 * 16);
  const w = randomArray(rng, 3 * 4 * 9);
  const whole = await runAll(e, x, w);
  windowOverride.maxBinding = 2 * 4 * 16 * 16 * 4 + 256; // two samples of x per window
  windowOverride.alignment = 256;
  try {
    const split = await runAll(e, x, w);
    whole.values.forEach((v, i) => assert.equal(split.values[i], v, `output ${i}`));
    // relu, dropout, adam: 3 windows each instead of 1; pool and conv: 3 batch chunks.
    assert.ok(split.dispatches >= whole.dispatches + 10, `${split.dispatches} dispatches split vs ${whole.dispatches} whole`);
  } finally {
    windowOverride.maxBinding = null;
    windowOverride.alignment = null;
  }
});

test('element ranges start at aligned offsets and cover the tensor once', async () => {
  const e = await testEngine();
  const align = e.caps.bindingAlignment / 4;
  const ranges = elementRanges(e, 'test', 10 * align + 3, 4 * align);
  assert.equal(ranges.map((r) => [r.start, r.count, r.whole]), [[0, 4 * align, false], [4 * align, 4 * align, false], [8 * align, 2 * align + 3, false]]);
  assert.equal(elementRanges(e, 'test', 5), [{ start: 0, count: 5, whole: true }]);
  assert.throws(() => elementRanges(e, 'test', 100, align + 1), /test: window .* must be a positive multiple/);
});

test.run();
