// The three architectures: parameter counts from independent formulas, PyTorch names,
// a training step of each on the software adapter, and checkpoint round trips.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { testEngine } from './helpers/gpu.js';
import { randomArray, testRandom, assertClose } from './helpers/check.js';
import { createModel, MODEL_NAMES } from '../src/models/index.js';
import { CNN5_CHANNELS } from '../src/models/cnn5.js';
import { VGG16_CONFIG } from '../src/models/vgg16.js';
import { train, DEFAULT_TRAIN, type FeatureSet } from '../src/train/train.js';
import { noGrad } from '../src/autograd/tape.js';
import { saveCheckpoint, loadCheckpoint } from '../src/nn/checkpoint-file.js';

const rng = testRandom('models');
const FRAMES = 373;
const BANDS = 64;

function cnn5Count(): number {
  let n = 0;
  let c = 1;
  for (const o of CNN5_CHANNELS) {
    n += 9 * c * o + 2 * o; // conv (no bias: batchnorm follows) + gamma, beta
    c = o;
  }
  return n + 256 * 4 + 4;
}

function smallCount(): number {
  // conv 3x3 without bias + batchnorm gamma, beta per block; linear 32 -> 4
  return 9 * 1 * 8 + 16 + 9 * 8 * 16 + 32 + 9 * 16 * 32 + 64 + 32 * 4 + 4;
}

function vgg16Count(): number {
  let n = 0;
  let c = 1;
  for (const v of VGG16_CONFIG) {
    if (v === 'M') continue;
    n += 9 * c * v + v + 2 * v;
    c = v;
  }
  return n + 2 * (512 * 512 + 512) + 512 * 4 + 4;
}

// torchvision's resnet50 has 25,557,032 parameters with 3 input channels and 1000 classes.
const RESNET50_COUNT = 25_557_032 - 3 * 64 * 49 + 1 * 64 * 49 - (2048 * 1000 + 1000) + (2048 * 4 + 4);

test('parameter counts', async () => {
  const e = await testEngine();
  const want = { cnn5: cnn5Count(), vgg16: vgg16Count(), resnet50: RESNET50_COUNT, small: smallCount() };
  for (const name of MODEL_NAMES) {
    const m = createModel(name, e, { seed: 3 });
    console.log(`  ${name}: ${m.parameterCount().toLocaleString('en-US')} parameters`);
    assert.is(m.parameterCount(), want[name], name);
    m.dispose();
  }
});

test('PyTorch parameter names', async () => {
  const e = await testEngine();
  const names = (n: (typeof MODEL_NAMES)[number]) => {
    const m = createModel(n, e);
    const s = m.stateEntries().map(([k]) => k);
    m.dispose();
    return s;
  };
  const r = names('resnet50');
  for (const k of ['conv1.weight', 'bn1.running_var', 'layer1.0.downsample.0.weight', 'layer4.2.bn3.bias', 'fc.weight']) assert.ok(r.includes(k), k);
  const v = names('vgg16');
  for (const k of ['features.0.weight', 'features.0.bias', 'features.1.running_mean', 'features.41.weight', 'classifier.6.bias']) assert.ok(v.includes(k), k);
  const c = names('cnn5');
  for (const k of ['features.0.weight', 'features.1.weight', 'features.16.weight', 'fc.weight']) assert.ok(c.includes(k), k);
});

function randomSet(n: number, frames = FRAMES, classes = 4): FeatureSet {
  return {
    features: Array.from({ length: n }, () => randomArray(rng, frames * BANDS, 0, 1)),
    labels: Array.from({ length: n }, (_, i) => i % classes),
    shape: [1, frames, BANDS],
  };
}

// CNN-5 takes an adversarial step on the full 373 x 64 input. VGG-16 (14.5 GFLOP per
// example forward) and ResNet-50 take a standard step on 64 x 64 inputs, which still run
// every layer (global pooling makes the models size-agnostic) in seconds on llvmpipe.
const STEP_CASES = [
  { name: 'cnn5', frames: FRAMES, eps: 0.02 },
  { name: 'vgg16', frames: 64, eps: 0 },
  { name: 'resnet50', frames: 64, eps: 0 },
] as const;

for (const { name, frames, eps } of STEP_CASES) {
  test(`one ${eps ? 'adversarial' : 'standard'} training step of ${name} (${frames} x 64 input) runs and changes the weights`, async () => {
    const e = await testEngine();
    e.poisonNewTensors = false;
    try {
      const m = createModel(name, e, { seed: 5 });
      const w0 = await m.parameters()[0].read();
      const { losses } = await train(e, m, randomSet(2, frames), { ...DEFAULT_TRAIN, iterations: 1, batchSize: 2, eps }, { logEvery: 1 });
      assert.is(losses.length, 1);
      assert.ok(Number.isFinite(losses[0].loss) && losses[0].loss > 0);
      const w1 = await m.parameters()[0].read();
      assert.ok(w1.some((v, i) => v !== w0[i]), 'weights moved');
      m.dispose();
    } finally {
      e.poisonNewTensors = true;
    }
  });
}

test('a saved-then-loaded model gives the same logits', async () => {
  const e = await testEngine();
  const dir = mkdtempSync(join(tmpdir(), 'ser-ckpt-'));
  try {
    const a = createModel('cnn5', e, { seed: 11 });
    // Train a little so batchnorm statistics differ from their initial values.
    await train(e, a, randomSet(4), { ...DEFAULT_TRAIN, iterations: 2, batchSize: 4 });
    a.eval();
    const x = randomArray(rng, 3 * FRAMES * BANDS, 0, 1);
    const logits = async (m: typeof a) => e.scopeAsync(() => noGrad(e, () => m.forward(e.fromArray(x, [3, 1, FRAMES, BANDS]))).read());
    const before = await logits(a);
    const path = join(dir, 'model.safetensors');
    await saveCheckpoint(a, path, { model: 'cnn5' });
    const b = createModel('cnn5', e, { seed: 99 }).eval();
    const meta = loadCheckpoint(b, path);
    assert.is(meta.model, 'cnn5');
    assertClose(await logits(b), before, 0, 'logits after reload');
    // A checkpoint of another model is refused with a clear message.
    const r = createModel('resnet50', e);
    assert.throws(() => loadCheckpoint(r, path), /does not fit this model/);
    writeFileSync(join(dir, 'broken.safetensors'), 'not a checkpoint');
    assert.throws(() => loadCheckpoint(b, join(dir, 'broken.safetensors')), /not a valid safetensors/);
    for (const m of [a, b, r]) m.dispose();
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
