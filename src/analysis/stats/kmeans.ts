/**
 * K-means on binary codes (Euclidean distance on 0/1 vectors), following scikit-learn's `KMeans` (1.2,
 * `algorithm="lloyd"`): greedy k-means++ seeding with 2 + ⌊ln k⌋ local trials, Lloyd iterations until the
 * labels stop changing or the total squared centre shift is ≤ tol · mean per-feature variance, empty clusters
 * re-seeded at the points farthest from their centres, a final assignment step, and the lowest-inertia run of
 * `nInit` restarts. Randomness comes from mulberry32, so results match scikit-learn's in distribution, not
 * draw for draw.
 *
 * Points carry weights, so duplicated codes are clustered once with their multiplicity (exactly the same
 * objective as clustering every copy): at small widths, where almost every sample shares its code with
 * others, this is what keeps K-means cheap.
 */
import { type BitCodes, codeBytes, popcount32 } from './bits';
import { buildByteTables, bytesFor, expandByteHistogram } from './byteTables';
import type { Monitor } from './monitor';
import { mulberry32 } from './random';

export interface KMeansOptions {
  k: number;
  /** Seed of the mulberry32 stream shared by all restarts (default 0). */
  seed?: number;
  /** Restarts (k-means++ seedings), the lowest inertia is kept (default 10). */
  nInit?: number;
  /** Lloyd iterations per restart (default 300). */
  maxIter?: number;
  /** Relative tolerance on the centre shift (default 1e-4, scaled by the mean per-feature variance). */
  tol?: number;
  monitor?: Monitor;
}

export interface KMeansResult {
  /** Cluster of every point (0..k−1). */
  labels: Int32Array;
  /** Σ weight · squared distance to the assigned centre, of the kept run. */
  inertia: number;
  /** Lloyd iterations of the kept run. */
  iterations: number;
  /** k×bits row-major centres of the kept run. */
  centers: Float64Array;
  /** Inertia and iterations of every restart, in order. */
  runs: { inertia: number; iterations: number }[];
}

/**
 * K-means of binary points (optionally weighted).
 * @param points n codes; `weights` (length n, positive) default to 1.
 * @throws RangeError if k < 1, there are no points, or a weight is not positive.
 */
export function kmeansBinary(points: BitCodes, weights: Float64Array | null, opts: KMeansOptions): KMeansResult {
  const n = points.rows;
  const k = opts.k;
  if (!(Number.isInteger(k) && k >= 1)) throw new RangeError(`kmeans: expected k ≥ 1, found ${k}`);
  if (n === 0) throw new RangeError('kmeans: expected at least one point, found 0');
  const w = weights ?? new Float64Array(n).fill(1);
  if (w.length !== n) throw new RangeError(`kmeans: expected ${n} weights, found ${w.length}`);
  for (let i = 0; i < n; i++) if (!(w[i] > 0)) throw new RangeError(`kmeans: weight ${i} is ${w[i]}; expected > 0`);
  const ctx = makeContext(points, w, k);
  const tol = (opts.tol ?? 1e-4) * meanVariance(ctx);
  const rand = mulberry32(opts.seed ?? 0);
  const nInit = opts.nInit ?? 10;
  const maxIter = opts.maxIter ?? 300;
  let best: KMeansResult | null = null;
  const runs: KMeansResult['runs'] = [];
  for (let run = 0; run < nInit; run++) {
    opts.monitor?.check?.();
    const seeds = kmeansPlusPlus(ctx, rand);
    const centers = new Float64Array(k * points.bits);
    for (let c = 0; c < k; c++) setCenterToPoint(ctx, centers, c, seeds[c], 1);
    const r = lloyd(ctx, centers, maxIter, tol, opts.monitor);
    runs.push({ inertia: r.inertia, iterations: r.iterations });
    if (best === null || r.inertia < best.inertia) best = { ...r, runs };
    opts.monitor?.progress?.(run + 1, nInit, 'k-means restarts');
  }
  return { ...best!, runs };
}

interface Ctx {
  n: number;
  k: number;
  bits: number;
  words: number;
  nb: number;
  /** Bytes per row in `bytes`. */
  stride: number;
  data: Uint32Array;
  bytes: Uint8Array;
  w: Float64Array;
  /** popcount of each point = ‖x‖². */
  norms: Float64Array;
}

