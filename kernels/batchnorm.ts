// Launchers for shaders/batchnorm.wgsl: batch normalisation of [N, C, H, W] per channel,
// training (batch statistics, running averages updated in place) and evaluation (running
// statistics), forward and backward. Passes over activations run in batch chunks bound as
// byte windows (src/engine/windows.ts), so tensors larger than one storage binding work.
import source from '../shaders/batchnorm.wgsl';
import subgroupEntries from '../shaders/batchnorm_subgroups.wgsl';
import type { Engine, Binding } from '../src/engine/engine.js';
import type { Tensor } from '../src/engine/tensor.js';
import { batchChunks, sampleWindow, type BatchChunk } from '../src/engine/windows.js';
import { declareParams, declareShader, withPreamble } from './declare.js';
import { batchClass, benchInput, choose, declareFamily } from './choose.js';
import type { Capabilities } from '../src/gpu/capabilities.js';

const WG = 256;
/** Values per segment of a plane: the first level of the two-level channel sums. */
const SEGMENT = 512;
/** The same for the subgroup kernels, where a whole workgroup sums a segment. */
const SEGMENT_SUBGROUPS = 4096;

/** The uniform of batchnorm.wgsl (and so of its subgroup twins), declared once. */
const BATCHNORM_PARAMS = declareParams([
  ['count', 'u32', 'samples in this chunk'],
  ['n0', 'u32'],
  ['N', 'u32'],
  ['C', 'u32'],
  ['HW', 'u32'],
  ['S', 'u32'],
  ['L', 'u32'],
  ['base0', 'u32'],
  ['base1', 'u32'],
  ['base2', 'u32'],
  ['M', 'f32', 'values per channel, N * H * W'],
  ['eps', 'f32'],
  ['momentum', 'f32'],
  ['training', 'u32'],
  ['relu', 'u32'],
]);
/** vec4s per invocation of the vec4 per-element entries (RUN in batchnorm.wgsl). */
const RUN = 4;

/**
 * The two lane types every generated entry is written for: one f32 per load, or a vec4f of
 * four values of one plane (bindings 12..14, x4 / g4 / out4; planes and segments of a
 * multiple of 4 values), which on CPU adapters costs about what one value does. A vec4 block
 * of 16 is the scalar block of 64 values; its four lanes are summed at the block's end.
 */
const LANES = {
  f32: { T: 'f32', bool: 'bool', suffix: '', x: 'x', g: 'g', out: 'out', quarter: '', block: 64, total: (v: string) => v },
  vec4f: { T: 'vec4f', bool: 'vec4<bool>', suffix: '4', x: 'x4', g: 'g4', out: 'out4', quarter: ' / 4u', block: 16, total: (v: string) => `hsum(${v})` },
} as const;
type Lane = (typeof LANES)[keyof typeof LANES];

/** The per-value helpers, once per lane type (the vec4f ones end in 4). */
function laneHelpers(l: Lane): string {
  return `
// The batchnorm output y of v, the channel's statistics in k: every entry computes y with
// this one expression, so the backward's ReLU mask is exactly the forward's.
fn affine_of${l.suffix}(v: ${l.T}, k: Coeffs) -> ${l.T} {
  return (v - k.mean) * k.scale + k.shift;
}

// The layer's output: y, or max(y, 0) with the fused ReLU.
fn activate${l.suffix}(y: ${l.T}) -> ${l.T} {
  return select(y, max(y, ${l.T}(0.0)), p.relu != 0u);
}

// The upstream gradient g of value v, zero where the fused ReLU cut the output.
fn gate_of${l.suffix}(g: ${l.T}, v: ${l.T}, k: Coeffs) -> ${l.T} {
  return select(g, ${l.T}(0.0), ${l.bool}(p.relu != 0u) & (affine_of${l.suffix}(v, k) <= ${l.T}(0.0)));
}
`;
}

