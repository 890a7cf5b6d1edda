enable subgroups;

// The sum of conv2d_gemm.wgsl's split-K partial sums for adapters with `subgroups` (its
// source is appended to this one by kernels/conv2d-gemm.ts, so they share bindings, Params
// and a_at): out[col] = sum over rows r of in_a[r * cols + col], partial sums [rows, cols].
// One workgroup of 64 sums 4 neighbouring columns: invocation i adds rows i, i + 64, ...,
// subgroupAdd totals each subgroup in registers, and the first invocation of each subgroup
// hands its total over in workgroup memory (a slot per invocation, so nothing is assumed of
// how subgroups are laid out). The plain path sums them with kernels/reduce.ts.

var<workgroup> subtotals: array<vec4f, 64>;

@compute @workgroup_size(64)
fn sum_partials(
  @builtin(workgroup_id) wid: vec3u,
  @builtin(num_workgroups) nwg: vec3u,
  @builtin(local_invocation_index) lid: u32,
  @builtin(subgroup_invocation_id) lane: u32,
) {
  let col0 = (wid.y * nwg.x + wid.x) * 4u;
  if (col0 >= p.cols) { return; }
  var s = vec4f(0.0);
  for (var r = lid; r < p.rows; r += 64u) {
    let i = r * p.cols + col0;
    s += vec4f(a_at(i, true), a_at(i + 1u, col0 + 1u < p.cols), a_at(i + 2u, col0 + 2u < p.cols), a_at(i + 3u, col0 + 3u < p.cols));
  }
  let total = subgroupAdd(s);
  subtotals[lid] = select(vec4f(0.0), total, lane == 0u);
  workgroupBarrier();
  if (lid == 0u) {
    var sum = vec4f(0.0);
    for (var k = 0u; k < 64u; k++) { sum += subtotals[k]; }
    for (var j = 0u; j < 4u; j++) {
      if (col0 + j < p.cols) { out[col0 + j] = sum[j]; }
    }
  }
}
