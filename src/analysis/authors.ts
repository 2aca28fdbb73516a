/**
 * The papers' own code computes some quantities with conventions that differ from ours (ANALYSES.md §6). Our
 * conventions stay the headline numbers; the functions here compute the authors' readings beside them, so a user
 * comparing with those repositories finds the same number. Each follows one repository at one commit, named in
 * {@link AUTHORS_SOURCES}; scripts/reference/authors_conventions.py runs (or, where the package cannot be imported
 * here, re-executes from the fetched file) the authors' functions on the example checkpoints and the integration
 * test test/integration/authors.test.ts compares.
 *
 * - Neural collapse (rhubarbwu/neural-collapse): NCC mismatch with the classifier *without its bias*, and
 *   equiangularity as the population variance of the cosines over the C(C−1)/2 unordered pairs.
 * - Redundancy (diegodoimo/redundant_representation): chunk sizes W // 2^i over all W units of the layer, residual
 *   correlation averaged over all W(W−1)/2 pairs of units with their 1e-8 in the normaliser.
 * - LIB (ApolloResearch/rib): the constant direction's Λ when the appended 1 is carried through the activation.
 */
import { gram } from './linalg/index';
import { chunkRidge, nestedChunkCorrect, type RedundancySplit } from './redundancy';
import { mulberry32, sampleWithoutReplacement } from './stats/random';
import type { Monitor } from './stats/monitor';
import type { AuthorsChunk, CollapseAuthors, LibAuthors, RedundancyAuthors } from '../shared/results';

export type { AuthorsChunk, CollapseAuthors, LibAuthors, RedundancyAuthors };

/** Where each authors' convention comes from (repository, the commit read, file and function). */
export const AUTHORS_SOURCES = {
  collapse: {
    repository: 'rhubarbwu/neural-collapse',
    commit: 'c05a0b80d6bc6e8e2e102f2180f1f33b2c9605fd',
    follows: {
      nccMismatch: 'neural_collapse/accumulate.py DecAccumulator.accumulate (Y_lin = argmax(X Wᵀ), no bias) with neural_collapse/measure.py clf_ncc_agreement; mismatch = 1 − agreement',
      equiangularity: 'neural_collapse/kernels.py kernel_stats (normalised rows, inner-product kernel) with neural_collapse/util.py symm_reduce: population variance over the C(C−1)/2 unordered pairs',
    },
  },
  redundancy: {
    repository: 'diegodoimo/redundant_representation',
    commit: '726b77b2248742a81a485d2e22650f20ffcbd591',
    follows: {
      chunks: 'analysis_repr.py: chunk_size = sort(W // 2^i), i = 0 … ⌊log2 W⌋, over all W units of the layer (constant units included)',
      accuracy: 'analysis_repr.py compute_accuracy_chunk: logits = H[:, ind] W[:, ind]ᵀ + b, mean accuracy over the trials',
      r2: 'analysis_repr.py compute_r2_chunk: Ridge(1e-8) from the chunk to the whole layer (test split), r2_score variance_weighted',
      residualCorrelation: 'analysis_repr.py compute_r2_chunk: corr = cov/(√(cov_ii cov_jj) + 1e-8) of the residuals (np.cov, N − 1), mean |corr| over all i > j (pairs inside the chunk included)',
      criticalWidth: 'smallest size on that grid with mean R² ≥ 0.95 (the paper reads it off its Fig. 4); clones = W / criticalWidth',
    },
  },
  lib: {
    repository: 'ApolloResearch/rib',
    commit: '7a6199f7020e1f2d30c1b53e045ebc43a00fd7d8',
    follows: {
      lambda0: 'rib/models/utils.py fold_mlp_in (the next layer’s 1 is act(root_one · 1), a function of this layer’s 1), rib/linalg.py calc_basis_jacobian + rib/hook_fns.py M_dash_and_Lambda_dash_pre_forward_hook_fn (basis_formula "jacobian", integration "gradient"), rib/interaction_algos.py _calculate_one_interaction_rotation (Λ_0 = M[0,0] from masked_eigendecompose)',
    },
  },
} as const;

// ---------------------------------------------------------------------------------------------------------------
// Neural collapse (rhubarbwu/neural-collapse)
// ---------------------------------------------------------------------------------------------------------------

/**
 * Population variance (ddof 0) of the cosines between the rows of an n×d matrix over the n(n−1)/2 unordered
 * pairs — `kernel_stats(M, m_G, kernel)[1]` with an inner-product kernel on the normalised rows (kernels.py), whose
 * `symm_reduce` folds the upper triangle and divides by n(n−1)/2. Their `normalize` adds float eps to each norm,
 * which changes a cosine by ~eps/‖row‖ (not reproduced). Null when a row is zero (their cosine would be 0 there).
 */
