// Out-of-range storage accesses stay inside their binding. On llvmpipe the engine turns
// Dawn's per-index clamp off (src/gpu/node.ts) because the driver checks every access
// against the bound range itself; this holds the driver to that. Elsewhere Dawn clamps.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';

const FLOATS = 1024; // the buffer
const BOUND = 128; // the part of it that is bound

const SHADER = /* wgsl */ `
@group(0) @binding(0) var<storage, read> a: array<f32>;
@group(0) @binding(1) var<storage, read_write> o: array<f32>;
@group(0) @binding(2) var<uniform> far: vec4<u32>; // indices past the binding, unknown to the compiler
@compute @workgroup_size(1) fn main() {
  o[0] = a[far.x];
  o[far.y] = 7.0;
}`;

test('a read past its binding gives 0 or a bound value, a write past it stays inside it', async () => {
  const e = await testEngine();
  const device = e.device;
  const usage = GPUBufferUsage.STORAGE | GPUBufferUsage.COPY_SRC | GPUBufferUsage.COPY_DST;
  const input = device.createBuffer({ size: FLOATS * 4, usage });
  const output = device.createBuffer({ size: FLOATS * 4, usage });
  const far = device.createBuffer({ size: 16, usage: GPUBufferUsage.UNIFORM | GPUBufferUsage.COPY_DST });
  const counting = Float32Array.from({ length: FLOATS }, (_, i) => i + 1);
  device.queue.writeBuffer(input, 0, counting);
  device.queue.writeBuffer(output, 0, new Float32Array(FLOATS).fill(-1));
  device.queue.writeBuffer(far, 0, new Uint32Array([BOUND + 72, BOUND + 172, 0, 0]));
  const pipeline = device.createComputePipeline({ layout: 'auto', compute: { module: device.createShaderModule({ code: SHADER }), entryPoint: 'main' } });
  const bindGroup = device.createBindGroup({
    layout: pipeline.getBindGroupLayout(0),
    entries: [
      { binding: 0, resource: { buffer: input, offset: 0, size: BOUND * 4 } },
      { binding: 1, resource: { buffer: output, offset: 0, size: BOUND * 4 } },
      { binding: 2, resource: { buffer: far } },
    ],
  });
  const readback = device.createBuffer({ size: FLOATS * 4, usage: GPUBufferUsage.MAP_READ | GPUBufferUsage.COPY_DST });
  const encoder = device.createCommandEncoder();
  const pass = encoder.beginComputePass();
  pass.setPipeline(pipeline);
  pass.setBindGroup(0, bindGroup);
  pass.dispatchWorkgroups(1);
  pass.end();
  encoder.copyBufferToBuffer(output, 0, readback, 0, FLOATS * 4);
  device.queue.submit([encoder.finish()]);
  await readback.mapAsync(GPUMapMode.READ);
  const out = new Float32Array(readback.getMappedRange().slice(0));
  readback.unmap();
  for (const b of [input, output, far, readback]) b.destroy();

  const read = out[0];
  assert.ok(read === 0 || (read >= 1 && read <= BOUND), `read past the binding gave ${read}, from outside the bound range`);
  // WebGPU lets such a write land anywhere inside the binding (Dawn clamps it to the last
  // element); past the binding nothing may change.
  const outside = [...out.keys()].filter((i) => i >= BOUND && out[i] !== -1);
  assert.equal(outside, [], 'a write past the binding changed the buffer outside it');
  if (/llvmpipe/i.test(e.adapter.name)) {
    // Dawn would clamp to the last bound element (BOUND); 0 means the driver did the check.
    assert.is(read, 0, "on llvmpipe Dawn's clamp should be off and the driver's check on");
  }
});

test.run();
