// 2D convolution, kernel width 3 and stride 1 (every convolution of CNN-5 and VGG-16 and
// the 3x3 ones of ResNet-50), and its weight gradient: the "rows" variant. The input
// gradient is this forward pass run on the output gradient with flipped weights.
//
// Why a special case: on CPU adapters (llvmpipe) every invocation is a SIMD lane and every
// storage load is a per-lane loop of a dozen instructions per lane (a vec4 shares one loop),
// while a multiply-add is one instruction for eight lanes, so speed is multiply-adds per
// load. Each invocation therefore computes a block of outputs from a few loads: a window of
// ten inputs per kernel row serves eight columns, every input row serves four output
// rows, and every weight vec4 (four output channels) serves 32 outputs. Sums use fma()
// (without it the compiler emits a multiply and an add), and the inner bodies are written
// out, not looped: a loop the compiler does not unroll turns its arrays into memory.
//
//   forward_4x8  y[n,o,oy,ox] = sum_{c,ky,kx} x[n,c,oy-ph+ky, ox-pw+kx] * wT[(c*kh+ky)*3+kx, o]
//                invocation: 4 output rows x 8 columns x 8 output channels (rows >= 8 wide)
//   forward_4x4  the same, 4 output rows x 4 columns x 8 output channels (narrow rows)
//                (forward_4x8_aligned: window middles read as vec4s; _whole: rows exactly
//                one block wide, whose window edges are the padding and not read)
//   weight_grad  partial[ch,o,c,ky,kx] = sum over a chunk of output rows (n, oy) and all
//                columns of dy[n,o,oy,ox] * x[n,c,oy-ph+ky, ox-pw+kx]   (3x3 kernels)
//                invocation: 8 output channels x 2 input channels x all nine taps
//                (_aligned: window middles read as vec4s; _streamed: rows read as a stream)
//   weights_by_tap   wT[o/8, c*kh*kw + t, o%8] = w[o, c, t]           (the forward's layout)
//   weights_flipped  wF[c/8, o*kh*kw + t, c%8] = w[o, c, kh*kw-1-t]   (the input gradient's)
//                    blocks of 8 channels, the last padded with zeros: a block's weights
//                    are one contiguous stream (a strided column missed the L1 cache)
// Bindings change meaning per entry point (named in each); `base0`, `base1` and `baseOut`
// locate the batch chunk inside its binding window, as in conv2d.wgsl. `store_quad(at, v,
// left)`, which writes the forward pass's outputs, is appended at load (kernels/conv2d.ts):
// value by value into `out` in one module, as one vec4 into `out4` (binding 7) in the module
// the `_aligned` and `_whole` forward entries run from, where every quad lies inside its row; one module
// cannot hold both, since a dispatch may not bind one buffer as two writable bindings.

override WG: u32 = 64u;

// struct Params: declared once in kernels/conv2d.ts (CONV_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> in0: array<f32>;
@group(0) @binding(1) var<storage, read> in1: array<vec4f>;
@group(0) @binding(2) var<storage, read> bias: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
// in0 seen as vec4s, for the `_aligned` and `_whole` forward entries and the weight gradient (rows a multiple of 4 wide, padding 1,
// every block of columns inside the row): a window's middle columns then take two vec4
// loads instead of eight per-lane load loops, and only its two edge columns need checks.
@group(0) @binding(5) var<storage, read> in0v4: array<vec4f>;

fn activate(y: f32) -> f32 {
  return select(y, max(y, 0.0), p.relu != 0u);
}

// in0 at `row + ix`, or 0 where the row or column is outside the input.
fn input_at(row: i32, rowOk: bool, ix: i32) -> f32 {
  let ok = rowOk && ix >= 0 && ix < i32(p.W);
  return select(0.0, in0[u32(select(0, row + ix, ok))], ok);
}

// ---- forward ---------------------------------------------------------------------------

// The weights of one kernel row (three taps) for 8 channels: w[2*kx] channels 0-3, w[2*kx+1] 4-7.
// `at`: the vec4 index of the kernel row's first tap in its block of 8 channels.
fn kernel_row(at: u32) -> array<vec4f, 6> {
  return array<vec4f, 6>(in1[at], in1[at + 1u], in1[at + 2u], in1[at + 3u], in1[at + 4u], in1[at + 5u]);
}

// Six inputs under one kernel row at columns ix0..ix0+5 (zero outside the input).
struct Win6 { a: vec4f, b: vec2f }

