// Batch normalisation over [N, C, H, W] (per channel, across N, H and W), forward and backward.
//
// Per-channel sums are two-level, with no invocation walking a whole channel (763,904 values for
// CNN-5's first layer at batch 32): each plane is cut into S segments of L values, one invocation
// sums a segment (`partial_*`, layout [2][C][N][S]), then one invocation per channel merges its
// N * S partials (`channel_*`). The statistics take one read of x: each segment's mean and
// squared deviations from shifted sums, merged per channel (channel_moments).
//
// Kernels that read activations run over chunks of the batch (the launcher binds byte windows);
// base0/1/2 are the element offsets of the chunk's first sample in bindings 0/1/2, n0 its index.
// stats holds [mean, 1 / sqrt(var + eps), gamma / sqrt(var + eps), beta] (C each): batch
// statistics in training, running ones in evaluation.
//
// With `relu` set the layer is batchnorm followed by ReLU: normalize writes max(y, 0), and the
// backward entries mask the upstream gradient where y <= 0, recomputing y from x and stats
// with the same expression (`affine`), so the mask is the forward's and the ReLU costs no pass.

override WG: u32 = 256u;

// struct Params: declared once in kernels/batchnorm.ts (BATCHNORM_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<storage, read_write> partial: array<f32>;
@group(0) @binding(4) var<storage, read_write> stats: array<f32>;
@group(0) @binding(5) var<storage, read> gamma: array<f32>;
@group(0) @binding(6) var<storage, read> beta: array<f32>;
@group(0) @binding(7) var<storage, read_write> runningMean: array<f32>;
@group(0) @binding(8) var<storage, read_write> runningVar: array<f32>;
@group(0) @binding(9) var<storage, read_write> dgamma: array<f32>;
@group(0) @binding(10) var<storage, read_write> dbeta: array<f32>;
@group(0) @binding(11) var<uniform> p: Params;
// The same activations seen as vec4s, for the per-element entries when H * W is a multiple
// of 4 (the four values then share a channel): one load or store moves four values, which on
// CPU adapters costs about what one value does.
@group(0) @binding(12) var<storage, read> x4: array<vec4f>;
@group(0) @binding(13) var<storage, read> g4: array<vec4f>;
@group(0) @binding(14) var<storage, read_write> out4: array<vec4f>;

// One segment of a plane, for invocation t of the chunk.
struct Segment {
  c: u32,
  start: u32, // element index of its first value in the chunk (add the binding's base)
  len: u32,
  slot: u32,  // its place in partial[0]: (c * N + n) * S + s
}

fn segment(t: u32) -> Segment {
  let s = t % p.S;
  let c = (t / p.S) % p.C;
  let nl = t / (p.S * p.C);
  let first = s * p.L;
  var seg: Segment;
  seg.c = c;
  seg.start = (nl * p.C + c) * p.HW + first;
  seg.len = min(p.L, p.HW - first);
  seg.slot = (c * p.N + p.n0 + nl) * p.S + s;
  return seg;
}

// A segment's two sums: partial[0][slot] = a, partial[1][slot] = b.
fn store_pair(slot: u32, a: f32, b: f32) {
  partial[slot] = a;
  partial[p.C * p.N * p.S + slot] = b;
}

// Values in segment s of a plane (the last one may be short).
fn segment_length(s: u32) -> f32 {
  return f32(min(p.L, p.HW - s * p.L));
}

// The mean of the first four values at x[xs..] of a segment of len values (the first len
// counted again when it is shorter): the shift of the one-pass sums (partial_moments).
fn head_mean(xs: u32, len: u32) -> f32 {
  let last = len - 1u;
  return ((x[xs] + x[xs + min(1u, last)]) + (x[xs + min(2u, last)] + x[xs + min(3u, last)])) / 4.0;
}

// A segment's statistics from its n values' shifted sums s1 = sum(x - K) and s2 = sum((x - K)^2):
// partial[0] = its mean, partial[1] = its sum of squared deviations from that mean.
fn store_moments(seg: Segment, K: f32, s1: f32, s2: f32) {
  let n = f32(seg.len);
  store_pair(seg.slot, K + s1 / n, max(s2 - s1 * s1 / n, 0.0));
}

// Sum of partial[k][c][*][*] in blocks of 64 (keeps float32 rounding small).
fn channel_sum(k: u32, c: u32) -> f32 {
  let n = p.N * p.S;
  let start = (k * p.C + c) * n;
  var total = 0.0;
  for (var b = 0u; b < n; b += 64u) {
    let end = min(b + 64u, n);
    var block = 0.0;
    for (var i = b; i < end; i++) { block += partial[start + i]; }
    total += block;
  }
  return total;
}

// The typed helpers (affine_of, activate, gate_of and their vec4 twins with a `4` suffix)
// and every per-segment and per-element entry are generated from one table in
// kernels/batchnorm.ts and appended to this file: each is written once for f32 and vec4f.

fn set_stats(c: u32, mean: f32, invstd: f32) {
  let scale = gamma[c] * invstd;
  stats[c] = mean;
  stats[p.C + c] = invstd;
  stats[2u * p.C + c] = scale;
  stats[3u * p.C + c] = beta[c];
}

// ---- per-channel entries --------------------------------------------------------------
// The per-segment sums they total (partial_moments, partial_grad) and the
// per-element passes (normalize, input_grad) are generated: kernels/batchnorm.ts.

