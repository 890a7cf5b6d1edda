// The browser app end to end in headless Chromium (Debian's package, WebGPU on SwiftShader),
// against the Node pipeline on the same WAV and checkpoint: features, probabilities and the
// FGSM result must agree to 1e-4 across the two WebGPU implementations. Also: the file-input
// path of the UI, training on a picked folder with a downloadable checkpoint the CLI loads,
// recovery from a lost device, and the message when the browser has no WebGPU.
// Skipped (with a message) when /usr/bin/chromium is absent: `apt-get install -y chromium`.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, readFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { testEngine } from './helpers/gpu.js';
import { testRandom, assertClose } from './helpers/check.js';
import { serveStatic } from '../src/cli/serve.js';
import { writeWav16 } from '../src/data/synthetic.js';
import { FrontEnd, loadUtterance } from '../src/audio/frontend.js';
import { createModel } from '../src/models/index.js';
import { modelToSafetensors, loadModelFromSafetensors } from '../src/nn/checkpoint.js';
import { predict } from '../src/train/evaluate.js';
import type { Random } from '../src/util/random.js';
import type { Module } from '../src/nn/module.js';
import { fgsm } from '../src/attacks/fgsm.js';
import { softmax } from '../src/ops/loss.js';
import { noGrad } from '../src/autograd/tape.js';
import { writeFileAtomic } from '../src/io/atomic.js';

const CHROMIUM = '/usr/bin/chromium';
const WEB = resolve('dist/web');
const EPS = 0.05;

/** A voice-like test signal: a few harmonics with a moving pitch, an envelope and noise. */
function voice(rng: Random, seconds: number, rate: number): Float32Array {
  const n = Math.round(seconds * rate);
  const f0 = rng.uniform(100, 250);
  const x = new Float32Array(n);
  let phase = 0;
  for (let i = 0; i < n; i++) {
    const t = i / rate;
    phase += (2 * Math.PI * f0 * (1 + 0.2 * Math.sin(2 * Math.PI * 1.5 * t))) / rate;
    let s = 0;
    for (let h = 1; h <= 6; h++) s += Math.sin(h * phase) / h;
    x[i] = 0.3 * s * (0.5 + 0.5 * Math.sin(Math.PI * 3 * t) ** 2) + 0.02 * rng.normal();
  }
  return x;
}

