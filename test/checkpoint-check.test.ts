// Bad checkpoints are refused: NaN/Inf weights, wrong dtype or shape, truncated or mutated
// files each give one error naming the file (and the first bad tensor), never a model that
// predicts "NaN" and never an internal error.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createModel } from '../src/models/index.js';
import { modelToSafetensors, loadModelFromSafetensors } from '../src/nn/checkpoint.js';
import { decodeSafetensors, encodeSafetensors, SafetensorsError } from '../src/io/safetensors.js';
import { writeWav16 } from '../src/data/synthetic.js';
import { testEngine } from './helpers/gpu.js';
import { testRandom } from './helpers/check.js';

const rng = testRandom('checkpoint-check');
const dir = mkdtempSync(join(tmpdir(), 'ser-ckpt-'));

/** The small CNN's checkpoint with one value of one F32 tensor replaced. */
async function poisoned(value: number): Promise<{ bytes: Uint8Array; name: string; index: number }> {
  const engine = await testEngine();
  const bytes = await modelToSafetensors(createModel('small', engine, { seed: 1 }), { model: 'small', fit: 'resize' });
  const { tensors, metadata } = decodeSafetensors(bytes);
  const names = [...tensors.keys()].filter((n) => tensors.get(n)!.dtype === 'F32');
  const name = names[rng.int(names.length)];
  const data = tensors.get(name)!.data as Float32Array;
  const index = rng.int(data.length);
  data[index] = value;
  return { bytes: encodeSafetensors(tensors, metadata), name, index };
}

test('NaN, +Inf and -Inf weights are refused naming the source and the first bad tensor; nothing is loaded', async () => {
  const engine = await testEngine();
  for (const v of [NaN, Infinity, -Infinity]) {
    const { bytes, name, index } = await poisoned(v);
    const model = createModel('small', engine, { seed: 2 });
    const before = await Promise.all(model.stateEntries().map(async ([, t]) => Array.from((await t.read()) as Float32Array)));
    try {
      loadModelFromSafetensors(model, bytes, 'm.safetensors');
      assert.unreachable(`${v} accepted`);
    } catch (e) {
      assert.instance(e, SafetensorsError);
      assert.is((e as Error).message, `m.safetensors: tensor '${name}' holds ${v} at element ${index} (a damaged or diverged model: weights must be finite)`);
    }
    const after = await Promise.all(model.stateEntries().map(async ([, t]) => Array.from((await t.read()) as Float32Array)));
    assert.equal(after, before, 'the model is unchanged');
  }
});

test('mutated and truncated files: a SafetensorsError or a clean load, never another error', async () => {
  const engine = await testEngine();
  const good = await modelToSafetensors(createModel('small', engine, { seed: 1 }), { model: 'small' });
  const headerLen = Number(new DataView(good.buffer).getBigUint64(0, true));
  const model = createModel('small', engine);
  let refused = 0;
  for (let i = 0; i < 300; i++) {
    const b = good.slice(0, i % 5 === 0 ? rng.int(good.length) : good.length);
    const flips = 1 + rng.int(4);
    for (let k = 0; k < flips; k++) {
      const at = i % 2 ? 8 + rng.int(headerLen) : rng.int(Math.min(b.length, 8 + headerLen));
      if (at < b.length) b[at] = rng.int(256);
    }
    try {
      loadModelFromSafetensors(model, b, 'fuzz.safetensors');
    } catch (e) {
      if (!(e instanceof SafetensorsError)) assert.unreachable(`case ${i}: ${(e as Error).constructor.name}: ${(e as Error).message}`);
      assert.match((e as Error).message, /^fuzz\.safetensors: /);
      assert.not.match((e as Error).message, /\n/);
      refused++;
    }
  }
  assert.ok(refused > 100, `${refused} of 300 refused`);
  // Headers that are valid JSON but not what safetensors says.
  for (const json of ['null', '[]', '{"x": null}', '{"x": {"dtype": "F32", "shape": [1], "data_offsets": 5}}', '{"__metadata__": [1]}', '{"x": {"dtype": "toString", "shape": [], "data_offsets": [0, 0]}}']) {
    const hdr = new TextEncoder().encode(json);
    const b = new Uint8Array(8 + hdr.length);
    new DataView(b.buffer).setBigUint64(0, BigInt(hdr.length), true);
    b.set(hdr, 8);
    assert.throws(() => decodeSafetensors(b, 'h'), (e: Error) => e instanceof SafetensorsError && /^h: not a valid safetensors file: /.test(e.message), json);
  }
});

test('the CLI: a NaN checkpoint or a truncated one is one line naming the file, exit 2', async () => {
  const wav = join(dir, 'a.wav');
  writeWav16(wav, Float32Array.from({ length: 16000 }, () => rng.uniform(-0.3, 0.3)), 16000);
  const { bytes, name } = await poisoned(NaN);
  const nan = join(dir, 'nan.safetensors');
  writeFileSync(nan, bytes);
  const cut = join(dir, 'cut.safetensors');
  writeFileSync(cut, bytes.subarray(0, Math.floor(bytes.length * 0.7)));
  for (const [file, want] of [
    [nan, new RegExp(`^ser: ${nan}: tensor '${name.replace(/\./g, '\\.')}' holds NaN`)],
    [cut, new RegExp(`^ser: ${cut}: not a valid safetensors file: tensor '.*' has data offsets`)],
  ] as const) {
    const r = spawnSync(process.execPath, ['bin/ser.js', 'predict', wav, '--checkpoint', file], { encoding: 'utf8', timeout: 120_000, env: { ...process.env, EGL_PLATFORM: 'surfaceless' } });
    assert.is(r.status, 2, r.stderr);
    const lines = r.stderr.split('\n').filter((l) => l.startsWith('ser:'));
    assert.is(lines.length, 1, r.stderr);
    assert.match(lines[0], want);
    assert.is(r.stdout, '', 'no prediction printed');
  }
});

test.after(() => rmSync(dir, { recursive: true, force: true }));
test.run();
