// Softmax and softmax cross-entropy over the rows of logits [N, C].
//
// Numerical stability: each row is shifted by its maximum m, and the per-row statistics
// kept for later passes are m and log(sum_j exp(x_j - m)) *separately*: folding them into
// one log-sum-exp would lose log(sum) entirely next to a huge m (1e30 + 0.69 == 1e30 in
// float32). WGSL makes no promises about NaN/Inf, so no kernel ever forms inf - inf: a
// logit equal to the row maximum gets the shift 0 by selection, not by subtraction.
//
// Labels are int32 on the GPU, so the CPU cannot check them without a readback. The
// kernels never index with an unchecked label: a label outside [0, C) reads nothing,
// gives that example a loss of 0 and a gradient of 0 (the mean still divides by N).

override WG: u32 = 64u;

// struct Params: declared once in kernels/softmax_xent.ts (XENT_PARAMS), inserted at load.

@group(0) @binding(0) var<storage, read> logits: array<f32>;
@group(0) @binding(1) var<storage, read> labels: array<i32>;
@group(0) @binding(2) var<storage, read_write> stats: array<vec2f>;  // per row: (max, log of the shifted sum)
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(4) var<storage, read> grad: array<f32>;
@group(0) @binding(5) var<uniform> p: Params;

// x - m without ever computing inf - inf (x == m covers m = +inf).
fn shifted(x: f32, m: f32) -> f32 {
  return select(x - m, 0.0, x == m);
}

fn row_stats(row: u32) -> vec2f {
  let base = row * p.cols;
  var m = logits[base];
  for (var j = 1u; j < p.cols; j++) { m = max(m, logits[base + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.cols; j++) { s += exp(shifted(logits[base + j], m)); }
  // s >= 1 (the maximum contributes exp(0)), so the log is finite.
  return vec2f(m, log(s));
}

fn label_of(row: u32) -> i32 {
  let y = labels[row];
  return select(-1, y, y >= 0 && y < i32(p.cols));
}

// One invocation per row: statistics only (for softmax).
@compute @workgroup_size(WG)
fn softmax_stats(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid);
  if (row >= p.rows) { return; }
  stats[row] = row_stats(row);
}

// One invocation per row: statistics and the example's loss -log softmax(x)[y] = log(s) - (x_y - m).
@compute @workgroup_size(WG)
fn xent_forward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let row = flat_index(wid, nwg, lid);
  if (row >= p.rows) { return; }
  let st = row_stats(row);
  stats[row] = st;
  let y = label_of(row);
  var loss = 0.0;
  if (y >= 0) {
    loss = st.y - shifted(logits[row * p.cols + u32(y)], st.x);
  }
  out[row] = loss;
}

fn probability(i: u32, row: u32) -> f32 {
  let st = stats[row];
  return exp(shifted(logits[i], st.x) - st.y);
}

// One invocation per element: probabilities from the row statistics.
@compute @workgroup_size(WG)
fn softmax_probs(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.rows * p.cols) { return; }
  out[i] = probability(i, i / p.cols);
}

// One invocation per element: d loss / d logit = (softmax - onehot(y)) * g * grad_scale.
@compute @workgroup_size(WG)
fn xent_backward(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u, @builtin(local_invocation_index) lid: u32) {
  let i = flat_index(wid, nwg, lid);
  if (i >= p.rows * p.cols) { return; }
  let row = i / p.cols;
  let y = label_of(row);
  if (y < 0) {
    out[i] = 0.0;
    return;
  }
  let onehot = select(0.0, 1.0, u32(y) == i % p.cols);
  let g = grad[select(0u, row, p.grad_per_row == 1u)] * p.grad_scale;
  out[i] = (probability(i, row) - onehot) * g;
}
