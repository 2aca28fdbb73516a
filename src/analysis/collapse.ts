/**
 * Neural collapse (Papyan, Han & Donoho 2020, PNAS; Tirer, Huang & Niles-Weed 2023; Zhu et al. 2021 for the
 * W–H self-duality variant). Exact definitions: shared/ANALYSES.md §1.
 *
 * Streaming and exact in two passes over the features, so no D×D matrix is ever formed:
 *  1. {@link ClassMeansAccumulator}: per-class counts and float64 sums → class means μ_c, μ_G, M̃, and the C×C
 *     eigenproblem M̃ᵀM̃/C = VΛVᵀ giving Σ_B's top r = min(D, C−1) eigenpairs (u_k = M̃v_k / √(Cλ_k)).
 *  2. {@link CollapseAccumulator}: on features centred by their own class mean (the two-pass variance, no
 *     cancellation), float64 sums of ‖h − μ_y‖² per class (Tr Σ_W and CDNV), of (u_kᵀ(h − μ_y))² (so
 *     Tr(Σ_W Σ_B†) = Σ_k u_kᵀΣ_W u_k / λ_k exactly), and the nearest-class-centre and head decisions.
 * {@link collapseMetrics} combines them with the classifier (W, b) into every metric of the result contract.
 */
import { eigh, matmulABt, type RealArray } from './linalg/index';
import type { CollapseMetrics } from '../shared/results';

/** A linear classifier z = W·h + b: W is classes×dim row-major. */
export interface LinearHead {
  weight: Float64Array;
  bias: Float64Array;
  classes: number;
  dim: number;
}

/** Pass 1: per-class counts and float64 feature sums. */
export class ClassMeansAccumulator {
  readonly counts: Float64Array;
  readonly sums: Float64Array;
  samples = 0;
  constructor(
    readonly dim: number,
    readonly classes: number,
  ) {
    if (!(Number.isInteger(dim) && dim >= 1)) throw new RangeError(`collapse: expected a feature dimension ≥ 1, found ${dim}`);
    if (!(Number.isInteger(classes) && classes >= 2)) throw new RangeError(`collapse: expected at least 2 classes, found ${classes}`);
    this.counts = new Float64Array(classes);
    this.sums = new Float64Array(classes * dim);
  }

  /**
   * Adds `rows` samples: h is rows×dim row-major, labels in 0..classes−1.
   * @throws RangeError on a label out of range or a non-finite feature (named by sample and unit).
   */
  add(h: RealArray, labels: ArrayLike<number>, rows: number): void {
    const D = this.dim;
    if (h.length !== rows * D) throw new RangeError(`collapse: expected ${rows}×${D} features, found ${h.length} values`);
    for (let i = 0; i < rows; i++) {
      const y = labels[i];
      if (!(Number.isInteger(y) && y >= 0 && y < this.classes)) {
        throw new RangeError(`collapse: label of sample ${this.samples + i} is ${y}; expected 0..${this.classes - 1}`);
      }
      const o = i * D, so = y * D;
      for (let j = 0; j < D; j++) {
        const v = h[o + j];
        if (v - v !== 0) throw new RangeError(`collapse: feature ${j} of sample ${this.samples + i} is ${v}; expected finite values`);
        this.sums[so + j] += v;
      }
      this.counts[y]++;
    }
    this.samples += rows;
  }
}

/** What pass 1 determines: the class-mean geometry and Σ_B's eigenpairs. */
export interface CollapseGeometry {
  dim: number;
  /** Label range 0..labelClasses−1 (the head's rows). */
  labelClasses: number;
  /** Non-empty classes (ids), ascending. */
  classIds: number[];
  /** classIndex[label] = position in classIds, or −1 for an empty class. */
  classIndex: Int32Array;
  counts: Float64Array;
  /** Ck×dim class means (kept classes). */
  means: Float64Array;
  /** Mean of the class means (equals the sample mean for balanced classes). */
  globalMean: Float64Array;
  /** Ck×dim rows μ_c − μ_G (M̃ᵀ). */
  centred: Float64Array;
  /** Eigenvalues λ_k of Σ_B used (top r, descending) and r×dim rows u_k. */
  lambdas: Float64Array;
  basis: Float64Array;
  samples: number;
  warnings: string[];
}

