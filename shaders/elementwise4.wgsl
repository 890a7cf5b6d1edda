// Elementwise kernels on vec4s, for operands that share one layout and a length that is a
// multiple of 4 (the launcher's choice; broadcasting and odd lengths use elementwise.wgsl).
// On CPU adapters a storage load or store costs about the same for one value or four, so
// these move memory-bound maps about 3x faster there. Same entry names with a 4, same Params
// (n counts vec4s here).

override WG: u32 = 256u;

// struct Params: declared once in kernels/elementwise.ts (ELEMENTWISE_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn relu4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = max(a[i], vec4f(0.0));
}

@compute @workgroup_size(WG)
fn affine4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = p.alpha * a[i] + p.beta;
}

@compute @workgroup_size(WG)
fn clamp_4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = clamp(a[i], vec4f(p.alpha), vec4f(p.beta));
}

@compute @workgroup_size(WG)
fn fill4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = vec4f(p.alpha);
}

@compute @workgroup_size(WG)
fn axpy4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = out[i] + p.alpha * a[i];
}

@compute @workgroup_size(WG)
fn add4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
}

@compute @workgroup_size(WG)
fn sub4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = a[i] - b[i];
}

@compute @workgroup_size(WG)
fn mul4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = a[i] * b[i];
}

// Gradient of relu: out = b where a > 0.
@compute @workgroup_size(WG)
fn relu_backward4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = select(vec4f(0.0), b[i], a[i] > vec4f(0.0));
}
