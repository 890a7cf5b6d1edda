// Reductions along one axis of a tensor seen as [outer, n, inner] -> [outer, inner].
// One invocation per output element, no barriers (the launcher splits very long axes
// into two passes so a lone invocation never walks millions of elements).

override WG: u32 = 256u;

// struct Params: declared once in kernels/reduce.ts (REDUCE_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> x: array<f32>;
@group(0) @binding(1) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> arg: array<i32>;
@group(0) @binding(3) var<uniform> p: Params;

fn out_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

// out[o, c, i] = scale * sum of x[o, k, i] for k in chunk c of the axis
@compute @workgroup_size(WG)
fn reduce_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = out_index(wid, nwg, lid);
  if (j >= p.outer * p.chunks * p.inner) { return; }
  let i = j % p.inner;
  let c = (j / p.inner) % p.chunks;
  let o = j / (p.inner * p.chunks);
  let base = o * p.n * p.inner + i;
  let end = min(p.n, (c + 1u) * p.chunk);
  // Two partial sums keep the rounding error of long rows smaller.
  var s0 = 0.0;
  var s1 = 0.0;
  var k = c * p.chunk;
  for (; k + 1u < end; k += 2u) {
    s0 += x[base + k * p.inner];
    s1 += x[base + (k + 1u) * p.inner];
  }
  if (k < end) { s0 += x[base + k * p.inner]; }
  out[j] = p.scale * (s0 + s1);
}

// out = max over the axis, arg = its first position
@compute @workgroup_size(WG)
fn reduce_max(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let j = out_index(wid, nwg, lid);
  if (j >= p.outer * p.inner) { return; }
  let o = j / p.inner;
  let i = j % p.inner;
  let base = o * p.n * p.inner + i;
  var best = x[base];
  var at = 0u;
  for (var k = 1u; k < p.n; k++) {
    let v = x[base + k * p.inner];
    if (v > best) { best = v; at = k; }
  }
  out[j] = best;
  arg[j] = i32(at);
}

// Gradient of reduce_max: x holds the upstream gradient [outer, inner]; out is
// [outer, n, inner] and gets it at the argmax position, zero elsewhere.
@compute @workgroup_size(WG)
fn max_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let e = out_index(wid, nwg, lid);
  if (e >= p.outer * p.n * p.inner) { return; }
  let i = e % p.inner;
  let k = (e / p.inner) % p.n;
  let o = e / (p.inner * p.n);
  let j = o * p.inner + i;
  out[e] = select(0.0, x[j], u32(arg[j]) == k);
}