/**
 * Class means, μ_G, M̃ and Σ_B's top r = min(D, C−1) eigenpairs from pass 1 (empty classes dropped, with a
 * warning). Eigenvalues ≤ 1e-12·λ_max are round-off and are not inverted (warned).
 * @throws RangeError if fewer than 2 classes have samples.
 */
export function collapseGeometry(acc: ClassMeansAccumulator): CollapseGeometry {
  const D = acc.dim;
  const warnings: string[] = [];
  const classIds: number[] = [];
  const classIndex = new Int32Array(acc.classes).fill(-1);
  for (let c = 0; c < acc.classes; c++) {
    if (acc.counts[c] > 0) {
      classIndex[c] = classIds.length;
      classIds.push(c);
    }
  }
  const empty = acc.classes - classIds.length;
  if (classIds.length < 2) {
    throw new RangeError(`collapse: expected samples of at least 2 classes, found ${classIds.length} (of ${acc.classes} labels)`);
  }
  if (empty) {
    const ids = [...Array(acc.classes).keys()].filter((c) => acc.counts[c] === 0);
    const shown = ids.length > 12 ? `${ids.slice(0, 12).join(', ')}, …` : ids.join(', ');
    warnings.push(`dropped ${empty} empty class(es) (${shown}): the metrics use the ${classIds.length} classes with samples`);
  }
  const C = classIds.length;
  if (C > D + 1) {
    warnings.push(`C = ${C} classes > D + 1 = ${D + 1}: no simplex ETF exists in ${D} dimensions, so NC2/NC3 cannot reach 0 and Σ_B has rank ≤ ${D}`);
  }
  const means = new Float64Array(C * D);
  const globalMean = new Float64Array(D);
  for (let k = 0; k < C; k++) {
    const c = classIds[k], n = acc.counts[c];
    for (let j = 0; j < D; j++) {
      const m = acc.sums[c * D + j] / n;
      means[k * D + j] = m;
      globalMean[j] += m / C;
    }
  }
  const centred = new Float64Array(C * D);
  for (let k = 0; k < C; k++) for (let j = 0; j < D; j++) centred[k * D + j] = means[k * D + j] - globalMean[j];
  // C×C route: M̃ᵀM̃/C (Gram of the centred means) = VΛVᵀ; Σ_B = M̃M̃ᵀ/C shares its non-zero eigenvalues.
  const small = new Float64Array(C * C);
  for (let a = 0; a < C; a++) {
    for (let b = 0; b <= a; b++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += centred[a * D + j] * centred[b * D + j];
      small[a * C + b] = small[b * C + a] = s / C;
    }
  }
  const { values, vectors } = eigh(small, C);
  const r = Math.min(D, C - 1);
  const lmax = values[0];
  let used = 0;
  while (used < r && values[used] > 1e-12 * lmax && values[used] > 0) used++;
  if (used < r) {
    warnings.push(`Σ_B has numerical rank ${used} < min(D, C−1) = ${r} (class means nearly collinear); NC1 inverts only the ${used} eigenpair(s) above 1e-12·λ_max`);
  }
  const lambdas = values.slice(0, used);
  const basis = new Float64Array(used * D);
  for (let k = 0; k < used; k++) {
    const scale = 1 / Math.sqrt(C * values[k]);
    for (let a = 0; a < C; a++) {
      const v = vectors[a * C + k] * scale;
      if (v === 0) continue;
      for (let j = 0; j < D; j++) basis[k * D + j] += v * centred[a * D + j];
    }
  }
  return {
    dim: D, labelClasses: acc.classes, classIds, classIndex, counts: acc.counts.slice(), means, globalMean, centred,
    lambdas, basis, samples: acc.samples, warnings,
  };
}