/**
 * The per-segment sums, written once for the scalar, vec4 and subgroup entries. Each sums
 * two terms over a segment: `setup` runs once per segment (with `first`, the mean of the
 * segment's first four values, in scope), `body` once per value with xi (x's value) in
 * scope, @g standing for g's value, @T for the lane type and @4 for the lane suffix.
 * `store` writes the totals sum0 and sum1 at the segment's slot.
 */
const SEGMENT_SUMS = {
  /**
   * A segment's mean and its sum of squared deviations from that mean, from one pass: sums
   * of d = x - K and d * d, shifted by K, the mean of the segment's first four values, so
   * that they stay of the data's spread, not its offset (the shifted-data algorithm; Chan,
   * Golub & LeVeque 1983, "Algorithms for computing the sample variance"). The digits lost
   * grow with ((mean - K) / std)^2: averaging four values keeps one outlier from costing
   * many (test/batchnorm.test.ts). channel_moments merges the segments.
   */
  partial_moments: { setup: 'let K = first;', body: 'let d = xi - @T(K);', terms: ['d', 'd * d'], store: 'store_moments(seg, K, sum0, sum1);' },
  /** Sums of g and of g * xhat, g gated by the fused ReLU (channel_grad). */
  partial_grad: { setup: 'let k = affine_coeffs(seg.c);', body: 'let gi = gate_of@4(@g, xi, k);', terms: ['gi', 'gi * (xi - k.mean) * k.invstd'], store: 'store_pair(seg.slot, sum0, sum1);' },
} as const satisfies Record<string, { setup: string; body: string; terms: readonly string[]; store: string }>;
type SegmentSum = keyof typeof SEGMENT_SUMS;

/**
 * The per-element passes, written once for the scalar entry (one value per invocation) and
 * the vec4 one (a run of RUN vec4s of one plane per invocation, so the channel's coefficients
 * are read once per 16 values). `coeffs` names the coefficient reader; `value` is the output
 * of value xi, after `body`.
 */
const PER_ELEMENT = {
  /** out = relu?((x - mean) * scale + shift) */
  normalize: { coeffs: 'affine_coeffs', body: '', value: 'activate@4(affine_of@4(xi, k))' },
  /** dx = a * (g' - d - (x - mean) * e), g' = g gated by the fused ReLU. */
  input_grad: { coeffs: 'grad_coeffs', body: 'let gi = gate_of@4(@g, xi, k);', value: 'k.a * (gi - k.d - (xi - k.mean) * k.e)' },
} as const satisfies Record<string, { coeffs: string; body: string; value: string }>;
type PerElement = keyof typeof PER_ELEMENT;

const HEAD = '@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32';
const typed = (text: string, l: Lane, g: string) => text.replace(/@4/g, l.suffix).replace(/@g/g, g).replace(/@T/g, l.T);
const indent = (lines: string[], pad: string) => lines.filter((s) => s !== '').map((s) => `${pad}${s}\n`).join('');

/** One invocation per segment, walking it in blocks (no barriers: the CPU adapters' way). */
function segmentEntry(name: SegmentSum, l: Lane): string {
  const s = SEGMENT_SUMS[name];
  const k = s.terms.map((_, i) => i);
  return `
@compute @workgroup_size(WG)
fn ${name}${l.suffix}(${HEAD}) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let xs = (p.base0 + seg.start)${l.quarter};
${s.body.includes('@g') ? `  let gs = (p.base1 + seg.start)${l.quarter};\n` : ''}  let len = seg.len${l.quarter};
${s.setup.includes('first') ? `  let first = ${l === LANES.f32 ? 'head_mean(xs, seg.len)' : 'hsum(x4[xs]) / 4.0'};\n` : ''}${indent([s.setup, ...k.map((i) => `var sum${i} = 0.0;`)], '  ')}  for (var b = 0u; b < len; b += ${l.block}u) {
    let end = min(b + ${l.block}u, len);
${indent(k.map((i) => `var block${i} = ${l.T}(0.0);`), '    ')}    for (var i = b; i < end; i++) {
      let xi = ${l.x}[xs + i];
${indent([typed(s.body, l, `${l.g}[gs + i]`), ...s.terms.map((term, i) => `block${i} += ${term};`)], '      ')}    }
${indent(k.map((i) => `sum${i} += ${l.total(`block${i}`)};`), '    ')}  }
  ${s.store}
}
`;
}

