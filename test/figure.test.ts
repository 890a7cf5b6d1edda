// The shared figure layout (src/report/figure.ts) and its SVG rendering: axes in seconds and
// Hz at the Mel bank's band centres, colour bars with units, pixels where the data are.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { heatmapItems, niceTicks, colourOf, stackedFigure, type FigureItem, type HeatmapSpec } from '../src/report/figure.js';
import { figureToSvg } from '../src/report/figure-svg.js';
import { bandCentresHz, featureSeconds, featureUnits } from '../src/report/feature-units.js';
import { RECIPES } from '../src/audio/recipe.js';
import { lineChart } from '../src/report/svg.js';
import { fitNote } from '../src/report/attack-figure.js';
import { testRandom } from './helpers/check.js';

const rng = testRandom('figure');
const texts = (items: FigureItem[]) => items.filter((i): i is Extract<FigureItem, { kind: 'text' }> => i.kind === 'text');

test('niceTicks: round steps covering the range', () => {
  assert.equal(niceTicks(0, 1.5, 5), [0, 0.5, 1, 1.5]);
  assert.equal(niceTicks(-80, 0, 4), [-80, -60, -40, -20, 0]);
  assert.equal(niceTicks(0, 2.37, 4), [0, 1, 2]);
  assert.equal(niceTicks(0, 0.7, 7), [0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7]);
  assert.equal(niceTicks(1, 1), [1]);
});

function spec(frames: number, over: Partial<HeatmapSpec> = {}): HeatmapSpec {
  const fe = RECIPES.db.frontEnd;
  return { title: 'T', values: new Float32Array(frames * 64), bands: 64, seconds: 2.4, bandHz: bandCentresHz(fe), lo: -80, hi: 0, unit: 'dB re utterance maximum', ...over };
}

test('band centres are the Mel bank edges 1..64: ascending, inside (fMin, fMax)', () => {
  for (const r of Object.values(RECIPES)) {
    const c = bandCentresHz(r.frontEnd);
    assert.is(c.length, 64);
    assert.ok(c[0] > r.frontEnd.fMin && c[63] < r.frontEnd.fMax);
    for (let i = 1; i < 64; i++) assert.ok(c[i] > c[i - 1]);
  }
  assert.is(featureSeconds(RECIPES.db.frontEnd, 24000), 1.5); // resize: the whole recording
  assert.is(featureSeconds(RECIPES.paper.frontEnd, 24000), (373 * 256) / 16000); // tile: frames x hop
});

test('Hz ticks sit at the band whose centre matches, labels do not overlap; time ticks span 0..seconds', () => {
  const frames = 50 + rng.int(300);
  const s = spec(frames);
  const [x0, y0, W, H] = [rng.int(50), rng.int(50), 500 + rng.int(300), 200 + rng.int(100)];
  const items = heatmapItems(s, x0, y0, W, H);
  const plot = items.find((i) => i.kind === 'image')!;
  assert.ok(plot.kind === 'image');
  if (plot.kind !== 'image') return;
  const hz = texts(items).filter((t) => t.anchor === 'end');
  assert.ok(hz.length >= 4, `Hz labels: ${hz.map((t) => t.text)}`);
  const bandH = plot.h / 64;
  for (const t of hz) {
    const f = t.text.endsWith('k') ? 1000 * Number(t.text.slice(0, -1)) : Number(t.text);
    // The band whose centre is nearest f, and where its middle is drawn.
    let b = 0;
    for (let k = 1; k < 64; k++) if (Math.abs(s.bandHz[k] - f) < Math.abs(s.bandHz[b] - f)) b = k;
    const yBand = plot.y + plot.h - (b + 0.5) * bandH;
    assert.ok(Math.abs(t.y - 4 - yBand) <= bandH / 2 + 1e-6, `${t.text} at y ${t.y - 4}, band ${b} (${s.bandHz[b].toFixed(0)} Hz) at ${yBand}`);
  }
  for (let k = 1; k < hz.length; k++) assert.ok(hz[k - 1].y - hz[k].y >= 11, 'Hz labels apart');
  const time = texts(items).filter((t) => t.anchor === 'middle' && !t.rotate && /^[\d.]+$/.test(t.text));
  assert.is(time[0].text, '0');
  assert.ok(Math.abs(time[0].x - plot.x) < 1e-9);
  const last = time[time.length - 1];
  assert.ok(Math.abs(last.x - (plot.x + (Number(last.text) / s.seconds) * plot.w)) < 1e-6 && Number(last.text) <= s.seconds);
  for (const label of ['time (s)', 'Mel band (Hz)', 'dB re utterance maximum', 'T']) assert.ok(texts(items).some((t) => t.text === label), label);
});

