// Finite-difference check of backward rules.
//
// For f: inputs -> output, the scalar L = sum(f(x) * R) with a fixed random R has
// dL/dx = backward(seed = R). Each checked element is compared with the central
// difference (L(x + h e) - L(x - h e)) / 2h computed by running the forward on the GPU.
import type { Engine } from '../engine/engine.js';
import type { Tensor } from '../engine/tensor.js';
import { withTape, backward } from './tape.js';

export interface GradCheckOptions {
  /** Step of the central difference (float32 forward: not too small). */
  h?: number;
  /** Elements checked per input (random subset; all when the input is smaller). */
  samples?: number;
  /** Random source in [0, 1). */
  random?: () => number;
}

export interface GradCheckResult {
  /** Worst |analytic - numeric| / (|numeric| + scale) over the checked elements, per input. */
  maxError: number[];
  checked: number;
}

async function lossOf(engine: Engine, f: (xs: Tensor[]) => Tensor, xs: Tensor[], r: Float64Array): Promise<number> {
  const out = await engine.scopeAsync(async () => (await f(xs).read()) as Float32Array);
  let s = 0;
  for (let i = 0; i < out.length; i++) s += out[i] * r[i];
  return s;
}

export async function gradCheck(
  engine: Engine,
  f: (xs: Tensor[]) => Tensor,
  inputs: { shape: number[]; data: Float32Array }[],
  opts: GradCheckOptions = {},
): Promise<GradCheckResult> {
  const h = opts.h ?? 1e-2;
  const random = opts.random ?? Math.random;
  const samples = opts.samples ?? 12;
  return engine.scopeAsync(async () => {
    const xs = inputs.map((inp) => {
      const t = engine.fromArray(inp.data, inp.shape);
      t.requiresGrad = true;
      return t;
    });
    // Analytic gradient with a random seed R.
    const { value: out, tape } = withTape(engine, () => f(xs));
    const r = new Float64Array(out.size).map(() => random() * 2 - 1);
    const seed = engine.fromArray(Float32Array.from(r), out.shape);
    backward(tape, out, seed);
    const analytic: Float32Array[] = [];
    for (const x of xs) {
      if (!x.grad) throw new Error('gradCheck: an input received no gradient');
      analytic.push((await x.grad.read()) as Float32Array);
      x.grad.dispose();
      x.grad = null;
    }
    // Numeric gradient, element by element.
    const maxError: number[] = [];
    let checked = 0;
    for (let k = 0; k < xs.length; k++) {
      const data = Float32Array.from(inputs[k].data);
      const n = data.length;
      const picks = n <= samples ? [...Array(n).keys()] : Array.from({ length: samples }, () => Math.floor(random() * n));
      const scale = Math.max(1e-3, ...Array.from(analytic[k], Math.abs)) * 1e-2;
      let worst = 0;
      for (const i of picks) {
        const orig = data[i];
        const eval_ = async (v: number) => {
          data[i] = v;
          const probe = xs.map((x, j) => (j === k ? engine.fromArray(data, inputs[k].shape) : x));
          const value = await lossOf(engine, f, probe, r);
          probe[k].dispose();
          return value;
        };
        const up = await eval_(orig + h);
        const down = await eval_(orig - h);
        data[i] = orig;
        const numeric = (up - down) / (2 * h);
        worst = Math.max(worst, Math.abs(analytic[k][i] - numeric) / (Math.abs(numeric) + scale));
        checked++;
      }
      maxError.push(worst);
    }
    return { maxError, checked };
  });
}
