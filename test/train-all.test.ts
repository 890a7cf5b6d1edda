// `ser train --fold none` (the model to ship: every speaker, no held-out score) and
// `ser eval --fold all` (every utterance of a corpus: cross-corpus scores).
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { decodeSafetensors } from '../src/io/safetensors.js';
import { openCorpus } from '../src/data/open.js';

const dir = mkdtempSync(join(tmpdir(), 'ser-train-all-'));
const ser = (...args: string[]) => {
  const r = spawnSync(process.execPath, ['bin/ser.js', ...args], { encoding: 'utf8', env: { ...process.env, EGL_PLATFORM: 'surfaceless', SER_CACHE: join(dir, 'cache') } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('train --fold none keeps every speaker; eval then needs --fold, and --fold all scores every utterance', async () => {
  const ck = join(dir, 'all.safetensors');
  const t = ser('train', '--corpus', 'emodb', '--model', 'small', '--fold', 'none', '--iterations', '2', '--batch', '4', '--quiet', '--out', ck);
  assert.is(t.code, 0, t.err);
  const corpus = await openCorpus('emodb');
  assert.match(t.out, `trained on all ${corpus.utterances.length} utterances`);
  const { metadata, tensors } = decodeSafetensors(new Uint8Array(readFileSync(ck)), ck);
  assert.is(metadata.heldOutFold, 'none');
  assert.is(metadata.recipe, 'paper');
  assert.ok(tensors.has('input_norm.mean'), 'a paper model carries its standardisation');

  const noFold = ser('eval', '--checkpoint', ck, '--corpus', 'emodb');
  assert.is(noFold.code, 2);
  assert.match(noFold.err, /trained on every speaker.*--fold all/);

  const all = ser('eval', '--checkpoint', ck, '--corpus', 'emodb', '--fold', 'all', '--fgsm-eps', '0.02', '--noise-snr', '20', '--json');
  assert.is(all.code, 0, all.err);
  const r = JSON.parse(all.out);
  assert.is(r.fold, 'all');
  assert.is(r.utterances, corpus.utterances.length);
  assert.is(r.clean.confusion.flat().reduce((a: number, b: number) => a + b, 0), corpus.utterances.length, 'every utterance scored once');
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
