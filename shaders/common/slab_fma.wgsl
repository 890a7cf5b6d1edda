// One depth slab of a 64 x 64 GEMM tile with workgroup-shared operands (conv2d_gemm.wgsl,
// matmul_tiled.wgsl): the 4 x 4 block of `acc` at rows ty*4.., columns tx*4.. gains
// slabA (64 rows x 16 depth, row-major as 4 vec4s per row) @ slabB (16 depth rows x 64
// columns, 16 vec4s per row), both `var<workgroup> array<vec4f, 256>` of the calling shader.
// Every vec4 read from workgroup memory feeds four vec4 multiply-adds.
fn slab_fma(acc: ptr<function, array<vec4f, 4>>, ty: u32, tx: u32) {
  for (var kq = 0u; kq < 4u; kq++) {
    let b0 = slabB[(kq * 4u) * 16u + tx];
    let b1 = slabB[(kq * 4u + 1u) * 16u + tx];
    let b2 = slabB[(kq * 4u + 2u) * 16u + tx];
    let b3 = slabB[(kq * 4u + 3u) * 16u + tx];
    for (var i = 0u; i < 4u; i++) {
      let a = slabA[(ty * 4u + i) * 4u + kq];
      (*acc)[i] = fma(vec4f(a.w), b3, fma(vec4f(a.z), b2, fma(vec4f(a.y), b1, fma(vec4f(a.x), b0, (*acc)[i]))));
    }
  }
}
