import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testRandom } from './helpers/check.js';
import { addConfusions, confusionMatrix, formatConfusion, formatMeanStd, meanStd, perClassRecall, score, uar, weightedAccuracy } from '../src/metrics/metrics.js';

const rng = testRandom('metrics');
const close = (a: number, b: number, what: string) => assert.ok(Math.abs(a - b) <= 1e-12, `${what}: ${a} vs ${b}`);

/** Random labels and predictions, with a bias towards correct so recalls vary. */
function randomRun(n: number, k: number, opts: { absent?: number; neverPredicted?: number } = {}) {
  const truth: number[] = [];
  const pred: number[] = [];
  for (let i = 0; i < n; i++) {
    let t = rng.int(k);
    while (t === opts.absent) t = rng.int(k);
    let p = rng.next() < 0.5 ? t : rng.int(k);
    while (p === opts.neverPredicted) p = rng.int(k);
    truth.push(t);
    pred.push(p);
  }
  return { truth, pred };
}

/** UAR and WA straight from the label lists, without a confusion matrix. */
function direct(truth: number[], pred: number[], k: number) {
  const recalls: number[] = [];
  for (let c = 0; c < k; c++) {
    const idx = truth.flatMap((t, i) => (t === c ? [i] : []));
    if (idx.length) recalls.push(idx.filter((i) => pred[i] === c).length / idx.length);
  }
  return {
    uar: recalls.reduce((a, b) => a + b, 0) / recalls.length,
    wa: truth.filter((t, i) => t === pred[i]).length / truth.length,
  };
}

test('confusion matrix counts (rows = truth, columns = prediction)', () => {
  const k = 2 + rng.int(5);
  const { truth, pred } = randomRun(200 + rng.int(300), k);
  const cm = confusionMatrix(truth, pred, k);
  for (let t = 0; t < k; t++) {
    for (let p = 0; p < k; p++) assert.is(cm[t][p], truth.filter((v, i) => v === t && pred[i] === p).length, `cell ${t},${p}`);
  }
  assert.is(cm.flat().reduce((a, b) => a + b, 0), truth.length);
});

test('UAR and WA match values derived directly from random labels', () => {
  for (let trial = 0; trial < 20; trial++) {
    const k = 2 + rng.int(5);
    const { truth, pred } = randomRun(20 + rng.int(500), k);
    const want = direct(truth, pred, k);
    const s = score(truth, pred, k);
    close(s.uar, want.uar, 'UAR');
    close(s.wa, want.wa, 'WA');
    close(uar(s.confusion), want.uar, 'uar(cm)');
    close(weightedAccuracy(s.confusion), want.wa, 'weightedAccuracy(cm)');
  }
});

test('hand-worked example: a class never predicted, a class absent from the truth', () => {
  // truth: angry x2, happy x3, neutral x1, no sad; nobody is ever predicted neutral.
  const truth = [0, 0, 1, 1, 1, 2];
  const pred = [0, 1, 1, 1, 0, 3];
  const cm = confusionMatrix(truth, pred, 4);
  assert.equal(cm, [
    [1, 1, 0, 0],
    [1, 2, 0, 0],
    [0, 0, 0, 1],
    [0, 0, 0, 0],
  ]);
  const r = perClassRecall(cm);
  close(r[0], 1 / 2, 'recall angry');
  close(r[1], 2 / 3, 'recall happy');
  close(r[2], 0, 'recall neutral (never predicted)');
  assert.ok(Number.isNaN(r[3]), 'recall of an absent class is NaN');
  close(uar(cm), (1 / 2 + 2 / 3 + 0) / 3, 'UAR over the 3 present classes');
  close(weightedAccuracy(cm), 3 / 6, 'WA');
});

test('random edge cases: class absent from truth and class never predicted', () => {
  const k = 4;
  const absent = rng.int(k);
  const never = (absent + 1 + rng.int(k - 1)) % k;
  const { truth, pred } = randomRun(300, k, { absent, neverPredicted: never });
  const s = score(truth, pred, k);
  assert.ok(Number.isNaN(s.recall[absent]));
  assert.is(s.recall[never], 0);
  close(s.uar, direct(truth, pred, k).uar, 'UAR');
  assert.ok(s.uar > 0 && s.uar < 1);
});

test('pooling confusion matrices equals scoring the concatenation', () => {
  const a = randomRun(100, 4);
  const b = randomRun(150, 4);
  const pooled = addConfusions(confusionMatrix(a.truth, a.pred, 4), confusionMatrix(b.truth, b.pred, 4));
  assert.equal(pooled, confusionMatrix([...a.truth, ...b.truth], [...a.pred, ...b.pred], 4));
});

test('empty input gives NaN, bad input is a clear error', () => {
  const cm = confusionMatrix([], [], 4);
  assert.ok(Number.isNaN(uar(cm)) && Number.isNaN(weightedAccuracy(cm)));
  assert.throws(() => confusionMatrix([0, 1], [0], 4), /2 labels but 1 predictions/);
  assert.throws(() => confusionMatrix([0, 4], [0, 1], 4), /label 4/);
  assert.throws(() => confusionMatrix([0, 1], [0, -1], 4), /prediction -1/);
});

test('meanStd: population standard deviation', () => {
  const hand = meanStd([1, 2, 3, 4]);
  close(hand.mean, 2.5, 'mean');
  close(hand.std, Math.sqrt(1.25), 'std');
  const v = Array.from({ length: 5 + rng.int(20) }, () => rng.uniform(0.3, 0.7));
  const m = v.reduce((a, b) => a + b, 0) / v.length;
  const m2 = v.reduce((a, b) => a + b * b, 0) / v.length;
  const s = meanStd(v);
  close(s.mean, m, 'mean');
  assert.ok(Math.abs(s.std - Math.sqrt(m2 - m * m)) < 1e-9, 'std');
  assert.equal(meanStd([0.5]), { mean: 0.5, std: 0 });
  assert.is(formatMeanStd([0.5, 0.7]), '0.600 +- 0.100');
});

test('formatConfusion prints counts, recalls, UAR and WA', () => {
  const cm = [
    [3, 1, 0, 0],
    [0, 2, 2, 0],
    [1, 0, 5, 0],
    [0, 0, 0, 0],
  ];
  const text = formatConfusion(cm, ['angry', 'happy', 'neutral', 'sad']);
  const lines = text.split('\n');
  assert.is(lines.length, 6);
  assert.match(lines[0], /true \\ pred\s+angry\s+happy\s+neutral\s+sad\s+recall/);
  assert.match(lines[1], /^angry\s+3\s+1\s+0\s+0\s+0\.750$/);
  assert.match(lines[4], /^sad\s+0\s+0\s+0\s+0\s+-$/);
  assert.is(lines[5], `UAR ${((0.75 + 0.5 + 5 / 6) / 3).toFixed(3)}  WA ${(10 / 14).toFixed(3)}`);
  const norm = formatConfusion(cm, ['angry', 'happy', 'neutral', 'sad'], { normalise: true, digits: 2 });
  assert.match(norm.split('\n')[2], /^happy\s+0\.00\s+0\.50\s+0\.50\s+0\.00\s+0\.50$/);
  assert.throws(() => formatConfusion(cm, ['a', 'b']), /2 class names/);
});

test.run();
