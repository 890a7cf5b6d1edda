// The `paper` recipe's attack and training schedule: FGSM/PGD clipped to the ball x ± beta
// against a float64 reference, both label modes (true, and the model's own argmax computed on
// the GPU), the evaluation-mode training attack leaving every weight and running statistic
// as it was, the mixed loss starting at --adv-start, the CLI's per-recipe defaults, and old
// (pre-recipe) sweep folders still loading and reporting as `db`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { fgsmStep, pgdStep } from '../kernels/fgsm.js';
import { fgsm, clipOf } from '../src/attacks/fgsm.js';
import { predictedLabels } from '../src/attacks/labels.js';
import { adversarialExamples } from '../src/attacks/adversarial.js';
import { inputGradient } from '../src/attacks/gradient.js';
import { createModel } from '../src/models/index.js';
import { fitInputNorm, inputSpace } from '../src/nn/input-norm.js';
import { noGrad } from '../src/autograd/tape.js';
import { train, DEFAULT_TRAIN, type FeatureSet } from '../src/train/train.js';
import { predict } from '../src/train/evaluate.js';
import { parseCommand, helpText } from '../src/cli/args.js';
import { spec as trainSpec } from '../src/cli/train.js';
import { spec as evalSpec } from '../src/cli/eval.js';
import { trainConfig, recipeFlag, frontEndOptions } from '../src/cli/common.js';
import { loadFoldResults, saveFoldResult } from '../src/experiment/results.js';
import { run as report } from '../src/cli/report.js';
import { spec as reportSpec } from '../src/cli/report.js';
import { settingsKey, runSettingsOf } from '../src/experiment/cells.js';
import type { Module } from '../src/nn/module.js';

const rng = testRandom('recipe-attack');
const sign = (v: number) => (v > 0 ? 1 : v < 0 ? -1 : 0);
const clampTo = (v: number, lo: number, hi: number) => Math.min(hi, Math.max(lo, v));

test('fgsm kernel, ball clip: clamp(x + eps sign(g), x - beta, x + beta), binding and not', async () => {
  const e = await testEngine();
  const n = 2053;
  const x = randomArray(rng, n, -4, 4);
  const g = randomArray(rng, n).map((v, i) => (i % 13 === 0 ? 0 : v));
  for (const [eps, beta] of [
    [0.3, 0.1], // the clip binds: every moved element lands on x ± beta
    [0.05, 0.1], // it does not
  ]) {
    const got = await e.scopeAsync(() => fgsmStep(e.fromArray(x, [n]), e.fromArray(g, [n]), eps, { kind: 'ball', radius: beta }).read());
    assertClose(got, Array.from(x, (v, i) => clampTo(v + eps * sign(g[i]), v - beta, v + beta)), 1e-6, `fgsm ball eps ${eps} beta ${beta}`);
  }
  assert.throws(() => e.scope(() => fgsmStep(e.fromArray(x, [n]), e.fromArray(g, [n]), 0.1, { kind: 'ball', radius: -1 })), /radius/);
});

test('pgd step, ball clip: projected onto the eps ball and the beta ball around x0', async () => {
  const e = await testEngine();
  const n = 777;
  const x0 = randomArray(rng, n, -3, 3);
  const x = x0.map((v) => v + rng.uniform(-0.2, 0.2));
  const g = randomArray(rng, n);
  const [step, eps, beta] = [0.07, 0.15, 0.1];
  const got = await e.scopeAsync(() => pgdStep(e.fromArray(x, [n]), e.fromArray(g, [n]), e.fromArray(x0, [n]), step, eps, { kind: 'ball', radius: beta }).read());
  const want = Array.from(x, (v, i) => clampTo(clampTo(v + step * sign(g[i]), x0[i] - eps, x0[i] + eps), x0[i] - beta, x0[i] + beta));
  assertClose(got, want, 1e-6, 'pgd ball');
});

/** A small standardised model with moved batchnorm statistics and some features. */
async function paperModel(e: Awaited<ReturnType<typeof testEngine>>, seed: number): Promise<{ model: Module; data: FeatureSet }> {
  const data: FeatureSet = { features: Array.from({ length: 6 }, () => randomArray(rng, 48 * 64, -12, 2)), labels: [0, 1, 2, 3, 0, 1], shape: [1, 48, 64] };
  const model = createModel('small', e, { seed, standardize: true });
  fitInputNorm(model, data.features);
  await train(e, model, data, { ...DEFAULT_TRAIN, iterations: 2, batchSize: 3 });
  return { model, data };
}

