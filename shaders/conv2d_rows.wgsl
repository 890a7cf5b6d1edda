// 2D convolution, kernel width 3 and stride 1 (every convolution of CNN-5 and VGG-16 and
// the 3x3 ones of ResNet-50), and its weight gradient: the "rows" variant. The input
// gradient is this forward pass run on the output gradient with flipped weights.
//
// Why a special case: on CPU adapters (llvmpipe) every invocation is a SIMD lane and every
// storage load is a per-lane loop, about 40 times the cost of a multiply-add, so speed is
// loads per multiply-add. Four neighbouring output columns of one row read a window of six
// input values per kernel row (not 4 x 3 = 12), the weights are read as vec4s of four
// output channels (one load-loop for four values), and each invocation keeps 32 sums.
//
//   forward      y[n,o,oy,ox] = sum_{c,ky,kx} x[n,c,oy-ph+ky, ox-pw+kx] * wT[(c*kh+ky)*3+kx, o]
//                invocation: 4 columns (ox0..ox0+3) of one output row x 8 output channels
//   weight_grad  partial[ch,o,c,ky,kx] = sum over a chunk of output rows (n, oy) and all
//                columns of dy[n,o,oy,ox] * x[n,c,oy-ph+ky, ox-pw+kx]   (3x3 kernels)
//                invocation: 4 output channels x 1 input channel x all nine taps
//   weights_by_tap   wT[(c*kh*kw + t), o] = w[o, c, t]          (the forward's layout)
//   weights_flipped  wF[(o*kh*kw + t), c] = w[o, c, kh*kw-1-t]  (the input gradient's)
//                    rows padded with zeros to a multiple of 4 columns
// Bindings change meaning per entry point (named in each); `base0`, `base1` and `baseOut`
// locate the batch chunk inside its binding window, as in conv2d.wgsl.

override WG: u32 = 64u;

struct Params {
  N: u32,
  C: u32,
  H: u32,
  W: u32,
  O: u32,
  Ho: u32,
  Wo: u32,
  kh: u32,
  kw: u32,
  sh: u32,
  sw: u32,
  ph: u32,
  pw: u32,
  base0: u32,
  base1: u32,
  baseOut: u32,
  chunk: u32,
  chunks: u32,
  chunkBase: u32,
  hasBias: u32,
  relu: u32,       // forward: max(y, 0) on the way out (inference with batchnorm folded in)
}

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn activate(y: f32) -> f32 {
  return select(y, max(y, 0.0), p.relu != 0u);
}

fn flat_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// in0 at `row + ix`, or 0 where the row or column is outside the input.
fn input_at(row: i32, rowOk: bool, ix: i32) -> f32 {
  let ok = rowOk && ix >= 0 && ix < i32(p.W);
  return select(0.0, in0[u32(select(0, row + ix, ok))], ok);
}

// acc[j] (channel j of the 8) += xs (four columns) * weight of channel j.
fn madd8(acc: ptr<function, array<vec4f, 8>>, xs: vec4f, w0: vec4f, w1: vec4f) {
  (*acc)[0] += xs * w0.x;
  (*acc)[1] += xs * w0.y;
  (*acc)[2] += xs * w0.z;
  (*acc)[3] += xs * w0.w;
  (*acc)[4] += xs * w1.x;
  (*acc)[5] += xs * w1.y;
  (*acc)[6] += xs * w1.z;
  (*acc)[7] += xs * w1.w;
}

