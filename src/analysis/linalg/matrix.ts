import { LinalgError } from './errors';

/**
 * Conventions for the whole `linalg` folder: a matrix is a plain typed array in **row-major** order together with
 * its dimensions passed as separate arguments (`a, rows, cols`); element (i, j) is `a[i * cols + j]`. Square
 * matrices take a single `n`. Results are always fresh `Float64Array`s; inputs named `x` may also be
 * `Float32Array` (activations straight from a runtime) and are widened to float64 as they are read.
 */
export type RealArray = Float32Array | Float64Array;

/** Throws unless `a` is a typed array holding exactly `rows * cols` elements and the sizes are valid. */
export function assertShape(op: string, name: string, a: RealArray, rows: number, cols: number): void {
  if (!Number.isInteger(rows) || rows < 0 || !Number.isInteger(cols) || cols < 0) {
    throw new LinalgError(op, `expected non-negative integer dimensions, found ${rows}×${cols}`, name);
  }
  if (!(a instanceof Float64Array) && !(a instanceof Float32Array)) {
    throw new LinalgError(op, 'expected a Float64Array or Float32Array', name);
  }
  if (a.length !== rows * cols) {
    throw new LinalgError(op, `expected ${rows}×${cols} = ${rows * cols} elements, found ${a.length}`, name);
  }
}

/** Throws a `LinalgError` naming `name` and the first offending index if `a` holds a NaN or ±Infinity. */
export function assertFinite(op: string, name: string, a: RealArray): void {
  for (let i = 0; i < a.length; i++) {
    const v = a[i];
    // v - v is NaN exactly for NaN and ±Infinity; one comparison per element keeps this cheap.
    if (v - v !== 0) throw new LinalgError(op, `contains ${v} at index ${i}; expected finite values`, name);
  }
}

/** Fresh rows×cols matrix of zeros. */
export function zeros(rows: number, cols: number): Float64Array {
  return new Float64Array(rows * cols);
}

/** Fresh n×n identity matrix. */
export function identity(n: number): Float64Array {
  const out = new Float64Array(n * n);
  for (let i = 0; i < n; i++) out[i * n + i] = 1;
  return out;
}

/**
 * Transpose of the rows×cols matrix `a`: a fresh cols×rows Float64Array. Blocked in 32×32 tiles so both the reads
 * and the writes stay in cache for large matrices.
 */
export function transpose(a: RealArray, rows: number, cols: number): Float64Array {
  assertShape('transpose', 'a', a, rows, cols);
  const out = new Float64Array(rows * cols);
  const B = 32;
  for (let i0 = 0; i0 < rows; i0 += B) {
    const i1 = Math.min(i0 + B, rows);
    for (let j0 = 0; j0 < cols; j0 += B) {
      const j1 = Math.min(j0 + B, cols);
      for (let i = i0; i < i1; i++) {
        const ri = i * cols;
        for (let j = j0; j < j1; j++) out[j * rows + i] = a[ri + j];
      }
    }
  }
  return out;
}

/** Copies the lower triangle of the n×n matrix `a` onto its upper triangle, in place; returns `a`. */
export function symmetrizeFromLower(a: Float64Array, n: number): Float64Array {
  assertShape('symmetrizeFromLower', 'a', a, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

/** Largest |a_ij − a_ji| of the n×n matrix `a` (0 for an exactly symmetric matrix). */
export function asymmetry(a: RealArray, n: number): number {
  assertShape('asymmetry', 'a', a, n, n);
  let m = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) m = Math.max(m, Math.abs(a[i * n + j] - a[j * n + i]));
  return m;
}

/** Frobenius norm of any matrix (as a flat array), computed with scaling so it neither overflows nor underflows. */
export function frobeniusNorm(a: RealArray): number {
  let scale = 0;
  for (let i = 0; i < a.length; i++) scale = Math.max(scale, Math.abs(a[i]));
  if (scale === 0 || !Number.isFinite(scale)) return scale;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const v = a[i] / scale;
    s += v * v;
  }
  return scale * Math.sqrt(s);
}