/** One workgroup per segment, neighbours reading neighbours, totalled with subgroupAdd (batchnorm_subgroups.wgsl). */
function subgroupEntry(name: SegmentSum): string {
  const s = SEGMENT_SUMS[name];
  const l = LANES.f32;
  return `
@compute @workgroup_size(WG)
fn ${name}_sg(${HEAD},
              @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32) {
  let t = segment_of_workgroup(wid, nwg);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let xs = p.base0 + seg.start;
${s.body.includes('@g') ? '  let gs = p.base1 + seg.start;\n' : ''}${s.setup.includes('first') ? '  let first = head_mean(xs, seg.len);\n' : ''}${indent([s.setup], '  ')}  var s = vec2f(0.0);
  for (var i = lid; i < seg.len; i += WG) {
    let xi = x[xs + i];
${indent([typed(s.body, l, 'g[gs + i]')], '    ')}    s += vec2f(${s.terms[0]}, ${s.terms[1]});
  }
  let total = workgroup_sum(s, lid, lane, size);
  let sum0 = total.x;
  let sum1 = total.y;
  if (lid == 0u) { ${s.store} }
}
`;
}

/** A per-element pass: its per-value helper for lane type l, and its entry. */
function perElementEntry(name: PerElement, l: Lane): string {
  const e = PER_ELEMENT[name];
  const at = `${name}${l.suffix}_at`;
  const helper = `
fn ${at}(i: u32, k: Coeffs) {
  let xi = ${l.x}[p.base0${l.quarter} + i];
${indent([typed(e.body, l, `${l.g}[p.base1${l.quarter} + i]`)], '  ')}  ${l.out}[p.base2${l.quarter} + i] = ${typed(e.value, l, '')};
}
`;
  const body =
    l === LANES.f32
      ? `  let j = flat_index(wid, nwg, lid);
  if (j >= p.count * p.C * p.HW) { return; }
  ${at}(j, ${e.coeffs}((j / p.HW) % p.C));
`
      : `  let r = run_of(flat_index(wid, nwg, lid));
  if (r.c >= p.C) { return; }
  let k = ${e.coeffs}(r.c);
${indent(Array.from({ length: RUN }, (_, i) => `${at}(run_at(r, ${i}u), k);`), '  ')}`;
  return `${helper}
@compute @workgroup_size(WG)
fn ${name}${l.suffix}(${HEAD}) {
${body}}
`;
}

const LANE_LIST = [LANES.f32, LANES.vec4f];
const SEGMENT_NAMES = Object.keys(SEGMENT_SUMS) as SegmentSum[];
const ELEMENT_NAMES = Object.keys(PER_ELEMENT) as PerElement[];
const code =
  withPreamble(source, BATCHNORM_PARAMS.wgsl) +
  LANE_LIST.map(laneHelpers).join('') +
  LANE_LIST.flatMap((l) => [...SEGMENT_NAMES.map((n) => segmentEntry(n, l)), ...ELEMENT_NAMES.map((n) => perElementEntry(n, l))]).join('');

/** Entries run over batch chunks, with their vec4 twins and (per-segment ones) subgroup twins. */
const TWINS = {
  normalize: { vec4: 'normalize4' },
  input_grad: { vec4: 'input_grad4' },
  partial_moments: { vec4: 'partial_moments4', sg: 'partial_moments_sg' },
  partial_grad: { vec4: 'partial_grad4', sg: 'partial_grad_sg' },
} as const satisfies Record<SegmentSum | PerElement, { vec4: string; sg?: string }>;
type ChunkedEntry = keyof typeof TWINS;

