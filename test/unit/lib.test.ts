/**
 * The pure LIB routines (src/analysis/lib.ts) on a small synthetic ReLU MLP whose per-sample Jacobians can be
 * formed by brute force: closed form vs brute force, factor vs full M′, the invariants of ANALYSES.md §4,
 * the PCA baseline, the autodiff-style accumulator (with the homogeneity offset for the constant coordinate),
 * edge-mass counting, the graph and degenerate inputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  JacobianAccumulator,
  LibError,
  MomentAccumulator,
  buildGraph,
  closedFormEdgesAccumulate,
  closedFormFactor,
  closedFormMPrime,
  closedFormMiddle,
  constantRowError,
  derivativeRows,
  edgeMass,
  effectiveFeatures,
  gatesFromOutput,
  gramInvariantError,
  identityBasis,
  jacobianInvariantError,
  libBasis,
  mPrimeFull,
  pcaBasis,
  pinvInvariantError,
  projectRows,
  relativeFrobenius,
  sectionA,
  whiten,
  type LayerBasis,
} from '../../src/analysis/lib';
import { gram, matmul, matmulABt, matmulAtB } from '../../src/analysis/linalg/index';
import { mulberry32 } from '../../src/analysis/stats/random';

function randn(n: number, seed: number, scale = 1): Float64Array {
  const r = mulberry32(seed);
  return Float64Array.from({ length: n }, () => scale * (r() + r() + r() - 1.5) * 2);
}

/** A 3-layer ReLU MLP, widths 12 → 8 → 6 → 3, with folded weights W̃ = [W | b]. */
function toyMlp(n: number): { x: Float64Array[]; Wt: Float64Array[]; widths: number[]; n: number } {
  const widths = [12, 8, 6, 3];
  const Wt = [0, 1, 2].map((l) => randn(widths[l + 1] * (widths[l] + 1), 10 + l, 0.6));
  const x0 = randn(n * widths[0], 1);
  // One input coordinate is constant (zero variance): the first truncation must drop it.
  for (let i = 0; i < n; i++) x0[i * widths[0] + 5] = 0.25;
  const acts = [x0];
  for (let l = 0; l < 3; l++) {
    const w = widths[l], h = widths[l + 1], W = Wt[l];
    const prev = acts[l];
    const out = new Float64Array(n * h);
    for (let s = 0; s < n; s++) {
      for (let k = 0; k < h; k++) {
        let z = W[k * (w + 1) + w];
        for (let a = 0; a < w; a++) z += W[k * (w + 1) + a] * prev[s * w + a];
        out[s * h + k] = l < 2 ? Math.max(z, 0) : z;
      }
    }
    acts.push(out);
  }
  return { x: acts, Wt, widths, n };
}

function moments(x: Float64Array, n: number, w: number): MomentAccumulator {
  const m = new MomentAccumulator(w);
  m.add(x.subarray(0, (n >> 1) * w), n >> 1);
  m.add(x.subarray((n >> 1) * w), n - (n >> 1));
  return m;
}

function egg(gates: Float64Array, n: number, h: number): Float64Array {
  const G = gram(gates, n, h);
  for (let i = 0; i < G.length; i++) G[i] /= n;
  return G;
}

/** Per-sample folded Jacobian J̄(x) = Pᵀ diag(g) W̃ (r × d) of a Linear → ReLU (or final Linear) section. */
function sampleJacobian(P: Float64Array, h: number, r: number, g: Float64Array | null, s: number, Wt: Float64Array, d: number): Float64Array {
  const J = new Float64Array(r * d);
  for (let i = 0; i < r; i++) for (let k = 0; k < h; k++) {
    const c = P[k * r + i] * (g ? g[s * h + k] : 1);
    if (c !== 0) for (let a = 0; a < d; a++) J[i * d + a] += c * Wt[k * d + a];
  }
  return J;
}

interface Built {
  bases: LayerBasis[];
  whit: ReturnType<typeof whiten>[];
  mPrimes: Float64Array[];
  gates: (Float64Array | null)[];
}

