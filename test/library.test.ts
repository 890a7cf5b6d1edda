// The package as a user gets it: `npm pack` (declarations from tsc, then the files list), the
// tarball installed with npm in an empty folder, and the README's Node snippet ("Use as a
// library") run there as written, on an EmoDB file from the shipped subset: it must print the
// probabilities this process computes with the same checkpoint. Also the API's checks
// (shapes, labels, eps) and what the tarball holds.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { testEngine } from './helpers/gpu.js';
import { testRandom, assertClose, rejects } from './helpers/check.js';
import { bundledEmodbDir } from '../src/data/emodb-subset.js';
import { modelFromBytes, newModel, logMel, predict, attack, trainModel, clipCaution, CLASSES, type SerModel } from '../src/api/core.js';
import { bundledModelPath, loadModel, logMelFromFile, predictFile, trainOnCorpus } from '../src/index.js';
import { readWav } from '../src/audio/wav.js';
import { RECIPES } from '../src/audio/recipe.js';
import { Standardized } from '../src/nn/input-norm.js';
import { readmeSnippet } from './helpers/readme.js';

const rng = testRandom('library');

const dir = mkdtempSync(join(tmpdir(), 'ser-library-'));
const root = resolve('.');
const wavDir = join(bundledEmodbDir(), 'wav');
const wav = join(wavDir, readdirSync(wavDir).sort()[17]);

/** A small CNN with random batchnorm statistics, as a checkpoint with ser train's metadata (db recipe). */
async function checkpoint(): Promise<{ path: string; model: SerModel }> {
  const engine = await testEngine();
  const model = newModel(engine, 'small', { seed: rng.int(1 << 30), recipe: 'db' });
  for (const [name, t] of model.module.stateEntries()) {
    if (name.endsWith('running_mean')) t.engine.write(t.buffer, Float32Array.from({ length: t.size }, () => rng.uniform(-0.2, 0.2)));
    if (name.endsWith('running_var')) t.engine.write(t.buffer, Float32Array.from({ length: t.size }, () => rng.uniform(0.5, 2)));
  }
  const path = join(dir, 'model.safetensors');
  writeFileSync(path, await model.toSafetensors());
  return { path, model };
}

test('API: features, prediction, attack and training agree with the pieces they wrap and check their input', async () => {
  const engine = await testEngine();
  const { path, model } = await checkpoint();
  const loaded = await loadModel(engine, path);
  assert.is(loaded.name, 'small');
  assert.is(loaded.recipe.name, 'db');
  const w = readWav(wav);
  const f = await logMel(engine, w.samples, w.sampleRate, { model: loaded });
  assert.is(f.length, 373 * 64);
  assertClose(await logMelFromFile(engine, wav, { model: loaded }), f, 0, 'logMelFromFile = logMel of the decoded file');
  const [p] = await predict(loaded, f);
  const viaFile = await predictFile(loaded, wav);
  assert.equal(viaFile.label, p.label);
  assert.is(viaFile.caution, clipCaution(w.samples, w.sampleRate), 'predictFile says whether the clip is near silence or very short');
  const probs = CLASSES.map((c) => p.probabilities[c]);
  assert.ok(Math.abs(probs.reduce((a, b) => a + b, 0) - 1) < 1e-5, 'probabilities sum to 1');
  assert.is(p.label, CLASSES[probs.indexOf(Math.max(...probs))]);
  const [q] = await predict(model, f);
  assertClose(CLASSES.map((c) => q.probabilities[c]), probs, 0, 'the saved and the loaded model agree');
  const a = await attack(loaded, f, { method: 'pgd', eps: 0.05, steps: 3 });
  assert.ok(a.maxChange <= 0.05 + 1e-6 && a.maxChange > 0.01, `max change ${a.maxChange}`);
  assert.equal(a.before, p);
  assert.ok(a.adversarial.every((v) => v >= 0 && v <= 1), 'clipped to the db range [0, 1]');
  // Bad input: one clear error each.
  await rejects(() => predict(loaded, new Float32Array(100 * 64)), /100 frames, the model takes 373/);
  await rejects(() => predict(loaded, new Float32Array(100)), /100 values is not frames x 64/);
  await rejects(() => attack(loaded, f, { eps: -1 }), /eps must be a finite number >= 0/);
  await rejects(() => attack(loaded, f, { eps: 0.1, beta: Number.NaN }), /beta must be a finite number >= 0/);
  await rejects(() => attack(loaded, f, { eps: 0.1, label: 'bored' as never }), /label 'bored' is not one of/);
  await rejects(() => logMel(engine, new Float32Array(0), 16000), /empty/);
  await rejects(() => loadModel(engine, join(dir, 'missing.safetensors')), /cannot read checkpoint .*missing\.safetensors: ENOENT/);
  assert.throws(() => modelFromBytes(engine, new Uint8Array(3)), /not a valid safetensors file/);
  // The bundled model: the file the browser app loads too; absent until one is committed.
  assert.match(bundledModelPath(), /\/models\/default\.safetensors$/);
  if (!existsSync(bundledModelPath())) await rejects(() => loadModel(engine), /^no bundled model: cannot read .*\/models\/default\.safetensors \(ENOENT\); pass a checkpoint/);
  // Training: the loss is reported through onProgress and falls on a repeated batch.
  const seen: number[] = [];
  const { losses } = await trainModel(loaded, { features: [f, a.adversarial], labels: ['angry', 'sad'] }, { iterations: 6, batchSize: 2, logEvery: 1, onProgress: (s) => seen.push(s.iteration) });
  assert.equal(seen, [1, 2, 3, 4, 5, 6]);
  assert.ok(losses.at(-1)!.loss < losses[0].loss, `loss ${losses[0].loss} -> ${losses.at(-1)!.loss}`);
  await rejects(() => trainModel(loaded, { features: [f], labels: ['bored' as never] }), /label 0 'bored'/);
  for (const m of [model, loaded]) m.dispose();
});