fn win6(row: i32, rowOk: bool, ix0: i32) -> Win6 {
  return Win6(
    vec4f(input_at(row, rowOk, ix0), input_at(row, rowOk, ix0 + 1), input_at(row, rowOk, ix0 + 2), input_at(row, rowOk, ix0 + 3)),
    vec2f(input_at(row, rowOk, ix0 + 4), input_at(row, rowOk, ix0 + 5)),
  );
}

// Ten inputs at columns ix0..ix0+9.
struct Win10 { a: vec4f, b: vec4f, c: vec2f }

fn win10(row: i32, rowOk: bool, ix0: i32) -> Win10 {
  return Win10(
    vec4f(input_at(row, rowOk, ix0), input_at(row, rowOk, ix0 + 1), input_at(row, rowOk, ix0 + 2), input_at(row, rowOk, ix0 + 3)),
    vec4f(input_at(row, rowOk, ix0 + 4), input_at(row, rowOk, ix0 + 5), input_at(row, rowOk, ix0 + 6), input_at(row, rowOk, ix0 + 7)),
    vec2f(input_at(row, rowOk, ix0 + 8), input_at(row, rowOk, ix0 + 9)),
  );
}

// The same windows where `row` (the row's first element) and `ox0` (the first output column,
// one right of the window's first input column) are multiples of 4 and the window's middle
// columns lie inside the row: only the edge columns can fall outside.
fn win6_aligned(row: i32, rowOk: bool, ox0: i32) -> Win6 {
  let m = select(vec4f(0.0), in0v4[u32(select(0, row + ox0, rowOk)) / 4u], rowOk);
  return Win6(vec4f(input_at(row, rowOk, ox0 - 1), m.xyz), vec2f(m.w, input_at(row, rowOk, ox0 + 4)));
}

fn win10_aligned(row: i32, rowOk: bool, ox0: i32) -> Win10 {
  let at = u32(select(0, row + ox0, rowOk)) / 4u;
  let m0 = select(vec4f(0.0), in0v4[at], rowOk);
  let m1 = select(vec4f(0.0), in0v4[at + 1u], rowOk);
  return Win10(vec4f(input_at(row, rowOk, ox0 - 1), m0.xyz), vec4f(m0.w, m1.xyz), vec2f(m1.w, input_at(row, rowOk, ox0 + 8)));
}

fn window10(row: i32, rowOk: bool, ix0: i32, aligned: bool) -> Win10 {
  if (aligned) { return win10_aligned(row, rowOk, ix0 + 1); }
  return win10(row, rowOk, ix0);
}

fn window6(row: i32, rowOk: bool, ix0: i32, aligned: bool) -> Win6 {
  if (aligned) { return win6_aligned(row, rowOk, ix0 + 1); }
  return win6(row, rowOk, ix0);
}

// acc[base+j] (channels base..base+3) += the three taps of one kernel row: xk (four columns
// shifted by tap k) * tap k's weight of channel base+j. The sixteen sums stay in registers
// for all three taps; taking each tap across all eight channels first made llvmpipe store
// and reload every sum after each multiply-add.
fn quad3(acc: ptr<function, array<vec4f, 8>>, base: u32, x0: vec4f, x1: vec4f, x2: vec4f, w0: vec4f, w1: vec4f, w2: vec4f) {
  (*acc)[base] = fma(x2, vec4f(w2.x), fma(x1, vec4f(w1.x), fma(x0, vec4f(w0.x), (*acc)[base])));
  (*acc)[base + 1u] = fma(x2, vec4f(w2.y), fma(x1, vec4f(w1.y), fma(x0, vec4f(w0.y), (*acc)[base + 1u])));
  (*acc)[base + 2u] = fma(x2, vec4f(w2.z), fma(x1, vec4f(w1.z), fma(x0, vec4f(w0.z), (*acc)[base + 2u])));
  (*acc)[base + 3u] = fma(x2, vec4f(w2.w), fma(x1, vec4f(w1.w), fma(x0, vec4f(w0.w), (*acc)[base + 3u])));
}

// One kernel row applied to 4 columns of one output row.
fn row4(acc: ptr<function, array<vec4f, 8>>, v: Win6, w: array<vec4f, 6>) {
  let x1 = vec4f(v.a.yzw, v.b.x);
  let x2 = vec4f(v.a.zw, v.b);
  quad3(acc, 0u, v.a, x1, x2, w[0], w[2], w[4]);
  quad3(acc, 4u, v.a, x1, x2, w[1], w[3], w[5]);
}

