/**
 * Activation codes as a hash of the input (He, Lei, Ji & Tao 2021, "Activation hash codes"; ANALYSES.md §2).
 * The code of an input is the concatenation over the coded layers of 1[a > 0] — on which side of every ReLU's
 * hinge it falls, i.e. which linear region of the network holds it. Codes are bit-packed (32 units per word);
 * the analysis counts distinct codes exactly (hash + confirmation) and probes how much class information the
 * codes carry with K-means, 9-NN under Hamming distance and one-vs-one logistic regression.
 */
import {
  type BitCodes,
  allocCodes,
  distinctCodes,
  gatherRows,
  headRows,
  nonConstantColumns,
  packPositive,
  selectColumns,
} from './stats/bits';
import { clusterMajorityAccuracy, kmeansBinary } from './stats/kmeans';
import { knnHammingPredict } from './stats/knn';
import { fitOvoLogistic, predictOvoLogistic } from './stats/logistic';
import type { Monitor } from './stats/monitor';
import type { HashMetrics } from '../shared/results';

export type { BitCodes } from './stats/bits';

/**
 * Builds the concatenated codes of one split batch by batch: layer l contributes `widths[l]` bits per sample
 * (all of its elements, e.g. channels × positions for a convolution), in the order given.
 */
export class CodeBuilder {
  readonly codes: BitCodes;
  readonly offsets: number[];
  private filled = 0;
  constructor(
    readonly widths: readonly number[],
    rows: number,
  ) {
    this.offsets = [];
    let bits = 0;
    for (const w of widths) {
      if (!(Number.isInteger(w) && w >= 1)) throw new RangeError(`hash codes: expected layer widths ≥ 1, found ${w}`);
      this.offsets.push(bits);
      bits += w;
    }
    this.codes = allocCodes(rows, bits);
  }

  /** Sets the codes of samples [rowOffset, rowOffset + count): `layers[l]` is count×widths[l] activations. */
  add(layers: readonly ArrayLike<number>[], count: number, rowOffset: number): void {
    if (layers.length !== this.widths.length) throw new RangeError(`hash codes: expected ${this.widths.length} layers, found ${layers.length}`);
    if (rowOffset < 0 || rowOffset + count > this.codes.rows) throw new RangeError(`hash codes: rows ${rowOffset}..${rowOffset + count} outside 0..${this.codes.rows}`);
    for (let l = 0; l < layers.length; l++) {
      if (layers[l].length !== count * this.widths[l]) {
        throw new RangeError(`hash codes: layer ${l} has ${layers[l].length} values for ${count} samples; expected ${count}×${this.widths[l]}`);
      }
      packPositive(layers[l], count, this.widths[l], this.codes, rowOffset, this.offsets[l]);
    }
    this.filled += count;
  }

  /** Samples added so far. */
  get rows(): number {
    return this.filled;
  }
}

export interface HashOptions {
  /** Seed of K-means (default 0). */
  seed?: number;
  /** K-means restarts (default 10). */
  kmeansInit?: number;
  /** Neighbours of the KNN probe (default 9). */
  knnK?: number;
  /** Inverse L2 strength of the logistic probe (default 1). */
  logisticC?: number;
  /** Which probes to run (default all). */
  probes?: { kmeans?: boolean; knn?: boolean; logistic?: boolean };
  /** Also report the training redundancy ratio on the first n samples for each n (sample-size axis of the phase chart). */
  sampleSizes?: number[];
  monitor?: Monitor;
}

export interface HashInput {
  train: BitCodes;
  labelsTrain: Int32Array;
  test?: BitCodes | null;
  labelsTest?: Int32Array | null;
  /** Labels are 0..classes−1; K-means uses k = classes. */
  classes: number;
}

