/**
 * The Local Interaction Basis (Bushnaq et al. 2024, "The Local Interaction Basis: Identifying
 * Computationally-Relevant and Sparsely Interacting Features in Neural Networks"; ANALYSES.md §4) — the pure part:
 * moments, the two-step basis (whitening, then the Jacobian Gram M′), the closed form of M′ for Linear → pointwise
 * sections, edge accumulation, edge-mass statistics, invariant measures and the graph the side panel draws.
 *
 * Conventions (binding for the engine, the tests and scripts/reference/lib_mlp.py):
 * - A node layer of width w is **folded** to d = w + 1: a constant 1 is appended as the *last* coordinate; a
 *   bias is the weight column of that coordinate. The output node layer is not folded and keeps the identity
 *   basis (its "Λ" are the second moments E[f_i²]).
 * - Activations are row vectors; a basis C is d×r (row-major) and f̂ = f C; C_pinv is r×d with C_pinv C = I_r.
 *   Column 0 of every folded basis is the constant direction (f̂_0 ≡ √Λ_0); the others are sorted by Λ,
 *   descending.
 * - Expectations are over rows: samples, or (sample, position) pairs for sequence models.
 * Everything is float64; inputs may be Float32Array activations.
 */
import {
  LinalgError,
  eigh,
  matmul,
  matmulABt,
  matmulAtB,
  syrkAccumulate,
  type RealArray,
} from './linalg/index';
import type { LibEdgesResult, LibGraph, LibGraphEdge, LibLayerResult } from '../shared/results';

/** A truncation rule: keep eigenvalues λ > max(relative · λmax, absolute). */
export interface Thresholds {
  relative: number;
  absolute: number;
}

/** Default truncation: relative 1e-7 for both steps (drops only numerically null directions). */
export const DEFAULT_THRESHOLDS: Thresholds = { relative: 1e-7, absolute: 0 };

/** Error of the pure LIB routines: a shape, an argument or a degenerate input, named. */
export class LibError extends Error {
  override readonly name = 'LibError';
  constructor(
    readonly op: string,
    readonly detail: string,
  ) {
    super(`${op}: ${detail}`);
  }
}

