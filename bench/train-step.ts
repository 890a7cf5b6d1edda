// Seconds per training step (forward + backward + Adam) of each model, standard and
// adversarial (FGSM mixed loss, the attack as the default `paper` recipe makes it: on an
// evaluation-mode view, against the model's own predictions, clipped to a ball of 0.1 around
// x; bench/peers/pytorch_step.py does the same), median of several steps after warm-up, with
// analytic FLOP counts and the implied GFLOP/s. Usage:
//   node dist/bench/train-step.js [--models cnn5,vgg16,resnet50] [--batch 32] [--steps 3]
import { createNodeEngine } from '../src/gpu/node.js';
import { createModel, MODEL_NAMES, type ModelName } from '../src/models/index.js';
import { train, DEFAULT_TRAIN, type TrainConfig } from '../src/train/train.js';
import { RECIPES } from '../src/audio/recipe.js';
import { Random } from '../src/util/random.js';
import { noGrad } from '../src/autograd/tape.js';
import { setBatchNormFolding } from '../src/nn/fold-batchnorm.js';
import { timeCpu, timeGpu, markdown, saveResults, benchArgs, randomBatch, type BenchRow } from './lib.js';
import { trainStepFlop, forwardFlop } from './flops.js';
import { tunePending } from '../kernels/tune.js';

/**
 * The benchmarked step: batch `batch`, eps 0.02 when adversarial, and the `paper` recipe's
 * training attack (the project's default; its input standardisation is left out, the bench's
 * input being uniform in [0, 1]).
 */
export function benchStepConfig(batch: number, adversarial: boolean): TrainConfig {
  const a = RECIPES.paper.attack;
  return { ...DEFAULT_TRAIN, batchSize: batch, eps: adversarial ? 0.02 : 0, clip: a.clip, beta: a.beta, attackLabels: a.labels, evalModeAttack: a.evalModeAttack, iterations: Number.MAX_SAFE_INTEGER };
}

export async function benchTrainSteps(models: ModelName[], batch: number, steps: number): Promise<BenchRow[]> {
  const engine = await createNodeEngine();
  const rng = new Random(1);
  const data = randomBatch(batch);
  const rows: BenchRow[] = [];
  for (const name of models) {
    for (const adversarial of [false, true]) {
      const model = createModel(name, engine, { seed: 1 });
      let it = 0;
      const cfg = benchStepConfig(batch, adversarial);
      // One call of train() per step, so each timed run is exactly one step (Adam state carried).
      let optimizer: Awaited<ReturnType<typeof train>>['optimizer'] | undefined;
      // Process CPU time per step as well (llvmpipe's threads are this process's): on a
      // shared machine it moves far less with the other processes' load than wall time.
      const cpu: number[] = [];
      // Timed steps never tune (budget 0): the first step meets every shape class and the
      // tuner measures them all before the timing starts (its cache keeps them for later runs).
      const step = async () => {
        const c0 = process.cpuUsage();
        const r = await train(engine, model, data, { ...cfg, iterations: it + 1 }, { startIteration: it, optimizer, logEvery: 1, tune: { budgetMs: 0 } });
        const c = process.cpuUsage(c0);
        cpu.push((c.user + c.system) / 1e6);
        optimizer = r.optimizer;
        it++;
      };
      await step();
      await tunePending(engine, { budgetMs: Infinity });
      cpu.length = 0;
      const seconds = await timeCpu(step, { warmup: 1, runs: steps });
      rows.push({
        bench: 'train step',
        case: `${name} ${adversarial ? 'adversarial' : 'standard'} batch ${batch}`,
        adapter: engine.adapter.name,
        seconds,
        flop: trainStepFlop(name, batch, adversarial),
      });
      const timed = cpu.slice(1).sort((a, b) => a - b);
      console.error(`${rows.at(-1)!.case}: ${seconds.median.toFixed(2)} s/step (process CPU ${timed[Math.floor(timed.length / 2)].toFixed(2)} s/step)`);
      model.dispose();
    }
    // Inference (evaluation mode, no gradients) with batchnorm folded into the convolutions and without.
    const model = createModel(name, engine, { seed: 1 }).eval();
    const x = engine.keep(engine.fromArray(new Float32Array(batch * 373 * 64).map(() => rng.next()), [batch, 1, 373, 64]));
    for (const fold of [true, false]) {
      setBatchNormFolding(fold);
      // Shape classes new to the autotuner are measured before timing (training measures its own between steps).
      noGrad(engine, () => model.forward(x));
      await tunePending(engine);
      const seconds = await timeGpu(engine, () => void noGrad(engine, () => model.forward(x)), { warmup: 1, runs: steps });
      rows.push({
        bench: 'inference',
        case: `${name} forward batch ${batch}, batchnorm ${fold ? 'folded into conv' : 'separate'}`,
        adapter: engine.adapter.name,
        seconds,
        flop: forwardFlop(name) * batch,
      });
      console.error(`${rows.at(-1)!.case}: ${seconds.median.toFixed(3)} s`);
    }
    setBatchNormFolding(true);
    x.dispose();
    model.dispose();
  }
  return rows;
}

if (process.argv[1]?.endsWith('train-step.js')) {
  const args = benchArgs('train-step', 'Seconds per training step (forward + backward + Adam), standard and adversarial (FGSM mixed loss), and per inference forward pass, with analytic FLOP counts and GFLOP/s.', {
    models: { default: 'cnn5', value: 'LIST', help: `models, comma-separated: ${MODEL_NAMES.join(', ')}` },
    batch: { default: '32', value: 'N', help: 'examples per step' },
    steps: { default: '3', value: 'N', help: 'timed steps after one warm-up; the median is reported' },
    out: { default: 'bench/results/train-step.json', value: 'PATH', help: 'JSON file for the results' },
  });
  const models = args.list('models', MODEL_NAMES);
  const rows = await benchTrainSteps(models, args.int('batch'), args.int('steps'));
  console.log(markdown(rows));
  saveResults(args.str('out'), rows);
  process.exit(0);
}
