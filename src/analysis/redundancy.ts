/**
 * Redundant representations / clones (Doimo, Glielmo, Goldt & Laio 2022, "Redundant representations help
 * generalization in wide neural networks"; ANALYSES.md §3). Random chunks of w units of the last hidden layer
 * are tested three ways: (1) classification accuracy with the trained classifier restricted to the chunk,
 * (2) how well a ridge regression from the chunk reconstructs the whole layer (variance-weighted R²), and (3)
 * how correlated the residuals of the units outside the chunk remain. The critical width is the smallest chunk
 * reconstructing the layer (R² ≥ 0.95); width / criticalWidth is the number of "clones".
 *
 * R² and the residual correlations come from one float64 Gram matrix G of the centred layer: for a chunk S,
 * B = (G_SS + αI)⁻¹ G_S: and the residual covariance is R = G − G_:S B − αBᵀB (exact algebra of the ridge
 * normal equations), so each trial costs O(w³ + w·W²) instead of a pass over the samples.
 *
 * Our extension (not in the paper, which only uses random chunks): an explicit neuron → group assignment by
 * average-linkage clustering on 1 − |corr|, for folding neurons into supernodes in the graph view.
 */
import { averageLinkage, cutDendrogram } from './stats/agglomerative';
import type { Monitor } from './stats/monitor';
import { mulberry32, sampleWithoutReplacement } from './stats/random';
import { cholesky, gram, solveLower, solveLowerTransposed, type RealArray } from './linalg/index';
import type { RedundancyGroups, RedundancyMetrics } from '../shared/results';

export interface RedundancySplit {
  /** rows×width activations, row-major. */
  h: RealArray;
  rows: number;
  labels?: Int32Array | null;
}

export interface RedundancyInput {
  train: RedundancySplit;
  /** Held-out split (R² and residual correlation are measured on it, as in the paper); train is used if absent. */
  test?: RedundancySplit | null;
  width: number;
  /** classes×width classifier weights and bias of the layer's head; without them chunk accuracy is null. */
  weight?: Float64Array | null;
  bias?: Float64Array | null;
  classes?: number;
}

export interface RedundancyOptions {
  /** Random chunks per size for accuracy (default 100) and for R² / residual correlation (default 40). */
  accuracyTrials?: number;
  r2Trials?: number;
  seed?: number;
  /** Ridge strength (default 1e-8). */
  alpha?: number;
  /** Chunk sizes (default 1, 2, 4, … < W, and W). */
  sizes?: number[];
  /** R² thresholds for the critical widths (default 0.9, 0.95, 0.99; criticalWidth uses 0.95). */
  thresholds?: number[];
  /** Our explicit grouping (default true): cut the average-linkage dendrogram of 1 − |corr| at this height. */
  groups?: boolean;
  groupThreshold?: number;
  monitor?: Monitor;
}

export const REDUNDANCY_VARIANTS = {
  chunks: 'random chunks of w live units, w = 1, 2, 4, … and W; accuracy trials draw one random order of the units and use its prefixes (nested chunks, each uniformly random of its size), the same chunks for train and test; R² trials draw each size independently',
  accuracy: 'logits = H[:,S]·W[:,S]ᵀ + b (trained weights restricted to the chunk, no retraining, no rescaling); mean over trials',
  r2: 'ridge (α = 1e-8, intercept) from H_test[:,S] to all of H_test, variance-weighted R² = 1 − Σ_j SSres_j / Σ_j SStot_j, in-sample; mean over trials',
  residualCorrelation: 'mean over pairs i > j of units outside the chunk of |corr| of the ridge residuals, zero-variance residuals dropped',
  criticalWidth: 'smallest chunk size whose mean R² ≥ 0.95 (criticalWidths also at 0.9 and 0.99); clones = width / criticalWidth',
  constantUnits: 'units constant over train ∪ test are dropped before everything (width counts live units)',
  groups: 'OUR EXTENSION (not in Doimo et al.): average-linkage agglomerative clustering of the live units on 1 − |corr| (train split), cut at the threshold',
} as const;

/** Seed of the chunk stream for size w; kind 0 = accuracy chunks, 1 = R² chunks (shared with the Python reference). */
export function chunkSeed(seed: number, size: number, kind: 0 | 1): number {
  return (Math.imul(seed, 0x9e3779b1) + 2 * size + kind) >>> 0;
}

