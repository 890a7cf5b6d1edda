// An evaluation-mode view of a model's current weights: the same parameters and buffers,
// with batchnorm on its running statistics (which a forward in this mode never updates) and
// no dropout (whose mask counter does not advance either). The `paper` recipe makes its
// training-time adversarial examples on this view (DESIGN.md "Two recipes").
import type { Module } from './module.js';

/** Runs `fn` with `model` in evaluation mode, then puts it back in the mode it was in. */
export function inEvalMode<T>(model: Module, fn: () => T): T {
  const was = model.training;
  model.eval();
  try {
    return fn();
  } finally {
    model.train(was);
  }
}
