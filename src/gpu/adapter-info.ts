// A one-line description of an adapter, and whether it is a CPU (software) one.

export interface AdapterSummary {
  /** e.g. "llvmpipe (OpenGL ES compat, Mesa 22.3.6)" */
  name: string;
  /** 'gpu' for hardware, 'cpu' for software rasterisers such as llvmpipe or SwiftShader. */
  kind: 'gpu' | 'cpu';
  backend: string;
  /** The adapter's own description of itself (GPUAdapterInfo), where known: it tells adapters and drivers apart. */
  info?: { vendor: string; architecture: string; device: string; description: string };
}

const SOFTWARE = /llvmpipe|swiftshader|lavapipe|softpipe|warp|basic render/i;

export function summarizeAdapter(adapter: GPUAdapter, backend: string): AdapterSummary {
  const info = adapter.info;
  const parts = [info.vendor, info.architecture, info.device, info.description]
    .map((s) => (s ?? '').trim())
    .filter((s) => s.length > 0);
  const name = [...new Set(parts)].join(' / ') || 'unnamed adapter';
  const fallback = (adapter as unknown as { isFallbackAdapter?: boolean }).isFallbackAdapter === true;
  const kind = fallback || SOFTWARE.test(name) ? 'cpu' : 'gpu';
  const own = { vendor: info.vendor ?? '', architecture: info.architecture ?? '', device: info.device ?? '', description: info.description ?? '' };
  return { name, kind, backend, info: own };
}