/** Pass 2 (and the held-out split): centred second moments and decisions, accumulated in float64. */
export class CollapseAccumulator {
  samples = 0;
  /** Σ ‖h − μ_y‖² per kept class (train split only; zero when the split's labels are not train classes). */
  readonly within: Float64Array;
  /** Σ (u_kᵀ(h − μ_y))² per eigenpair. */
  readonly projected: Float64Array;
  /** Samples whose nearest class centre is their label / agrees with the head / whose head prediction is their label. */
  nccCorrect = 0;
  nccAgreesHead = 0;
  /** Samples whose nearest class centre agrees with argmax(W h) without the bias (rhubarbwu/neural-collapse's NC4). */
  nccAgreesHeadNoBias = 0;
  headCorrect = 0;
  /** Samples whose label has no class mean (a class empty in the training split). */
  unseenLabel = 0;
  private readonly meanNorms: Float64Array;
  /** (r + C + head classes)×dim: the eigenbasis rows, the class means, the head's rows. */
  private readonly stacked: Float64Array;
  /** C×r: u_k·μ_c. */
  private readonly meanProj: Float64Array;

  constructor(
    readonly geom: CollapseGeometry,
    readonly head: LinearHead | null,
  ) {
    if (head && head.dim !== geom.dim) throw new RangeError(`collapse: head takes ${head.dim} features, the layer has ${geom.dim}`);
    this.within = new Float64Array(geom.classIds.length);
    this.projected = new Float64Array(geom.lambdas.length);
    const C = geom.classIds.length, D = geom.dim;
    this.meanNorms = new Float64Array(C);
    for (let c = 0; c < C; c++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += geom.means[c * D + j] ** 2;
      this.meanNorms[c] = s;
    }
    const r = geom.lambdas.length, Ch = head ? head.classes : 0;
    this.stacked = new Float64Array((r + C + Ch) * D);
    this.stacked.set(geom.basis.subarray(0, r * D), 0);
    this.stacked.set(geom.means, r * D);
    if (head) this.stacked.set(head.weight.subarray(0, Ch * D), (r + C) * D);
    this.meanProj = new Float64Array(C * r);
    for (let c = 0; c < C; c++) {
      for (let q = 0; q < r; q++) {
        let s = 0;
        for (let j = 0; j < D; j++) s += geom.basis[q * D + j] * geom.means[c * D + j];
        this.meanProj[c * r + q] = s;
      }
    }
  }