// One kernel row applied to 8 columns of one output row (lo: columns 0-3, hi: 4-7).
fn row8(lo: ptr<function, array<vec4f, 8>>, hi: ptr<function, array<vec4f, 8>>, v: Win10, w: array<vec4f, 6>) {
  row4(lo, Win6(v.a, v.b.xy), w);
  row4(hi, Win6(v.b, v.c), w);
}

// Where an invocation's block sits: output rows oy0.., columns ox0.., channels o0..o0+7 of image n.
struct Block {
  n: u32,
  o0: u32,
  oy0: u32,
  ox0: u32,
}

// Invocation i's block for blocks of `rows` x `cols`, or n == N when i is past the last one.
fn block_of(i: u32, rows: u32, cols: u32) -> Block {
  let tiles = (p.Wo + cols - 1u) / cols;
  let bands = (p.Ho + rows - 1u) / rows;
  // Neighbouring invocations take neighbouring tiles of one image and share the channel
  // block; the next channel block of the same image comes next, while its input is in cache.
  let oblocks = (p.O + 7u) / 8u;
  var r = i / tiles;
  let band = r % bands;
  r = r / bands;
  let ob = r % oblocks;
  let n = r / oblocks;
  if (n >= p.N) { return Block(p.N, 0u, 0u, 0u); }
  return Block(n, ob * 8u, band * rows, (i % tiles) * cols);
}

// y[n, o, oy, ox0+dx+q] for the four columns q of one channel's sums.
fn store_channel(b: Block, oy: u32, dx: u32, j: u32, v: vec4f) {
  let o = b.o0 + j;
  let ox = b.ox0 + dx;
  if (oy >= p.Ho || o >= p.O || ox >= p.Wo) { return; }
  var bj = 0.0;
  if (p.hasBias != 0u) { bj = bias[o]; }
  let at = p.baseOut + (b.n * p.O + o) * p.Ho * p.Wo + oy * p.Wo + ox;
  store_quad(at, vec4f(activate(v.x + bj), activate(v.y + bj), activate(v.z + bj), activate(v.w + bj)), p.Wo - ox);
}

// y[n, o0+j, oy, ox0+q..] for the 8 channels j of one accumulator array and 4 columns q,
// written out: a loop indexing the array would keep it in memory.
fn store4(b: Block, oy: u32, dx: u32, acc: ptr<function, array<vec4f, 8>>) {
  store_channel(b, oy, dx, 0u, (*acc)[0]);
  store_channel(b, oy, dx, 1u, (*acc)[1]);
  store_channel(b, oy, dx, 2u, (*acc)[2]);
  store_channel(b, oy, dx, 3u, (*acc)[3]);
  store_channel(b, oy, dx, 4u, (*acc)[4]);
  store_channel(b, oy, dx, 5u, (*acc)[5]);
  store_channel(b, oy, dx, 6u, (*acc)[6]);
  store_channel(b, oy, dx, 7u, (*acc)[7]);
}

// The window under a whole row of 8 columns (`wide`) or 4, padding 1 on both sides: its edges
// are the padding, so only the row's one or two vec4s are read (`row` a multiple of 4).
fn whole_window(row: i32, rowOk: bool, wide: bool) -> Win10 {
  let at = u32(select(0, row, rowOk)) / 4u;
  let m0 = select(vec4f(0.0), in0v4[at], rowOk);
  if (wide) {
    let m1 = select(vec4f(0.0), in0v4[at + 1u], rowOk);
    return Win10(vec4f(0.0, m0.xyz), vec4f(m0.w, m1.xyz), vec2f(m1.w, 0.0));
  }
  return Win10(vec4f(0.0, m0.xyz), vec4f(m0.w, 0.0, 0.0, 0.0), vec2f(0.0));
}

// The window under one output row: ten inputs for 8 columns (`wide`), else six for 4 (the
// rest zero). `wide`, `aligned` and `whole` (the block spans the whole row: whole_window)
// are literals at each call, so the compiler keeps one branch.
fn window(row: i32, rowOk: bool, ix0: i32, wide: bool, aligned: bool, whole: bool) -> Win10 {
  if (whole) { return whole_window(row, rowOk, wide); }
  if (wide) { return window10(row, rowOk, ix0, aligned); }
  let v = window6(row, rowOk, ix0, aligned);
  return Win10(v.a, vec4f(v.b, 0.0, 0.0), vec2f(0.0));
}

