import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { testEngine } from './helpers/gpu.js';
import { assertClose, randomArray, testRandom } from './helpers/check.js';
import { cpuMatmul } from './helpers/matmul.js';
import { matmul, MATMUL_FAMILY, type MatmulVariant } from '../kernels/matmul.js';
import { assertVariantsCovered } from './helpers/variants.js';
import { permute, transpose2d } from '../kernels/permute.js';

const rng = testRandom('matmul');


// Every variant of the matmul family (kernels/choose.ts) on every case.
const variants: readonly MatmulVariant[] = MATMUL_FAMILY.variants;
for (const variant of variants) {
  for (const [ta, tb] of [[false, false], [true, false], [false, true], [true, true]] as const) {
    test(`matmul ${ta ? 'Aᵀ' : 'A'} @ ${tb ? 'Bᵀ' : 'B'} on odd sizes matches float64 (${variant})`, async () => {
      const e = await testEngine();
      for (const [M, K, N] of [[1, 1, 1], [37, 53, 29], [65, 7, 130], [3, 257, 5]]) {
        const a = randomArray(rng, M * K);
        const b = randomArray(rng, K * N);
        const got = await e.scopeAsync(() =>
          matmul(e.fromArray(a, ta ? [K, M] : [M, K]), e.fromArray(b, tb ? [N, K] : [K, N]), { transposeA: ta, transposeB: tb, variant }).read(),
        );
        assertClose(got, cpuMatmul(a, b, M, K, N, ta, tb), 2e-6 * Math.sqrt(K), `[${M}x${K}]@[${K}x${N}] ${variant}`);
      }
    });
  }
}

test('batched matmul, with a shared operand (every variant)', async () => {
  const e = await testEngine();
  const [B, M, K, N] = [3, 9, 17, 11];
  const a = randomArray(rng, B * M * K);
  const b = randomArray(rng, K * N);
  const want = new Float64Array(B * M * N);
  for (let i = 0; i < B; i++) want.set(cpuMatmul(a.subarray(i * M * K, (i + 1) * M * K), b, M, K, N, false, false), i * M * N);
  for (const variant of variants) {
    const got = await e.scopeAsync(() => matmul(e.fromArray(a, [B, M, K]), e.fromArray(b, [K, N]), { variant }).read());
    assertClose(got, want, 1e-5, `batched ${variant}`);
  }
});

test('matmul rejects mismatched shapes', async () => {
  const e = await testEngine();
  e.scope(() => {
    assert.throws(() => matmul(e.fromArray(new Float32Array(6), [2, 3]), e.fromArray(new Float32Array(8), [4, 2])), /inner sizes differ/);
  });
});

test('permute and transpose match index arithmetic, ranks 1 to 6 (each rank its own pipeline)', async () => {
  const e = await testEngine();
  const cases: [number[], number[]][] = [
    [[7], [0]],
    [[3, 5], [1, 0]],
    [[3, 5, 2], [2, 0, 1]],
    [[3, 5, 2, 7], [2, 0, 3, 1]],
    [[2, 3, 1, 4, 3], [4, 2, 0, 3, 1]],
    [[2, 1, 3, 2, 2, 3], [5, 3, 1, 0, 4, 2]],
  ];
  for (const [shape, perm] of cases) {
    const n = shape.reduce((p, d) => p * d, 1);
    const x = randomArray(rng, n);
    const got = await e.scopeAsync(() => permute(e.fromArray(x, shape), perm).read());
    const outShape = perm.map((p) => shape[p]);
    const strides = shape.map((_, k) => shape.slice(k + 1).reduce((p, d) => p * d, 1));
    const want = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      // Output coordinates of element i, then the input element they name.
      let rem = i;
      let src = 0;
      for (let k = outShape.length - 1; k >= 0; k--) {
        src += (rem % outShape[k]) * strides[perm[k]];
        rem = Math.floor(rem / outShape[k]);
      }
      want[i] = x[src];
    }
    assertClose(got, want, 0, `permute [${shape}] by [${perm}]`);
  }
  const m = randomArray(rng, 35);
  const t = await e.scopeAsync(() => transpose2d(e.fromArray(m, [5, 7])).read());
  for (let r = 0; r < 5; r++) for (let c = 0; c < 7; c++) assert.is(t[c * 5 + r], m[r * 7 + c]);
});

test('every matmul variant ran against float64', () => assertVariantsCovered(['matmul']));

test.run();
