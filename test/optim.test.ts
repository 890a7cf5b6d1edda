// Adam and SGD on the GPU against float64 CPU copies of PyTorch's update rules, the
// step-decay schedule, skipped parameters, windows, and option checks.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { Adam, SGD, stepDecay } from '../src/nn/optim.js';
import { adamUpdate, sgdUpdate } from '../kernels/optimizer.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';

const rng = testRandom('optim');
const SHAPES = [[37], [5, 13], [1], [3, 3, 7]];
const sizeOf = (s: number[]) => s.reduce((a, b) => a * b, 1);

/** PyTorch's torch.optim.Adam (amsgrad off, maximize off) for one tensor, float64. */
class AdamRef {
  m: Float64Array;
  v: Float64Array;
  t = 0;
  constructor(public p: Float64Array, readonly o: { beta1: number; beta2: number; eps: number; weightDecay: number }) {
    this.m = new Float64Array(p.length);
    this.v = new Float64Array(p.length);
  }
  step(grad: ArrayLike<number>, lr: number): void {
    this.t++;
    const { beta1, beta2, eps, weightDecay } = this.o;
    const bc1 = 1 - beta1 ** this.t;
    const bc2 = 1 - beta2 ** this.t;
    for (let i = 0; i < this.p.length; i++) {
      const g = grad[i] + weightDecay * this.p[i];
      this.m[i] = beta1 * this.m[i] + (1 - beta1) * g;
      this.v[i] = beta2 * this.v[i] + (1 - beta2) * g * g;
      const mhat = this.m[i] / bc1;
      const vhat = this.v[i] / bc2;
      this.p[i] -= (lr * mhat) / (Math.sqrt(vhat) + eps);
    }
  }
}

/** PyTorch's torch.optim.SGD (dampening 0, nesterov off) for one tensor, float64. */
class SgdRef {
  buf: Float64Array | null = null;
  constructor(public p: Float64Array, readonly o: { momentum: number; weightDecay: number }) {}
  step(grad: ArrayLike<number>, lr: number): void {
    const d = Float64Array.from(grad, (g, i) => g + this.o.weightDecay * this.p[i]);
    if (this.o.momentum !== 0) {
      if (!this.buf) this.buf = Float64Array.from(d);
      else for (let i = 0; i < d.length; i++) this.buf[i] = this.o.momentum * this.buf[i] + d[i];
      d.set(this.buf);
    }
    for (let i = 0; i < d.length; i++) this.p[i] -= lr * d[i];
  }
}

function makeParams(e: Engine): { params: Tensor[]; init: Float32Array[] } {
  const init = SHAPES.map((s) => randomArray(rng, sizeOf(s)));
  const params = init.map((data, k) => {
    const t = e.keep(e.fromArray(data, SHAPES[k]));
    t.requiresGrad = true;
    return t;
  });
  return { params, init };
}

function setGrad(e: Engine, p: Tensor, g: Float32Array): void {
  p.grad?.dispose();
  p.grad = e.keep(e.fromArray(g, p.shape));
}

/** Runs `steps` steps with fresh random gradients and a changing lr on GPU and reference; returns both. */
async function compare(
  e: Engine,
  steps: number,
  make: (params: Tensor[]) => { lr: number; step(): void; zeroGrad(): void; dispose(): void },
  makeRef: (p: Float64Array) => { p: Float64Array; step(g: ArrayLike<number>, lr: number): void },
  lrAt: (i: number) => number,
): Promise<void> {
  const { params, init } = makeParams(e);
  const opt = make(params);
  const refs = init.map((d) => makeRef(Float64Array.from(d)));
  try {
    for (let s = 0; s < steps; s++) {
      const lr = lrAt(s);
      params.forEach((p, k) => {
        const g = randomArray(rng, p.size, -2, 2);
        setGrad(e, p, g);
        refs[k].step(g, lr);
      });
      opt.lr = lr;
      opt.step();
      opt.zeroGrad();
      for (const p of params) assert.is(p.grad, null, 'zeroGrad drops the gradient');
    }
    for (let k = 0; k < params.length; k++) {
      // Parameters of size ~1 moved by ~lr per step; float32 rounding of each step: 1e-6.
      assertClose(await params[k].read(), refs[k].p, 1e-6, `parameter ${k} [${SHAPES[k]}]`);
    }
    // The comparison is not vacuous: the parameters moved well beyond the tolerance. Checked
    // over all of them together: with random-sign gradients, the single-element parameter's
    // walk can end near its start (TEST_SEED=215175688 did).
    const moved = refs.some((r, k) => r.p.some((v, i) => Math.abs(v - init[k][i]) > 1e-3));
    assert.ok(moved, 'the parameters moved measurably');
  } finally {
    opt.dispose();
    for (const p of params) p.dispose();
  }
}

