// Sign-gradient attacks on the input features.
//   fgsm:     out = clip(x + eps * sign(g))
//   pgd_step: out = clip(clamp(x + step * sign(g), x0 - eps, x0 + eps))
// clip is, by p.ball:
//   0 'range': clamp(v, lo, hi), the valid feature range [0, beta] (the `db` recipe);
//   1 'ball':  clamp(v, c + lo, c + hi) with c the clean input (x for fgsm, x0 for pgd_step)
//              and (lo, hi) = (-beta, beta): the seed's equation 2, x_adv in [x - beta, x + beta].
// sign(0) = 0: a zero gradient moves nothing.

override WG: u32 = 256u;

// struct Params: declared once in kernels/fgsm.ts (FGSM_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read> g: array<f32>;
@group(0) @binding(2) var<storage, read> x0: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;

fn clip(v: f32, clean: f32) -> f32 {
  if (p.ball != 0u) { return clamp(v, clean + p.lo, clean + p.hi); }
  return clamp(v, p.lo, p.hi);
}

@compute @workgroup_size(WG)
fn fgsm(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  out[i] = clip(x[i] + p.eps * sign(g[i]), x[i]);
}

@compute @workgroup_size(WG)
fn pgd_step(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  let moved = x[i] + p.step * sign(g[i]);
  let projected = clamp(moved, x0[i] - p.eps, x0[i] + p.eps);
  out[i] = clip(projected, x0[i]);
}
