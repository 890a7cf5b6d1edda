/** No usable WebGPU adapter: the message says how to get one. */
export class NoAdapterError extends Error {}
