/**
 * One-vs-one L2 logistic regression on binary codes, matching scikit-learn's
 * `OneVsOneClassifier(LogisticRegression(C, solver="lbfgs"))`: for every pair of classes i < j present in the
 * training labels, minimise Σ_samples log-loss + ‖w‖² / (2C) (intercept not penalised; class j is the positive
 * class) with L-BFGS to convergence; predict by votes plus scikit-learn's confidence tie-break
 * (`_ovr_decision_function`: Σ confidences / (3(|Σ| + 1)) added to the votes).
 *
 * Codes that occur several times are fitted once with their multiplicity per class — the same objective —
 * and every linear form runs through byte tables (see byteTables.ts).
 */
import { type BitCodes, codeBytes, distinctCodes, gatherRows } from './bits';
import { buildByteTables, bytesFor, expandByteHistogram } from './byteTables';
import { minimizeLbfgs } from './lbfgs';
import type { Monitor } from './monitor';

export interface OvoLogisticOptions {
  /** Inverse regularisation strength (default 1). */
  C?: number;
  /** L-BFGS iteration cap per pair (default 2000). */
  maxIter?: number;
  /** Gradient tolerance (max |g_i| of the summed objective; default 1e-4, scikit-learn's default `tol`). */
  gtol?: number;
  /** Relative objective decrease that stops the fit (default 2.2e-9, scipy L-BFGS-B's `factr`·eps). */
  ftol?: number;
  monitor?: Monitor;
}

export interface BinaryLogistic {
  /** Negative class (label 0 of the pair) and positive class. */
  i: number;
  j: number;
  coef: Float64Array;
  intercept: number;
  iterations: number;
  converged: boolean;
}

export interface OvoLogisticModel {
  bits: number;
  /** Classes present in the training labels, ascending. */
  classes: number[];
  pairs: BinaryLogistic[];
}


/**
 * Fits the C(C−1)/2 pairwise classifiers.
 * @throws RangeError if labels and codes differ in length, a label is negative, or fewer than 2 classes occur.
 */
