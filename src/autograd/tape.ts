// Reverse-mode autodiff over a tape. Each differentiable op records one node: its
// inputs, its output and a backward rule that maps the output's gradient to the
// inputs' gradients. `backward` walks the tape from the end.
import type { Tensor } from '../engine/tensor.js';
import type { Engine } from '../engine/engine.js';
import { fill, addInPlace } from '../../kernels/elementwise.js';

/**
 * Maps the output's gradient to the inputs' (null: no gradient wanted). Runs inside an engine
 * scope: temporaries it creates are released when it returns.
 */
export type BackwardRule = (gradOut: Tensor) => readonly (Tensor | null)[];

interface TapeNode {
  inputs: readonly Tensor[];
  output: Tensor;
  backward: BackwardRule;
  op: string;
}

export class Tape {
  readonly nodes: TapeNode[] = [];
}

/**
 * The tape each engine's ops record on, when gradients are wanted. Kept here, keyed by engine,
 * rather than on the Engine, so the engine layer knows nothing of autograd.
 */
const active = new WeakMap<Engine, Tape | null>();

/** The tape that differentiable ops on `engine` record on now, or null. */
export function activeTape(engine: Engine): Tape | null {
  return active.get(engine) ?? null;
}

/** Sets the active tape and returns the previous one (for try/finally restore). */
function swapTape(engine: Engine, tape: Tape | null): Tape | null {
  const previous = activeTape(engine);
  active.set(engine, tape);
  return previous;
}

/**
 * Records `output = op(inputs)` when gradients are being taped and any input needs one.
 * Returns `output` so forward code can end with `return record(...)`.
 */
export function record(op: string, output: Tensor, inputs: readonly Tensor[], backward: BackwardRule): Tensor {
  const tape = activeTape(output.engine);
  if (!tape || !inputs.some((t) => t.requiresGrad)) return output;
  output.requiresGrad = true;
  tape.nodes.push({ inputs, output, backward, op });
  return output;
}

/**
 * Runs `fn` with a fresh tape, so the differentiable ops inside record themselves.
 * The tape is returned for `backward`.
 */
export function withTape<T>(engine: Engine, fn: () => T): { value: T; tape: Tape } {
  const tape = new Tape();
  const previous = swapTape(engine, tape);
  try {
    return { value: fn(), tape };
  } finally {
    swapTape(engine, previous);
  }
}

/** Runs `fn` with taping off (evaluation, attacks that need no parameter gradients...). */
export function noGrad<T>(engine: Engine, fn: () => T): T {
  const previous = swapTape(engine, null);
  try {
    return fn();
  } finally {
    swapTape(engine, previous);
  }
}

/**
 * Back-propagates from `loss` (a scalar, or any tensor with `seed` as its gradient) and
 * accumulates into `.grad` of every leaf that requires a gradient. Leaf gradients are
 * owned by the leaf (taken out of scopes); intermediate gradients die with the scope.
 */
export function backward(tape: Tape, loss: Tensor, seed?: Tensor, accumulate: (into: Tensor, g: Tensor) => void = defaultAccumulate): void {
  const engine = loss.engine;
  const grads = new Map<Tensor, Tensor>();
  const produced = new Set(tape.nodes.map((n) => n.output));
  grads.set(loss, seed ?? fillLike(engine, loss, 1));
  const previous = swapTape(engine, null); // backward rules are not themselves taped
  try {
    for (let i = tape.nodes.length - 1; i >= 0; i--) {
      const node = tape.nodes[i];
      const g = grads.get(node.output);
      if (!g) continue;
      grads.delete(node.output);
      // Each rule runs in a scope (as tfjs runs each gradient under tidy): whatever it makes
      // and does not return is released here, so rules never dispose by hand.
      const inGrads = engine.scope(() => node.backward(g));
      if (inGrads.length !== node.inputs.length) throw new Error(`backward of ${node.op} returned ${inGrads.length} gradients for ${node.inputs.length} inputs`);
      node.inputs.forEach((input, k) => {
        const gi = inGrads[k];
        if (!gi || !input.requiresGrad) return;
        if (gi.shape.join() !== input.shape.join()) {
          throw new Error(`backward of ${node.op}: gradient [${gi.shape}] for input [${input.shape}]`);
        }
        const prev = grads.get(input);
        // add(x, x) hands back one tensor for both inputs: adding it into itself would bind
        // one buffer for reading and writing in one dispatch.
        if (prev) accumulate(prev, gi === prev ? copyOf(engine, gi) : gi);
        else grads.set(input, gi);
      });
      // The output's gradient is spent: free it now rather than at the end of the step
      // (halves a backward pass's peak memory), unless a rule passed it on unchanged.
      if (g !== seed && !inGrads.includes(g) && ![...grads.values()].includes(g)) g.dispose();
    }
    // What is left belongs to leaves.
    for (const [t, g] of grads) {
      if (produced.has(t) || !t.requiresGrad) continue;
      if (t.grad) accumulate(t.grad, g);
      else t.grad = engine.keep(g === seed ? copyOf(engine, g) : g);
    }
  } finally {
    swapTape(engine, previous);
  }
}

function fillLike(engine: Engine, like: Tensor, value: number): Tensor {
  return fill(engine, like.shape, value);
}
function defaultAccumulate(into: Tensor, g: Tensor): void {
  addInPlace(into, g);
}
function copyOf(engine: Engine, t: Tensor): Tensor {
  const out = engine.empty(t.shape, t.dtype);
  engine.copy(t, out);
  return out;
}
