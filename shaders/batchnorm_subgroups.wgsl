enable subgroups;

// Batchnorm's per-segment sums for adapters with the `subgroups` feature: the twins of
// partial_sum, partial_sqdev and partial_grad in batchnorm.wgsl, whose source is appended to
// this one (kernels/batchnorm.ts), so they share its bindings, Params and segment().
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

@compute @workgroup_size(WG)
fn partial_sum_sg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
                  @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32) {
  let t = segment_of_workgroup(wid, nwg);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let start = p.base0 + seg.start;
  var s = 0.0;
  for (var i = lid; i < seg.len; i += WG) { s += x[start + i]; }
  let total = workgroup_sum(vec2f(s, 0.0), lid, lane, size);
  if (lid == 0u) { partial[seg.slot] = total.x; }
}

// Deviations from the first pass's mean, as partial_sqdev: partial[0] = sums of d, partial[1] of d * d.
@compute @workgroup_size(WG)
fn partial_sqdev_sg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
                    @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32) {
  let t = segment_of_workgroup(wid, nwg);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let start = p.base0 + seg.start;
  let mean0 = stats[seg.c];
  var s = vec2f(0.0);
  for (var i = lid; i < seg.len; i += WG) {
    let d = x[start + i] - mean0;
    s += vec2f(d, d * d);
  }
  let total = workgroup_sum(s, lid, lane, size);
  if (lid == 0u) { store_pair(seg.slot, total.x, total.y); }
}

// As partial_grad: partial[0] = sums of g, partial[1] = sums of g * xhat (g gated by the fused ReLU).
@compute @workgroup_size(WG)
fn partial_grad_sg(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32,
                   @builtin(subgroup_invocation_id) lane: u32, @builtin(subgroup_size) size: u32) {
  let t = segment_of_workgroup(wid, nwg);
  if (t >= p.count * p.C * p.S) { return; }
  let seg = segment(t);
  let xs = p.base0 + seg.start;
  let gs = p.base1 + seg.start;
  let mean = stats[seg.c];
  let invstd = stats[p.C + seg.c];
  var s = vec2f(0.0);
  for (var i = lid; i < seg.len; i += WG) {
    let xi = x[xs + i];
    let gi = gate(g[gs + i], xi, seg.c);
    s += vec2f(gi, gi * (xi - mean) * invstd);
  }
  let total = workgroup_sum(s, lid, lane, size);
  if (lid == 0u) { store_pair(seg.slot, total.x, total.y); }
}
