// Benchmark peer: TensorFlow.js with its WebGPU backend, in Node on Dawn (the project's
// `webgpu` package), training the CNN-5 step that ser-webgpu's bench/train-step.ts times:
// forward + backward + Adam at the same shapes, standard and adversarial (the `paper`
// recipe's FGSM, as bench/train-step.ts and the PyTorch peer: on an evaluation-mode view with
// running statistics and no dropout, against the model's own predictions from the attack's
// forward, clipped to [x - 0.1, x + 0.1]; then the mixed loss 0.5 L(x) + 0.5 L(x_adv)).
//
// Written with TF.js core ops (NHWC, as TF.js prefers): conv 3x3 'same' without bias ->
// batchnorm with batch statistics (running averages updated as PyTorch) -> ReLU -> max-pool
// 2x2 'valid' (PyTorch's floor), x5 with 32,64,128,256,256 channels; mean over H,W;
// dropout 0.3; dense 256 -> 4; softmax cross-entropy, mean over the batch.
//
//   node bench/peers/tfjs/cnn5_step.mjs [--batch 8] [--steps 2] [--warmup 1] [--adapter auto|gpu|llvmpipe]
//
// Prints one JSON object on stdout (progress on stderr). On llvmpipe a step at batch 32 takes
// minutes, hence the small defaults; the batch that ran is reported, nothing is extrapolated.
import { create, globals } from 'webgpu';

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}
const batch = Number(arg('batch', '8'));
const steps = Number(arg('steps', '2'));
const warmup = Number(arg('warmup', '1'));
const eps = Number(arg('eps', '0.02'));
const choice = arg('adapter', process.env.SER_ADAPTER || 'auto');
const cases = arg('cases', 'standard,adversarial').split(',');
if (!(Number.isInteger(batch) && batch >= 1 && Number.isInteger(steps) && steps >= 1 && Number.isInteger(warmup) && warmup >= 0)) {
  console.error('cnn5_step: --batch and --steps must be integers >= 1, --warmup >= 0');
  process.exit(2);
}
for (const c of cases) {
  if (c !== 'standard' && c !== 'adversarial') {
    console.error(`cnn5_step: unknown case '${c}' (standard, adversarial)`);
    process.exit(2);
  }
}
// TF.js greets Node users on console.log; keep stdout for the JSON result alone.
console.log = (...a) => console.error(...a);

// ---- A WebGPU adapter: a hardware GPU when there is one, else llvmpipe in compatibility mode.
Object.assign(globalThis, globals);
const keepAlive = []; // Dawn crashes if an object from create() is garbage-collected.
const SOFTWARE = /llvmpipe|swiftshader|lavapipe|softpipe/i;
const describe = (a) => [a.info.vendor, a.info.architecture, a.info.device, a.info.description].filter((s) => s && s.trim()).join(' / ');

async function pickGpu() {
  if (choice === 'auto' || choice === 'gpu') {
    const gpu = create([]);
    keepAlive.push(gpu);
    const a = await gpu.requestAdapter({ powerPreference: 'high-performance' }).catch(() => null);
    if (a && !SOFTWARE.test(describe(a))) return { gpu, options: {} };
    if (choice === 'gpu') throw new Error('no hardware GPU adapter');
  }
  process.env.EGL_PLATFORM ??= 'surfaceless';
  // The same Dawn settings as our engine on llvmpipe (src/gpu/node.ts): the driver checks
  // bounds, so Dawn's per-index clamp is off for both.
  const gpu = create(['backend=opengl', 'enable-dawn-features=disable_robustness']);
  keepAlive.push(gpu);
  return { gpu, options: { featureLevel: 'compatibility' } };
}

const { gpu, options } = await pickGpu();
let adapterName = 'unknown';
globalThis.navigator = {
  gpu: {
    wgslLanguageFeatures: gpu.wgslLanguageFeatures,
    getPreferredCanvasFormat: () => 'rgba8unorm',
    async requestAdapter(opts) {
      const adapter = await gpu.requestAdapter({ ...opts, ...options });
      if (!adapter) return null;
      adapterName = describe(adapter);
      // TF.js asks for a few raised limits only; compatibility mode's defaults (e.g. 4
      // storage buffers per stage) are too small for some of its kernels, so ask for all.
      const requestDevice = adapter.requestDevice.bind(adapter);
      adapter.requestDevice = (desc = {}) => {
        const requiredLimits = { ...desc.requiredLimits };
        for (const k of ['maxStorageBuffersPerShaderStage', 'maxStorageBufferBindingSize', 'maxBufferSize', 'maxComputeWorkgroupStorageSize', 'maxComputeInvocationsPerWorkgroup', 'maxComputeWorkgroupSizeX', 'maxComputeWorkgroupsPerDimension']) {
          if (typeof adapter.limits[k] === 'number') requiredLimits[k] = adapter.limits[k];
        }
        return requestDevice({ ...desc, requiredLimits });
      };
      return adapter;
    },
  },
};

// Imported after navigator.gpu exists: the backend registers itself only if it sees one.
const tf = await import('@tensorflow/tfjs'); // core + every op's gradient
await import('@tensorflow/tfjs-backend-webgpu');
if (!(await tf.setBackend('webgpu'))) throw new Error('TF.js could not start its WebGPU backend');
await tf.ready();

