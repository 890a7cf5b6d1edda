// 2D convolution with PyTorch semantics (cross-correlation, zero padding, any kernel,
// stride and padding per axis) and its three gradients, all barrier-free.
//
//   forward      y[n,o,oy,ox]  = b[o] + sum_{c,ky,kx} x[n,c,oy*sh-ph+ky, ox*sw-pw+kx] * w[o,c,ky,kx]
//   input_grad   dx[n,c,iy,ix] = sum over the (o,ky,kx) whose output position lands on (iy,ix)
//   weight_grad  dw[o,c,ky,kx] = sum_{n,oy,ox} dy[n,o,oy,ox] * x[n,c,oy*sh-ph+ky, ox*sw-pw+kx]
//   bias_grad    db[o]         = sum_{n,oy,ox} dy[n,o,oy,ox]
//
// The forward is an implicit GEMM (rows: output positions, columns: output channels,
// reduction: C*kh*kw) with register tiling: each invocation computes 4 channels x 4
// positions, so each value loaded feeds four multiply-adds. The weight gradient is the
// same GEMM turned around (reduction over batch and positions); it is cut into chunks
// of output rows whose partial sums land in rows of `out` and are added by a second pass.
//
// Bindings change meaning per entry point (named in each); the launcher binds windows of
// large tensors (a chunk of the batch), and `base0`, `base1`, `baseOut` say where the
// chunk's first element sits inside its window (windows start at aligned byte offsets).

override WG: u32 = 64u;

// struct Params: declared once in kernels/conv2d.ts (CONV_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<f32>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

const LANES = vec4u(0u, 1u, 2u, 3u);

fn activate(y: f32) -> f32 {
  return select(y, max(y, 0.0), p.relu != 0u);
}

fn load4(idx: vec4u) -> vec4f {
  return vec4f(in0[idx.x], in0[idx.y], in0[idx.z], in0[idx.w]);
}

fn load4_in1(idx: vec4u) -> vec4f {
  return vec4f(in1[idx.x], in1[idx.y], in1[idx.z], in1[idx.w]);
}

fn inside(v: vec4i, size: u32) -> vec4<bool> {
  return (v >= vec4i(0)) & (v < vec4i(i32(size)));
}

// in0 = x [N,C,H,W], in1 = w [O,C,kh,kw], bias = b [O] (when hasBias), out = y [N,O,Ho,Wo].
// Invocation: 4 consecutive output positions (of one image) x 4 consecutive output channels.
@compute @workgroup_size(WG)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let HWo = p.Ho * p.Wo;
  let pblocks = (HWo + 3u) / 4u;
  let oblocks = (p.O + 3u) / 4u;
  if (i >= pblocks * oblocks * p.N) { return; }
  let pos0 = (i % pblocks) * 4u;
  let o0 = ((i / pblocks) % oblocks) * 4u;
  let n = i / (pblocks * oblocks);
  // Tiles past the edge compute on clamped (valid) indices and skip the write.
  let pos = min(vec4u(pos0) + LANES, vec4u(HWo - 1u));
  let iy0 = vec4i((pos / p.Wo) * p.sh) - i32(p.ph);
  let ix0 = vec4i((pos % p.Wo) * p.sw) - i32(p.pw);
  let K = p.C * p.kh * p.kw;
  let wrow = min(vec4u(o0) + LANES, vec4u(p.O - 1u)) * K;
  let HW = p.H * p.W;
  let xImage = p.base0 + n * p.C * HW;
  var acc: array<vec4f, 4>;  // acc[j][q]: channel o0 + j, position pos0 + q
  var k = 0u;
  // Most tiles see only the inside of the image: they skip the bounds checks.
  let inner = all(iy0 >= vec4i(0)) && all(iy0 + i32(p.kh) <= vec4i(i32(p.H))) &&
              all(ix0 >= vec4i(0)) && all(ix0 + i32(p.kw) <= vec4i(i32(p.W)));
  if (inner) {
    let start = vec4u(vec4i(i32(xImage)) + iy0 * i32(p.W) + ix0);
    for (var c = 0u; c < p.C; c++) {
      for (var ky = 0u; ky < p.kh; ky++) {
        let row = start + vec4u(c * HW + ky * p.W);
        for (var kx = 0u; kx < p.kw; kx++) {
          let xv = load4(row + vec4u(kx));
          let wv = load4_in1(wrow + vec4u(k));
          acc[0] += wv.x * xv;
          acc[1] += wv.y * xv;
          acc[2] += wv.z * xv;
          acc[3] += wv.w * xv;
          k++;
        }
      }
    }
  } else {
    for (var c = 0u; c < p.C; c++) {
      let xc = i32(xImage + c * HW);
      for (var ky = 0u; ky < p.kh; ky++) {
        let iy = iy0 + i32(ky);
        let rowOk = inside(iy, p.H);
        let row = vec4i(xc) + iy * i32(p.W);
        for (var kx = 0u; kx < p.kw; kx++) {
          let ix = ix0 + i32(kx);
          let ok = rowOk & inside(ix, p.W);
          let xv = select(vec4f(0.0), load4(vec4u(select(vec4i(0), row + ix, ok))), ok);
          let wv = load4_in1(wrow + vec4u(k));
          acc[0] += wv.x * xv;
          acc[1] += wv.y * xv;
          acc[2] += wv.z * xv;
          acc[3] += wv.w * xv;
          k++;
        }
      }
    }
  }
  for (var j = 0u; j < 4u; j++) {
    let o = o0 + j;
    if (o >= p.O) { break; }
    var b = 0.0;
    if (p.hasBias != 0u) { b = bias[o]; }
    let yrow = p.baseOut + (n * p.O + o) * HWo;
    for (var q = 0u; q < 4u; q++) {
      if (pos0 + q < HWo) { out[yrow + pos0 + q] = activate(acc[j][q] + b); }
    }
  }
}

