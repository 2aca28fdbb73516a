/**
 * Redundant representations (src/analysis/redundancy.ts): the Gram-matrix route for R² and residual
 * correlation against a direct ridge fit on the data, chunk accuracy against a plain recomputation of the same
 * chunk, a layer made of clones (critical width and clone count), our grouping on two correlated blocks, and
 * degenerate inputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { chunkSeed, defaultChunkSizes, redundancyAnalysis } from '../../src/analysis/redundancy';
import { ridgeSolve } from '../../src/analysis/linalg/index';
import { mulberry32, sampleWithoutReplacement } from '../../src/analysis/stats/random';

function gaussian(rand: () => number): () => number {
  return () => Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

/** A layer of `copies` noisy clones of k base signals (ReLU'd), rows×(k·copies), plus one dead unit at the end. */
function clonedLayer(rows: number, k: number, copies: number, noise: number, seed: number) {
  const g = gaussian(mulberry32(seed));
  const W = k * copies + 1;
  const h = new Float32Array(rows * W);
  const y = new Int32Array(rows);
  for (let i = 0; i < rows; i++) {
    const z = Array.from({ length: k }, () => g());
    y[i] = z[0] > 0 ? (z[1] > 0 ? 0 : 1) : 2;
    for (let c = 0; c < copies; c++) for (let j = 0; j < k; j++) h[i * W + c * k + j] = z[j] + noise * g();
  }
  return { h, y, W };
}