test("both label modes against a reference: predicted = the clean argmax (GPU), FGSM = clip(x + eps sign(grad)) for those labels", async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  try {
    const { model, data } = await paperModel(e, 21);
    model.eval();
    const { toInput, net } = inputSpace(model);
    const n = 5;
    const raw = randomArray(rng, n * 48 * 64, -12, 2);
    const trueLabels = [3, 2, 1, 0, 3];
    const [eps, beta] = [0.08, 0.05];
    await e.scopeAsync(async () => {
      const x = toInput(e.fromArray(raw, [n, 1, 48, 64]));
      const xs = (await x.read()) as Float32Array;
      const logits = (await noGrad(e, () => net.forward(x)).read()) as Float32Array;
      const argmax = Array.from({ length: n }, (_, k) => {
        const row = Array.from(logits.slice(k * 4, k * 4 + 4));
        return row.indexOf(Math.max(...row));
      });
      assert.equal(Array.from(await predictedLabels(net, x).read()), argmax, 'predicted labels = argmax of the clean logits');
      for (const [mode, labels] of [
        ['true', trueLabels],
        ['predicted', argmax],
      ] as const) {
        const y = e.fromArray(trueLabels, [n], 'i32');
        // The reference: the input gradient for the labels this mode should use, then the formula in float64.
        const g = (await inputGradient(net, x, e.fromArray([...labels], [n], 'i32')).read()) as Float32Array;
        const want = Array.from(xs, (v, i) => clampTo(v + eps * sign(g[i]), v - beta, v + beta));
        const got = await adversarialExamples(net, x, y, { eps, clip: 'ball', beta, labels: mode, evalMode: true }).read();
        assertClose(got, want, 1e-5, `FGSM against ${mode} labels`);
      }
    });
    // predict() under attack with either label mode runs and reports per example.
    for (const labels of ['true', 'predicted'] as const) {
      const r = await predict(e, model, data, { kind: 'fgsm', eps: 0.1, clip: 'ball', beta: 0.1, labels });
      assert.is(r.predicted.length, data.features.length);
    }
    model.dispose();
  } finally {
    e.poisonNewTensors = true;
  }
});

test('the evaluation-mode training attack leaves weights, running statistics and the training mode untouched; the db one does not', async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  try {
    const { model } = await paperModel(e, 22);
    model.train();
    const { toInput, net } = inputSpace(model);
    const state = async () => Promise.all(model.stateEntries().map(async ([k, t]) => [k, Array.from(await t.read())] as const));
    const before = await state();
    const raw = randomArray(rng, 4 * 48 * 64, -12, 2);
    const run = (evalMode: boolean) =>
      e.scopeAsync(async () => {
        const x = toInput(e.fromArray(raw, [4, 1, 48, 64]));
        const y = e.fromArray([0, 1, 2, 3], [4], 'i32');
        return (await adversarialExamples(net, x, y, { eps: 0.1, clip: 'ball', beta: 0.1, labels: 'predicted', evalMode }).read()) as Float32Array;
      });
    const adv = await run(true);
    assert.ok(model.training, 'the model is back in training mode');
    const after = await state();
    for (let i = 0; i < before.length; i++) assert.equal(after[i][1], before[i][1], `${before[i][0]} untouched by the evaluation-mode attack`);
    // It is the attack on the evaluation-mode model.
    model.eval();
    const want = await e.scopeAsync(async () => {
      const x = toInput(e.fromArray(raw, [4, 1, 48, 64]));
      return (await fgsm(net, x, predictedLabels(net, x), 0.1, { clip: clipOf('ball', 0.1) }).read()) as Float32Array;
    });
    assertClose(adv, want, 0, 'eval-mode view = the model in evaluation mode');
    model.train();
    // The db way (training mode) moves the running statistics: the check above can fail.
    await run(false);
    const moved = await state();
    assert.ok(
      moved.some(([k, v], i) => k.endsWith('running_mean') && v.some((u, j) => u !== before[i][1][j])),
      'a training-mode attack updates running statistics',
    );
    model.dispose();
  } finally {
    e.poisonNewTensors = true;
  }
});

test('--adv-start: clean loss only before it (equal to standard training), the mixed loss from it on', async () => {
  const e = await testEngine();
  e.poisonNewTensors = false;
  try {
    const data: FeatureSet = { features: Array.from({ length: 4 }, () => randomArray(rng, 32 * 64, 0, 1)), labels: [0, 1, 2, 3], shape: [1, 32, 64] };
    const losses = async (eps: number, advStart: number) => {
      const m = createModel('small', e, { seed: 31 });
      const cfg = { ...DEFAULT_TRAIN, iterations: 4, batchSize: 2, eps, advStart, clip: 'ball' as const, beta: 0.1, attackLabels: 'predicted' as const, evalModeAttack: true };
      const r = await train(e, m, data, cfg, { logEvery: 1 });
      m.dispose();
      return r.losses.map((l) => l.loss);
    };
    const clean = await losses(0, 0);
    const late = await losses(0.1, 2);
    const early = await losses(0.1, 0);
    assert.equal(late.slice(0, 2), clean.slice(0, 2), 'iterations before --adv-start: the clean loss, bit for bit');
    assert.ok(late[2] !== clean[2], `iteration 3 (index 2) uses the mixed loss: ${late[2]} vs clean ${clean[2]}`);
    assert.ok(early[0] !== clean[0], 'with --adv-start 0 the first step is already mixed');
  } finally {
    e.poisonNewTensors = true;
  }
});