test('API, paper recipe (the default): tiled ln-Mel features, standardisation fitted by trainModel, attacks in the standardised space within x ± beta', async () => {
  const engine = await testEngine();
  const model = newModel(engine, 'small', { seed: 9 });
  assert.is(model.recipe.name, 'paper');
  assert.ok(model.module instanceof Standardized);
  assert.equal(model.frontEnd, RECIPES.paper.frontEnd);
  const files = readdirSync(wavDir).sort().filter((_, i) => i % 40 === 5).map((f) => join(wavDir, f));
  const feats = await Promise.all(files.map((f) => logMelFromFile(engine, f, { model })));
  const w = readWav(files[0]);
  assertClose(await logMel(engine, w.samples, w.sampleRate), feats[0], 0, 'logMel without a model: the default recipe, paper');
  assert.ok(feats.every((x) => x.length === 373 * 64));
  assert.ok(feats[0].some((v) => v < 0), 'ln-Mel values (negative for quiet bands), not the [0, 1] dB scale');
  await trainModel(model, { features: feats, labels: feats.map((_, i) => CLASSES[i % 4]) }, { iterations: 3, batchSize: 4, eps: 0.1 });
  const norm = (model.module as Standardized).inputNorm;
  const mean = (await norm.mean.read()) as Float32Array;
  const std = (await norm.std.read()) as Float32Array;
  // Fitted on the training features: the per-band mean over all their frames.
  const want = new Float64Array(64);
  for (const x of feats) for (let i = 0; i < x.length; i++) want[i % 64] += x[i] / (feats.length * 373);
  assertClose(mean, want, 1e-4, 'standardisation mean = band means of the training features');
  assert.equal([model.metadata.recipe, model.metadata.fit, model.metadata.advStart], ['paper', 'tile', '0']);
  const f = feats[1];
  // FGSM with eps below beta: every value moves by eps standard deviations of its band.
  const a = await attack(model, f, { eps: 0.05 });
  assert.ok(Math.abs(a.maxChange - 0.05) < 1e-5, `max change ${a.maxChange}`);
  for (let i = 0; i < f.length; i++) {
    const d = Math.abs(a.adversarial[i] - f[i]);
    if (d > 0.05 * std[i % 64] * (1 + 1e-4) + 1e-5) assert.unreachable(`value ${i} moved ${d}, more than eps * std ${0.05 * std[i % 64]}`);
  }
  // The adversarial features are in the features' units: predicting them gives `after`.
  const [again] = await predict(model, a.adversarial);
  assertClose(CLASSES.map((c) => again.probabilities[c]), CLASSES.map((c) => a.after.probabilities[c]), 1e-4, 'predict(adversarial) = after');
  // The ball clip: eps 0.5 is cut to beta 0.1 (the recipe's) around x, unless beta allows more.
  const clipped = await attack(model, f, { method: 'pgd', eps: 0.5, steps: 2 });
  assert.ok(clipped.maxChange <= 0.1 + 1e-5 && clipped.maxChange > 0.09, `max change ${clipped.maxChange} with beta 0.1`);
  const wide = await attack(model, f, { eps: 0.5, beta: 1 });
  assert.ok(Math.abs(wide.maxChange - 0.5) < 1e-5, `max change ${wide.maxChange} with beta 1`);
  // Targeted: the target's probability rises.
  const target = CLASSES.find((c) => c !== a.before.label)!;
  const t = await attack(model, f, { eps: 0.1, target });
  assert.is(t.attacked, target);
  assert.ok(t.after.probabilities[target] > t.before.probabilities[target], `${target}: ${t.before.probabilities[target]} -> ${t.after.probabilities[target]}`);
  await rejects(() => attack(model, f, { eps: 0.1, target, label: target }), /not both/);
  // Its checkpoint loads back as the same paper model.
  const back = modelFromBytes(engine, await model.toSafetensors());
  assert.is(back.recipe.name, 'paper');
  const [p0] = await predict(model, f);
  const [p1] = await predict(back, f);
  assertClose(CLASSES.map((c) => p1.probabilities[c]), CLASSES.map((c) => p0.probabilities[c]), 0, 'paper checkpoint round trip');
  for (const m of [model, back]) m.dispose();
});