const BATCHNORM = declareShader('batchnorm', code, [
  ...(Object.keys(TWINS) as ChunkedEntry[]),
  ...Object.values(TWINS).map((t) => t.vec4),
  'channel_moments', 'eval_stats', 'channel_grad', 'channel_grad_coeffs',
]);
/** The subgroup entries with batchnorm.wgsl appended (its bindings, Params and helpers). */
const SUBGROUPS = declareShader('batchnorm_subgroups', `${subgroupEntries}\n${SEGMENT_NAMES.map(subgroupEntry).join('')}\n${code}`, [
  'partial_moments_sg', 'partial_grad_sg',
]);

/**
 * How the per-segment sums are computed: 'segments', one invocation per segment (no barriers:
 * the fast way on CPU adapters), or 'subgroups', one workgroup per segment reading neighbouring
 * values and adding them with subgroupAdd (the GPU way; needs the `subgroups` feature).
 */
export type BatchNormReduction = 'segments' | 'subgroups';

/** 'subgroups' on a GPU adapter that has the feature, else 'segments' (the rule of BATCHNORM_FAMILY). */
export function defaultBatchNormReduction(engine: Engine): BatchNormReduction {
  return reductionRule(engine.caps);
}

function reductionRule(caps: Capabilities): BatchNormReduction {
  return caps.kind === 'gpu' && caps.subgroups ? 'subgroups' : 'segments';
}

/**
 * The chooser of the per-segment sums of training statistics and gradients (forward and
 * backward alike), by input shape [N, C, H, W]. The vec4 twins of every entry are a shape
 * rule inside the 'segments' variant (planes of a multiple of 4 values).
 */
export const BATCHNORM_FAMILY = declareFamily({
  name: 'batchnorm.reduce',
  variants: ['segments', 'subgroups'] as const,
  applies: (v, _shape: readonly number[], caps) => (v === 'subgroups' && !caps.subgroups ? "this adapter has no 'subgroups' feature" : true),
  rule: (_shape, caps) => reductionRule(caps),
  key: ([N, C, H, W]) => `N${batchClass(N)} C${C} ${H}x${W}`,
  shaders: [BATCHNORM, SUBGROUPS],
  bench: (engine, shape) => {
    const C = shape[1];
    const x = benchInput(engine, shape);
    const grad = benchInput(engine, shape);
    const state = { gamma: benchInput(engine, [C]), beta: benchInput(engine, [C]), runningMean: benchInput(engine, [C]), runningVar: engine.fromArray(new Float32Array(C).fill(1), [C]) };
    return (v) => {
      const { out, stats } = batchNormForward(x, state, { training: true, reduction: v });
      batchNormBackward(grad, x, stats, state.gamma, true, { reduction: v });
      out.dispose();
    };
  },
});

/** The reduction for a pass over `x`: the asked one (checked: an Error names the family and the reason), else the chooser's. */
function reductionOf(x: Tensor, asked: BatchNormReduction | undefined): BatchNormReduction {
  if (x.shape.length !== 4) return asked ?? 'segments'; // dims() rejects the shape
  return choose(x.engine, BATCHNORM_FAMILY, x.shape, asked);
}

export interface BatchNormState {
  gamma: Tensor;
  beta: Tensor;
  runningMean: Tensor;
  runningVar: Tensor;
}

export interface BatchNormOptions {
  training: boolean;
  momentum?: number;
  eps?: number;
  /** Default: `defaultBatchNormReduction(engine)`. */
  reduction?: BatchNormReduction;
  /** The layer is batchnorm then ReLU: the output is max(y, 0) and the backward masks by it. */
  relu?: boolean;
}

interface Dims {
  N: number;
  C: number;
  HW: number;
  S: number;
  L: number;
  M: number;
}

