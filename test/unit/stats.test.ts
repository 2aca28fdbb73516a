/**
 * src/analysis/stats: the shared RNG (pinned to the Python port's values), bit-packed codes and exact distinct
 * counting, byte-table kernels, K-means (fixed points, weights = duplicates, degenerate inputs), Hamming KNN
 * (the tie rule against brute force), L-BFGS, one-vs-one logistic regression (optimality, separable data) and
 * average-linkage clustering (against a naive O(n³) UPGMA).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { averageLinkage, cutDendrogram } from '../../src/analysis/stats/agglomerative';
import {
  allocCodes,
  codeBytes,
  distinctCodes,
  getBit,
  gatherRows,
  nonConstantColumns,
  packPositive,
  popcount32,
  selectColumns,
  type BitCodes,
} from '../../src/analysis/stats/bits';
import { buildByteTables, expandByteHistogram } from '../../src/analysis/stats/byteTables';
import { clusterMajorityAccuracy, kmeansBinary } from '../../src/analysis/stats/kmeans';
import { knnHammingPredict } from '../../src/analysis/stats/knn';
import { minimizeLbfgs } from '../../src/analysis/stats/lbfgs';
import { fitOvoLogistic, predictOvoLogistic } from '../../src/analysis/stats/logistic';
import { mulberry32, sampleWithoutReplacement } from '../../src/analysis/stats/random';

/** Codes from a 0/1 matrix given as rows of numbers. */
function codesOf(rows: number[][]): BitCodes {
  const bits = rows[0]?.length ?? 0;
  const c = allocCodes(rows.length, bits);
  packPositive(Float32Array.from(rows.flat()), rows.length, bits, c, 0, 0);
  return c;
}

function randomBits(n: number, bits: number, p: number, seed: number): number[][] {
  const r = mulberry32(seed);
  return Array.from({ length: n }, () => Array.from({ length: bits }, () => (r() < p ? 1 : 0)));
}

describe('random', () => {
  it('mulberry32 and the partial Fisher–Yates match the Python reference port', () => {
    const r = mulberry32(42);
    assert.deepEqual([r(), r(), r()], [0.6011037519201636, 0.44829055899754167, 0.8524657934904099]);
    assert.deepEqual(Array.from(sampleWithoutReplacement(10, 4, mulberry32(7))), [0, 1, 9, 7]);
    const s = sampleWithoutReplacement(1000, 1000, mulberry32(1));
    assert.equal(new Set(s).size, 1000);
    assert.throws(() => sampleWithoutReplacement(3, 4, mulberry32(1)), /0 ≤ k ≤ n/);
  });
});

describe('bit-packed codes', () => {
  it('packs signs at any bit offset, across word boundaries', () => {
    const c = allocCodes(3, 70);
    const a = Float32Array.from({ length: 3 * 37 }, (_, i) => Math.sin(i * 1.3));
    const b = Float32Array.from({ length: 3 * 33 }, (_, i) => Math.cos(i * 0.7) - 0.2);
    packPositive(a, 3, 37, c, 0, 0);
    packPositive(b, 3, 33, c, 0, 37);
    for (let r = 0; r < 3; r++) {
      for (let j = 0; j < 37; j++) assert.equal(getBit(c, r, j), a[r * 37 + j] > 0 ? 1 : 0);
      for (let j = 0; j < 33; j++) assert.equal(getBit(c, r, 37 + j), b[r * 33 + j] > 0 ? 1 : 0);
    }
    assert.equal(c.words, 3);
    assert.equal(popcount32(0xffffffff), 32);
    assert.equal(popcount32(0x80000001), 2);
  });

  it('finds constant columns over several sets and repacks the rest', () => {
    const a = codesOf([[1, 0, 1, 0], [1, 1, 0, 0]]);
    const b = codesOf([[1, 0, 1, 0]]);
    assert.deepEqual(Array.from(nonConstantColumns([a, b])), [1, 2]);
    const s = selectColumns(a, Int32Array.from([1, 2]));
    assert.deepEqual([getBit(s, 0, 0), getBit(s, 0, 1), getBit(s, 1, 0), getBit(s, 1, 1)], [0, 1, 1, 0]);
  });

  it('counts distinct codes exactly (against string keys), with first-appearance ids', () => {
    const rows = randomBits(3000, 12, 0.5, 3);
    const c = codesOf(rows);
    const d = distinctCodes(c);
    const keys = rows.map((r) => r.join(''));
    assert.equal(d.count, new Set(keys).size);
    const firstIndex = new Map<string, number>();
    keys.forEach((k, i) => firstIndex.has(k) || firstIndex.set(k, i));
    for (let i = 0; i < rows.length; i++) assert.equal(d.firstRow[d.groupOf[i]], firstIndex.get(keys[i]));
    assert.equal(d.multiplicity.reduce((a, b) => a + b, 0), rows.length);
    // Wide codes (several words) whose rows differ only in the last bit.
    const wide = codesOf([Array(100).fill(1), [...Array(99).fill(1), 0], Array(100).fill(1)]);
    assert.equal(distinctCodes(wide).count, 2);
  });
});

