// Standard and adversarial training. Adversarial training minimises the paper's mixed loss
//   L = alpha * L(x, y) + (1 - alpha) * L(x_adv, y),  x_adv = FGSM(x) against the current model,
// generated on the fly every step from iteration advStart on (clean loss only before it). A
// standardised model (`paper`) is trained, and attacked, in its standardised space: the batch
// is standardised once, and the network sees it and its FGSM version (fit its statistics on the
// training data first: fitInputNorm, as runFold does). One step is one GPU
// submission; the loss is read back only on the steps the caller logs.
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import type { Module } from '../nn/module.js';
import { Random } from '../util/random.js';
import { withTape, backward } from '../autograd/tape.js';
import { softmaxCrossEntropy } from '../ops/loss.js';
import { scale, add } from '../ops/elementwise.js';
import { Adam, stepDecay } from '../nn/optim.js';
import { adversarialExamples } from '../attacks/adversarial.js';
import { inputSpace } from '../nn/input-norm.js';
import { tunePending, type TuneOptions } from '../../kernels/tune.js';
import type { AttackClip, AttackLabels } from '../audio/recipe.js';
import { BatchSampler } from './batches.js';

export interface TrainConfig {
  iterations: number;
  batchSize: number;
  lr: number;
  /** The learning rate is multiplied by lrDecay every lrDecayEvery iterations. */
  lrDecay: number;
  lrDecayEvery: number;
  /** FGSM strength for adversarial training; 0 trains on clean data only. */
  eps: number;
  /** Weight of the clean loss in the mixed loss. */
  alpha: number;
  /** The attack's clip: 'range' [0, beta] (db) or 'ball' [x - beta, x + beta] (paper). */
  clip: AttackClip;
  /** Upper end of the range, or radius of the ball, the attack clips to. */
  beta: number;
  /** Labels the training attack uses: the true ones, or the model's predictions. */
  attackLabels: AttackLabels;
  /** Adversarial examples from an evaluation-mode view of the weights (paper) or the training-mode model (db). */
  evalModeAttack: boolean;
  /** First iteration (0-based) of the mixed loss; before it, clean loss only. */
  advStart: number;
  seed: number;
  balanced: boolean;
}

export const DEFAULT_TRAIN: TrainConfig = {
  iterations: 10_000,
  batchSize: 32,
  lr: 0.001,
  lrDecay: 0.9,
  lrDecayEvery: 100,
  eps: 0,
  alpha: 0.5,
  // The attack as the `db` recipe runs it (src/audio/recipe.ts); the CLI applies a recipe's.
  clip: 'range',
  beta: 1,
  attackLabels: 'true',
  evalModeAttack: false,
  advStart: 0,
  seed: 1,
  balanced: false,
};

/** Features of a set of utterances: each frames x bands, row-major, all the same size. */
export interface FeatureSet {
  features: Float32Array[];
  labels: number[];
  /** [channels=1, frames, bands] of one example. */
  shape: [number, number, number];
}

export interface StepReport {
  iteration: number;
  loss: number;
  lr: number;
}

/** Copies the chosen examples into one [B, 1, frames, bands] tensor and int32 labels. */
export function makeBatch(engine: Engine, data: FeatureSet, indices: readonly number[]): { x: Tensor; y: Tensor } {
  const per = data.shape[0] * data.shape[1] * data.shape[2];
  const buf = new Float32Array(indices.length * per);
  indices.forEach((i, k) => {
    const f = data.features[i];
    if (f.length !== per) throw new Error(`example ${i} has ${f.length} values, expected ${per}`);
    buf.set(f, k * per);
  });
  return {
    x: engine.fromArray(buf, [indices.length, ...data.shape]),
    y: engine.fromArray(indices.map((i) => data.labels[i]), [indices.length], 'i32'),
  };
}

export async function train(
  engine: Engine,
  model: Module,
  data: FeatureSet,
  cfg: TrainConfig,
  hooks: { logEvery?: number; onStep?: (r: StepReport | null, iteration: number) => void; startIteration?: number; optimizer?: Adam; tune?: TuneOptions } = {},
): Promise<{ losses: StepReport[]; optimizer: Adam }> {
  const rng = new Random(cfg.seed);
  const sampler = new BatchSampler(data.labels, cfg.batchSize, rng.fork(), cfg.balanced);
  const optimizer = hooks.optimizer ?? new Adam(model.parameters(), { lr: cfg.lr });
  const schedule = stepDecay(cfg.lr, cfg.lrDecay, cfg.lrDecayEvery);
  const logEvery = hooks.logEvery ?? 10;
  const losses: StepReport[] = [];
  const { toInput, net } = inputSpace(model);
  const attack = { eps: cfg.eps, clip: cfg.clip, beta: cfg.beta, labels: cfg.attackLabels, evalMode: cfg.evalModeAttack };
  model.train();
  const started = performance.now();
  let tuning = 0;
  for (let it = hooks.startIteration ?? 0; it < cfg.iterations; it++) {
    const indices = sampler.next();
    const lr = schedule(it);
    const logged = (it + 1) % logEvery === 0 || it === cfg.iterations - 1;
    const loss = await engine.scopeAsync(async () => {
      const batch = makeBatch(engine, data, indices);
      const { y } = batch;
      const x = toInput(batch.x);
      const xAdv = cfg.eps > 0 && it >= cfg.advStart ? adversarialExamples(net, x, y, attack) : null;
      const { value, tape } = withTape(engine, () => {
        const clean = softmaxCrossEntropy(net.forward(x), y);
        if (!xAdv) return clean;
        const adv = softmaxCrossEntropy(net.forward(xAdv), y);
        return add(scale(clean, cfg.alpha), scale(adv, 1 - cfg.alpha));
      });
      backward(tape, value);
      optimizer.lr = lr;
      optimizer.step();
      optimizer.zeroGrad();
      engine.flush();
      return logged ? (await value.read())[0] : null;
    });
    // Shape classes met for the first time are measured now, between steps (kernels/tune.ts;
    // nothing to do after the first step or with SER_TUNE=off).
    // Tuning gets about a quarter of the run's time so far (a call with any budget measures at
    // least one shape class): it never stalls a short run; what is left waits for later steps.
    const t0 = performance.now();
    const budgetMs = hooks.tune?.budgetMs ?? (t0 - started - tuning) / 3 - tuning;
    if (budgetMs > 0) await tunePending(engine, { ...hooks.tune, budgetMs });
    tuning += performance.now() - t0;
    if (loss !== null) {
      if (!Number.isFinite(loss)) throw new Error(`training diverged: loss is ${loss} at iteration ${it + 1}`);
      const r = { iteration: it + 1, loss, lr };
      losses.push(r);
      hooks.onStep?.(r, it + 1);
    } else {
      hooks.onStep?.(null, it + 1);
    }
  }
  return { losses, optimizer };
}