// One kernel row applied to one output row: 8 columns (lo, hi) or 4 (lo alone).
fn row_block(lo: ptr<function, array<vec4f, 8>>, hi: ptr<function, array<vec4f, 8>>, v: Win10, w: array<vec4f, 6>, wide: bool) {
  if (wide) { row8(lo, hi, v, w); } else { row4(lo, Win6(v.a, v.b.xy), w); }
}

// Output row oy: columns ox0..ox0+3 from lo and, when `wide`, ox0+4..ox0+7 from hi.
fn store_row(b: Block, oy: u32, lo: ptr<function, array<vec4f, 8>>, hi: ptr<function, array<vec4f, 8>>, wide: bool) {
  store4(b, oy, 0u, lo);
  if (wide) { store4(b, oy, 4u, hi); }
}

// in0 = x [N,C,H,W] (in0v4 the same), in1 = wT [ceil(O/8), C*kh*3, 8] as vec4s (blocks of 8
// channels, zero-padded), bias = b [O], out = y [N,O,Ho,Wo]. A block of 4 output rows x 8 columns
// (`wide`, rows at least 8 wide) or 4 x 4 (narrow rows), x 8 channels. Input row oy0+r feeds
// output row oy0+j with kernel row r-j, so a channel reads kh+3 input rows for four output
// rows, and each kernel row's six weight loads serve 4 rows x 8 columns x 8 channels (2 rows
// served half as many; 8 rows ran slower on llvmpipe, 512 sums being too many to keep).
fn forward_block(i: u32, wide: bool, aligned: bool, whole: bool) {
  let b = block_of(i, 4u, select(4u, 8u, wide));
  if (b.n >= p.N) { return; }
  // This block's 8 channels of wT, two vec4s per row.
  var wAt = (b.o0 / 8u) * p.C * p.kh * 6u;
  let HW = p.H * p.W;
  let ix0 = i32(b.ox0) - i32(p.pw);
  let iy0 = i32(b.oy0) - i32(p.ph);
  let Hi = i32(p.H);
  let Wi = i32(p.W);
  var lo0: array<vec4f, 8>; var hi0: array<vec4f, 8>;  // output row oy0 (hi: unused when narrow)
  var lo1: array<vec4f, 8>; var hi1: array<vec4f, 8>;
  var lo2: array<vec4f, 8>; var hi2: array<vec4f, 8>;
  var lo3: array<vec4f, 8>; var hi3: array<vec4f, 8>;
  var xc = i32(p.base0 + b.n * p.C * HW);
  for (var c = 0u; c < p.C; c++) {
    // The windows under output rows 0-2 for kernel row 0; row 3's is read in the loop.
    var r0 = window(xc + iy0 * Wi, iy0 >= 0 && iy0 < Hi, ix0, wide, aligned, whole);
    var r1 = window(xc + (iy0 + 1) * Wi, iy0 + 1 >= 0 && iy0 + 1 < Hi, ix0, wide, aligned, whole);
    var r2 = window(xc + (iy0 + 2) * Wi, iy0 + 2 >= 0 && iy0 + 2 < Hi, ix0, wide, aligned, whole);
    for (var ky = 0u; ky < p.kh; ky++) {
      let iy = iy0 + i32(ky) + 3;
      let r3 = window(xc + iy * Wi, iy >= 0 && iy < Hi, ix0, wide, aligned, whole);
      let w = kernel_row(wAt);
      wAt += 6u;
      row_block(&lo0, &hi0, r0, w, wide);
      row_block(&lo1, &hi1, r1, w, wide);
      row_block(&lo2, &hi2, r2, w, wide);
      row_block(&lo3, &hi3, r3, w, wide);
      r0 = r1;
      r1 = r2;
      r2 = r3;
    }
    xc += i32(HW);
  }
  store_row(b, b.oy0, &lo0, &hi0, wide);
  store_row(b, b.oy0 + 1u, &lo1, &hi1, wide);
  store_row(b, b.oy0 + 2u, &lo2, &hi2, wide);
  store_row(b, b.oy0 + 3u, &lo3, &hi3, wide);
}

@compute @workgroup_size(WG)
fn forward_4x8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  forward_block(flat_index(wid, nwg, lid), true, false, false);
}

@compute @workgroup_size(WG)
fn forward_4x8_aligned(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  forward_block(flat_index(wid, nwg, lid), true, true, false);
}

@compute @workgroup_size(WG)
fn forward_4x4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  forward_block(flat_index(wid, nwg, lid), false, false, false);
}

// Rows of exactly 8 (or 4) columns, padding 1: the block spans the row (whole_window).
@compute @workgroup_size(WG)
fn forward_4x8_whole(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  forward_block(flat_index(wid, nwg, lid), true, true, true);
}