function makeContext(points: BitCodes, w: Float64Array, k: number): Ctx {
  const norms = new Float64Array(points.rows);
  for (let i = 0; i < points.rows; i++) {
    let s = 0;
    for (let t = 0; t < points.words; t++) s += popcount32(points.data[i * points.words + t]);
    norms[i] = s;
  }
  return {
    n: points.rows, k, bits: points.bits, words: points.words, nb: bytesFor(points.bits), stride: points.words * 4,
    data: points.data, bytes: codeBytes(points), w, norms,
  };
}

/** Mean over features of the (weighted, population) variance of the points: scikit-learn's tolerance scale. */
function meanVariance(ctx: Ctx): number {
  if (ctx.bits === 0) return 0;
  const hist = new Float64Array(ctx.nb * 256);
  let total = 0;
  for (let i = 0; i < ctx.n; i++) {
    const o = i * ctx.stride;
    for (let b = 0; b < ctx.nb; b++) hist[b * 256 + ctx.bytes[o + b]] += ctx.w[i];
    total += ctx.w[i];
  }
  const ones = new Float64Array(ctx.bits);
  expandByteHistogram(hist, ctx.bits, ones);
  let s = 0;
  for (let j = 0; j < ctx.bits; j++) {
    const p = ones[j] / total;
    s += p * (1 - p);
  }
  return s / ctx.bits;
}

function hamming(ctx: Ctx, a: number, b: number): number {
  const oa = a * ctx.words, ob = b * ctx.words;
  let d = 0;
  for (let t = 0; t < ctx.words; t++) d += popcount32(ctx.data[oa + t] ^ ctx.data[ob + t]);
  return d;
}

/** First index i with cum[i] ≥ x (numpy searchsorted, side='left'), clipped to n−1. */
function searchSorted(cum: Float64Array, x: number): number {
  let lo = 0, hi = cum.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (cum[mid] < x) lo = mid + 1;
    else hi = mid;
  }
  return Math.min(lo, cum.length - 1);
}

/** Greedy k-means++ (scikit-learn's `_kmeans_plusplus`): returns the point index of every seed. */
function kmeansPlusPlus(ctx: Ctx, rand: () => number): Int32Array {
  const { n, k, w } = ctx;
  const seeds = new Int32Array(k);
  const trials = 2 + Math.floor(Math.log(k));
  const cum = new Float64Array(n);
  let acc = 0;
  for (let i = 0; i < n; i++) cum[i] = acc += w[i];
  seeds[0] = searchSorted(cum, rand() * acc);
  let closest = new Float64Array(n);
  let pot = 0;
  for (let i = 0; i < n; i++) {
    closest[i] = hamming(ctx, seeds[0], i);
    pot += w[i] * closest[i];
  }
  const cand = new Int32Array(trials);
  let bestDist = new Float64Array(n);
  let trialDist = new Float64Array(n);
  for (let c = 1; c < k; c++) {
    acc = 0;
    for (let i = 0; i < n; i++) cum[i] = acc += w[i] * closest[i];
    for (let t = 0; t < trials; t++) cand[t] = searchSorted(cum, rand() * pot);
    let bestPot = Infinity, bestId = cand[0];
    for (let t = 0; t < trials; t++) {
      let p = 0;
      for (let i = 0; i < n; i++) {
        const d = Math.min(closest[i], hamming(ctx, cand[t], i));
        trialDist[i] = d;
        p += w[i] * d;
      }
      if (p < bestPot) {
        bestPot = p;
        bestId = cand[t];
        const tmp = bestDist;
        bestDist = trialDist;
        trialDist = tmp;
      }
    }
    seeds[c] = bestId;
    pot = bestPot;
    const tmp = closest;
    closest = bestDist;
    bestDist = tmp;
  }
  return seeds;
}

function setCenterToPoint(ctx: Ctx, centers: Float64Array, c: number, point: number, scale: number): void {
  const o = c * ctx.bits, p = point * ctx.words;
  for (let j = 0; j < ctx.bits; j++) centers[o + j] = ((ctx.data[p + (j >>> 5)] >>> (j & 31)) & 1) * scale;
}