test('trainOnCorpus: the shipped EmoDB subset, speakers of fold 0 held out, progress reported, UAR in [0, 1]', async () => {
  const engine = await testEngine();
  const seen: number[] = [];
  const r = await trainOnCorpus(engine, { corpus: 'emodb', model: 'small', recipe: 'db', iterations: 3, batchSize: 4, heldOutFold: 0, seed: 2, logEvery: 1, onProgress: (p) => seen.push(p.iteration) });
  assert.equal(seen, [1, 2, 3]);
  assert.is(r.losses.length, 3);
  assert.is(r.heldOut!.count, 81); // speakers 03 and 08: 81 of the 339 utterances
  assert.ok(r.heldOut!.uar >= 0 && r.heldOut!.uar <= 1);
  assert.equal([r.model.metadata.corpus, r.model.metadata.heldOutFold, r.model.metadata.iterations, r.model.metadata.recipe], ['emodb', '0', '3', 'db']);
  // Its checkpoint loads back as the same model.
  const again = modelFromBytes(engine, await r.model.toSafetensors());
  assert.is(again.name, 'small');
  assert.is(again.recipe.name, 'db');
  for (const m of [r.model, again]) m.dispose();
});

test('trainOnCorpus with the default recipe (paper): the standardisation fitted, the held-out UAR, a checkpoint that loads as paper', async () => {
  const engine = await testEngine();
  const r = await trainOnCorpus(engine, { corpus: 'emodb', model: 'small', iterations: 3, batchSize: 4, eps: 0.1, heldOutFold: 0, seed: 2 });
  assert.is(r.model.recipe.name, 'paper');
  assert.is(r.heldOut!.count, 81);
  assert.ok(r.heldOut!.uar >= 0 && r.heldOut!.uar <= 1);
  assert.equal([r.model.metadata.recipe, r.model.metadata.fit, r.model.metadata.advStart, r.model.metadata.beta], ['paper', 'tile', '0', '0.1']);
  const mean = (await (r.model.module as Standardized).inputNorm.mean.read()) as Float32Array;
  assert.ok(mean.some((v) => v !== 0), 'fitted');
  const again = modelFromBytes(engine, await r.model.toSafetensors());
  assert.is(again.recipe.name, 'paper');
  assert.ok(again.module instanceof Standardized);
  assertClose((await (again.module as Standardized).inputNorm.mean.read()) as Float32Array, mean, 0, 'the statistics travel in the checkpoint');
  for (const m of [r.model, again]) m.dispose();
});