@compute @workgroup_size(WG)
fn forward_4x4_whole(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  forward_block(flat_index(wid, nwg, lid), false, true, true);
}

// ---- weight gradient -------------------------------------------------------------------

// The output gradient of four channels at four columns (one vec4 of columns per channel).
struct Quad { a: vec4f, b: vec4f, c: vec4f, d: vec4f }

fn dy_quad(at: u32, o: u32, t: u32) -> Quad {
  let plane = (p.Ho * p.Wo) / 4u;
  let last = p.O - 1u;  // channels past the last one read it again (their sums are not stored)
  return Quad(
    in1[at + min(o, last) * plane + t], in1[at + min(o + 1u, last) * plane + t],
    in1[at + min(o + 2u, last) * plane + t], in1[at + min(o + 3u, last) * plane + t],
  );
}

// The three taps of one kernel row, four channels each.
struct Taps { k0: vec4f, k1: vec4f, k2: vec4f }

// acc + sum over the four columns q of (the four channels at column q) * x[q].
fn tap(acc: vec4f, g: Quad, x: vec4f) -> vec4f {
  var s = fma(vec4f(g.a.x, g.b.x, g.c.x, g.d.x), vec4f(x.x), acc);
  s = fma(vec4f(g.a.y, g.b.y, g.c.y, g.d.y), vec4f(x.y), s);
  s = fma(vec4f(g.a.z, g.b.z, g.c.z, g.d.z), vec4f(x.z), s);
  return fma(vec4f(g.a.w, g.b.w, g.c.w, g.d.w), vec4f(x.w), s);
}

// Tap kx of a kernel row sees the window shifted by kx columns.
fn row_taps(t: Taps, g: Quad, v: Win6) -> Taps {
  return Taps(tap(t.k0, g, v.a), tap(t.k1, g, vec4f(v.a.yzw, v.b.x)), tap(t.k2, g, vec4f(v.a.zw, v.b)));
}