/**
 * dots[c] = x·μ_c for every centre c < k4 (k4 = k padded to a multiple of 4) of the point whose code bytes start at
 * bytes[o], from the per-byte tables (tables[(b·256 + byte)·k4 + c]); four partial sums stay in registers.
 */
function centreDots(bytes: Uint8Array, o: number, nb: number, tables: Float64Array, k4: number, dots: Float64Array): void {
  for (let c0 = 0; c0 < k4; c0 += 4) {
    let d0 = 0, d1 = 0, d2 = 0, d3 = 0;
    for (let b = 0; b < nb; b++) {
      const to = (b * 256 + bytes[o + b]) * k4 + c0;
      d0 += tables[to];
      d1 += tables[to + 1];
      d2 += tables[to + 2];
      d3 += tables[to + 3];
    }
    dots[c0] = d0;
    dots[c0 + 1] = d1;
    dots[c0 + 2] = d2;
    dots[c0 + 3] = d3;
  }
}

/**
 * Assigns every point to its nearest centre (first on ties, as scikit-learn's argmin), writing labels and the
 * squared distances; returns the weighted inertia. Tables are laid out [byte position][byte value][centre], so
 * each byte of a point adds one contiguous run of k partial dot products.
 */
function assign(ctx: Ctx, centers: Float64Array, tables: Float64Array, labels: Int32Array, dist: Float64Array): number {
  const { n, k, nb, stride, bytes, norms, w } = ctx;
  // Centres padded to a multiple of 4 so the inner loop keeps four partial dot products in registers
  // (measured ≈ 4× faster than accumulating into an array on this class of machine).
  const k4 = (k + 3) & ~3;
  const cnorm = new Float64Array(k);
  centreTables(ctx, centers, tables, cnorm);
  let inertia = 0;
  const dots = new Float64Array(k4);
  for (let i = 0; i < n; i++) {
    centreDots(bytes, i * stride, nb, tables, k4, dots);
    let best = Infinity, bestC = 0;
    const xn = norms[i];
    for (let c = 0; c < k; c++) {
      // ‖x − μ‖² = ‖x‖² − 2x·μ + ‖μ‖², clamped at 0 against round-off.
      const d = Math.max(0, xn - 2 * dots[c] + cnorm[c]);
      if (d < best) {
        best = d;
        bestC = c;
      }
    }
    labels[i] = bestC;
    dist[i] = best;
    inertia += w[i] * best;
  }
  return inertia;
}

/** Builds the padded per-centre byte tables and the squared centre norms (see {@link assign}). */
function centreTables(ctx: Ctx, centers: Float64Array, tables: Float64Array, cnorm: Float64Array): void {
  const { k, nb, bits } = ctx;
  const k4 = (k + 3) & ~3;
  const one = new Float64Array(nb * 256);
  tables.fill(0, 0, nb * 256 * k4);
  for (let c = 0; c < k; c++) {
    buildByteTables(centers.subarray(c * bits, (c + 1) * bits), bits, one);
    for (let t = 0; t < nb * 256; t++) tables[t * k4 + c] = one[t];
    let s = 0;
    for (let j = 0; j < bits; j++) s += centers[c * bits + j] * centers[c * bits + j];
    cnorm[c] = s;
  }
}

/** Adds weight·x (the binary point i) to the sums of cluster c, bit by bit. */
function addPoint(ctx: Ctx, sums: Float64Array, c: number, i: number, weight: number): void {
  const p = i * ctx.words, o = c * ctx.bits;
  for (let t = 0; t < ctx.words; t++) {
    let word = ctx.data[p + t];
    while (word !== 0) {
      const low = word & -word;
      sums[o + t * 32 + (31 - Math.clz32(low))] += weight;
      word ^= low;
    }
  }
}

/**
 * Lloyd's algorithm with Hamerly's bounds (Hamerly 2010): an upper bound on each point's distance to its centre
 * and a lower bound on the distance to the second-closest let most points skip the distance computation once
 * the clustering settles; the centre sums are updated only for points that moved. The iterates are exactly
 * Lloyd's: a point is skipped only when its centre is nearer than every other by a margin far above round-off,
 * points that are recomputed go through the same arithmetic and tie rule as a full assignment, and with integer
 * weights the sums are exact integers whether updated incrementally or rebuilt.
 */
