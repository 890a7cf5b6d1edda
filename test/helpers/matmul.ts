// The float64 reference for matmul (test/matmul.test.ts, test/matmul-tiled.test.ts).

/** op(A) @ op(B) in float64: A [M, K] (or [K, M] if `ta`), B [K, N] (or [N, K] if `tb`) -> [M, N]. */
export function cpuMatmul(a: Float32Array, b: Float32Array, M: number, K: number, N: number, ta: boolean, tb: boolean): Float64Array {
  const c = new Float64Array(M * N);
  for (let i = 0; i < M; i++)
    for (let j = 0; j < N; j++) {
      let s = 0;
      for (let k = 0; k < K; k++) s += (ta ? a[k * M + i] : a[i * K + k]) * (tb ? b[j * K + k] : b[k * N + j]);
      c[i * N + j] = s;
    }
  return c;
}