function dims(op: string, x: Tensor, reduction: BatchNormReduction): Dims {
  if (x.dtype !== 'f32') throw new Error(`${op}: expects a float32 tensor, got ${x.dtype}`);
  if (x.shape.length !== 4) throw new Error(`${op}: expects [N, C, H, W], got [${x.shape.join(', ')}]`);
  const [N, C, H, W] = x.shape;
  const HW = H * W;
  const L = Math.max(1, Math.min(HW, reduction === 'subgroups' ? SEGMENT_SUBGROUPS : SEGMENT));
  const S = Math.ceil(HW / L);
  return { N, C, HW, S, L, M: N * HW };
}

function requireChannels(op: string, C: number, named: Record<string, Tensor>): void {
  for (const [name, t] of Object.entries(named)) {
    if (t.dtype !== 'f32' || t.shape.length !== 1 || t.shape[0] !== C) {
      throw new Error(`${op}: ${name} must be float32 [${C}], got ${t.dtype} [${t.shape.join(', ')}]`);
    }
  }
}

/** What the per-element and per-segment passes need to know of the layer. */
interface Mode {
  training: boolean;
  relu: boolean;
}

function params(engine: Engine, d: Dims, chunk: BatchChunk, bases: readonly number[], eps: number, momentum: number, mode: Mode): GPUBuffer {
  const { N, C, HW, S, L, M } = d;
  const [base0 = 0, base1 = 0, base2 = 0] = bases;
  return BATCHNORM_PARAMS.pack(engine, { count: chunk.count, n0: chunk.n0, N, C, HW, S, L, base0, base1, base2, M, eps, momentum, training: mode.training, relu: mode.relu });
}

/** Scratch for the per-segment sums, [2, C, N, S]. */
function partials(engine: Engine, op: string, d: Dims): Tensor {
  const t = engine.empty([2, d.C, d.N, d.S]);
  if (t.bytes > engine.maxBinding) throw new Error(`${op}: ${d.C} channels x ${d.N} samples need ${t.bytes} bytes of partial sums, over one binding`);
  return t;
}

/**
 * Runs a per-element or per-segment entry over the batch in chunks. `activations` are
 * bindings 0..2 (x, g, out: each with N * C * H * W elements; null when unused); `rest`
 * are bindings 3..10. Threads per sample: C * S for segments, C * H * W for elements.
 */
function runChunked(
  engine: Engine,
  entry: ChunkedEntry,
  d: Dims,
  activations: readonly (Tensor | null)[],
  rest: readonly Binding[],
  threadsPerSample: number,
  mode: Mode,
  reduction: BatchNormReduction = 'segments',
): void {
  // Per-segment entries have subgroup twins (batchnorm_subgroups.wgsl): one workgroup, not
  // one invocation, per segment.
  const twins: { vec4: (typeof BATCHNORM.entries)[number]; sg?: (typeof SUBGROUPS.entries)[number] } = TWINS[entry];
  const perSegment = twins.sg !== undefined;
  const subgroups = reduction === 'subgroups' && perSegment;
  // Per-element and per-segment entries have vec4 twins (bindings 12..14) for planes (and
  // segments) of a multiple of 4 values: each load then moves four values.
  const vec4 = !subgroups && (!perSegment || d.L % 4 === 0) && d.HW % 4 === 0;
  const pipeline = subgroups ? SUBGROUPS.pipeline(engine, twins.sg!, { WG }) : BATCHNORM.pipeline(engine, vec4 ? twins.vec4 : entry, { WG });
  // A vec4 per-element invocation handles a run of up to RUN vec4s of one plane; a segment
  // takes one invocation (vec4 or not) or one workgroup (subgroups).
  const threads = vec4 && !perSegment ? d.C * Math.ceil(d.HW / 4 / RUN) : threadsPerSample * (subgroups ? WG : 1);
  const perSample = d.C * d.HW;
  const used = activations.filter((t) => t !== null).map(() => perSample);
  for (const chunk of batchChunks(engine, `batchNorm2d ${entry}`, d.N, used)) {
    const windows = activations.map((t) => (t ? sampleWindow(t, perSample, chunk, d.N) : null));
    const p = params(engine, d, chunk, windows.map((w) => w?.base ?? 0), 0, 0, mode);
    const act = windows.map((w) => w?.binding ?? null);
    const bindings = vec4 ? [null, null, null, ...slots3to10(rest), p, ...act] : [...act, ...slots3to10(rest), p];
    engine.dispatch(pipeline, bindings, engine.grid(chunk.count * threads, WG));
  }
}

