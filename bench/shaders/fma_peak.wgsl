// The adapter's arithmetic peak: each invocation runs 16 independent chains of fused
// multiply-adds in registers (no memory traffic but one store), so the rate is the
// adapter's, not a kernel's. 2 FLOP per fma, 16 chains x ITERATIONS per invocation.
override ITERATIONS: u32 = 1024u;

@group(0) @binding(0) var<storage, read_write> out: array<vec4f>;

@compute @workgroup_size(64)
fn fma_peak(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = gid.x + gid.y * nwg.x * 64u;
  let m = vec4f(0.999, 0.998, 0.997, 0.996);
  var a = vec4f(f32(i) * 1e-6);
  var b = a + 0.25;
  var c = a + 0.5;
  var d = a + 0.75;
  for (var k = 0u; k < ITERATIONS; k++) {
    a = fma(a, m, vec4f(0.001));
    b = fma(b, m, vec4f(0.001));
    c = fma(c, m, vec4f(0.001));
    d = fma(d, m, vec4f(0.001));
  }
  out[i] = a + b + c + d;
}