test('pixels: frame t, band b lands at column t, row 63 - b with the colour of its value', () => {
  const frames = 20 + rng.int(100);
  const values = new Float32Array(frames * 64).fill(-80);
  const [t, b] = [rng.int(frames), rng.int(64)];
  values[t * 64 + b] = 0;
  const plot = heatmapItems(spec(frames, { values }), 0, 0, 600, 240).find((i) => i.kind === 'image')!;
  if (plot.kind !== 'image') return assert.unreachable();
  const hot = colourOf(1);
  const cold = colourOf(0);
  for (let row = 0; row < 64; row++) {
    for (let col = 0; col < frames; col++) {
      const p = (row * frames + col) * 4;
      const want = row === 63 - b && col === t ? hot : cold;
      assert.equal([plot.rgba[p], plot.rgba[p + 1], plot.rgba[p + 2]], want, `pixel ${row},${col}`);
    }
  }
});

test('perturbation: a diverging map on a symmetric ±eps colour bar, with the unit', () => {
  const eps = 0.05;
  const units = featureUnits(RECIPES.db);
  const items = heatmapItems(spec(40, { lo: -eps, hi: eps, diverging: true, unit: `Δ (${units.epsShort})` }), 0, 0, 600, 240);
  const bar = texts(items).filter((t) => t.anchor === 'start' && t.size < 13);
  assert.equal(bar.map((t) => t.text), ['-0.05', '0', '+0.05']);
  assert.ok(texts(items).some((t) => t.text === 'Δ (of the [0, 1] range)'));
  assert.equal(colourOf(0.5, true), [247, 247, 247], 'zero is white');
});

