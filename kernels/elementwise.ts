// The elementwise ops (one table, generated into shaders/elementwise.wgsl and its vec4 twin
// elementwise4.wgsl) and their launchers: shape checks, broadcasting strides, dispatch.
import source from '../shaders/elementwise.wgsl';
import source4 from '../shaders/elementwise4.wgsl';
import type { Engine } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { declareParams, declareShader, withPreamble, HELPERS } from './declare.js';
import { bindingLimit, elementRanges, rangeBinding, windowOverride } from '../src/engine/windows.js';
import { benchInput, choose, declareFamily } from './choose.js';

const WG = 256;
const MAX_RANK = 8;

/** The uniform both elementwise shaders read (rank <= MAX_RANK: two vec4u per list). */
const ELEMENTWISE_PARAMS = declareParams([
  ['n', 'u32', 'elements (vec4s in elementwise4.wgsl)'],
  ['alpha', 'f32'],
  ['beta', 'f32'],
  ['shape', 'array<vec4u, 2>', 'broadcast: the output shape'],
  ['sa', 'array<vec4u, 2>', "broadcast: a's strides (0 on a broadcast axis)"],
  ['sb', 'array<vec4u, 2>', "broadcast: b's strides"],
]);

/**
 * The ops, once for both shaders. `expr` is WGSL with A and B for the operands' values
 * (a[i] and b[i], or the broadcast offsets in elementwise.wgsl), T for the element type
 * (f32 or vec4f) and out[i] for the value being overwritten. `binary`: reads b through
 * broadcasting strides; `vec4`: also generated on vec4s (for same-layout operands).
 */
const OPS = {
  relu: { expr: 'max(A, T(0.0))', vec4: true },
  neg: { expr: '-A' },
  exp_: { expr: 'exp(A)' },
  log_: { expr: 'log(A)' },
  sqrt_: { expr: 'sqrt(A)' },
  square: { expr: 'A * A' },
  sign_: { expr: 'sign(A)' },
  /** alpha * a + beta */
  affine: { expr: 'p.alpha * A + p.beta', vec4: true },
  /** clamp(a, alpha, beta) */
  clamp_: { expr: 'clamp(A, T(p.alpha), T(p.beta))', vec4: true },
  fill: { expr: 'T(p.alpha)', vec4: true },
  /** out += alpha * a (gradient accumulation, SGD-style updates) */
  axpy: { expr: 'out[i] + p.alpha * A', vec4: true },
  add: { expr: 'A + B', binary: true, vec4: true },
  sub: { expr: 'A - B', binary: true, vec4: true },
  mul: { expr: 'A * B', binary: true, vec4: true },
  div: { expr: 'A / B', binary: true },
  /** Gradient of relu: b where a > 0 (a = the relu's input, b = upstream gradient). */
  relu_backward: { expr: 'select(T(0.0), B, A > T(0.0))', binary: true, vec4: true },
} as const satisfies Record<string, { expr: string; binary?: boolean; vec4?: boolean }>;
type Entry = keyof typeof OPS;
type Vec4Op = { [K in Entry]: (typeof OPS)[K] extends { vec4: true } ? K : never }[Entry];

