// Whether a clip holds enough sound for its prediction to mean anything. The model always
// answers (a label is the argmax of a softmax, confident or not), so a clip of silence or a
// fraction of a second still gets a label; this says when that label is not worth trusting,
// and when the model hears only part of a long clip.
import { SAMPLE_RATE, type FrontEndOptions } from './reference.js';

/** Shorter clips get a caution: the training utterances (EmoDB, RAVDESS) last 1.2 s and more. */
export const CAUTION_MIN_SECONDS = 1.0;
/**
 * Clips whose loudest 25 ms frame is below this RMS level (dB relative to full scale) get a
 * caution. Speech at ordinary levels peaks at about -30 to -10 dBFS; RAVDESS's quietest sad
 * clips at -50 to -55 (and are recognised); a quiet room through a microphone at -60 to -70.
 */
export const CAUTION_SILENCE_DBFS = -60;
/**
 * A 'resize' fit squeezing a clip more than this many times into its window gets a caution:
 * EmoDB's longest utterances (about 9 s) squeeze about 2.4x into the db recipe's 3.73 s.
 */
export const CAUTION_SQUEEZE = 3;
/** Frame length for the level: 25 ms, the analysis window of the log-Mel front end. */
const FRAME_SECONDS = 0.025;

/**
 * Why a prediction on `samples` (mono, values in [-1, 1], at `rate` Hz) deserves caution, or
 * null when it holds enough sound: "no audio"; "the model hears only the first (or middle) X s
 * of Y s" when `frontEnd` (the features' fit, frames and hop, the hop in 16 kHz samples) keeps
 * a window of the clip ('tile' its first frames, 'crop' its centre), or "the model hears X s
 * squeezed into its window" when 'resize' squeezes it over CAUTION_SQUEEZE times ('none'
 * keeps every frame); "only X s of audio" (below CAUTION_MIN_SECONDS; very short clips in
 * samples); "near silence: the loudest 25 ms is at X dBFS" (below CAUTION_SILENCE_DBFS;
 * "silence" when every sample is 0), measured on the part the model hears. Several are
 * joined by "; ". The level is the RMS of non-overlapping 25 ms frames, the loudest one
 * kept, so a short utterance inside a quiet recording passes. Throws on a rate that is not a
 * positive number.
 */
export function clipCaution(samples: Float32Array, rate: number, frontEnd?: Pick<FrontEndOptions, 'fit' | 'frames' | 'hop'>): string | null {
  if (!(rate > 0)) throw new Error(`clipCaution: sample rate ${rate} is not a positive number`);
  if (samples.length === 0) return 'no audio';
  const reasons: string[] = [];
  const seconds = samples.length / rate;
  // The samples the model hears: all, or the window a tile or crop fit keeps.
  let heardPart = samples;
  if (frontEnd) {
    const window = (frontEnd.frames * frontEnd.hop) / SAMPLE_RATE;
    const fits = `its ${frontEnd.frames}-frame window`;
    if ((frontEnd.fit === 'tile' || frontEnd.fit === 'crop') && seconds > window + 0.005) {
      reasons.push(`the model hears only the ${frontEnd.fit === 'tile' ? 'first' : 'middle'} ${window.toFixed(2)} s of ${seconds.toFixed(2)} s (${fits})`);
      const n = Math.round(window * rate);
      const from = frontEnd.fit === 'tile' ? 0 : Math.floor((samples.length - n) / 2);
      heardPart = samples.subarray(from, from + n);
    } else if (frontEnd.fit === 'resize' && seconds > CAUTION_SQUEEZE * window) {
      reasons.push(`the model hears ${seconds.toFixed(2)} s squeezed into ${fits} (${(seconds / window).toFixed(1)}x faster than speech)`);
    }
  }
  const length = seconds < 0.01 ? `${samples.length} samples` : `${seconds.toFixed(2)} s`;
  if (seconds < CAUTION_MIN_SECONDS) reasons.push(`only ${length} of audio (the model was trained on utterances of ${CAUTION_MIN_SECONDS.toFixed(1)} s and more)`);
  const frame = Math.max(1, Math.round(FRAME_SECONDS * rate));
  let loudest = 0;
  for (let start = 0; start < heardPart.length; start += frame) {
    const end = Math.min(heardPart.length, start + frame);
    let sum = 0;
    for (let i = start; i < end; i++) sum += heardPart[i] * heardPart[i];
    loudest = Math.max(loudest, sum / (end - start));
  }
  const where = heardPart === samples ? '' : ' in the part the model hears';
  const level = heardPart.length < frame ? 'its level is' : 'the loudest 25 ms is at';
  const dbfs = 10 * Math.log10(loudest);
  if (loudest === 0) reasons.push(`silence${where} (every sample is 0)`);
  else if (dbfs < CAUTION_SILENCE_DBFS) reasons.push(`near silence${where}: ${level} ${dbfs.toFixed(1)} dBFS`);
  return reasons.length ? reasons.join('; ') : null;
}
