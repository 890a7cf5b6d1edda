// Elementwise kernels on vec4s, for operands that share one layout and a length that is a
// multiple of 4 (the launcher's choice; broadcasting and odd lengths use elementwise.wgsl).
// On CPU adapters a storage load or store costs about the same for one value or four, so
// these move memory-bound maps about 3x faster there. Same ops as elementwise.wgsl (one
// table), entry names with a 4, same Params (n counts vec4s here).

override WG: u32 = 256u;

// struct Params: declared once in kernels/elementwise.ts (ELEMENTWISE_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> a: array<vec4f>;
@group(0) @binding(1) var<storage, read> b: array<vec4f>;
@group(0) @binding(2) var<storage, read_write> out: array<vec4f>;
@group(0) @binding(3) var<uniform> p: Params;

// The entry points (`relu4`, `add4`, ...) are generated from the op table in
// kernels/elementwise.ts and appended at load.
