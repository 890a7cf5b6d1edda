import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { encodeSafetensors, decodeSafetensors, type SafeTensor } from '../src/io/safetensors.js';
import { testRandom, randomArray } from './helpers/check.js';

const rng = testRandom('safetensors');

test('round trip keeps names, shapes, dtypes, values and metadata; data is 8-byte aligned', () => {
  const tensors = new Map<string, SafeTensor>([
    ['a.weight', { dtype: 'F32', shape: [3, 5], data: randomArray(rng, 15) }],
    ['b', { dtype: 'I32', shape: [4], data: Int32Array.from([1, -2, 3, 2 ** 30]) }],
    ['n', { dtype: 'I64', shape: [], data: new BigInt64Array([7n]) }],
  ]);
  const bytes = encodeSafetensors(tensors, { model: 'cnn5' });
  const headerLen = Number(new DataView(bytes.buffer).getBigUint64(0, true));
  assert.is(headerLen % 8, 0);
  const { tensors: back, metadata } = decodeSafetensors(bytes);
  assert.is(metadata.model, 'cnn5');
  for (const [k, t] of tensors) {
    const b = back.get(k)!;
    assert.is(b.dtype, t.dtype);
    assert.equal(b.shape, t.shape);
    assert.equal(Array.from(b.data as ArrayLike<number | bigint>), Array.from(t.data as ArrayLike<number | bigint>));
  }
});

test('broken files are refused with a reason', () => {
  const good = encodeSafetensors(new Map([['x', { dtype: 'F32', shape: [2], data: new Float32Array([1, 2]) }]]));
  assert.throws(() => decodeSafetensors(new Uint8Array(3)), /shorter/);
  const lying = good.slice();
  new DataView(lying.buffer).setBigUint64(0, 10n ** 12n, true);
  assert.throws(() => decodeSafetensors(lying), /exceeds the file/);
  assert.throws(() => decodeSafetensors(good.slice(0, good.length - 4)), /data offsets/);
  const notJson = good.slice();
  notJson[8] = 0x41;
  assert.throws(() => decodeSafetensors(notJson), /not JSON/);
});

test.run();