// in0 = x [N,C,H,W], in1 = wT [C*kh*3, O4*4] as vec4s (O4 = ceil(O/4), zero-padded),
// bias = b [O], out = y [N,O,Ho,Wo].
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let tiles = (p.Wo + 3u) / 4u;
  let oblocks = (p.O + 7u) / 8u;
  if (i >= tiles * p.Ho * p.N * oblocks) { return; }
  // Neighbouring invocations take neighbouring tiles of one row and share the channel block.
  let ox0 = (i % tiles) * 4u;
  var r = i / tiles;
  let oy = r % p.Ho;
  r = r / p.Ho;
  let n = r % p.N;
  let o0 = (r / p.N) * 8u;
  let O4 = (p.O + 3u) / 4u;
  // The second vec4 of channels is clamped to the last one when O is not a multiple of 8.
  let w0col = o0 / 4u;
  let w1col = min(o0 / 4u + 1u, O4 - 1u);
  let HW = p.H * p.W;
  let ix0 = i32(ox0) - i32(p.pw);
  var acc: array<vec4f, 8>;
  var xc = i32(p.base0 + n * p.C * HW);
  var k = 0u;  // row of wT: (c * kh + ky) * 3
  for (var c = 0u; c < p.C; c++) {
    for (var ky = 0u; ky < p.kh; ky++) {
      let iy = i32(oy + ky) - i32(p.ph);
      let rowOk = iy >= 0 && iy < i32(p.H);
      let row = xc + iy * i32(p.W);
      let v0 = input_at(row, rowOk, ix0);
      let v1 = input_at(row, rowOk, ix0 + 1);
      let v2 = input_at(row, rowOk, ix0 + 2);
      let v3 = input_at(row, rowOk, ix0 + 3);
      let v4 = input_at(row, rowOk, ix0 + 4);
      let v5 = input_at(row, rowOk, ix0 + 5);
      madd8(&acc, vec4f(v0, v1, v2, v3), in1[k * O4 + w0col], in1[k * O4 + w1col]);
      madd8(&acc, vec4f(v1, v2, v3, v4), in1[(k + 1u) * O4 + w0col], in1[(k + 1u) * O4 + w1col]);
      madd8(&acc, vec4f(v2, v3, v4, v5), in1[(k + 2u) * O4 + w0col], in1[(k + 2u) * O4 + w1col]);
      k += 3u;
    }
    xc += i32(HW);
  }
  let HWo = p.Ho * p.Wo;
  let yRow = p.baseOut + n * p.O * HWo + oy * p.Wo + ox0;
  for (var j = 0u; j < 8u; j++) {
    let o = o0 + j;
    if (o >= p.O) { break; }
    var b = 0.0;
    if (p.hasBias != 0u) { b = bias[o]; }
    for (var q = 0u; q < 4u; q++) {
      if (ox0 + q < p.Wo) { out[yRow + o * HWo + q] = activate(acc[j][q] + b); }
    }
  }
}

// The same with 8 columns per invocation (ox0..ox0+7), for rows at least 8 wide: a window
// of ten inputs per kernel row feeds 8 x 8 x 3 multiply-adds, and each weight vec4 read
// serves eight columns.
@compute @workgroup_size(WG)
fn forward_wide(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let tiles = (p.Wo + 7u) / 8u;
  let oblocks = (p.O + 7u) / 8u;
  if (i >= tiles * p.Ho * p.N * oblocks) { return; }
  let ox0 = (i % tiles) * 8u;
  var r = i / tiles;
  let oy = r % p.Ho;
  r = r / p.Ho;
  let n = r % p.N;
  let o0 = (r / p.N) * 8u;
  let O4 = (p.O + 3u) / 4u;
  let w0col = o0 / 4u;
  let w1col = min(o0 / 4u + 1u, O4 - 1u);
  let HW = p.H * p.W;
  let ix0 = i32(ox0) - i32(p.pw);
  var lo: array<vec4f, 8>;  // columns ox0..ox0+3
  var hi: array<vec4f, 8>;  // columns ox0+4..ox0+7
  var xc = i32(p.base0 + n * p.C * HW);
  var k = 0u;
  for (var c = 0u; c < p.C; c++) {
    for (var ky = 0u; ky < p.kh; ky++) {
      let iy = i32(oy + ky) - i32(p.ph);
      let rowOk = iy >= 0 && iy < i32(p.H);
      let row = xc + iy * i32(p.W);
      var v: array<f32, 10>;
      for (var q = 0; q < 10; q++) { v[q] = input_at(row, rowOk, ix0 + q); }
      for (var kx = 0u; kx < 3u; kx++) {
        let w0 = in1[(k + kx) * O4 + w0col];
        let w1 = in1[(k + kx) * O4 + w1col];
        madd8(&lo, vec4f(v[kx], v[kx + 1u], v[kx + 2u], v[kx + 3u]), w0, w1);
        madd8(&hi, vec4f(v[kx + 4u], v[kx + 5u], v[kx + 6u], v[kx + 7u]), w0, w1);
      }
      k += 3u;
    }
    xc += i32(HW);
  }
  let HWo = p.Ho * p.Wo;
  let yRow = p.baseOut + n * p.O * HWo + oy * p.Wo + ox0;
  for (var j = 0u; j < 8u; j++) {
    let o = o0 + j;
    if (o >= p.O) { break; }
    var b = 0.0;
    if (p.hasBias != 0u) { b = bias[o]; }
    for (var q = 0u; q < 4u; q++) {
      if (ox0 + q < p.Wo) { out[yRow + o * HWo + q] = activate(lo[j][q] + b); }
      if (ox0 + 4u + q < p.Wo) { out[yRow + o * HWo + 4u + q] = activate(hi[j][q] + b); }
    }
  }
}