for (const weightDecay of [0, 0.01]) {
  test(`Adam matches PyTorch's update rule over several steps (weight decay ${weightDecay})`, async () => {
    const e = await testEngine();
    const o = { beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay };
    await compare(
      e,
      7,
      (params) => new Adam(params, { lr: 0.01, ...o }),
      (p) => new AdamRef(p, o),
      (i) => 0.01 * 0.7 ** Math.floor(i / 3),
    );
  });
}

test('Adam with other betas and a large eps', async () => {
  const e = await testEngine();
  const o = { beta1: 0.5, beta2: 0.9, eps: 0.1, weightDecay: 0.1 };
  await compare(
    e,
    5,
    (params) => new Adam(params, { lr: 0.05, ...o }),
    (p) => new AdamRef(p, o),
    () => 0.05,
  );
});

for (const [momentum, weightDecay] of [
  [0.9, 0],
  [0.8, 0.05],
  [0, 0.01],
]) {
  test(`SGD matches PyTorch's update rule (momentum ${momentum}, weight decay ${weightDecay})`, async () => {
    const e = await testEngine();
    await compare(
      e,
      6,
      (params) => new SGD(params, { lr: 0.1, momentum, weightDecay }),
      (p) => new SgdRef(p, { momentum, weightDecay }),
      (i) => 0.1 / (1 + i),
    );
  });
}

test('a parameter without a gradient is left alone and its Adam step count does not advance', async () => {
  const e = await testEngine();
  const { params, init } = makeParams(e);
  const opt = new Adam(params, { lr: 0.1 });
  try {
    setGrad(e, params[0], randomArray(rng, params[0].size));
    opt.step();
    assert.is(opt.stepsOf(params[0]), 1);
    assert.is(opt.stepsOf(params[1]), 0);
    assertClose(await params[1].read(), init[1], 0, 'untouched parameter');
    const changed = (await params[0].read()).some((v, i) => v !== init[0][i]);
    assert.ok(changed, 'the parameter with a gradient changed');
    opt.zeroGrad();
  } finally {
    opt.dispose();
    for (const p of params) p.dispose();
  }
});

test('updates split into binding windows equal a whole update', async () => {
  const e = await testEngine();
  const n = 1000 + rng.int(500);
  const align = e.limits.minStorageBufferOffsetAlignment / 4;
  const p0 = randomArray(rng, n);
  const g = randomArray(rng, n);
  const scalars = { stepSize: 0.01, invSqrtBc2: 3, beta1: 0.9, beta2: 0.99, eps: 1e-8, weightDecay: 0.1 };
  const run = (window?: number) =>
    e.scopeAsync(async () => {
      const [p, gt, m, v, q, b] = [p0, g, g, g, p0, g].map((d) => e.fromArray(d, [n]));
      adamUpdate(p, gt, m, v, scalars, window);
      sgdUpdate(q, gt, b, { lr: 0.1, momentum: 0.9, weightDecay: 0.01 }, window);
      return [...(await p.read()), ...(await m.read()), ...(await v.read()), ...(await q.read()), ...(await b.read())];
    });
  const whole = await run();
  const windowed = await run(align * 5);
  assert.equal(windowed, whole);
});

test('stepDecay: base * factor^floor(i / every), the paper schedule', () => {
  const lr = stepDecay(0.001, 0.9, 100);
  // Reference by repeated multiplication, independent of the power formula.
  let want = 0.001;
  for (let i = 0; i < 10_000; i++) {
    if (i > 0 && i % 100 === 0) want *= 0.9;
    const got = lr(i);
    assert.ok(Math.abs(got - want) <= 1e-12 * want, `iteration ${i}: ${got} vs ${want}`);
  }
  assert.is(lr(0), 0.001);
  assert.is(lr(99), 0.001);
  assert.ok(Math.abs(lr(100) - 0.0009) < 1e-15);
  assert.ok(Math.abs(lr(250) - 0.001 * 0.81) < 1e-15);
  assert.throws(() => stepDecay(0.001, 0.9, 0), /every/);
  assert.throws(() => lr(-1), /iteration/);
});

test('bad options are rejected', async () => {
  const e = await testEngine();
  const p = e.keep(e.fromArray([1, 2], [2]));
  try {
    assert.throws(() => new Adam([p], { beta1: 1 }), /beta1/);
    assert.throws(() => new Adam([p], { lr: -1 }), /lr/);
    assert.throws(() => new Adam([p, p]), /twice/);
    assert.throws(() => new SGD([p], { momentum: -0.5 }), /momentum/);
    const opt = new SGD([p]);
    opt.lr = NaN;
    assert.throws(() => opt.step(), /lr/);
  } finally {
    p.dispose();
  }
});

test.run();