// partial[.., o0+j, c, ky, kx] for the four channels j of one quad (at = that row's [o=0, c] entry).
fn store_taps(at: u32, o0: u32, K: u32, t0: Taps, t1: Taps, t2: Taps) {
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

// The 72 sums of one invocation: channel quad a or b (output channels o0..o0+3, o0+4..o0+7),
// input channel 0 or 1 of the pair, kernel row 0-2.
struct Sums {
  a00: Taps, a01: Taps, a02: Taps, a10: Taps, a11: Taps, a12: Taps,
  b00: Taps, b01: Taps, b02: Taps, b10: Taps, b11: Taps, b12: Taps,
}

// Four columns of dy (quads qa, qb) against the windows under them: v0-v2 of input
// channel c (kernel rows 0-2), u0-u2 of channel c1.
fn accumulate(s: ptr<function, Sums>, qa: Quad, qb: Quad, v0: Win6, v1: Win6, v2: Win6, u0: Win6, u1: Win6, u2: Win6) {
  (*s).a00 = row_taps((*s).a00, qa, v0); (*s).b00 = row_taps((*s).b00, qb, v0);
  (*s).a01 = row_taps((*s).a01, qa, v1); (*s).b01 = row_taps((*s).b01, qb, v1);
  (*s).a02 = row_taps((*s).a02, qa, v2); (*s).b02 = row_taps((*s).b02, qb, v2);
  (*s).a10 = row_taps((*s).a10, qa, u0); (*s).b10 = row_taps((*s).b10, qb, u0);
  (*s).a11 = row_taps((*s).a11, qa, u1); (*s).b11 = row_taps((*s).b11, qb, u1);
  (*s).a12 = row_taps((*s).a12, qa, u2); (*s).b12 = row_taps((*s).b12, qb, u2);
}

// An aligned input row read along its columns: `mid` the vec4 under the current four output
// columns, `left` the one before it. The next vec4 closes the window (its first value), so
// each step reads one vec4 per row, not a vec4 and two edge values.
struct Stream { left: vec4f, mid: vec4f }

// The t-th vec4 of the row starting at `row` (a multiple of 4), zero when the row is outside
// the input.
fn row_vec4(row: i32, ok: bool, t: u32) -> vec4f {
  return select(vec4f(0.0), in0v4[u32(select(0, row, ok)) / 4u + select(0u, t, ok)], ok);
}

fn stream_start(row: i32, ok: bool) -> Stream {
  return Stream(vec4f(0.0), row_vec4(row, ok, 0u));
}

fn stream_window(s: Stream, next: vec4f) -> Win6 {
  return Win6(vec4f(s.left.w, s.mid.xyz), vec2f(s.mid.w, next.x));
}

// Where output row rr (over the batch: n * Ho + oy) reads: x0 / x1 the first element of the
// input row under kernel row 0 in channels c / c1, ok0-ok2 whether kernel rows 0-2 fall
// inside the input, dy the vec4 index of the row's output gradient in channel 0.
struct OutputRow { x0: i32, x1: i32, ok0: bool, ok1: bool, ok2: bool, dy: u32 }

fn output_row(rr: u32, c: u32, c1: u32, tiles: u32) -> OutputRow {
  let n = rr / p.Ho;
  let oy = rr % p.Ho;
  let iy = i32(oy) - i32(p.ph);
  let Hi = i32(p.H);
  let HW = p.H * p.W;
  return OutputRow(
    i32(p.base0 + (n * p.C + c) * HW) + iy * i32(p.W), i32(p.base0 + (n * p.C + c1) * HW) + iy * i32(p.W),
    (iy >= 0) && (iy < Hi), (iy + 1 >= 0) && (iy + 1 < Hi), (iy + 2 >= 0) && (iy + 2 < Hi),
    p.base1 / 4u + n * p.O * (p.Ho * p.Wo / 4u) + oy * tiles,
  );
}

// A weight-gradient invocation's work: input channels c and c1 (c1 == c for the last of an
// odd C), output channels o0..o0+7, chunk ch of output rows (ch == chunks past the last one).
struct WgradJob { c: u32, c1: u32, o0: u32, ch: u32 }

fn wgrad_job(i: u32) -> WgradJob {
  let oblocks = (p.O + 7u) / 8u;
  let pairs = (p.C + 1u) / 2u;
  if (i >= pairs * oblocks * p.chunks) { return WgradJob(0u, 0u, 0u, p.chunks); }
  let c = (i % pairs) * 2u;
  let r = i / pairs;
  return WgradJob(c, min(c + 1u, p.C - 1u), (r % oblocks) * 8u, r / oblocks);
}

// The job's 144 sums into its partial-sum row (a channel counted twice is stored once).
fn store_sums(job: WgradJob, s: Sums) {
  let K = p.C * 9u;
  let at = (p.chunkBase + job.ch) * p.O * K + job.c * 9u;
  store_taps(at, job.o0, K, s.a00, s.a01, s.a02);
  store_taps(at, job.o0 + 4u, K, s.b00, s.b01, s.b02);
  if (job.c1 == job.c) { return; }
  store_taps(at + 9u, job.o0, K, s.a10, s.a11, s.a12);
  store_taps(at + 9u, job.o0 + 4u, K, s.b10, s.b11, s.b12);
}

// in0 = x [N,C,H,W] (in0v4 the same), in1 = dy [N,O,Ho,Wo] as vec4s (Wo a multiple of 4), out = partial
// sums [chunks, O, C, 3, 3] (a 3x3 kernel). Invocation: (chunk, block of 8 output channels,
// pair of input channels) with all nine taps: per four columns, 8 vec4 loads of dy and six
// input windows feed 576 multiply-adds. The loads dominate (with dy's replaced by constants
// the kernel ran 2.5x faster), so two input channels share each dy load, and aligned rows
// are streamed (Stream); 16 output channels x 1 input channel (the same 144 sums) took
// twice as many dy loads, and 16 x 2 ran no faster than 16 x 1 on llvmpipe (too many live
// values). The sums are written out: as a loop, the compiler would keep them in memory.
// With C odd the last pair reads its channel twice and stores it once. `aligned` as in the
// forward entries (x's rows a multiple of 4 wide, padding 1, Wo == W); `streamed` (aligned
// rows of 16 columns or more) carries each row's vec4s from one step to the next. Both are
// literals: llvmpipe runs both sides of an `if` it cannot decide at compile time, so the
// paths are separate entries, not a branch on the row width.
fn weight_grad_block(i: u32, aligned: bool, streamed: bool) {
  let job = wgrad_job(i);
  if (job.ch >= p.chunks) { return; }
  let tiles = p.Wo / 4u;
  let Wi = i32(p.W);
  let z = Taps(vec4f(0.0), vec4f(0.0), vec4f(0.0));
  var s = Sums(z, z, z, z, z, z, z, z, z, z, z, z);
  let rowEnd = min(p.N * p.Ho, (job.ch + 1u) * p.chunk);
  if (streamed) {
    for (var rr = job.ch * p.chunk; rr < rowEnd; rr++) {
      let r = output_row(rr, job.c, job.c1, tiles);
      var s0 = stream_start(r.x0, r.ok0);
      var s1 = stream_start(r.x0 + Wi, r.ok1);
      var s2 = stream_start(r.x0 + 2 * Wi, r.ok2);
      var t0 = stream_start(r.x1, r.ok0);
      var t1 = stream_start(r.x1 + Wi, r.ok1);
      var t2 = stream_start(r.x1 + 2 * Wi, r.ok2);
      for (var t = 0u; t < tiles; t++) {
        let more = t + 1u < tiles;
        let n0 = row_vec4(r.x0, r.ok0 && more, t + 1u);
        let n1 = row_vec4(r.x0 + Wi, r.ok1 && more, t + 1u);
        let n2 = row_vec4(r.x0 + 2 * Wi, r.ok2 && more, t + 1u);
        let m0 = row_vec4(r.x1, r.ok0 && more, t + 1u);
        let m1 = row_vec4(r.x1 + Wi, r.ok1 && more, t + 1u);
        let m2 = row_vec4(r.x1 + 2 * Wi, r.ok2 && more, t + 1u);
        accumulate(&s, dy_quad(r.dy, job.o0, t), dy_quad(r.dy, job.o0 + 4u, t),
          stream_window(s0, n0), stream_window(s1, n1), stream_window(s2, n2),
          stream_window(t0, m0), stream_window(t1, m1), stream_window(t2, m2));
        s0 = Stream(s0.mid, n0); s1 = Stream(s1.mid, n1); s2 = Stream(s2.mid, n2);
        t0 = Stream(t0.mid, m0); t1 = Stream(t1.mid, m1); t2 = Stream(t2.mid, m2);
      }
    }
  } else {
    // One loop over (output row, four columns): on short rows a loop per row would merge
    // the 144 sums under llvmpipe's loop mask twice per step.
    for (var q = job.ch * p.chunk * tiles; q < rowEnd * tiles; q++) {
      let r = output_row(q / tiles, job.c, job.c1, tiles);
      let t = q % tiles;
      let ix0 = i32(t * 4u) - i32(p.pw);
      accumulate(&s, dy_quad(r.dy, job.o0, t), dy_quad(r.dy, job.o0 + 4u, t),
        window6(r.x0, r.ok0, ix0, aligned), window6(r.x0 + Wi, r.ok1, ix0, aligned), window6(r.x0 + 2 * Wi, r.ok2, ix0, aligned),
        window6(r.x1, r.ok0, ix0, aligned), window6(r.x1 + Wi, r.ok1, ix0, aligned), window6(r.x1 + 2 * Wi, r.ok2, ix0, aligned));
    }
  }
  store_sums(job, s);
}

// ---- weight gradient on narrow rows, streamed down the rows ----------------------------

// One input row held whole: 4 or 8 columns (`quads` 1 or 2; b unused when 1).
struct Row { a: vec4f, b: vec4f }

fn whole_row(at: i32, ok: bool, quads: u32) -> Row {
  if (quads == 2u) { return Row(row_vec4(at, ok, 0u), row_vec4(at, ok, 1u)); }
  return Row(row_vec4(at, ok, 0u), vec4f(0.0));
}

// The window under output columns 4q .. 4q + 3 of a whole row, padding 1 on both sides.
fn row_window(r: Row, q: u32, quads: u32) -> Win6 {
  if (quads == 1u) { return Win6(vec4f(0.0, r.a.xyz), vec2f(r.a.w, 0.0)); }
  if (q == 0u) { return Win6(vec4f(0.0, r.a.xyz), vec2f(r.a.w, r.b.x)); }
  return Win6(vec4f(r.a.w, r.b.xyz), vec2f(r.b.w, 0.0));
}

// The weight gradient where rows are 4 or 8 wide (`quads` 1 or 2, a literal), padding 1 and
// output rows as many and as wide as the input's (CNN-5's and VGG-16's last blocks), with
// weight_grad_block's invocation and sums. There every step of weight_grad_aligned reads
// three values per window for four columns; here an invocation walks its chunk down the
// rows, holding the three input rows under the current output row of both channels whole,
// so a step reads one new row per channel and the output gradient's row: per 576
// multiply-adds 10 loads where weight_grad_aligned takes 26. The chunk's rows are taken as
// one run per image, each opened by reading the two rows above its first output row.
fn weight_grad_down(i: u32, quads: u32) {
  let job = wgrad_job(i);
  if (job.ch >= p.chunks) { return; }
  let Wi = i32(p.W);
  let HW = p.H * p.W;
  let z = Taps(vec4f(0.0), vec4f(0.0), vec4f(0.0));
  var s = Sums(z, z, z, z, z, z, z, z, z, z, z, z);
  let rowEnd = min(p.N * p.Ho, (job.ch + 1u) * p.chunk);
  var rr = job.ch * p.chunk;
  loop {
    if (rr >= rowEnd) { break; }
    let n = rr / p.Ho;
    let runEnd = min(rowEnd, (n + 1u) * p.Ho);
    let xc = i32(p.base0 + (n * p.C + job.c) * HW);
    let xc1 = i32(p.base0 + (n * p.C + job.c1) * HW);
    let dyImage = p.base1 / 4u + n * p.O * (p.Ho * p.Wo / 4u);
    let first = i32(rr - n * p.Ho);
    // Input rows first - 1 and first (kernel rows 0 and 1 of the run's first output row).
    var v0 = whole_row(xc + (first - 1) * Wi, first >= 1, quads);
    var v1 = whole_row(xc + first * Wi, true, quads);
    var u0 = whole_row(xc1 + (first - 1) * Wi, first >= 1, quads);
    var u1 = whole_row(xc1 + first * Wi, true, quads);
    for (; rr < runEnd; rr++) {
      let oy = rr - n * p.Ho;
      let below = i32(oy) + 1;
      let v2 = whole_row(xc + below * Wi, below < i32(p.H), quads);
      let u2 = whole_row(xc1 + below * Wi, below < i32(p.H), quads);
      let dy = dyImage + oy * quads;
      accumulate(&s, dy_quad(dy, job.o0, 0u), dy_quad(dy, job.o0 + 4u, 0u),
        row_window(v0, 0u, quads), row_window(v1, 0u, quads), row_window(v2, 0u, quads),
        row_window(u0, 0u, quads), row_window(u1, 0u, quads), row_window(u2, 0u, quads));
      if (quads == 2u) {
        accumulate(&s, dy_quad(dy, job.o0, 1u), dy_quad(dy, job.o0 + 4u, 1u),
          row_window(v0, 1u, quads), row_window(v1, 1u, quads), row_window(v2, 1u, quads),
          row_window(u0, 1u, quads), row_window(u1, 1u, quads), row_window(u2, 1u, quads));
      }
      v0 = v1; v1 = v2; u0 = u1; u1 = u2;
    }
  }
  store_sums(job, s);
}

@compute @workgroup_size(WG)
fn weight_grad_down4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  weight_grad_down(flat_index(wid, nwg, lid), 1u);
}

