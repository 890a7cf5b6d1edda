// What one load costs on the adapter, beside one multiply-add: each invocation runs a loop
// of 256 steps doing one kind of operation, and the time is divided by the operations done.
// The first row is the same loop with no load (index arithmetic and the add): subtract it.
// On llvmpipe this is the cost model the conv kernels are built on: every load from any
// memory (storage, uniform, texture, workgroup) is a loop over the SIMD lanes, even where
// all lanes read one address, while a multiply-add is one instruction for all lanes. Usage:
//   node scripts/build.mjs && node dist/bench/load-cost.js [--runs 3]
import { createNodeEngine } from '../src/gpu/node.js';
import { benchArgs } from './lib.js';

const N = 1 << 20; // floats in the source buffer
const STEPS = 256;
const GROUPS = 4096; // x 64 invocations

const bodies: [string, string][] = [
  ['no load: index arithmetic and add only (baseline)', 'let j = (i * 7u + k * 13u) & MASK; acc += vec4f(f32(j));'],
  ['storage f32 (per-lane index)', 'acc.x += a[(i * 7u + k * 13u) & MASK];'],
  ['storage f32 (same index in a workgroup)', 'acc.x += a[(wid.x * 7u + k * 13u) & MASK];'],
  ['storage vec4 (per-lane index)', 'acc += a4[((i * 7u + k * 13u) & MASK) / 4u];'],
  ['uniform vec4 (per-lane index)', 'acc += u[(i * 7u + k * 13u) & 4095u];'],
  ['uniform vec4 (same index in a workgroup)', 'acc += u[(wid.x * 7u + k * 13u) & 4095u];'],
  ['texture rgba32float textureLoad (per-lane)', 'let j = (i * 7u + k * 13u) & 262143u; acc += textureLoad(t, vec2u(j & 1023u, j >> 10u), 0);'],
  ['texture rgba32float textureLoad (same in workgroup)', 'let j = (wid.x * 7u + k * 13u) & 262143u; acc += textureLoad(t, vec2u(j & 1023u, j >> 10u), 0);'],
  ['workgroup vec4 (per-lane index)', 'acc += s[(i * 7u + k * 13u) & 1023u];'],
  ['workgroup vec4 (same index in a workgroup)', 'acc += s[(wid.x * 7u + k * 13u) & 1023u];'],
  ['dependent multiply-add, no load', 'acc.x = fma(acc.x, 1.0001, f32(k));'],
];

const args = benchArgs('load-cost', 'What one load (storage, uniform, texture, workgroup) costs per invocation on the adapter, beside one multiply-add.', {
  runs: { default: '3', value: 'N', help: 'timed dispatches per operation, after one warm-up; the median is reported' },
});
const runs = args.int('runs');

const engine = await createNodeEngine();
const device = engine.device;
const a = device.createBuffer({ size: N * 4, usage: GPUBufferUsage.STORAGE });
const u = device.createBuffer({ size: 65536, usage: GPUBufferUsage.UNIFORM });
const out = device.createBuffer({ size: GROUPS * 64 * 4, usage: GPUBufferUsage.STORAGE });
const tex = device.createTexture({ size: [1024, 256], format: 'rgba32float', usage: GPUTextureUsage.TEXTURE_BINDING });
console.log(`adapter: ${engine.adapter.name}; ${GROUPS * 64} invocations x ${STEPS} steps, median of ${runs}\n`);
console.log('| operation | ns per operation per invocation |');
console.log('|---|---|');
for (const [name, body] of bodies) {
  const code = `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@group(0) @binding(2) var<uniform> u: array<vec4f, 4096>;
@group(0) @binding(3) var<storage, read> a4: array<vec4f>;
@group(0) @binding(4) var t: texture_2d<f32>;
var<workgroup> s: array<vec4f, 1024>;
const MASK = ${N - 1}u;
@compute @workgroup_size(64) fn main(@builtin(global_invocation_id) g: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let i = g.x;
  var acc = vec4f(0.0);
  for (var k = 0u; k < ${STEPS}u; k++) { ${body} }
  o[i] = acc.x + acc.y + acc.z + acc.w;
}`;
  const pipeline = engine.pipeline(code, 'main');
  // Only the bindings this body uses are in the pipeline's layout.
  const entries: GPUBindGroupEntry[] = [{ binding: 1, resource: { buffer: out } }];
  if (/\ba\[/.test(body)) entries.push({ binding: 0, resource: { buffer: a } });
  if (body.includes('u[')) entries.push({ binding: 2, resource: { buffer: u } });
  if (body.includes('a4[')) entries.push({ binding: 3, resource: { buffer: a } });
  if (body.includes('textureLoad')) entries.push({ binding: 4, resource: tex.createView() });
  const bindGroup = device.createBindGroup({ layout: pipeline.getBindGroupLayout(0), entries });
  const once = async () => {
    const encoder = device.createCommandEncoder();
    const pass = encoder.beginComputePass();
    pass.setPipeline(pipeline);
    pass.setBindGroup(0, bindGroup);
    pass.dispatchWorkgroups(GROUPS);
    pass.end();
    device.queue.submit([encoder.finish()]);
    await device.queue.onSubmittedWorkDone();
  };
  await once();
  const times: number[] = [];
  for (let r = 0; r < runs; r++) {
    const t0 = performance.now();
    await once();
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const ns = (times[Math.floor(times.length / 2)] * 1e6) / (GROUPS * 64 * STEPS);
  console.log(`| ${name} | ${ns.toFixed(2)} |`);
}
process.exit(0);
