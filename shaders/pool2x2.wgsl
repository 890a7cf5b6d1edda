// Max pooling with 2x2 windows at stride 2 (CNN-5's and VGG-16's), forward and backward, on
// rows whose width is a multiple of 4: each invocation moves four input values per row with
// one vec4 load or store (on CPU adapters a load costs about the same for one value or four).
// Same results as max_forward / max_backward_disjoint in pool.wgsl: the first maximum in
// row-major order wins, and `arg` holds its position h * W + w in the plane. The launcher
// binds chunks of the batch as windows; base0/1/2 locate the chunk in each (multiples of 4).

override WG: u32 = 256u;

// struct Params: declared once in kernels/pool.ts (POOL_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> x4: array<vec4f>;          // forward input
@group(0) @binding(1) var<storage, read_write> y2: array<vec2f>;    // forward output
@group(0) @binding(2) var<storage, read_write> arg2: array<vec2i>;  // positions of the maxima
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> gy2: array<vec2f>;         // backward: output gradient
@group(0) @binding(5) var<storage, read_write> gx4: array<vec4f>;   // backward: input gradient
// max_forward_bn: the statistics of the batchnorm before the pool, [4, C] (mean, 1 / std,
// gamma / std, beta), as kernels/batchnorm.ts's batchNormStatistics writes them.
@group(0) @binding(6) var<storage, read> bnStats: array<f32>;
// The batchnorm + ReLU + max-pool backward (max_backward_bn_sums, max_backward_bn_input): x
// seen as floats, for reading it at the maxima; the per-segment sums, [2][C][N][S]; and the
// input gradient's coefficients per channel, [3, C] (a, d, e: batchnorm.wgsl's Coeffs).
@group(0) @binding(7) var<storage, read> x1: array<f32>;
@group(0) @binding(8) var<storage, read_write> bnPartial: array<f32>;
@group(0) @binding(9) var<storage, read> bnCoeffs: array<f32>;

// The maximum of one window (a b / c d, row-major) and its position; ties keep the first.
fn window_max(a: f32, b: f32, c: f32, d: f32, top: i32) -> vec2f {
  var best = a;
  var at = top;
  if (b > best) { best = b; at = top + 1; }
  if (c > best) { best = c; at = top + i32(p.W); }
  if (d > best) { best = d; at = top + i32(p.W) + 1; }
  return vec2f(best, bitcast<f32>(at));
}

// A batchnorm + ReLU applied to the inputs before pooling (max_forward_bn), or none.
struct Affine {
  on: bool,
  mean: f32,
  scale: f32,
  shift: f32,
}

// relu((v - mean) * scale + shift), batchnorm.wgsl's affine_of4 expression, so that the
// batchnorm backward's ReLU mask (recomputed from x there) is this forward's.
fn bn_relu(v: vec4f, a: Affine) -> vec4f {
  return select(v, max((v - a.mean) * a.scale + a.shift, vec4f(0.0)), a.on);
}

// Outputs (oh, 2t) and (oh, 2t + 1) of one plane.
fn pool_pair(plane: u32, oh: u32, t: u32, a: Affine) {
  let W4 = p.W / 4u;
  let top = p.base0 / 4u + (plane * p.H + 2u * oh) * W4 + t;
  let r0 = bn_relu(x4[top], a);
  let r1 = bn_relu(x4[top + W4], a);
  let pos = i32(2u * oh * p.W + 4u * t);
  let m0 = window_max(r0.x, r0.y, r1.x, r1.y, pos);
  let m1 = window_max(r0.z, r0.w, r1.z, r1.w, pos + 2);
  let o = (p.base1 + (plane * p.Ho + oh) * p.Wo) / 2u + t;
  y2[o] = vec2f(m0.x, m1.x);
  arg2[(p.base2 + (plane * p.Ho + oh) * p.Wo) / 2u + t] = vec2i(bitcast<i32>(m0.y), bitcast<i32>(m1.y));
}

// Invocation: two neighbouring outputs (oh, 2t) and (oh, 2t + 1) of one plane.
@compute @workgroup_size(WG)
fn max_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let pairs = p.Wo / 2u;
  if (i >= p.count * p.C * p.Ho * pairs) { return; }
  pool_pair(i / pairs / p.Ho, (i / pairs) % p.Ho, i % pairs, Affine(false, 0.0, 0.0, 0.0));
}

// Pairs of outputs per max_forward_bn invocation, so a channel's statistics are read once
// per 16 input values of each row. A run ending early (rows not a multiple of 16 wide)
// repeats its last pair: the same values written again, with no branch.
const RUN = 4u;

// max(relu(batchnorm(x))) over each window: the batchnorm + ReLU output is never stored
// (kernels/pool.ts batchNormReluMaxPool2x2). Invocation: a run of RUN pairs of one output row.
@compute @workgroup_size(WG)
fn max_forward_bn(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let pairs = p.Wo / 2u;
  let runs = (pairs + RUN - 1u) / RUN;
  if (i >= p.count * p.C * p.Ho * runs) { return; }
  let t0 = (i % runs) * RUN;
  let oh = (i / runs) % p.Ho;
  let plane = i / runs / p.Ho;
  let c = plane % p.C;
  let a = Affine(true, bnStats[c], bnStats[2u * p.C + c], bnStats[3u * p.C + c]);
  pool_pair(plane, oh, t0, a);
  pool_pair(plane, oh, min(t0 + 1u, pairs - 1u), a);
  pool_pair(plane, oh, min(t0 + 2u, pairs - 1u), a);
  pool_pair(plane, oh, min(t0 + 3u, pairs - 1u), a);
}

