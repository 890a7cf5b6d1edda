// Records test/fixtures/chrome-opus-440hz.webm: what Chrome's MediaRecorder writes (WebM,
// Opus, unknown-size segment and clusters) for a 440 Hz sine at amplitude 0.5, about 0.6 s.
// test/decode.test.ts checks the decoded tone's frequency and amplitude. Needs Debian's
// chromium:   node tools/record-webm-fixture.mjs
import { writeFileSync } from 'node:fs';
import { chromium } from 'playwright-core';

const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless=new', '--no-sandbox', '--autoplay-policy=no-user-gesture-required'] });
const page = await browser.newPage();
const bytes = await page.evaluate(async () => {
  const ctx = new AudioContext({ sampleRate: 48000 });
  const osc = new OscillatorNode(ctx, { frequency: 440 });
  const gain = new GainNode(ctx, { gain: 0.5 });
  const dest = new MediaStreamAudioDestinationNode(ctx, { channelCount: 1 });
  osc.connect(gain).connect(dest);
  osc.start();
  const rec = new MediaRecorder(dest.stream, { mimeType: 'audio/webm;codecs=opus', audioBitsPerSecond: 32000 });
  const parts = [];
  rec.ondataavailable = (e) => parts.push(e.data);
  const done = new Promise((r) => (rec.onstop = r));
  rec.start();
  await new Promise((r) => setTimeout(r, 600));
  rec.stop();
  await done;
  return Array.from(new Uint8Array(await new Blob(parts).arrayBuffer()));
});
await browser.close();
writeFileSync('test/fixtures/chrome-opus-440hz.webm', Uint8Array.from(bytes));
console.log(`wrote test/fixtures/chrome-opus-440hz.webm (${bytes.length} bytes)`);
