// Checkpoint files in Node: written atomically (temp file, then rename).
import { readFileSync } from 'node:fs';
import type { Module } from './module.js';
import { modelToSafetensors, loadModelFromSafetensors } from './checkpoint.js';
import { SafetensorsError } from '../io/safetensors.js';
import { writeFileAtomic } from '../io/atomic.js';

export async function saveCheckpoint(model: Module, path: string, metadata: Record<string, string> = {}): Promise<void> {
  writeFileAtomic(path, await modelToSafetensors(model, metadata));
}

export function loadCheckpoint(model: Module, path: string): Record<string, string> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return loadModelFromSafetensors(model, bytes, path);
}

/** Reads only the metadata (model name, settings) to know which model to build. */
export function readCheckpointMetadata(path: string): Record<string, string> {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new SafetensorsError(`cannot read checkpoint ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  if (bytes.length < 8) throw new SafetensorsError(`${path}: not a valid safetensors file`);
  const n = Number(new DataView(bytes.buffer, bytes.byteOffset).getBigUint64(0, true));
  if (n > bytes.length - 8) throw new SafetensorsError(`${path}: not a valid safetensors file: header length exceeds the file`);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder().decode(bytes.subarray(8, 8 + n)));
  } catch {
    throw new SafetensorsError(`${path}: not a valid safetensors file: header is not JSON`);
  }
  const meta = header !== null && typeof header === 'object' ? ((header as Record<string, unknown>).__metadata__ ?? {}) : null;
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta) || !Object.values(meta).every((v) => typeof v === 'string')) {
    throw new SafetensorsError(`${path}: not a valid safetensors file: header or __metadata__ is not an object of strings`);
  }
  return meta as Record<string, string>;
}
