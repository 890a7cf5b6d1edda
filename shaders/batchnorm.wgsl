// Batch normalisation over [N, C, H, W] (per channel, across N, H and W), forward and backward.
//
// Per-channel sums are two-level, with no invocation walking a whole channel (763,904 values for
// CNN-5's first layer at batch 32): each plane is cut into S segments of L values, one invocation
// sums a segment (`partial_*`, layout [2][C][N][S]), then one invocation per channel sums its N * S
// partials (`channel_*`). Variance is two-pass: the mean first, then deviations from it.
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

// The batchnorm output y for value v of channel c.
fn affine(v: f32, c: u32) -> f32 {
  return (v - stats[c]) * stats[2u * p.C + c] + stats[3u * p.C + c];
}

// The same for four values of one channel, its statistics read by the caller (once per run
// or segment): every vec4 entry computes y with this one expression, so the backward's ReLU
// mask is exactly the forward's.
fn affine_of(v: vec4f, mean: f32, scale: f32, shift: f32) -> vec4f {
  return (v - mean) * scale + shift;
}

// The layer's output: y, or max(y, 0) with the fused ReLU.
fn activate(y: f32) -> f32 {
  return select(y, max(y, 0.0), p.relu != 0u);
}

fn activate4(y: vec4f) -> vec4f {
  return select(y, max(y, vec4f(0.0)), p.relu != 0u);
}

// The upstream gradient g of value v (channel c), zero where the fused ReLU cut the output.
fn gate(g: f32, v: f32, c: u32) -> f32 {
  return select(g, 0.0, p.relu != 0u && affine(v, c) <= 0.0);
}

fn gate_of(g: vec4f, v: vec4f, mean: f32, scale: f32, shift: f32) -> vec4f {
  return select(g, vec4f(0.0), vec4<bool>(p.relu != 0u) & (affine_of(v, mean, scale, shift) <= vec4f(0.0)));
}

fn set_stats(c: u32, mean: f32, invstd: f32) {
  let scale = gamma[c] * invstd;
  stats[c] = mean;
  stats[p.C + c] = invstd;
  stats[2u * p.C + c] = scale;
  stats[3u * p.C + c] = beta[c];
}

// ---- forward ---------------------------------------------------------------------------

@compute @workgroup_size(WG)
fn partial_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let start = p.base0 + seg.start;
  var total = 0.0;
  for (var b = 0u; b < seg.len; b += 64u) {
    let end = min(b + 64u, seg.len);
    var block = 0.0;
    for (var i = b; i < end; i++) { block += x[start + i]; }
    total += block;
  }
  partial[seg.slot] = total;
}

@compute @workgroup_size(WG)
fn channel_mean(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  stats[c] = channel_sum(0u, c) / p.M;
}

// Deviations d = x - mean0 from the first pass's mean: partial[0] = sums of d, partial[1] = sums
// of d * d. The sum of d corrects mean0's rounding (the corrected two-pass algorithm).
@compute @workgroup_size(WG)
fn partial_sqdev(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let start = p.base0 + seg.start;
  let mean0 = stats[seg.c];
  var sumD = 0.0;
  var sumD2 = 0.0;
  for (var b = 0u; b < seg.len; b += 64u) {
    let end = min(b + 64u, seg.len);
    var blockD = 0.0;
    var blockD2 = 0.0;
    for (var i = b; i < end; i++) {
      let d = x[start + i] - mean0;
      blockD += d;
      blockD2 += d * d;
    }
    sumD += blockD;
    sumD2 += blockD2;
  }
  store_pair(seg.slot, sumD, sumD2);
}

// Biased variance normalises; the running variance gets the unbiased one (as PyTorch).
@compute @workgroup_size(WG)
fn channel_var(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  let shift = channel_sum(0u, c) / p.M;
  let mean = stats[c] + shift;
  // sum of (x - mean)^2 = sum of d^2 - M * shift^2
  let sq = max(channel_sum(1u, c) - p.M * shift * shift, 0.0);
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

// out = (x - mean) * (gamma / sqrt(var + eps)) + beta. Not folded into x * a + b: for channels far
// from zero mean, x * a and b would cancel and lose float32 digits.
@compute @workgroup_size(WG)
fn normalize(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wid, nwg, lid);
  if (j >= p.count * p.C * p.HW) { return; }
  let c = (j / p.HW) % p.C;
  out[p.base2 + j] = activate(affine(x[p.base0 + j], c));
}

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

fn normalize_at(i: u32, mean: f32, scale: f32, shift: f32) {
  out4[p.base2 / 4u + i] = activate4(affine_of(x4[p.base0 / 4u + i], mean, scale, shift));
}

@compute @workgroup_size(WG)
fn normalize4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = run_of(flat_index(wid, nwg, lid));
  if (r.c >= p.C) { return; }
  let mean = stats[r.c];
  let scale = stats[2u * p.C + r.c];
  let shift = stats[3u * p.C + r.c];
  normalize_at(run_at(r, 0u), mean, scale, shift);
  normalize_at(run_at(r, 1u), mean, scale, shift);
  normalize_at(run_at(r, 2u), mean, scale, shift);
  normalize_at(run_at(r, 3u), mean, scale, shift);
}

// ---- backward ----------------------------------------------------------------------------

