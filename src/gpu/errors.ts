/** No usable WebGPU adapter: the message says how to get one. */
export class NoAdapterError extends Error {}

/** A GPU setting in the environment (SER_TUNE) has a value the engine does not know. */
export class SettingError extends Error {}
