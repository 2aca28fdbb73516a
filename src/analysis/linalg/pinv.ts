import { eigh } from './eigh';
import { LinalgError } from './errors';
import { matmulABt } from './gemm';
import { assertFinite, assertShape, symmetrizeFromLower, type RealArray } from './matrix';

/** Options of {@link pinvSym}. */
export interface PinvOptions {
  /** Absolute floor: eigenvalues with |λ| ≤ max(rtol·max|λ|, atol) are treated as zero. Default 0. */
  atol?: number;
}

/** Result of {@link pinvSym}. */
export interface PinvResult {
  /** n×n row-major symmetric pseudo-inverse Σ_{kept} v v ᵀ / λ (exactly symmetric). */
  pinv: Float64Array;
  /** Number of eigenvalues kept (the numerical rank at this tolerance). */
  rank: number;
  /** The cut-off used: max(rtol·max|λ|, atol). */
  threshold: number;
  /** All eigenvalues of A, descending (from {@link eigh}), so callers can report the spectrum around the cut. */
  values: Float64Array;
}

/**
 * Moore–Penrose pseudo-inverse of a symmetric n×n row-major matrix (lower triangle read), via {@link eigh}:
 * A⁺ = Σ_{|λ_k| > τ} v_k v_kᵀ / λ_k with τ = max(rtol·max|λ|, atol). For a PSD matrix (a Gram, a covariance) the
 * negative eigenvalues are round-off and fall under τ for any sensible rtol.
 *
 * `rtol` is required on purpose: there is no safe default. Eigenvalues of a computed Gram are only accurate to
 * about n·ε·λmax, so rtol below ≈ 1e-12 starts inverting round-off and blows the result up by orders of
 * magnitude (ANALYSES.md §1: NC1 late in training). numpy's `pinv(hermitian=True)` uses 1e-15·n relative; use
 * ≥ 1e-10 for Grams of float32 activations, or truncate to a known rank (Σ_B has rank ≤ C − 1).
 *
 * @throws LinalgError if rtol is not in [0, 1), a has the wrong length or non-finite values, or eigh fails.
 */
export function pinvSym(a: RealArray, n: number, rtol: number, options: PinvOptions = {}): PinvResult {
  assertShape('pinvSym', 'a', a, n, n);
  assertFinite('pinvSym', 'a', a);
  if (!(rtol >= 0 && rtol < 1)) throw new LinalgError('pinvSym', `expected 0 ≤ rtol < 1, found ${rtol}`, 'rtol');
  const atol = options.atol ?? 0;
  if (!(atol >= 0) || !Number.isFinite(atol)) {
    throw new LinalgError('pinvSym', `expected a finite atol ≥ 0, found ${atol}`, 'options.atol');
  }
  const { values, vectors } = eigh(a, n);
  let maxAbs = 0;
  for (let i = 0; i < n; i++) maxAbs = Math.max(maxAbs, Math.abs(values[i]));
  const threshold = Math.max(rtol * maxAbs, atol);
  const kept: number[] = [];
  for (let i = 0; i < n; i++) if (Math.abs(values[i]) > threshold) kept.push(i);
  // P = (V_kept·Λ⁻¹)·V_keptᵀ through the blocked kernel, then the lower triangle mirrored for exact symmetry.
  const r = kept.length;
  const vk = new Float64Array(n * r), vs = new Float64Array(n * r);
  for (let i = 0; i < n; i++) {
    for (let t = 0; t < r; t++) {
      const x = vectors[i * n + kept[t]];
      vk[i * r + t] = x;
      vs[i * r + t] = x / values[kept[t]];
    }
  }
  const pinv = symmetrizeFromLower(matmulABt(vs, vk, n, r, n), n);
  return { pinv, rank: r, threshold, values };
}