  /**
   * Adds rows×dim features with their labels. One blocked float64 GEMM (src/analysis/linalg) multiplies the batch
   * by the stacked [u_1 … u_r; μ_1 … μ_C; w_1 … w_C] rows; the projections of the centred features are then
   * u_k·h − u_k·μ_y (both exact float64 products of the stored means, no sums of squares are subtracted), and
   * ‖h − μ_y‖² is summed directly from the differences.
   * @throws RangeError on a non-finite feature or a label outside 0..labelClasses−1.
   */
  add(h: RealArray, labels: ArrayLike<number>, rows: number): void {
    const g = this.geom, D = g.dim, C = g.classIds.length, r = g.lambdas.length;
    if (h.length !== rows * D) throw new RangeError(`collapse: expected ${rows}×${D} features, found ${h.length} values`);
    const hn = new Float64Array(rows);
    for (let i = 0; i < rows; i++) {
      const y = labels[i];
      if (!(Number.isInteger(y) && y >= 0 && y < g.labelClasses)) {
        throw new RangeError(`collapse: label of sample ${this.samples + i} is ${y}; expected 0..${g.labelClasses - 1}`);
      }
      const o = i * D;
      const k = g.classIndex[y];
      const mo = Math.max(k, 0) * D;
      let n2 = 0, s = 0;
      for (let j = 0; j < D; j++) {
        const v = h[o + j];
        if (v - v !== 0) throw new RangeError(`collapse: feature ${j} of sample ${this.samples + i} is ${v}; expected finite values`);
        n2 += v * v;
        const dv = v - g.means[mo + j];
        s += dv * dv;
      }
      hn[i] = n2;
      if (k >= 0) this.within[k] += s;
      else this.unseenLabel++;
    }
    const Ch = this.head ? this.head.classes : 0;
    const n = r + C + Ch;
    const prod = matmulABt(h, this.stacked, rows, D, n);
    for (let i = 0; i < rows; i++) {
      const y = labels[i];
      const o = i * n;
      const k = g.classIndex[y];
      if (k >= 0) {
        for (let q = 0; q < r; q++) {
          const p = prod[o + q] - this.meanProj[k * r + q];
          this.projected[q] += p * p;
        }
      }
      // Nearest class centre: ‖h − μ_c‖² = ‖h‖² − 2h·μ_c + ‖μ_c‖² (first on ties).
      let ncc = -1, best = Infinity;
      for (let c = 0; c < C; c++) {
        const s = hn[i] - 2 * prod[o + r + c] + this.meanNorms[c];
        if (s < best) {
          best = s;
          ncc = g.classIds[c];
        }
      }
      if (ncc === y) this.nccCorrect++;
      if (Ch) {
        let arg = 0, top = -Infinity, argNoBias = 0, topNoBias = -Infinity;
        for (let c = 0; c < Ch; c++) {
          const z = prod[o + r + C + c];
          const v = z + this.head!.bias[c];
          if (v > top) {
            top = v;
            arg = c;
          }
          if (z > topNoBias) {
            topNoBias = z;
            argNoBias = c;
          }
        }
        if (arg === ncc) this.nccAgreesHead++;
        if (argNoBias === ncc) this.nccAgreesHeadNoBias++;
        if (arg === y) this.headCorrect++;
      }
    }
    this.samples += rows;
  }
}

/** Each metric's variant, as shown to users (the conventions differ between published codes). */
export const COLLAPSE_VARIANTS = {
  nc1: 'Tr(Σ_W Σ_B†)/C with Σ_B† from exactly the top min(D, C−1) eigenpairs (Papyan et al. 2020), via the C×C eigenproblem of M̃ᵀM̃/C',
  nc1TraceRatio: 'Tr Σ_W / Tr Σ_B (Tirer, Huang & Niles-Weed 2023), no inverse',
  cdnv: 'class-distance normalised variance: mean over c<c′ of (V_c + V_c′)/(2‖μ_c − μ_c′‖²), V_c = mean ‖h − μ_c‖²',
  sigma: 'Σ_W = (1/N) Σ_i (h_i − μ_{y_i})(h_i − μ_{y_i})ᵀ; Σ_B = M̃M̃ᵀ/C; μ_G = mean of the class means (unweighted)',
  equinorm: 'std/mean of ‖μ_c − μ_G‖ (resp. ‖w_c‖), std with n−1 (Papyan)',
  equiangularity: 'std (n−1) of the C(C−1) off-diagonal cosines of μ_c − μ_G (resp. raw rows w_c)',
  maxAngle: 'mean over c≠c′ of |cos + 1/(C−1)|',
  etfDistance: '‖G/‖G‖_F − (I − 11ᵀ/C)/√(C−1)‖_F with G = M̃ᵀM̃ (resp. WWᵀ)',
  selfDuality: '‖Wᵀ/‖W‖_F − M̃/‖M̃‖_F‖²_F, squared Frobenius (Papyan NC3)',
  selfDualityEtf: 'ETF distance of W·M̃ (Zhu et al. 2021 W–H relation)',
  nccMismatch: 'share of samples where argmax(Wh + b) ≠ argmin_c ‖h − μ_c‖, train class means on both splits (NC4)',
  nccAccuracy: 'share of samples whose nearest train class mean is their label (classifier-free; our addition)',
} as const;

