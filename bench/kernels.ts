// Kernel throughput on the adapter, beside its measured peaks: register-only multiply-adds
// for the arithmetic peak (what "of peak" refers to), a large matmul (our own kernel's best
// case) and a large buffer copy for GB/s. Shapes are CNN-5's at batch 32 (the paper's setting).
// On a fast GPU, --repeat puts several calls into each timed run and --peak-scale enlarges the
// peak's dispatch, so that the fixed cost of a submit does not dominate (bench/gpu/ uses both).
//   node scripts/build.mjs && node dist/bench/kernels.js [--runs 5] [--batch 32] [--repeat 1] [--peak-scale 1] [--out bench/results/kernels.json]
import { createNodeEngine } from '../src/gpu/node.js';
import type { Engine } from '../src/engine/engine.js';
import { Random } from '../src/util/random.js';
import { matmul } from '../kernels/matmul.js';
import { unary, binary } from '../kernels/elementwise.js';
import { batchNormForward, batchNormBackward, batchNormStatistics } from '../kernels/batchnorm.js';
import { batchNormReluMaxPool2x2, maxPool2dForward, maxPool2dBackward } from '../kernels/pool.js';
import { crossEntropyForward, crossEntropyBackward } from '../kernels/softmax_xent.js';
import { fgsmStep } from '../kernels/fgsm.js';
import { conv2dForward, conv2dInputGrad, conv2dWeightGrad } from '../kernels/conv2d.js';
import fmaPeakSource from './shaders/fma_peak.wgsl';
import { timeGpu, markdown, saveResults, benchArgs, gflops, gbps, type BenchRow } from './lib.js';

function rand(engine: Engine, rng: Random, shape: number[], lo = -1, hi = 1) {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) data[i] = rng.uniform(lo, hi);
  return engine.keep(engine.fromArray(data, shape));
}

/** batch: CNN-5's batch for the layer shapes; repeat: calls per timed run; peakScale: the peak's dispatch is 4096 x peakScale workgroups of 64. */
export interface KernelBenchOptions {
  batch?: number;
  repeat?: number;
  peakScale?: number;
}

