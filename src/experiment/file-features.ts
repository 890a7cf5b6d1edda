// Features of a batch of audio files where every file stands on its own: one that cannot be
// read, decoded or run through the front end is reported with its reason, and the others still
// get their features. The good files go through the GPU front end together, in one call.
import type { FrontEnd } from '../audio/frontend.js';
import { loadUtterance, SAMPLE_RATE } from '../audio/frontend.js';
import { clipCaution } from '../audio/caution.js';

/**
 * One file's outcome: its features ([frames, nMels] row-major) and, when the clip is near
 * silence, very short or longer than the front end's window, a caution for its prediction
 * (src/audio/caution.ts); or why it has none.
 */
export type FileFeatures = { path: string; features: Float32Array; caution: string | null; reason?: undefined } | { path: string; features?: undefined; reason: string };

/** Strips a leading "PATH: " from a decoder's message, since the caller names the file itself. */
function reasonOf(e: unknown, path: string): string {
  const msg = e instanceof Error ? e.message : String(e);
  // The front end numbers utterances within its call; alone, the number says nothing.
  return (msg.startsWith(`${path}: `) ? msg.slice(path.length + 2) : msg).replace(/^front end: utterance 0 /, 'front end: ');
}

/**
 * Decodes `paths` (to 16 kHz mono, by `load`, awaited one file at a time) and computes their log-Mel features with `front`,
 * in input order. The decoded files go through the front end in one call; if that call fails
 * (e.g. one utterance exceeds what the adapter can hold), each file is retried alone so only the
 * ones that fail themselves are reported. Never throws for a file's sake.
 */
export async function fileFeatures(
  front: FrontEnd,
  paths: readonly string[],
  load: (path: string) => Float32Array | Promise<Float32Array> = loadUtterance,
): Promise<FileFeatures[]> {
  const out: FileFeatures[] = new Array(paths.length);
  const signals: Float32Array[] = [];
  const where: number[] = [];
  // One file at a time: decoded audio of a whole batch is held anyway, but not its decoders' buffers too.
  for (let i = 0; i < paths.length; i++) {
    const path = paths[i];
    try {
      signals.push(await load(path));
      where.push(i);
    } catch (e) {
      out[i] = { path, reason: reasonOf(e, path) };
    }
  }
  if (signals.length === 0) return out;
  try {
    const feats = await front.logMel(signals);
    where.forEach((i, k) => (out[i] = { path: paths[i], features: feats[k], caution: clipCaution(signals[k], SAMPLE_RATE, front.options) }));
  } catch (batchError) {
    if (signals.length === 1) {
      out[where[0]] = { path: paths[where[0]], reason: reasonOf(batchError, paths[where[0]]) };
      return out;
    }
    for (let k = 0; k < signals.length; k++) {
      const i = where[k];
      try {
        const [f] = await front.logMel([signals[k]]);
        out[i] = { path: paths[i], features: f, caution: clipCaution(signals[k], SAMPLE_RATE, front.options) };
      } catch (e) {
        out[i] = { path: paths[i], reason: reasonOf(e, paths[i]) };
      }
    }
  }
  return out;
}