/** Builds LIB (or PCA) bases from the output backwards with the closed form. */
function build(net: ReturnType<typeof toyMlp>, kind: 'lib' | 'pca', factor = true): Built {
  const { x, Wt, widths, n } = net;
  const out = new MomentAccumulator(3);
  out.add(x[3], n);
  const bases: LayerBasis[] = [pcaBasis(whiten(new Float64Array(1).fill(1), new Float64Array(0), 0)), pcaBasis(whiten(new Float64Array(1).fill(1), new Float64Array(0), 0)), pcaBasis(whiten(new Float64Array(1).fill(1), new Float64Array(0), 0)), identityBasis(3, out.secondMomentsDiagonal())];
  const whit: ReturnType<typeof whiten>[] = [];
  const mPrimes: Float64Array[] = [];
  const gates: (Float64Array | null)[] = [gatesFromOutput({ op: 'Relu' }, x[1]), gatesFromOutput({ op: 'Relu' }, x[2]), null];
  for (let l = 2; l >= 0; l--) {
    const w = widths[l], h = widths[l + 1], d = w + 1;
    const m = moments(x[l], n, w);
    const wh = whiten(m.mean(), m.covariance(), w);
    whit[l] = wh;
    const next = bases[l + 1];
    const P = derivativeRows(next);
    const S = closedFormMiddle(P, h, next.rank, gates[l] ? egg(gates[l]!, n, h) : null);
    mPrimes[l] = closedFormMPrime(Wt[l], h, d, S);
    if (kind === 'pca') bases[l] = pcaBasis(wh);
    else bases[l] = libBasis(wh, factor ? closedFormFactor(Wt[l], h, d, S) : { full: mPrimes[l] });
  }
  return { bases, whit, mPrimes, gates };
}

describe('lib: moments and whitening', () => {
  it('shifted moments equal the two-pass mean and covariance', () => {
    const n = 300, w = 5;
    const x = randn(n * w, 3);
    for (let i = 0; i < x.length; i++) x[i] += 1e4; // a large mean: the shift keeps the digits
    const m = moments(x, n, w);
    const mu = new Float64Array(w);
    for (let s = 0; s < n; s++) for (let j = 0; j < w; j++) mu[j] += x[s * w + j] / n;
    const mean = m.mean();
    for (let j = 0; j < w; j++) assert.ok(Math.abs(mean[j] - mu[j]) < 1e-9, 'mean');
    assert.equal(mean[w], 1);
    const cov = m.covariance();
    for (let i = 0; i < w; i++) for (let j = 0; j < w; j++) {
      let c = 0;
      for (let s = 0; s < n; s++) c += (x[s * w + i] - mu[i]) * (x[s * w + j] - mu[j]);
      assert.ok(Math.abs(cov[i * w + j] - c / n) < 1e-9, `cov ${i},${j}`);
    }
  });

  it('splits off the constant direction and drops null directions', () => {
    const net = toyMlp(200);
    const m = moments(net.x[0], 200, 12);
    const wh = whiten(m.mean(), m.covariance(), 12);
    assert.equal(wh.kept, 11, 'the constant input coordinate has zero variance');
    assert.equal(wh.D[0], 1);
    const pca = pcaBasis(wh);
    assert.equal(pca.rank, 12);
    assert.ok(pinvInvariantError(pca) < 1e-12);
    // f̂_0 ≡ 1 and the other PCA coordinates are centred.
    const fh = projectRows(net.x[0], 200, pca);
    for (let s = 0; s < 200; s++) assert.ok(Math.abs(fh[s * pca.rank] - 1) < 1e-12);
    const G = gram(fh, 200, pca.rank).map((v) => v / 200);
    assert.ok(gramInvariantError(G, pca) < 1e-10, 'PCA: E[f̂ f̂ᵀ] = diag(D)');
  });

  it('rejects bad thresholds, shapes and non-finite input', () => {
    assert.throws(() => whiten(new Float64Array(3), new Float64Array(4), 2, { relative: 1, absolute: 0 }), LibError);
    assert.throws(() => whiten(new Float64Array(2), new Float64Array(4), 2), LibError);
    assert.throws(() => whiten(Float64Array.of(0, 0, 1), Float64Array.of(1, NaN, NaN, 1), 2), /NaN/);
    assert.throws(() => new MomentAccumulator(3).mean(), LibError);
  });
});

