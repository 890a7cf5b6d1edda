// 2D convolution as an implicit GEMM with workgroup-shared tiles (the GPU way, as in
// tfjs-backend-webgpu's conv2d_mm and Burn): each pass is a matrix product
// out[rows, cols] = A[rows, depth] @ B[depth, cols] whose operands are read straight from
// the tensors (no im2col buffer), for any kernel size, stride and padding:
//
//   forward      rows = output channel o, cols = output position (n, oy, ox), depth = (c, ky, kx)
//                A = w[o, c, ky, kx]; B = x[n, c, oy*sh-ph+ky, ox*sw-pw+kx] (0 in the padding)
//   input_grad   rows = input channel c, cols = input position (n, iy, ix), depth = (o, ky, kx)
//                A = w[o, c, ky, kx]; B = dy[n, o, oy, ox] where iy = oy*sh-ph+ky, ix likewise
//                (0 where (iy+ph-ky) is not a multiple of the stride or lands outside dy)
//   weight_grad  rows = output channel o, cols = (c, ky, kx), depth = output position (n, oy, ox),
//                cut into `split`-long runs, one per workgroup layer (split-K): the layer
//                writes its own row of partial sums, partial[chunkBase + layer, o, c, ky, kx];
//                the launcher sums the rows (kernels/conv2d-gemm.ts).
//
// A workgroup of 256 invocations computes a tile of `out` of ROWS x (4096 / ROWS): 64 x 64,
// or 16 x 256 where that wastes less (few rows, many columns; kernels/conv2d-gemm.ts);
// each invocation a 4 x 4 block in registers. The depth is walked TK = 16 at a time: the
// workgroup loads a ROWS x 16 slab of A (row-major, vec4 along the depth) and a 16 x COLS
// slab of B (vec4 along the columns) into workgroup memory, then every value loaded serves
// 4 multiply-adds from workgroup memory instead of 1 from global memory.
// VEC_A / VEC_B: the slab's global rows are contiguous and aligned, so a vec4 is one load
// (forward A where C*kh*kw % 4 == 0; weight-gradient A where Ho*Wo % 4 == 0; forward and
// input-gradient B for 1x1 stride-1 unpadded convolutions where H*W % 4 == 0: there the
// convolution is a batched matmul, y[n] = w[O, C] @ x[n][C, H*W], and B is read as one).
//
// Bindings: in_b (x or dy window), in_a (w or dy window) and their vec4 views, bias, out
// (y, dx or the partial sums), Params. `base0`/`base1`/`baseOut` locate the batch chunk in
// its window, as in conv2d.wgsl. The element type `in_t` is f32, or f16 in the twin module
// built for adapters with `shader-f16` (inputs stored as f16, sums in f32).

// struct Params: declared once in kernels/conv2d-gemm.ts (GEMM_PARAMS), inserted at load.
// alias in_t / in4_t: f32 / vec4f, or f16 / vec4<f16> (kernels/conv2d-gemm.ts).

override VEC_A: bool = false;
override VEC_B: bool = false;

override ROWS: u32 = 64u;        // rows of `out` per workgroup: 64 or 16
override COLS: u32 = 4096u / ROWS;  // columns of `out` per workgroup
const TK = 16u;                   // depth per slab
const WGSIZE = 256u;

@group(0) @binding(0) var<storage, read> in_b: array<in_t>;
@group(0) @binding(1) var<storage, read> in_a: array<in_t>;
@group(0) @binding(2) var<storage, read> in_a4: array<in4_t>;
@group(0) @binding(3) var<storage, read> in_b4: array<in4_t>;
@group(0) @binding(4) var<storage, read> bias: array<f32>;
@group(0) @binding(5) var<storage, read_write> out: array<f32>;
@group(0) @binding(6) var<uniform> p: Params;

// A slab: ROWS rows x 4 vec4s along the depth. B slab: 16 depth rows x COLS / 4 vec4s.
var<workgroup> slabA: array<vec4f, ROWS * 4u>;
var<workgroup> slabB: array<vec4f, 16384u / ROWS>;

const FORWARD = 0u;
const INPUT_GRAD = 1u;
const WEIGHT_GRAD = 2u;

fn b_at(i: u32, ok: bool) -> f32 {
  return select(0.0, f32(in_b[select(0u, i, ok)]), ok);
}

fn a_at(i: u32, ok: bool) -> f32 {
  return select(0.0, f32(in_a[select(0u, i, ok)]), ok);
}

// A flat index of a 3D extent (outer, mid, inner): i = (a * mid + b) * inner + c. Each load
// splits its first index once and steps to the next with carries: integer division is slow
// on GPUs and slower on llvmpipe, and the slabs read runs of 4 neighbouring indices.
struct Idx3 { a: u32, b: u32, c: u32 }

fn split3(i: u32, mid: u32, inner: u32) -> Idx3 {
  let ab = i / inner;
  let a = ab / mid;
  return Idx3(a, ab - a * mid, i - ab * inner);
}

