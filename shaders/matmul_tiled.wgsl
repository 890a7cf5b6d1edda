// Batched C[b] = op(A[b]) @ op(B[b]) with workgroup-shared tiles (the GPU way; matmul.wgsl
// is the barrier-free one software adapters prefer): a workgroup of 16 x 16 invocations
// computes a 64 x 64 tile of C, each invocation a 4 x 4 block in registers. K is walked 16
// at a time: the workgroup loads a 64 x 16 slab of op(A) and a 16 x 64 slab of op(B) into
// workgroup memory, one vec4 of each per invocation (one vec4 load where the rows are
// contiguous and aligned: VEC_A for A untransposed with K % 4 == 0, VEC_B for B untransposed
// with N % 4 == 0), and slab_fma (shaders/common) multiplies them.

override TA: bool = false;
override TB: bool = false;
override VEC_A: bool = false;
override VEC_B: bool = false;

// struct Params: declared once in kernels/matmul.ts (MATMUL_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> A: array<f32>;
@group(0) @binding(1) var<storage, read> B: array<f32>;
@group(0) @binding(2) var<storage, read_write> C: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> A4: array<vec4f>;
@group(0) @binding(5) var<storage, read> B4: array<vec4f>;

var<workgroup> slabA: array<vec4f, 256>;
var<workgroup> slabB: array<vec4f, 256>;

fn a_at(base: u32, row: u32, k: u32) -> f32 {
  if (row >= p.M || k >= p.K) { return 0.0; }
  if (TA) { return A[base + k * p.M + row]; }
  return A[base + row * p.K + k];
}

fn b_at(base: u32, k: u32, col: u32) -> f32 {
  if (col >= p.N || k >= p.K) { return 0.0; }
  if (TB) { return B[base + col * p.K + k]; }
  return B[base + k * p.N + col];
}

@compute @workgroup_size(256)
fn matmul_tiled(@builtin(workgroup_id) wid: vec3u, @builtin(local_invocation_index) lid: u32) {
  let batch = wid.z;
  let row0 = wid.y * 64u;
  let col0 = wid.x * 64u;
  let baseA = batch * p.strideA;
  let baseB = batch * p.strideB;
  // This invocation loads slab vec4s A[aRow, k0 + 4 aQuad ..] and B[k0 + bRow, 4 bQuad ..],
  // and computes C's rows row0 + 4 ty .., columns col0 + 4 tx ...
  let aRow = row0 + lid / 4u;
  let aQuad = lid % 4u;
  let bRow = lid / 16u;
  let bCol = col0 + (lid % 16u) * 4u;
  let ty = lid / 16u;
  let tx = lid % 16u;
  var acc: array<vec4f, 4>;
  for (var k0 = 0u; k0 < p.K; k0 += 16u) {
    let ka = k0 + aQuad * 4u;
    if (VEC_A) {
      let ok = aRow < p.M && ka < p.K;
      slabA[lid] = select(vec4f(0.0), A4[select(0u, (baseA + aRow * p.K + ka) / 4u, ok)], ok);
    } else {
      slabA[lid] = vec4f(a_at(baseA, aRow, ka), a_at(baseA, aRow, ka + 1u), a_at(baseA, aRow, ka + 2u), a_at(baseA, aRow, ka + 3u));
    }
    let kb = k0 + bRow;
    if (VEC_B) {
      let ok = bCol < p.N && kb < p.K;
      slabB[lid] = select(vec4f(0.0), B4[select(0u, (baseB + kb * p.N + bCol) / 4u, ok)], ok);
    } else {
      slabB[lid] = vec4f(b_at(baseB, kb, bCol), b_at(baseB, kb, bCol + 1u), b_at(baseB, kb, bCol + 2u), b_at(baseB, kb, bCol + 3u));
    }
    workgroupBarrier();
    slab_fma(&acc, ty, tx, 16u);
    workgroupBarrier();
  }
  if (batch >= p.batch) { return; }
  let baseC = batch * p.strideC;
  for (var i = 0u; i < 4u; i++) {
    let row = row0 + ty * 4u + i;
    for (var j = 0u; j < 4u; j++) {
      let col = col0 + tx * 4u + j;
      if (row < p.M && col < p.N) { C[baseC + row * p.N + col] = acc[i][j]; }
    }
  }
}
