// Acquiring a WebGPU adapter in the browser.
import { summarizeAdapter, type AdapterSummary } from './adapter-info.js';
import { NoAdapterError } from './errors.js';
import { requestFullDevice } from './device.js';
import { Engine } from '../engine/engine.js';
import { Tuning, memoryStore } from './tuning.js';

export async function requestBrowserAdapter(): Promise<{ adapter: GPUAdapter; summary: AdapterSummary }> {
  if (typeof navigator === 'undefined' || !('gpu' in navigator)) {
    throw new NoAdapterError('this browser has no WebGPU (navigator.gpu is missing): use a recent Chrome, Edge or Firefox over https or localhost');
  }
  const adapter =
    (await navigator.gpu.requestAdapter({ powerPreference: 'high-performance' })) ??
    (await navigator.gpu.requestAdapter({ featureLevel: 'compatibility' } as GPURequestAdapterOptions));
  if (!adapter) throw new NoAdapterError('WebGPU is present but no adapter was granted (is hardware acceleration off?)');
  return { adapter, summary: summarizeAdapter(adapter, 'browser') };
}

export async function createBrowserEngine(): Promise<Engine> {
  const { adapter, summary } = await requestBrowserAdapter();
  // The tuner's choices live in memory for the page's life.
  return new Engine(await requestFullDevice(adapter), summary, new Tuning('cache', memoryStore()));
}
