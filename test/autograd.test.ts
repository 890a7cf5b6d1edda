// Every backward rule of src/ops against finite differences, plus the tape itself.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { randomArray, testRandom, assertClose } from './helpers/check.js';
import { gradCheck } from '../src/autograd/gradcheck.js';
import { withTape, backward } from '../src/autograd/tape.js';
import * as ops from '../src/ops/index.js';
import type { Tensor } from '../src/engine/tensor.js';
import { OP_NAMES, type OpName } from '../src/ops/record.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const rng = testRandom('autograd');
const inp = (shape: number[], lo = -1, hi = 1) => ({ shape, data: randomArray(rng, shape.reduce((a, b) => a * b, 1), lo, hi) });
// Keep inputs away from kinks (relu at 0) so central differences are valid.
const awayFromZero = (shape: number[]) => {
  const x = inp(shape);
  x.data = x.data.map((v) => (Math.abs(v) < 0.05 ? v + Math.sign(v || 1) * 0.1 : v));
  return x;
};

// Distinct values at least 0.05 apart in random order: a finite-difference step (1e-2) never
// changes which element is a maximum (random inputs did, now and then).
const wellSeparated = (shape: number[]) => {
  const x = inp(shape);
  const order = Array.from(x.data.keys()).sort(() => rng.next() - 0.5);
  order.forEach((k, i) => (x.data[k] = -1 + 0.05 * i));
  return x;
};

// x W + b whose column j has one sign for every row (x > 0, W's column j and b_j share a sign,
// magnitudes >= 0.2), so relu's kink stays far from every finite-difference step (random
// inputs crossed it now and then).
const signedColumns = (rows: number, inner: number, cols: number) => {
  const sign = Array.from({ length: cols }, (_, j) => (j % 2 === 0 ? 1 : -1));
  const x = inp([rows, inner], 0.2, 1);
  const w = inp([inner, cols], 0.2, 1);
  w.data = w.data.map((v, i) => v * sign[i % cols]);
  const b = inp([cols], 0.2, 1);
  b.data = b.data.map((v, j) => v * sign[j]);
  return [x, w, b];
};

const cases: [string, (xs: Tensor[]) => Tensor, ReturnType<typeof inp>[]][] = [
  ['add (broadcast)', ([a, b]) => ops.add(a, b), [inp([3, 5, 4]), inp([5, 1])]],
  ['sub (broadcast)', ([a, b]) => ops.sub(a, b), [inp([4, 1]), inp([3])]],
  ['mul (broadcast)', ([a, b]) => ops.mul(a, b), [inp([2, 3, 5]), inp([3, 1])]],
  ['div', ([a, b]) => ops.div(a, b), [inp([7, 3]), inp([7, 3], 0.5, 2)]],
  ['scale', ([a]) => ops.scale(a, -1.7, 0.3), [inp([11])]],
  ['relu', ([a]) => ops.relu(a), [awayFromZero([6, 7])]],
  ['exp', ([a]) => ops.exp(a), [inp([13])]],
  ['log', ([a]) => ops.log(a), [inp([13], 0.5, 3)]],
  ['square', ([a]) => ops.square(a), [inp([9])]],
  ['sqrt', ([a]) => ops.sqrt(a), [inp([9], 0.5, 3)]],
  ['sum axis 1', ([a]) => ops.sum(a, 1), [inp([4, 7, 3])]],
  ['mean axis 0', ([a]) => ops.mean(a, 0, true), [inp([5, 6])]],
  ['max axis 2', ([a]) => ops.max(a, 2), [wellSeparated([3, 4, 9])]],
  ['sumAll', ([a]) => ops.sumAll(a), [inp([3, 8])]],
  ['meanAll', ([a]) => ops.meanAll(a), [inp([5, 5])]],
  ['matmul', ([a, b]) => ops.matmul(a, b), [inp([7, 5]), inp([5, 9])]],
  ['reshape', ([a]) => ops.reshape(a, [6, -1]), [inp([3, 4, 2])]],
  ['permute', ([a]) => ops.permute(a, [2, 0, 1]), [inp([3, 4, 5])]],
  ['transpose', ([a]) => ops.transpose(a), [inp([3, 7])]],
  ['composite: relu(x W + b) summed', ([x, w, b]) => ops.sum(ops.relu(ops.add(ops.matmul(x, w), b)), 1), signedColumns(4, 6, 5)],
];

