/**
 * k-nearest-neighbour classification of binary codes under Hamming distance (XOR + popcount on 32-bit words).
 * Convention (ANALYSES.md §2): neighbours are ordered by (distance, training index), the k first vote, and a
 * tied vote goes to the smallest label — deterministic, so the reference implementation matches exactly.
 */
import type { BitCodes } from './bits';
import type { Monitor } from './monitor';

/**
 * Predicts a label for every test code from its k nearest training codes.
 * @param classes labels are 0..classes−1.
 * @throws RangeError if widths differ, k < 1, k > the number of training codes, or a label is out of range.
 */
export function knnHammingPredict(
  train: BitCodes, trainLabels: Int32Array, test: BitCodes, k: number, classes: number, monitor?: Monitor,
): Int32Array {
  if (train.bits !== test.bits) throw new RangeError(`knn: train codes have ${train.bits} bits, test codes ${test.bits}`);
  if (!(Number.isInteger(k) && k >= 1 && k <= train.rows)) throw new RangeError(`knn: expected 1 ≤ k ≤ ${train.rows}, found ${k}`);
  if (trainLabels.length !== train.rows) throw new RangeError(`knn: ${train.rows} training codes but ${trainLabels.length} labels`);
  for (let i = 0; i < trainLabels.length; i++) {
    if (!(trainLabels[i] >= 0 && trainLabels[i] < classes)) throw new RangeError(`knn: label ${i} is ${trainLabels[i]}; expected 0..${classes - 1}`);
  }
  const words = train.words, n = train.rows;
  const tr = train.data, te = test.data;
  const pred = new Int32Array(test.rows);
  const bestD = new Int32Array(k), bestI = new Int32Array(k);
  const votes = new Int32Array(classes);
  for (let q = 0; q < test.rows; q++) {
    if ((q & 63) === 0) {
      monitor?.check?.();
      monitor?.progress?.(q, test.rows, 'knn');
    }
    const qo = q * words;
    let filled = 0;
    let worst = 0x7fffffff;
    for (let i = 0; i < n; i++) {
      const o = i * words;
      let d = 0;
      // Four words at a time, leaving as soon as the partial distance reaches the current k-th best: distances
      // only grow, so such a row can no longer enter the neighbour list.
      for (let t0 = 0; t0 < words && d < worst; t0 += 4) {
        const t1 = Math.min(words, t0 + 4);
        for (let t = t0; t < t1; t++) {
          // popcount inlined: this loop is the whole cost of KNN.
          let x = te[qo + t] ^ tr[o + t];
          x -= (x >>> 1) & 0x55555555;
          x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
          d += Math.imul((x + (x >>> 4)) & 0x0f0f0f0f, 0x01010101) >>> 24;
        }
      }
      // Strictly closer than the current k-th: earlier indices win ties because i only grows.
      if (d >= worst) continue;
      let p = filled < k ? filled++ : k - 1;
      while (p > 0 && bestD[p - 1] > d) {
        bestD[p] = bestD[p - 1];
        bestI[p] = bestI[p - 1];
        p--;
      }
      bestD[p] = d;
      bestI[p] = i;
      if (filled === k) worst = bestD[k - 1];
    }
    votes.fill(0);
    for (let j = 0; j < filled; j++) votes[trainLabels[bestI[j]]]++;
    let best = 0;
    for (let c = 1; c < classes; c++) if (votes[c] > votes[best]) best = c;
    pred[q] = best;
  }
  monitor?.progress?.(test.rows, test.rows, 'knn');
  return pred;
}
