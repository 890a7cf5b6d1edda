// Acquiring a WebGPU device in Node through Dawn (the `webgpu` package).
//
// Choice of adapter (SER_ADAPTER or the `adapter` option):
//   auto        a real GPU if there is one, else llvmpipe (OpenGL), else SwiftShader (Vulkan)
//   gpu         a hardware adapter only
//   llvmpipe    Mesa's OpenGL software rasteriser, compatibility feature level
//   swiftshader Vulkan on SwiftShader (Debian's chromium ships the driver)
import { existsSync, readdirSync } from 'node:fs';
import { summarizeAdapter, type AdapterSummary } from './adapter-info.js';
import { NoAdapterError } from './errors.js';
import { requestFullDevice } from './device.js';
import { Engine } from '../engine/engine.js';
import { Tuning, tuneModeOf, type TuneMode } from './tuning.js';
import { fileStore } from './tune-store.js';

export type AdapterChoice = 'auto' | 'gpu' | 'llvmpipe' | 'swiftshader';
export const ADAPTER_CHOICES: AdapterChoice[] = ['auto', 'gpu', 'llvmpipe', 'swiftshader'];

const SWIFTSHADER_ICD = '/usr/lib/chromium/vk_swiftshader_icd.json';

// llvmpipe checks every storage access against its binding's range itself (a read past it
// gives 0, a write past it is dropped; test/bounds.test.ts holds it to that), so Dawn's own
// clamp on every index only adds work: without it a CNN-5 step ran 5-8% faster.
const LLVMPIPE = /llvmpipe/i;
const LLVMPIPE_CHECKS_BOUNDS = 'enable-dawn-features=disable_robustness';

export { NoAdapterError };

// Dawn crashes at random if the object returned by create() is collected, so every
// instance we make is held here for the life of the process.
const keepAlive: unknown[] = [];

interface Dawn {
  create(flags: string[]): GPU;
  globals: Record<string, unknown>;
}

async function loadDawn(): Promise<Dawn> {
  try {
    const mod = (await import('webgpu')) as unknown as Dawn;
    Object.assign(globalThis, mod.globals);
    return mod;
  } catch (e) {
    throw new NoAdapterError(`cannot load Dawn's Node bindings (npm package 'webgpu'): ${(e as Error).message}. Run 'npm install'.`);
  }
}

async function tryAdapter(
  dawn: Dawn,
  flags: string[],
  options: GPURequestAdapterOptions,
  backend: string,
): Promise<{ adapter: GPUAdapter; summary: AdapterSummary } | null> {
  try {
    const gpu = dawn.create(flags);
    keepAlive.push(gpu);
    const adapter = await gpu.requestAdapter(options);
    if (!adapter) return null;
    return { adapter, summary: summarizeAdapter(adapter, backend) };
  } catch {
    return null;
  }
}

// Dawn prints a few harmless notices (dynamic buffer limits, a missing libvulkan while
// probing) straight to stderr; keep them away from users unless they ask for them.
async function quietly<T>(fn: () => Promise<T>): Promise<T> {
  if (process.env.SER_DAWN_LOG) return fn();
  const write = process.stderr.write.bind(process.stderr);
  (process.stderr as unknown as { write: unknown }).write = (chunk: unknown, ...rest: unknown[]) => {
    const text = String(chunk);
    // A notice is lines of "Warning: ..." and the stack frames under them ("    at f (file)",
    // whose file names may hold "Error"); anything naming an error elsewhere gets through.
    const message = text.split('\n').filter((line) => !/^\s+at /.test(line)).join('\n');
    if (/^Warning: |^\s*$/m.test(message) && !/Error/.test(message)) return true;
    return (write as (...a: unknown[]) => boolean)(chunk, ...rest);
  };
  try {
    return await fn();
  } finally {
    (process.stderr as unknown as { write: unknown }).write = write;
  }
}

/**
 * Whether the native probe can find anything: a Vulkan loader and at least one driver
 * manifest (setup --with-browser installs the loader alone, for SwiftShader, which is asked
 * for by its own manifest; probing with no driver only makes Dawn print warnings).
 */
