// 2D pooling over [N, C, H, W] tensors (PyTorch semantics, floor mode), forward and backward.
// The launcher runs these over chunks of the batch, each tensor bound as a byte window:
// `base0/1/2` are the element offsets, inside bindings 0/1/2, of the chunk's first sample.
// Backward passes are gathers (one invocation per input element, looping over the output
// windows that contain it), so no atomics are needed.

override WG: u32 = 256u;

// struct Params: declared once in kernels/pool.ts (POOL_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> src: array<f32>;
@group(0) @binding(1) var<storage, read_write> dst: array<f32>;
@group(0) @binding(2) var<storage, read_write> arg: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

// First output row (or column) whose window, starting at o*s - pad, reaches position i.
fn first_window(i: u32, k: u32, s: u32, pad: u32) -> u32 {
  let reach = i32(i + pad) - i32(k) + 1;
  if (reach <= 0) { return 0u; }
  return (u32(reach) + s - 1u) / s;
}

// Last output row (or column) whose window starts at or before position i, clipped to n - 1.
fn last_window(i: u32, s: u32, pad: u32, n: u32) -> u32 {
  return min((i + pad) / s, n - 1u);
}

// The window of output element i (of the chunk): its plane, its top-left corner in the input
// (negative inside the padding) and where its input plane starts in binding 0.
struct Window {
  h0: i32,
  w0: i32,
  planeIn: u32,
}

fn window_of(i: u32) -> Window {
  let planeOut = p.Ho * p.Wo;
  let plane = i / planeOut;
  let oh = (i % planeOut) / p.Wo;
  let ow = i % p.Wo;
  return Window(i32(oh * p.sh) - i32(p.ph), i32(ow * p.sw) - i32(p.pw), p.base0 + plane * p.H * p.W);
}

// The output windows that contain input position (h, w): rows x..y, columns z..w.
fn windows_covering(h: u32, w: u32) -> vec4u {
  return vec4u(first_window(h, p.kh, p.sh, p.ph), last_window(h, p.sh, p.ph, p.Ho), first_window(w, p.kw, p.sw, p.pw), last_window(w, p.sw, p.pw, p.Wo));
}

// Input element j (of the chunk): its plane and its row and column in that plane.
fn input_position(j: u32) -> vec3u {
  let planeIn = p.H * p.W;
  return vec3u(j / planeIn, (j % planeIn) / p.W, j % p.W);
}

// Over the inputs of output i's window (padding excluded): the maximum and its position
// h * W + w in the plane (the first one on ties, as PyTorch), or (`take_max` false) the sum.
// `take_max` is a literal at each call, so each entry keeps one branch.
struct Reduced {
  value: f32,
  at: i32,
}

fn reduce_window(i: u32, take_max: bool) -> Reduced {
  let win = window_of(i);
  var r = Reduced(0.0, -1);
  for (var dh = 0u; dh < p.kh; dh++) {
    let h = win.h0 + i32(dh);
    if (h < 0 || h >= i32(p.H)) { continue; }
    for (var dw = 0u; dw < p.kw; dw++) {
      let w = win.w0 + i32(dw);
      if (w < 0 || w >= i32(p.W)) { continue; }
      let pos = h * i32(p.W) + w;
      let v = src[win.planeIn + u32(pos)];
      if (!take_max) {
        r.value += v;
      } else if (r.at < 0 || v > r.value) {
        r = Reduced(v, pos);
      }
    }
  }
  return r;
}

// dst = max over each window (padding never wins), arg = its position.
@compute @workgroup_size(WG)
fn max_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.count * p.C * p.Ho * p.Wo) { return; }
  let r = reduce_window(i, true);
  dst[p.base1 + i] = r.value;
  arg[p.base2 + i] = r.at;
}

// src = upstream gradient (output shape), arg = forward argmax, dst = input gradient.
@compute @workgroup_size(WG)
fn max_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wid, nwg, lid);
  if (j >= p.count * p.C * p.H * p.W) { return; }
  let at = input_position(j);
  let pos = i32(j % (p.H * p.W));
  let planeOut = at.x * p.Ho * p.Wo;
  var sum = 0.0;
  let r = windows_covering(at.y, at.z);
  for (var oh = r.x; oh <= r.y; oh++) {
    for (var ow = r.z; ow <= r.w; ow++) {
      let o = planeOut + oh * p.Wo + ow;
      if (arg[p.base2 + o] == pos) { sum += src[p.base0 + o]; }
    }
  }
  dst[p.base1 + j] = sum;
}

// max_backward when stride >= kernel (2x2 stride 2 in CNN-5 and VGG-16): each input element lies
// in at most one window, so it reads one gradient without looping.
@compute @workgroup_size(WG)
fn max_backward_disjoint(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wid, nwg, lid);
  if (j >= p.count * p.C * p.H * p.W) { return; }
  let at = input_position(j);
  let plane = at.x;
  let pos = j % (p.H * p.W);
  let hp = at.y + p.ph;
  let wp = at.z + p.pw;
  let oh = hp / p.sh;
  let ow = wp / p.sw;
  var value = 0.0;
  if (oh < p.Ho && ow < p.Wo && hp - oh * p.sh < p.kh && wp - ow * p.sw < p.kw) {
    let o = plane * p.Ho * p.Wo + oh * p.Wo + ow;
    if (arg[p.base2 + o] == i32(pos)) { value = src[p.base0 + o]; }
  }
  dst[p.base1 + j] = value;
}

// dst = mean over each window with padding counted as zeros (count_include_pad = true; in floor
// mode every window lies inside the padded input, so the divisor is always kh * kw).
@compute @workgroup_size(WG)
fn avg_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.count * p.C * p.Ho * p.Wo) { return; }
  dst[p.base1 + i] = reduce_window(i, false).value / f32(p.kh * p.kw);
}

@compute @workgroup_size(WG)
fn avg_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wid, nwg, lid);
  if (j >= p.count * p.C * p.H * p.W) { return; }
  // max_backward's loop without the argmax test (not shared: a helper reading `arg` would
  // make this entry's pipeline layout ask for the binding it does not have).
  let at = input_position(j);
  let planeOut = p.base0 + at.x * p.Ho * p.Wo;
  var sum = 0.0;
  let r = windows_covering(at.y, at.z);
  for (var oh = r.x; oh <= r.y; oh++) {
    for (var ow = r.z; ow <= r.w; ow++) {
      sum += src[planeOut + oh * p.Wo + ow];
    }
  }
  dst[p.base1 + j] = sum / f32(p.kh * p.kw);
}

// dst[n, c] = mean of the H x W plane. Blocks of 64 are summed first, then the block sums,
// which keeps the float32 rounding error small on large planes (373 x 64).
@compute @workgroup_size(WG)
fn global_avg_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.count * p.C) { return; }
  let n = p.H * p.W;
  let start = p.base0 + i * n;
  var total = 0.0;
  for (var b = 0u; b < n; b += 64u) {
    let end = min(b + 64u, n);
    var block = 0.0;
    for (var k = b; k < end; k++) { block += src[start + k]; }
    total += block;
  }
  dst[p.base1 + i] = total / f32(n);
}

@compute @workgroup_size(WG)
fn global_avg_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = flat_index(wid, nwg, lid);
  let n = p.H * p.W;
  if (j >= p.count * p.C * n) { return; }
  dst[p.base1 + j] = src[p.base0 + j / n] / f32(n);
}