function lloyd(
  ctx: Ctx, centers: Float64Array, maxIter: number, tol: number, monitor?: Monitor,
): Omit<KMeansResult, 'runs'> {
  const { n, k, nb, stride, bytes, bits, w, norms } = ctx;
  const k4 = (k + 3) & ~3;
  const tables = new Float64Array(k4 * nb * 256);
  const labels = new Int32Array(n).fill(-1);
  const dist = new Float64Array(n);
  const upper = new Float64Array(n).fill(Infinity);
  const lower = new Float64Array(n);
  const sums = new Float64Array(k * bits);
  const weightIn = new Float64Array(k);
  const cnorm = new Float64Array(k);
  const half = new Float64Array(k);
  const moved = new Float64Array(k);
  const prev = new Float64Array(k * bits);
  const dots = new Float64Array(k4);
  let integral = true;
  for (let i = 0; i < n; i++) if (!Number.isInteger(w[i])) integral = false;
  // Bounds are compared with a margin: distances carry ~1e-15 relative round-off, so 1e-9 is never a real gap.
  const margin = 1e-9 * Math.sqrt(bits + 1);
  let rebuild = true;
  let iterations = 0;
  let strict = false;
  for (let it = 0; it < maxIter; it++) {
    monitor?.check?.();
    iterations = it + 1;
    centreTables(ctx, centers, tables, cnorm);
    // Half the distance from each centre to its nearest other centre.
    for (let c = 0; c < k; c++) {
      let m = Infinity;
      for (let e = 0; e < k; e++) {
        if (e === c) continue;
        let s = 0;
        for (let j = 0; j < bits; j++) {
          const d = centers[c * bits + j] - centers[e * bits + j];
          s += d * d;
        }
        m = Math.min(m, s);
      }
      half[c] = 0.5 * Math.sqrt(m);
    }
    let changed = 0;
    for (let i = 0; i < n; i++) {
      const a = labels[i];
      if (a >= 0) {
        const m = Math.max(half[a], lower[i]) - margin;
        if (upper[i] < m) continue;
        // Tighten the upper bound with the exact distance to the current centre.
        const o = i * stride;
        let dot = 0;
        for (let b = 0; b < nb; b++) dot += tables[(b * 256 + bytes[o + b]) * k4 + a];
        upper[i] = Math.sqrt(Math.max(0, norms[i] - 2 * dot + cnorm[a]));
        if (upper[i] < m) continue;
      }
      // Full assignment of point i (same arithmetic as assign()).
      centreDots(bytes, i * stride, nb, tables, k4, dots);
      let best = Infinity, second = Infinity, bestC = 0;
      const xn = norms[i];
      for (let c = 0; c < k; c++) {
        const d = Math.max(0, xn - 2 * dots[c] + cnorm[c]);
        if (d < best) {
          second = best;
          best = d;
          bestC = c;
        } else if (d < second) second = d;
      }
      dist[i] = best;
      upper[i] = Math.sqrt(best);
      lower[i] = Math.sqrt(second);
      if (bestC !== a) {
        changed++;
        if (!rebuild && integral) {
          addPoint(ctx, sums, a, i, -w[i]);
          addPoint(ctx, sums, bestC, i, w[i]);
          weightIn[a] -= w[i];
          weightIn[bestC] += w[i];
        }
        labels[i] = bestC;
      }
    }
    if (rebuild || !integral) {
      // M-step from scratch: weighted sums per cluster via byte histograms.
      const hist = new Float64Array(k * nb * 256);
      const col = new Float64Array(bits);
      weightIn.fill(0);
      for (let i = 0; i < n; i++) {
        const c = labels[i], o = i * stride, ho = c * nb * 256;
        for (let b = 0; b < nb; b++) hist[ho + b * 256 + bytes[o + b]] += w[i];
        weightIn[c] += w[i];
      }
      for (let c = 0; c < k; c++) {
        expandByteHistogram(hist, bits, col, c * nb * 256);
        sums.set(col, c * bits);
      }
      rebuild = false;
    }
    prev.set(centers);
    const relocated = relocateEmpty(ctx, centers, labels, sums, weightIn);
    let shift = 0;
    let maxMove = 0, maxAt = -1, secondMove = 0;
    for (let c = 0; c < k; c++) {
      const inv = weightIn[c] > 0 ? 1 / weightIn[c] : 1;
      let s = 0;
      for (let j = 0; j < bits; j++) {
        const v = sums[c * bits + j] * inv;
        const d = v - prev[c * bits + j];
        s += d * d;
        centers[c * bits + j] = v;
      }
      shift += s;
      moved[c] = Math.sqrt(s);
      if (moved[c] > maxMove) {
        secondMove = maxMove;
        maxMove = moved[c];
        maxAt = c;
      } else if (moved[c] > secondMove) secondMove = moved[c];
    }
    if (relocated) {
      // The sums no longer follow the labels (scikit-learn moves a point's weight without relabelling it):
      // rebuild them after the next assignment, and recompute every point.
      rebuild = true;
      upper.fill(Infinity);
    }
    if (changed === 0 && it > 0) {
      strict = true;
      break;
    }
    if (shift <= tol) break;
    for (let i = 0; i < n; i++) {
      upper[i] += moved[labels[i]];
      lower[i] -= labels[i] === maxAt ? secondMove : maxMove;
    }
  }
  // The labels of a strictly converged run already belong to the final centres; otherwise assign once more.
  const inertia = strict ? inertiaOf(ctx, centers, labels) : assign(ctx, centers, tables, labels, dist);
  return { labels, inertia, iterations, centers };
}