function hasVulkanDriver(): boolean {
  if (process.platform !== 'linux') return true;
  const libs = ['/usr/lib/x86_64-linux-gnu', '/usr/lib/aarch64-linux-gnu', '/usr/lib64', '/usr/lib', '/usr/local/lib', ...(process.env.LD_LIBRARY_PATH ?? '').split(':')];
  if (!libs.some((d) => d && existsSync(`${d}/libvulkan.so.1`))) return false;
  if (process.env.VK_ICD_FILENAMES || process.env.VK_DRIVER_FILES) return true;
  const manifests = ['/usr/share/vulkan/icd.d', '/usr/local/share/vulkan/icd.d', '/etc/vulkan/icd.d', ...(process.env.XDG_DATA_DIRS ?? '').split(':').map((d) => `${d}/vulkan/icd.d`)];
  return manifests.some((d) => d && existsSync(d) && readdirSync(d).some((f) => f.endsWith('.json')));
}

export async function requestNodeAdapter(choice: AdapterChoice = 'auto'): Promise<{ adapter: GPUAdapter; summary: AdapterSummary }> {
  if (!ADAPTER_CHOICES.includes(choice)) {
    throw new NoAdapterError(`unknown adapter '${choice}': choose one of ${ADAPTER_CHOICES.join(', ')}`);
  }
  const dawn = await loadDawn();
  return quietly(async () => {
    if (choice === 'gpu' || (choice === 'auto' && hasVulkanDriver())) {
      const hw = await tryAdapter(dawn, [], { powerPreference: 'high-performance' }, 'native');
      if (hw && hw.summary.kind === 'gpu') return hw;
      if (choice === 'gpu') {
        throw new NoAdapterError('no hardware GPU adapter found; use SER_ADAPTER=auto to fall back to a software adapter');
      }
    }
    if (choice === 'auto' || choice === 'llvmpipe') {
      process.env.EGL_PLATFORM ??= 'surfaceless';
      const gl = await tryAdapter(dawn, ['backend=opengl', LLVMPIPE_CHECKS_BOUNDS], { featureLevel: 'compatibility' }, 'opengl');
      if (gl && LLVMPIPE.test(gl.summary.name)) return gl;
      // Some other OpenGL driver: keep Dawn's bounds checks.
      const other = await tryAdapter(dawn, ['backend=opengl'], { featureLevel: 'compatibility' }, 'opengl');
      if (other) return other;
    }
    if (choice === 'auto' || choice === 'swiftshader') {
      if (existsSync(SWIFTSHADER_ICD)) process.env.VK_ICD_FILENAMES ??= SWIFTSHADER_ICD;
      const vk = await tryAdapter(dawn, ['backend=vulkan'], {}, 'vulkan');
      if (vk) return vk;
    }
    throw new NoAdapterError(
      `no WebGPU adapter (${choice}). Without a GPU install a software one: ` +
        `'apt-get install -y libegl1 libegl-mesa0 libgl1-mesa-dri' (llvmpipe) or 'apt-get install -y chromium' (SwiftShader).`,
    );
  });
}

/**
 * An engine on the chosen adapter (SER_ADAPTER, default auto), its kernels chosen with the
 * autotuner in mode `tune` (default $SER_TUNE, else 'cache'; src/gpu/tuning.ts) and its
 * choices kept in this adapter's cache file (src/gpu/tune-store.ts). Errors: NoAdapterError;
 * SettingError for an unknown SER_TUNE value.
 */
export async function createNodeEngine(choice?: AdapterChoice, opts: { tune?: TuneMode } = {}): Promise<Engine> {
  const mode = opts.tune ?? tuneModeOf(process.env.SER_TUNE);
  const pick = choice ?? ((process.env.SER_ADAPTER as AdapterChoice | undefined) || 'auto');
  const { adapter, summary } = await requestNodeAdapter(pick);
  const device = await quietly(() => requestFullDevice(adapter));
  return new Engine(device, summary, mode === 'off' ? Tuning.off() : new Tuning(mode, fileStore(summary)));
}