test("npm pack -> npm install in an empty folder -> the README's Node snippet prints our probabilities", async () => {
  const npm = (args: string[], cwd: string) => {
    const r = spawnSync('npm', args, { cwd, encoding: 'utf8', env: { ...process.env, ONNXRUNTIME_NODE_INSTALL: 'skip' } });
    assert.is(r.status, 0, `npm ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  // What prepack does after the build: the declarations.
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.types.json'], { encoding: 'utf8' });
  assert.is(tsc.status, 0, tsc.stdout + tsc.stderr);
  const packDir = join(dir, 'pack');
  mkdirSync(packDir);
  npm(['pack', '--ignore-scripts', '--silent', '--pack-destination', packDir], root);
  const tarball = join(packDir, readdirSync(packDir).find((f) => f.endsWith('.tgz'))!);
  const size = readFileSync(tarball).length;
  console.log(`  tarball: ${(size / 1e6).toFixed(1)} MB`);
  assert.ok(size < 25e6, `tarball ${size} bytes`);
  const listing = spawnSync('tar', ['tzf', tarball], { encoding: 'utf8' }).stdout.split('\n');
  for (const f of ['package/dist/lib/index.js', 'package/dist/lib/browser.js', 'package/dist/types/src/index.d.ts', 'package/dist/types/src/browser-index.d.ts', 'package/bin/ser.js', 'package/LICENSE', 'package/README.md', 'package/data/emodb4-16k/LICENSE']) assert.ok(listing.includes(f), f);
  assert.is(listing.filter((f) => f.startsWith('package/data/emodb4-16k/wav/')).length, 339);
  assert.not.ok(listing.some((f) => /^package\/(test|src|kernels|shaders|bench|node_modules)\//.test(f) || f.startsWith('package/dist/test/')), 'no sources, tests or modules');

  const app = join(dir, 'app');
  mkdirSync(app);
  npm(['init', '-y'], app);
  npm(['install', '--prefer-offline', '--no-audit', '--no-fund', '--loglevel=error', tarball], app);
  assert.ok(existsSync(join(app, 'node_modules/ser-webgpu/dist/lib/index.js')));

  const { path, model } = await checkpoint();
  writeFileSync(join(app, 'predict.mjs'), readmeSnippet('node'));
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: '1' };
  delete env.FORCE_COLOR; // plain numbers in console.log's output
  const r = spawnSync(process.execPath, ['predict.mjs', path, wav], { cwd: app, encoding: 'utf8', env });
  assert.is(r.status, 0, r.stderr);
  console.log(`  snippet printed: ${r.stdout.trim().split('\n').join(' | ')}`);
  const at = r.stdout.indexOf('after FGSM');
  assert.ok(at > 0, r.stdout);
  const [cleanLine, fgsmLine] = [r.stdout.slice(0, at), r.stdout.slice(at)];
  const printed = (line: string) => CLASSES.map((c) => Number(new RegExp(`${c}: ([0-9.e-]+)`).exec(line)?.[1]));
  const engine = await testEngine();
  const [want] = await predict(model, await logMel(engine, readWav(wav).samples, readWav(wav).sampleRate, { model }));
  assert.ok(cleanLine.startsWith(want.label + ' '), cleanLine);
  assertClose(printed(cleanLine), CLASSES.map((c) => want.probabilities[c]), 1e-5, 'probabilities printed by the installed package');
  assert.match(fgsmLine, /^after FGSM (angry|happy|neutral|sad) \{/);
  assert.ok(Math.abs(printed(fgsmLine).reduce((a, b) => a + b, 0) - 1) < 1e-4, fgsmLine);

  // The declarations resolve for a TypeScript user of the installed package.
  writeFileSync(join(app, 'use.ts'), "import { predict, type Prediction, type SerModel } from 'ser-webgpu';\nexport const f: (m: SerModel, x: Float32Array) => Promise<Prediction[]> = predict;\n");
  writeFileSync(join(app, 'tsconfig.json'), JSON.stringify({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, module: 'nodenext', moduleResolution: 'nodenext', types: [] }, files: ['use.ts'] }));
  const types = spawnSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.'], { cwd: app, encoding: 'utf8' });
  assert.is(types.status, 0, types.stdout + types.stderr);
  model.dispose();
});

test.run();
