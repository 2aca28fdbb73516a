import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { describe, it } from 'node:test';
import {
  asymmetry,
  cholesky,
  colSumsAccumulate,
  crossAccumulate,
  eigh,
  eigvalsh,
  gram,
  identity,
  LinalgError,
  matmul,
  matmulABt,
  matmulAtB,
  matvec,
  pinvSym,
  ridgeSolve,
  solveLower,
  solveLowerTransposed,
  solveSpd,
  syrkAccumulate,
  transpose,
} from '../../src/analysis/linalg/index';
import { randomMatrix, randomOrthogonal, randomSymmetric } from '../helpers/matrices';
import { expectClose } from '../helpers/expectClose';

const EPS = 2 ** -52;

/** Q·diag(values)·Qᵀ. */
function withSpectrum(q: Float64Array, values: number[], n: number): Float64Array {
  const qd = Float64Array.from(q);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) qd[i * n + j] *= values[j];
  const a = matmulABt(qd, q, n, n, n);
  for (let i = 0; i < n; i++) for (let j = 0; j < i; j++) a[j * n + i] = a[i * n + j];
  return a;
}

function naiveMatmul(a: ArrayLike<number>, b: ArrayLike<number>, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let p = 0; p < k; p++) for (let j = 0; j < n; j++) c[i * n + j] += a[i * k + p] * b[p * n + j];
  }
  return c;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}


/** ‖AV − VΛ‖_max / ‖A‖_max and ‖VᵀV − I‖_max. */
function eighResiduals(a: Float64Array, n: number, values: Float64Array, vectors: Float64Array) {
  const av = matmul(a, vectors, n, n, n);
  let res = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) res = Math.max(res, Math.abs(av[i * n + j] - vectors[i * n + j] * values[j]));
  }
  const vtv = matmulAtB(vectors, vectors, n, n, n);
  let orth = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) orth = Math.max(orth, Math.abs(vtv[i * n + j] - (i === j ? 1 : 0)));
  }
  return { res: res / Math.max(maxAbs(a), Number.MIN_VALUE), orth };
}

function assertDescending(values: Float64Array): void {
  for (let i = 1; i < values.length; i++) assert.ok(values[i - 1] >= values[i], `values not descending at ${i}`);
}

function assertGoodEigh(a: Float64Array, n: number, what: string): ReturnType<typeof eigh> {
  const r = eigh(a, n);
  assert.equal(r.values.length, n);
  assert.equal(r.vectors.length, n * n);
  assertDescending(r.values);
  const { res, orth } = eighResiduals(a, n, r.values, r.vectors);
  const tol = 20 * Math.max(n, 4) * EPS;
  assert.ok(res <= tol, `${what}: ‖AV − VΛ‖/‖A‖ = ${res.toExponential(2)} > ${tol.toExponential(2)}`);
  assert.ok(orth <= tol, `${what}: ‖VᵀV − I‖ = ${orth.toExponential(2)} > ${tol.toExponential(2)}`);
  return r;
}