export function fitOvoLogistic(train: BitCodes, labels: Int32Array, opts: OvoLogisticOptions = {}): OvoLogisticModel {
  if (labels.length !== train.rows) throw new RangeError(`logistic: ${train.rows} codes but ${labels.length} labels`);
  let maxLabel = -1;
  for (let i = 0; i < labels.length; i++) {
    if (!(labels[i] >= 0)) throw new RangeError(`logistic: label ${i} is ${labels[i]}; expected a class id ≥ 0`);
    maxLabel = Math.max(maxLabel, labels[i]);
  }
  const L = maxLabel + 1;
  const present = new Uint8Array(L);
  for (let i = 0; i < labels.length; i++) present[labels[i]] = 1;
  const classes: number[] = [];
  for (let c = 0; c < L; c++) if (present[c]) classes.push(c);
  if (classes.length < 2) throw new RangeError(`logistic: expected at least 2 classes in the training labels, found ${classes.length}`);
  const C = opts.C ?? 1;
  // Distinct codes and their count per label.
  const dc = distinctCodes(train);
  const counts = new Float64Array(dc.count * L);
  for (let r = 0; r < train.rows; r++) counts[dc.groupOf[r] * L + labels[r]]++;
  const distinct = gatherRows(train, dc.firstRow);
  const bytes = codeBytes(distinct);
  const stride = distinct.words * 4;
  const bits = train.bits, nb = bytesFor(bits);
  const pairs: BinaryLogistic[] = [];
  const total = (classes.length * (classes.length - 1)) / 2;
  const table = new Float64Array(nb * 256), hist = new Float64Array(nb * 256), gw = new Float64Array(bits);
  for (let a = 0; a < classes.length; a++) {
    for (let b = a + 1; b < classes.length; b++) {
      opts.monitor?.check?.();
      const ci = classes[a], cj = classes[b];
      const rows: number[] = [];
      for (let d = 0; d < dc.count; d++) if (counts[d * L + ci] > 0 || counts[d * L + cj] > 0) rows.push(d);
      const m = rows.length;
      const wNeg = new Float64Array(m), wPos = new Float64Array(m);
      const rb = new Uint8Array(m * nb);
      for (let r = 0; r < m; r++) {
        wNeg[r] = counts[rows[r] * L + ci];
        wPos[r] = counts[rows[r] * L + cj];
        rb.set(bytes.subarray(rows[r] * stride, rows[r] * stride + nb), r * nb);
      }
      const fg = (x: Float64Array, g: Float64Array): number => {
        buildByteTables(x, bits, table);
        hist.fill(0);
        const b0 = x[bits];
        let loss = 0, gb = 0;
        for (let r = 0; r < m; r++) {
          const o = r * nb;
          let z0 = b0, z1 = 0, z2 = 0, z3 = 0;
          let t = 0;
          for (; t + 4 <= nb; t += 4) {
            z0 += table[t * 256 + rb[o + t]];
            z1 += table[(t + 1) * 256 + rb[o + t + 1]];
            z2 += table[(t + 2) * 256 + rb[o + t + 2]];
            z3 += table[(t + 3) * 256 + rb[o + t + 3]];
          }
          for (; t < nb; t++) z0 += table[t * 256 + rb[o + t]];
          const z = z0 + z1 + z2 + z3;
          // One exp per sample: with e = exp(−|z|), σ(z), log(1 + e^{−z}) and log(1 + e^{z}) all follow stably.
          const e = Math.exp(-Math.abs(z));
          const l1p = Math.log1p(e);
          const p = z >= 0 ? 1 / (1 + e) : e / (1 + e);
          const wp = wPos[r], wn = wNeg[r];
          loss += wp * (z >= 0 ? l1p : l1p - z) + wn * (z >= 0 ? z + l1p : l1p);
          const dz = (wp + wn) * p - wp;
          gb += dz;
          for (let u = 0; u < nb; u++) hist[u * 256 + rb[o + u]] += dz;
        }
        expandByteHistogram(hist, bits, gw);
        let reg = 0;
        for (let k = 0; k < bits; k++) {
          reg += x[k] * x[k];
          g[k] = gw[k] + x[k] / C;
        }
        g[bits] = gb;
        return loss + reg / (2 * C);
      };
      // Stopping rules of scikit-learn's lbfgs solver (scipy L-BFGS-B defaults): max|g| ≤ tol = 1e-4, or a relative
      // decrease of the objective ≤ factr·eps = 1e7·2.2e-16.
      const r = minimizeLbfgs(fg, new Float64Array(bits + 1), { maxIter: opts.maxIter ?? 2000, gtol: opts.gtol ?? 1e-4, ftol: opts.ftol ?? 2.220446049250313e-9 });
      pairs.push({ i: ci, j: cj, coef: r.x.slice(0, bits), intercept: r.x[bits], iterations: r.iterations, converged: r.converged });
      opts.monitor?.progress?.(pairs.length, total, 'logistic regression (one-vs-one)');
    }
  }
  return { bits, classes, pairs };
}

/** Predicted labels of `codes` under a fitted one-vs-one model. */
export function predictOvoLogistic(model: OvoLogisticModel, codes: BitCodes): Int32Array {
  if (codes.bits !== model.bits) throw new RangeError(`logistic: model has ${model.bits} bits, codes ${codes.bits}`);
  const K = model.classes.length;
  const index = new Map(model.classes.map((c, i) => [c, i]));
  const n = codes.rows, nb = bytesFor(codes.bits), stride = codes.words * 4;
  const bytes = codeBytes(codes);
  const votes = new Float64Array(n * K), conf = new Float64Array(n * K);
  const table = new Float64Array(nb * 256);
  for (const p of model.pairs) {
    buildByteTables(p.coef, model.bits, table);
    const a = index.get(p.i)!, b = index.get(p.j)!;
    for (let r = 0; r < n; r++) {
      const o = r * stride;
      let z = p.intercept;
      for (let t = 0; t < nb; t++) z += table[t * 256 + bytes[o + t]];
      conf[r * K + a] -= z;
      conf[r * K + b] += z;
      votes[r * K + (z > 0 ? b : a)] += 1;
    }
  }
  const pred = new Int32Array(n);
  for (let r = 0; r < n; r++) {
    let best = 0, bestV = -Infinity;
    for (let c = 0; c < K; c++) {
      const s = conf[r * K + c];
      const v = votes[r * K + c] + s / (3 * (Math.abs(s) + 1));
      if (v > bestV) {
        bestV = v;
        best = c;
      }
    }
    pred[r] = model.classes[best];
  }
  return pred;
}
