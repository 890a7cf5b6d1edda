// `ser adapter`: which WebGPU adapter this machine gives us, and its limits.
import type { CommandSpec, Parsed } from './args.js';
import { createNodeEngine } from '../gpu/node.js';

export const spec: CommandSpec = {
  name: 'adapter',
  summary: 'Show the WebGPU adapter in use and its limits.',
  usage: 'ser adapter [--json]',
  flags: { json: { type: 'boolean', help: 'print JSON' } },
};

export async function run(p: Parsed): Promise<number> {
  const engine = await createNodeEngine();
  const l = engine.limits;
  const info = {
    adapter: engine.adapter.name,
    backend: engine.adapter.backend,
    kind: engine.adapter.kind,
    features: [...engine.features].sort(),
    maxStorageBufferBindingSize: l.maxStorageBufferBindingSize,
    maxBufferSize: l.maxBufferSize,
    maxComputeWorkgroupStorageSize: l.maxComputeWorkgroupStorageSize,
    maxComputeInvocationsPerWorkgroup: l.maxComputeInvocationsPerWorkgroup,
  };
  if (p.flags.json) console.log(JSON.stringify(info, null, 2));
  else for (const [k, v] of Object.entries(info)) console.log(`${k}: ${Array.isArray(v) ? v.join(', ') : v}`);
  engine.destroy();
  return 0;
}