/** Default chunk sizes: powers of two below W, then W. */
export function defaultChunkSizes(width: number): number[] {
  const out: number[] = [];
  for (let w = 1; w < width; w *= 2) out.push(w);
  out.push(width);
  return out;
}

function mean(xs: number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}
function std(xs: number[]): number {
  if (xs.length < 2) return 0;
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / xs.length);
}

/** Live (non-constant over all splits) unit indices. */
function liveUnits(splits: RedundancySplit[], W: number): Int32Array {
  const lo = new Float64Array(W).fill(Infinity), hi = new Float64Array(W).fill(-Infinity);
  for (const s of splits) {
    for (let i = 0; i < s.rows; i++) {
      for (let j = 0; j < W; j++) {
        const v = s.h[i * W + j];
        if (v < lo[j]) lo[j] = v;
        if (v > hi[j]) hi[j] = v;
      }
    }
  }
  const keep: number[] = [];
  for (let j = 0; j < W; j++) if (hi[j] > lo[j]) keep.push(j);
  return Int32Array.from(keep);
}

/** Columns `units` of a rows×W matrix as a fresh rows×units.length float64 matrix, centred when asked. */
function columns(h: RealArray, rows: number, W: number, units: Int32Array, centre: boolean): Float64Array {
  const m = units.length;
  const out = new Float64Array(rows * m);
  for (let i = 0; i < rows; i++) for (let t = 0; t < m; t++) out[i * m + t] = h[i * W + units[t]];
  if (centre) {
    const mu = new Float64Array(m);
    for (let i = 0; i < rows; i++) for (let t = 0; t < m; t++) mu[t] += out[i * m + t];
    for (let t = 0; t < m; t++) mu[t] /= rows;
    for (let i = 0; i < rows; i++) for (let t = 0; t < m; t++) out[i * m + t] -= mu[t];
  }
  return out;
}

/**
 * Accuracies of the head restricted to nested chunks on one split: `P` lists live-unit indices in random order
 * and chunk si is its prefix of length `sizes[si]` (ascending); logits = b + Σ_{u∈chunk} h_u·W[:,u]. Returns the
 * number of correct samples per size. Each sample gathers its non-zero activations among the largest chunk once
 * (half of a ReLU layer is zero) and accumulates four logits at a time in registers, storing them at every
 * chunk boundary, so one pass serves all sizes. `wt` is the classifier transposed and padded to C4 = ⌈C/4⌉·4.
 */
export function nestedChunkCorrect(
  h: RealArray, rows: number, W: number, live: Int32Array, wt: Float64Array, bias: Float64Array, labels: Int32Array, C: number,
  P: Int32Array, sizes: number[],
): Float64Array {
  const C4 = (C + 3) & ~3;
  const nS = sizes.length, maxW = sizes[nS - 1];
  const units = Int32Array.from(P.subarray(0, maxW), (s) => live[s]);
  const vals = new Float64Array(maxW), offs = new Int32Array(maxW);
  const upTo = new Int32Array(nS);
  const logits = new Float64Array(nS * C4);
  const correct = new Float64Array(nS);
  for (let i = 0; i < rows; i++) {
    const o = i * W;
    let nz = 0, si = 0;
    for (let s = 0; s < maxW; s++) {
      const x = h[o + units[s]];
      if (x !== 0) {
        vals[nz] = x;
        offs[nz++] = units[s] * C4;
      }
      if (s + 1 === sizes[si]) upTo[si++] = nz;
    }
    for (let c0 = 0; c0 < C4; c0 += 4) {
      let d0 = bias[c0], d1 = bias[c0 + 1], d2 = bias[c0 + 2], d3 = bias[c0 + 3];
      let q = 0;
      for (let k = 0; k < nS; k++) {
        for (const end = upTo[k]; q < end; q++) {
          const x = vals[q], wo = offs[q] + c0;
          d0 += x * wt[wo];
          d1 += x * wt[wo + 1];
          d2 += x * wt[wo + 2];
          d3 += x * wt[wo + 3];
        }
        const lo = k * C4 + c0;
        logits[lo] = d0;
        logits[lo + 1] = d1;
        logits[lo + 2] = d2;
        logits[lo + 3] = d3;
      }
    }
    const y = labels[i];
    for (let k = 0; k < nS; k++) {
      const lo = k * C4;
      let arg = 0, top = logits[lo];
      for (let c = 1; c < C; c++) {
        if (logits[lo + c] > top) {
          top = logits[lo + c];
          arg = c;
        }
      }
      if (arg === y) correct[k]++;
    }
  }
  return correct;
}