describe('linalg: gemm family', () => {
  const shapes: [number, number, number][] = [
    [1, 1, 1], [3, 5, 2], [7, 1, 9], [33, 130, 17], [130, 257, 131], [4, 600, 5],
  ];
  for (const [m, k, n] of shapes) {
    it(`matmul / matmulABt / matmulAtB agree with a naive product (${m}×${k}·${k}×${n})`, () => {
      const a = randomMatrix(m, k, m * 1000 + k), b = randomMatrix(k, n, k * 1000 + n);
      const ref = naiveMatmul(a, b, m, k, n);
      const tol = 4 * k * EPS;
      expectClose(matmul(a, b, m, k, n), ref, { abs: tol }, 'matmul');
      expectClose(matmulABt(a, transpose(b, k, n), m, k, n), ref, { abs: tol }, 'matmulABt');
      expectClose(matmulAtB(transpose(a, m, k), b, k, m, n), ref, { abs: tol }, 'matmulAtB');
    });
  }

  it('gram is AᵀA, exactly symmetric', () => {
    for (const [rows, d] of [[1, 1], [5, 3], [300, 37], [40, 130]]) {
      const a = randomMatrix(rows, d, rows + d);
      const g = gram(a, rows, d);
      expectClose(g, naiveMatmul(transpose(a, rows, d), a, d, rows, d), { abs: 4 * rows * EPS }, `gram ${rows}×${d}`);
      assert.equal(asymmetry(g, d), 0);
    }
  });

  it('syrkAccumulate over float32 batches equals the Gram of the stacked float64 data', () => {
    const d = 45, r1 = 260, r2 = 77;
    const x1 = Float32Array.from(randomMatrix(r1, d, 11)), x2 = Float32Array.from(randomMatrix(r2, d, 12));
    const g = new Float64Array(d * d);
    syrkAccumulate(g, x1, r1, d);
    syrkAccumulate(g, x2, r2, d);
    const stacked = new Float64Array((r1 + r2) * d);
    stacked.set(x1);
    stacked.set(x2, r1 * d);
    expectClose(g, gram(stacked, r1 + r2, d), { abs: 8 * (r1 + r2) * EPS }, 'syrkAccumulate');
    assert.equal(asymmetry(g, d), 0);
  });

  it('crossAccumulate and colSumsAccumulate accumulate XᵀY and column sums', () => {
    const rows = 50, dx = 6, dy = 9;
    const x = randomMatrix(rows, dx, 1), y = Float32Array.from(randomMatrix(rows, dy, 2));
    const c = new Float64Array(dx * dy);
    crossAccumulate(c, x, y, rows, dx, dy);
    crossAccumulate(c, x, y, rows, dx, dy);
    const ref = naiveMatmul(transpose(x, rows, dx), y, dx, rows, dy).map((v) => 2 * v);
    expectClose(c, ref, { abs: 1e-12 }, 'crossAccumulate');
    const s = new Float64Array(dx);
    colSumsAccumulate(s, x, rows, dx);
    const ones = new Float64Array(rows).fill(1);
    expectClose(s, matvec(transpose(x, rows, dx), ones, dx, rows), { abs: 1e-13 }, 'colSumsAccumulate');
  });

  it('rejects mismatched shapes and wrong accumulator types, naming the argument', () => {
    assert.throws(
      () => matmul(new Float64Array(6), new Float64Array(6), 2, 3, 3),
      /argument 'b'.*expected 3×3 = 9 elements, found 6/,
    );
    assert.throws(() => syrkAccumulate(new Float64Array(3), new Float64Array(6), 2, 3), /argument 'out'/);
    assert.throws(
      () => syrkAccumulate(new Float32Array(9) as unknown as Float64Array, new Float64Array(6), 2, 3),
      (e: unknown) => e instanceof LinalgError && e.argument === 'out',
    );
  });

  it('handles empty products', () => {
    assert.equal(matmul(new Float64Array(0), new Float64Array(0), 0, 3, 0).length, 0);
    assert.deepEqual(Array.from(matmul(new Float64Array(0), new Float64Array(0), 2, 0, 2)), [0, 0, 0, 0]);
    assert.deepEqual(Array.from(gram(new Float64Array(0), 0, 2)), [0, 0, 0, 0]);
  });
});