/** Σ weight · ‖x − centre(label)‖² (scikit-learn's `_inertia`). */
function inertiaOf(ctx: Ctx, centers: Float64Array, labels: Int32Array): number {
  let s = 0;
  for (let i = 0; i < ctx.n; i++) s += ctx.w[i] * sqDist(ctx, centers, labels[i], i);
  return s;
}

function sqDist(ctx: Ctx, centers: Float64Array, c: number, i: number): number {
  let s = 0;
  const o = c * ctx.bits, p = i * ctx.words;
  for (let j = 0; j < ctx.bits; j++) {
    const d = ((ctx.data[p + (j >>> 5)] >>> (j & 31)) & 1) - centers[o + j];
    s += d * d;
  }
  return s;
}

/**
 * scikit-learn's `_relocate_empty_clusters_dense`: each empty cluster takes the point farthest from its (old)
 * centre, in decreasing distance order (ties: lowest index), and that point's weight leaves its old cluster.
 */
function relocateEmpty(ctx: Ctx, oldCenters: Float64Array, labels: Int32Array, sums: Float64Array, weightIn: Float64Array): boolean {
  const empty: number[] = [];
  for (let c = 0; c < ctx.k; c++) if (weightIn[c] === 0) empty.push(c);
  if (!empty.length) return false;
  const d = new Float64Array(ctx.n);
  for (let i = 0; i < ctx.n; i++) d[i] = sqDist(ctx, oldCenters, labels[i], i);
  const order = Array.from({ length: ctx.n }, (_, i) => i).sort((a, b) => d[b] - d[a] || a - b);
  const bits = ctx.bits;
  for (let e = 0; e < empty.length && e < ctx.n; e++) {
    const far = order[e], to = empty[e], from = labels[far], wt = ctx.w[far], p = far * ctx.words;
    for (let j = 0; j < bits; j++) {
      const x = ((ctx.data[p + (j >>> 5)] >>> (j & 31)) & 1) * wt;
      sums[from * bits + j] -= x;
      sums[to * bits + j] = x;
    }
    weightIn[to] = wt;
    weightIn[from] -= wt;
  }
  return true;
}

/**
 * Accuracy of a clustering read as a classifier: every cluster predicts its majority label (ties: the smallest
 * label), so accuracy = Σ_clusters max_label count / total. `labelCounts` is points×classes (weights per label
 * of each point), `assign` the cluster of each point.
 */
export function clusterMajorityAccuracy(assign: Int32Array, labelCounts: Float64Array, k: number, classes: number): number {
  const table = new Float64Array(k * classes);
  let total = 0;
  for (let i = 0; i < assign.length; i++) {
    for (let y = 0; y < classes; y++) {
      const v = labelCounts[i * classes + y];
      table[assign[i] * classes + y] += v;
      total += v;
    }
  }
  let correct = 0;
  for (let c = 0; c < k; c++) {
    let m = 0;
    for (let y = 0; y < classes; y++) m = Math.max(m, table[c * classes + y]);
    correct += m;
  }
  return total > 0 ? correct / total : NaN;
}
