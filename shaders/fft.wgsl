// Batched FFT (Stockham autosort, radix 4 and 2) and the STFT power-spectrum path.
//
// A complex FFT of size n over `batch` rows is a sequence of passes; each pass reads
// one buffer and writes the other (no barriers, no workgroup memory). In a pass of
// radix R with stride ns (the product of the radices of the passes before it), thread j
// of a row takes the R inputs j + r*n/R, twists them by w^(r * (j mod ns)) with
// w = exp(-2 pi i / (ns*R)), does an R-point DFT and writes output r to
// (j / ns) * ns * R + (j mod ns) + r * ns. After the last pass the row is in natural order.
//
// Twiddles come from a table exp(-2 pi i k / T), k < T, computed in float64 on the CPU
// (WGSL's sin/cos only promise an absolute error of 2^-11); a pass indexes it with step
// T / (ns*R).
//
// STFT: a real frame of nFft samples is packed as nFft/2 complex values
// z[m] = x[2m] + i x[2m+1] (frame_pack), transformed, and split into the spectrum of the
// real frame (split_power, |X_k|^2, or |X_k| with magnitude = 1; the magnitude recipe's
// 1 / sqrt(sum w^2) is folded into the window): X_k = E_k + W^k O_k with E_k = (Z_k + conj Z_{h-k}) / 2 and
// O_k = (Z_k - conj Z_{h-k}) / 2i, W = exp(-2 pi i / nFft), h = nFft/2.

override WG: u32 = 256u;

// struct Params: declared once in kernels/fft.ts (FFT_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> src: array<vec2f>;
@group(0) @binding(1) var<storage, read_write> dst: array<vec2f>;
@group(0) @binding(2) var<storage, read> tw: array<vec2f>;
@group(0) @binding(3) var<uniform> p: Params;
@group(0) @binding(4) var<storage, read> signal: array<f32>;
// Per utterance, 8 values: signal offset, signal length, shift, framed length,
// first frame, frames, first output row, output rows (see kernels/fft.ts).
@group(0) @binding(5) var<storage, read> utts: array<i32>;
@group(0) @binding(6) var<storage, read> window: array<f32>;
@group(0) @binding(7) var<storage, read_write> power: array<f32>;
// The utterance of each frame of the batch (a table lookup beats a search per sample).
@group(0) @binding(8) var<storage, read> frame_utt: array<i32>;

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

fn cmul(a: vec2f, b: vec2f) -> vec2f {
  return vec2f(a.x * b.x - a.y * b.y, a.x * b.y + a.y * b.x);
}

// -i * a
fn mul_neg_i(a: vec2f) -> vec2f {
  return vec2f(a.y, -a.x);
}

@compute @workgroup_size(WG)
fn radix2(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  // Sizes are powers of two: shifts and masks instead of integer division, which
  // software adapters cannot vectorise.
  let g = thread_index(wid, nwg, lid);
  let half_n = p.n >> 1u;
  if (g >= p.rows * half_n) { return; }
  let row = (g >> (p.log_n - 1u)) << p.log_n;
  let j = g & (half_n - 1u);
  let k = j & (p.ns - 1u);
  let v0 = src[row + j];
  let v1 = cmul(src[row + j + half_n], tw[k * p.tw_step]);
  let out = row + ((j >> p.log_ns) << (p.log_ns + 1u)) + k;
  dst[out] = v0 + v1;
  dst[out + p.ns] = v0 - v1;
}

@compute @workgroup_size(WG)
fn radix4(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let quarter = p.n >> 2u;
  if (g >= p.rows * quarter) { return; }
  let row = (g >> (p.log_n - 2u)) << p.log_n;
  let j = g & (quarter - 1u);
  let k = j & (p.ns - 1u);
  let t = k * p.tw_step;
  let v0 = src[row + j];
  let v1 = cmul(src[row + j + quarter], tw[t]);
  let v2 = cmul(src[row + j + 2u * quarter], tw[2u * t]);
  let v3 = cmul(src[row + j + 3u * quarter], tw[3u * t]);
  let a0 = v0 + v2;
  let a1 = v0 - v2;
  let a2 = v1 + v3;
  let a3 = mul_neg_i(v1 - v3);
  let out = row + ((j >> p.log_ns) << (p.log_ns + 2u)) + k;
  dst[out] = a0 + a2;
  dst[out + p.ns] = a1 + a3;
  dst[out + 2u * p.ns] = a0 - a2;
  dst[out + 3u * p.ns] = a1 - a3;
}

// Sample i of the framed signal of utterance u (zero outside it and outside the waveform).
fn framed_sample(u: u32, i: i32) -> f32 {
  let len = utts[u * 8u + 1u];
  let shift = utts[u * 8u + 2u];
  let framed = utts[u * 8u + 3u];
  let s = i + shift;
  if (i < 0 || i >= framed || s < 0 || s >= len) { return 0.0; }
  return signal[u32(utts[u * 8u] + s)];
}

// dst[f, m] = (x[2m] w[2m], x[2m+1] w[2m+1]) for frame f of this chunk, m < nFft/2.
@compute @workgroup_size(WG)
fn frame_pack(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let h = p.n_fft / 2u;
  if (g >= p.rows * h) { return; }
  let f = g >> (p.log_n);
  let m = g & (h - 1u);
  let frame = i32(p.frame_base + f);
  let u = u32(frame_utt[frame]);
  let t = frame - utts[u * 8u + 4u];
  let start = t * i32(p.hop) - i32(p.pad) + 2 * i32(m);
  dst[g] = vec2f(framed_sample(u, start) * window[2u * m], framed_sample(u, start + 1) * window[2u * m + 1u]);
}

// power[f, k] = |X_k|^2 (or |X_k|), k = 0..h, from the h-point complex FFT of the packed frame f.
// One invocation per (frame, k < h); the one with k = 0 also writes the Nyquist bin h,
// so the index splits with shifts (h is a power of two) rather than a division by h + 1.
fn split_bin(f: u32, k: u32, h: u32) -> f32 {
  let za = src[f * h + (k & (h - 1u))];
  let zb = src[f * h + ((h - k) & (h - 1u))];
  let e = vec2f(za.x + zb.x, za.y - zb.y) * 0.5;
  let o = vec2f(za.y + zb.y, zb.x - za.x) * 0.5;
  let x = e + cmul(tw[k], o);
  if (p.magnitude != 0u) { return sqrt(dot(x, x)); }
  return dot(x, x);
}

@compute @workgroup_size(WG)
fn split_power(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  let h = p.n_fft >> 1u;
  if (g >= p.rows * h) { return; }
  let f = g >> p.log_n;
  let k = g & (h - 1u);
  power[f * (h + 1u) + k] = split_bin(f, k, h);
  if (k == 0u) { power[f * (h + 1u) + h] = split_bin(f, h, h); }
}