export function cosineVarianceUnordered(a: Float64Array, n: number, d: number): number | null {
  if (n < 2) return null;
  const norms = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += a[i * d + j] * a[i * d + j];
    norms[i] = Math.sqrt(s);
    if (norms[i] === 0) return null;
  }
  const cos: number[] = [];
  for (let p = 0; p < n; p++) {
    for (let q = p + 1; q < n; q++) {
      let s = 0;
      for (let j = 0; j < d; j++) s += a[p * d + j] * a[q * d + j];
      cos.push(s / (norms[p] * norms[q]));
    }
  }
  const mean = cos.reduce((x, y) => x + y, 0) / cos.length;
  return cos.reduce((x, c) => x + (c - mean) * (c - mean), 0) / cos.length;
}


/**
 * The rhubarbwu/neural-collapse readings from quantities the collapse passes already hold.
 * @param centred Ck×dim rows μ_c − μ_G; @param weight Ck×dim classifier rows of the kept classes (null: no head)
 * @param agreeTrain samples whose bias-free head decision equals their nearest class mean (null: no head)
 */
export function collapseAuthors(input: {
  centred: Float64Array;
  weight: Float64Array | null;
  classes: number;
  dim: number;
  agreeTrain: number | null;
  samplesTrain: number;
  agreeTest?: number | null;
  samplesTest?: number;
}): CollapseAuthors {
  const { centred, weight, classes: C, dim: D } = input;
  const out: CollapseAuthors = {
    repository: AUTHORS_SOURCES.collapse.repository,
    commit: AUTHORS_SOURCES.collapse.commit,
    follows: { ...AUTHORS_SOURCES.collapse.follows },
    nccMismatchTrain: input.agreeTrain === null || !input.samplesTrain ? null : 1 - input.agreeTrain / input.samplesTrain,
    equiangularityMeans: cosineVarianceUnordered(centred, C, D),
    equiangularityWeights: weight ? cosineVarianceUnordered(weight, C, D) : null,
  };
  if (input.agreeTest !== undefined) {
    out.nccMismatchTest = input.agreeTest === null || !input.samplesTest ? null : 1 - input.agreeTest / input.samplesTest;
  }
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Redundancy (diegodoimo/redundant_representation)
// ---------------------------------------------------------------------------------------------------------------

/** The authors' chunk grid: sort(W // 2^i for i = 0 … ⌊log2 W⌋) (analysis_repr.py). Strictly increasing. */
export function authorsChunkSizes(width: number): number[] {
  if (!(Number.isInteger(width) && width >= 1)) throw new RangeError(`redundancy: expected a layer width ≥ 1, found ${width}`);
  const out: number[] = [];
  for (let p = 1; p <= width; p *= 2) out.push(Math.floor(width / p));
  return out.reverse();
}

/** Seed of the authors'-grid chunk streams (kind 0 accuracy, 1 R²); shared with scripts/reference/authors_conventions.py. */
export function authorsChunkSeed(seed: number, size: number, kind: 0 | 1): number {
  return (Math.imul(seed ^ 0x5bd1e995, 0x9e3779b1) + 2 * size + kind) >>> 0;
}



/** Their normaliser's regulariser: corr = cov / (√(cov_ii cov_jj) + 1e-8). */
const CORR_EPS = 1e-8;

/**
 * R² and the authors' residual correlation of the ridge fit from chunk S to all W units, from the centred Gram G
 * (sums, W×W) of the R² split with `rows` samples. The residual Gram is R = G − G_:S B − αBᵀB with
 * B = (G_SS + αI)⁻¹ G_S:; its rows for units inside the chunk are computed as α²·(A⁻¹B) (exact: the residual of
 * chunk unit a is α X_S A⁻¹ e_a and X_Sᵀ E = αB), which avoids subtracting two nearly equal numbers there.
 */
export function authorsRidgeChunk(G: Float64Array, W: number, rows: number, S: Int32Array, alpha: number, trG: number): { r2: number; corr: number } {
  const w = S.length;
  const { B, solve } = chunkRidge(G, W, S, alpha); // B: w × W
  const AiB = solve(B); // w × W: A⁻¹B
  const pos = new Int32Array(W).fill(-1);
  for (let a = 0; a < w; a++) pos[S[a]] = a;
  const a2 = alpha * alpha;
  // Full residual Gram R (W×W).
  const R = new Float64Array(W * W);
  for (let i = 0; i < W; i++) {
    const pi = pos[i];
    for (let j = 0; j <= i; j++) {
      const pj = pos[j];
      let v: number;
      if (pi >= 0) v = a2 * AiB[pi * W + j];
      else if (pj >= 0) v = a2 * AiB[pj * W + i];
      else {
        v = G[i * W + j];
        for (let a = 0; a < w; a++) {
          const bj = B[a * W + j];
          v -= G[i * W + S[a]] * bj + alpha * B[a * W + i] * bj;
        }
      }
      R[i * W + j] = R[j * W + i] = v;
    }
  }
  let trR = 0;
  for (let i = 0; i < W; i++) trR += R[i * W + i];
  const n1 = rows - 1;
  let sum = 0;
  for (let i = 1; i < W; i++) {
    const cii = Math.max(R[i * W + i], 0) / n1;
    for (let j = 0; j < i; j++) {
      const cjj = Math.max(R[j * W + j], 0) / n1;
      sum += Math.abs(R[i * W + j] / n1 / (Math.sqrt(cii * cjj) + CORR_EPS));
    }
  }
  return { r2: 1 - trR / trG, corr: sum / ((W * (W - 1)) / 2) };
}

/**
 * The redundancy analysis as diegodoimo/redundant_representation's analysis_repr.py computes it, on all W units:
 * the grid {@link authorsChunkSizes}; chunk accuracy (train and test, the same chunks) with the trained classifier
 * restricted to the chunk; ridge R² (α, intercept, variance-weighted) and the residual correlation over all pairs
 * on the test split (train if absent). Draws: per accuracy trial one random order of the W units, whose prefixes
 * are the chunks below W (each uniformly random of its size, as np.random.choice draws it); R² chunks are drawn per
 * size; the full width is deterministic and evaluated once. Seeds from {@link authorsChunkSeed}.
 * @throws RangeError on shape mismatches.
 */
export function redundancyAuthors(
  input: { train: RedundancySplit; test?: RedundancySplit | null; width: number; weight?: Float64Array | null; bias?: Float64Array | null; classes?: number },
  opts: { accuracyTrials?: number; r2Trials?: number; seed?: number; alpha?: number; monitor?: Monitor } = {},
): RedundancyAuthors {
  const W = input.width;
  const sizes = authorsChunkSizes(W);
  const accTrials = opts.accuracyTrials ?? 100, r2Trials = opts.r2Trials ?? 40;
  const seed = opts.seed ?? 0, alpha = opts.alpha ?? 1e-8;
  const all = Int32Array.from({ length: W }, (_, i) => i);
  const C = input.classes ?? 0;
  const head = input.weight && input.bias && C >= 2 ? { weight: input.weight, bias: input.bias } : null;
  const correct = new Map<number, { tr: number[]; te: number[] }>(sizes.map((s) => [s, { tr: [], te: [] }]));
  if (head) {
    if (head.weight.length !== C * W) throw new RangeError(`redundancy: expected ${C}×${W} classifier weights, found ${head.weight.length}`);
    const C4 = (C + 3) & ~3;
    const wt = new Float64Array(W * C4);
    for (let c = 0; c < C; c++) for (let u = 0; u < W; u++) wt[u * C4 + c] = head.weight[c * W + u];
    const bias = new Float64Array(C4);
    bias.set(head.bias.subarray(0, C));
    const below = sizes.filter((s) => s < W);
    const rand = mulberry32(authorsChunkSeed(seed, 0, 0));
    const runs: { P: Int32Array; sz: number[] }[] = [];
    if (below.length) for (let t = 0; t < accTrials; t++) runs.push({ P: sampleWithoutReplacement(W, below[below.length - 1], rand), sz: below });
    runs.push({ P: all, sz: [W] });
    runs.forEach(({ P, sz }, t) => {
      if ((t & 7) === 0) {
        opts.monitor?.check?.();
        opts.monitor?.progress?.(t, runs.length, 'authors’ chunk accuracy');
      }
      for (const [split, key] of [[input.train, 'tr'], [input.test, 'te']] as const) {
        if (!split?.labels) continue;
        const c = nestedChunkCorrect(split.h, split.rows, W, all, wt, bias, split.labels, C, P, sz);
        sz.forEach((s, k) => correct.get(s)![key].push(c[k] / split.rows));
      }
    });
  }
  const r2s = input.test ?? input.train;
  const X = new Float64Array(r2s.rows * W);
  const mu = new Float64Array(W);
  for (let i = 0; i < r2s.rows; i++) for (let j = 0; j < W; j++) mu[j] += r2s.h[i * W + j];
  for (let j = 0; j < W; j++) mu[j] /= r2s.rows;
  for (let i = 0; i < r2s.rows; i++) for (let j = 0; j < W; j++) X[i * W + j] = r2s.h[i * W + j] - mu[j];
  const G = gram(X, r2s.rows, W);
  let trG = 0;
  for (let j = 0; j < W; j++) trG += G[j * W + j];
  const mean = (xs: number[]): number | null => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null);
  const chunks: AuthorsChunk[] = sizes.map((s, si) => {
    opts.monitor?.check?.();
    opts.monitor?.progress?.(si, sizes.length, 'authors’ R² chunks');
    const rand = mulberry32(authorsChunkSeed(seed, s, 1));
    const r2: number[] = [], corr: number[] = [];
    for (let t = 0; t < (s === W ? 1 : r2Trials); t++) {
      const r = authorsRidgeChunk(G, W, r2s.rows, s === W ? all : sampleWithoutReplacement(W, s, rand), alpha, trG);
      r2.push(r.r2);
      if (r2s.rows >= 2) corr.push(r.corr);
    }
    const acc = correct.get(s)!;
    return { size: s, accuracyTrain: mean(acc.tr), accuracyTest: mean(acc.te), r2: mean(r2)!, residualCorrelation: mean(corr) };
  });
  const criticalWidth = chunks.find((c) => c.r2 >= 0.95)?.size ?? null;
  return {
    repository: AUTHORS_SOURCES.redundancy.repository,
    commit: AUTHORS_SOURCES.redundancy.commit,
    follows: { ...AUTHORS_SOURCES.redundancy.follows },
    width: W,
    chunks,
    criticalWidth,
    clones: criticalWidth ? W / criticalWidth : null,
    draws: `${accTrials} accuracy trials (one random order of the units per trial, its prefixes as the chunks), ${r2Trials} R² trials per size on the ${input.test ? 'test' : 'train (no test split)'} split, seed ${seed}; the full width once (deterministic)`,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// LIB (ApolloResearch/rib)
// ---------------------------------------------------------------------------------------------------------------

/**
 * rib's Λ of the constant direction of node layer l, for a section Linear → ReLU (or → nothing) into a folded
 * node layer l+1. rib folds the bias into the weight and makes the next layer's 1 equal to act(root_one · 1_l)
 * (fold_mlp_in; root_one = 1 for ReLU and identity), so every output direction k gains ∂f̂_k/∂1_l = c·C^{l+1}[last, k]
 * with c = act′(root_one)·root_one = 1, the constant output direction included (C^{l+1}[last, 0] = √Λ_0^{l+1}, rib's
 * own Λ_0 of that layer). With R_pinv[0] = μ̃ (the folded mean) and z̄ = W̃ μ̃:
 *   Λ_0^rib = E_x Σ_k (Σ_h P_hk g_h(x) z̄_h + c q_k)² = Λ_0^ours + 2c Σ_k q_k Σ_h P_hk E[g_h] z̄_h + c² Σ_k q_k²,
 * P = C^{l+1} without its constant row (h × r), q = that row, g the activation's derivative (0/1 gates: E[g] is the
 * diagonal of E[ggᵀ]; null = identity). Every other Λ, and the rotation, is unchanged (R_pinv[k]·e_last = 0, k ≥ 1).
 * @param lambda0 ours (E_x Σ_k (Σ_h P_hk g_h z̄_h)²) @param nextLambda0 rib's Λ_0 of layer l+1
 */
export function ribLambda0(input: {
  lambda0: number;
  P: Float64Array;
  h: number;
  r: number;
  constantRow: Float64Array;
  meanGate: Float64Array | null;
  zbar: Float64Array;
  nextLambda0: number;
}): number {
  const { P, h, r, constantRow: q, meanGate, zbar } = input;
  if (P.length !== h * r || q.length !== r || zbar.length !== h) throw new RangeError(`ribLambda0: expected P ${h}×${r}, a row of ${r} and z̄ of ${h}, found ${P.length}, ${q.length}, ${zbar.length}`);
  let cross = 0, sq = input.nextLambda0;
  // k = 0 is the constant output direction: P[:, 0] = 0 and rib's q_0² = Λ_0^{l+1}.
  for (let k = 1; k < r; k++) {
    let ea = 0;
    for (let i = 0; i < h; i++) ea += P[i * r + k] * (meanGate ? meanGate[i] : 1) * zbar[i];
    cross += q[k] * ea;
    sq += q[k] * q[k];
  }
  return input.lambda0 + 2 * cross + sq;
}

