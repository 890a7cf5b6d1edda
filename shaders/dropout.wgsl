// Inverted dropout: out[i] = keep(i) ? x[i] / (1 - p) : 0.
//
// The mask is never stored: keep(i) is a counter-based hash of (seed, global index), so
// the backward pass runs this same kernel on the upstream gradient and gets the same mask.
// An element is kept when its 32-bit hash is >= threshold = floor(p * 2^32).

override WG: u32 = 256u;

// struct Params: declared once in kernels/dropout.ts (DROPOUT_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

// PCG-style integer hash (an LCG step and a random xorshift-multiply; a bijection on u32).
fn pcg(v: u32) -> u32 {
  let state = v * 747796405u + 2891336453u;
  let word = ((state >> ((state >> 28u) + 4u)) ^ state) * 277803737u;
  return (word >> 22u) ^ word;
}

// Two rounds mixing in the seed, so different seeds give unrelated masks, not shifted ones.
fn mask_hash(seed: u32, index: u32) -> u32 {
  return pcg(pcg(index ^ pcg(seed)) + seed);
}

@compute @workgroup_size(WG)
fn dropout(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= arrayLength(&out)) { return; }
  let keep = mask_hash(p.seed, p.base + i) >= p.threshold;
  out[i] = select(0.0, x[i] * p.scale, keep);
}