// The six inputs under one kernel row at columns ix0..ix0+5 (zero outside the input).
struct Window {
  lo: vec4f,  // columns ix0 .. ix0 + 3
  hi: vec2f,  // columns ix0 + 4, ix0 + 5
}

fn window(row: i32, rowOk: bool, ix0: i32) -> Window {
  return Window(
    vec4f(input_at(row, rowOk, ix0), input_at(row, rowOk, ix0 + 1), input_at(row, rowOk, ix0 + 2), input_at(row, rowOk, ix0 + 3)),
    vec2f(input_at(row, rowOk, ix0 + 4), input_at(row, rowOk, ix0 + 5)),
  );
}

// The three taps of one kernel row, four channels each.
struct Taps {
  k0: vec4f,
  k1: vec4f,
  k2: vec4f,
}

// Gradient columns g0..g3 (four channels at columns 4t + q) against one input window:
// tap kx sums g_q * x[ix0 + q + kx] over the four columns q.
fn row_taps(g0: vec4f, g1: vec4f, g2: vec4f, g3: vec4f, w: Window) -> Taps {
  return Taps(
    g0 * w.lo.x + g1 * w.lo.y + g2 * w.lo.z + g3 * w.lo.w,
    g0 * w.lo.y + g1 * w.lo.z + g2 * w.lo.w + g3 * w.hi.x,
    g0 * w.lo.z + g1 * w.lo.w + g2 * w.hi.x + g3 * w.hi.y,
  );
}

