/** Seeded test matrices shared by the linear-algebra tests. */
import { mulberry32 } from '../../src/analysis/stats/random';

/** Deterministic PRNG (mulberry32): uniform in [0, 1). */
export const prng = mulberry32;

export function randomMatrix(rows: number, cols: number, seed: number): Float64Array {
  const r = prng(seed);
  return Float64Array.from({ length: rows * cols }, () => 2 * r() - 1);
}

export function randomSymmetric(n: number, seed: number): Float64Array {
  const a = randomMatrix(n, n, seed);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

/** Random orthogonal n×n (modified Gram–Schmidt on a random matrix, twice for full precision). */
export function randomOrthogonal(n: number, seed: number): Float64Array {
  const q = randomMatrix(n, n, seed); // columns are orthonormalised
  for (let pass = 0; pass < 2; pass++) {
    for (let j = 0; j < n; j++) {
      for (let k = 0; k < j; k++) {
        let dot = 0;
        for (let i = 0; i < n; i++) dot += q[i * n + j] * q[i * n + k];
        for (let i = 0; i < n; i++) q[i * n + j] -= dot * q[i * n + k];
      }
      let norm = 0;
      for (let i = 0; i < n; i++) norm += q[i * n + j] ** 2;
      norm = Math.sqrt(norm);
      for (let i = 0; i < n; i++) q[i * n + j] /= norm;
    }
  }
  return q;
}