export const HASH_VARIANTS = {
  code: 'c(x) = concatenation over the coded layers of 1[pre-activation > 0] (= 1[post-ReLU > 0]); every channel × position of a convolution is one bit',
  codeBits: 'bits constant (all 0 or all 1) over train ∪ test are dropped; codeBitsRaw counts them',
  redundancyRatio: '(n − #distinct codes)/n per split; distinct codes counted exactly (hash buckets, equality confirmed)',
  kmeans: 'K-means, k = #classes, Euclidean on 0/1 codes, k-means++ (2 + ⌊ln k⌋ local trials), 10 restarts, lowest inertia kept (scikit-learn Lloyd conventions); accuracy = each cluster predicts its majority label; fitted separately on train and on test',
  knn: '9-NN, Hamming distance (XOR + popcount), fit on train, scored on test; neighbours ordered by (distance, training index), majority vote, a tied vote goes to the smallest label',
  logistic: 'one-vs-one L2 logistic regression, C = 1 (Σ log-loss + ‖w‖²/2, intercept not penalised), L-BFGS until max|∇| ≤ 1e-4 or a relative decrease ≤ 2.2e-9 (the stopping rules of scikit-learn/scipy); votes + scikit-learn confidence tie-break; fit on train, scored on test',
} as const;

function labelCountsOf(groupOf: Int32Array, count: number, labels: Int32Array, classes: number): Float64Array {
  const out = new Float64Array(count * classes);
  for (let i = 0; i < labels.length; i++) out[groupOf[i] * classes + labels[i]]++;
  return out;
}

function kmeansAccuracy(codes: BitCodes, labels: Int32Array, classes: number, seed: number, nInit: number, monitor?: Monitor) {
  const dc = distinctCodes(codes);
  const pts = gatherRows(codes, dc.firstRow);
  const r = kmeansBinary(pts, Float64Array.from(dc.multiplicity), { k: classes, seed, nInit, monitor });
  const acc = clusterMajorityAccuracy(r.labels, labelCountsOf(dc.groupOf, dc.count, labels, classes), classes, classes);
  return { accuracy: acc, inertia: r.inertia, iterations: r.iterations };
}

function checkLabels(labels: Int32Array, rows: number, classes: number, split: string): void {
  if (labels.length !== rows) throw new RangeError(`hash codes: ${rows} ${split} codes but ${labels.length} labels`);
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0 && labels[i] < classes)) throw new RangeError(`hash codes: ${split} label ${i} is ${labels[i]}; expected 0..${classes - 1}`);
  }
}

/**
 * Redundancy ratios and probe accuracies of activation codes.
 * @throws RangeError on mismatched labels, labels out of range, or train/test codes of different widths.
 */
/** The smallest sample size {@link autoSampleSizes} goes down to. */
export const AUTO_SAMPLE_SIZE_MIN = 100;

/**
 * The sample-size axis of the phase chart when none is given: n, n/2, n/4, … (rounded down) while at least
 * {@link AUTO_SAMPLE_SIZE_MIN}, at most 8 sizes, ascending. Fewer than that many samples: just [n] (n ≥ 1).
 */
export function autoSampleSizes(n: number): number[] {
  if (!(n >= 1)) return [];
  const out = [Math.floor(n)];
  while (out.length < 8 && Math.floor(out[0] / 2) >= AUTO_SAMPLE_SIZE_MIN) out.unshift(Math.floor(out[0] / 2));
  return out;
}

