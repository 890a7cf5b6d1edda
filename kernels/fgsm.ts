// Launchers for shaders/fgsm.wgsl.
import source from '../shaders/fgsm.wgsl';
import type { Tensor } from '../src/engine/tensor.js';

const WG = 256;

function check(x: Tensor, g: Tensor, what: string): void {
  if (x.shape.join() !== g.shape.join()) throw new Error(`${what}: input [${x.shape}] and gradient [${g.shape}] differ`);
}

/** clamp(x + eps * sign(g), lo, hi) */
export function fgsmStep(x: Tensor, g: Tensor, eps: number, lo: number, hi: number): Tensor {
  check(x, g, 'fgsm');
  const e = x.engine;
  const out = e.empty(x.shape);
  const p = e.uniform([x.size, eps, 0, lo, hi, 0, 0, 0], 'uffffuuu');
  e.dispatch(e.pipeline(source, 'fgsm', { WG }), [x, g, null, out, p], e.grid(x.size, WG));
  return out;
}

/** One projected step: clamp(clamp(x + step * sign(g), x0 - eps, x0 + eps), lo, hi) */
export function pgdStep(x: Tensor, g: Tensor, x0: Tensor, step: number, eps: number, lo: number, hi: number): Tensor {
  check(x, g, 'pgd');
  check(x, x0, 'pgd');
  const e = x.engine;
  const out = e.empty(x.shape);
  const p = e.uniform([x.size, eps, step, lo, hi, 0, 0, 0], 'uffffuuu');
  e.dispatch(e.pipeline(source, 'pgd_step', { WG }), [x, g, x0, out, p], e.grid(x.size, WG));
  return out;
}