describe('lib: basis on a toy ReLU MLP', () => {
  const n = 400;
  const net = toyMlp(n);
  const lib = build(net, 'lib');

  it('closed-form M′ equals the mean of brute-force per-sample J̄ᵀJ̄', () => {
    for (let l = 0; l < 3; l++) {
      const w = net.widths[l], h = net.widths[l + 1], d = w + 1;
      const next = lib.bases[l + 1];
      const P = derivativeRows(next);
      const M = new Float64Array(d * d);
      for (let s = 0; s < n; s++) {
        const J = sampleJacobian(P, h, next.rank, lib.gates[l], s, net.Wt[l], d);
        const JtJ = matmulAtB(J, J, next.rank, d, d);
        for (let i = 0; i < M.length; i++) M[i] += JtJ[i] / n;
      }
      assert.ok(relativeFrobenius(lib.mPrimes[l], M) < 1e-13, `M′ layer ${l}`);
    }
  });

  it('factor and full M′ give the same basis', () => {
    const full = build(net, 'lib', false);
    for (let l = 0; l < 3; l++) {
      assert.equal(full.bases[l].rank, lib.bases[l].rank, `rank ${l}`);
      assert.ok(relativeFrobenius(full.bases[l].lambdas, lib.bases[l].lambdas) < 1e-10, `Λ ${l}`);
      // Columns agree up to sign.
      const a = lib.bases[l], b = full.bases[l];
      for (let j = 0; j < a.rank; j++) {
        let dot = 0, na = 0, nb = 0;
        for (let i = 0; i < a.dim; i++) {
          dot += a.C[i * a.rank + j] * b.C[i * b.rank + j];
          na += a.C[i * a.rank + j] ** 2;
          nb += b.C[i * b.rank + j] ** 2;
        }
        assert.ok(Math.abs(Math.abs(dot) / Math.sqrt(na * nb) - 1) < 1e-8, `column ${j} of layer ${l}`);
      }
    }
  });

  it('invariants hold: E[f̂f̂ᵀ] = diag(Λ), E[ĴᵀĴ] = I, C_pinv C = I, constant direction has zero Jacobian', () => {
    for (let l = 0; l < 3; l++) {
      const b = lib.bases[l];
      const w = net.widths[l], h = net.widths[l + 1], d = w + 1;
      assert.equal(b.kind, 'lib');
      assert.ok(b.rank <= d);
      for (let j = 2; j < b.rank; j++) assert.ok(b.lambdas[j] <= b.lambdas[j - 1], 'Λ sorted');
      const fh = projectRows(net.x[l], n, b);
      const G = gram(fh, n, b.rank).map((v) => v / n);
      assert.ok(gramInvariantError(G, b) < 1e-9, `E[f̂f̂ᵀ] layer ${l}: ${gramInvariantError(G, b)}`);
      assert.ok(pinvInvariantError(b) < 1e-10, `C_pinv C layer ${l}`);
      // E[ĴᵀĴ] from brute-force per-sample Ĵ = J̄ C_pinvᵀ.
      const next = lib.bases[l + 1];
      const P = derivativeRows(next);
      const X = new Float64Array(b.rank * b.rank);
      let constRow = 0;
      for (let s = 0; s < n; s++) {
        const J = sampleJacobian(P, h, next.rank, lib.gates[l], s, net.Wt[l], d);
        const Jh = matmulABt(J, b.Cpinv, next.rank, d, b.rank);
        if (next.folded) for (let j = 0; j < b.rank; j++) constRow = Math.max(constRow, Math.abs(Jh[j]));
        const JtJ = matmulAtB(Jh, Jh, next.rank, b.rank, b.rank);
        for (let i = 0; i < X.length; i++) X[i] += JtJ[i] / n;
      }
      assert.ok(jacobianInvariantError(X, b.rank, true) < 1e-9, `E[ĴᵀĴ] layer ${l}: ${jacobianInvariantError(X, b.rank, true)}`);
      assert.equal(constRow, 0, 'the constant direction of the next layer has zero Jacobian');
    }
  });

  it('closed-form edges equal brute force; PCA edges come out of the same path', () => {
    for (const kind of ['lib', 'pca'] as const) {
      const B = kind === 'lib' ? lib : build(net, 'pca');
      for (let l = 0; l < 3; l++) {
        const b = B.bases[l], next = B.bases[l + 1];
        const w = net.widths[l], h = net.widths[l + 1], d = w + 1;
        const P = derivativeRows(next);
        const A = sectionA(net.Wt[l], h, d, b);
        const fh = projectRows(net.x[l], n, b);
        const E = new Float64Array(next.rank * b.rank);
        closedFormEdgesAccumulate(E, P, A, h, next.rank, b.rank, B.gates[l], fh, n);
        const ref = new Float64Array(E.length);
        for (let s = 0; s < n; s++) {
          const J = sampleJacobian(P, h, next.rank, B.gates[l], s, net.Wt[l], d);
          const Jh = matmulABt(J, b.Cpinv, next.rank, d, b.rank);
          for (let i = 0; i < next.rank; i++) for (let j = 0; j < b.rank; j++) ref[i * b.rank + j] += (Jh[i * b.rank + j] * fh[s * b.rank + j]) ** 2;
        }
        assert.ok(relativeFrobenius(E, ref) < 1e-12, `${kind} edges ${l}`);
      }
    }
  });

  it('the autodiff-style accumulator (homogeneity offset for the constant coordinate) reproduces M′ and the edges', () => {
    // Rows as a VJP gives them: ∂⟨c_i, F(x)⟩/∂x for x unfolded, plus ⟨c_i, F(x)⟩ − ⟨grad, x⟩ as the constant entry.
    for (let l = 0; l < 3; l++) {
      const b = lib.bases[l], next = lib.bases[l + 1];
      const w = net.widths[l], h = net.widths[l + 1], d = w + 1;
      const P = derivativeRows(next);
      const acc = new JacobianAccumulator(d, next.rank);
      const fh = projectRows(net.x[l], n, b);
      for (let i = 0; i < next.rank; i++) {
        const Gbar = new Float64Array(n * d);
        for (let s = 0; s < n; s++) {
          let out = 0;
          for (let k = 0; k < h; k++) out += P[k * next.rank + i] * net.x[l + 1][s * h + k];
          let gx = 0;
          for (let a = 0; a < w; a++) {
            let v = 0;
            for (let k = 0; k < h; k++) v += P[k * next.rank + i] * (lib.gates[l] ? lib.gates[l]![s * h + k] : 1) * net.Wt[l][k * d + a];
            Gbar[s * d + a] = v;
            gx += v * net.x[l][s * w + a];
          }
          Gbar[s * d + w] = out - gx;
        }
        acc.addMPrime(Gbar, n);
        acc.addEdges(i, Gbar, n, 1, b, fh, true);
      }
      const M = acc.mPrime.map((v) => v / n);
      assert.ok(relativeFrobenius(M, lib.mPrimes[l]) < 1e-12, `M′ ${l}`);
      const A = sectionA(net.Wt[l], h, d, b);
      const E = new Float64Array(next.rank * b.rank);
      closedFormEdgesAccumulate(E, P, A, h, next.rank, b.rank, lib.gates[l], fh, n);
      assert.ok(relativeFrobenius(acc.edges!, E) < 1e-12, `edges ${l}`);
      assert.ok(jacobianInvariantError(acc.jtj!.map((v) => v / n), b.rank, true) < 1e-9, `E[ĴᵀĴ] ${l}`);
    }
  });

  it('LIB needs fewer edges than PCA and the graph is thresholded', () => {
    const pca = build(net, 'pca');
    let libEdges = 0, pcaEdges = 0;
    const layers = lib.bases.map((b, l) => ({ name: `L${l}`, dim: b.dim, rank: b.rank, lambdas: [...b.lambdas], effectiveFeatures: effectiveFeatures(b.lambdas, b.folded), folded: b.folded }));
    const edges = [];
    for (let l = 0; l < 3; l++) {
      for (const B of [lib, pca]) {
        const b = B.bases[l], next = B.bases[l + 1];
        const h = net.widths[l + 1], d = net.widths[l] + 1;
        const E = new Float64Array(next.rank * b.rank);
        closedFormEdgesAccumulate(E, derivativeRows(next), sectionA(net.Wt[l], h, d, b), h, next.rank, b.rank, B.gates[l], projectRows(net.x[l], n, b), n);
        const m = edgeMass(E, next.rank, b.rank, next.folded, true);
        if (B === lib) {
          libEdges += m.for90;
          edges.push({ from: `L${l}`, to: `L${l + 1}`, rows: next.rank, cols: b.rank, weights: [...E], mass: m.total, for90: m.for90, for99: m.for99 });
        } else pcaEdges += m.for90;
      }
    }
    assert.ok(libEdges > 0 && pcaEdges > 0);
    const g = buildGraph(layers, edges, { maxNodesPerLayer: 4, maxEdgesPerPair: 5 });
    assert.equal(g.layers.length, 4);
    for (const L of g.layers) {
      assert.ok(L.nodes.length <= 4);
      assert.ok(L.nodes.every((nd) => !nd.constant), 'constant nodes hidden by default');
      for (let i = 1; i < L.nodes.length; i++) assert.ok(L.nodes[i].lambda <= L.nodes[i - 1].lambda, 'nodes sorted by Λ');
    }
    const ids = new Set(g.layers.flatMap((L) => L.nodes.map((nd) => nd.id)));
    assert.ok(g.edges.every((e) => ids.has(e.from) && ids.has(e.to) && e.weight > 0));
  });
});

