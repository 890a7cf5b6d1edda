// Elementwise kernels: unary maps, broadcasting binary maps, fill and in-place add.
// One invocation per output element; the flat index folds a 2D grid of workgroups.
// Broadcasting: `rank > 0` means out has shape p.shape and each operand is read through
// its own strides (0 on a broadcast axis). `rank == 0` means all three share one layout.

override WG: u32 = 256u;
// False for operands that share the output's layout: the broadcast index arithmetic is then
// compiled out (a specialised pipeline, about 2x faster on llvmpipe for the binary ops).
override BROADCAST: bool = true;

// struct Params: declared once in kernels/elementwise.ts (ELEMENTWISE_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn dim(v: array<vec4u, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

// Offsets of output element i into a and b.
fn operand_offsets(i: u32) -> vec2u {
  if (!BROADCAST || p.rank == 0u) { return vec2u(i, i); }
  var rem = i;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(p.rank) - 1; d >= 0; d--) {
    let du = u32(d);
    let size = dim(p.shape, du);
    let c = rem % size;
    rem = rem / size;
    oa += c * dim(p.sa, du);
    ob += c * dim(p.sb, du);
  }
  return vec2u(oa, ob);
}

// ---- unary: out = f(a) ----------------------------------------------------------


@compute @workgroup_size(WG)
fn relu(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = max(a[i], 0.0);
}

@compute @workgroup_size(WG)
fn neg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = -a[i];
}

@compute @workgroup_size(WG)
fn exp_(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = exp(a[i]);
}

@compute @workgroup_size(WG)
fn log_(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = log(a[i]);
}

@compute @workgroup_size(WG)
fn sqrt_(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = sqrt(a[i]);
}

@compute @workgroup_size(WG)
fn square(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = a[i] * a[i];
}

@compute @workgroup_size(WG)
fn sign_(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = sign(a[i]);
}

// out = alpha * a + beta
@compute @workgroup_size(WG)
fn affine(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.alpha * a[i] + p.beta;
}

// out = clamp(a, alpha, beta)
@compute @workgroup_size(WG)
fn clamp_(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = clamp(a[i], p.alpha, p.beta);
}

@compute @workgroup_size(WG)
fn fill(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.alpha;
}

// out += alpha * a (gradient accumulation, SGD-style updates)
@compute @workgroup_size(WG)
fn axpy(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = out[i] + p.alpha * a[i];
}

// ---- binary with broadcasting: out = a op b ----------------------------------------

@compute @workgroup_size(WG)
fn add(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = operand_offsets(i);
  out[i] = a[o.x] + b[o.y];
}

@compute @workgroup_size(WG)
fn sub(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = operand_offsets(i);
  out[i] = a[o.x] - b[o.y];
}

@compute @workgroup_size(WG)
fn mul(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = operand_offsets(i);
  out[i] = a[o.x] * b[o.y];
}

@compute @workgroup_size(WG)
fn div(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = operand_offsets(i);
  out[i] = a[o.x] / b[o.y];
}

// Gradient of relu: out = b where a > 0 (a = the relu's input, b = upstream gradient).
@compute @workgroup_size(WG)
fn relu_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let o = operand_offsets(i);
  out[i] = select(0.0, b[o.y], a[o.x] > 0.0);
}
