// One depth slab of a GEMM tile with workgroup-shared operands (conv2d_gemm.wgsl,
// matmul_tiled.wgsl): the 4 x 4 block of `acc` at rows ty*4.., columns tx*4.. gains
// slabA (tile rows x 16 depth, row-major as 4 vec4s per row) @ slabB (16 depth rows x
// `quads` vec4s of columns), both `var<workgroup> array<vec4f, ...>` of the calling shader.
// Every vec4 read from workgroup memory feeds four vec4 multiply-adds.
fn slab_fma(acc: ptr<function, array<vec4f, 4>>, ty: u32, tx: u32, quads: u32) {
  for (var kq = 0u; kq < 4u; kq++) {
    let b0 = slabB[(kq * 4u) * quads + tx];
    let b1 = slabB[(kq * 4u + 1u) * quads + tx];
    let b2 = slabB[(kq * 4u + 2u) * quads + tx];
    let b3 = slabB[(kq * 4u + 3u) * quads + tx];
    for (var i = 0u; i < 4u; i++) {
      let a = slabA[(ty * 4u + i) * 4u + kq];
      (*acc)[i] = fma(vec4f(a.w), b3, fma(vec4f(a.z), b2, fma(vec4f(a.y), b1, fma(vec4f(a.x), b0, (*acc)[i]))));
    }
  }
}