test('SVG: every text item, the embedded images, and escaped labels', () => {
  const fig = stackedFigure([spec(30, { title: 'clean <x> & y' }), spec(30, { lo: -0.1, hi: 0.1, diverging: true })], 640, 240);
  const svg = figureToSvg(fig);
  assert.ok(svg.startsWith('<svg') && svg.trim().endsWith('</svg>'));
  assert.is((svg.match(/<text /g) ?? []).length, texts(fig.items).length);
  assert.is((svg.match(/href="data:image\/png;base64,/g) ?? []).length, 4); // two plots, two colour bars
  assert.match(svg, 'clean &lt;x&gt; &amp; y');
  assert.match(svg, 'transform="rotate(-90');
});


test('ser attack --svg: three panels with titles, axes and colour bars, in the checkpoint recipe units', async () => {
  const { spawnSync } = await import('node:child_process');
  const { mkdtempSync, readFileSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { testEngine } = await import('./helpers/gpu.js');
  const { createModel } = await import('../src/models/index.js');
  const { saveCheckpoint } = await import('../src/nn/checkpoint-file.js');
  const { writeWav16 } = await import('../src/data/synthetic.js');
  const dir = mkdtempSync(join(tmpdir(), 'ser-figure-'));
  const model = createModel('small', await testEngine(), { seed: 5 });
  await saveCheckpoint(model, join(dir, 'm.safetensors'), { model: 'small', fit: 'resize' });
  model.dispose();
  writeWav16(join(dir, 'a.wav'), Float32Array.from({ length: 16000 }, (_, i) => 0.3 * Math.sin(i / 5) + 0.01 * rng.normal()), 16000);
  const r = spawnSync(process.execPath, ['bin/ser.js', 'attack', join(dir, 'a.wav'), '--checkpoint', join(dir, 'm.safetensors'), '--eps', '0.05', '--svg', join(dir, 'fig.svg')], { encoding: 'utf8' });
  assert.is(r.status, 0, r.stderr);
  const svg = readFileSync(join(dir, 'fig.svg'), 'utf8');
  assert.match(svg, 'Clean log-Mel spectrogram of a.wav');
  assert.match(svg, 'Adversarial (FGSM, eps 0.05)');
  assert.match(svg, 'Perturbation: adversarial − clean, on ±ε');
  assert.is((svg.match(/>time \(s\)</g) ?? []).length, 3);
  assert.is((svg.match(/>Mel band \(Hz\)</g) ?? []).length, 3);
  assert.is((svg.match(/>dB re utterance maximum \(floor -80\)</g) ?? []).length, 2);
  assert.match(svg, '>+0.05<');
  assert.match(svg, '>-0.05<');
  assert.match(svg, '>1<'); // the 1 s recording's last time tick
  assert.not.match(r.stderr, /caution/, 'a 1 s tone gets no caution');
  // Half a second of silence is attacked too, with the caution `ser predict` gives it.
  writeWav16(join(dir, 'silent.wav'), new Float32Array(8000), 16000);
  const quiet = spawnSync(process.execPath, ['bin/ser.js', 'attack', join(dir, 'silent.wav'), '--checkpoint', join(dir, 'm.safetensors'), '--eps', '0.05', '--json'], { encoding: 'utf8' });
  assert.is(quiet.status, 0, quiet.stderr);
  assert.match(quiet.stderr, /silent\.wav: caution: only 0\.50 s of audio .*; silence/);
  assert.match(JSON.parse(quiet.stdout).caution, /^only 0\.50 s/);
  // Without --checkpoint, the default model ($SER_DEFAULT_MODEL here; the bundled one otherwise), as predict.
  const byDefault = spawnSync(process.execPath, ['bin/ser.js', 'attack', join(dir, 'a.wav'), '--eps', '0.05', '--json'], { encoding: 'utf8', env: { ...process.env, SER_DEFAULT_MODEL: join(dir, 'm.safetensors') } });
  assert.is(byDefault.status, 0, byDefault.stderr);
  assert.is(JSON.parse(byDefault.stdout).model, 'small');
});

test('lineChart: axis ticks at round values (training curves, UAR against eps)', () => {
  // Iterations 1..37 and losses 0..1.3862: evenly split spans would label 7.2, 14.4, 0.277...
  const points: [number, number][] = Array.from({ length: 37 }, (_, i) => [i + 1, 1.3862 * Math.exp(-i / 9) + rng.uniform(0, 0.01)]);
  const svg = lineChart({ title: 't', xLabel: 'iteration', yLabel: 'loss', series: [{ label: 'a', points }], yMin: 0 });
  const labels = [...svg.matchAll(/text-anchor="(?:middle|end)">([-0-9.e]+)</g)].map((m) => Number(m[1]));
  assert.ok(labels.length >= 6, svg);
  for (const v of labels) {
    const scaled = [1, 2, 5].some((m) => { const r = v / m; const e = 10 ** Math.round(Math.log10(Math.abs(r) || 1)); return v === 0 || Math.abs(r / e - Math.round(r / e)) < 1e-9; });
    assert.ok(scaled, `tick ${v} is not a multiple of 1, 2 or 5 times a power of ten`);
  }
});

test('fitNote: the title says when the axis shows a tiled, centred or cut clip', () => {
  const paper = RECIPES.paper.frontEnd;
  assert.is(paper.fit, 'tile');
  assert.match(fitNote(paper, 2 * 16000), /^ \(2\.0 s clip repeated to fill 6\.0 s\)$/);
  assert.match(fitNote(paper, 9 * 16000), /first 6\.0 s of 9\.0 s/);
  assert.is(fitNote(paper, (paper.frames * paper.hop)), '');
  assert.is(fitNote({ ...paper, fit: 'resize' }, 2 * 16000), '');
  assert.match(fitNote({ ...paper, fit: 'crop' }, 2 * 16000), /centred in 6\.0 s of silence/);
});

test.run();