fn next3(v: Idx3, mid: u32, inner: u32) -> Idx3 {
  var r = v;
  r.c += 1u;
  if (r.c == inner) {
    r.c = 0u;
    r.b += 1u;
    if (r.b == mid) {
      r.b = 0u;
      r.a += 1u;
    }
  }
  return r;
}

// x[n, c, oy*sh-ph+ky, ox*sw-pw+kx] for tap (c, ky, kx) and output position (n, oy, ox).
fn im2col(tap: Idx3, at: Idx3, ok: bool) -> f32 {
  let iy = i32(at.b * p.sh + tap.b) - i32(p.ph);
  let ix = i32(at.c * p.sw + tap.c) - i32(p.pw);
  let inside = ok && at.a < p.N && iy >= 0 && iy < i32(p.H) && ix >= 0 && ix < i32(p.W);
  return b_at(p.base0 + ((at.a * p.C + tap.a) * p.H + u32(iy)) * p.W + u32(ix), inside);
}

// v / stride, without the division at stride 1.
fn over_stride(v: u32, stride: u32) -> u32 {
  if (stride == 1u) { return v; }
  return v / stride;
}

// dy[n, o, oy, ox] seen from input position (n, iy, ix) through tap (o, ky, kx):
// iy = oy*sh - ph + ky, so oy = (iy + ph - ky) / sh where that divides exactly.
fn col2im(tap: Idx3, at: Idx3, ok: bool) -> f32 {
  let ty = i32(at.b + p.ph) - i32(tap.b);
  let tx = i32(at.c + p.pw) - i32(tap.c);
  let oy = over_stride(u32(max(ty, 0)), p.sh);
  let ox = over_stride(u32(max(tx, 0)), p.sw);
  let inside = ok && at.a < p.N && ty >= 0 && tx >= 0 && oy * p.sh == u32(ty) && ox * p.sw == u32(tx) && oy < p.Ho && ox < p.Wo;
  return b_at(p.base0 + ((at.a * p.O + tap.a) * p.Ho + oy) * p.Wo + ox, inside);
}

// A[row, k0..k0+3] (k0 a multiple of 4), zero past the rows or the depth range's end.
fn load_a(kind: u32, row: u32, k0: u32, kEnd: u32) -> vec4f {
  var v = vec4f(0.0);
  if (row >= p.rows) { return v; }
  if (kind == WEIGHT_GRAD) {
    // dy[n, row, s] for output positions q = k0 + j = (n, s).
    let HWo = p.Ho * p.Wo;
    var n = k0 / HWo;
    var s = k0 - n * HWo;
    if (VEC_A) {
      // Ho*Wo % 4 == 0 and base1 % 4 == 0: the four positions are one aligned vec4 of one image.
      let ok = k0 < kEnd;
      return select(vec4f(0.0), vec4f(in_a4[select(0u, (p.base1 + (n * p.O + row) * HWo + s) / 4u, ok)]), ok);
    }
    for (var j = 0u; j < 4u; j++) {
      v[j] = a_at(p.base1 + (n * p.O + row) * HWo + s, k0 + j < kEnd);
      s += 1u;
      if (s == HWo) {
        s = 0u;
        n += 1u;
      }
    }
    return v;
  }
  if (kind == FORWARD) {
    // w[row, k]: the weights as an [O, C*kh*kw] matrix.
    if (VEC_A) {
      let ok = k0 < kEnd;
      return select(vec4f(0.0), vec4f(in_a4[select(0u, (row * p.depth + k0) / 4u, ok)]), ok);
    }
    for (var j = 0u; j < 4u; j++) { v[j] = a_at(row * p.depth + k0 + j, k0 + j < kEnd); }
    return v;
  }
  // INPUT_GRAD: w[o, row, t] for k = (o, t), t the tap.
  let KK = p.kh * p.kw;
  var o = k0 / KK;
  var t = k0 - o * KK;
  for (var j = 0u; j < 4u; j++) {
    v[j] = a_at((o * p.C + row) * KK + t, k0 + j < kEnd);
    t += 1u;
    if (t == KK) {
      t = 0u;
      o += 1u;
    }
  }
  return v;
}

