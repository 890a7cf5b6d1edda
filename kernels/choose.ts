// One chooser per kernel family. A family declares its variants, which of them apply to a
// shape on an adapter, a rule (the default, from shape and capabilities), the shape class a
// measurement stands for, and how to run one variant on fresh inputs for the autotuner.
// `choose` then picks: the variant asked for (checked), else the tuner's measured choice for
// the shape class if it applies to this shape, else the rule. Adding a variant is one name in
// `variants` plus its case in `applies` (and in the launcher that runs it).
import type { Engine } from '../src/engine/engine.js';
import type { Capabilities } from '../src/gpu/capabilities.js';
import type { Tensor } from '../src/engine/tensor.js';
import { hashText } from '../src/util/hash.js';
import type { Shader } from './declare.js';

export interface FamilySpec<V extends string, S> {
  /** 'kernel.pass', e.g. 'conv2d.forward'; names the family in errors, the cache and `ser adapter --tuned`. */
  name: string;
  /** Every variant, in a stable order (tests run each of them against float64). */
  variants: readonly V[];
  /** `true`, or why `v` cannot run `shape` on an adapter with `caps` (a clause for an error message). */
  applies(v: V, shape: S, caps: Capabilities): true | string;
  /** The variant used when none is asked for or measured; must apply to `shape`. */
  rule(shape: S, caps: Capabilities): V;
  /**
   * The shape class one measurement stands for: the exact geometry with the batch rounded up
   * to a power of two (`batchClass`). A measured choice is still checked against each shape.
   */
  key(shape: S): string;
  /** The shaders the variants run: their sources (with the variant list) stamp measured choices. */
  shaders: readonly Shader<string>[];
  /**
   * For the tuner: makes fresh inputs of `shape` (tensors created here are released after the
   * measurement) and returns a function that records one run of a variant on them. Without
   * it the family is never measured.
   */
  bench?(engine: Engine, shape: S): (v: V) => void;
  /**
   * Whether the tuner may try `v` for `shape` on this adapter (default yes): not code whose
   * compile takes minutes, nor shapes so small that launch overhead hides any difference.
   */
  tunable?(v: V, shape: S, caps: Capabilities): boolean;
}

export interface Family<V extends string, S> extends FamilySpec<V, S> {
  /** A hash of the name, variants and shader sources: a measured choice with another stamp is stale. */
  readonly stamp: string;
}

/** A family of any variants and shape (for the registry and the tuner). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFamily = Family<string, any>;

/** Every declared family (each kernel module declares its own on load). */
export const FAMILIES: AnyFamily[] = [];

/** Declares a kernel family (see FamilySpec); the name must be new. */
export function declareFamily<const V extends string, S>(spec: FamilySpec<V, S>): Family<V, S> {
  if (FAMILIES.some((f) => f.name === spec.name)) throw new Error(`kernel family '${spec.name}' declared twice`);
  let stamp: string | null = null;
  const family: Family<V, S> = {
    ...spec,
    get stamp() {
      stamp ??= hashText([spec.name, spec.variants.join(','), ...spec.shaders.map((s) => s.code)].join('\n'));
      return stamp;
    },
  };
  FAMILIES.push(family as unknown as AnyFamily);
  return family;
}

/** The batch of a shape class: `n` rounded up to a power of two. */
export function batchClass(n: number): number {
  return n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(n));
}

// ---- choosing ------------------------------------------------------------------------

/** Variants each family has actually run in this process (for the tests' coverage check). */
const exercised = new Map<string, Set<string>>();

/** The variants of `family` that `choose` returned in this process. */
export function variantsRun(family: string): ReadonlySet<string> {
  return exercised.get(family) ?? new Set();
}

function ran<V extends string>(family: string, v: V): V {
  let set = exercised.get(family);
  if (!set) exercised.set(family, (set = new Set()));
  set.add(v);
  return v;
}

/**
 * Whether `v` is a variant of `family` that applies to `shape` on `caps`: `true`, or the reason
 * it is not (unknown name, or why it does not apply).
 */