describe('linalg: eigh', () => {
  for (const n of [2, 3, 7, 16, 33, 100, 257]) {
    it(`random symmetric n=${n}: AV = VΛ, VᵀV = I, descending, sign convention`, () => {
      const a = randomSymmetric(n, 100 + n);
      const { values, vectors } = assertGoodEigh(a, n, `random n=${n}`);
      expectClose(eigvalsh(a, n), values, { abs: 50 * n * EPS * maxAbs(values) }, 'eigvalsh vs eigh');
      for (let j = 0; j < n; j++) {
        let best = 0;
        for (let i = 0; i < n; i++) if (Math.abs(vectors[i * n + j]) > Math.abs(best)) best = vectors[i * n + j];
        assert.ok(best > 0, `column ${j}: largest-magnitude entry should be positive`);
      }
    });
  }

  it('PSD Gram of rank-deficient data: rank eigenvalues > 0, the rest at round-off level', () => {
    const rows = 20, d = 60;
    const x = randomMatrix(rows, d, 7);
    const g = gram(x, rows, d);
    const { values } = assertGoodEigh(g, d, 'rank-20 Gram');
    const lmax = values[0];
    for (let i = 0; i < rows; i++) assert.ok(values[i] > 1e-6 * lmax, `λ${i} = ${values[i]} should be > 0`);
    for (let i = rows; i < d; i++) assert.ok(Math.abs(values[i]) < 1e-13 * lmax, `λ${i} = ${values[i]} should be ≈ 0`);
  });

  it('Gram with a duplicated column and a zero column (exact null space)', () => {
    const rows = 30, d = 12;
    const x = randomMatrix(rows, d, 8);
    for (let r = 0; r < rows; r++) {
      x[r * d + 5] = x[r * d + 2];
      x[r * d + 9] = 0;
    }
    const { values } = assertGoodEigh(gram(x, rows, d), d, 'duplicated-column Gram');
    assert.ok(Math.abs(values[d - 1]) < 1e-13 * values[0] && Math.abs(values[d - 2]) < 1e-13 * values[0]);
    assert.ok(values[d - 3] > 1e-3);
  });

  it('diagonal matrix: sorted diagonal, signed permutation vectors', () => {
    const diag = [3, -1, 7, 0, 3.5];
    const n = diag.length;
    const a = new Float64Array(n * n);
    diag.forEach((v, i) => (a[i * n + i] = v));
    const { values, vectors } = eigh(a, n);
    assert.deepEqual(Array.from(values), [7, 3.5, 3, 0, -1]);
    const expectedRow = [2, 4, 0, 3, 1]; // column j is e_{expectedRow[j]}
    for (let j = 0; j < n; j++) {
      for (let i = 0; i < n; i++) assert.equal(vectors[i * n + j], i === expectedRow[j] ? 1 : 0);
    }
  });

  it('2×2 closed form', () => {
    for (const [p, q, r] of [[2, 1, 2], [1, 1e-9, 1], [-3, 4, 5], [1e-200, 3e-200, 2e-200], [4e250, -1e250, 7e249]]) {
      const { values, vectors } = eigh(Float64Array.of(p, q, q, r), 2);
      const mean = (p + r) / 2, rad = Math.hypot((p - r) / 2, q);
      const scale = Math.max(Math.abs(mean) + rad, Number.MIN_VALUE);
      expectClose(values, [mean + rad, mean - rad], { abs: 4 * EPS * scale }, `2×2 [${p}, ${q}; ${q}, ${r}]`);
      const { res, orth } = eighResiduals(Float64Array.of(p, q, q, r), 2, values, vectors);
      assert.ok(res < 1e-15 && orth < 1e-15, `2×2 residuals ${res} ${orth}`);
    }
  });

  it('known spectrum Q·diag(λ)·Qᵀ, including repeated eigenvalues: values and eigenspace projectors', () => {
    const n = 40;
    const spectrum = [9, 9, 9, 4, 4, 2, 1e-3, 0, 0, 0, -2, -2, -5];
    while (spectrum.length < n) spectrum.push(0.5);
    const q = randomOrthogonal(n, 99);
    const a = withSpectrum(q, spectrum, n);
    const { values, vectors } = assertGoodEigh(a, n, 'known spectrum');
    expectClose(values, [...spectrum].sort((x, y) => y - x), { abs: 100 * n * EPS * 9 }, 'eigenvalues');
    // Each distinct eigenvalue's eigenspace: Σ v vᵀ over computed columns equals Σ q qᵀ over the true ones.
    for (const lambda of new Set(spectrum)) {
      const ours: number[] = [], theirs: number[] = [];
      values.forEach((v, j) => Math.abs(v - lambda) < 1e-8 && ours.push(j));
      spectrum.forEach((v, j) => v === lambda && theirs.push(j));
      assert.equal(ours.length, theirs.length, `multiplicity of ${lambda}`);
      const projector = (m: Float64Array, cols: number[]) => {
        const p = new Float64Array(n * n);
        for (const c of cols) {
          for (let i = 0; i < n; i++) for (let k = 0; k < n; k++) p[i * n + k] += m[i * n + c] * m[k * n + c];
        }
        return p;
      };
      expectClose(projector(vectors, ours), projector(q, theirs), { abs: 1e-12 }, `eigenspace of ${lambda}`);
    }
  });

  it('identity, scaled identity, zero matrix, n = 0 and n = 1', () => {
    for (const n of [1, 2, 9]) {
      const id = eigh(identity(n), n);
      assert.deepEqual(Array.from(id.values), new Array(n).fill(1));
      assert.deepEqual(Array.from(id.vectors), Array.from(identity(n)));
      const z = eigh(new Float64Array(n * n), n);
      assert.deepEqual(Array.from(z.values), new Array(n).fill(0));
      assert.deepEqual(Array.from(z.vectors), Array.from(identity(n)));
      const s = eigh(identity(n).map((v) => -2.5 * v), n);
      assert.deepEqual(Array.from(s.values), new Array(n).fill(-2.5));
    }
    const empty = eigh(new Float64Array(0), 0);
    assert.equal(empty.values.length, 0);
    assert.equal(empty.vectors.length, 0);
    const one = eigh(Float32Array.of(-4), 1);
    assert.deepEqual(Array.from(one.values), [-4]);
    assert.deepEqual(Array.from(one.vectors), [1]);
    assert.equal(eigvalsh(new Float64Array(0), 0).length, 0);
  });

  it('reads only the lower triangle; accepts float32 input', () => {
    const n = 12;
    const a = randomSymmetric(n, 5);
    const garbage = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) garbage[i * n + j] = 1e6 * (i - j);
    assert.deepEqual(Array.from(eigh(garbage, n).values), Array.from(eigh(a, n).values));
    const a32 = Float32Array.from(a);
    assertGoodEigh(Float64Array.from(a32), n, 'float32 input');
    expectClose(eigh(a32, n).values, eigh(Float64Array.from(a32), n).values, { abs: 0 }, 'float32 widened');
  });

  it('extreme magnitudes: eigenvalues scale exactly, no overflow or underflow', () => {
    const n = 20;
    const a = randomSymmetric(n, 31);
    const base = eigh(a, n).values;
    for (const s of [2 ** -1000, 2 ** 1000, 1e-300, 1e300]) {
      const values = eigh(a.map((v) => v * s), n).values;
      const ratio = Array.from(values, (v, i) => v / s - base[i]);
      assert.ok(maxAbs(ratio) < 1e-12 * maxAbs(base), `scale ${s}: relative error ${maxAbs(ratio)}`);
    }
    // Graded: entries spanning 1e-150..1.
    const g = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      for (let j = 0; j <= i; j++) {
        g[i * n + j] = g[j * n + i] = 10 ** ((-7.5 * (i + j)) / 2) * (1 + 0.1 * ((i * 7 + j) % 5));
      }
    }
    assertGoodEigh(g, n, 'graded');
  });

  it('rejects NaN, ±Infinity and wrong lengths, naming the argument', () => {
    const a = randomSymmetric(4, 1);
    for (const bad of [NaN, Infinity, -Infinity]) {
      const b = Float64Array.from(a);
      b[6] = bad;
      assert.throws(
        () => eigh(b, 4),
        (e: unknown) =>
          e instanceof LinalgError && e.op === 'eigh' && e.argument === 'a' && e.message.includes(String(bad)),
      );
      assert.throws(() => eigvalsh(b, 4), LinalgError);
    }
    assert.throws(() => eigh(a, 3), /argument 'a': expected 3×3 = 9 elements, found 16/);
    assert.throws(() => eigh(a, -4), LinalgError);
  });

  it('matches numpy.linalg.eigh (fixture from scripts/reference/linalg_reference.py)', () => {
    const fixture = JSON.parse(readFileSync(new URL('../fixtures/linalg/reference.json', import.meta.url), 'utf8')) as {
      cases: {
        name: string; n: number; lower: number[]; values: number[]; vectorColumns: number[]; vectors: number[][];
      }[];
      grams: { name: string; rows: number; d: number; x: number[]; values: number[]; rank: number }[];
    };
    assert.ok(fixture.cases.length >= 3 && fixture.grams.length >= 1);
    for (const c of fixture.cases) {
      const { n } = c;
      const a = new Float64Array(n * n);
      let t = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = c.lower[t++];
      const { values, vectors } = eigh(a, n);
      const scale = maxAbs(c.values);
      expectClose(values, c.values, { abs: 1e-10 * scale }, `${c.name} eigenvalues vs numpy`);
      // Eigenvectors up to sign; the tolerance follows the perturbation bound ε‖A‖/gap.
      c.vectorColumns.forEach((col, idx) => {
        const ref = c.vectors[idx];
        const gap = Math.min(
          col > 0 ? c.values[col - 1] - c.values[col] : Infinity,
          col < n - 1 ? c.values[col] - c.values[col + 1] : Infinity,
        );
        let dot = 0;
        for (let i = 0; i < n; i++) dot += vectors[i * n + col] * ref[i];
        const sign = dot < 0 ? -1 : 1;
        const ours = Array.from({ length: n }, (_, i) => sign * vectors[i * n + col]);
        expectClose(ours, ref, { abs: Math.max(1e-12, (1e3 * n * EPS * scale) / gap) }, `${c.name} eigenvector ${col} vs numpy`);
      });
    }
    for (const g of fixture.grams) {
      const values = eigvalsh(gram(Float64Array.from(g.x), g.rows, g.d), g.d);
      expectClose(values, g.values, { abs: 1e-10 * g.values[0] }, `${g.name} eigenvalues vs numpy`);
      const rank = Array.from(values).filter((v) => v > 1e-10 * values[0]).length;
      assert.equal(rank, g.rank, `${g.name} numerical rank`);
    }
  });
});

