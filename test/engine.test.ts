import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { sizeClass } from '../src/engine/pool.js';
import { unary } from '../kernels/elementwise.js';

test('an adapter is found and named', async () => {
  const e = await testEngine();
  assert.ok(e.adapter.name.length > 0);
  assert.ok(e.maxBinding >= 128 * 1024 * 1024);
});

test('scopes dispose what they do not return, and the pool reuses buffers', async () => {
  const e = await testEngine();
  e.flush();
  const liveBefore = e.pool.liveBytes;
  const kept = e.scope(() => {
    const a = e.fromArray([1, -2, 3], [3]);
    unary('relu', a);
    return unary('neg', a);
  });
  assert.is(e.pool.liveBytes - liveBefore, 256, 'only the returned tensor stays live');
  assert.equal(Array.from(await kept.read()), [-1, 2, -3]);
  kept.dispose();
  kept.dispose(); // twice is harmless
  assert.is(e.pool.liveBytes, liveBefore);
  const created = e.pool.created;
  e.scope(() => {
    e.empty([10]);
    e.empty([20]);
  });
  assert.is(e.pool.created, created, 'second round reused pooled buffers');
});

test('a disposed tensor cannot be used', async () => {
  const e = await testEngine();
  const t = e.scope(() => e.keep(e.fromArray([1], [1])));
  t.dispose();
  assert.throws(() => t.buffer, /used after dispose/);
});

test('views share the buffer until the last one is disposed', async () => {
  const e = await testEngine();
  const a = e.scope(() => e.keep(e.fromArray([1, 2, 3, 4, 5, 6], [2, 3])));
  const v = e.scope(() => e.keep(e.view(a, [3, 2])));
  a.dispose();
  assert.equal(Array.from(await v.read()), [1, 2, 3, 4, 5, 6]);
  v.dispose();
});

test('poisoned tensors read as NaN until written', async () => {
  const e = await testEngine();
  const got = await e.scopeAsync(() => e.empty([5]).read());
  assert.ok(Array.from(got).every(Number.isNaN));
});

test('size classes cover the request and stay within 1/8 above it', () => {
  for (const n of [1, 255, 256, 257, 65536, 65537, 1e6, 3e7]) {
    const c = sizeClass(n);
    assert.ok(c >= n && (n < 65536 ? c - n < 256 : c <= n * 1.125 + 1), `${n} -> ${c}`);
  }
});

test('uniform buffers are cached by content', async () => {
  const e = await testEngine();
  assert.is(e.uniform([1, 2.5], 'uf'), e.uniform([1, 2.5], 'uf'));
  assert.is.not(e.uniform([1, 2.5], 'uf'), e.uniform([1, 2.25], 'uf'));
});

test.run();