/**
 * The ridge system of chunk S from the centred Gram G (m×m): A = G_SS + αI, factored by Cholesky (jittered when
 * needed); `solve` applies A⁻¹ to w×m right-hand sides; B = A⁻¹ G_S: (w×m), the ridge coefficients from the chunk
 * to every unit. Shared by {@link ridgeChunk} and the authors' variant (authors.ts).
 */
export function chunkRidge(G: Float64Array, m: number, S: Int32Array, alpha: number): { B: Float64Array; solve: (b: Float64Array) => Float64Array } {
  const w = S.length;
  const A = new Float64Array(w * w);
  for (let a = 0; a < w; a++) for (let b = 0; b < w; b++) A[a * w + b] = G[S[a] * m + S[b]];
  for (let a = 0; a < w; a++) A[a * w + a] += alpha;
  const rhs = new Float64Array(w * m);
  for (let a = 0; a < w; a++) rhs.set(G.subarray(S[a] * m, (S[a] + 1) * m), a * m);
  const { factor } = cholesky(A, w, { jitter: true });
  const solve = (b: Float64Array): Float64Array => solveLowerTransposed(factor, w, solveLower(factor, w, b, m), m);
  return { B: solve(rhs), solve };
}

/**
 * R² and residual correlation of the ridge fit from chunk S (indices into the live units) to all live units,
 * from the centred Gram G (m×m).
 */
function ridgeChunk(G: Float64Array, m: number, S: Int32Array, alpha: number, trG: number, diagTol: number): { r2: number; corr: number | null } {
  const w = S.length;
  const { B } = chunkRidge(G, m, S, alpha);
  // R = G − G_:S B − α BᵀB (m×m); only its diagonal and the off-diagonal entries outside S are needed.
  const inS = new Uint8Array(m);
  for (let a = 0; a < w; a++) inS[S[a]] = 1;
  const diag = new Float64Array(m);
  let trR = 0;
  for (let j = 0; j < m; j++) {
    let s = G[j * m + j];
    for (let a = 0; a < w; a++) {
      const bj = B[a * m + j];
      s -= G[j * m + S[a]] * bj + alpha * bj * bj;
    }
    diag[j] = s;
    trR += s;
  }
  const r2 = 1 - trR / trG;
  const out: number[] = [];
  for (let j = 0; j < m; j++) if (!inS[j] && diag[j] > diagTol * G[j * m + j] && diag[j] > 0) out.push(j);
  if (out.length < 2) return { r2, corr: null };
  // Off-diagonal residual covariances among the outside units: G_ij − Σ_a G_{i,S_a} B_{a,j} − α Σ_a B_{a,i} B_{a,j}.
  const q = out.length;
  const GiS = new Float64Array(q * w), Bo = new Float64Array(w * q);
  for (let t = 0; t < q; t++) for (let a = 0; a < w; a++) GiS[t * w + a] = G[out[t] * m + S[a]];
  for (let a = 0; a < w; a++) for (let t = 0; t < q; t++) Bo[a * q + t] = B[a * m + out[t]];
  let sum = 0, pairs = 0;
  const row = new Float64Array(q);
  for (let t = 1; t < q; t++) {
    const i = out[t];
    for (let u = 0; u < t; u++) row[u] = G[i * m + out[u]];
    for (let a = 0; a < w; a++) {
      const g = GiS[t * w + a], bi = alpha * Bo[a * q + t], ba = a * q;
      for (let u = 0; u < t; u++) row[u] -= g * Bo[ba + u] + bi * Bo[ba + u];
    }
    const di = diag[i];
    for (let u = 0; u < t; u++) {
      sum += Math.abs(row[u]) / Math.sqrt(di * diag[out[u]]);
      pairs++;
    }
  }
  return { r2, corr: sum / pairs };
}

/**
 * The redundancy analysis of one layer.
 * @throws RangeError on shape mismatches or labels out of range.
 */
