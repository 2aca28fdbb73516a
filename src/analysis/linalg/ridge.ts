import { solveSpd } from './cholesky';
import { LinalgError } from './errors';
import { gram, matmulAtB } from './gemm';
import { assertFinite, assertShape, type RealArray } from './matrix';

/** Result of {@link ridgeSolve}. */
export interface RidgeResult {
  /** p×q row-major coefficients B: predictions are (x − xMean)·B + yMean. */
  coef: Float64Array;
  /** Intercept per output (length q): yMean − xMeanᵀ·B. */
  intercept: Float64Array;
  /** Column means of X (length p) and of Y (length q) used for centring. */
  xMean: Float64Array;
  yMean: Float64Array;
  /** Diagonal jitter the Cholesky solve had to add beyond α (0 normally). */
  jitter: number;
}

/**
 * Ridge regression with intercept: minimises ‖Y − X·B − 1·b₀ᵀ‖²_F + α‖B‖²_F (the intercept is not penalised, as in
 * scikit-learn's `Ridge`). X is rows×p, Y rows×q (row-major, float32 or float64). Both are centred in float64
 * first, then (XcᵀXc + α·I)·B = XcᵀYc is solved by Cholesky, retrying with diagonal jitter if XcᵀXc + αI is
 * numerically singular (tiny α on collinear units — ANALYSES.md §3 uses α = 1e-8).
 * @throws LinalgError on shape mismatch, non-finite input, α < 0, rows = 0, or a system singular beyond jitter.
 */
export function ridgeSolve(
  x: RealArray, y: RealArray, rows: number, p: number, q: number, alpha: number,
): RidgeResult {
  assertShape('ridgeSolve', 'x', x, rows, p);
  assertShape('ridgeSolve', 'y', y, rows, q);
  assertFinite('ridgeSolve', 'x', x);
  assertFinite('ridgeSolve', 'y', y);
  if (!(alpha >= 0) || !Number.isFinite(alpha)) {
    throw new LinalgError('ridgeSolve', `expected a finite α ≥ 0, found ${alpha}`, 'alpha');
  }
  if (rows === 0) throw new LinalgError('ridgeSolve', 'expected at least one sample, found 0 rows', 'x');
  const xMean = columnMeans(x, rows, p), yMean = columnMeans(y, rows, q);
  const xc = centred(x, rows, p, xMean), yc = centred(y, rows, q, yMean);
  const g = gram(xc, rows, p);
  for (let i = 0; i < p; i++) g[i * p + i] += alpha;
  const rhs = matmulAtB(xc, yc, rows, p, q);
  const { x: coef, jitter } = solveSpd(g, p, rhs, q, { jitter: true });
  const intercept = Float64Array.from(yMean);
  for (let i = 0; i < p; i++) for (let j = 0; j < q; j++) intercept[j] -= xMean[i] * coef[i * q + j];
  return { coef, intercept, xMean, yMean, jitter };
}

function columnMeans(a: RealArray, rows: number, cols: number): Float64Array {
  const m = new Float64Array(cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) m[j] += a[r * cols + j];
  for (let j = 0; j < cols; j++) m[j] /= rows;
  return m;
}

function centred(a: RealArray, rows: number, cols: number, mean: Float64Array): Float64Array {
  const out = new Float64Array(rows * cols);
  for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) out[r * cols + j] = a[r * cols + j] - mean[j];
  return out;
}