const finiteOrNull = (v: number, name: string, why: string, warnings: string[]): number | null => {
  if (Number.isFinite(v)) return v;
  warnings.push(`${name} is undefined: ${why}`);
  return null;
};

function std1(xs: number[]): number {
  const n = xs.length;
  if (n < 2) return NaN;
  const m = xs.reduce((a, b) => a + b, 0) / n;
  return Math.sqrt(xs.reduce((a, b) => a + (b - m) * (b - m), 0) / (n - 1));
}

/** Row norms of an n×d matrix. */
function rowNorms(a: Float64Array, n: number, d: number): number[] {
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < d; j++) s += a[i * d + j] * a[i * d + j];
    out.push(Math.sqrt(s));
  }
  return out;
}

/** Off-diagonal cosines of the rows of an n×d matrix (NaN where a row is zero). */
function offDiagonalCosines(a: Float64Array, n: number, d: number): number[] {
  const norms = rowNorms(a, n, d);
  const out: number[] = [];
  for (let p = 0; p < n; p++) {
    for (let q = 0; q < n; q++) {
      if (p === q) continue;
      let s = 0;
      for (let j = 0; j < d; j++) s += a[p * d + j] * a[q * d + j];
      out.push(s / (norms[p] * norms[q]));
    }
  }
  return out;
}

/** ‖G/‖G‖_F − (I − 11ᵀ/C)/√(C−1)‖_F for a C×C matrix G (NaN when G = 0). */
export function etfDistance(g: Float64Array, C: number): number {
  let f = 0;
  for (let i = 0; i < g.length; i++) f += g[i] * g[i];
  f = Math.sqrt(f);
  const s = 1 / Math.sqrt(C - 1);
  let out = 0;
  for (let a = 0; a < C; a++) {
    for (let b = 0; b < C; b++) {
      const target = ((a === b ? 1 : 0) - 1 / C) * s;
      const v = g[a * C + b] / f - target;
      out += v * v;
    }
  }
  return Math.sqrt(out);
}

/** Options of {@link collapseMetrics}. */
export interface CollapseMetricsInput {
  geom: CollapseGeometry;
  train: CollapseAccumulator;
  test?: CollapseAccumulator | null;
  /** The classifier on these features; without it NC3/NC4 and the weight metrics are null (warned). */
  head?: LinearHead | null;
  /** Why there is no head (put into the warnings). */
  noHeadReason?: string;
  /** An intermediate layer: only the classifier-free metrics are meant, so no warnings about the head's absence. */
  classifierFree?: boolean;
  /** The network's own accuracies when known (otherwise the head's decisions on these features are used). */
  networkAccuracyTrain?: number | null;
  networkAccuracyTest?: number | null;
}

/**
 * Every `collapse` metric from the two passes (and the test split when given).
 * Undefined metrics are null with a warning saying why; NaN is never returned.
 */
