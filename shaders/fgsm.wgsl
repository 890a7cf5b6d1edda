// Sign-gradient attacks on the input features.
//   fgsm:     out = clamp(x + eps * sign(g), lo, hi)
//   pgd_step: out = clamp(clamp(x + step * sign(g), x0 - eps, x0 + eps), lo, hi)
// (lo, hi) is the valid feature range [0, beta]. sign(0) = 0: a zero gradient moves nothing.

override WG: u32 = 256u;

struct Params {
  n: u32,
  eps: f32,
  step: f32,
  lo: f32,
  hi: f32,
  _a: u32,
  _b: u32,
  _c: u32,
}

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> x0: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn fgsm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  out[i] = clamp(x[i] + p.eps * sign(g[i]), p.lo, p.hi);
}

@compute @workgroup_size(WG)
fn pgd_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * WG + lid;
  if (i >= p.n) { return; }
  let moved = x[i] + p.step * sign(g[i]);
  let projected = clamp(moved, x0[i] - p.eps, x0[i] + p.eps);
  out[i] = clamp(projected, p.lo, p.hi);
}
