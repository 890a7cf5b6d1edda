// out = x with its axes permuted (transpose is the 2D case). One invocation per output
// element; the launcher gives, for each output axis, its size and the input stride.

override WG: u32 = 256u;
// The rank: a constant of the pipeline, so the index loop unrolls with constant indices into
// the uniform (as in elementwise.wgsl: a dynamically indexed uniform read is a per-lane loop
// on llvmpipe).
override RANK: u32 = 1u;

// struct Params: declared once in kernels/permute.ts (PERMUTE_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn permute(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.n) { return; }
  var rem = i;
  var src = 0u;
  for (var d = i32(RANK) - 1; d >= 0; d--) {
    let du = u32(d);
    let size = p.shape[du / 4u][du % 4u];
    src += (rem % size) * p.stride[du / 4u][du % 4u];
    rem = rem / size;
  }
  out[i] = x[src];
}
