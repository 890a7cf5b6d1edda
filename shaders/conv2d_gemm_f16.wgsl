// The f16 twin of conv2d_gemm.wgsl's inputs (kernels/conv2d-gemm.ts prepends `enable f16;`
// and the `in_t = f16` aliases, and appends conv2d_gemm.wgsl): `to_f16` stores `depth` f32
// values from cvt_in (from element base0) as f16, two per 32-bit word, so the GEMM entries
// read f16 and add in f32. Compiled only on adapters with `shader-f16`.

@group(0) @binding(7) var<storage, read> cvt_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> cvt_out: array<vec2<f16>>;

@compute @workgroup_size(256)
fn to_f16(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = (wid.y * nwg.x + wid.x) * 256u + lid;
  if (2u * i >= p.depth) { return; }
  // An odd count's last word pairs its value with 0 (the index clamped: select reads both).
  let hi = select(0.0, cvt_in[p.base0 + min(2u * i + 1u, p.depth - 1u)], 2u * i + 1u < p.depth);
  cvt_out[i] = vec2<f16>(f16(cvt_in[p.base0 + 2u * i]), f16(hi));
}
