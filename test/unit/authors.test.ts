/**
 * The authors' conventions (src/analysis/authors.ts) on cases with a known answer or a brute-force twin: the
 * chunk grid of analysis_repr.py, the cosine variance of kernel_stats on a simplex ETF, the residual statistics
 * against residuals formed explicitly, and rib's Λ_0 expansion against its definition sample by sample.
 * The comparison with the authors' own code on real checkpoints is test/integration/authors.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  authorsChunkSizes,
  authorsRidgeChunk,
  collapseAuthors,
  cosineVarianceUnordered,
  redundancyAuthors,
  ribLambda0,
} from '../../src/analysis/authors';
import { gram } from '../../src/analysis/linalg/index';
import { mulberry32 } from '../../src/analysis/stats/random';

function gaussian(rand: () => number): number {
  return Math.sqrt(-2 * Math.log(1 - rand())) * Math.cos(2 * Math.PI * rand());
}

describe('authors: chunk grid (diegodoimo/redundant_representation)', () => {
  it('is sort(W // 2^i) for i = 0 … ⌊log2 W⌋', () => {
    assert.deepEqual(authorsChunkSizes(128), [1, 2, 4, 8, 16, 32, 64, 128]);
    assert.deepEqual(authorsChunkSizes(100), [1, 3, 6, 12, 25, 50, 100]);
    assert.deepEqual(authorsChunkSizes(512), [1, 2, 4, 8, 16, 32, 64, 128, 256, 512]);
    assert.deepEqual(authorsChunkSizes(3), [1, 3]);
    assert.deepEqual(authorsChunkSizes(1), [1]);
    assert.throws(() => authorsChunkSizes(0), /expected a layer width ≥ 1, found 0/);
  });
});

describe('authors: equiangularity (rhubarbwu/neural-collapse kernel_stats)', () => {
  it('is 0 on a simplex ETF and the population variance over unordered pairs otherwise', () => {
    const C = 5;
    const etf = new Float64Array(C * C);
    for (let a = 0; a < C; a++) for (let b = 0; b < C; b++) etf[a * C + b] = (a === b ? 1 : 0) - 1 / C;
    assert.ok(Math.abs(cosineVarianceUnordered(etf, C, C)!) < 1e-15);
    // Rows e1, e2, e1 + e2: cosines 0, 1/√2, 1/√2 → population variance 2·(1/√2 − m)² + m² over 3, m = √2/3.
    const rows = Float64Array.from([1, 0, 0, 1, 1, 1]);
    const m = Math.SQRT2 / 3;
    const expected = (m * m + 2 * (Math.SQRT1_2 - m) ** 2) / 3;
    assert.ok(Math.abs(cosineVarianceUnordered(rows, 3, 2)! - expected) < 1e-15);
    assert.equal(cosineVarianceUnordered(Float64Array.from([1, 0, 0, 0]), 2, 2), null);
  });

  it('NCC mismatch from the bias-free agreement counts; test fields only with a test split', () => {
    const a = collapseAuthors({ centred: Float64Array.from([1, 0, 0, 1]), weight: null, classes: 2, dim: 2, agreeTrain: 90, samplesTrain: 100 });
    assert.ok(Math.abs(a.nccMismatchTrain! - 0.1) < 1e-15);
    assert.equal(a.equiangularityWeights, null);
    assert.equal('nccMismatchTest' in a, false);
    const b = collapseAuthors({ centred: Float64Array.from([1, 0, 0, 1]), weight: null, classes: 2, dim: 2, agreeTrain: null, samplesTrain: 100, agreeTest: 5, samplesTest: 10 });
    assert.equal(b.nccMismatchTrain, null);
    assert.equal(b.nccMismatchTest, 0.5);
  });
});

describe('authors: residual statistics (compute_r2_chunk)', () => {
  it('equal those of explicitly formed ridge residuals, pairs inside the chunk and a constant unit included', () => {
    const rand = mulberry32(7);
    const N = 60, W = 6, alpha = 1e-3;
    const H = new Float64Array(N * W);
    for (let i = 0; i < N; i++) {
      const s = gaussian(rand), t = gaussian(rand);
      const row = [s, t, s + 0.1 * gaussian(rand), 2.5, t - s + 0.3 * gaussian(rand), gaussian(rand)];
      for (let j = 0; j < W; j++) H[i * W + j] = row[j];
    }
    const mu = new Float64Array(W);
    for (let i = 0; i < N; i++) for (let j = 0; j < W; j++) mu[j] += H[i * W + j] / N;
    const X = H.map((v, k) => v - mu[k % W]);
    const G = gram(X, N, W);
    let trG = 0;
    for (let j = 0; j < W; j++) trG += G[j * W + j];
    const S = Int32Array.from([0, 3]);
    const got = authorsRidgeChunk(G, W, N, S, alpha, trG);
    // Brute force: B = (X_Sᵀ X_S + αI)⁻¹ X_Sᵀ X (2×2 by hand), E = X − X_S B, cov = EᵀE/(N − 1).
    const xs = (i: number, a: number): number => X[i * W + S[a]];
    let a00 = alpha, a01 = 0, a11 = alpha;
    for (let i = 0; i < N; i++) {
      a00 += xs(i, 0) ** 2;
      a01 += xs(i, 0) * xs(i, 1);
      a11 += xs(i, 1) ** 2;
    }
    const det = a00 * a11 - a01 * a01;
    const B = new Float64Array(2 * W);
    for (let j = 0; j < W; j++) {
      let r0 = 0, r1 = 0;
      for (let i = 0; i < N; i++) {
        r0 += xs(i, 0) * X[i * W + j];
        r1 += xs(i, 1) * X[i * W + j];
      }
      B[j] = (a11 * r0 - a01 * r1) / det;
      B[W + j] = (a00 * r1 - a01 * r0) / det;
    }
    const E = new Float64Array(N * W);
    for (let i = 0; i < N; i++) for (let j = 0; j < W; j++) E[i * W + j] = X[i * W + j] - xs(i, 0) * B[j] - xs(i, 1) * B[W + j];
    const cov = (p: number, q: number): number => {
      let s = 0;
      for (let i = 0; i < N; i++) s += E[i * W + p] * E[i * W + q];
      return s / (N - 1);
    };
    let sum = 0, res = 0;
    for (let p = 0; p < W; p++) {
      res += cov(p, p) * (N - 1);
      for (let q = 0; q < p; q++) sum += Math.abs(cov(p, q) / (Math.sqrt(cov(p, p) * cov(q, q)) + 1e-8));
    }
    assert.ok(Math.abs(got.corr - sum / 15) < 1e-9, `corr ${got.corr} vs ${sum / 15}`);
    assert.ok(Math.abs(got.r2 - (1 - res / trG)) < 1e-12, `r2 ${got.r2} vs ${1 - res / trG}`);
  });

  it('clones: a layer of 2 signals copied 4 times each needs 2 units on the grid 1, 2, 4, 8', () => {
    const rand = mulberry32(3);
    const N = 400, W = 8;
    const h = new Float32Array(N * W);
    const labels = new Int32Array(N);
    for (let i = 0; i < N; i++) {
      const s = gaussian(rand), t = gaussian(rand);
      for (let j = 0; j < W; j++) h[i * W + j] = (j % 2 ? s : t) + 0.02 * gaussian(rand);
      labels[i] = s > t ? 1 : 0;
    }
    const weight = new Float64Array(2 * W);
    for (let j = 0; j < W; j++) weight[(j % 2) * W + j] = 1;
    const r = redundancyAuthors({ train: { h, rows: N, labels }, width: W, weight, bias: new Float64Array(2), classes: 2 }, { accuracyTrials: 20, r2Trials: 20 });
    assert.deepEqual(r.chunks.map((c) => c.size), [1, 2, 4, 8]);
    assert.ok(r.chunks[3].accuracyTrain! > 0.98 && r.chunks[0].accuracyTrain! < r.chunks[3].accuracyTrain!);
    assert.ok(r.chunks[2].r2 > 0.99 && r.chunks[0].r2 < 0.7, r.chunks.map((c) => c.r2).join(', '));
    assert.ok(r.criticalWidth === 2 || r.criticalWidth === 4);
    assert.equal(r.clones, W / r.criticalWidth!);
    assert.ok(r.chunks[3].residualCorrelation! < 1e-6);
  });
});

describe("authors: rib's Λ_0 (ApolloResearch/rib)", () => {
  it('equals E_x Σ_k (Σ_h P_hk g_h(x) z̄_h + q_k)², the constant output direction included', () => {
    const rand = mulberry32(11);
    const h = 4, r = 3, N = 50;
    const P = new Float64Array(h * r);
    for (let i = 0; i < h; i++) for (let k = 1; k < r; k++) P[i * r + k] = gaussian(rand); // column 0: the constant direction
    const q = Float64Array.from([Math.sqrt(2.5), gaussian(rand), gaussian(rand)]);
    const zbar = Float64Array.from({ length: h }, () => gaussian(rand));
    const gates = Array.from({ length: N }, () => Float64Array.from({ length: h }, () => (rand() < 0.6 ? 1 : 0)));
    const meanGate = new Float64Array(h);
    let ours = 0, rib = 0;
    for (const g of gates) {
      for (let i = 0; i < h; i++) meanGate[i] += g[i] / N;
      for (let k = 0; k < r; k++) {
        let a = 0;
        for (let i = 0; i < h; i++) a += P[i * r + k] * g[i] * zbar[i];
        ours += (a * a) / N;
        rib += ((a + q[k]) * (a + q[k])) / N;
      }
    }
    const got = ribLambda0({ lambda0: ours, P, h, r, constantRow: q, meanGate, zbar, nextLambda0: 2.5 });
    assert.ok(Math.abs(got - rib) < 1e-12 * rib, `${got} vs ${rib}`);
    assert.throws(() => ribLambda0({ lambda0: 0, P, h, r: 2, constantRow: q, meanGate, zbar, nextLambda0: 0 }), /expected P 4×2/);
  });
});
