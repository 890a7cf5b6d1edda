// Reports: the PNG encoder (decoded back with zlib), the Table 3 layout from fold results
// (means and standard deviations recomputed here), and `ser report` end to end.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { inflateSync } from 'node:zlib';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { encodePng } from '../src/report/png.js';
import { crc32 } from '../src/io/crc32.js';
import { table3, summarize, fgsmGridTable } from '../src/report/table.js';
import { saveFoldResult, type FoldResult } from '../src/experiment/results.js';
import { testRandom } from './helpers/check.js';

const rng = testRandom('report');

test('PNG: valid chunks and CRCs, pixels decode back', () => {
  const [w, h] = [7, 5];
  const rgb = Uint8Array.from({ length: w * h * 3 }, () => rng.int(256));
  const png = encodePng(w, h, rgb);
  assert.equal(Array.from(png.subarray(0, 8)), [137, 80, 78, 71, 13, 10, 26, 10]);
  const view = new DataView(png.buffer, png.byteOffset);
  let at = 8;
  let idat = new Uint8Array();
  while (at < png.length) {
    const len = view.getUint32(at);
    const type = new TextDecoder().decode(png.subarray(at + 4, at + 8));
    assert.is(view.getUint32(at + 8 + len), crc32(png.subarray(at + 4, at + 8 + len)), `${type} CRC`);
    if (type === 'IHDR') assert.equal([view.getUint32(at + 8), view.getUint32(at + 12)], [w, h]);
    if (type === 'IDAT') idat = png.slice(at + 8, at + 8 + len);
    at += 12 + len;
  }
  const raw = inflateSync(idat);
  for (let y = 0; y < h; y++) {
    assert.is(raw[y * (1 + 3 * w)], 0, 'filter byte');
    assert.equal(Array.from(raw.subarray(y * (1 + 3 * w) + 1, (y + 1) * (1 + 3 * w))), Array.from(rgb.subarray(y * 3 * w, (y + 1) * 3 * w)));
  }
});

function fakeResult(model: string, trainEps: number, fold: number): FoldResult {
  const s = () => ({ uar: rng.uniform(0.2, 0.7), wa: rng.uniform(0.2, 0.7), recall: [0, 0, 0, 0], confusion: [[3, 1, 0, 0], [0, 2, 1, 0], [1, 0, 4, 0], [0, 0, 1, 5]] });
  return {
    corpus: 'emodb', model, trainEps, fold, iterations: 10, seed: 1, clean: s(),
    attacks: [0.02, 0.1].map((eps) => ({ kind: 'fgsm' as const, eps, scores: s() })),
    losses: [{ iteration: 5, loss: 1.2 }, { iteration: 10, loss: 0.9 }], trainSeconds: 1, adapter: 'test', testSize: 10, trainSize: 40,
  };
}

test('Table 3 cells are mean ± std over folds, with the paper beside them', () => {
  const results = [0, 1, 2].flatMap((f) => [fakeResult('cnn5', 0, f), fakeResult('cnn5', 0.02, f)]);
  const md = table3(results);
  const adv = results.filter((r) => r.trainEps === 0.02);
  const clean = summarize(adv.map((r) => r.clean.uar));
  const fg = summarize(adv.map((r) => r.attacks[0].scores.uar));
  const sd = Math.sqrt(adv.reduce((a, r) => a + (r.clean.uar - clean.mean) ** 2, 0) / 2);
  assert.ok(Math.abs(sd - clean.std) < 1e-12);
  assert.match(md, `| adversarial | 0.02 | ${clean.mean.toFixed(3)} ± ${clean.std.toFixed(3)} / ${fg.mean.toFixed(3)} ± ${fg.std.toFixed(3)} (3 folds) | 0.584 / 0.511 |`);
  assert.match(md, '| standard | 0.00 |');
});

test('FGSM grid: every (model, training eps) row at every test eps, mean ± std over its folds', () => {
  const results = [0, 1].flatMap((f) => [fakeResult('small', 0, f), fakeResult('small', 0.1, f)]);
  const md = fgsmGridTable(results);
  assert.match(md, '| model | training eps | clean | FGSM 0.02 | FGSM 0.1 |');
  for (const e of [0, 0.1]) {
    const rs = results.filter((r) => r.trainEps === e);
    const cell = (v: number[]) => `${summarize(v).mean.toFixed(3)} ± ${summarize(v).std.toFixed(3)}`;
    const row = `| small | ${e.toFixed(2)} | ${cell(rs.map((r) => r.clean.uar))} | ${cell(rs.map((r) => r.attacks[0].scores.uar))} | ${cell(rs.map((r) => r.attacks[1].scores.uar))} |`;
    assert.match(md, row);
  }
  assert.is(fgsmGridTable(results.map((r) => ({ ...r, attacks: [] }))), '', 'no FGSM evaluated: no table');
});

test('ser report writes report.md and figures; refuses an empty folder', () => {
  const dir = mkdtempSync(join(tmpdir(), 'ser-report-'));
  try {
    for (const f of [0, 1]) for (const e of [0, 0.02]) saveFoldResult(dir, fakeResult('cnn5', e, f));
    const r = spawnSync(process.execPath, ['bin/ser.js', 'report', dir], { encoding: 'utf8' });
    assert.is(r.status, 0, r.stderr);
    assert.match(readFileSync(join(dir, 'report.md'), 'utf8'), 'Table 3 layout');
    for (const f of ['fig3-uar-vs-eps.svg', 'training-curves.svg', 'confusion-cnn5-eps0.00.svg']) {
      assert.ok(existsSync(join(dir, f)), f);
      assert.match(readFileSync(join(dir, f), 'utf8'), /^<svg [^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    }
    const empty = mkdtempSync(join(tmpdir(), 'ser-report-empty-'));
    const e = spawnSync(process.execPath, ['bin/ser.js', 'report', empty], { encoding: 'utf8' });
    assert.is(e.status, 2);
    assert.match(e.stderr, /no fold results/);
    rmSync(empty, { recursive: true, force: true });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
