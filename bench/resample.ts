// The resampler's speed for the common rates and for ratios that do not reduce (11,127 and
// 12,499 Hz: gcd 1 with 16 kHz), the case a per-output-sample filter made ~12x slower.
//   node dist/bench/resample.js [--seconds 10] [--runs 3]
import { benchArgs, timeCpu } from './lib.js';
import { resample } from '../src/audio/resample.js';
import { Random } from '../src/util/random.js';

const args = benchArgs('resample', 'Resampling speed to 16 kHz for common and awkward input rates (CPU).', {
  seconds: { value: 'S', default: '10', help: 'seconds of audio per conversion (whole number)' },
  runs: { value: 'N', default: '3', help: 'timed runs (median reported)' },
});
const seconds = args.int('seconds');
const runs = args.int('runs');
const rng = new Random(1);

console.log(`| input rate -> 16 kHz (${seconds} s of noise) | median ms | x real time |`);
console.log('| --- | --- | --- |');
for (const rate of [44100, 48000, 22050, 8000, 11127, 12499, 44101]) {
  const x = Float32Array.from({ length: Math.round(rate * seconds) }, () => rng.next() * 2 - 1);
  const t = await timeCpu(() => resample(x, rate, 16000), { warmup: 1, runs });
  console.log(`| ${rate} Hz | ${(t.median * 1000).toFixed(1)} | ${(seconds / t.median).toFixed(0)} |`);
}