// Where each recorded op's backward rule is checked: a case above, or another test file that
// checks it (finite differences, or a float64 reference). Keyed by OpName, so an op added to
// src/ops/record.ts without a check here is a type error.
const checkedIn: Record<OpName, { file: string; evidence: string } | 'above'> = {
  add: 'above', sub: 'above', mul: 'above', div: 'above', scale: 'above', relu: 'above', exp: 'above',
  log: 'above', square: 'above', sqrt: 'above', sum: 'above', mean: 'above', max: 'above',
  sumAll: 'above', meanAll: 'above', matmul: 'above', reshape: 'above', permute: 'above',
  conv2d: { file: 'conv2d.test.ts', evidence: 'gradCheck(e, ([x, w, b]) => conv2d(' },
  'conv2d+batchNorm2d folded': { file: 'fold-batchnorm.test.ts', evidence: 'gradCheck(e, ([x]) => convBatchNormInputOnly(x,' },
  maxPool2d: { file: 'pool.test.ts', evidence: '=> maxPool2d(x,' },
  avgPool2d: { file: 'pool.test.ts', evidence: '=> avgPool2d(x,' },
  globalAvgPool: { file: 'pool.test.ts', evidence: '=> globalAvgPool(x)' },
  batchNorm2d: { file: 'batchnorm.test.ts', evidence: '=> batchNorm2d(x, { gamma, beta, runningMean, runningVar }, { training })' },
  'batchNorm2d+relu+maxPool2d': { file: 'batchnorm.test.ts', evidence: 'batchNorm2dReluMaxPool(xt, state, { training })' },
  'batchNorm2d+relu': { file: 'batchnorm.test.ts', evidence: "training, undefined, undefined, true), want, 1e-5, 'relu')" },
  linear: { file: 'linear.test.ts', evidence: 'gradCheck(e, ([x, w, b]) => linear(x, w, b)' },
  dropout: { file: 'dropout.test.ts', evidence: 'gradCheck(e, ([x]) => dropout(x,' },
  softmaxCrossEntropy: { file: 'loss.test.ts', evidence: 'gradCheck(e, ([x]) => softmaxCrossEntropy(x,' },
  standardize: { file: 'standardize.test.ts', evidence: '([t]) => standardize(t,' },
};

test('every recorded op has its backward rule checked', () => {
  for (const op of OP_NAMES) {
    const where = checkedIn[op];
    if (where === 'above') {
      assert.ok(cases.some(([name]) => name.split(' ')[0] === op), `no case above is named after ${op}`);
    } else {
      const text = readFileSync(join('test', where.file), 'utf8');
      assert.ok(text.includes(where.evidence), `${where.file} does not contain ${where.evidence}`);
    }
  }
});

for (const [name, f, inputs] of cases) {
  test(`gradient of ${name} matches finite differences`, async () => {
    const e = await testEngine();
    const { maxError, checked } = await gradCheck(e, f, inputs, { random: () => rng.next() });
    assert.ok(checked > 0);
    maxError.forEach((err, i) => assert.ok(err < 2e-2, `input ${i}: relative error ${err}`));
  });
}

test('gradCheck catches a wrong backward rule', async () => {
  const e = await testEngine();
  const { record } = await import('../src/autograd/tape.js');
  const { affine } = await import('../kernels/elementwise.js');
  // Forward: 2x; claimed backward: 3g (wrong).
  const wrong = ([a]: Tensor[]) => record('wrong', affine(a, 2), [a], (g) => [affine(g, 3)]);
  const { maxError } = await gradCheck(e, wrong, [inp([5])], { random: () => rng.next() });
  assert.ok(maxError[0] > 0.3, `error ${maxError[0]} should be large`);
});

test('gradients accumulate over uses and into .grad across backward calls', async () => {
  const e = await testEngine();
  const x = randomArray(rng, 6);
  const grads = await e.scopeAsync(async () => {
    const t = e.fromArray(x, [6]);
    t.requiresGrad = true;
    for (let k = 0; k < 2; k++) {
      const { value, tape } = withTape(e, () => ops.sumAll(ops.add(ops.mul(t, t), t))); // d/dx = 2x + 1
      backward(tape, value);
    }
    const g = await t.grad!.read();
    t.grad!.dispose();
    return g;
  });
  assertClose(grads, Array.from(x, (v) => 2 * (2 * v + 1)), 1e-6, 'accumulated grad');
});

test('backward frees each spent gradient at once, and a gradient passed on unchanged survives', async () => {
  const e = await testEngine();
  const n = 4096; // 16 KiB per tensor
  const x = randomArray(rng, n);
  const got = await e.scopeAsync(async () => {
    const t = e.fromArray(x, [n]);
    t.requiresGrad = true;
    // A chain of 20 scalings, then add(h, h): its rule returns the same gradient twice.
    const { value, tape } = withTape(e, () => {
      let h = t;
      for (let k = 0; k < 20; k++) h = ops.scale(h, 1.01);
      return ops.sumAll(ops.add(h, h));
    });
    const before = e.pool.liveBytes;
    backward(tape, value);
    const grown = e.pool.liveBytes - before;
    // Kept: t.grad and one gradient in flight at a time; without freeing, all 21 would stay.
    assert.ok(grown <= 3 * n * 4, `backward left ${grown} bytes live`);
    const g = await t.grad!.read();
    t.grad!.dispose();
    return g;
  });
  assertClose(got, new Float32Array(n).fill(2 * 1.01 ** 20), 1e-5, 'gradient through the chain');
});

test('no tape, no recording: ops outside withTape leave requiresGrad false', async () => {
  const e = await testEngine();
  e.scope(() => {
    const t = e.fromArray([1, 2, 3], [3]);
    t.requiresGrad = true;
    const y = ops.relu(t);
    assert.is(y.requiresGrad, false);
  });
});

test.run();
