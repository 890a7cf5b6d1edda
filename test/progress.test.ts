// The progress bar: no rate or ETA before there is time enough to measure one (a first tick
// right after the start read "0.000 frames/s ... eta 0s"), and a real one later.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Progress } from '../src/cli/progress.js';

function sink() {
  const lines: string[] = [];
  const stream = { isTTY: false, write: (s: string) => lines.push(s) } as unknown as NodeJS.WriteStream;
  return { lines, stream };
}

test('Progress: rate and ETA are ? until half a second has passed, then measured', async () => {
  const a = sink();
  const early = new Progress('features', 10, { unit: 'files', stream: a.stream });
  early.tick(3);
  early.tick(7); // the last tick always draws
  assert.match(a.lines[0], /^features \[#+-+\] 3\/10 \? files\/s elapsed 0s eta \?\n$/);
  assert.match(a.lines[1], /^features \[#+\] 10\/10 \? files\/s elapsed 0s eta 0s\n$/);
  const b = sink();
  const later = new Progress('features', 10, { unit: 'files', stream: b.stream });
  await new Promise((r) => setTimeout(r, 600));
  later.tick(10);
  assert.match(b.lines[0], /^features \[#+\] 10\/10 \d+\.\d+ files\/s elapsed [01]s eta 0s\n$/);
});

test.run();