describe('byte tables', () => {
  it('x·w and Σ r_i x_i through byte tables equal the plain sums', () => {
    const bits = 45;
    const rows = randomBits(20, bits, 0.4, 5);
    const c = codesOf(rows);
    const bytes = codeBytes(c);
    const w = Array.from({ length: bits }, (_, j) => Math.sin(j) * 3);
    const table = new Float64Array(6 * 256);
    buildByteTables(w, bits, table);
    const hist = new Float64Array(6 * 256);
    const r = rows.map((_, i) => Math.cos(i));
    rows.forEach((row, i) => {
      let viaTable = 0;
      for (let b = 0; b < 6; b++) {
        viaTable += table[b * 256 + bytes[i * c.words * 4 + b]];
        hist[b * 256 + bytes[i * c.words * 4 + b]] += r[i];
      }
      const plain = row.reduce((s, x, j) => s + x * w[j], 0);
      assert.ok(Math.abs(viaTable - plain) < 1e-12);
    });
    const g = new Float64Array(bits);
    expandByteHistogram(hist, bits, g);
    for (let j = 0; j < bits; j++) {
      const plain = rows.reduce((s, row, i) => s + row[j] * r[i], 0);
      assert.ok(Math.abs(g[j] - plain) < 1e-12, `bit ${j}`);
    }
  });
});

describe('k-means on binary codes', () => {
  it('recovers well-separated clusters and returns a Lloyd fixed point', () => {
    const proto = randomBits(4, 40, 0.5, 11);
    const r = mulberry32(12);
    const rows: number[][] = [], y: number[] = [];
    for (let i = 0; i < 400; i++) {
      const c = i % 4;
      y.push(c);
      rows.push(proto[c].map((b) => (r() < 0.05 ? 1 - b : b)));
    }
    const codes = codesOf(rows);
    const res = kmeansBinary(codes, null, { k: 4, seed: 3 });
    assert.equal(res.runs.length, 10);
    assert.equal(res.inertia, Math.min(...res.runs.map((x) => x.inertia)));
    const counts = new Float64Array(400 * 4);
    y.forEach((c, i) => (counts[i * 4 + c] = 1));
    assert.equal(clusterMajorityAccuracy(res.labels, counts, 4, 4), 1);
    // Fixed point: every point at its nearest centre, centres = means of their points.
    for (let i = 0; i < 400; i++) {
      const d = [0, 1, 2, 3].map((c) => rows[i].reduce((s, x, j) => s + (x - res.centers[c * 40 + j]) ** 2, 0));
      assert.ok(d[res.labels[i]] <= Math.min(...d) + 1e-9);
    }
    let inertia = 0;
    for (let i = 0; i < 400; i++) inertia += rows[i].reduce((s, x, j) => s + (x - res.centers[res.labels[i] * 40 + j]) ** 2, 0);
    assert.ok(Math.abs(inertia - res.inertia) < 1e-6);
  });

  it('weights act as duplicates, and fewer distinct points than k is not an error', () => {
    const rows = [[1, 1, 0], [0, 0, 1], [1, 0, 0]];
    const dup = codesOf([rows[0], rows[0], rows[0], rows[1], rows[2], rows[2]]);
    const full = kmeansBinary(dup, null, { k: 2, seed: 1 });
    const weighted = kmeansBinary(codesOf(rows), Float64Array.from([3, 1, 2]), { k: 2, seed: 1 });
    assert.ok(Math.abs(full.inertia - weighted.inertia) < 1e-9, `${full.inertia} vs ${weighted.inertia}`);
    const few = kmeansBinary(codesOf([[1, 0], [0, 1]]), Float64Array.from([5, 5]), { k: 10 });
    assert.equal(few.inertia, 0);
    assert.throws(() => kmeansBinary(codesOf([[1]]), Float64Array.from([0]), { k: 1 }), /weight 0 is 0/);
  });
});