// in0 = dy [N,O,Ho,Wo], in1 = w [O,C,kh,kw], out = dx [N,C,H,W].
// Invocation: 4 input channels x 4 input columns of one row iy that share a phase
// modulo the stride: ix = px + sw * (4t + q). Then every kernel tap (ky, kx) either hits
// an output position for all four columns or for none, and only the taps with
// ky = iy + ph (mod sh), kx = px + pw (mod sw) are visited: no work is wasted on stride holes.
@compute @workgroup_size(WG)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let cols = (p.W + p.sw - 1u) / p.sw;  // columns of the widest phase (px = 0)
  let tiles = (cols + 3u) / 4u;
  let cblocks = (p.C + 3u) / 4u;
  if (i >= tiles * p.sw * p.H * cblocks * p.N) { return; }
  let t = i % tiles;
  var r = i / tiles;
  let px = r % p.sw;
  r = r / p.sw;
  let iy = r % p.H;
  r = r / p.H;
  let c0 = (r % cblocks) * 4u;
  let n = r / cblocks;
  let KK = p.kh * p.kw;
  let CKK = p.C * KK;
  let wcol = min(vec4u(c0) + LANES, vec4u(p.C - 1u)) * KK;
  let col = vec4i(vec4u(t * 4u) + LANES);
  let HWo = p.Ho * p.Wo;
  let dyImage = p.base0 + n * p.O * HWo;
  var acc: array<vec4f, 4>;  // acc[j][q]: channel c0 + j, column 4t + q
  let ry = iy + p.ph;
  let rx = px + p.pw;
  for (var ky = ry % p.sh; ky < p.kh && ky <= ry; ky += p.sh) {
    let oy = (ry - ky) / p.sh;
    if (oy >= p.Ho) { continue; }
    for (var kx = rx % p.sw; kx < p.kw; kx += p.sw) {
      // Exact division: rx - kx is a multiple of sw (possibly negative).
      let ox = col + (i32(rx) - i32(kx)) / i32(p.sw);
      let ok = inside(ox, p.Wo);
      let dyAt = vec4u(select(vec4i(0), vec4i(i32(dyImage + oy * p.Wo)) + ox, ok));
      let k = ky * p.kw + kx;
      for (var o = 0u; o < p.O; o++) {
        let g = select(vec4f(0.0), load4(dyAt + vec4u(o * HWo)), ok);
        let wv = load4_in1(wcol + vec4u(o * CKK + k));
        acc[0] += wv.x * g;
        acc[1] += wv.y * g;
        acc[2] += wv.z * g;
        acc[3] += wv.w * g;
      }
    }
  }
  for (var j = 0u; j < 4u; j++) {
    let c = c0 + j;
    if (c >= p.C) { break; }
    let xrow = p.baseOut + ((n * p.C + c) * p.H + iy) * p.W;
    for (var q = 0u; q < 4u; q++) {
      let ix = px + p.sw * (t * 4u + q);
      if (ix < p.W) { out[xrow + ix] = acc[j][q]; }
    }
  }
}