test('CLI: --recipe defaults (paper: tile, beta 0.1, predicted labels, adv-start 10%; db: resize, 1, true, 0), explicit flags win, help says both', () => {
  const cfg = (...argv: string[]) => {
    const p = parseCommand(trainSpec, argv);
    const recipe = recipeFlag(p);
    return { ...trainConfig(p, 0.1, recipe), fit: frontEndOptions(p, recipe).fit, recipe: recipe.name };
  };
  const paper = cfg('--iterations', '250');
  assert.equal([paper.recipe, paper.fit, paper.beta, paper.clip, paper.attackLabels, paper.evalModeAttack, paper.advStart], ['paper', 'tile', 0.1, 'ball', 'predicted', true, 25]);
  const db = cfg('--recipe', 'db', '--iterations', '250');
  assert.equal([db.recipe, db.fit, db.beta, db.clip, db.attackLabels, db.evalModeAttack, db.advStart], ['db', 'resize', 1, 'range', 'true', false, 0]);
  const over = cfg('--iterations', '250', '--beta', '0.3', '--attack-labels', 'true', '--adv-start', '7', '--fit', 'crop');
  assert.equal([over.beta, over.attackLabels, over.advStart, over.fit], [0.3, 'true', 7, 'crop']);
  assert.throws(() => cfg('--recipe', 'mfcc'), /--recipe: 'mfcc' is not one of paper, db/);
  assert.throws(() => cfg('--attack-labels', 'mine'), /--attack-labels: 'mine' is not one of predicted, true/);
  assert.throws(() => cfg('--iterations', '10', '--adv-start', '11'), /--adv-start: 11 is beyond --iterations 10/);
  const help = helpText(trainSpec);
  for (const s of ['--recipe NAME', '(default: paper)', 'paper 0.1, db 1', 'paper predicted, db true', 'paper 10% of --iterations, db 0', 'paper tile, db resize', 'lineage code used 16']) assert.ok(help.includes(s), `train --help says '${s}'`);
  assert.ok(helpText(evalSpec).includes('--attack-labels'), 'eval has --attack-labels');
});

test('an old sweep folder (result files without recipe or attack labels) loads and reports as db against true labels', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-oldsweep-'));
  try {
    mkdirSync(join(dir, 'folds'));
    const scores = { uar: 0.5, wa: 0.5, recall: [0.5, 0.5, 0.5, 0.5], confusion: [[1, 1, 0, 0], [1, 1, 0, 0], [0, 0, 1, 1], [0, 0, 1, 1]] };
    const old = { corpus: 'emodb', model: 'cnn5', trainEps: 0, fold: 0, iterations: 10, seed: 1, clean: scores, attacks: [{ kind: 'fgsm', eps: 0.1, scores }], losses: [], trainSeconds: 1, adapter: 'test', testSize: 8, trainSize: 30 };
    writeFileSync(join(dir, 'folds', 'cnn5-eps0.00-fold0.json'), JSON.stringify(old));
    saveFoldResult(dir, { ...old, attacks: [{ kind: 'fgsm', eps: 0.1, scores }], fold: 1, recipe: 'paper', attackLabels: 'predicted' } as never);
    const results = loadFoldResults(dir).sort((a, b) => a.fold - b.fold);
    assert.equal(results.map((r) => [r.fold, r.recipe, r.attackLabels]), [[0, 'db', 'true'], [1, 'paper', 'predicted']]);
    const quiet = async (argv: string[]) => {
      const [log, write] = [console.log, process.stdout.write];
      console.log = () => {};
      process.stdout.write = () => true;
      try {
        return await report(parseCommand(reportSpec, argv));
      } finally {
        [console.log, process.stdout.write] = [log, write];
      }
    };
    // Two recipes are two settings: not one table (the report names the recipe), each on its own.
    try {
      await quiet([dir]);
      assert.unreachable('a db and a paper result reported together');
    } catch (e) {
      assert.match((e as Error).message, /holds results of 2 different settings.*attackLabels: "(true" \/ "predicted|predicted" \/ "true)"; recipe: "(db" \/ "paper|paper" \/ "db)"/);
    }
    const md = async (r: (typeof results)[number]) => {
      assert.is(await quiet([dir, '--settings', settingsKey(runSettingsOf(r.config))]), 0);
      return readFileSync(join(dir, 'report.md'), 'utf8');
    };
    assert.match(await md(results[0]), /Recipe: db; attacks against the true labels\./);
    assert.match(await md(results[1]), /Recipe: paper; attacks against the model's own predictions\./);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
