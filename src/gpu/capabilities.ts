// What an adapter can do and what the kernels' choosers need to know of it, in one place:
// features, limits, and the facts known about particular drivers. Kernel families choose
// their variants from this (kernels/conv2d.ts, kernels/batchnorm.ts); nothing else reads
// adapter names. The autotuner (issue 19) plugs in through `tuned`.
import type { AdapterSummary } from './adapter-info.js';

export interface Capabilities {
  /** 'gpu' for hardware, 'cpu' for software adapters (llvmpipe, SwiftShader). */
  kind: 'gpu' | 'cpu';
  /** The `subgroups` feature (subgroupAdd in batchnorm's reductions). */
  subgroups: boolean;
  /**
   * The shader compiler takes minutes and tens of GB on long unrolled bodies: SwiftShader's
   * Subzero on conv2d_rows.wgsl (measured: over 24 GB). Such adapters get compact variants.
   */
  slowShaderCompiler: boolean;
  /** Largest storage binding, bytes (maxStorageBufferBindingSize). */
  maxBinding: number;
  /** Byte alignment of a storage binding's offset (minStorageBufferOffsetAlignment). */
  bindingAlignment: number;
  /**
   * The autotuner's measured choice for a kernel family and a shape key, when it has one
   * (issue 19); choosers consult it before their rules. None yet.
   */
  tuned(family: string, key: string): string | undefined;
}

const SLOW_COMPILER = /swiftshader/i;

/** The capabilities of a device created from `adapter` with `limits` and `features`. */
export function capabilitiesOf(adapter: AdapterSummary, limits: GPUSupportedLimits, features: ReadonlySet<string>): Capabilities {
  return {
    kind: adapter.kind,
    subgroups: features.has('subgroups'),
    slowShaderCompiler: SLOW_COMPILER.test(adapter.name),
    maxBinding: limits.maxStorageBufferBindingSize,
    bindingAlignment: limits.minStorageBufferOffsetAlignment,
    tuned: () => undefined,
  };
}