function checkThresholds(op: string, t: Thresholds): void {
  if (!(t.relative >= 0 && t.relative < 1) || !(t.absolute >= 0) || !Number.isFinite(t.absolute)) {
    throw new LibError(op, `expected 0 ≤ relative < 1 and a finite absolute ≥ 0, found relative ${t.relative}, absolute ${t.absolute}`);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Moments
// ---------------------------------------------------------------------------------------------------------------

/**
 * Streaming first and second moments of unfolded activations (rows × width), accumulated around a shift (the
 * first batch's mean) so that Cov = E[(x−s)(x−s)ᵀ] − (μ−s)(μ−s)ᵀ loses no digits to a large mean.
 * Partial sums may also come from elsewhere (an ORT kernel) through {@link MomentAccumulator.addPartial}.
 */
export class MomentAccumulator {
  count = 0;
  shift: Float64Array | null = null;
  readonly sum: Float64Array;
  readonly gram: Float64Array;

  constructor(readonly width: number) {
    if (!Number.isInteger(width) || width < 1) throw new LibError('MomentAccumulator', `expected a positive width, found ${width}`);
    this.sum = new Float64Array(width);
    this.gram = new Float64Array(width * width);
  }

  /** Sets the shift from a first batch (its column means) unless one is set. Returns the shift. */
  ensureShift(x: RealArray, rows: number): Float64Array {
    if (this.shift) return this.shift;
    const w = this.width;
    const s = new Float64Array(w);
    for (let r = 0; r < rows; r++) for (let j = 0; j < w; j++) s[j] += x[r * w + j];
    if (rows > 0) for (let j = 0; j < w; j++) s[j] /= rows;
    this.shift = s;
    return s;
  }

  /** Adds a batch (rows × width, row-major) in float64. */
  add(x: RealArray, rows: number): void {
    const w = this.width;
    if (x.length !== rows * w) throw new LibError('MomentAccumulator.add', `expected ${rows}×${w} values, found ${x.length}`);
    if (rows === 0) return;
    const s = this.ensureShift(x, rows);
    const c = new Float64Array(rows * w);
    for (let r = 0; r < rows; r++) {
      const o = r * w;
      for (let j = 0; j < w; j++) {
        const v = x[o + j] - s[j];
        c[o + j] = v;
        this.sum[j] += v;
      }
    }
    syrkAccumulate(this.gram, c, rows, w);
    this.count += rows;
  }

  /** Adds precomputed Σ(x−shift) and Σ(x−shift)(x−shift)ᵀ over `rows` rows (the shift must be set). */
  addPartial(sum: Float64Array, gram: Float64Array, rows: number): void {
    if (!this.shift) throw new LibError('MomentAccumulator.addPartial', 'set the shift (ensureShift) before adding partial sums');
    for (let j = 0; j < this.width; j++) this.sum[j] += sum[j];
    for (let i = 0; i < this.gram.length; i++) this.gram[i] += gram[i];
    this.count += rows;
  }

  /** Folded mean (length width + 1, last entry 1). @throws LibError when nothing was added */
  mean(): Float64Array {
    this.needRows('mean');
    const w = this.width;
    const m = new Float64Array(w + 1);
    for (let j = 0; j < w; j++) m[j] = this.shift![j] + this.sum[j] / this.count;
    m[w] = 1;
    return m;
  }

  /** Centred covariance E[(x−μ)(x−μ)ᵀ] (width × width, population normalisation, exactly symmetric). */
  covariance(): Float64Array {
    this.needRows('covariance');
    const w = this.width, n = this.count;
    const d = new Float64Array(w);
    for (let j = 0; j < w; j++) d[j] = this.sum[j] / n;
    const c = new Float64Array(w * w);
    for (let i = 0; i < w; i++) {
      for (let j = 0; j <= i; j++) {
        const v = this.gram[i * w + j] / n - d[i] * d[j];
        c[i * w + j] = v;
        c[j * w + i] = v;
      }
    }
    return c;
  }

  /** Uncentred second moments E[x_i²] (diagonal only). */
  secondMomentsDiagonal(): Float64Array {
    this.needRows('secondMomentsDiagonal');
    const w = this.width, n = this.count;
    const out = new Float64Array(w);
    for (let j = 0; j < w; j++) {
      const s = this.shift![j];
      // E[x²] = E[(x−s)²] + 2s·E[x−s] + s²
      out[j] = this.gram[j * w + j] / n + (2 * s * this.sum[j]) / n + s * s;
    }
    return out;
  }

  private needRows(op: string): void {
    if (this.count === 0 || !this.shift) throw new LibError(`MomentAccumulator.${op}`, 'no rows were added');
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Bases
// ---------------------------------------------------------------------------------------------------------------

/** The first step of ANALYSES.md §4 (steps 1–4): the centred Gram's eigenbasis after the first truncation. */
export interface Whitening {
  /** Unfolded width w (the folded dimension is w + 1). */
  width: number;
  /** Folded mean μ̃ (length w + 1, last entry 1). */
  mean: Float64Array;
  /** All w eigenvalues of the centred covariance, descending. */
  covEigenvalues: Float64Array;
  /** The cut-off of the first truncation. */
  threshold: number;
  /** Non-constant directions kept, m (the first rank is k = m + 1). */
  kept: number;
  /** w × m, row-major: column a is the unit eigenvector of covEigenvalues[a]. */
  U: Float64Array;
  /** k = m + 1 values: [1 (the constant direction), the kept eigenvalues]. */
  D: Float64Array;
}

/**
 * Eigendecomposition of the centred Gram G = E[(fY)ᵀ(fY)] of folded activations, split as ANALYSES.md §4 says:
 * with f Y = f − μ̃ except on the constant coordinate, G = [[Cov, 0], [0, 1]], so the constant direction e_last
 * is an exact eigenvector (eigenvalue 1) and is kept first; the rest is the covariance's eigenbasis, truncated
 * to eigenvalues > max(relative · λmax(Cov), absolute).
 * @param mean folded mean (w + 1, last entry 1) @param cov w×w centred covariance
 * @throws LibError on bad shapes or thresholds; LinalgError when cov holds NaN/Inf
 */
export function whiten(mean: Float64Array, cov: Float64Array, width: number, thresholds: Thresholds = DEFAULT_THRESHOLDS): Whitening {
  checkThresholds('whiten', thresholds);
  const w = width;
  if (mean.length !== w + 1) throw new LibError('whiten', `expected a folded mean of length ${w + 1}, found ${mean.length}`);
  if (cov.length !== w * w) throw new LibError('whiten', `expected a ${w}×${w} covariance, found ${cov.length} values`);
  const { values, vectors } = eigh(cov, w);
  const lmax = Math.max(values[0], 0);
  const threshold = Math.max(thresholds.relative * lmax, thresholds.absolute);
  let m = 0;
  while (m < w && values[m] > threshold) m++;
  const U = new Float64Array(w * m);
  for (let i = 0; i < w; i++) for (let a = 0; a < m; a++) U[i * m + a] = vectors[i * w + a];
  const D = new Float64Array(m + 1);
  D[0] = 1;
  for (let a = 0; a < m; a++) D[a + 1] = values[a];
  return { width: w, mean: Float64Array.from(mean), covEigenvalues: values, threshold, kept: m, U, D };
}

/** A basis of one node layer (LIB, PCA or the output's identity). */
export interface LayerBasis {
  kind: 'lib' | 'pca' | 'identity';
  /** Whether the rows of C include the constant coordinate (last). */
  folded: boolean;
  /** Rows of C: w + 1 when folded, else w. */
  dim: number;
  /** Columns of C (directions kept), constant direction included. */
  rank: number;
  /** k, directions after the first truncation (constant included); folded bases only. */
  firstRank?: number;
  /** Λ per direction (index 0 = constant for folded bases); PCA: the covariance eigenvalues (1 for the constant). */
  lambdas: Float64Array;
  /** f̂_0 for folded bases: √Λ_0, or 1 when Λ_0 is not positive (then `warning` says so). */
  constantScale: number;
  /** dim × rank, row-major. */
  C: Float64Array;
  /** rank × dim, row-major. */
  Cpinv: Float64Array;
  /** The cut-off of the second truncation (LIB only). */
  secondThreshold?: number;
  warning?: string;
}

/**
 * The PCA baseline (ANALYSES.md §4 step 4: stop at C = W = Y U): f̂ = [1, (f − μ)·u_1, …]; C_pinv = Uᵀ Y⁻¹.
 * Λ are the covariance eigenvalues, 1 for the constant direction.
 */
export function pcaBasis(wh: Whitening): LayerBasis {
  return assemble('pca', wh, identityRotation(wh.kept), wh.D, 1);
}

/** The output layer's basis: the identity on the (unfolded) width, with Λ = E[f_i²] when given. */
export function identityBasis(width: number, secondMoments?: Float64Array): LayerBasis {
  const C = new Float64Array(width * width);
  for (let i = 0; i < width; i++) C[i * width + i] = 1;
  return {
    kind: 'identity', folded: false, dim: width, rank: width,
    lambdas: secondMoments ? Float64Array.from(secondMoments) : new Float64Array(width).fill(1),
    constantScale: 1, C, Cpinv: Float64Array.from(C),
  };
}

/**
 * M′ of one layer, in one of two forms: the full folded d×d matrix E[J̄ᵀJ̄] (autodiff sections), or a factor F
 * (d × cols) with M′ = F Fᵀ (the closed form; keeps the second eigendecomposition small when cols < d).
 */
export type MPrime = { full: Float64Array } | { factor: Float64Array; cols: number };

/**
 * The LIB basis of one node layer (ANALYSES.md §4 steps 5–7): M = R_pinv M′ R_pinvᵀ in the whitened
 * coordinates, eigendecomposed with the constant direction kept unrotated (M[1:,1:] = V′ΛV′ᵀ, Λ_0 = M_00),
 * second truncation Λ > max(relative · max Λ_{≥1}, absolute), C = R V Λ^{1/2}, C_pinv = Λ^{-1/2} Vᵀ R_pinv.
 * Λ are the eigenvalues of M (the "jacobian" basis formula of ApolloResearch/rib), so that on the data the
 * basis was built from E[f̂ᵀ f̂] = diag(Λ) and E[Ĵᵀ Ĵ] = I on the non-constant directions.
 * When M′ is given as a factor with fewer columns than kept directions, the eigenvectors of M[1:,1:] = K Kᵀ come
 * from the small eigenproblem of KᵀK (V = K Q Σ⁻¹), exact in exact arithmetic.
 * @throws LibError on shapes/thresholds
 */
export function libBasis(wh: Whitening, mPrime: MPrime, thresholds: Thresholds = DEFAULT_THRESHOLDS): LayerBasis {
  checkThresholds('libBasis', thresholds);
  const w = wh.width, d = w + 1, m = wh.kept, k = m + 1;
  const Rp = rPinv(wh); // k × d
  let lambda0: number;
  let eigvals: Float64Array; // eigenvalues of M[1:,1:], descending, |·|
  let eigvecs: (cols: number[]) => Float64Array; // m × cols.length, the eigenvectors picked
  if ('factor' in mPrime) {
    const q = mPrime.cols;
    if (mPrime.factor.length !== d * q) throw new LibError('libBasis', `expected a ${d}×${q} factor of M′, found ${mPrime.factor.length} values`);
    const K = matmul(Rp, mPrime.factor, k, d, q); // k × q
    lambda0 = 0;
    for (let c = 0; c < q; c++) lambda0 += K[c] * K[c];
    const K1 = K.subarray(q); // m × q
    if (q < m) {
      const T = matmulAtB(K1, K1, m, q, q);
      const { values, vectors } = eigh(T, q);
      const abs = values.map((v) => Math.abs(v));
      const order = argsortDesc(abs);
      const sorted = Float64Array.from(order, (i) => abs[i]);
      eigvals = sorted;
      eigvecs = (cols) => {
        // Columns K Q_j / σ_j.
        const Qs = new Float64Array(q * cols.length);
        cols.forEach((c, t) => {
          const j = order[c];
          const s = Math.sqrt(sorted[c]);
          for (let a = 0; a < q; a++) Qs[a * cols.length + t] = vectors[a * q + j] / s;
        });
        return matmul(K1, Qs, m, q, cols.length);
      };
    } else {
      const M1 = matmulABt(K1, K1, m, q, m);
      ({ eigvals, eigvecs } = smallEigen(M1, m));
    }
  } else {
    if (mPrime.full.length !== d * d) throw new LibError('libBasis', `expected a ${d}×${d} M′, found ${mPrime.full.length} values`);
    const RM = matmul(Rp, mPrime.full, k, d, d);
    const M = matmulABt(RM, Rp, k, d, k);
    lambda0 = M[0];
    const M1 = new Float64Array(m * m);
    for (let i = 0; i < m; i++) for (let j = 0; j <= i; j++) M1[i * m + j] = M1[j * m + i] = 0.5 * (M[(i + 1) * k + j + 1] + M[(j + 1) * k + i + 1]);
    ({ eigvals, eigvecs } = smallEigen(M1, m));
  }
  const lmax = eigvals.length ? eigvals[0] : 0;
  const secondThreshold = Math.max(thresholds.relative * lmax, thresholds.absolute);
  const keep: number[] = [];
  for (let c = 0; c < eigvals.length; c++) if (eigvals[c] > secondThreshold && eigvals[c] > 0) keep.push(c);
  const Z = eigvecs(keep); // m × r1
  const lambdas = new Float64Array(keep.length + 1);
  lambdas[0] = lambda0;
  keep.forEach((c, t) => (lambdas[t + 1] = eigvals[c]));
  let constantScale = Math.sqrt(Math.max(lambda0, 0));
  let warning: string | undefined;
  if (!(lambda0 > 0) || !Number.isFinite(constantScale) || constantScale === 0) {
    constantScale = 1;
    warning = `Λ of the constant direction is ${lambda0}; its direction is kept with scale 1`;
  }
  const basis = assemble('lib', wh, { Z, cols: keep.length }, lambdas, constantScale);
  basis.secondThreshold = secondThreshold;
  if (warning) basis.warning = warning;
  return basis;
}

function smallEigen(M1: Float64Array, m: number): { eigvals: Float64Array; eigvecs: (cols: number[]) => Float64Array } {
  if (m === 0) return { eigvals: new Float64Array(0), eigvecs: () => new Float64Array(0) };
  const { values, vectors } = eigh(M1, m);
  const abs = values.map((v) => Math.abs(v));
  const order = argsortDesc(abs);
  const eigvals = Float64Array.from(order, (i) => abs[i]);
  return {
    eigvals,
    eigvecs: (cols) => {
      const Z = new Float64Array(m * cols.length);
      cols.forEach((c, t) => {
        const j = order[c];
        for (let a = 0; a < m; a++) Z[a * cols.length + t] = vectors[a * m + j];
      });
      return Z;
    },
  };
}

function argsortDesc(v: Float64Array): number[] {
  return [...v.keys()].sort((a, b) => v[b] - v[a] || a - b);
}

function identityRotation(m: number): { Z: Float64Array; cols: number } {
  const Z = new Float64Array(m * m);
  for (let a = 0; a < m; a++) Z[a * m + a] = 1;
  return { Z, cols: m };
}

/** R_pinv = D^{1/2} Uᵀ Y⁻¹ (k × d): row 0 = [μ, 1]; row a ≥ 1 = [√D_a u_aᵀ, 0]. */
function rPinv(wh: Whitening): Float64Array {
  const w = wh.width, d = w + 1, m = wh.kept, k = m + 1;
  const R = new Float64Array(k * d);
  for (let j = 0; j < w; j++) R[j] = wh.mean[j];
  R[w] = 1;
  for (let a = 0; a < m; a++) {
    const s = Math.sqrt(wh.D[a + 1]);
    const o = (a + 1) * d;
    for (let j = 0; j < w; j++) R[o + j] = s * wh.U[j * m + a];
  }
  return R;
}

/**
 * C and C_pinv from a rotation Z (m × r1, columns = the kept eigenvectors of M[1:,1:] in whitened coordinates) and
 * Λ: C[:w, j] = √Λ_j U D^{-1/2} z_j, C[w, j] = −μ·C[:w, j], C[:, 0] = s_0 e_last;
 * C_pinv[j] = Λ_j^{-1/2} [(U D^{1/2} z_j)ᵀ, 0], C_pinv[0] = [μ, 1] / s_0. PCA is Z = I, Λ = D, s_0 = 1.
 */
function assemble(kind: 'lib' | 'pca', wh: Whitening, rot: { Z: Float64Array; cols: number }, lambdas: Float64Array, s0: number): LayerBasis {
  const w = wh.width, d = w + 1, m = wh.kept, r1 = rot.cols, r = r1 + 1;
  // B = U diag(D^{-1/2}) Z and B′ = U diag(D^{1/2}) Z (w × r1).
  const Zm = new Float64Array(m * r1), Zp = new Float64Array(m * r1);
  for (let a = 0; a < m; a++) {
    const s = Math.sqrt(wh.D[a + 1]);
    for (let t = 0; t < r1; t++) {
      Zm[a * r1 + t] = rot.Z[a * r1 + t] / s;
      Zp[a * r1 + t] = rot.Z[a * r1 + t] * s;
    }
  }
  const B = matmul(wh.U, Zm, w, m, r1);
  const Bp = matmul(wh.U, Zp, w, m, r1);
  const C = new Float64Array(d * r);
  const Cpinv = new Float64Array(r * d);
  C[w * r] = s0;
  for (let j = 0; j < w; j++) Cpinv[j] = wh.mean[j] / s0;
  Cpinv[w] = 1 / s0;
  for (let t = 0; t < r1; t++) {
    const sl = Math.sqrt(lambdas[t + 1]);
    let dot = 0;
    for (let i = 0; i < w; i++) {
      const v = sl * B[i * r1 + t];
      C[i * r + t + 1] = v;
      dot += wh.mean[i] * v;
      Cpinv[(t + 1) * d + i] = Bp[i * r1 + t] / sl;
    }
    C[w * r + t + 1] = -dot;
  }
  return { kind, folded: true, dim: d, rank: r, firstRank: m + 1, lambdas: Float64Array.from(lambdas), constantScale: s0, C, Cpinv };
}

// ---------------------------------------------------------------------------------------------------------------
// M′ in closed form (Linear → pointwise activation)
// ---------------------------------------------------------------------------------------------------------------

/**
 * The rows of C^{l+1} that carry derivatives: all of them for an unfolded (output) basis, all but the constant
 * coordinate's row for a folded one. Returns h × r (h = the section's output width).
 */
export function derivativeRows(next: LayerBasis): Float64Array {
  if (!next.folded) return next.C;
  return next.C.subarray(0, (next.dim - 1) * next.rank);
}

/**
 * S = (P Pᵀ) ⊙ E[g gᵀ] (h × h), the middle of the closed form M′ = W̃ᵀ S W̃ (ANALYSES.md §4), with P = C^{l+1}'s
 * derivative rows (h × r) and g = σ′(pre-activation). `egg` null means no activation (g ≡ 1).
 */
export function closedFormMiddle(P: Float64Array, h: number, r: number, egg: Float64Array | null): Float64Array {
  if (P.length !== h * r) throw new LibError('closedFormMiddle', `expected P ${h}×${r}, found ${P.length} values`);
  const S = matmulABt(P, P, h, r, h);
  if (egg) {
    if (egg.length !== h * h) throw new LibError('closedFormMiddle', `expected E[ggᵀ] ${h}×${h}, found ${egg.length} values`);
    for (let i = 0; i < S.length; i++) S[i] *= egg[i];
  }
  return S;
}

/**
 * M′ = W̃ᵀ S W̃ as a factor F = W̃ᵀ L (d × q) with S = L Lᵀ from S's eigendecomposition (S is PSD: a Hadamard
 * product of PSD matrices; eigenvalues ≤ 1e-15·max are dropped as round-off). W̃ is h × d (the folded weight [W|b]).
 */
export function closedFormFactor(Wt: Float64Array, h: number, d: number, S: Float64Array): { factor: Float64Array; cols: number } {
  if (Wt.length !== h * d) throw new LibError('closedFormFactor', `expected W̃ ${h}×${d}, found ${Wt.length} values`);
  const { values, vectors } = eigh(S, h);
  const smax = Math.max(values[0], 0);
  let q = 0;
  while (q < h && values[q] > 1e-15 * smax && values[q] > 0) q++;
  const L = new Float64Array(h * q);
  for (let i = 0; i < h; i++) for (let c = 0; c < q; c++) L[i * q + c] = vectors[i * h + c] * Math.sqrt(values[c]);
  return { factor: matmulAtB(Wt, L, h, d, q), cols: q };
}

/** The full M′ = W̃ᵀ S W̃ (d × d), for checks. */
export function closedFormMPrime(Wt: Float64Array, h: number, d: number, S: Float64Array): Float64Array {
  const SW = matmul(S, Wt, h, h, d);
  const M = matmulAtB(Wt, SW, h, d, d);
  for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) M[i * d + j] = M[j * d + i] = 0.5 * (M[i * d + j] + M[j * d + i]);
  return M;
}

/** Expands a factor to the full M′ = F Fᵀ (d × d). */
export function mPrimeFull(mp: MPrime, d: number): Float64Array {
  return 'full' in mp ? mp.full : matmulABt(mp.factor, mp.factor, d, mp.cols, d);
}

/**
 * σ′ from the activation's *output* h (the next node layer), elementwise: Relu 1[h > 0]; LeakyRelu 1 or α;
 * Sigmoid h(1−h); Tanh 1−h². Valid because each of these is monotone, so the output determines σ′.
 */
export type Pointwise = { op: 'Relu' } | { op: 'LeakyRelu'; alpha: number } | { op: 'Sigmoid' } | { op: 'Tanh' };

export function gatesFromOutput(act: Pointwise, out: RealArray): Float64Array {
  const g = new Float64Array(out.length);
  switch (act.op) {
    case 'Relu':
      for (let i = 0; i < out.length; i++) g[i] = out[i] > 0 ? 1 : 0;
      break;
    case 'LeakyRelu':
      for (let i = 0; i < out.length; i++) g[i] = out[i] > 0 ? 1 : act.alpha;
      break;
    case 'Sigmoid':
      for (let i = 0; i < out.length; i++) g[i] = out[i] * (1 - out[i]);
      break;
    case 'Tanh':
      for (let i = 0; i < out.length; i++) g[i] = 1 - out[i] * out[i];
      break;
  }
  return g;
}

// ---------------------------------------------------------------------------------------------------------------
// Edges
// ---------------------------------------------------------------------------------------------------------------

/** f̂ = f_folded C for a batch of unfolded rows f (rows × w): rows × r, float64. */
export function projectRows(x: RealArray, rows: number, basis: LayerBasis): Float64Array {
  const r = basis.rank;
  const w = basis.folded ? basis.dim - 1 : basis.dim;
  if (x.length !== rows * w) throw new LibError('projectRows', `expected ${rows}×${w} activations, found ${x.length}`);
  const out = matmul(x, basis.C.subarray(0, w * r), rows, w, r);
  if (basis.folded) {
    const last = basis.C.subarray(w * r);
    for (let i = 0; i < rows; i++) for (let j = 0; j < r; j++) out[i * r + j] += last[j];
  }
  return out;
}

/**
 * Closed-form edges of a Linear → pointwise section, one batch, accumulated into E (r_{l+1} × r_l, sums — divide
 * by the row count at the end): Ĵ(x) = Pᵀ diag(g(x)) A diag(f̂(x)) with P = C^{l+1}'s derivative rows (h × r_{l+1}),
 * A = W̃ C^{l}_pinvᵀ (h × r_l); E_ij += Ĵ_ij(x)². Zero gates are skipped (ReLU: most of them).
 * `gates` null means no activation (g ≡ 1).
 */
export function closedFormEdgesAccumulate(
  E: Float64Array, P: Float64Array, A: Float64Array, h: number, rOut: number, rIn: number,
  gates: RealArray | null, fhat: Float64Array, rows: number,
): void {
  const tmp = new Float64Array(rOut * rIn);
  for (let b = 0; b < rows; b++) {
    tmp.fill(0);
    for (let k = 0; k < h; k++) {
      const g = gates ? gates[b * h + k] : 1;
      if (g === 0) continue;
      const ao = k * rIn;
      for (let i = 0; i < rOut; i++) {
        const c = P[k * rOut + i] * g;
        if (c === 0) continue;
        const to = i * rIn;
        for (let j = 0; j < rIn; j++) tmp[to + j] += c * A[ao + j];
      }
    }
    const fo = b * rIn;
    for (let i = 0; i < rOut; i++) {
      const to = i * rIn;
      for (let j = 0; j < rIn; j++) {
        const v = tmp[to + j] * fhat[fo + j];
        E[to + j] += v * v;
      }
    }
  }
}

/** A = W̃ C_pinvᵀ (h × r_l): the section's linear map into the LIB coordinates of layer l. */
export function sectionA(Wt: Float64Array, h: number, d: number, inBasis: LayerBasis): Float64Array {
  return matmulABt(Wt, inBasis.Cpinv, h, d, inBasis.rank);
}

/**
 * Accumulates, for one autodiff section, from folded Jacobian rows Ḡ (rows × d: ∂⟨c, F⟩/∂f for one output
 * direction c, with the constant coordinate's entry from the homogeneity offset — see the engine): M′ += ḠᵀḠ;
 * and, once the input basis is known, the edges row i and E[ĴᵀĴ] with Ĵ = Ḡ C_pinvᵀ. Rows are grouped by sample
 * (`positions` consecutive rows each); the attribution sums over input positions before squaring
 * (Ĵ_ij = Σ_s ∂f̂_i/∂f̂_{s,j} f̂_{s,j}), as ApolloResearch/rib's squared edges do.
 */
export class JacobianAccumulator {
  readonly mPrime: Float64Array;
  edges: Float64Array | null = null;
  jtj: Float64Array | null = null;
  /** Σ of the normalisation (sample·positions·sources) — set by the caller. */
  constructor(
    readonly d: number,
    readonly rOut: number,
  ) {
    this.mPrime = new Float64Array(d * d);
  }

  addMPrime(Gbar: Float64Array, rows: number): void {
    syrkAccumulate(this.mPrime, Gbar, rows, this.d);
  }

  /**
   * Edge row `i` (and E[ĴᵀĴ] when `withJtj`) from Ḡ, given the input basis and f̂ (rows × r_l). `H` = Ḡ C_pinvᵀ
   * (rows × r_l) may be passed precomputed (e.g. by a faster GEMM); it is formed here otherwise.
   */
  addEdges(i: number, Gbar: Float64Array, rows: number, positions: number, inBasis: LayerBasis, fhat: Float64Array, withJtj: boolean, H?: Float64Array): void {
    const r = inBasis.rank;
    this.edges ??= new Float64Array(this.rOut * r);
    H ??= matmulABt(Gbar, inBasis.Cpinv, rows, this.d, r);
    if (withJtj) {
      this.jtj ??= new Float64Array(r * r);
      syrkAccumulate(this.jtj, H, rows, r);
    }
    const samples = rows / positions;
    const acc = new Float64Array(r);
    for (let b = 0; b < samples; b++) {
      acc.fill(0);
      for (let s = 0; s < positions; s++) {
        const o = (b * positions + s) * r;
        for (let j = 0; j < r; j++) acc[j] += H[o + j] * fhat[o + j];
      }
      const eo = i * r;
      for (let j = 0; j < r; j++) this.edges[eo + j] += acc[j] * acc[j];
    }
  }
}

/** Edge-mass statistics of one edge matrix (or several): the smallest numbers of edges holding 90% / 99%. */
export interface EdgeMass {
  total: number;
  for90: number;
  for99: number;
}

/**
 * Counts the largest entries needed to reach 90% and 99% of the total, excluding row 0 when `skipRow0` (the
 * constant node of a folded target layer) and column 0 when `skipCol0` (the constant node of the source layer):
 * the constant node would otherwise hold most of the mass and make any graph look sparse (ANALYSES.md §4).
 */
export function edgeMass(weights: RealArray, rows: number, cols: number, skipRow0: boolean, skipCol0: boolean): EdgeMass {
  const vals: number[] = [];
  for (let i = skipRow0 ? 1 : 0; i < rows; i++) for (let j = skipCol0 ? 1 : 0; j < cols; j++) vals.push(weights[i * cols + j]);
  vals.sort((a, b) => b - a);
  let total = 0;
  for (const v of vals) total += v;
  const count = (q: number): number => {
    if (!(total > 0)) return 0;
    let c = 0;
    for (let t = 0; t < vals.length; t++) {
      c += vals[t];
      if (c >= q * total) return t + 1;
    }
    return vals.length;
  };
  return { total, for90: count(0.9), for99: count(0.99) };
}

// ---------------------------------------------------------------------------------------------------------------
// Invariant measures (ANALYSES.md §4, "Invariants for tests")
// ---------------------------------------------------------------------------------------------------------------

/** max_ij |G_ij − Λ_i δ_ij| / √(Λ_i Λ_j) for G = E[f̂ᵀf̂] (r × r): the relative error of E[f̂ f̂ᵀ] = diag(Λ). */
export function gramInvariantError(G: Float64Array, basis: LayerBasis): number {
  const r = basis.rank;
  const lam = Float64Array.from(basis.lambdas);
  if (basis.folded) lam[0] = basis.constantScale ** 2;
  let e = 0;
  for (let i = 0; i < r; i++) {
    for (let j = 0; j < r; j++) {
      const s = Math.sqrt(lam[i] * lam[j]);
      e = Math.max(e, Math.abs(G[i * r + j] - (i === j ? lam[i] : 0)) / s);
    }
  }
  return e;
}

/** max_ij |X_ij − δ_ij| over the non-constant directions (i, j ≥ 1 for folded bases) of X = E[ĴᵀĴ] (r × r). */
export function jacobianInvariantError(X: Float64Array, r: number, folded: boolean): number {
  let e = 0;
  for (let i = folded ? 1 : 0; i < r; i++) for (let j = folded ? 1 : 0; j < r; j++) e = Math.max(e, Math.abs(X[i * r + j] - (i === j ? 1 : 0)));
  return e;
}

/** max |C_pinv C − I_r|. */
export function pinvInvariantError(basis: LayerBasis): number {
  const P = matmul(basis.Cpinv, basis.C, basis.rank, basis.dim, basis.rank);
  let e = 0;
  for (let i = 0; i < basis.rank; i++) for (let j = 0; j < basis.rank; j++) e = Math.max(e, Math.abs(P[i * basis.rank + j] - (i === j ? 1 : 0)));
  return e;
}

/**
 * max_j |E_0j| over the edges E (r_{l+1} × r_l, row-major) into the next layer's constant direction: f̂_0 is a
 * constant, so nothing may feed it; 0 when the next layer is not folded (it has no constant direction).
 */
export function constantRowError(E: RealArray, rIn: number, nextFolded: boolean): number {
  if (!nextFolded) return 0;
  if (E.length < rIn) throw new LibError('constantRowError', `expected at least one row of ${rIn} edges, found ${E.length} values`);
  let e = 0;
  for (let j = 0; j < rIn; j++) e = Math.max(e, Math.abs(E[j]));
  return e;
}

/** ‖a − b‖_F / ‖b‖_F (0 when both are zero). */
export function relativeFrobenius(a: RealArray, b: RealArray): number {
  if (a.length !== b.length) throw new LibError('relativeFrobenius', `lengths differ: ${a.length} vs ${b.length}`);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] * b[i];
  }
  return den === 0 ? Math.sqrt(num) : Math.sqrt(num / den);
}

// ---------------------------------------------------------------------------------------------------------------
// Result shapes and the graph for the side panel
// ---------------------------------------------------------------------------------------------------------------

/** Number of Λ > 1e-3·Λmax, the constant direction excluded for folded layers. */
export function effectiveFeatures(lambdas: ArrayLike<number>, folded: boolean): number {
  let max = 0;
  for (let i = folded ? 1 : 0; i < lambdas.length; i++) max = Math.max(max, lambdas[i]);
  let n = 0;
  for (let i = folded ? 1 : 0; i < lambdas.length; i++) if (lambdas[i] > 1e-3 * max) n++;
  return n;
}

export interface GraphOptions {
  massFraction?: number;
  maxEdgesPerPair?: number;
  maxNodesPerLayer?: number;
  /** Draw the constant nodes and their edges (default false: they dominate the mass). */
  includeConstant?: boolean;
}

/**
 * The readable interaction graph: per adjacent pair the strongest edges holding `massFraction` (default 0.9) of
 * that pair's mass, at most `maxEdgesPerPair` (default 60); nodes are those edges' endpoints plus the top
 * directions by Λ, at most `maxNodesPerLayer` (default 24) per layer, in Λ order. Node ids are `layer:index`.
 */
export function buildGraph(layers: LibLayerResult[], edges: LibEdgesResult[], opts: GraphOptions = {}): LibGraph {
  const massFraction = opts.massFraction ?? 0.9;
  const maxEdgesPerPair = opts.maxEdgesPerPair ?? 60;
  const maxNodesPerLayer = opts.maxNodesPerLayer ?? 24;
  const includeConstant = opts.includeConstant ?? false;
  const index = new Map(layers.map((l, i) => [l.name, i]));
  const picked: LibGraphEdge[] = [];
  const used = layers.map(() => new Set<number>());
  for (const e of edges) {
    const lo = index.get(e.from), hi = index.get(e.to);
    if (lo === undefined || hi === undefined) continue;
    const skipRow = layers[hi].folded && !includeConstant;
    const skipCol = layers[lo].folded && !includeConstant;
    const cand: { i: number; j: number; v: number }[] = [];
    let total = 0;
    for (let i = skipRow ? 1 : 0; i < e.rows; i++) {
      for (let j = skipCol ? 1 : 0; j < e.cols; j++) {
        const v = e.weights[i * e.cols + j];
        total += v;
        if (v > 0) cand.push({ i, j, v });
      }
    }
    cand.sort((a, b) => b.v - a.v);
    let acc = 0;
    for (const c of cand) {
      if (acc >= massFraction * total) break;
      if (used[lo].size >= maxNodesPerLayer && !used[lo].has(c.j)) continue;
      if (used[hi].size >= maxNodesPerLayer && !used[hi].has(c.i)) continue;
      picked.push({ from: `${lo}:${c.j}`, to: `${hi}:${c.i}`, weight: c.v });
      used[lo].add(c.j);
      used[hi].add(c.i);
      acc += c.v;
      if (picked.filter((p) => p.from.startsWith(`${lo}:`) && p.to.startsWith(`${hi}:`)).length >= maxEdgesPerPair) break;
    }
  }
  const graphLayers = layers.map((l, li) => {
    const ids = used[li];
    for (let i = l.folded && !includeConstant ? 1 : 0; i < l.lambdas.length && ids.size < maxNodesPerLayer; i++) ids.add(i);
    const nodes = [...ids]
      .map((i) => ({ id: `${li}:${i}`, layer: li, index: i, lambda: l.lambdas[i], constant: l.folded && i === 0 }))
      .sort((a, b) => Number(b.constant) - Number(a.constant) || b.lambda - a.lambda || a.index - b.index);
    return { name: l.name, nodes };
  });
  return { layers: graphLayers, edges: picked, threshold: { massFraction, maxEdgesPerPair, maxNodesPerLayer, includesConstant: includeConstant } };
}

export { LinalgError };
