// Elementwise kernels on f32: bindings and broadcasting helpers. Unary maps, broadcasting
// binary maps, fill and in-place add are generated (kernels/elementwise.ts).
// One invocation per output element; the flat index folds a 2D grid of workgroups.
// Broadcasting: `RANK > 0` means out has shape p.shape and each operand is read through
// its own strides (0 on a broadcast axis). `RANK == 0` means all three share one layout.

override WG: u32 = 256u;
// The rank of the (collapsed) broadcast layout, 0 for operands that share the output's: a
// constant of the pipeline, so the index loop below unrolls with constant indices into the
// uniform (a loop over a rank read at run time ran 12x slower on llvmpipe than rank 0: every
// dynamically indexed uniform read is a per-lane loop there) and compiles out at rank 0.
override RANK: u32 = 0u;

// struct Params: declared once in kernels/elementwise.ts (ELEMENTWISE_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read> b: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;
@group(0) @binding(3) var<uniform> p: Params;

fn dim(v: array<vec4u, 2>, d: u32) -> u32 {
  return v[d / 4u][d % 4u];
}

// Offsets of output element i into a and b.
fn operand_offsets(i: u32) -> vec2u {
  if (RANK == 0u) { return vec2u(i, i); }
  var rem = i;
  var oa = 0u;
  var ob = 0u;
  for (var d = i32(RANK) - 1; d >= 0; d--) {
    let du = u32(d);
    let size = dim(p.shape, du);
    let c = rem % size;
    rem = rem / size;
    oa += c * dim(p.sa, du);
    ob += c * dim(p.sb, du);
  }
  return vec2u(oa, ob);
}

// The entry points (one per op: unary maps, affine, clamp, fill, axpy, broadcasting binary
// maps) are generated from the op table in kernels/elementwise.ts and appended at load.