// The input gradient of four neighbouring values (columns pos .. pos + 3 of one row) under
// the windows (., 2t) and (., 2t + 1) with output gradients g and maxima at positions a.
fn scatter(g: vec2f, a: vec2i, pos: i32) -> vec4f {
  return vec4f(select(0.0, g.x, a.x == pos), select(0.0, g.x, a.x == pos + 1),
               select(0.0, g.y, a.y == pos + 2), select(0.0, g.y, a.y == pos + 3));
}

// What a backward invocation covers: columns 4t .. 4t + 3 of input rows ih0 = 2b and ih1 =
// 2b + 1 of one plane, which belong to the windows (b, 2t) and (b, 2t + 1) (`row`: the first
// pooled value of window row b in the chunk), so one read of their gradients and positions
// serves eight values. A last odd row (b == Ho) belongs to no window: it is both ih0 and ih1,
// and `row` is the plane's first (no position read there points into it, so it gets zeros,
// written twice rather than behind a branch: llvmpipe runs both sides of one). `plane` is
// count * C past the last invocation.
struct Band { plane: u32, t: u32, ih0: u32, ih1: u32, row: u32 }

fn band_of(i: u32) -> Band {
  let W4 = p.W / 4u;
  let bands = (p.H + 1u) / 2u;
  if (i >= p.count * p.C * bands * W4) { return Band(p.count * p.C, 0u, 0u, 0u, 0u); }
  let r = i / W4;
  let b = r % bands;
  let plane = r / bands;
  let ih0 = 2u * b;
  return Band(plane, i % W4, ih0, min(ih0 + 1u, p.H - 1u), (plane * p.Ho + select(0u, b, b < p.Ho)) * p.Wo);
}

@compute @workgroup_size(WG)
fn max_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let band = band_of(flat_index(wid, nwg, lid));
  if (band.plane >= p.count * p.C) { return; }
  let W4 = p.W / 4u;
  let g = gy2[(p.base0 + band.row) / 2u + band.t];
  let a = arg2[(p.base2 + band.row) / 2u + band.t];
  gx4[p.base1 / 4u + (band.plane * p.H + band.ih0) * W4 + band.t] = scatter(g, a, i32(band.ih0 * p.W + 4u * band.t));
  gx4[p.base1 / 4u + (band.plane * p.H + band.ih1) * W4 + band.t] = scatter(g, a, i32(band.ih1 * p.W + 4u * band.t));
}

// ---- batchnorm + ReLU + max-pool backward -------------------------------------------------
// The gradient of max(relu(batchnorm(x))) reaches x only at each window's maximum, so the
// batchnorm backward's per-segment sums (batchnorm.wgsl partial_grad) need x there alone, and
// its input gradient can scatter the pooled gradient itself: the full-size gradient between
// the pool and the batchnorm is never written. The expressions are batchnorm.wgsl's (the
// ReLU gate affine_of <= 0, xhat = (x - mean) * invstd, dx = a * (g - d - (x - mean) * e)), so
// the results are the unfused passes' up to the order of the sums. One batch chunk: the
// launcher falls back to the unfused passes when the tensors need several.

// Sums of the gated gradient g and of g * xhat over a segment of p.segRows pooled rows of one
// plane (p.S segments per plane), into bnPartial at the segment's slot (c * N + n) * S + s.
@compute @workgroup_size(WG)
fn max_backward_bn_sums(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.count * p.C * p.S) { return; }
  let s = i % p.S;
  let plane = i / p.S;
  let c = plane % p.C;
  let mean = bnStats[c];
  let invstd = bnStats[p.C + c];
  let scale = bnStats[2u * p.C + c];
  let shift = bnStats[3u * p.C + c];
  let pairs = p.Wo / 2u;
  let base = plane * p.Ho * pairs;
  let xs = plane * p.H * p.W;
  var sum0 = 0.0;
  var sum1 = 0.0;
  for (var j = s * p.segRows * pairs; j < min((s + 1u) * p.segRows, p.Ho) * pairs; j++) {
    let g = gy2[base + j];
    let a = arg2[base + j];
    let v = vec2f(x1[xs + u32(a.x)], x1[xs + u32(a.y)]);
    let gated = select(g, vec2f(0.0), (v - mean) * scale + shift <= vec2f(0.0));
    sum0 += gated.x + gated.y;
    sum1 += dot(gated, (v - mean) * invstd);
  }
  let slot = (c * p.count + plane / p.C) * p.S + s;
  bnPartial[slot] = sum0;
  bnPartial[p.C * p.count * p.S + slot] = sum1;
}

// dx for one band (max_backward's invocation: band_of), from the pooled gradient and the maxima.
@compute @workgroup_size(WG)
fn max_backward_bn_input(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let band = band_of(flat_index(wid, nwg, lid));
  if (band.plane >= p.count * p.C) { return; }
  let W4 = p.W / 4u;
  let c = band.plane % p.C;
  let mean = bnStats[c];
  let scale = bnStats[2u * p.C + c];
  let shift = bnStats[3u * p.C + c];
  let ka = bnCoeffs[c];
  let kd = bnCoeffs[p.C + c];
  let ke = bnCoeffs[2u * p.C + c];
  let g = gy2[band.row / 2u + band.t];
  let a = arg2[band.row / 2u + band.t];
  for (var k = 0u; k < 2u; k++) {
    let ih = select(band.ih0, band.ih1, k == 1u);
    let at = (band.plane * p.H + ih) * W4 + band.t;
    let v = x4[at];
    let gated = select(scatter(g, a, i32(ih * p.W + 4u * band.t)), vec4f(0.0), (v - mean) * scale + shift <= vec4f(0.0));
    gx4[at] = ka * (gated - kd - (v - mean) * ke);
  }
}