/** Runs a per-channel entry once; bindings 3..10 as given. */
function runPerChannel(engine: Engine, entry: 'channel_moments' | 'eval_stats' | 'channel_grad', d: Dims, rest: readonly Binding[], eps: number, momentum: number): void {
  const p = params(engine, d, { n0: 0, count: d.N }, [], eps, momentum, { training: true, relu: false });
  engine.dispatch(BATCHNORM.pipeline(engine, entry, { WG }), [null, null, null, ...slots3to10(rest), p], engine.grid(d.C, WG));
}

/** Pads bindings 3.. to binding 10, so the uniform lands on binding 11. */
function slots3to10(rest: readonly Binding[]): Binding[] {
  return [...rest, ...new Array<Binding>(8 - rest.length).fill(null)];
}

/**
 * Forward. Returns the output and `stats` ([4, C]: mean, 1 / sqrt(var + eps), gamma / sqrt(var + eps), beta) for the
 * backward pass. Training also updates runningMean and runningVar in place.
 */
export function batchNormForward(x: Tensor, state: BatchNormState, opts: BatchNormOptions): { out: Tensor; stats: Tensor } {
  const stats = batchNormStatistics(x, state, opts);
  const d = dims('batchNorm2d', x, 'segments');
  const out = x.engine.empty(x.shape);
  runChunked(x.engine, 'normalize', d, [x, null, out], [null, stats], d.C * d.HW, { training: opts.training, relu: !!opts.relu });
  return { out, stats };
}

/**
 * The forward's statistics alone, `stats` [4, C] as batchNormForward returns them (training:
 * the batch's, with runningMean and runningVar updated in place; evaluation: the running
 * ones), for a consumer that applies them itself (max-pooling fused with batchnorm + ReLU,
 * kernels/pool.ts batchNormReluMaxPool2x2). x [N, C, H, W] float32.
 */
export function batchNormStatistics(x: Tensor, state: BatchNormState, opts: BatchNormOptions): Tensor {
  const op = 'batchNorm2d';
  // Only training reduces; evaluation still checks an asked-for reduction.
  const reduction = opts.training || opts.reduction !== undefined ? reductionOf(x, opts.reduction) : 'segments';
  const d = dims(op, x, reduction);
  const { gamma, beta, runningMean, runningVar } = state;
  requireChannels(op, d.C, { gamma, beta, runningMean, runningVar });
  const momentum = opts.momentum ?? 0.1;
  const eps = opts.eps ?? 1e-5;
  if (!(momentum >= 0 && momentum <= 1)) throw new Error(`${op}: momentum must be in [0, 1], got ${momentum}`);
  if (!(eps > 0)) throw new Error(`${op}: eps must be positive, got ${eps}`);
  const engine = x.engine;
  const stats = engine.empty([4, d.C]);
  if (opts.training) {
    if (d.M < 2) throw new Error(`${op}: training needs more than one value per channel, got input [${x.shape.join(', ')}]`);
    const part = partials(engine, op, d);
    // bindings 3..8: partial, stats, gamma, beta, runningMean, runningVar
    const stat: Mode = { training: true, relu: false };
    // One read of x: each segment's mean and squared deviations, merged per channel.
    runChunked(engine, 'partial_moments', d, [x, null, null], [part], d.C * d.S, stat, reduction);
    runPerChannel(engine, 'channel_moments', d, [part, stats, gamma, beta, runningMean, runningVar], eps, momentum);
    part.dispose();
  } else {
    runPerChannel(engine, 'eval_stats', d, [null, stats, gamma, beta, runningMean, runningVar], eps, momentum);
  }
  return stats;
}