/** A copy of a basis with C and C_pinv edited (the fields the invariant checkers read). */
function edited(b: LayerBasis, edit: (C: Float64Array, Cpinv: Float64Array) => void): LayerBasis {
  const C = Float64Array.from(b.C);
  const Cpinv = Float64Array.from(b.Cpinv);
  edit(C, Cpinv);
  return { ...b, C, Cpinv };
}

/** C R and Rᵀ C_pinv for the Givens rotation R by `angle` in directions i and j (C_pinv C = I is kept). */
function rotated(b: LayerBasis, i: number, j: number, angle: number): LayerBasis {
  const c = Math.cos(angle), s = Math.sin(angle), r = b.rank;
  return edited(b, (C, Cpinv) => {
    for (let a = 0; a < b.dim; a++) {
      const x = C[a * r + i], y = C[a * r + j];
      C[a * r + i] = c * x + s * y;
      C[a * r + j] = -s * x + c * y;
      const p = Cpinv[i * b.dim + a], q = Cpinv[j * b.dim + a];
      Cpinv[i * b.dim + a] = c * p + s * q;
      Cpinv[j * b.dim + a] = -s * p + c * q;
    }
  });
}

// A checker that always answered 0 would pass every test above: here each is fed a broken basis and must
// report an error far above the ≤ 1e-9 of the valid ones.
describe('lib: the invariant checkers catch broken bases', () => {
  const n = 400;
  const net = toyMlp(n);
  const lib = build(net, 'lib');
  const l = 1;
  const good = lib.bases[l];
  const next = lib.bases[l + 1];
  const h = net.widths[l + 1], d = net.widths[l] + 1;
  const gramError = (b: LayerBasis): number => gramInvariantError(gram(projectRows(net.x[l], n, b), n, b.rank).map((v) => v / n), b);
  /** E[ĴᵀĴ] by brute force, Ĵ = J̄ C_pinvᵀ, with `to` as the next layer's basis. */
  const jacobianError = (b: LayerBasis, to = next): number => {
    const P = derivativeRows(to);
    const X = new Float64Array(b.rank * b.rank);
    for (let s = 0; s < n; s++) {
      const Jh = matmulABt(sampleJacobian(P, h, to.rank, lib.gates[l], s, net.Wt[l], d), b.Cpinv, to.rank, d, b.rank);
      const JtJ = matmulAtB(Jh, Jh, to.rank, b.rank, b.rank);
      for (let i = 0; i < X.length; i++) X[i] += JtJ[i] / n;
    }
    return jacobianInvariantError(X, b.rank, b.folded);
  };
  const edgesInto = (to: LayerBasis): Float64Array => {
    const E = new Float64Array(to.rank * good.rank);
    closedFormEdgesAccumulate(E, derivativeRows(to), sectionA(net.Wt[l], h, d, good), h, to.rank, good.rank, lib.gates[l], projectRows(net.x[l], n, good), n);
    return E;
  };
  const CAUGHT = 1e-2;

  it('the unbroken basis passes every checker (the baseline of the cases below)', () => {
    assert.ok(good.folded && good.rank >= 4, `layer ${l} is folded with ≥ 4 directions (rank ${good.rank})`);
    assert.ok(gramError(good) < 1e-9 && jacobianError(good) < 1e-9 && pinvInvariantError(good) < 1e-10);
    assert.ok(constantRowError(edgesInto(next), good.rank, true) < 1e-12);
  });

  it('a rotation within the kept directions: E[f̂f̂ᵀ] is no longer diagonal', () => {
    const b = rotated(good, 1, 2, 0.3);
    assert.ok(gramError(b) > CAUGHT, `gram check on a rotated basis: ${gramError(b)}`);
    // C_pinv C = I and E[ĴᵀĴ] = I are rotation invariant (Ĵ → Ĵ R): only the Gram check can see a rotation.
    assert.ok(pinvInvariantError(b) < 1e-10);
    assert.ok(jacobianError(b) < 1e-9);
  });

  it('a scaled direction: Λ no longer matches E[f̂²] and E[ĴᵀĴ] is no longer I', () => {
    const j = 2, r = good.rank;
    const b = edited(good, (C, Cpinv) => {
      for (let a = 0; a < good.dim; a++) C[a * r + j] *= 2;
      for (let a = 0; a < good.dim; a++) Cpinv[j * good.dim + a] /= 2;
    });
    assert.ok(gramError(b) > CAUGHT, `gram check on a scaled basis: ${gramError(b)}`);
    assert.ok(jacobianError(b) > CAUGHT, `Jacobian check on a scaled basis: ${jacobianError(b)}`);
    assert.ok(pinvInvariantError(b) < 1e-10, 'the scaling is undone in C_pinv');
  });

  it('correlated directions with the right variances: only the off-diagonal of E[f̂f̂ᵀ] is wrong', () => {
    // f̂_2 → b f̂_1 + d f̂_2 with b²Λ_1 + d²Λ_2 = Λ_2: every diagonal entry still equals Λ, E[f̂_1 f̂_2] = bΛ_1.
    const r = good.rank, dim = good.dim;
    const b = 0.3 * Math.sqrt(good.lambdas[2] / good.lambdas[1]);
    const dd = Math.sqrt(1 - (b * b * good.lambdas[1]) / good.lambdas[2]);
    const mixed = edited(good, (C, Cpinv) => {
      for (let a = 0; a < dim; a++) C[a * r + 2] = b * C[a * r + 1] + dd * C[a * r + 2];
      // C_pinv → M⁻¹ C_pinv, M⁻¹ = [[1, −b/d], [0, 1/d]] on directions 1, 2: C_pinv C = I still holds.
      for (let a = 0; a < dim; a++) {
        Cpinv[dim + a] -= (b / dd) * Cpinv[2 * dim + a];
        Cpinv[2 * dim + a] /= dd;
      }
    });
    assert.ok(pinvInvariantError(mixed) < 1e-10);
    assert.ok(gramError(mixed) > CAUGHT, `gram check on correlated directions: ${gramError(mixed)}`);
  });

  it('a non-orthogonal basis (one direction sheared into another, C_pinv left as it was)', () => {
    const r = good.rank;
    const b = edited(good, (C) => {
      for (let a = 0; a < good.dim; a++) C[a * r + 2] += 0.5 * C[a * r + 1];
    });
    assert.ok(gramError(b) > CAUGHT, `gram check on a sheared basis: ${gramError(b)}`);
    assert.ok(pinvInvariantError(b) > CAUGHT, `C_pinv C check on a sheared basis: ${pinvInvariantError(b)}`);
  });

  it('C_pinv that is not the inverse of C on the kept directions', () => {
    const b = edited(good, (_C, Cpinv) => {
      for (let a = 0; a < good.dim; a++) Cpinv[1 * good.dim + a] *= 1.1;
    });
    assert.ok(pinvInvariantError(b) > CAUGHT, `C_pinv C check: ${pinvInvariantError(b)}`);
    assert.ok(jacobianError(b) > CAUGHT, `Jacobian check with a wrong C_pinv: ${jacobianError(b)}`);
  });

  it('a wrong constant row: a direction that is not centred, or the constant direction out of place', () => {
    const r = good.rank, w = good.dim - 1;
    // The constant coordinate's row of C shifts direction 1: f̂_1 is no longer centred, so E[f̂_0 f̂_1] ≠ 0.
    const shifted = edited(good, (C) => {
      C[w * r + 1] += 0.5;
    });
    assert.ok(gramError(shifted) > CAUGHT, `gram check with a shifted direction: ${gramError(shifted)}`);
    assert.ok(pinvInvariantError(shifted) > CAUGHT, `C_pinv C check with a shifted direction: ${pinvInvariantError(shifted)}`);
    // Directions 0 (the constant) and 1 swapped, in C and C_pinv alike: E[f̂_0²] is Λ_1, not the constant's scale².
    const swapped = edited(good, (C, Cpinv) => {
      for (let a = 0; a < good.dim; a++) {
        [C[a * r], C[a * r + 1]] = [C[a * r + 1], C[a * r]];
        [Cpinv[a], Cpinv[good.dim + a]] = [Cpinv[good.dim + a], Cpinv[a]];
      }
    });
    assert.ok(gramError(swapped) > CAUGHT, `gram check with the constant direction swapped: ${gramError(swapped)}`);
  });

  it('edges into the next layer’s constant direction (its basis leaking a feature into f̂_0)', () => {
    const rn = next.rank;
    const leaky = edited(next, (C) => {
      C[0 * rn + 0] = 0.1; // the constant direction reads feature 0 of the next layer
    });
    const E = edgesInto(leaky);
    assert.ok(constantRowError(E, good.rank, true) > CAUGHT, `constant-row check: ${constantRowError(E, good.rank, true)}`);
    assert.equal(constantRowError(E, good.rank, false), 0, 'a layer without a constant direction has no such row');
    assert.throws(() => constantRowError(new Float64Array(2), good.rank, true), LibError);
  });
});

