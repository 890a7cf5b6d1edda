// Analytic multiply-add counts (x2 = FLOP) of one forward pass of each model on a
// 1 x 373 x 64 input, from the architectures in DESIGN.md. Convolutions and linear layers
// only: batchnorm, pooling and activations are memory-bound and counted as bytes elsewhere.
// Run on its own, prints each model's count:   node dist/bench/flops.js
import { CNN5_CHANNELS } from '../src/models/cnn5.js';
import { VGG16_CONFIG } from '../src/models/vgg16.js';
import { RESNET50_STAGES } from '../src/models/resnet50.js';
import { SMALL_CNN_BLOCKS } from '../src/models/small-cnn.js';
import { MODEL_NAMES } from '../src/models/index.js';
import { benchArgs } from './lib.js';

const out = (n: number, k: number, s: number, p: number) => Math.floor((n + 2 * p - k) / s) + 1;

function conv(h: number, w: number, c: number, o: number, k: number, s = 1, p = 0) {
  const ho = out(h, k, s, p);
  const wo = out(w, k, s, p);
  return { flop: 2 * ho * wo * o * c * k * k, h: ho, w: wo };
}

export function forwardFlop(model: string, H = 373, W = 64): number {
  let total = 0;
  let h = H;
  let w = W;
  let c = 1;
  const step = (o: number, k: number, s = 1, p = 0) => {
    const r = conv(h, w, c, o, k, s, p);
    total += r.flop;
    h = r.h;
    w = r.w;
    c = o;
  };
  if (model === 'cnn5') {
    for (const o of CNN5_CHANNELS) {
      step(o, 3, 1, 1);
      h = Math.floor(h / 2);
      w = Math.floor(w / 2);
    }
    return total + 2 * 256 * 4;
  }
  if (model === 'vgg16') {
    for (const v of VGG16_CONFIG) {
      if (v === 'M') {
        h = Math.floor(h / 2);
        w = Math.floor(w / 2);
      } else step(v, 3, 1, 1);
    }
    return total + 2 * (512 * 512 * 2 + 512 * 4);
  }
  if (model === 'small') {
    for (const [o, pool] of SMALL_CNN_BLOCKS) {
      step(o, 3, 1, 1);
      h = Math.floor(h / pool);
      w = Math.floor(w / pool);
    }
    return total + 2 * 32 * 4;
  }
  if (model === 'resnet50') {
    step(64, 7, 2, 3);
    h = out(h, 3, 2, 1);
    w = out(w, 3, 2, 1);
    RESNET50_STAGES.forEach((blocks, s) => {
      const width = 64 * 2 ** s;
      for (let b = 0; b < blocks; b++) {
        const stride = b === 0 && s > 0 ? 2 : 1;
        const [h0, w0, c0] = [h, w, c];
        step(width, 1);
        step(width, 3, stride, 1);
        step(width * 4, 1);
        if (b === 0) total += conv(h0, w0, c0, width * 4, 1, stride).flop; // projection shortcut
      }
    });
    return total + 2 * 2048 * 4;
  }
  throw new Error(`unknown model ${model}`);
}

/**
 * FLOP of one training step of `batch` examples: forward + backward (input and weight
 * gradients, about twice the forward). Adversarial training adds the attack (a forward and
 * an input-gradient backward) and a second forward + backward on x_adv.
 */
export function trainStepFlop(model: string, batch: number, adversarial: boolean): number {
  const f = forwardFlop(model) * batch;
  return adversarial ? 3 * f + 2 * f + 3 * f : 3 * f;
}

if (process.argv[1]?.endsWith('flops.js')) {
  benchArgs('flops', 'Analytic FLOP of one forward pass of each model on a 1 x 373 x 64 input (convolutions and linear layers only).', {});
  for (const m of MODEL_NAMES) console.log(`${m}: ${(forwardFlop(m) / 1e9).toFixed(3)} GFLOP per forward pass, ${(trainStepFlop(m, 1, false) / 1e9).toFixed(3)} per training step`);
}