describe('linalg: cholesky and solves', () => {
  function randomSpd(n: number, seed: number): Float64Array {
    const x = randomMatrix(n + 5, n, seed);
    const g = gram(x, n + 5, n);
    for (let i = 0; i < n; i++) g[i * n + i] += 0.1;
    return g;
  }

  it('L·Lᵀ = A with L lower-triangular; triangular solves invert L and Lᵀ', () => {
    for (const n of [1, 2, 5, 31]) {
      const a = randomSpd(n, n);
      const { factor: l, jitter } = cholesky(a, n);
      assert.equal(jitter, 0);
      for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) assert.equal(l[i * n + j], 0);
      expectClose(matmulABt(l, l, n, n, n), a, { abs: 1e-12 * maxAbs(a) }, `LLᵀ n=${n}`);
      const b = randomMatrix(n, 3, 40 + n);
      expectClose(matmul(l, solveLower(l, n, b, 3), n, n, 3), b, { abs: 1e-12 }, 'solveLower');
      const xt = solveLowerTransposed(l, n, b, 3);
      expectClose(matmul(transpose(l, n, n), xt, n, n, 3), b, { abs: 1e-12 }, 'solveLowerTransposed');
    }
  });

  it('solveSpd solves A·X = B for several right-hand sides', () => {
    const n = 25;
    const a = randomSpd(n, 3);
    const b = randomMatrix(n, 4, 4);
    const { x, jitter } = solveSpd(a, n, b, 4);
    assert.equal(jitter, 0);
    expectClose(matmul(a, x, n, n, 4), b, { abs: 1e-10 }, 'A·X − B');
    const v = solveSpd(a, n, b.subarray(0, n).slice()).x;
    assert.equal(v.length, n);
  });

  it('not positive definite: throws without jitter, retries with jitter on a singular PSD Gram', () => {
    const x = randomMatrix(4, 10, 9);
    const g = gram(x, 4, 10); // rank 4 of 10
    assert.throws(
      () => cholesky(g, 10),
      (e: unknown) => e instanceof LinalgError && /not positive definite/.test(e.message),
    );
    const { factor, jitter } = cholesky(g, 10, { jitter: true });
    assert.ok(jitter > 0);
    const gj = Float64Array.from(g);
    for (let i = 0; i < 10; i++) gj[i * 10 + i] += jitter;
    expectClose(matmulABt(factor, factor, 10, 10, 10), gj, { abs: 1e-12 * maxAbs(g) }, 'jittered LLᵀ');
    const indefinite = Float64Array.of(1, 2, 2, 1);
    assert.throws(() => cholesky(indefinite, 2, { jitter: true }), /even with jitter/);
    assert.throws(() => cholesky(Float64Array.of(1, NaN, NaN, 1), 2), /argument 'a': contains NaN/);
    assert.throws(() => cholesky(g, 10, { jitter: -1 }), /options.jitter/);
  });

  it('triangular solves reject a singular factor', () => {
    assert.throws(() => solveLower(Float64Array.of(1, 0, 1, 0), 2, Float64Array.of(1, 1)), /singular/);
  });
});

