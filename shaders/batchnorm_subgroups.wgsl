enable subgroups;

// What batchnorm's per-segment sums need on adapters with the `subgroups` feature. Their
// entries (partial_moments_sg, partial_grad_sg) are generated from the same
// table as the one-invocation-per-segment ones (kernels/batchnorm.ts) and batchnorm.wgsl is
// appended, so they share its bindings, Params and segment().
//
// There one invocation walks a whole segment, which suits CPU adapters (no barriers) but on
// a GPU makes neighbouring invocations read addresses a segment apart. Here one workgroup
// sums one segment: invocation i reads values i, i + WG, i + 2 WG, ... (neighbours read
// neighbours), subgroupAdd totals each subgroup in registers, and the subgroup totals meet
// in workgroup memory. Subgroups are taken to be runs of consecutive invocation indices
// (lid / subgroup_size names one), as every implementation lays out a 1D workgroup.

// One slot per subgroup: WG / 4 covers subgroups as small as 4 invocations.
var<workgroup> share: array<vec2f, 64>;

// The workgroup's total of (a, b), in invocation 0 (the others get partial values).
fn workgroup_sum(v: vec2f, lid: u32, lane: u32, size: u32) -> vec2f {
  let s = vec2f(subgroupAdd(v.x), subgroupAdd(v.y));
  if (lane == 0u) { share[lid / size] = s; }
  workgroupBarrier();
  var total = vec2f(0.0);
  if (lid == 0u) {
    for (var k = 0u; k < (WG + size - 1u) / size; k++) { total += share[k]; }
  }
  return total;
}

// The segment of workgroup w, or none past the last one (the whole workgroup leaves together).
fn segment_of_workgroup(wid: vec3u, nwg: vec3u) -> u32 {
  return wid.y * nwg.x + wid.x;
}