/** One generated entry point: `name` computes out[i] = expr with the operands loaded as given. */
function entry(name: string, expr: string, type: 'f32' | 'vec4f', a: string, b: string, broadcast: boolean): string {
  const body = expr.replace(/\bT\(/g, `${type}(`).replace(/\bA\b/g, a).replace(/\bB\b/g, b);
  return `@compute @workgroup_size(WG)
fn ${name}(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }${broadcast ? '\n  let o = operand_offsets(i);' : ''}
  out[i] = ${body};
}
`;
}

const ENTRIES = Object.keys(OPS) as Entry[];
const VEC4_OPS = ENTRIES.filter((k): k is Vec4Op => (OPS[k] as { vec4?: boolean }).vec4 === true);
const vec4Name = (op: Vec4Op) => `${op}4` as const;

const SCALAR = declareShader(
  'elementwise',
  withPreamble(source, ELEMENTWISE_PARAMS.wgsl, HELPERS.flat_index)
    + ENTRIES.map((k) => {
      const binary = 'binary' in OPS[k];
      return binary ? entry(k, OPS[k].expr, 'f32', 'a[o.x]', 'b[o.y]', true) : entry(k, OPS[k].expr, 'f32', 'a[i]', 'b[i]', false);
    }).join('\n'),
  ENTRIES,
);
const VECTOR = declareShader(
  'elementwise4',
  withPreamble(source4, ELEMENTWISE_PARAMS.wgsl, HELPERS.flat_index) + VEC4_OPS.map((k) => entry(vec4Name(k), OPS[k].expr, 'vec4f', 'a[i]', 'b[i]', false)).join('\n'),
  VEC4_OPS.map(vec4Name),
);

export type UnaryOp = 'relu' | 'neg' | 'exp_' | 'log_' | 'sqrt_' | 'square' | 'sign_';
export type BinaryOp = 'add' | 'sub' | 'mul' | 'div' | 'relu_backward';

function requireF32(op: string, ...ts: Tensor[]): void {
  for (const t of ts) if (t.dtype !== 'f32') throw new Error(`${op}: expects float32 tensors, got ${t.dtype}`);
}

function params(engine: Engine, n: number, alpha = 0, beta = 0, layout?: { shape: number[]; sa: number[]; sb: number[] }): GPUBuffer {
  return ELEMENTWISE_PARAMS.pack(engine, { n, alpha, beta, shape: layout?.shape ?? [], sa: layout?.sa ?? [], sb: layout?.sb ?? [] });
}

/** Test hook: the engine's one window override (src/engine/windows.ts), under its old name. */
export const elementwiseSplitOverride = windowOverride;

/** The smallest element count the tuner measures (smaller maps keep the rule). */
const TUNE_MIN_ELEMENTS = 1 << 16;

/** What the elementwise chooser sees of a call: the op, the element count, and whether b is broadcast. */
export interface ElementwiseShape {
  op: Entry;
  n: number;
  broadcast: boolean;
}

/**
 * Same-layout maps over a multiple of 4 elements may run on vec4s (elementwise4.wgsl; the ops
 * with `vec4` in OPS), every call on scalars (elementwise.wgsl). Shape class: the op and the
 * element count rounded up to a power of two.
 */
export const ELEMENTWISE_FAMILY = declareFamily({
  name: 'elementwise',
  variants: ['vec4', 'scalar'] as const,
  applies: (v, s: ElementwiseShape) => {
    if (v === 'scalar') return true;
    if (s.broadcast) return 'vec4 needs operands of one layout (no broadcasting)';
    if (s.n % 4 !== 0) return 'vec4 needs a multiple of 4 elements';
    return (VEC4_OPS as Entry[]).includes(s.op) ? true : `vec4 has no '${s.op}'`;
  },
  rule: (s) => (!s.broadcast && s.n % 4 === 0 && (VEC4_OPS as Entry[]).includes(s.op) ? 'vec4' : 'scalar'),
  key: (s) => `${s.op} n${s.n <= 1 ? 1 : 2 ** Math.ceil(Math.log2(s.n))}${s.broadcast ? ' broadcast' : ''}`,
  // Below this a dispatch costs its launch, whatever the variant: measuring would pick by noise.
  tunable: (_v, s) => s.n >= TUNE_MIN_ELEMENTS,
  shaders: [SCALAR, VECTOR],
  bench: (engine, s) => {
    // The bindings the op's entry declares: b for binary ops, a for all but fill.
    const a = s.op === 'fill' ? null : benchInput(engine, [s.n]);
    const b = 'binary' in OPS[s.op] ? benchInput(engine, [s.n]) : null;
    const out = benchInput(engine, [s.n]);
    return (v) => run(engine, s.op, s.n, [a, b, out], (n) => params(engine, n, 0.5, 0.25), 0, v);
  },
});
export type ElementwiseVariant = (typeof ELEMENTWISE_FAMILY.variants)[number];

/**
 * Dispatches `entry` over n elements: `rank` 0 when the tensors share one layout, else the
 * rank of the collapsed broadcast layout in `params` (a pipeline per rank: the shader's
 * index loop then has a constant trip count). Same-layout ranges past one storage binding
 * (128 MiB on llvmpipe; VGG-16 activations at batch 32 are 195 MB) are cut into chunks,
 * each tensor bound as a byte window at an aligned offset. `variant`: as asked (checked),
 * else the chooser's.
 */
function run(
  engine: Engine,
  entry: Entry,
  n: number,
  bindings: (Tensor | GPUBuffer | null)[],
  params: (count: number) => GPUBuffer,
  rank = 0,
  variant?: ElementwiseVariant,
): void {
  const broadcast = rank > 0;
  // On vec4s, invocations and the `n` they see count vec4s.
  const twin = choose(engine, ELEMENTWISE_FAMILY, { op: entry, n, broadcast }, variant) === 'vec4' ? vec4Name(entry as Vec4Op) : null;
  const lanes = twin ? 4 : 1;
  const pipeline = twin ? VECTOR.pipeline(engine, twin, { WG }) : SCALAR.pipeline(engine, entry, { WG, RANK: rank });
  for (const r of elementRanges(engine, 'elementwise', n)) {
    engine.dispatch(pipeline, [...bindings.map((b) => rangeBinding(b, r)), params(r.count / lanes)], engine.grid(r.count / lanes, WG));
  }
}

/** `variant`: default the chooser's (ELEMENTWISE_FAMILY); an asked one that does not apply is an Error. */
export function unary(op: UnaryOp, a: Tensor, variant?: ElementwiseVariant): Tensor {
  requireF32(op, a);
  const out = a.engine.empty(a.shape);
  run(a.engine, op, a.size, [a, null, out], (n) => params(a.engine, n), 0, variant);
  return out;
}

/** alpha * a + beta */
export function affine(a: Tensor, alpha: number, beta = 0): Tensor {
  requireF32('affine', a);
  const out = a.engine.empty(a.shape);
  run(a.engine, 'affine', a.size, [a, null, out], (n) => params(a.engine, n, alpha, beta));
  return out;
}

export function clamp(a: Tensor, lo: number, hi: number): Tensor {
  requireF32('clamp', a);
  const out = a.engine.empty(a.shape);
  run(a.engine, 'clamp_', a.size, [a, null, out], (n) => params(a.engine, n, lo, hi));
  return out;
}

export function fill(engine: Engine, shape: readonly number[], value: number): Tensor {
  const out = engine.empty(shape);
  run(engine, 'fill', out.size, [null, null, out], (n) => params(engine, n, value));
  return out;
}

/** Overwrites every element of `t` with `value`. */
export function fillInPlace(t: Tensor, value: number): void {
  run(t.engine, 'fill', t.size, [null, null, t], (n) => params(t.engine, n, value));
}

/** into += alpha * g */
export function addInPlace(into: Tensor, g: Tensor, alpha = 1): void {
  requireF32('addInPlace', into, g);
  if (into.size !== g.size) throw new Error(`addInPlace: [${into.shape}] += [${g.shape}]`);
  run(into.engine, 'axpy', into.size, [g, null, into], (n) => params(into.engine, n, alpha));
}

/** NumPy broadcasting of two shapes; throws on a mismatch. */
export function broadcastShapes(a: readonly number[], b: readonly number[]): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1;
    const db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) throw new Error(`shapes [${a.join(', ')}] and [${b.join(', ')}] do not broadcast`);
    out.push(da === 1 ? db : da);
  }
  return out;
}