// partial holds each segment's mean and sum of squared deviations (partial_moments). The
// segments merge as in Chan, Golub & LeVeque (1983): the mean weights the segments' means by
// their lengths, and the squared deviations add the segments' own to those of their means
// from the channel's. Both sums run over deviations from the first segment's mean, so no
// float32 sum carries the data's offset. Biased variance normalises; the running variance
// gets the unbiased one (as PyTorch).
@compute @workgroup_size(WG)
fn channel_moments(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  let n = p.N * p.S;
  let start = c * n;
  let second = p.C * n;
  let K = partial[start];
  var shift = 0.0;
  for (var b = 0u; b < n; b += 64u) {
    var block = 0.0;
    for (var i = b; i < min(b + 64u, n); i++) { block += segment_length(i % p.S) * (partial[start + i] - K); }
    shift += block;
  }
  let mean = K + shift / p.M;
  var sq = 0.0;
  for (var b = 0u; b < n; b += 64u) {
    var block = 0.0;
    for (var i = b; i < min(b + 64u, n); i++) {
      let dm = partial[start + i] - mean;
      block += partial[second + start + i] + segment_length(i % p.S) * dm * dm;
    }
    sq += block;
  }
  let variance = sq / p.M;
  set_stats(c, mean, 1.0 / sqrt(variance + p.eps));
  let m = p.momentum;
  runningMean[c] = (1.0 - m) * runningMean[c] + m * mean;
  runningVar[c] = (1.0 - m) * runningVar[c] + m * (sq / (p.M - 1.0));
}

@compute @workgroup_size(WG)
fn eval_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  set_stats(c, runningMean[c], 1.0 / sqrt(runningVar[c] + p.eps));
}

// partial holds the segments' sums of g and of g * xhat (partial_grad, g gated by the fused ReLU).
@compute @workgroup_size(WG)
fn channel_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  dbeta[c] = channel_sum(0u, c);
  dgamma[c] = channel_sum(1u, c);
}

// channel_grad, and with it the input gradient's coefficients per channel into out, [3, C]:
// grad_coeffs's a, d and e, for a pass that applies them itself (the max-pool backward fused
// with this batchnorm's, pool2x2.wgsl max_backward_bn_input).
@compute @workgroup_size(WG)
fn channel_grad_coeffs(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  let db = channel_sum(0u, c);
  let dg = channel_sum(1u, c);
  dbeta[c] = db;
  dgamma[c] = dg;
  let invstd = stats[p.C + c];
  let training = p.training != 0u;
  out[c] = gamma[c] * invstd;
  out[p.C + c] = select(0.0, db / p.M, training);
  out[2u * p.C + c] = select(0.0, invstd * dg / p.M, training);
}

// ---- what the generated entries share --------------------------------------------------

// The vec4 per-element entries take a run of up to RUN vec4s of one plane per invocation, so
// a channel's statistics are read once per 16 values, not once per 4 (on llvmpipe a scalar
// load costs about half a vec4 one). A run ending early (planes not a multiple of 16 values)
// repeats its last vec4: the same value written again, with no branch (llvmpipe would run
// both sides of one).
const RUN = 4u;

struct Run {
  c: u32,
  first: u32, // vec4 index in the chunk
  last: u32,  // the run's last vec4 (inclusive)
}

// Run j of the chunk, or c == C when j is past the last one.
fn run_of(j: u32) -> Run {
  let per = p.HW / 4u;
  let runs = (per + RUN - 1u) / RUN;
  let plane = j / runs;
  if (plane >= p.count * p.C) { return Run(p.C, 0u, 0u); }
  let first = plane * per + (j % runs) * RUN;
  return Run(plane % p.C, first, min(first + RUN, (plane + 1u) * per) - 1u);
}

// The k-th vec4 of run r (its last one past the end).
fn run_at(r: Run, k: u32) -> u32 {
  return min(r.first + k, r.last);
}

// One channel's coefficients, read once per invocation (stats is writable, so the compiler
// would not hoist reads out of a loop). y = (x - mean) * scale + shift: not folded into
// x * a + b, since for channels far from zero mean x * a and b would cancel and lose float32
// digits. The input gradient is dx = a * (g' - d - (x - mean) * e), g' the gated upstream
// gradient: in training a = gamma * invstd, d = mean(g'), e = invstd * mean(g' * xhat) (the
// batch statistics depend on x); in evaluation d = e = 0 (the statistics are constants).
struct Coeffs {
  mean: f32,
  invstd: f32,
  scale: f32,
  shift: f32,
  a: f32,
  d: f32,
  e: f32,
}

// The forward's coefficients (a, d, e unused).
fn affine_coeffs(c: u32) -> Coeffs {
  return Coeffs(stats[c], stats[p.C + c], stats[2u * p.C + c], stats[3u * p.C + c], 0.0, 0.0, 0.0);
}

// The backward's: also reads gamma and, in training, dbeta and dgamma (channel_grad's sums).
fn grad_coeffs(c: u32) -> Coeffs {
  let invstd = stats[p.C + c];
  let training = p.training != 0u;
  return Coeffs(
    stats[c], invstd, stats[2u * p.C + c], stats[3u * p.C + c], gamma[c] * invstd,
    select(0.0, dbeta[c] / p.M, training), select(0.0, invstd * dgamma[c] / p.M, training),
  );
}

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}
