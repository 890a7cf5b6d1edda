// The tiled shared-memory matmul (kernels/matmul.ts, variant 'tiled') against float64, with
// every transpose, sizes that are not multiples of the 64-wide tiles, of the 16-deep slabs
// or of 4 (and sizes that are, for the vec4 loads), batched with a shared operand, on
// llvmpipe and on SwiftShader.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { subgroupEngine, testEngine, withDispatchLabels } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { cpuMatmul } from './helpers/matmul.js';
import type { Engine } from '../src/engine/engine.js';
import { matmul } from '../kernels/matmul.js';

const rng = testRandom('matmul-tiled');


async function engines(): Promise<Engine[]> {
  const main = await testEngine();
  const second = await subgroupEngine();
  return second && second !== main ? [main, second] : [main];
}

const SIZES = [[1, 1, 1], [37, 53, 29], [65, 7, 130], [3, 257, 5], [64, 32, 68], [128, 20, 64]];

for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
  test(`tiled matmul ${ta ? 'Aᵀ' : 'A'} @ ${tb ? 'Bᵀ' : 'B'} matches float64`, async () => {
    for (const e of await engines()) {
      // SwiftShader compiles and runs slowly: the smaller sizes there.
      for (const [M, K, N] of e === (await testEngine()) ? SIZES : SIZES.slice(0, 3)) {
        const a = randomArray(rng, M * K);
        const b = randomArray(rng, K * N);
        const got = await e.scopeAsync(() =>
          matmul(e.fromArray(a, ta ? [K, M] : [M, K]), e.fromArray(b, tb ? [N, K] : [K, N]), { transposeA: ta, transposeB: tb, variant: 'tiled' }).read(),
        );
        assertClose(got, cpuMatmul(a, b, M, K, N, ta, tb), 2e-6 * Math.sqrt(K), `[${M}x${K}]@[${K}x${N}] on ${e.adapter.name.slice(0, 20)}`);
      }
    }
  });
}

test('tiled batched matmul, each operand shared in turn, runs the tiled kernel', async () => {
  for (const e of await engines()) {
    const [B, M, K, N] = [3, 9, 20, 12];
    const a = randomArray(rng, B * M * K);
    const a2 = randomArray(rng, M * K);
    const b = randomArray(rng, K * N);
    const b3 = randomArray(rng, B * K * N);
    const { value, labels } = await withDispatchLabels(e, () =>
      e.scopeAsync(async () => [
        await matmul(e.fromArray(a, [B, M, K]), e.fromArray(b, [K, N]), { variant: 'tiled' }).read(),
        await matmul(e.fromArray(a2, [M, K]), e.fromArray(b3, [B, K, N]), { variant: 'tiled' }).read(),
      ]),
    );
    const want = new Float64Array(B * M * N);
    const want2 = new Float64Array(B * M * N);
    for (let i = 0; i < B; i++) {
      want.set(cpuMatmul(a.subarray(i * M * K, (i + 1) * M * K), b, M, K, N, false, false), i * M * N);
      want2.set(cpuMatmul(a2, b3.subarray(i * K * N, (i + 1) * K * N), M, K, N, false, false), i * M * N);
    }
    assertClose(value[0], want, 1e-5, 'shared B');
    assertClose(value[1], want2, 1e-5, 'shared A');
    assert.equal([...new Set(labels.filter((l) => l.startsWith('matmul')))], ['matmul_tiled.matmul_tiled']);
  }
});

test('an unknown matmul variant is a clear error', async () => {
  const e = await testEngine();
  e.scope(() => {
    const m = e.fromArray(new Float32Array(4), [2, 2]);
    assert.throws(() => matmul(m, m, { variant: 'blocked' as 'tiled' }), /unknown variant 'blocked'/);
  });
});

test.run();