// ---- CNN-5
const CHANNELS = [32, 64, 128, 256, 256];
const FRAMES = 373;
const BANDS = 64;

function makeModel() {
  const blocks = [];
  let c = 1;
  for (const out of CHANNELS) {
    blocks.push({
      w: tf.variable(tf.randomNormal([3, 3, c, out], 0, Math.sqrt(2 / (9 * c)))), // Kaiming-normal, fan_in
      gamma: tf.variable(tf.ones([out])),
      beta: tf.variable(tf.zeros([out])),
      runningMean: tf.variable(tf.zeros([out]), false),
      runningVar: tf.variable(tf.ones([out]), false),
    });
    c = out;
  }
  const bound = 1 / Math.sqrt(c);
  const fcW = tf.variable(tf.randomUniform([c, 4], -bound, bound));
  const fcB = tf.variable(tf.randomUniform([4], -bound, bound));
  const trainable = [...blocks.flatMap((b) => [b.w, b.gamma, b.beta]), fcW, fcB];
  return { blocks, fcW, fcB, trainable };
}

/** Training mode: batch statistics (running ones updated) and dropout; else running statistics, no dropout. */
function forward(m, x, training = true) {
  let h = x;
  for (const b of m.blocks) {
    h = tf.conv2d(h, b.w, 1, 'same');
    if (training) {
      const { mean, variance } = tf.moments(h, [0, 1, 2]);
      const n = h.shape[0] * h.shape[1] * h.shape[2];
      b.runningMean.assign(tf.tidy(() => tf.add(tf.mul(b.runningMean, 0.9), tf.mul(mean, 0.1))));
      b.runningVar.assign(tf.tidy(() => tf.add(tf.mul(b.runningVar, 0.9), tf.mul(variance, (0.1 * n) / (n - 1)))));
      h = tf.batchNorm(h, mean, variance, b.beta, b.gamma, 1e-5);
    } else {
      h = tf.batchNorm(h, b.runningMean, b.runningVar, b.beta, b.gamma, 1e-5);
    }
    h = tf.maxPool(tf.relu(h), 2, 2, 'valid');
  }
  h = tf.mean(h, [1, 2]);
  if (training) h = tf.dropout(h, 0.3);
  return tf.add(tf.matMul(h, m.fcW), m.fcB);
}

const loss = (m, x, y) => tf.losses.softmaxCrossEntropy(y, forward(m, x));

const BETA = 0.1;

function fgsm(m, x) {
  return tf.tidy(() => {
    // Gradient w.r.t. the input only, in evaluation mode, against the predictions of the same
    // forward (the one-hot labels are constants: argMax and oneHot have zero gradients).
    const g = tf.grad((xi) => {
      const logits = forward(m, xi, false);
      return tf.losses.softmaxCrossEntropy(tf.oneHot(tf.argMax(logits, 1), 4), logits);
    })(x);
    return tf.minimum(tf.maximum(tf.add(x, tf.mul(eps, tf.sign(g))), tf.sub(x, BETA)), tf.add(x, BETA));
  });
}

async function step(m, optimizer, x, y, adversarial) {
  const xAdv = adversarial ? fgsm(m, x) : null;
  const value = optimizer.minimize(() => (xAdv ? tf.add(tf.mul(0.5, loss(m, x, y)), tf.mul(0.5, loss(m, xAdv, y))) : loss(m, x, y)), true, m.trainable);
  await value.data(); // the loss scalar, as ours reads it: also waits for the GPU
  value.dispose();
  xAdv?.dispose();
}

async function timeCase(adversarial) {
  const m = makeModel();
  const optimizer = tf.train.adam(0.001, 0.9, 0.999, 1e-8);
  const x = tf.randomUniform([batch, FRAMES, BANDS, 1], 0, 1);
  const y = tf.oneHot(tf.tensor1d(Array.from({ length: batch }, (_, i) => i % 4), 'int32'), 4);
  const times = [];
  for (let i = 0; i < warmup + steps; i++) {
    const t0 = performance.now();
    await step(m, optimizer, x, y, adversarial);
    const s = (performance.now() - t0) / 1000;
    console.error(`tfjs cnn5 ${adversarial ? 'adversarial' : 'standard'} batch ${batch}: ${i < warmup ? 'warm-up' : 'step'} ${s.toFixed(2)} s`);
    if (i >= warmup) times.push(s);
  }
  optimizer.dispose();
  tf.dispose([x, y, ...m.trainable, ...m.blocks.flatMap((b) => [b.runningMean, b.runningVar])]);
  times.sort((a, b) => a - b);
  return { median: times[Math.floor(times.length / 2)], min: times[0], max: times[times.length - 1], runs: times.length };
}

const rows = [];
for (const c of cases) rows.push({ case: c, seconds: await timeCase(c === 'adversarial') });
process.stdout.write(
  JSON.stringify({ peer: 'tfjs-webgpu', version: tf.version_core, device: adapterName, model: 'cnn5', batch, eps, rows }) + '\n',
);
process.exit(0);