export function redundancyAnalysis(input: RedundancyInput, opts: RedundancyOptions = {}): RedundancyMetrics {
  const W = input.width;
  const warnings: string[] = [];
  const splits = [input.train, ...(input.test ? [input.test] : [])];
  for (const s of splits) {
    if (s.h.length !== s.rows * W) throw new RangeError(`redundancy: expected ${s.rows}×${W} activations, found ${s.h.length} values`);
    for (let i = 0; i < s.h.length; i++) {
      const v = s.h[i];
      if (v - v !== 0) throw new RangeError(`redundancy: activation ${i % W} of sample ${Math.floor(i / W)} is ${v}; expected finite values`);
    }
  }
  const live = liveUnits(splits, W);
  const m = live.length;
  const accTrials = opts.accuracyTrials ?? 100, r2Trials = opts.r2Trials ?? 40;
  const seed = opts.seed ?? 0, alpha = opts.alpha ?? 1e-8;
  const thresholds = opts.thresholds ?? [0.9, 0.95, 0.99];
  const result: RedundancyMetrics = {
    width: m,
    layerWidth: W,
    droppedConstantUnits: W - m,
    chunks: [],
    criticalWidth: null,
    criticalWidths: {},
    clones: null,
    fullAccuracyTrain: null,
    fullAccuracyTest: null,
    r2Split: input.test ? 'test' : 'train',
    warnings,
  };
  if (W - m) warnings.push(`dropped ${W - m} unit(s) constant over train ∪ test`);
  if (m < 2) {
    warnings.push(`redundancy needs at least 2 live units, found ${m}`);
    return result;
  }
  const sizes = [...new Set((opts.sizes ?? defaultChunkSizes(m)).filter((w) => Number.isInteger(w) && w >= 1 && w <= m))].sort((a, b) => a - b);
  const C = input.classes ?? 0;
  const head = input.weight && input.bias && C >= 2 ? { weight: input.weight, bias: input.bias } : null;
  if (head && head.weight.length !== C * W) throw new RangeError(`redundancy: expected ${C}×${W} classifier weights, found ${head.weight.length}`);
  if (!head) warnings.push('chunk accuracy is undefined: no linear classifier reads this layer');
  const C4 = (C + 3) & ~3;
  let wt = new Float64Array(0);
  const biasPadded = new Float64Array(C4);
  if (head) {
    wt = new Float64Array(W * C4);
    for (let c = 0; c < C; c++) for (let u = 0; u < W; u++) wt[u * C4 + c] = head.weight[c * W + u];
    biasPadded.set(head.bias.subarray(0, C));
    for (const s of splits) {
      if (s.labels && s.labels.length !== s.rows) throw new RangeError(`redundancy: ${s.rows} samples but ${s.labels.length} labels`);
      if (s.labels) for (let i = 0; i < s.rows; i++) if (!(s.labels[i] >= 0 && s.labels[i] < C)) throw new RangeError(`redundancy: label ${i} is ${s.labels[i]}; expected 0..${C - 1}`);
    }
  }
  // Centred Gram of the R² split.
  const r2s = input.test ?? input.train;
  const G = gram(columns(r2s.h, r2s.rows, W, live, true), r2s.rows, m);
  let trG = 0;
  for (let j = 0; j < m; j++) trG += G[j * m + j];
  const total = sizes.length;
  // Chunk accuracy: every trial draws one random order of the live units; the chunks of all sizes below the
  // width are its prefixes (nested), so a trial costs one pass over its largest chunk. Each chunk is still a
  // uniformly random subset of its size. The full width is one chunk (all live units).
  const accSizes = [...new Set(sizes.filter((w) => w < m))].sort((a, b) => a - b);
  const correctTr = new Map<number, number[]>(), correctTe = new Map<number, number[]>();
  if (head) {
    const accRand = mulberry32(chunkSeed(seed, 0, 0));
    const tr = input.train, te = input.test;
    const all = Int32Array.from({ length: m }, (_, i) => i);
    const runs: { P: Int32Array; sz: number[] }[] = [];
    if (accSizes.length) for (let t = 0; t < accTrials; t++) runs.push({ P: sampleWithoutReplacement(m, accSizes[accSizes.length - 1], accRand), sz: accSizes });
    if (sizes.includes(m)) runs.push({ P: all, sz: [m] });
    for (let t = 0; t < runs.length; t++) {
      if ((t & 7) === 0) {
        opts.monitor?.check?.();
        opts.monitor?.progress?.(t, runs.length, 'chunk accuracy');
      }
      const { P, sz } = runs[t];
      for (const [split, out] of [[tr, correctTr], [te, correctTe]] as const) {
        if (!split || !split.labels) continue;
        const c = nestedChunkCorrect(split.h, split.rows, W, live, wt, biasPadded, split.labels, C, P, sz);
        sz.forEach((w, k) => (out.get(w) ?? out.set(w, []).get(w)!).push(c[k] / split.rows));
      }
    }
  }
  for (let si = 0; si < sizes.length; si++) {
    const w = sizes[si];
    opts.monitor?.check?.();
    const full = w === m;
    const accTr = correctTr.get(w) ?? [], accTe = correctTe.get(w) ?? [];
    const r2Rand = mulberry32(chunkSeed(seed, w, 1));
    const r2: number[] = [], corr: number[] = [];
    for (let t = 0; t < (full ? 1 : r2Trials); t++) {
      opts.monitor?.check?.();
      const S = sampleWithoutReplacement(m, w, r2Rand);
      const r = ridgeChunk(G, m, S, alpha, trG, 1e-10);
      r2.push(r.r2);
      if (r.corr !== null) corr.push(r.corr);
    }
    result.chunks.push({
      size: w,
      accuracyTrain: accTr.length ? mean(accTr) : null,
      accuracyTest: accTe.length ? mean(accTe) : null,
      r2: mean(r2),
      residualCorrelation: corr.length ? mean(corr) : null,
      r2Std: std(r2),
      accuracyTestStd: accTe.length ? std(accTe) : null,
      trials: { accuracy: head ? accTr.length || accTe.length : 0, r2: r2.length },
    });
    opts.monitor?.progress?.(si + 1, total, 'R² chunks');
  }
  for (const th of thresholds) result.criticalWidths[String(th)] = result.chunks.find((c) => c.r2 >= th)?.size ?? null;
  result.criticalWidth = result.chunks.find((c) => c.r2 >= 0.95)?.size ?? null;
  result.clones = result.criticalWidth ? m / result.criticalWidth : null;
  if (result.criticalWidth === null) warnings.push('criticalWidth is undefined: no chunk size evaluated reached R² ≥ 0.95');
  const fullChunk = result.chunks.find((c) => c.size === m);
  result.fullAccuracyTrain = fullChunk?.accuracyTrain ?? null;
  result.fullAccuracyTest = fullChunk?.accuracyTest ?? null;
  if (opts.groups ?? true) result.groups = neuronGroups(input.train, W, live, opts.groupThreshold ?? 0.5);
  return result;
}