export function collapseMetrics(input: CollapseMetricsInput): CollapseMetrics {
  const { geom: g, train, test, head } = input;
  const warnings = [...g.warnings];
  const C = g.classIds.length, D = g.dim, N = train.samples;
  if (N === 0) throw new RangeError('collapse: the second pass saw no samples');
  // NC1 family.
  let trW = 0;
  for (let k = 0; k < C; k++) trW += train.within[k];
  trW /= N;
  let trB = 0;
  for (let i = 0; i < g.centred.length; i++) trB += g.centred[i] * g.centred[i];
  trB /= C;
  let tr = 0;
  for (let q = 0; q < g.lambdas.length; q++) tr += train.projected[q] / N / g.lambdas[q];
  const nc1 = g.lambdas.length ? finiteOrNull(tr / C, 'nc1', 'Σ_B is zero (all class means coincide)', warnings) : null;
  if (!g.lambdas.length) warnings.push('nc1 is undefined: Σ_B is zero (all class means coincide)');
  const nc1TraceRatio = finiteOrNull(trW / trB, 'nc1TraceRatio', 'Tr Σ_B = 0 (all class means coincide)', warnings);
  // CDNV.
  const V = new Float64Array(C);
  for (let k = 0; k < C; k++) V[k] = train.within[k] / g.counts[g.classIds[k]];
  let cd = 0, pairs = 0, coincide = false;
  for (let a = 0; a < C; a++) {
    for (let b = a + 1; b < C; b++) {
      let s = 0;
      for (let j = 0; j < D; j++) {
        const v = g.means[a * D + j] - g.means[b * D + j];
        s += v * v;
      }
      if (s === 0) coincide = true;
      cd += (V[a] + V[b]) / (2 * s);
      pairs++;
    }
  }
  const cdnv = coincide ? finiteOrNull(NaN, 'cdnv', 'two class means coincide', warnings) : cd / pairs;
  // NC2 on means.
  const normsM = rowNorms(g.centred, C, D);
  const equinormMeans = finiteOrNull(std1(normsM) / (normsM.reduce((a, b) => a + b, 0) / C), 'equinormMeans', 'every centred class mean is zero', warnings);
  const cosM = offDiagonalCosines(g.centred, C, D);
  const zeroMean = normsM.some((x) => x === 0);
  const equiangularityMeans = zeroMean ? finiteOrNull(NaN, 'equiangularityMeans', 'a class mean equals μ_G, so its angle is undefined', warnings) : std1(cosM);
  const maxAngleMeans = zeroMean ? null : cosM.reduce((a, c) => a + Math.abs(c + 1 / (C - 1)), 0) / cosM.length;
  const gramM = new Float64Array(C * C);
  for (let a = 0; a < C; a++) {
    for (let b = 0; b < C; b++) {
      let s = 0;
      for (let j = 0; j < D; j++) s += g.centred[a * D + j] * g.centred[b * D + j];
      gramM[a * C + b] = s;
    }
  }
  const etfDistanceMeans = finiteOrNull(etfDistance(gramM, C), 'etfDistanceMeans', 'M̃ = 0', warnings);
  // Weight metrics (NC2 on W, NC3, NC4).
  let equinormWeights: number | null = null, equiangularityWeights: number | null = null, maxAngleWeights: number | null = null;
  let etfDistanceWeights: number | null = null, selfDuality: number | null = null, selfDualityEtf: number | null = null;
  let nccMismatchTrain: number | null = null;
  let nccMismatchTest: number | null | undefined = test ? null : undefined;
  if (head) {
    if (head.dim !== D) throw new RangeError(`collapse: head takes ${head.dim} features, the layer has ${D}`);
    const W = new Float64Array(C * D);
    for (let k = 0; k < C; k++) W.set(head.weight.subarray(g.classIds[k] * D, (g.classIds[k] + 1) * D), k * D);
    const normsW = rowNorms(W, C, D);
    const zeroW = normsW.some((x) => x === 0);
    equinormWeights = finiteOrNull(std1(normsW) / (normsW.reduce((a, b) => a + b, 0) / C), 'equinormWeights', 'W = 0', warnings);
    if (zeroW) warnings.push('equiangularityWeights and maxAngleWeights are undefined: a classifier row is zero');
    else {
      const cosW = offDiagonalCosines(W, C, D);
      equiangularityWeights = std1(cosW);
      maxAngleWeights = cosW.reduce((a, c) => a + Math.abs(c + 1 / (C - 1)), 0) / cosW.length;
    }
    const gramW = new Float64Array(C * C);
    const wm = new Float64Array(C * C);
    for (let a = 0; a < C; a++) {
      for (let b = 0; b < C; b++) {
        let s = 0, t = 0;
        for (let j = 0; j < D; j++) {
          s += W[a * D + j] * W[b * D + j];
          t += W[a * D + j] * g.centred[b * D + j];
        }
        gramW[a * C + b] = s;
        wm[a * C + b] = t;
      }
    }
    etfDistanceWeights = finiteOrNull(etfDistance(gramW, C), 'etfDistanceWeights', 'W = 0', warnings);
    selfDualityEtf = finiteOrNull(etfDistance(wm, C), 'selfDualityEtf', 'W·M̃ = 0', warnings);
    let fw = 0, fm = 0;
    for (let i = 0; i < W.length; i++) {
      fw += W[i] * W[i];
      fm += g.centred[i] * g.centred[i];
    }
    fw = Math.sqrt(fw);
    fm = Math.sqrt(fm);
    let sd = 0;
    for (let i = 0; i < W.length; i++) {
      const v = W[i] / fw - g.centred[i] / fm;
      sd += v * v;
    }
    selfDuality = finiteOrNull(sd, 'selfDuality', 'W = 0 or M̃ = 0', warnings);
    nccMismatchTrain = 1 - train.nccAgreesHead / N;
    if (test) nccMismatchTest = test.samples ? 1 - test.nccAgreesHead / test.samples : null;
  } else if (!input.classifierFree) {
    warnings.push(
      `equinormWeights, equiangularityWeights, maxAngleWeights, etfDistanceWeights, selfDuality, selfDualityEtf and nccMismatch are undefined: ${input.noHeadReason ?? 'no linear classifier (W, b) is known for these features'}`,
    );
  }
  const headAccTrain = head ? train.headCorrect / N : null;
  const headAccTest = head && test && test.samples ? test.headCorrect / test.samples : null;
  const out: CollapseMetrics = {
    classes: C,
    samples: N,
    dim: D,
    accuracyTrain: input.networkAccuracyTrain ?? headAccTrain,
    nc1,
    nc1TraceRatio,
    cdnv,
    equinormMeans,
    equinormWeights,
    equiangularityMeans,
    equiangularityWeights,
    maxAngleMeans,
    maxAngleWeights,
    etfDistanceMeans,
    etfDistanceWeights,
    selfDuality,
    selfDualityEtf,
    nccMismatchTrain,
    nccAccuracyTrain: train.nccCorrect / N,
    sigmaBRank: g.lambdas.length,
    droppedClasses: [...Array(g.labelClasses).keys()].filter((c) => g.classIndex[c] < 0),
    warnings,
  };
  if (test) {
    out.accuracyTest = input.networkAccuracyTest ?? headAccTest;
    out.nccMismatchTest = nccMismatchTest ?? null;
    if (test.samples) out.nccAccuracyTest = test.nccCorrect / test.samples;
  }
  if (out.accuracyTrain === null && !input.classifierFree) warnings.push('accuracyTrain is unknown: no classifier output for these features');
  return out;
}

