// Mel projection, dB or ln, per-utterance reference and the fit to a fixed number of rows.
//
//   mel_db     db[f, m] = 10 log10(max(sum_k W[m, k] P[f, k], amin)), summing only over
//              band m's non-zero bins (ranges[m]); with ln = 1: ln(sum + amin) (amin is
//              then the recipe's 1e-8)
//   row_max    rmax[f] = max_m db[f, m]
//   utt_max    ref[u] = max of rmax over utterance u's frames
//   fit_rows   out[o, m] = (max(db - ref, -top_db) + top_db) / top_db (with ln = 1: the
//              value itself) at row o of its utterance: the same frame ('none', 'crop'),
//              frame o mod frames ('tile'), or a linear interpolation between two frames
//              ('resize', align_corners=false, see reference.ts)
//   fit_rows_mapped  the same, reading frame i of the utterance from db row row_map[i]:
//              a long utterance computed in segments keeps only the rows its fit needs
// One invocation per output element, no barriers.

override WG: u32 = 256u;

// struct Params: declared once in kernels/mel.ts (MEL_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> power: array<f32>;
@group(0) @binding(1) var<storage, read> weights: array<f32>;
@group(0) @binding(2) var<storage, read> ranges: array<u32>;
@group(0) @binding(3) var<storage, read_write> db: array<f32>;
@group(0) @binding(4) var<uniform> p: Params;
@group(0) @binding(5) var<storage, read> db_in: array<f32>;
@group(0) @binding(6) var<storage, read_write> rmax: array<f32>;
@group(0) @binding(7) var<storage, read> rmax_in: array<f32>;
@group(0) @binding(8) var<storage, read_write> refs: array<f32>;
@group(0) @binding(9) var<storage, read> refs_in: array<f32>;
// Per utterance 8 values, as in fft.wgsl: [4] first frame, [5] frames, [6] first output row, [7] output rows.
@group(0) @binding(10) var<storage, read> utts: array<i32>;
@group(0) @binding(11) var<storage, read_write> out: array<f32>;
@group(0) @binding(12) var<storage, read> row_map: array<i32>;

fn thread_index(wid: vec3u, nwg: vec3u, lid: u32) -> u32 {
  return (wid.y * nwg.x + wid.x) * WG + lid;
}

@compute @workgroup_size(WG)
fn mel_db(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  if (g >= p.frames * p.n_mels) { return; }
  let f = g / p.n_mels;
  let m = g % p.n_mels;
  let row = f * p.n_bins;
  let w = m * p.n_bins;
  var s = 0.0;
  for (var k = ranges[2u * m]; k < ranges[2u * m + 1u]; k++) {
    s += weights[w + k] * power[row + k];
  }
  if (p.ln != 0u) {
    db[g] = log(s + p.amin);
    return;
  }
  db[g] = 10.0 * log2(max(s, p.amin)) * 0.30102999566398120;
}

@compute @workgroup_size(WG)
fn row_max(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let f = thread_index(wid, nwg, lid);
  if (f >= p.frames) { return; }
  var best = db_in[f * p.n_mels];
  for (var m = 1u; m < p.n_mels; m++) { best = max(best, db_in[f * p.n_mels + m]); }
  rmax[f] = best;
}

@compute @workgroup_size(WG)
fn utt_max(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let u = thread_index(wid, nwg, lid);
  if (u >= p.n_utts) { return; }
  let first = u32(utts[u * 8u + 4u]);
  let count = u32(utts[u * 8u + 5u]);
  var best = rmax_in[first];
  for (var t = 1u; t < count; t++) { best = max(best, rmax_in[first + t]); }
  refs[u] = best;
}

// The utterance that output row o belongs to: the last u with first output row <= o.
fn utterance_of_row(o: i32) -> u32 {
  var lo = 0u;
  var hi = p.n_utts;
  while (hi - lo > 1u) {
    let mid = (lo + hi) / 2u;
    if (utts[mid * 8u + 6u] <= o) { lo = mid; } else { hi = mid; }
  }
  return lo;
}

fn scaled(v: f32, r: f32) -> f32 {
  return (max(v - r, -p.top_db) + p.top_db) / p.top_db;
}

// Where output row o comes from: frames i0, i1 of the group (first frame + index in the
// utterance) mixed with weight lambda, and its utterance u.
struct Source {
  i0: u32,
  i1: u32,
  lambda: f32,
  u: u32,
}

fn fit_source(o: u32) -> Source {
  let u = utterance_of_row(i32(o));
  let first = u32(utts[u * 8u + 4u]);
  let frames = u32(utts[u * 8u + 5u]);
  let i = o - u32(utts[u * 8u + 6u]);
  if (p.resize == 0u) {
    var j = i;
    if (p.tile != 0u) { j = i % frames; }
    return Source(first + j, first + j, 0.0, u);
  }
  let rows = f32(utts[u * 8u + 7u]);
  let src = max(0.0, (f32(i) + 0.5) * (f32(frames) / rows) - 0.5);
  let i0 = min(u32(floor(src)), frames - 1u);
  let i1 = min(i0 + 1u, frames - 1u);
  return Source(first + i0, first + i1, src - f32(i0), u);
}

fn compressed(v: f32, r: f32) -> f32 {
  if (p.ln != 0u) { return v; }
  return scaled(v, r);
}

// The output value from the two source values a (frame i0) and b (frame i1).
fn fit_value(s: Source, a: f32, b: f32) -> f32 {
  let r = refs_in[s.u];
  if (p.resize == 0u) { return compressed(a, r); }
  let x = compressed(a, r);
  let y = compressed(b, r);
  return (1.0 - s.lambda) * x + s.lambda * y;
}

// Output row o of the group goes to out[out_offset + o * n_mels + m] (the launcher binds a window).
@compute @workgroup_size(WG)
fn fit_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  if (g >= p.out_rows * p.n_mels) { return; }
  let m = g % p.n_mels;
  let s = fit_source(g / p.n_mels);
  out[p.out_offset + g] = fit_value(s, db_in[s.i0 * p.n_mels + m], db_in[s.i1 * p.n_mels + m]);
}

@compute @workgroup_size(WG)
fn fit_rows_mapped(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let g = thread_index(wid, nwg, lid);
  if (g >= p.out_rows * p.n_mels) { return; }
  let m = g % p.n_mels;
  let s = fit_source(g / p.n_mels);
  let a = u32(row_map[s.i0]);
  let b = u32(row_map[s.i1]);
  out[p.out_offset + g] = fit_value(s, db_in[a * p.n_mels + m], db_in[b * p.n_mels + m]);
}