function broadcastStrides(shape: readonly number[], outShape: readonly number[]): number[] {
  const rank = outShape.length;
  const strides = new Array(rank).fill(0);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) {
    strides[rank - shape.length + i] = shape[i] === 1 ? 0 : s;
    s *= shape[i];
  }
  return strides;
}

/** Collapses adjacent axes that broadcast the same way, so any rank fits in MAX_RANK. */
function collapse(shape: number[], sa: number[], sb: number[]) {
  const out = { shape: [] as number[], sa: [] as number[], sb: [] as number[] };
  for (let i = 0; i < shape.length; i++) {
    if (shape[i] === 1) continue;
    const k = out.shape.length - 1;
    if (k >= 0 && out.sa[k] === sa[i] * shape[i] && out.sb[k] === sb[i] * shape[i]) {
      out.shape[k] *= shape[i];
      out.sa[k] = sa[i];
      out.sb[k] = sb[i];
    } else {
      out.shape.push(shape[i]);
      out.sa.push(sa[i]);
      out.sb.push(sb[i]);
    }
  }
  return out;
}

/** `variant`: default the chooser's (ELEMENTWISE_FAMILY); an asked one that does not apply is an Error. */
export function binary(op: BinaryOp, a: Tensor, b: Tensor, variant?: ElementwiseVariant): Tensor {
  requireF32(op, a, b);
  const engine = a.engine;
  const shape = broadcastShapes(a.shape, b.shape);
  const out = engine.empty(shape);
  const same = a.shape.join() === b.shape.join();
  let layout: { shape: number[]; sa: number[]; sb: number[] } | undefined;
  if (!same) {
    layout = collapse(shape, broadcastStrides(a.shape, shape), broadcastStrides(b.shape, shape));
    if (layout.shape.length > MAX_RANK) throw new Error(`${op}: broadcast of rank ${layout.shape.length} exceeds ${MAX_RANK}`);
  }
  if (layout && out.bytes > bindingLimit(engine)) {
    throw new Error(`${op}: broadcasting [${a.shape}] with [${b.shape}] produces ${out.bytes} bytes, over one storage binding (${bindingLimit(engine)})`);
  }
  run(engine, op, out.size, [a, b, out], (n) => params(engine, n, 0, 0, layout), layout?.shape.length ?? 0, variant);
  return out;
}