export async function benchKernels(runs: number, opts: KernelBenchOptions = {}): Promise<{ rows: BenchRow[]; peak: { gflops: number; gbps: number } }> {
  const repeat = opts.repeat ?? 1;
  const peakScale = opts.peakScale ?? 1;
  const engine = await createNodeEngine();
  const rng = new Random(1);
  const adapter = engine.adapter.name;
  const rows: BenchRow[] = [];
  const add = async (bench: string, c: string, fn: () => unknown, work: { flop?: number; bytes?: number }) => {
    const seconds = await timeGpu(engine, () => void fn(), { runs, repeat });
    rows.push({ bench, case: c, adapter, seconds, ...work });
    const r = rows[rows.length - 1];
    console.error(`${bench} ${c}: ${(seconds.median * 1000).toFixed(1)} ms ${gflops(r) ? `${gflops(r)!.toFixed(2)} GFLOP/s` : ''}${gbps(r) ? ` ${gbps(r)!.toFixed(2)} GB/s` : ''}`);
  };

  // Peaks.
  const invocations = 64 * 4096 * peakScale;
  const fmaOut = engine.keep(engine.empty([invocations * 4]));
  const fmaPipeline = engine.pipeline(fmaPeakSource, 'fma_peak', { ITERATIONS: 1024 });
  await add('peak', 'register fma (arithmetic peak)', () => engine.dispatch(fmaPipeline, [fmaOut], [4096, peakScale, 1]), { flop: invocations * 1024 * 16 * 2 });
  const M = 1024;
  const A = rand(engine, rng, [M, M]);
  const B = rand(engine, rng, [M, M]);
  await add('peak', `matmul ${M}x${M}x${M}`, () => matmul(A, B), { flop: 2 * M ** 3 });
  const big = rand(engine, rng, [16 * 2 ** 20]); // 64 MiB
  const dst = engine.keep(engine.empty(big.shape));
  await add('peak', 'buffer copy 64 MiB', () => engine.copy(big, dst), { bytes: 2 * big.bytes });
  // A peak is the best the adapter did: its fastest run, not the median (with few runs a
  // slow one, say from a neighbour's load, would otherwise set it and inflate every "of peak").
  const best = (r: BenchRow): BenchRow => ({ ...r, seconds: { ...r.seconds, median: r.seconds.min } });
  const peak = { gflops: gflops(best(rows[0]))!, gbps: gbps(best(rows[2]))! };

  // CNN-5 block 2 at batch 32: [32, 32, 186, 32] -> conv 3x3 -> [32, 64, 186, 32].
  const N = opts.batch ?? 32;
  const x = rand(engine, rng, [N, 32, 186, 32]);
  const w = rand(engine, rng, [64, 32, 3, 3], -0.1, 0.1);
  const dy = rand(engine, rng, [N, 64, 186, 32]);
  const convFlop = 2 * N * 64 * 186 * 32 * 32 * 9;
  await add('conv2d', 'forward CNN-5 block 2', () => conv2dForward(x, w, null, { padding: 1 }), { flop: convFlop });
  await add('conv2d', 'input grad CNN-5 block 2', () => conv2dInputGrad(dy, w, x.shape, { padding: 1 }), { flop: convFlop });
  await add('conv2d', 'weight grad CNN-5 block 2', () => conv2dWeightGrad(x, dy, w.shape, { padding: 1 }), { flop: convFlop });

  const state = {
    gamma: rand(engine, rng, [64], 0.5, 1.5),
    beta: rand(engine, rng, [64]),
    runningMean: rand(engine, rng, [64]),
    runningVar: rand(engine, rng, [64], 0.5, 1.5),
  };
  const act = dy;
  const stats = engine.keep(batchNormForward(act, state, { training: true }).stats);
  const act4 = `[${N},64,186,32]`;
  await add('batchnorm', `training forward ${act4}`, () => batchNormForward(act, state, { training: true }), { bytes: 3 * act.bytes });
  await add('batchnorm', `training backward ${act4}`, () => batchNormBackward(dy, act, stats, state.gamma, true), { bytes: 5 * act.bytes });
  // The statistics passes, then one pass pooling relu(batchnorm(x)): what a conv block's
  // batchnorm + ReLU + max-pool runs (the two rows above and 'maxpool forward' below, fused).
  await add('batchnorm', `training forward + relu + maxpool 2x2 ${act4}`, () => batchNormReluMaxPool2x2(act, batchNormStatistics(act, state, { training: true })), { bytes: 3 * act.bytes });
  await add('relu', `forward ${act4}`, () => unary('relu', act), { bytes: 2 * act.bytes });
  await add('relu', `backward ${act4}`, () => binary('relu_backward', act, dy), { bytes: 3 * act.bytes });
  // Scaling each output channel's weights (batchnorm folded into the convolution before it).
  const wFold = rand(engine, rng, [256, 256, 3, 3]);
  const scale = rand(engine, rng, [256, 1, 1, 1]);
  await add('broadcast', 'mul [256,256,3,3] by [256,1,1,1]', () => binary('mul', wFold, scale), { bytes: 2 * wFold.bytes });
  const { indices } = maxPool2dForward(act, { kernel: 2 });
  engine.keep(indices);
  const pooledGrad = rand(engine, rng, [N, 64, 93, 16]);
  await add('maxpool', `forward 2x2 ${act4}`, () => maxPool2dForward(act, { kernel: 2 }), { bytes: act.bytes * 1.5 });
  await add('maxpool', `backward 2x2 ${act4}`, () => maxPool2dBackward(pooledGrad, indices, act.shape, { kernel: 2 }), { bytes: act.bytes * 1.5 });

  const logits = rand(engine, rng, [N, 4], -3, 3);
  const labels = engine.keep(engine.fromArray(Array.from({ length: N }, (_, i) => i % 4), [N], 'i32'));
  const xent = crossEntropyForward(logits, labels);
  engine.keep(xent.stats);
  const g1 = engine.keep(engine.fromArray(new Float32Array(N).fill(1), [N]));
  await add('softmax xent', `forward [${N},4]`, () => crossEntropyForward(logits, labels), { bytes: logits.bytes * 2 });
  await add('softmax xent', `backward [${N},4]`, () => crossEntropyBackward(logits, labels, xent.stats, g1, 1 / N), { bytes: logits.bytes * 3 });

  const input = rand(engine, rng, [N, 1, 373, 64], 0, 1);
  const grad = rand(engine, rng, [N, 1, 373, 64]);
  await add('fgsm', `step [${N},1,373,64]`, () => fgsmStep(input, grad, 0.02, { kind: 'range', lo: 0, hi: 1 }), { bytes: 3 * input.bytes });
  engine.destroy();
  return { rows, peak };
}

if (process.argv[1]?.endsWith('kernels.js')) {
  const args = benchArgs('kernels', "Kernel throughput (conv2d, batchnorm, relu, maxpool, softmax xent, fgsm at CNN-5's batch-32 shapes) beside the adapter's measured peaks.", {
    runs: { default: '5', value: 'N', help: 'timed runs per kernel, after warm-up; the median is reported' },
    batch: { default: '32', value: 'N', help: "batch of the CNN-5 layer shapes" },
    repeat: { default: '1', value: 'N', help: 'calls per timed run (the time is per call); more on a fast GPU' },
    'peak-scale': { default: '1', value: 'N', help: "the arithmetic peak's dispatch is 4096 x N workgroups of 64 (N = 16 fills a large GPU)" },
    out: { default: 'bench/results/kernels.json', value: 'PATH', help: 'JSON file for the results' },
  });
  const runs = args.int('runs');
  const opts = { batch: args.int('batch'), repeat: args.int('repeat'), peakScale: args.int('peak-scale') };
  const { rows, peak } = await benchKernels(runs, opts);
  console.log(markdown(rows, peak));
  saveResults(args.str('out'), rows, { peak, runs, ...opts });
  process.exit(0);
}