/** In-memory features of one split for {@link neuralCollapse}. */
export interface FeatureSplit {
  /** rows×dim row-major. */
  h: RealArray;
  labels: ArrayLike<number>;
  rows: number;
}

/**
 * Neural collapse of features held in memory (both passes over the same arrays): the entry point for tests,
 * benchmarks and callers that already have the features. The engine streams batches through the same
 * accumulators instead.
 * @param labelClasses labels are 0..labelClasses−1 (the head's row count when a head is given).
 * @throws RangeError on shape mismatches, labels out of range, non-finite features, < 2 non-empty classes.
 */
export function neuralCollapse(
  train: FeatureSplit, dim: number, labelClasses: number, opts: { test?: FeatureSplit | null; head?: LinearHead | null } = {},
): CollapseMetrics {
  const acc = new ClassMeansAccumulator(dim, labelClasses);
  acc.add(train.h, train.labels, train.rows);
  const geom = collapseGeometry(acc);
  const p2 = new CollapseAccumulator(geom, opts.head ?? null);
  p2.add(train.h, train.labels, train.rows);
  let t: CollapseAccumulator | null = null;
  if (opts.test) {
    t = new CollapseAccumulator(geom, opts.head ?? null);
    t.add(opts.test.h, opts.test.labels, opts.test.rows);
  }
  return collapseMetrics({ geom, train: p2, test: t, head: opts.head ?? null });
}