describe('redundancy', () => {
  it('R² and residual correlation from the Gram matrix equal a direct ridge fit on the data', () => {
    const { h, W } = clonedLayer(300, 5, 2, 0.5, 1);
    const rows = 300;
    for (const w of [1, 3, 7]) {
      const m = redundancyAnalysis({ train: { h, rows }, width: W }, { sizes: [w], r2Trials: 1, groups: false });
      // The same chunk, drawn as the analysis draws it (live units = all but the dead last one).
      const live = W - 1;
      const S = sampleWithoutReplacement(live, w, mulberry32(chunkSeed(0, w, 1)));
      const X = new Float64Array(rows * w), Y = new Float64Array(rows * live);
      for (let i = 0; i < rows; i++) {
        for (let a = 0; a < w; a++) X[i * w + a] = h[i * W + S[a]];
        for (let j = 0; j < live; j++) Y[i * live + j] = h[i * W + j];
      }
      const fit = ridgeSolve(X, Y, rows, w, live, 1e-8);
      const res = new Float64Array(rows * live);
      let ssr = 0, sst = 0;
      for (let i = 0; i < rows; i++) {
        for (let j = 0; j < live; j++) {
          let p = fit.intercept[j];
          for (let a = 0; a < w; a++) p += X[i * w + a] * fit.coef[a * live + j];
          res[i * live + j] = Y[i * live + j] - p;
          ssr += (Y[i * live + j] - p) ** 2;
          sst += (Y[i * live + j] - fit.yMean[j]) ** 2;
        }
      }
      const chunk = m.chunks[0];
      assert.ok(Math.abs(chunk.r2 - (1 - ssr / sst)) < 1e-9, `w=${w}: r2 ${chunk.r2} vs ${1 - ssr / sst}`);
      const outside = [...Array(live).keys()].filter((j) => !S.includes(j));
      let sum = 0, pairs = 0;
      for (let a = 1; a < outside.length; a++) {
        for (let b = 0; b < a; b++) {
          const i = outside[a], j = outside[b];
          let sij = 0, sii = 0, sjj = 0;
          for (let r = 0; r < rows; r++) {
            sij += res[r * live + i] * res[r * live + j];
            sii += res[r * live + i] ** 2;
            sjj += res[r * live + j] ** 2;
          }
          sum += Math.abs(sij / Math.sqrt(sii * sjj));
          pairs++;
        }
      }
      assert.ok(Math.abs(chunk.residualCorrelation! - sum / pairs) < 1e-9, `w=${w}: corr ${chunk.residualCorrelation} vs ${sum / pairs}`);
    }
  });

  it('chunk accuracy is the trained head restricted to the chunk, averaged over the drawn (nested) chunks', () => {
    const { h, y, W } = clonedLayer(200, 3, 2, 0.3, 2);
    const C = 3;
    const weight = Float64Array.from({ length: C * W }, (_, k) => Math.sin(k * 0.9));
    const bias = Float64Array.from([0.1, -0.2, 0.05]);
    const m = redundancyAnalysis({ train: { h, rows: 200, labels: y }, width: W, weight, bias, classes: C }, { sizes: [2, 6], accuracyTrials: 5, r2Trials: 2, groups: false });
    // Accuracy chunks are nested prefixes of one random order per trial (sizes below the width), and the full width
    // is one chunk.
    const rand = mulberry32(chunkSeed(0, 0, 0));
    const orders = Array.from({ length: 5 }, () => sampleWithoutReplacement(6, 2, rand));
    for (const [k, w] of [[0, 2], [1, 6]]) {
      let acc = 0;
      const trials = w === 6 ? 1 : 5;
      for (let t = 0; t < trials; t++) {
        const S = w === 6 ? [0, 1, 2, 3, 4, 5] : [...orders[t].subarray(0, w)];
        let ok = 0;
        for (let i = 0; i < 200; i++) {
          const z = [0, 1, 2].map((c) => bias[c] + S.reduce((s, u) => s + h[i * W + u] * weight[c * W + u], 0));
          if (z.indexOf(Math.max(...z)) === y[i]) ok++;
        }
        acc += ok / 200 / trials;
      }
      assert.ok(Math.abs(m.chunks[k].accuracyTrain! - acc) < 1e-12, `size ${w}`);
      assert.equal(m.chunks[k].accuracyTest, null);
    }
  });

  it('a layer of 8 clones of 4 signals: R² rises to 1, critical width and clone count follow', () => {
    const { h, W } = clonedLayer(400, 4, 8, 0.05, 3);
    const m = redundancyAnalysis({ train: { h, rows: 400 }, test: { h, rows: 400 }, width: W }, { groups: true });
    assert.equal(m.width, 32);
    assert.equal(m.layerWidth, 33);
    assert.equal(m.droppedConstantUnits, 1);
    assert.deepEqual(m.chunks.map((c) => c.size), defaultChunkSizes(32));
    const r2 = m.chunks.map((c) => c.r2);
    for (let i = 1; i < r2.length; i++) assert.ok(r2[i] >= r2[i - 1] - 1e-9, `R² should rise: ${r2.join(', ')}`);
    assert.ok(r2[r2.length - 1] > 1 - 1e-9);
    // A random chunk of 16 of the 32 units misses one of the 4 signals with probability ≈ 0.5%; 8 units miss one
    // in ≈ 28% of draws (mean R² ≈ 0.93).
    assert.equal(m.criticalWidth, 16);
    assert.equal(m.clones, 2);
    assert.ok(m.criticalWidths['0.9']! <= 16 && m.criticalWidths['0.99']! >= 16);
    assert.equal(m.chunks[m.chunks.length - 1].residualCorrelation, null);
    // Our grouping: units copying the same signal correlate at ≈ 1 → 4 groups of 8.
    assert.equal(m.groups!.count, 4);
    assert.deepEqual(m.groups!.sizes, Array(4).fill(8));
    for (let u = 0; u < 32; u++) assert.equal(m.groups!.assignment[u], m.groups!.assignment[u % 4]);
    assert.equal(m.groups!.assignment[32], -1);
    assert.match(m.groups!.label, /our extension/);
  });

  it('degenerate inputs: too few live units, NaN, wrong shapes, labels out of range', () => {
    const one = redundancyAnalysis({ train: { h: Float32Array.from([1, 5, 2, 5]), rows: 2 }, width: 2 });
    assert.equal(one.width, 1);
    assert.ok(one.warnings.some((w) => /at least 2 live units/.test(w)));
    assert.throws(() => redundancyAnalysis({ train: { h: Float32Array.from([1, NaN, 2, 5]), rows: 2 }, width: 2 }), /activation 1 of sample 0 is NaN/);
    assert.throws(() => redundancyAnalysis({ train: { h: new Float32Array(5), rows: 2 }, width: 2 }), /expected 2×2 activations/);
    const { h, W } = clonedLayer(20, 2, 1, 0.1, 4);
    assert.throws(
      () => redundancyAnalysis({ train: { h, rows: 20, labels: new Int32Array(20).fill(7) }, width: W, weight: new Float64Array(2 * W), bias: new Float64Array(2), classes: 2 }),
      /label 0 is 7/,
    );
  });
});
