// Convolution throughput on the first layers of CNN-5 and VGG-16 (input N x 1 x 373 x 64):
// forward, input gradient and weight gradient, in GFLOP/s (2*N*O*Ho*Wo*C*kh*kw per pass,
// the multiply-adds of the direct convolution). Median of several timed runs after a warm-up.
//
//   node scripts/build.mjs && node dist/bench/conv2d.js [--batch 32] [--runs 3] [--layers cnn5-1,vgg-2]
import { createNodeEngine } from '../src/gpu/node.js';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { Random } from '../src/util/random.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad, conv2dGeometry } from '../kernels/conv2d.js';

interface Layer {
  id: string;
  name: string;
  /** input [C, H, W] and weight [O, C, k, k]; stride 1, padding 1 (3x3, "same") */
  x: [number, number, number];
  w: [number, number, number, number];
}

// Shapes as the models see them: 373 frames x 64 Mel bands, max-pooled 2x2 between CNN-5 blocks.
const LAYERS: Layer[] = [
  { id: 'cnn5-1', name: 'CNN-5 conv1 1->32', x: [1, 373, 64], w: [32, 1, 3, 3] },
  { id: 'cnn5-2', name: 'CNN-5 conv2 32->64', x: [32, 186, 32], w: [64, 32, 3, 3] },
  { id: 'vgg-1', name: 'VGG-16 conv1 1->64', x: [1, 373, 64], w: [64, 1, 3, 3] },
  { id: 'vgg-2', name: 'VGG-16 conv2 64->64', x: [64, 373, 64], w: [64, 64, 3, 3] },
];

function flag(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] ? process.argv[i + 1] : fallback;
}

function randomTensor(engine: Engine, rng: Random, shape: number[]): Tensor {
  const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < data.length; i++) data[i] = rng.uniform(-1, 1);
  return engine.fromArray(data, shape);
}

/** Median seconds of `runs` timed calls of `fn` after one warm-up; each result is disposed. */
async function time(engine: Engine, runs: number, fn: () => Tensor): Promise<number> {
  const times: number[] = [];
  for (let r = 0; r <= runs; r++) {
    await engine.sync();
    const t0 = performance.now();
    const out = fn();
    await engine.sync();
    const dt = (performance.now() - t0) / 1000;
    out.dispose();
    if (r > 0) times.push(dt);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

async function main(): Promise<void> {
  const batch = Number(flag('batch', '32'));
  const runs = Number(flag('runs', '3'));
  const wanted = flag('layers', LAYERS.map((l) => l.id).join(',')).split(',');
  const engine = await createNodeEngine();
  const rng = new Random(1);
  console.log(`adapter: ${engine.adapter.name} (${engine.adapter.backend}, ${engine.adapter.kind})`);
  console.log(`batch ${batch}, median of ${runs} runs after a warm-up; max storage binding ${engine.maxBinding} bytes\n`);
  console.log('| layer | input | weight | GFLOP/pass | forward GFLOP/s | input-grad GFLOP/s | weight-grad GFLOP/s | forward ms | input-grad ms | weight-grad ms |');
  console.log('|---|---|---|---|---|---|---|---|---|---|');
  for (const layer of LAYERS.filter((l) => wanted.includes(l.id))) {
    const xShape = [batch, ...layer.x];
    const opts = { padding: 1 };
    const g = conv2dGeometry(xShape, layer.w, opts);
    const flop = 2 * g.N * g.O * g.Ho * g.Wo * g.C * g.kh * g.kw;
    const [fwd, dgrad, wgrad] = await engine.scopeAsync(async () => {
      const x = randomTensor(engine, rng, xShape);
      const w = randomTensor(engine, rng, layer.w);
      const b = randomTensor(engine, rng, [g.O]);
      const dy = randomTensor(engine, rng, [g.N, g.O, g.Ho, g.Wo]);
      return [
        await time(engine, runs, () => conv2dForward(x, w, b, opts)),
        await time(engine, runs, () => conv2dInputGrad(dy, w, xShape, opts)),
        await time(engine, runs, () => conv2dWeightGrad(x, dy, layer.w, opts)),
      ];
    });
    const rate = (s: number) => (flop / s / 1e9).toFixed(2);
    const ms = (s: number) => (s * 1000).toFixed(1);
    const bytes = (n: number) => `${((n * 4) / 2 ** 20).toFixed(0)} MiB`;
    console.log(
      `| ${layer.name} | [${xShape.join(',')}] (${bytes(g.N * g.C * g.H * g.W)}) | [${layer.w.join(',')}] | ${(flop / 1e9).toFixed(2)} | ` +
        `${rate(fwd)} | ${rate(dgrad)} | ${rate(wgrad)} | ${ms(fwd)} | ${ms(dgrad)} | ${ms(wgrad)} |`,
    );
  }
  engine.destroy();
}

await main();
