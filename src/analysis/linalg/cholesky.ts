import { LinalgError } from './errors';
import { assertFinite, assertShape, type RealArray } from './matrix';

/** Options of {@link cholesky}. */
export interface CholeskyOptions {
  /**
   * Diagonal jitter retry for matrices that are positive semi-definite up to round-off (Grams of collinear data).
   * `false` (default): no retry, a non-positive pivot throws. `true`: retry with jitter 1e-12·mean(diag(A)),
   * multiplied by 10 on each failure, at most 8 retries (up to 1e-4·mean diag). A number: the same with that
   * *relative* starting jitter. The jitter actually added is returned, so callers can report it.
   */
  jitter?: boolean | number;
}

/** Result of {@link cholesky}. */
export interface CholeskyResult {
  /** n×n row-major lower-triangular L with A + jitter·I = L·Lᵀ; the strict upper triangle is zero. */
  factor: Float64Array;
  /** Absolute amount added to the diagonal (0 when the plain factorisation succeeded). */
  jitter: number;
}

const MAX_RETRIES = 8;

/**
 * Cholesky factorisation A = L·Lᵀ of a symmetric positive-definite n×n row-major matrix (lower triangle read).
 * Row-oriented (Cholesky–Banachiewicz): every inner product runs over two contiguous row prefixes.
 * @throws LinalgError if a has the wrong length or non-finite values, or A (+ the largest jitter tried) is not
 *   positive definite; the message gives the failing pivot.
 */
export function cholesky(a: RealArray, n: number, options: CholeskyOptions = {}): CholeskyResult {
  assertShape('cholesky', 'a', a, n, n);
  assertFinite('cholesky', 'a', a);
  const jitterOption = options.jitter ?? false;
  const factor = new Float64Array(n * n);
  let failure = factorInto(a, n, 0, factor);
  if (failure === null) return { factor, jitter: 0 };
  if (jitterOption === false) {
    const detail = `matrix is not positive definite (pivot ${failure.index} = ${failure.pivot})`;
    throw new LinalgError('cholesky', detail, 'a');
  }
  const relative = jitterOption === true ? 1e-12 : jitterOption;
  if (!(relative > 0) || !Number.isFinite(relative)) {
    const detail = `expected true, false or a positive relative jitter, found ${relative}`;
    throw new LinalgError('cholesky', detail, 'options.jitter');
  }
  let meanDiag = 0;
  for (let i = 0; i < n; i++) meanDiag += Math.abs(a[i * n + i]);
  meanDiag = meanDiag > 0 ? meanDiag / n : 1;
  let jitter = relative * meanDiag;
  for (let attempt = 0; attempt < MAX_RETRIES; attempt++, jitter *= 10) {
    failure = factorInto(a, n, jitter, factor);
    if (failure === null) return { factor, jitter };
  }
  throw new LinalgError(
    'cholesky',
    `matrix is not positive definite even with jitter ${jitter / 10} on the diagonal ` +
      `(pivot ${failure?.index} = ${failure?.pivot})`,
    'a',
  );
}

/** Factorises A + jitter·I into l; returns null on success or the first non-positive pivot. */
function factorInto(
  a: RealArray, n: number, jitter: number, l: Float64Array,
): { index: number; pivot: number } | null {
  l.fill(0);
  for (let i = 0; i < n; i++) {
    const ri = i * n;
    for (let j = 0; j <= i; j++) {
      const rj = j * n;
      let s = a[ri + j];
      // Four partial sums: shorter dependency chains (the dot product is latency-bound otherwise).
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let k = 0;
      for (; k + 4 <= j; k += 4) {
        s0 += l[ri + k] * l[rj + k];
        s1 += l[ri + k + 1] * l[rj + k + 1];
        s2 += l[ri + k + 2] * l[rj + k + 2];
        s3 += l[ri + k + 3] * l[rj + k + 3];
      }
      for (; k < j; k++) s0 += l[ri + k] * l[rj + k];
      s -= s0 + s1 + s2 + s3;
      if (j < i) {
        l[ri + j] = s / l[rj + j];
      } else {
        const pivot = s + jitter;
        if (!(pivot > 0)) return { index: i, pivot };
        l[ri + i] = Math.sqrt(pivot);
      }
    }
  }
  return null;
}

/**
 * Solves L·X = B by forward substitution. L: n×n row-major lower-triangular (upper triangle ignored);
 * B: n×nrhs row-major (a vector when nrhs = 1). Returns a fresh n×nrhs Float64Array.
 * @throws LinalgError on wrong lengths or a zero diagonal entry.
 */
export function solveLower(l: Float64Array, n: number, b: RealArray, nrhs = 1): Float64Array {
  assertShape('solveLower', 'l', l, n, n);
  assertShape('solveLower', 'b', b, n, nrhs);
  const x = Float64Array.from(b);
  for (let i = 0; i < n; i++) {
    const ri = i * n, xi = i * nrhs;
    for (let k = 0; k < i; k++) {
      const f = l[ri + k];
      if (f === 0) continue;
      const xk = k * nrhs;
      for (let c = 0; c < nrhs; c++) x[xi + c] -= f * x[xk + c];
    }
    const diag = l[ri + i];
    if (diag === 0) throw new LinalgError('solveLower', `zero diagonal entry at ${i}; the system is singular`, 'l');
    const inv = 1 / diag;
    for (let c = 0; c < nrhs; c++) x[xi + c] *= inv;
  }
  return x;
}

/**
 * Solves Lᵀ·X = B by back substitution, with L as in {@link solveLower} (n×n lower-triangular, row-major) and B
 * n×nrhs. Returns a fresh n×nrhs Float64Array.
 * @throws LinalgError on wrong lengths or a zero diagonal entry.
 */
export function solveLowerTransposed(l: Float64Array, n: number, b: RealArray, nrhs = 1): Float64Array {
  assertShape('solveLowerTransposed', 'l', l, n, n);
  assertShape('solveLowerTransposed', 'b', b, n, nrhs);
  const x = Float64Array.from(b);
  // Column-oriented: once x_i is final, subtract L_ik·x_i from the rows k < i (row i of L is contiguous).
  for (let i = n - 1; i >= 0; i--) {
    const ri = i * n, xi = i * nrhs;
    const diag = l[ri + i];
    if (diag === 0) {
      throw new LinalgError('solveLowerTransposed', `zero diagonal entry at ${i}; the system is singular`, 'l');
    }
    const inv = 1 / diag;
    for (let c = 0; c < nrhs; c++) x[xi + c] *= inv;
    for (let k = 0; k < i; k++) {
      const f = l[ri + k];
      if (f === 0) continue;
      const xk = k * nrhs;
      for (let c = 0; c < nrhs; c++) x[xk + c] -= f * x[xi + c];
    }
  }
  return x;
}

/**
 * Solves A·X = B for symmetric positive-definite A (n×n row-major, lower triangle read) and B n×nrhs, via
 * {@link cholesky} (same `jitter` option) and two triangular solves. Returns X (fresh n×nrhs) and the jitter used.
 * @throws LinalgError as {@link cholesky}, or on wrong lengths / non-finite B.
 */
export function solveSpd(
  a: RealArray, n: number, b: RealArray, nrhs = 1, options: CholeskyOptions = {},
): { x: Float64Array; jitter: number } {
  assertShape('solveSpd', 'b', b, n, nrhs);
  assertFinite('solveSpd', 'b', b);
  const { factor, jitter } = cholesky(a, n, options);
  return { x: solveLowerTransposed(factor, n, solveLower(factor, n, b, nrhs), nrhs), jitter };
}