/**
 * Backward: gradients of x, gamma and beta given the upstream gradient `grad`, the forward
 * input `x` and the forward's `stats`. `training` says whether the statistics were the
 * batch's own (and so depend on x).
 */
export function batchNormBackward(
  grad: Tensor,
  x: Tensor,
  stats: Tensor,
  gamma: Tensor,
  training: boolean,
  opts: { reduction?: BatchNormReduction; relu?: boolean } = {},
): { dx: Tensor; dgamma: Tensor; dbeta: Tensor } {
  const op = 'batchNorm2d backward';
  const reduction = reductionOf(x, opts.reduction);
  const d = dims(op, x, reduction);
  if (grad.shape.join() !== x.shape.join()) throw new Error(`${op}: gradient [${grad.shape.join(', ')}] for input [${x.shape.join(', ')}]`);
  requireChannels(op, d.C, { gamma });
  const engine = x.engine;
  const part = partials(engine, op, d);
  const dgamma = engine.empty([d.C]);
  const dbeta = engine.empty([d.C]);
  const mode: Mode = { training, relu: !!opts.relu };
  runChunked(engine, 'partial_grad', d, [x, grad, null], [part, stats], d.C * d.S, mode, reduction);
  runPerChannel(engine, 'channel_grad', d, [part, null, null, null, null, null, dgamma, dbeta], 0, 0);
  part.dispose();
  const dx = engine.empty(x.shape);
  runChunked(engine, 'input_grad', d, [x, grad, dx], [null, stats, gamma, null, null, null, dgamma, dbeta], d.C * d.HW, mode);
  return { dx, dgamma, dbeta };
}

/**
 * The batchnorm backward's per-channel step for a pass that computed the per-segment sums
 * itself (the max-pool backward fused with batchnorm + ReLU's, kernels/pool.ts):
 * `part` [2, C, N, S] holds, per segment, the sums of the gated upstream gradient g and of
 * g * xhat. Returns dbeta and dgamma ([C]) and `coeffs` [3, C], the a, d and e of
 * dx = a * (g - d - (x - mean) * e) (d = e = 0 in evaluation), for x [N, C, H, W] (whose
 * H * W and N fix M, the values per channel) and `stats` from the forward.
 */
export function batchNormGradFromSums(part: Tensor, x: Tensor, stats: Tensor, gamma: Tensor, training: boolean): { dgamma: Tensor; dbeta: Tensor; coeffs: Tensor } {
  const op = 'batchNorm2d backward';
  const d = dims(op, x, 'segments');
  if (part.shape.join() !== `2,${d.C},${d.N},${part.shape[3]}`) throw new Error(`${op}: segment sums must be [2, ${d.C}, ${d.N}, S], got [${part.shape.join(', ')}]`);
  requireChannels(op, d.C, { gamma });
  const engine = x.engine;
  const dgamma = engine.empty([d.C]);
  const dbeta = engine.empty([d.C]);
  const coeffs = engine.empty([3, d.C]);
  const p = params(engine, { ...d, S: part.shape[3] }, { n0: 0, count: d.N }, [], 0, 0, { training, relu: true });
  const rest = slots3to10([part, stats, gamma, null, null, null, dgamma, dbeta]);
  engine.dispatch(BATCHNORM.pipeline(engine, 'channel_grad_coeffs', { WG }), [null, null, coeffs, ...rest, p], engine.grid(d.C, WG));
  return { dgamma, dbeta, coeffs };
}