describe('linalg: pinvSym', () => {
  it('Moore–Penrose conditions on a rank-deficient PSD Gram; rank from the tolerance', () => {
    const rows = 6, d = 15;
    const g = gram(randomMatrix(rows, d, 21), rows, d);
    const { pinv, rank, threshold, values } = pinvSym(g, d, 1e-10);
    assert.equal(rank, rows);
    assert.ok(threshold === 1e-10 * values[0]);
    assert.equal(asymmetry(pinv, d), 0);
    const s = maxAbs(g);
    expectClose(matmul(matmul(g, pinv, d, d, d), g, d, d, d), g, { abs: 1e-10 * s }, 'A·A⁺·A = A');
    expectClose(matmul(matmul(pinv, g, d, d, d), pinv, d, d, d), pinv, { abs: 1e-10 * maxAbs(pinv) }, 'A⁺·A·A⁺ = A⁺');
  });

  it('equals the inverse for an SPD matrix, and a too-small rtol inverts round-off', () => {
    const n = 8;
    const a = withSpectrum(randomOrthogonal(n, 3), [8, 7, 6, 5, 4, 3, 2, 1], n);
    const { pinv, rank } = pinvSym(a, n, 1e-12);
    assert.equal(rank, n);
    expectClose(matmul(a, pinv, n, n, n), identity(n), { abs: 1e-12 }, 'A·A⁻¹');
    // Rank 3 plus round-off: rtol = 0 keeps round-off eigenvalues and explodes the norm.
    const low = withSpectrum(randomOrthogonal(n, 4), [3, 2, 1, 0, 0, 0, 0, 0], n);
    assert.equal(pinvSym(low, n, 1e-10).rank, 3);
    const loose = pinvSym(low, n, 0);
    assert.ok(loose.rank > 3 && maxAbs(loose.pinv) > 1e6, 'rtol = 0 should invert round-off');
    assert.equal(pinvSym(low, n, 1e-10, { atol: 1.5 }).rank, 2);
  });

  it('validates rtol and atol', () => {
    assert.throws(() => pinvSym(identity(2), 2, -1), /argument 'rtol'/);
    assert.throws(() => pinvSym(identity(2), 2, NaN), /argument 'rtol'/);
    assert.throws(() => pinvSym(identity(2), 2, 1e-8, { atol: -1 }), /options.atol/);
    assert.equal(pinvSym(new Float64Array(4), 2, 1e-8).rank, 0);
  });
});