describe('Hamming KNN', () => {
  it('orders neighbours by (distance, index), breaks vote ties to the smallest label (brute force check)', () => {
    const train = randomBits(300, 6, 0.5, 21);
    const test = randomBits(200, 6, 0.5, 22);
    const r = mulberry32(23);
    const y = Int32Array.from({ length: 300 }, () => Math.floor(r() * 4));
    const pred = knnHammingPredict(codesOf(train), y, codesOf(test), 9, 4);
    test.forEach((q, t) => {
      const order = train
        .map((row, i) => ({ d: row.reduce((s, b, j) => s + (b !== q[j] ? 1 : 0), 0), i }))
        .sort((a, b) => a.d - b.d || a.i - b.i)
        .slice(0, 9);
      const votes = [0, 0, 0, 0];
      for (const o of order) votes[y[o.i]]++;
      assert.equal(pred[t], votes.indexOf(Math.max(...votes)), `test row ${t}`);
    });
    assert.throws(() => knnHammingPredict(codesOf(train), y, codesOf([[1, 0]]), 9, 4), /6 bits, test codes 2/);
    assert.throws(() => knnHammingPredict(codesOf(train.slice(0, 3)), y.subarray(0, 3), codesOf(test), 9, 4), /1 ≤ k ≤ 3/);
  });
});

describe('L-BFGS and logistic regression', () => {
  it('minimises the Rosenbrock function', () => {
    const r = minimizeLbfgs((x, g) => {
      const a = 1 - x[0], b = x[1] - x[0] * x[0];
      g[0] = -2 * a - 400 * x[0] * b;
      g[1] = 200 * b;
      return a * a + 100 * b * b;
    }, Float64Array.from([-1.2, 1]), { gtol: 1e-8 });
    assert.ok(r.converged && Math.abs(r.x[0] - 1) < 1e-6 && Math.abs(r.x[1] - 1) < 1e-6, JSON.stringify(r));
  });

  it('one-vs-one fits reach the optimum of Σ log-loss + ‖w‖²/2 (gradient ≈ 0) and separate separable data', () => {
    const rows = randomBits(240, 20, 0.5, 31);
    const y = Int32Array.from(rows, (row) => (row[0] + 2 * row[1]) % 3);
    const codes = codesOf(rows);
    const model = fitOvoLogistic(codes, y);
    assert.equal(model.pairs.length, 3);
    assert.deepEqual(model.classes, [0, 1, 2]);
    for (const p of model.pairs) {
      // Gradient of the pair's objective at the solution, computed plainly.
      const g = new Float64Array(21);
      rows.forEach((row, i) => {
        if (y[i] !== p.i && y[i] !== p.j) return;
        const z = p.intercept + row.reduce((s, b, j) => s + b * p.coef[j], 0);
        const dz = 1 / (1 + Math.exp(-z)) - (y[i] === p.j ? 1 : 0);
        row.forEach((b, j) => (g[j] += b * dz));
        g[20] += dz;
      });
      for (let j = 0; j < 20; j++) g[j] += p.coef[j];
      assert.ok(Math.max(...g.map(Math.abs)) < 2e-4, `pair ${p.i}-${p.j} gradient ${Math.max(...g.map(Math.abs))}`);
      assert.ok(p.converged);
    }
    const pred = predictOvoLogistic(model, codes);
    assert.ok(pred.every((v, i) => v === y[i]));
    assert.throws(() => fitOvoLogistic(codes, new Int32Array(240)), /at least 2 classes/);
  });
});

describe('average linkage', () => {
  it('matches a naive UPGMA on random distances and cuts consistently', () => {
    const n = 14;
    const r = mulberry32(41);
    const pts = Array.from({ length: n }, () => [r(), r()]);
    const dist = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) dist[i * n + j] = Math.hypot(pts[i][0] - pts[j][0], pts[i][1] - pts[j][1]);
    const merges = averageLinkage(dist, n);
    // Naive: repeatedly merge the closest pair of clusters by mean pairwise distance.
    let clusters = Array.from({ length: n }, (_, i) => [i]);
    const heights: number[] = [];
    while (clusters.length > 1) {
      let best = Infinity, bi = 0, bj = 1;
      for (let a = 0; a < clusters.length; a++) {
        for (let b = a + 1; b < clusters.length; b++) {
          let s = 0;
          for (const i of clusters[a]) for (const j of clusters[b]) s += dist[i * n + j];
          s /= clusters[a].length * clusters[b].length;
          if (s < best) [best, bi, bj] = [s, a, b];
        }
      }
      heights.push(best);
      clusters = [...clusters.filter((_, k) => k !== bi && k !== bj), [...clusters[bi], ...clusters[bj]]];
    }
    merges.forEach((m, k) => assert.ok(Math.abs(m.height - heights[k]) < 1e-12, `merge ${k}`));
    const cut = cutDendrogram(merges, n, heights[n - 4]);
    assert.equal(cut.count, 3);
    assert.equal(cut.assignment[0], 0);
  });
});

describe('gatherRows', () => {
  it('copies whole rows in the given order', () => {
    const c = codesOf([[1, 0], [0, 1], [1, 1]]);
    const g = gatherRows(c, [2, 0]);
    assert.deepEqual([getBit(g, 0, 0), getBit(g, 0, 1), getBit(g, 1, 0), getBit(g, 1, 1)], [1, 1, 1, 0]);
  });
});
