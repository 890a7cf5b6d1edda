// Batched C[b] = op(A[b]) @ op(B[b]), op = optional transpose (TA, TB), C is M x N.
// Register tiling without barriers: each invocation computes a 4 x 4 block of C, so
// each loaded value feeds four multiply-adds. (Software adapters run barrier-free code
// faster; matmul_tiled.wgsl is the shared-memory variant for real GPUs.)

override TA: bool = false;
override TB: bool = false;
override WGX: u32 = 8u;
override WGY: u32 = 8u;

// struct Params: declared once in kernels/matmul.ts (MATMUL_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn load_a(base: u32, row: u32, k: u32) -> f32 {
  if (row >= p.M) { return 0.0; }
  if (TA) { return A[base + k * p.M + row]; }
  return A[base + row * p.K + k];
}

fn load_b(base: u32, k: u32, col: u32) -> f32 {
  if (col >= p.N) { return 0.0; }
  if (TB) { return B[base + col * p.K + k]; }
  return B[base + k * p.N + col];
}

@compute @workgroup_size(WGX, WGY)
fn matmul(@builtin(global_invocation_id) gid: vec3u) {
  let row0 = gid.y * 4u;
  let col0 = gid.x * 4u;
  let batch = gid.z;
  if (row0 >= p.M || col0 >= p.N || batch >= p.batch) { return; }
  let baseA = batch * p.strideA;
  let baseB = batch * p.strideB;
  var acc: array<vec4f, 4>;
  for (var k = 0u; k < p.K; k++) {
    let a = vec4f(load_a(baseA, row0, k), load_a(baseA, row0 + 1u, k), load_a(baseA, row0 + 2u, k), load_a(baseA, row0 + 3u, k));
    let b = vec4f(load_b(baseB, k, col0), load_b(baseB, k, col0 + 1u), load_b(baseB, k, col0 + 2u), load_b(baseB, k, col0 + 3u));
    acc[0] += a.x * b;
    acc[1] += a.y * b;
    acc[2] += a.z * b;
    acc[3] += a.w * b;
  }
  let baseC = batch * p.strideC;
  for (var r = 0u; r < 4u; r++) {
    let row = row0 + r;
    if (row >= p.M) { break; }
    for (var c = 0u; c < 4u; c++) {
      let col = col0 + c;
      if (col < p.N) { C[baseC + row * p.N + col] = acc[r][c]; }
    }
  }
}