/**
 * Our extension: average-linkage clusters of the live units under d = 1 − |corr| (train split), cut at
 * `threshold` (0.5: a group's members correlate at |corr| ≥ 0.5 on average across the merge).
 */
export function neuronGroups(split: RedundancySplit, W: number, live: Int32Array, threshold: number): RedundancyGroups {
  const m = live.length;
  const G = gram(columns(split.h, split.rows, W, live, true), split.rows, m);
  const dist = new Float64Array(m * m);
  const corr = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < m; j++) {
      // A unit constant on this split (live only through the other split) correlates with nothing.
      const v = G[i * m + i] * G[j * m + j];
      const c = v > 0 ? G[i * m + j] / Math.sqrt(v) : i === j ? 1 : 0;
      corr[i * m + j] = Math.abs(c);
      dist[i * m + j] = i === j ? 0 : Math.max(0, 1 - Math.abs(c));
    }
  }
  const merges = averageLinkage(dist, m);
  const { assignment, count } = cutDendrogram(merges, m, threshold);
  const full = new Array<number>(W).fill(-1);
  for (let t = 0; t < m; t++) full[live[t]] = assignment[t];
  const sizes = new Array<number>(count).fill(0);
  const within = new Array<number>(count).fill(0);
  const pairs = new Array<number>(count).fill(0);
  for (let a = 0; a < m; a++) {
    sizes[assignment[a]]++;
    for (let b = 0; b < a; b++) {
      if (assignment[a] === assignment[b]) {
        within[assignment[a]] += corr[a * m + b];
        pairs[assignment[a]]++;
      }
    }
  }
  return {
    label: 'our extension (not in Doimo et al. 2022): explicit neuron grouping for folding into supernodes',
    method: 'average-linkage agglomerative clustering on 1 − |corr| of the live units (train split)',
    threshold,
    count,
    assignment: full,
    sizes,
    cohesion: within.map((s, g) => (pairs[g] ? s / pairs[g] : 1)),
  };
}
