// Launchers for shaders/fgsm.wgsl.
import source from '../shaders/fgsm.wgsl';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble } from './declare.js';

const WG = 256;

const FGSM_PARAMS = declareParams([
  ['n', 'u32'],
  ['eps', 'f32'],
  ['step', 'f32'],
  ['lo', 'f32'],
  ['hi', 'f32'],
  ['ball', 'u32'],
]);
const FGSM = declareShader('fgsm', withPreamble(source, FGSM_PARAMS.wgsl), ['fgsm', 'pgd_step']);

function check(x: Tensor, g: Tensor, what: string): void {
  if (x.shape.join() !== g.shape.join()) throw new Error(`${what}: input [${x.shape}] and gradient [${g.shape}] differ`);
}

/**
 * Where an attack's result is clipped: 'range' is the fixed interval [lo, hi] (the `db`
 * recipe: [0, beta]); 'ball' is [c - radius, c + radius] around the clean input c (the
 * seed's equation 2 with radius beta: the `paper` recipe).
 */
export type Clip = { kind: 'range'; lo: number; hi: number } | { kind: 'ball'; radius: number };

function clipParams(clip: Clip): [lo: number, hi: number, ball: number] {
  if (clip.kind === 'ball') {
    if (!(clip.radius >= 0)) throw new Error(`clip: the ball's radius must be >= 0, got ${clip.radius}`);
    return [-clip.radius, clip.radius, 1];
  }
  if (!(clip.lo <= clip.hi)) throw new Error(`clip: range [${clip.lo}, ${clip.hi}] is empty`);
  return [clip.lo, clip.hi, 0];
}

/** clip(x + eps * sign(g)), with the ball centred on x. x, g: the same shape, f32. */
export function fgsmStep(x: Tensor, g: Tensor, eps: number, clip: Clip): Tensor {
  check(x, g, 'fgsm');
  const e = x.engine;
  const out = e.empty(x.shape);
  const [lo, hi, ball] = clipParams(clip);
  const p = FGSM_PARAMS.pack(e, { n: x.size, eps, step: 0, lo, hi, ball });
  e.dispatch(FGSM.pipeline(e, 'fgsm', { WG }), [x, g, null, out, p], e.grid(x.size, WG));
  return out;
}

/** One projected step: clip(clamp(x + step * sign(g), x0 - eps, x0 + eps)), with the ball centred on x0. */
export function pgdStep(x: Tensor, g: Tensor, x0: Tensor, step: number, eps: number, clip: Clip): Tensor {
  check(x, g, 'pgd');
  check(x, x0, 'pgd');
  const e = x.engine;
  const out = e.empty(x.shape);
  const [lo, hi, ball] = clipParams(clip);
  const p = FGSM_PARAMS.pack(e, { n: x.size, eps, step, lo, hi, ball });
  e.dispatch(FGSM.pipeline(e, 'pgd_step', { WG }), [x, g, x0, out, p], e.grid(x.size, WG));
  return out;
}