// partial[0] = sums of g, partial[1] = sums of g * xhat, per segment.
@compute @workgroup_size(WG)
fn partial_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let xs = p.base0 + seg.start;
  let gs = p.base1 + seg.start;
  let mean = stats[seg.c];
  let invstd = stats[p.C + seg.c];
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var b = 0u; b < seg.len; b += 64u) {
    let end = min(b + 64u, seg.len);
    var blockG = 0.0;
    var blockGX = 0.0;
    for (var i = b; i < end; i++) {
      let xi = x[xs + i];
      let gi = gate(g[gs + i], xi, seg.c);
      blockG += gi;
      blockGX += gi * (xi - mean) * invstd;
    }
    sumG += blockG;
    sumGX += blockGX;
  }
  store_pair(seg.slot, sumG, sumGX);
}

@compute @workgroup_size(WG)
fn channel_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let c = flat_index(wid, nwg, lid);
  if (c >= p.C) { return; }
  dbeta[c] = channel_sum(0u, c);
  dgamma[c] = channel_sum(1u, c);
}

// Training: dx = gamma * invstd * (g - mean(g) - xhat * mean(g * xhat)), the batch statistics
// depending on x. Evaluation: the statistics are constants, dx = g * gamma * invstd.
@compute @workgroup_size(WG)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wid, nwg, lid);
  if (j >= p.count * p.C * p.HW) { return; }
  let c = (j / p.HW) % p.C;
  let invstd = stats[p.C + c];
  let xj = x[p.base0 + j];
  let gi = gate(g[p.base1 + j], xj, c);
  if (p.training == 0u) {
    out[p.base2 + j] = gi * gamma[c] * invstd;
    return;
  }
  let xhat = (xj - stats[c]) * invstd;
  out[p.base2 + j] = gamma[c] * invstd * (gi - dbeta[c] / p.M - xhat * dgamma[c] / p.M);
}

// One channel's coefficients for the input gradient: dx = a * (g' - d - (x - mean) * e) with
// g' the gated upstream gradient; d = e = 0 in evaluation (statistics then are constants).
struct GradCoeffs {
  mean: f32,
  scale: f32,
  shift: f32,
  a: f32,
  d: f32,
  e: f32,
}

fn grad_coeffs(c: u32) -> GradCoeffs {
  let invstd = stats[p.C + c];
  let training = p.training != 0u;
  return GradCoeffs(
    stats[c], stats[2u * p.C + c], stats[3u * p.C + c], gamma[c] * invstd,
    select(0.0, dbeta[c] / p.M, training), select(0.0, invstd * dgamma[c] / p.M, training),
  );
}

fn input_grad_at(i: u32, k: GradCoeffs) {
  let xi = x4[p.base0 / 4u + i];
  let gi = gate_of(g4[p.base1 / 4u + i], xi, k.mean, k.scale, k.shift);
  out4[p.base2 / 4u + i] = k.a * (gi - k.d - (xi - k.mean) * k.e);
}

@compute @workgroup_size(WG)
fn input_grad4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let r = run_of(flat_index(wid, nwg, lid));
  if (r.c >= p.C) { return; }
  let k = grad_coeffs(r.c);
  input_grad_at(run_at(r, 0u), k);
  input_grad_at(run_at(r, 1u), k);
  input_grad_at(run_at(r, 2u), k);
  input_grad_at(run_at(r, 3u), k);
}

// ---- vec4 twins of the segment sums (planes and segments of a multiple of 4 values) ----------
// Same sums, four values per load (bindings 12-13); blocks of 16 vec4s are the 64-value
// blocks above. The four lanes of a vec4 are summed at the end of each block.

fn hsum(v: vec4f) -> f32 {
  return (v.x + v.y) + (v.z + v.w);
}

@compute @workgroup_size(WG)
fn partial_sum4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let start = (p.base0 + seg.start) / 4u;
  let len = seg.len / 4u;
  var total = 0.0;
  for (var b = 0u; b < len; b += 16u) {
    let end = min(b + 16u, len);
    var block = vec4f(0.0);
    for (var i = b; i < end; i++) { block += x4[start + i]; }
    total += hsum(block);
  }
  partial[seg.slot] = total;
}

@compute @workgroup_size(WG)
fn partial_sqdev4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let start = (p.base0 + seg.start) / 4u;
  let len = seg.len / 4u;
  let mean0 = stats[seg.c];
  var sumD = 0.0;
  var sumD2 = 0.0;
  for (var b = 0u; b < len; b += 16u) {
    let end = min(b + 16u, len);
    var blockD = vec4f(0.0);
    var blockD2 = vec4f(0.0);
    for (var i = b; i < end; i++) {
      let d = x4[start + i] - mean0;
      blockD += d;
      blockD2 += d * d;
    }
    sumD += hsum(blockD);
    sumD2 += hsum(blockD2);
  }
  store_pair(seg.slot, sumD, sumD2);
}

@compute @workgroup_size(WG)
fn partial_grad4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let t = flat_index(wid, nwg, lid);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let xs = (p.base0 + seg.start) / 4u;
  let gs = (p.base1 + seg.start) / 4u;
  let len = seg.len / 4u;
  let mean = stats[seg.c];
  let invstd = stats[p.C + seg.c];
  // Read once here, not per value in the loop (stats is writable, so the compiler would not).
  let scale = stats[2u * p.C + seg.c];
  let shift = stats[3u * p.C + seg.c];
  var sumG = 0.0;
  var sumGX = 0.0;
  for (var b = 0u; b < len; b += 16u) {
    let end = min(b + 16u, len);
    var blockG = vec4f(0.0);
    var blockGX = vec4f(0.0);
    for (var i = b; i < end; i++) {
      let xi = x4[xs + i];
      let gi = gate_of(g4[gs + i], xi, mean, scale, shift);
      blockG += gi;
      blockGX += gi * (xi - mean) * invstd;
    }
    sumG += hsum(blockG);
    sumGX += hsum(blockGX);
  }
  store_pair(seg.slot, sumG, sumGX);
}