@compute @workgroup_size(WG)
fn weight_grad_down8(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  weight_grad_down(flat_index(wid, nwg, lid), 2u);
}

@compute @workgroup_size(WG)
fn weight_grad(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  weight_grad_block(flat_index(wid, nwg, lid), false, false);
}

@compute @workgroup_size(WG)
fn weight_grad_aligned(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  weight_grad_block(flat_index(wid, nwg, lid), true, false);
}

@compute @workgroup_size(WG)
fn weight_grad_streamed(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  weight_grad_block(flat_index(wid, nwg, lid), true, true);
}

// ---- weight layouts --------------------------------------------------------------------

// in0 = w [O, C, KK] (KK = kh*kw), out = wT [ceil(O/8), C*KK, 8]: one invocation per element.
@compute @workgroup_size(WG)
fn weights_by_tap(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let K = p.C * p.kh * p.kw;
  if (i >= (p.O + 7u) / 8u * 8u * K) { return; }
  let r = i / 8u;
  let o = (r / K) * 8u + i % 8u;
  out[i] = select(0.0, in0[min(o, p.O - 1u) * K + r % K], o < p.O);
}

// in0 = w [O, C, KK], out = wF [ceil(C/8), O*KK, 8] with the taps reversed (a 180-degree turn).
@compute @workgroup_size(WG)
fn weights_flipped(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  let KK = p.kh * p.kw;
  let R = p.O * KK;
  if (i >= (p.C + 7u) / 8u * 8u * R) { return; }
  let r = i / 8u;
  let c = (r / R) * 8u + i % 8u;
  let t = (r % R) % KK;
  let o = (r % R) / KK;
  out[i] = select(0.0, in0[(o * p.C + min(c, p.C - 1u)) * KK + (KK - 1u - t)], c < p.C);
}
