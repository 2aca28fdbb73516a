/**
 * Maximum-weight assignment against brute force over every injection, and the label-permutation check on
 * confusion matrices with known answers.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { labelPermutationCheck, maxWeightAssignment } from '../../src/analysis/stats/assignment';
import { mulberry32 } from '../../src/analysis/stats/random';

/** The best total weight over every injective rows → cols map, by enumeration. */
function bruteBest(w: number[], rows: number, cols: number): number {
  let best = -Infinity;
  const used = new Array<boolean>(cols).fill(false);
  const go = (r: number, sum: number) => {
    if (r === rows) {
      best = Math.max(best, sum);
      return;
    }
    for (let c = 0; c < cols; c++) {
      if (used[c]) continue;
      used[c] = true;
      go(r + 1, sum + w[r * cols + c]);
      used[c] = false;
    }
  };
  go(0, 0);
  return best;
}

describe('maxWeightAssignment', () => {
  test('matches brute force on random square and rectangular matrices, including ties and negatives', () => {
    const rand = mulberry32(7);
    for (let trial = 0; trial < 300; trial++) {
      const rows = 1 + Math.floor(rand() * 5);
      const cols = rows + Math.floor(rand() * 3);
      const ints = trial % 3 === 0; // integer weights make ties likely
      const w = Array.from({ length: rows * cols }, () => (ints ? Math.floor(rand() * 4) : rand() * 10 - 5));
      const a = maxWeightAssignment(w, rows, cols);
      assert.equal(new Set(a).size, rows, `one column per row: ${[...a]}`);
      assert.ok([...a].every((c) => c >= 0 && c < cols));
      const total = [...a].reduce((s, c, r) => s + w[r * cols + c], 0);
      assert.ok(Math.abs(total - bruteBest(w, rows, cols)) < 1e-9, `trial ${trial}: ${total} vs ${bruteBest(w, rows, cols)}`);
    }
  });

  test('finds a hidden permutation of a 200 × 200 matrix', () => {
    const n = 200;
    const rand = mulberry32(3);
    const perm = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
    const w = new Float64Array(n * n).map(() => rand());
    for (let i = 0; i < n; i++) w[i * n + perm[i]] = 2;
    assert.deepEqual([...maxWeightAssignment(w, n, n)], perm);
  });

  test('refuses more rows than columns, a wrong length and non-finite weights', () => {
    assert.throws(() => maxWeightAssignment([1, 2], 2, 1), /0 ≤ rows ≤ cols, found 2 × 1/);
    assert.throws(() => maxWeightAssignment([1, 2, 3], 2, 2), /3 entries, expected 2 × 2/);
    assert.throws(() => maxWeightAssignment([1, NaN, 3, 4], 2, 2), /weight 1 is NaN/);
    assert.deepEqual([...maxWeightAssignment([], 0, 3)], []);
  });
});

/** Confusion counts (labels × outputs) where label l is predicted as perm[l] for `right` of `per` samples, else as l. */
function confusion(perm: number[], outputs: number, per: number, right: number): Float64Array {
  const L = perm.length;
  const c = new Float64Array(L * outputs);
  for (let l = 0; l < L; l++) {
    c[l * outputs + perm[l]] += right;
    c[l * outputs + ((perm[l] + 1) % outputs)] += per - right;
  }
  return c;
}

describe('labelPermutationCheck', () => {
  test('a swapped pair of classes: the relabelling, both accuracies, flagged', () => {
    const perm = [0, 1, 3, 2, 4];
    const r = labelPermutationCheck(confusion(perm, 5, 100, 90), 5, 5);
    assert.deepEqual([...r.mapping], perm);
    assert.equal(r.samples, 500);
    // Diagonal: labels 0, 1, 4 right 90 times each, and label 3 spills 10 onto output 3.
    assert.ok(Math.abs(r.accuracy - 280 / 500) < 1e-12, `${r.accuracy}`);
    assert.ok(Math.abs(r.mappedAccuracy - 0.9) < 1e-12);
    assert.equal(r.permuted, true);
  });

  test('labels in the model order: identity, not flagged', () => {
    const r = labelPermutationCheck(confusion([0, 1, 2, 3], 4, 50, 40), 4, 4);
    assert.deepEqual([...r.mapping], [0, 1, 2, 3]);
    assert.equal(r.mappedAccuracy, r.accuracy);
    assert.equal(r.permuted, false);
  });

  test('an untrained network (predictions unrelated to labels) is not flagged', () => {
    const rand = mulberry32(11);
    const L = 10, n = 2000;
    const c = new Float64Array(L * L);
    for (let i = 0; i < n; i++) c[Math.floor(rand() * L) * L + Math.floor(rand() * L)]++;
    assert.equal(labelPermutationCheck(c, L, L).permuted, false);
  });

  test('a few samples cannot trigger it; a reference accuracy close to the network\'s vetoes it', () => {
    // 2 samples per label, all swapped: a gain of 1.0 but only 8 samples.
    assert.equal(labelPermutationCheck(confusion([1, 0, 3, 2], 4, 2, 2), 4, 4).permuted, false);
    const c = confusion([1, 0, 3, 2, 4, 5], 6, 50, 45);
    assert.equal(labelPermutationCheck(c, 6, 6).permuted, true);
    // accuracy ≈ 0.35 (two classes right, spill) and the reference says the features are no better: not permuted.
    const acc = labelPermutationCheck(c, 6, 6).accuracy;
    assert.equal(labelPermutationCheck(c, 6, 6, { reference: acc + 0.05 }).permuted, false);
    assert.equal(labelPermutationCheck(c, 6, 6, { reference: 0.95 }).permuted, true);
  });

  test('a 1000-class model with 10 labelled classes: only the labels with samples are assigned', () => {
    const L = 1000, K = 1000;
    const c = new Float64Array(L * K);
    const used = [3, 17, 256, 400, 512, 640, 777, 800, 901, 999];
    used.forEach((l, i) => {
      c[l * K + used[(i + 1) % used.length]] = 40; // each class read as the next one
      c[l * K + l] = 5;
    });
    const r = labelPermutationCheck(c, L, K);
    used.forEach((l, i) => assert.equal(r.mapping[l], used[(i + 1) % used.length]));
    assert.equal([...r.mapping].filter((m) => m >= 0).length, 10);
    assert.ok(Math.abs(r.mappedAccuracy - 40 / 45) < 1e-12);
    assert.equal(r.permuted, true);
  });

  test('more outputs than labels, and a label without samples', () => {
    const c = new Float64Array(3 * 5);
    c[0 * 5 + 4] = 30; // label 0 → output 4
    c[1 * 5 + 1] = 30; // label 1 → output 1
    const r = labelPermutationCheck(c, 3, 5);
    assert.equal(r.mapping[0], 4);
    assert.equal(r.mapping[1], 1);
    assert.equal(r.mapping[2], -1);
    assert.equal(r.accuracy, 0.5);
    assert.equal(r.mappedAccuracy, 1);
    assert.equal(r.permuted, true);
  });
});