describe('lib: edge mass and small pieces', () => {
  it('counts edges for 90% / 99% excluding the constant node', () => {
    // 3×3 with a huge constant row/column: excluded.
    const w = Float64Array.of(1e6, 1e6, 1e6, 1e6, 50, 40, 1e6, 9, 1);
    assert.deepEqual(edgeMass(w, 3, 3, true, true), { total: 100, for90: 2, for99: 3 });
    assert.equal(edgeMass(new Float64Array(4), 2, 2, false, false).for90, 0);
  });

  it('gates from the activation output', () => {
    assert.deepEqual([...gatesFromOutput({ op: 'Relu' }, Float32Array.of(-1, 0, 2))], [0, 0, 1]);
    assert.deepEqual([...gatesFromOutput({ op: 'LeakyRelu', alpha: 0.1 }, Float32Array.of(-0.1, 2))], [0.1, 1]);
    assert.deepEqual([...gatesFromOutput({ op: 'Tanh' }, Float64Array.of(0.5))], [0.75]);
    assert.deepEqual([...gatesFromOutput({ op: 'Sigmoid' }, Float64Array.of(0.5))], [0.25]);
  });

  it('mPrimeFull expands a factor; a zero M′ keeps the constant with scale 1 and a warning', () => {
    const F = randn(5 * 2, 7);
    assert.ok(relativeFrobenius(mPrimeFull({ factor: F, cols: 2 }, 5), matmulABt(F, F, 5, 2, 5)) < 1e-15);
    const m = new MomentAccumulator(2);
    m.add(randn(40, 8), 20);
    const b = libBasis(whiten(m.mean(), m.covariance(), 2), { full: new Float64Array(9) });
    assert.equal(b.rank, 1);
    assert.equal(b.constantScale, 1);
    assert.match(b.warning ?? '', /constant/);
    assert.ok(pinvInvariantError(b) < 1e-12);
    assert.ok(matmul(b.Cpinv, b.C, 1, 3, 1)[0] === 1);
  });
});
