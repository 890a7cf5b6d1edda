// Optimizer updates, one invocation per parameter element, PyTorch's update rules.
// Per-step scalars (learning rate, bias corrections) come in a uniform shared by every
// parameter of the step; the element count is the binding's own length.

override WG: u32 = 256u;

// struct AdamParams, struct SgdParams: declared once in kernels/optimizer.ts, inserted at load.

@group(0) @binding(0) var<storage, read_write> param: array<f32>;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> state1: array<f32>;  // adam: m; sgd: momentum buffer
@group(0) @binding(3) var<storage, read_write> state2: array<f32>;  // adam: v
@group(0) @binding(4) var<uniform> adam_p: AdamParams;
@group(0) @binding(5) var<uniform> sgd_p: SgdParams;

// g += wd * p; m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2;
// p -= step_size * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
@compute @workgroup_size(WG)
fn adam(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= arrayLength(&param)) { return; }
  let w = param[i];
  let g = grad[i] + adam_p.weight_decay * w;
  let m = adam_p.beta1 * state1[i] + (1.0 - adam_p.beta1) * g;
  let v = adam_p.beta2 * state2[i] + (1.0 - adam_p.beta2) * g * g;
  state1[i] = m;
  state2[i] = v;
  let denom = sqrt(v) * adam_p.inv_sqrt_bc2 + adam_p.eps;
  param[i] = w - adam_p.step_size * m / denom;
}

// g += wd * p; p -= lr * g.
@compute @workgroup_size(WG)
fn sgd(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= arrayLength(&param)) { return; }
  let w = param[i];
  param[i] = w - sgd_p.lr * (grad[i] + sgd_p.weight_decay * w);
}

// g += wd * p; buf = momentum * buf + g (dampening 0; buf starts at 0, so the first
// step sets buf = g as PyTorch does); p -= lr * buf.
@compute @workgroup_size(WG)
fn sgd_momentum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= arrayLength(&param)) { return; }
  let w = param[i];
  let d = sgd_p.momentum * state1[i] + (grad[i] + sgd_p.weight_decay * w);
  state1[i] = d;
  param[i] = w - sgd_p.lr * d;
}