test('ser serve: the app files with their MIME types, 404 for missing files, nothing outside the folder', async () => {
  const root = mkdtempSync(join(tmpdir(), 'ser-serve-test-'));
  mkdirSync(join(root, 'web'));
  writeFileSync(join(root, 'web', 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(root, 'web', 'app.js'), 'export {};');
  writeFileSync(join(root, 'web', 'style.css'), 'body{}');
  writeFileSync(join(root, 'secret.txt'), 'no');
  const { server, url } = await serveStatic(join(root, 'web'), '127.0.0.1', 0);
  try {
    assert.match(url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const get = (path: string) => fetch(new URL(path, url));
    const index = await get('/');
    assert.is(index.status, 200);
    assert.is(index.headers.get('content-type'), 'text/html; charset=utf-8');
    assert.is(await index.text(), '<!doctype html><title>t</title>');
    assert.is((await get('/app.js')).headers.get('content-type'), 'text/javascript; charset=utf-8');
    assert.is((await get('/style.css')).headers.get('content-type'), 'text/css; charset=utf-8');
    assert.is((await get('/nope.js')).status, 404);
    assert.is((await get('/..%2fsecret.txt')).status, 403); // an encoded slash survives URL parsing
    assert.is((await fetch(url, { method: 'POST' })).status, 405);
  } finally {
    server.close();
  }
});

if (!existsSync(CHROMIUM)) {
  console.log(`  browser end-to-end tests skipped: ${CHROMIUM} not found (apt-get install -y chromium)`);
  test.skip(`browser end to end: ${CHROMIUM} not found (install Debian's chromium: apt-get install -y chromium)`, () => undefined);
} else if (!existsSync(join(WEB, 'index.html'))) {
  test('browser end to end: the app is built', () => assert.unreachable(`${WEB}/index.html missing: run node scripts/build.mjs`));
} else {
  let context: BrowserContext;
  let page: Page;
  let url: string;
  let close: () => void;
  const dir = mkdtempSync(join(tmpdir(), 'ser-browser-test-'));
  const wavPath = join(dir, 'probe.wav');
  const ckptPath = join(dir, 'cnn5.safetensors');
  const node: { features?: Float32Array; clean?: Float32Array; adv?: Float32Array; advFeatures?: Float32Array; label?: number; model?: Module } = {};

  test.before(async () => {
    try {
      await start();
    } catch (e) {
      // uvu reports a failing hook as nothing at all: say what went wrong.
      console.log(`  browser start-up failed: ${(e as Error).stack ?? e}`);
      throw e;
    }
  });

  async function start(): Promise<void> {
    const { chromium } = await import('playwright-core');
    const served = await serveStatic(WEB, '127.0.0.1', 0);
    url = served.url;
    const profile = mkdtempSync(join(tmpdir(), 'ser-chromium-profile-'));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      acceptDownloads: true,
      viewport: { width: 1100, height: 900 },
      args: ['--headless=new', '--no-sandbox', '--disable-gpu-sandbox', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--enable-unsafe-webgpu', '--use-webgpu-adapter=swiftshader', '--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream'],
    });
    close = () => served.server.close();
    page = context.pages()[0] ?? (await context.newPage());
    page.on('pageerror', (e) => console.log(`  page error: ${e.message}`));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.log(`  page console ${m.type()}: ${m.text()}`);
      if (/Content Security Policy/i.test(m.text())) cspViolations.push(m.text());
    });
    const first = await page.goto(url);
    servedCsp = (await first?.allHeaders())?.['content-security-policy'] ?? '';
    await page.waitForFunction(() => (window as any).__ser !== undefined);
    await page.evaluate(() => (window as any).__ser.ready);
  }

  test.after(async () => {
    await context?.close();
    close?.();
  });

  let servedCsp = '';
  const cspViolations: string[] = [];

  test('the page finds a WebGPU adapter', async () => {
    const state = await page.evaluate(() => (window as any).__ser.state());
    console.log(`  browser adapter: ${state.adapter}`);
    assert.ok(state.adapter, `no adapter: ${state.engineError}`);
    assert.match(await page.textContent('#gpu-status') ?? '', 'WebGPU adapter');
  });

  test('Node pipeline: WAV fixture, checkpoint, features, prediction, FGSM', async () => {
    const rng = testRandom('browser fixture');
    // 22.05 kHz so the resampler is part of the comparison.
    writeWav16(wavPath, voice(rng, rng.uniform(1.2, 2.2), 22050), 22050);
    const engine = await testEngine();
    const model = createModel('cnn5', engine, { seed: rng.int(1 << 30) });
    // Random batchnorm statistics and gammas, so every saved tensor matters (training steps would cost minutes here).
    for (const [name, t] of model.stateEntries()) {
      if (name.endsWith('running_mean')) t.engine.write(t.buffer, Float32Array.from({ length: t.size }, () => rng.uniform(-0.2, 0.2)));
      if (name.endsWith('running_var') || (/\d\.weight$/.test(name) && t.shape.length === 1)) t.engine.write(t.buffer, Float32Array.from({ length: t.size }, () => rng.uniform(0.5, 2)));
    }
    writeFileAtomic(ckptPath, await modelToSafetensors(model, { model: 'cnn5', fit: 'resize', trainEps: '0', corpus: 'test', iterations: '0' }));

    const front = new FrontEnd(engine, { fit: 'resize' });
    [node.features] = await front.logMel([loadUtterance(wavPath)]);
    front.dispose();
    const set = { features: [node.features], labels: [0], shape: [1, 373, 64] as [number, number, number] };
    node.clean = (await predict(engine, model, set)).probabilities[0];
    node.label = node.clean.indexOf(Math.max(...node.clean));
    node.adv = (await predict(engine, model, { ...set, labels: [node.label] }, { kind: 'fgsm', eps: EPS })).probabilities[0];
    model.eval();
    node.advFeatures = await engine.scopeAsync(async () => {
      const x = engine.fromArray(node.features!, [1, 1, 373, 64]);
      return (await fgsm(model, x, engine.fromArray([node.label!], [1], 'i32'), EPS).read()) as Float32Array;
    });
    node.model = model; // kept: the browser's adversarial features are scored with it below
    assert.is(node.features.length, 373 * 64);
  });

  test('UI: choosing the WAV and the checkpoint with the file inputs shows a prediction', async () => {
    await page.setInputFiles('#wav-input', wavPath);
    await page.waitForFunction(() => document.querySelector('#audio-info')!.textContent!.includes('probe.wav'));
    await page.setInputFiles('#ckpt-input', ckptPath);
    await page.waitForFunction(() => document.querySelectorAll('#probs-clean .bar').length === 4, null, { timeout: 120_000 });
    await page.waitForFunction(() => document.querySelectorAll('#probs-adv .bar').length === 4, null, { timeout: 120_000 });
    assert.match((await page.textContent('#ckpt-info')) ?? '', 'cnn5, fit resize');
    const shown = await page.$$eval('#probs-clean .num', (els) => els.map((e) => Number(e.textContent!.replace('%', '')) / 100));
    assertClose(shown, Array.from(node.clean!), 1e-3, 'probabilities shown on the page (rounded to 0.1%)');
  });

  test('browser features, probabilities and FGSM match the Node pipeline to 1e-4', async () => {
    const bytes = Array.from(readFileSync(wavPath));
    const ckpt = Array.from(readFileSync(ckptPath));
    await page.evaluate(([w, c]) => (window as any).__ser.loadWavBytes(w, 'probe.wav').then(() => (window as any).__ser.loadCheckpointBytes(c, 'cnn5.safetensors')), [bytes, ckpt]);
    const features: number[] = await page.evaluate(() => (window as any).__ser.features());
    assertClose(features, node.features!, 1e-4, 'log-Mel features (browser vs Node)');
    const probs: number[] = await page.evaluate(() => (window as any).__ser.predict());
    console.log(`  clean: browser ${probs.map((p) => p.toFixed(6)).join(' ')} / node ${Array.from(node.clean!, (p) => p.toFixed(6)).join(' ')}`);
    assertClose(probs, node.clean!, 1e-4, 'clean probabilities (browser vs Node)');
    const r = await page.evaluate((eps) => (window as any).__ser.attack(eps), EPS);
    console.log(`  FGSM eps ${EPS}: browser ${r.after.map((p: number) => p.toFixed(6)).join(' ')} / node ${Array.from(node.adv!, (p) => p.toFixed(6)).join(' ')}`);
    assert.is(r.label, node.label, 'attacked label = clean prediction');
    assertClose(r.before, node.clean!, 1e-4, 'probabilities before the attack');
    // sign() is discontinuous at 0: where the input gradient is ~0, float rounding differences
    // between the two WebGPU implementations may flip single elements (a 2 eps step each). So:
    // few elements may differ, the model must score the browser's x_adv exactly as the browser
    // does (1e-4), and the end-to-end FGSM probabilities agree to 1e-3.
    const advB = Float32Array.from(r.adversarial as number[]);
    const differ = advB.filter((v, i) => Math.abs(v - node.advFeatures![i]) > 1e-4).length;
    console.log(`  FGSM elements that differ between browser and Node: ${differ} of ${advB.length}`);
    assert.ok(differ <= advB.length * 0.005, `${differ} adversarial elements differ`);
    const engine = await testEngine();
    const rescored = await engine.scopeAsync(async () => (await noGrad(engine, () => softmax(node.model!.forward(engine.fromArray(advB, [1, 1, 373, 64])))).read()) as Float32Array);
    assertClose(r.after, rescored, 1e-4, "FGSM probabilities (browser vs Node's model on the browser's x_adv)");
    assertClose(r.after, node.adv!, 1e-3, 'FGSM probabilities (browser vs Node predict with fgsm)');
    assert.ok(r.maxChange <= EPS + 1e-6 && r.maxChange > EPS / 2, `perturbation bounded by eps: max |x_adv - x| = ${r.maxChange}`);
    node.model!.dispose();
  });

  test('screenshot of the analysis', async () => {
    const shot = join(dir, 'page-analysis.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  screenshot: ${shot}`);
    assert.ok(readFileSync(shot).length > 10_000);
  });

  test('training on a picked folder: curves, checkpoint download that the CLI code loads, resume after a lost device', async () => {
    const rng = testRandom('browser training folder');
    const corpus = join(dir, 'emodb', 'wav');
    mkdirSync(corpus, { recursive: true });
    // EmoDB names: 2 speakers x 4 classes (+ a boredom file that must be left out).
    for (const spk of ['03', '08']) for (const emo of ['W', 'F', 'N', 'T', 'L']) writeWav16(join(corpus, `${spk}a01${emo}a.wav`), voice(rng, 0.6, 16000), 16000);
    await page.setInputFiles('#folder-input', join(dir, 'emodb'));
    await page.waitForFunction(() => /training files/.test(document.querySelector('#data-info')!.textContent!), null, { timeout: 120_000 });
    const info = (await page.textContent('#data-info')) ?? '';
    assert.match(info, '4 training files', info); // speaker 03 held out (every 5th speaker, sorted)
    assert.match(info, '4 held out', info);
    assert.match(info, '2 of other emotions left out', info);
    await page.fill('#t-iterations', '4');
    await page.fill('#t-batch', '2');
    await page.fill('#t-every', '2');
    await page.click('#t-start');
    await page.waitForFunction(() => ((window as any).__ser.state().snapshotIteration ?? 0) >= 2, null, { timeout: 300_000 });
    // The device goes away mid-run; the page reacquires one and resumes from the last checkpoint.
    await page.evaluate(() => (window as any).__ser.loseDevice());
    // SwiftShader finishes the work already queued on the lost device before granting a new one.
    await page.waitForFunction(() => (window as any).__ser.state().adapter !== null && !document.querySelector<HTMLButtonElement>('#t-resume')!.disabled, null, { timeout: 300_000 });
    assert.match((await page.textContent('#banner')) ?? '', 'GPU device was lost');
    await page.click('#t-resume', { timeout: 120_000 });
    await page.waitForFunction(() => (window as any).__ser.state().snapshotIteration === 4 && !(window as any).__ser.state().trainingActive, null, { timeout: 300_000 });
    const state = await page.evaluate(() => (window as any).__ser.state());
    const losses: [number, number][] = state.history.loss;
    const uars: [number, number][] = state.history.uar;
    console.log(`  browser training: loss ${losses.map(([i, l]) => `${i}:${l.toFixed(3)}`).join(' ')}; UAR ${uars.map(([i, u]) => `${i}:${u.toFixed(2)}`).join(' ')}`);
    assert.ok(losses.length >= 2 && losses.every(([, l]) => Number.isFinite(l) && l > 0), 'finite losses');
    assert.equal(uars.map(([i]) => i), [2, 4], 'one held-out UAR per chunk, none lost or repeated by the resume');
    assert.ok(uars.every(([, u]) => u >= 0 && u <= 1), 'UAR in [0, 1]');
    const [download] = await Promise.all([page.waitForEvent('download'), page.click('#t-download')]);
    const bytes = readFileSync((await download.path())!);
    const engine = await testEngine();
    const model = createModel('cnn5', engine);
    const meta = loadModelFromSafetensors(model, bytes, download.suggestedFilename());
    model.dispose();
    assert.is(meta.model, 'cnn5');
    assert.is(meta.iterations, '4');
    assert.is(meta.fit, 'resize');
    const shot = join(dir, 'page-training.png');
    await page.screenshot({ path: shot, fullPage: true });
    console.log(`  screenshot: ${shot}`);
  });

  test('recording from the (fake) microphone: decoded, resampled to 16 kHz, analysed', async () => {
    await page.click('#record');
    await page.waitForFunction(() => document.querySelector('#record')!.textContent!.includes('Stop'));
    await page.waitForTimeout(1500);
    await page.click('#record');
    await page.waitForFunction(() => document.querySelector('#audio-info')!.textContent!.includes('microphone recording'), null, { timeout: 120_000 });
    const info = (await page.textContent('#audio-info')) ?? '';
    console.log(`  ${info}`);
    const seconds = Number(/: ([\d.]+) s/.exec(info)?.[1]);
    assert.ok(seconds > 0.5 && seconds < 10, info);
    const features: number[] = await page.evaluate(() => (window as any).__ser.features());
    assert.is(features.length, 373 * 64);
    assert.ok(features.every((v) => v >= 0 && v <= 1), 'features on the [0, 1] scale');
  });

  test("the app runs under ser serve's Content-Security-Policy without a violation", () => {
    assert.match(servedCsp, /default-src 'self'/, 'the page was served with the CSP');
    assert.equal(cspViolations, [], 'no CSP violations in the console');
  });

  test('a browser without WebGPU gets a clear message', async () => {
    const p = await context.newPage();
    await p.addInitScript(() => delete (Navigator.prototype as any).gpu);
    await p.goto(url);
    await p.waitForFunction(() => (window as any).__ser !== undefined);
    await p.evaluate(() => (window as any).__ser.ready);
    const text = (await p.textContent('#banner')) ?? '';
    assert.match(text, 'WebGPU is not available');
    assert.match(text, 'navigator.gpu is missing');
    await p.close();
  });
}

test.run();