export function check<V extends string, S>(family: Family<V, S>, v: string, shape: S, caps: Capabilities): true | string {
  if (!(family.variants as readonly string[]).includes(v)) return `unknown variant '${v}' (variants: ${family.variants.join(', ')})`;
  const ok = family.applies(v as V, shape, caps);
  return ok === true ? true : `variant '${v}' does not apply: ${ok}`;
}

/** The variants the tuner measures for `shape`: those that apply and are tunable on this adapter. */
export function candidates<V extends string, S>(family: Family<V, S>, shape: S, caps: Capabilities): V[] {
  return family.variants.filter((v) => family.applies(v, shape, caps) === true && (family.tunable?.(v, shape, caps) ?? true));
}

/**
 * The variant of `family` to run for `shape`: `asked` if given (Error naming the family and
 * the variant when it is unknown or does not apply), else the tuner's cached choice for the
 * shape class when it applies to this shape, else the family's rule. A shape class met for
 * the first time without a cached choice is queued for the tuner (`tunePending`,
 * kernels/tune.ts) unless SER_TUNE is off; this call still uses the rule.
 */
export function choose<V extends string, S>(engine: Engine, family: Family<V, S>, shape: S, asked?: string): V {
  const caps = engine.caps;
  if (asked !== undefined) {
    const ok = check(family, asked, shape, caps);
    if (ok !== true) throw new Error(`${family.name}: ${ok}`);
    return ran(family.name, asked as V);
  }
  if (caps.tuning.mode !== 'off') {
    const key = family.key(shape);
    const tuned = caps.tuning.lookup(family.name, key, family.stamp);
    if (tuned && check(family, tuned.variant, shape, caps) === true) return ran(family.name, tuned.variant as V);
    if (!tuned) request(engine, family, key, shape);
  }
  const v = family.rule(shape, caps);
  const ok = family.applies(v, shape, caps);
  if (ok !== true) throw new Error(`${family.name}: internal error: the rule chose '${v}', which does not apply (${ok})`);
  return ran(family.name, v);
}

// ---- the tuner's queue ---------------------------------------------------------------

/** A shape class waiting to be measured. */
export interface TuneRequest {
  family: AnyFamily;
  key: string;
  shape: unknown;
}

/** Per engine: requests waiting, and the shape classes already queued this process (never twice). */
const queues = new WeakMap<Engine, { waiting: TuneRequest[]; seen: Set<string> }>();

function queueOf(engine: Engine) {
  let q = queues.get(engine);
  if (!q) queues.set(engine, (q = { waiting: [], seen: new Set() }));
  return q;
}

function request<V extends string, S>(engine: Engine, family: Family<V, S>, key: string, shape: S): void {
  if (!family.bench) return;
  const q = queueOf(engine);
  const id = `${family.name}|${key}`;
  if (q.seen.has(id)) return;
  q.seen.add(id);
  // With one candidate there is nothing to measure.
  if (candidates(family, shape, engine.caps).length < 2) return;
  q.waiting.push({ family: family as unknown as AnyFamily, key, shape });
}

/** Takes the requests waiting on `engine` (the tuner measures them). */
export function takeRequests(engine: Engine): TuneRequest[] {
  const q = queueOf(engine);
  return q.waiting.splice(0);
}

/** Puts requests back at the front of `engine`'s queue (the tuner's time budget ran out before them). */
export function returnRequests(engine: Engine, requests: readonly TuneRequest[]): void {
  queueOf(engine).waiting.unshift(...requests);
}

/** Requests waiting on `engine`, without taking them. */
export function pendingRequests(engine: Engine): number {
  return queues.get(engine)?.waiting.length ?? 0;
}

// ---- helpers for `bench` ---------------------------------------------------------------

/** A tensor of `shape` with values in [-1, 1) from a fixed sequence (timing inputs: no NaN or denormals). */
export function benchInput(engine: Engine, shape: readonly number[], dtype: 'f32' | 'i32' = 'f32'): Tensor {
  const n = shape.reduce((a, b) => a * b, 1);
  const data = dtype === 'f32' ? new Float32Array(n) : new Int32Array(n);
  let s = 0x2545f491;
  for (let i = 0; i < n; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    data[i] = dtype === 'f32' ? s / 2 ** 31 - 1 : 0;
  }
  return engine.fromArray(data, shape, dtype);
}