// in0 = x [N,C,H,W], in1 = dy [N,O,Ho,Wo] as vec4s (Wo a multiple of 4), out = partial
// sums [chunks, O, C, 3, 3] (a 3x3 kernel). Invocation: (chunk, block of 4 output
// channels, input channel) with all nine taps, so each gradient value read feeds nine taps.
@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let oblocks = (p.O + 3u) / 4u;
  if (i >= p.C * oblocks * p.chunks) { return; }
  let c = i % p.C;
  let r = i / p.C;
  let o0 = (r % oblocks) * 4u;
  let ch = r / oblocks;
  let HW = p.H * p.W;
  let HWo = p.Ho * p.Wo;
  let tiles = p.Wo / 4u;
  // dy rows of the four channels (clamped to the last channel), in vec4 units.
  let oq = min(vec4u(o0) + vec4u(0u, 1u, 2u, 3u), vec4u(p.O - 1u)) * (HWo / 4u);
  var t0 = Taps(vec4f(0.0), vec4f(0.0), vec4f(0.0));  // kernel row 0
  var t1 = t0;
  var t2 = t0;
  let rowEnd = min(p.N * p.Ho, (ch + 1u) * p.chunk);
  for (var rr = ch * p.chunk; rr < rowEnd; rr++) {
    let n = rr / p.Ho;
    let oy = rr % p.Ho;
    let iy = i32(oy) - i32(p.ph);  // input row under kernel row 0
    let row = i32(p.base0 + (n * p.C + c) * HW) + iy * i32(p.W);
    let ok0 = iy >= 0 && iy < i32(p.H);
    let ok1 = iy + 1 >= 0 && iy + 1 < i32(p.H);
    let ok2 = iy + 2 >= 0 && iy + 2 < i32(p.H);
    let g0 = p.base1 / 4u + n * p.O * (HWo / 4u) + oy * tiles;
    for (var t = 0u; t < tiles; t++) {
      let a = in1[g0 + oq.x + t];
      let b = in1[g0 + oq.y + t];
      let d = in1[g0 + oq.z + t];
      let e = in1[g0 + oq.w + t];
      // Regrouped per column: column q of the four channels.
      let c0 = vec4f(a.x, b.x, d.x, e.x);
      let c1 = vec4f(a.y, b.y, d.y, e.y);
      let c2 = vec4f(a.z, b.z, d.z, e.z);
      let c3 = vec4f(a.w, b.w, d.w, e.w);
      let ix0 = i32(t * 4u) - i32(p.pw);
      // A loop, not three copies: some shader compilers (SwiftShader's) blow up on the
      // unrolled body.
      for (var ky = 0u; ky < 3u; ky++) {
        let ok = select(select(ok2, ok1, ky == 1u), ok0, ky == 0u);
        let r = row_taps(c0, c1, c2, c3, window(row + i32(ky * p.W), ok, ix0));
        if (ky == 0u) {
          t0 = Taps(t0.k0 + r.k0, t0.k1 + r.k1, t0.k2 + r.k2);
        } else if (ky == 1u) {
          t1 = Taps(t1.k0 + r.k0, t1.k1 + r.k1, t1.k2 + r.k2);
        } else {
          t2 = Taps(t2.k0 + r.k0, t2.k1 + r.k1, t2.k2 + r.k2);
        }
      }
    }
  }
  // partial[ch, o, c, ky, kx]
  let K = p.C * 9u;
  let at = (p.chunkBase + ch) * p.O * K + c * 9u;
  for (var j = 0u; j < 4u; j++) {
    let o = o0 + j;
    if (o >= p.O) { break; }
    let base = at + o * K;
    out[base] = t0.k0[j];
    out[base + 1u] = t0.k1[j];
    out[base + 2u] = t0.k2[j];
    out[base + 3u] = t1.k0[j];
    out[base + 4u] = t1.k1[j];
    out[base + 5u] = t1.k2[j];
    out[base + 6u] = t2.k0[j];
    out[base + 7u] = t2.k1[j];
    out[base + 8u] = t2.k2[j];
  }
}

// in0 = w [O, C, KK] (KK = kh*kw), out = wT [C*KK, O4*4]: one invocation per element.
@compute @workgroup_size(WG)
fn weights_by_tap(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let K = p.C * p.kh * p.kw;
  let width = (p.O + 3u) / 4u * 4u;
  if (i >= width * K) { return; }
  let o = i % width;
  let k = i / width;
  out[i] = select(0.0, in0[min(o, p.O - 1u) * K + k], o < p.O);
}

// in0 = w [O, C, KK], out = wF [O*KK, C4*4] with the taps reversed (a 180-degree turn).
@compute @workgroup_size(WG)
fn weights_flipped(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let KK = p.kh * p.kw;
  let width = (p.C + 3u) / 4u * 4u;
  if (i >= p.O * KK * width) { return; }
  let c = i % width;
  let r = i / width;
  let t = r % KK;
  let o = r / KK;
  out[i] = select(0.0, in0[(o * p.C + min(c, p.C - 1u)) * KK + (KK - 1u - t)], c < p.C);
}