export function hashCodeAnalysis(input: HashInput, opts: HashOptions = {}): HashMetrics {
  const { classes } = input;
  const warnings: string[] = [];
  checkLabels(input.labelsTrain, input.train.rows, classes, 'train');
  const test = input.test ?? null;
  if (test) {
    if (test.bits !== input.train.bits) throw new RangeError(`hash codes: train codes have ${input.train.bits} bits, test codes ${test.bits}`);
    if (!input.labelsTest) throw new RangeError('hash codes: test codes need test labels');
    checkLabels(input.labelsTest, test.rows, classes, 'test');
  }
  const keep = nonConstantColumns(test ? [input.train, test] : [input.train]);
  // Constant columns cannot tell two codes apart, so distinct codes are counted on the raw codes; the probes
  // get the codes without them.
  const dTrain = distinctCodes(input.train);
  const dTest = test ? distinctCodes(test) : null;
  const anyProbe = opts.probes?.kmeans !== false || opts.probes?.knn !== false || opts.probes?.logistic !== false;
  const train = anyProbe ? selectColumns(input.train, keep) : input.train;
  const te = test ? (anyProbe ? selectColumns(test, keep) : test) : null;
  const out: HashMetrics = {
    codeBitsRaw: input.train.bits,
    codeBits: keep.length,
    redundancyRatioTrain: (train.rows - dTrain.count) / train.rows,
    redundancyRatioTest: te && dTest ? (te.rows - dTest.count) / te.rows : null,
    distinctTrain: dTrain.count,
    distinctTest: dTest ? dTest.count : null,
    kmeansAccuracyTrain: null,
    kmeansAccuracyTest: null,
    knnAccuracy: null,
    logisticAccuracy: null,
    probes: {},
    warnings,
  };
  if (opts.sampleSizes?.length) {
    out.bySampleSize = opts.sampleSizes
      .filter((n) => n >= 1 && n <= train.rows)
      .map((n) => {
        const d = distinctCodes(headRows(input.train, n)).count;
        return { samples: n, distinct: d, redundancyRatio: (n - d) / n };
      });
  }
  if (!te) warnings.push('no test split: redundancyRatioTest, kmeansAccuracyTest, knnAccuracy and logisticAccuracy need held-out data (x_test/y_test)');
  const probes = { kmeans: true, knn: true, logistic: true, ...opts.probes };
  const seed = opts.seed ?? 0;
  const nInit = opts.kmeansInit ?? 10;
  const monitor = opts.monitor;
  if (keep.length === 0) {
    warnings.push('every code bit is constant over train ∪ test: all inputs share one code, so the probes are skipped');
    return out;
  }
  if (probes.kmeans) {
    const k1 = kmeansAccuracy(train, input.labelsTrain, classes, seed, nInit, monitor);
    out.kmeansAccuracyTrain = k1.accuracy;
    out.probes.kmeans = { train: { inertia: k1.inertia, iterations: k1.iterations } };
    if (te) {
      const k2 = kmeansAccuracy(te, input.labelsTest!, classes, seed, nInit, monitor);
      out.kmeansAccuracyTest = k2.accuracy;
      out.probes.kmeans.test = { inertia: k2.inertia, iterations: k2.iterations };
    }
  }
  if (te && probes.knn) {
    const k = opts.knnK ?? 9;
    if (k > train.rows) warnings.push(`knnAccuracy is undefined: k = ${k} > ${train.rows} training samples`);
    else {
      const pred = knnHammingPredict(train, input.labelsTrain, te, k, classes, monitor);
      let ok = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === input.labelsTest![i]) ok++;
      out.knnAccuracy = ok / te.rows;
    }
  }
  if (te && probes.logistic) {
    const present = new Set(input.labelsTrain);
    if (present.size < 2) warnings.push('logisticAccuracy is undefined: the training labels hold fewer than 2 classes');
    else {
      const model = fitOvoLogistic(train, input.labelsTrain, { C: opts.logisticC ?? 1, monitor });
      const pred = predictOvoLogistic(model, te);
      let ok = 0;
      for (let i = 0; i < pred.length; i++) if (pred[i] === input.labelsTest![i]) ok++;
      out.logisticAccuracy = ok / te.rows;
      const notConverged = model.pairs.filter((p) => !p.converged).length;
      out.probes.logistic = { pairs: model.pairs.length, notConverged, maxIterations: Math.max(...model.pairs.map((p) => p.iterations)) };
      if (notConverged) warnings.push(`logistic regression: ${notConverged} of ${model.pairs.length} pairwise fits stopped at the iteration cap before convergence`);
    }
  }
  return out;
}
