// Fills a buffer with one 32-bit pattern. Tests poison fresh outputs with a NaN so an
// element a kernel forgets to write cannot pass for a correct one.
override WG: u32 = 256u;

struct Params { n: u32, bits: u32, _a: u32, _b: u32 }

@group(0) @binding(0) var<storage, read_write> out: array<u32>;
@group(0) @binding(1) var<uniform> p: Params;

@compute @workgroup_size(WG)
fn poison(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i < p.n) { out[i] = p.bits; }
}
