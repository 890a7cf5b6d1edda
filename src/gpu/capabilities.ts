// What an adapter can do and what the kernels' choosers need to know of it, in one place:
// features, limits, the facts known about particular drivers, and the autotuner's measured
// choices. Kernel families choose their variants from this (kernels/choose.ts); nothing else
// reads adapter names.
import type { AdapterSummary } from './adapter-info.js';
import { Tuning } from './tuning.js';

export interface Capabilities {
  /** 'gpu' for hardware, 'cpu' for software adapters (llvmpipe, SwiftShader). */
  kind: 'gpu' | 'cpu';
  /** The `subgroups` feature (subgroupAdd in batchnorm's reductions). */
  subgroups: boolean;
  /** The `shader-f16` feature: f16 storage with f32 sums (the 'gemm-f16' convolution). */
  f16: boolean;
  /** maxComputeInvocationsPerWorkgroup: the shared-tile kernels need 256. */
  maxWorkgroupInvocations: number;
  /** maxComputeWorkgroupStorageSize, bytes: the shared-tile kernels' tile shapes fit in it. */
  workgroupStorage: number;
  /** The `timestamp-query` feature: the tuner times candidates on the GPU's clock. */
  timestamps: boolean;
  /**
   * The shader compiler takes minutes and tens of GB on long unrolled bodies: SwiftShader's
   * Subzero on conv2d_rows.wgsl (measured: over 24 GB). Such adapters get compact variants,
   * and the tuner does not try the long ones.
   */
  slowShaderCompiler: boolean;
  /** Largest storage binding, bytes (maxStorageBufferBindingSize). */
  maxBinding: number;
  /** Byte alignment of a storage binding's offset (minStorageBufferOffsetAlignment). */
  bindingAlignment: number;
  /**
   * The autotuner's measured choices per kernel family and shape class (src/gpu/tuning.ts;
   * SER_TUNE picks its mode). Choosers consult it before their rules.
   */
  tuning: Tuning;
}

const SLOW_COMPILER = /swiftshader/i;

/** The capabilities of a device created from `adapter` with `limits` and `features`; `tuning` defaults to off (rules only). */
export function capabilitiesOf(adapter: AdapterSummary, limits: GPUSupportedLimits, features: ReadonlySet<string>, tuning = Tuning.off()): Capabilities {
  return {
    kind: adapter.kind,
    subgroups: features.has('subgroups'),
    f16: features.has('shader-f16'),
    maxWorkgroupInvocations: limits.maxComputeInvocationsPerWorkgroup,
    workgroupStorage: limits.maxComputeWorkgroupStorageSize,
    timestamps: features.has('timestamp-query'),
    slowShaderCompiler: SLOW_COMPILER.test(adapter.name),
    maxBinding: limits.maxStorageBufferBindingSize,
    bindingAlignment: limits.minStorageBufferOffsetAlignment,
    tuning,
  };
}