// B[k, col0..col0+3] (col0 a multiple of 4), zero past the columns or the depth range's end.
fn load_b(kind: u32, k: u32, col0: u32, kEnd: u32) -> vec4f {
  let kOk = k < kEnd;
  if (VEC_B && kind != WEIGHT_GRAD) {
    // 1x1, stride 1, no padding, H*W % 4 == 0, base0 % 4 == 0: a batched matmul, whose B rows
    // are x's (forward) or dy's (input gradient) channel rows: 4 positions are one vec4.
    let HW = p.H * p.W;
    let n = col0 / HW;
    let channels = select(p.O, p.C, kind == FORWARD);
    let ok = kOk && col0 < p.cols;
    return select(vec4f(0.0), vec4f(in_b4[select(0u, (p.base0 + (n * channels + k) * HW + col0 - n * HW) / 4u, ok)]), ok);
  }
  // One index of B's element is fixed by k, the other steps along the four columns.
  if (kind == WEIGHT_GRAD) {
    // x at taps col0 + j = (c, ky, kx) for output position k.
    return column_quad(kind, split3(k, p.Ho, p.Wo), split3(col0, p.kh, p.kw), vec2u(p.kh, p.kw), kOk, col0);
  }
  if (kind == FORWARD) {
    // x at tap k for output positions col0 + j = (n, oy, ox).
    return column_quad(kind, split3(k, p.kh, p.kw), split3(col0, p.Ho, p.Wo), vec2u(p.Ho, p.Wo), kOk, col0);
  }
  // INPUT_GRAD: dy through tap k = (o, ky, kx) for input positions col0 + j = (n, iy, ix).
  return column_quad(kind, split3(k, p.kh, p.kw), split3(col0, p.H, p.W), vec2u(p.H, p.W), kOk, col0);
}

// B's values at columns col0..col0+3 for one depth index: `fixed` the index k settles (a
// position for the weight gradient, a tap otherwise), `first` column col0's index, stepped
// by next3 over `along` (its mid and inner sizes). `kind` is a literal at every call.
fn column_quad(kind: u32, fixed: Idx3, first: Idx3, along: vec2u, kOk: bool, col0: u32) -> vec4f {
  var v = vec4f(0.0);
  var moving = first;
  for (var j = 0u; j < 4u; j++) {
    let ok = kOk && col0 + j < p.cols;
    if (kind == WEIGHT_GRAD) {
      v[j] = im2col(moving, fixed, ok);
    } else if (kind == FORWARD) {
      v[j] = im2col(fixed, moving, ok);
    } else {
      v[j] = col2im(fixed, moving, ok);
    }
    moving = next3(moving, along.x, along.y);
  }
  return v;
}

// Writes out[row, col] for the pass (bias and ReLU in the forward pass).
fn store(kind: u32, row: u32, col: u32, value: f32, layer: u32) {
  if (row >= p.rows || col >= p.cols) { return; }
  if (kind == WEIGHT_GRAD) {
    out[((p.chunkBase + layer) * p.rows + row) * p.cols + col] = value;
    return;
  }
  // Columns are positions (n, s) of an image with `size` positions; rows are its channels.
  let size = select(p.H * p.W, p.Ho * p.Wo, kind == FORWARD);
  let n = col / size;
  let i = p.baseOut + (n * p.rows + row) * size + col - n * size;
  if (kind == FORWARD) {
    var y = value;
    if (p.hasBias != 0u) { y += bias[row]; }
    if (p.relu != 0u) { y = max(y, 0.0); }
    out[i] = y;
    return;
  }
  out[i] = value;
}

fn gemm(kind: u32, wid: vec3u, nwg: vec3u, lid: u32) {
  // Workgroups: column tiles fastest, then row tiles, then depth layers (weight gradient).
  let w = wid.y * nwg.x + wid.x;
  let colTiles = (p.cols + COLS - 1u) / COLS;
  let rowTiles = (p.rows + ROWS - 1u) / ROWS;
  let layer = w / (colTiles * rowTiles);
  if (layer >= p.splits) { return; }
  let rest = w - layer * colTiles * rowTiles;
  let rowTile = rest / colTiles;
  let colTile = rest - rowTile * colTiles;
  let kBegin = layer * p.split;
  let kEnd = min(kBegin + p.split, p.depth);

  // Which slab vec4 this invocation loads, and which 4 x 4 block of `out` it computes.
  let quads = COLS / 4u;
  let ty = lid / quads;
  let tx = lid % quads;
  var acc: array<vec4f, 4>;
  for (var k0 = kBegin; k0 < kEnd; k0 += TK) {
    for (var i = lid; i < ROWS * 4u; i += WGSIZE) {
      slabA[i] = load_a(kind, rowTile * ROWS + i / 4u, k0 + (i % 4u) * 4u, kEnd);
    }
    for (var i = lid; i < 16u * quads; i += WGSIZE) {
      slabB[i] = load_b(kind, k0 + i / quads, colTile * COLS + (i % quads) * 4u, kEnd);
    }
    workgroupBarrier();
    slab_fma(&acc, ty, tx, quads);
    workgroupBarrier();
  }
  for (var i = 0u; i < 4u; i++) {
    for (var j = 0u; j < 4u; j++) {
      store(kind, rowTile * ROWS + ty * 4u + i, colTile * COLS + tx * 4u + j, acc[i][j], layer);
    }
  }
}

@compute @workgroup_size(WGSIZE)
fn forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  gemm(FORWARD, wid, nwg, lid);
}

@compute @workgroup_size(WGSIZE)
fn input_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  gemm(INPUT_GRAD, wid, nwg, lid);
}

@compute @workgroup_size(WGSIZE)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  gemm(WEIGHT_GRAD, wid, nwg, lid);
}
