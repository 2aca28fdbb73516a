/**
 * The one closeness assertion of the tests: |actual − expected| ≤ abs + rel·|expected|, element by element,
 * for numbers or arrays (numpy.testing.assert_allclose's rule, with `expected` as the reference). NaN matches
 * NaN only, ±∞ only itself; a value that is not a number fails with what it is. On failure the message names
 * what was compared, the worst element, both values, the difference and what was allowed.
 */
import assert from 'node:assert/strict';

export interface Tolerance {
  /** Absolute part (default 0). */
  abs?: number;
  /** Relative part, times |expected| (default 0). */
  rel?: number;
}

/** Tolerances by dtype for results that went through the same arithmetic in another implementation. */
export const DTYPE_TOLERANCE = {
  float64: { abs: 1e-12, rel: 1e-10 },
  float32: { abs: 1e-6, rel: 1e-4 },
} as const satisfies Record<string, Tolerance>;

function values(x: unknown, what: string, side: string): ArrayLike<number> {
  if (typeof x === 'number') return [x];
  if (x !== null && typeof x === 'object' && typeof (x as ArrayLike<unknown>).length === 'number') {
    const a = x as ArrayLike<unknown>;
    for (let i = 0; i < a.length; i++) {
      if (typeof a[i] !== 'number') assert.fail(`${what}: ${side} element ${i} is ${String(a[i])}, expected a number`);
    }
    return a as ArrayLike<number>;
  }
  return assert.fail(`${what}: ${side} is ${String(x)}, expected a number or an array of numbers`);
}

export function expectClose(actual: unknown, expected: unknown, tol: Tolerance, what: string): void {
  const a = values(actual, what, 'actual');
  const e = values(expected, what, 'expected');
  assert.equal(a.length, e.length, `${what}: ${a.length} values, expected ${e.length}`);
  const abs = tol.abs ?? 0;
  const rel = tol.rel ?? 0;
  let worst = -1;
  let worstExcess = 0;
  for (let i = 0; i < e.length; i++) {
    const x = a[i];
    const y = e[i];
    const ok = Number.isNaN(y) ? Number.isNaN(x) : Number.isFinite(y) ? Math.abs(x - y) <= abs + rel * Math.abs(y) : x === y;
    if (ok) continue;
    const excess = Number.isFinite(x - y) ? Math.abs(x - y) / (abs + rel * Math.abs(y) || Number.MIN_VALUE) : Infinity;
    if (worst < 0 || excess > worstExcess) {
      worst = i;
      worstExcess = excess;
    }
  }
  if (worst >= 0) {
    const x = a[worst];
    const y = e[worst];
    const at = e.length > 1 ? ` element ${worst} of ${e.length}:` : '';
    assert.fail(`${what}:${at} ${x} vs expected ${y} (|Δ| ${Math.abs(x - y).toExponential(2)} > ${abs} + ${rel}·|expected|)`);
  }
}
