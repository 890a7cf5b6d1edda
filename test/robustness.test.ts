// The paper's claims, checked on real speech (EmoDB, held-out speakers 03 and 08) with the
// small CNN so they fit in CI on a software adapter: training beats chance, FGSM at eps 0.1
// lowers the UAR of a standard-trained model, and adversarial training at eps 0.02 (same
// fold, same seed) raises the UAR under FGSM at eps 0.02. (At eps 0.1 both of these short
// runs collapse to one class under attack, UAR 0.25, so the comparison is made where the
// paper starts its grid.) Uses ../shared/data/emodb, or the shipped 16 kHz subset in
// data/emodb4-16k when that is absent.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { testEngine } from './helpers/gpu.js';
import { sharedDataDir } from '../src/data/open.js';
import { loadEmodb } from '../src/data/emodb.js';
import { bundledEmodbDir } from '../src/data/emodb-subset.js';
import { corpusFeatures } from '../src/experiment/features.js';
import { runFold } from '../src/experiment/run-fold.js';
import { DEFAULT_TRAIN } from '../src/train/train.js';
import type { FoldResult } from '../src/experiment/results.js';

const emodb = existsSync(join(sharedDataDir(), 'emodb')) ? join(sharedDataDir(), 'emodb') : bundledEmodbDir();
const EPS = 0.1;
const TRAIN_EPS = 0.02;
const cache = mkdtempSync(join(tmpdir(), 'ser-robust-'));

if (!existsSync(emodb)) {
  console.log(`  robustness tests skipped: no EmoDB at ${emodb} (set SER_DATA)`);
  test.skip('EmoDB robustness claims');
} else {
  const results: Record<string, FoldResult> = {};
  const run = async (eps: number) => {
    const engine = await testEngine();
    engine.poisonNewTensors = false;
    try {
      const corpus = await loadEmodb(emodb);
      const { features } = await corpusFeatures(engine, corpus, { fit: 'resize' }, { cacheDir: cache });
      const cfg = { ...DEFAULT_TRAIN, iterations: 100, batchSize: 16, seed: 7, eps };
      return await runFold(engine, corpus, features, [1, 373, 64], { model: 'small', fold: 0, train: cfg, fgsmEps: [TRAIN_EPS, EPS], pgdEps: [], pgdSteps: 10, noiseSnr: [] });
    } finally {
      engine.poisonNewTensors = true;
    }
  };

  test('standard training beats chance on held-out speakers, and FGSM lowers its UAR', async () => {
    const r = (results.standard = await run(0));
    const fgsm = r.attacks[1].scores.uar;
    console.log(`  standard: clean UAR ${r.clean.uar.toFixed(3)}, FGSM eps ${EPS} UAR ${fgsm.toFixed(3)} (${r.testSize} test utterances)`);
    assert.ok(r.clean.uar > 0.4, `clean UAR ${r.clean.uar} should clearly beat chance (0.25)`);
    assert.ok(fgsm < r.clean.uar - 0.1, `FGSM UAR ${fgsm} should fall well below clean ${r.clean.uar}`);
  });

  test('adversarial training at eps 0.02 raises the FGSM eps 0.02 UAR over standard training (same fold and seed)', async () => {
    const r = await run(TRAIN_EPS);
    const std = results.standard;
    assert.ok(std, 'the standard run above must have finished');
    const fgsm = r.attacks[0].scores.uar;
    const base = std.attacks[0].scores.uar;
    console.log(`  FGSM eps ${TRAIN_EPS}: standard UAR ${base.toFixed(3)}; adversarial (eps ${TRAIN_EPS}) clean UAR ${r.clean.uar.toFixed(3)}, FGSM UAR ${fgsm.toFixed(3)}`);
    assert.ok(fgsm > base + 0.05, `adversarial FGSM UAR ${fgsm} vs standard ${base}`);
  });
}

test.after(() => rmSync(cache, { recursive: true, force: true }));
test.run();