describe('linalg: ridgeSolve', () => {
  it('recovers an exact linear map with intercept (α tiny)', () => {
    const rows = 50, p = 4, q = 2;
    const x = randomMatrix(rows, p, 61);
    const b = Float64Array.of(1, -2, 0.5, 3, -1, 0, 2, 0.25);
    const y = matmul(x, b, rows, p, q);
    for (let r = 0; r < rows; r++) {
      y[r * q] += 10;
      y[r * q + 1] -= 4;
    }
    const fit = ridgeSolve(Float32Array.from(x), y, rows, p, q, 1e-10);
    expectClose(fit.coef, b, { abs: 1e-6 }, 'coefficients');
    expectClose(fit.intercept, [10, -4], { abs: 1e-6 }, 'intercept');
  });

  it('matches the one-variable closed form, and survives collinear inputs with α = 1e-8', () => {
    const rows = 30, alpha = 2.5;
    const x = randomMatrix(rows, 1, 5), y = randomMatrix(rows, 1, 6);
    const mx = x.reduce((s, v) => s + v, 0) / rows, my = y.reduce((s, v) => s + v, 0) / rows;
    let sxy = 0, sxx = 0;
    for (let r = 0; r < rows; r++) {
      sxy += (x[r] - mx) * (y[r] - my);
      sxx += (x[r] - mx) ** 2;
    }
    const fit = ridgeSolve(x, y, rows, 1, 1, alpha);
    expectClose(fit.coef, [sxy / (sxx + alpha)], { abs: 1e-14 }, 'slope');
    expectClose(fit.intercept, [my - (mx * sxy) / (sxx + alpha)], { abs: 1e-14 }, 'intercept');
    const xc = new Float64Array(rows * 3);
    for (let r = 0; r < rows; r++) xc.set([x[r], x[r], 1], r * 3); // duplicated column and a constant
    const collinear = ridgeSolve(xc, y, rows, 3, 1, 1e-8);
    assert.ok(collinear.coef.every(Number.isFinite));
    assert.throws(() => ridgeSolve(x, y, rows, 1, 1, -1), /argument 'alpha'/);
  });
});
