// What the project accepts as audio input, for every format (wav.ts, decode.ts).

/**
 * Accepted sample rates in Hz. Below 1 kHz nothing of speech is left (its Nyquist, 500 Hz,
 * is under the first formant) and the 16 kHz resampler would make more than 16 output
 * samples per input sample: a header saying 1 Hz or 7 Hz is a broken file, not audio.
 * 768 kHz is the highest rate audio hardware records (DXD x2, the top rate of current ADCs);
 * above it the 16 kHz filter's length, 2 x 64 x rate / 16 kHz taps, grows without purpose.
 * Telephone speech (8 kHz) and every common rate (11.025 to 384 kHz) are inside.
 */
export const RATE_RANGE = { min: 1000, max: 768_000 } as const;

/** Most channels a file may have (every real layout, 22.2 surround included, is far below). */
export const MAX_CHANNELS = 1024;

/** Why `rate` is not accepted, or null when it is. */
export function rateProblem(rate: number): string | null {
  if (!Number.isInteger(rate) || rate < RATE_RANGE.min || rate > RATE_RANGE.max) {
    return `sample rate ${rate} Hz is outside the accepted range ${RATE_RANGE.min}..${RATE_RANGE.max} Hz`;
  }
  return null;
}