// in0 = x [N,C,H,W], in1 = dy [N,O,Ho,Wo], out = partial sums [chunks, O, C*kh*kw].
// Invocation: 4 output channels x 4 consecutive (c, ky, kx) taps, summing over one chunk
// of `chunk` output rows (n, oy) of this dispatch's images. Along a row, the columns
// where all four taps fall inside the input run without bounds checks.
@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let KK = p.kh * p.kw;
  let K = p.C * KK;
  let kblocks = (K + 3u) / 4u;
  let oblocks = (p.O + 3u) / 4u;
  if (i >= kblocks * oblocks * p.chunks) { return; }
  let k0 = (i % kblocks) * 4u;
  let o0 = ((i / kblocks) % oblocks) * 4u;
  let ch = i / (kblocks * oblocks);
  let k = min(vec4u(k0) + LANES, vec4u(K - 1u));
  // Input row and column of tap q at output (oy, ox): oy * sh + offY[q], ox * sw + offX[q].
  let offY = vec4i((k % KK) / p.kw) - i32(p.ph);
  let offX = vec4i((k % KK) % p.kw) - i32(p.pw);
  let HW = p.H * p.W;
  let xTap = vec4i(p.base0 + (k / KK) * HW) + offX;
  let HWo = p.Ho * p.Wo;
  let dyRow = p.base1 + min(vec4u(o0) + LANES, vec4u(p.O - 1u)) * HWo;
  // Columns [lo, hi) need no check: 0 <= ox * sw + offX[q] < W for every tap q.
  let sw = i32(p.sw);
  let lo = u32(clamp((-min(min(offX.x, offX.y), min(offX.z, offX.w)) + sw - 1) / sw, 0, i32(p.Wo)));
  let room = i32(p.W) - 1 - max(max(offX.x, offX.y), max(offX.z, offX.w));  // may be negative: no such column
  let hi = u32(clamp(select(room / sw + 1, 0, room < 0), i32(lo), i32(p.Wo)));
  let rowEnd = min(p.N * p.Ho, (ch + 1u) * p.chunk);
  var acc: array<vec4f, 4>;  // acc[j][q]: channel o0 + j, tap k0 + q
  for (var r = ch * p.chunk; r < rowEnd; r++) {
    let n = r / p.Ho;
    let oy = r % p.Ho;
    let iy = offY + i32(oy * p.sh);
    let rowOk = inside(iy, p.H);
    // Taps whose input row is outside read a valid (unused) row and are masked to zero.
    let xRow = xTap + i32(n * p.C * HW) + select(vec4i(0), iy, rowOk) * i32(p.W);
    let gRow = dyRow + vec4u(n * p.O * HWo + oy * p.Wo);
    for (var ox = 0u; ox < p.Wo; ox++) {
      if (ox == lo) { ox = hi; if (ox >= p.Wo) { break; } }
      let ix = vec4i(i32(ox) * sw);
      let ok = rowOk & inside(ix + offX, p.W);
      let xv = select(vec4f(0.0), load4(vec4u(select(vec4i(0), xRow + ix, ok))), ok);
      let g = load4_in1(gRow + vec4u(ox));
      acc[0] += g.x * xv;
      acc[1] += g.y * xv;
      acc[2] += g.z * xv;
      acc[3] += g.w * xv;
    }
    for (var ox = lo; ox < hi; ox++) {
      let xv = select(vec4f(0.0), load4(vec4u(xRow + vec4i(i32(ox) * sw))), rowOk);
      let g = load4_in1(gRow + vec4u(ox));
      acc[0] += g.x * xv;
      acc[1] += g.y * xv;
      acc[2] += g.z * xv;
      acc[3] += g.w * xv;
    }
  }
  let row = (p.chunkBase + ch) * p.O;
  for (var j = 0u; j < 4u; j++) {
    let o = o0 + j;
    if (o >= p.O) { break; }
    for (var q = 0u; q < 4u; q++) {
      if (k0 + q < K) { out[(row + o) * K + k0 + q] = acc[j][q]; }
    }
  }
}

// in0 = dy [N,O,Ho,Wo], out = partial sums [chunks, O].
// Invocation: one channel, one chunk of the flattened (n, oy, ox) positions.
@compute @workgroup_size(WG)
fn bias_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.O * p.chunks) { return; }
  let o = i % p.O;
  let ch = i / p.O;
  let HWo = p.Ho * p.Wo;
  let start = ch * p.chunk;
  let end = min(p.N * HWo, start + p.chunk);
  var n = start / HWo;
  var at = start % HWo;
  // Two running sums keep the rounding error of long chunks smaller.
  var s0 = 0.0;
  var s1 = 0.0;
  for (var s = start; s < end; s++) {
    let v = in0[p.base0 + (n * p.O + o) * HWo + at];
    if ((s & 1u) == 0u) { s0 += v; } else { s1 += v; }
    at++;
    if (at == HWo) {
      at = 0u;
      n++;
    }
  }
  out[(p.chunkBase + ch) * p.O + o] = s0 + s1;
}
