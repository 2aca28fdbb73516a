/**
 * The WebAssembly eigensolver (src/analysis/linalg/wasm/eigh.c, embedded in eighWasm.ts) against the TypeScript
 * path of the same `eigh` contract: eigenvalues to 1e-12 of max |λ|, eigenvectors up to sign where the eigengap
 * allows (eigenspace projectors where it does not), residuals and orthonormality within 20·n·ε, descending order and
 * the sign convention, on random and degenerate matrices.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { eigh, eighWasmAvailable, eighWith, eigvalsh, WASM_MIN_ORDER, type EighResult } from '../../src/analysis/linalg/eigh';
import { gram, LinalgError, matmul, matmulAtB } from '../../src/analysis/linalg/index';
import { prng, randomMatrix, randomOrthogonal, randomSymmetric } from '../helpers/matrices';

const EPS = 2 ** -52;

/** Q·diag(spectrum)·Qᵀ for a random orthogonal Q, exactly symmetric. */
function withSpectrum(spectrum: number[], seed: number): Float64Array {
  const n = spectrum.length;
  const q = randomOrthogonal(n, seed);
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += q[i * n + k] * spectrum[k] * q[j * n + k];
      a[i * n + j] = a[j * n + i] = s;
    }
  }
  return a;
}

function maxAbs(a: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]));
  return m;
}

/** Sum of v vᵀ over the given columns of the n×n column-eigenvector matrix. */
function projector(vectors: Float64Array, n: number, cols: number[]): Float64Array {
  const p = new Float64Array(n * n);
  for (const c of cols) {
    for (let i = 0; i < n; i++) {
      const vi = vectors[i * n + c];
      if (vi !== 0) for (let k = 0; k < n; k++) p[i * n + k] += vi * vectors[k * n + c];
    }
  }
  return p;
}

/** The checks every result must pass on its own: shape, order, sign rule, residual, orthonormality. */
function assertValid(a: Float64Array, n: number, r: EighResult, what: string): void {
  assert.equal(r.values.length, n);
  assert.equal(r.vectors.length, n * n);
  for (let i = 1; i < n; i++) assert.ok(r.values[i - 1] >= r.values[i], `${what}: values not descending at ${i}`);
  const tol = 20 * n * EPS;
  const av = matmul(a, r.vectors, n, n, n);
  let res = 0;
  for (let i = 0; i < n; i++) {
    for (let j = 0; j < n; j++) res = Math.max(res, Math.abs(av[i * n + j] - r.vectors[i * n + j] * r.values[j]));
  }
  res /= Math.max(maxAbs(a), Number.MIN_VALUE);
  assert.ok(res <= tol, `${what}: ‖AV − VΛ‖/‖A‖ = ${res.toExponential(2)} > ${tol.toExponential(2)}`);
  const vtv = matmulAtB(r.vectors, r.vectors, n, n, n);
  let orth = 0;
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) orth = Math.max(orth, Math.abs(vtv[i * n + j] - (i === j ? 1 : 0)));
  assert.ok(orth <= tol, `${what}: ‖VᵀV − I‖ = ${orth.toExponential(2)} > ${tol.toExponential(2)}`);
  for (let j = 0; j < n; j++) {
    let best = 0;
    for (let i = 0; i < n; i++) if (Math.abs(r.vectors[i * n + j]) > Math.abs(best)) best = r.vectors[i * n + j];
    assert.ok(best > 0, `${what}: column ${j}'s largest-magnitude entry should be positive`);
  }
}

/**
 * wasm vs js on a: both valid; eigenvalues within 1e-12·max|λ|; eigenvectors up to sign (the eigenspace projector for
 * a cluster of eigenvalues within 1e-8·max|λ|) within the perturbation bound 1e3·n·ε·‖A‖/gap (at least 1e-12, or
 * 1e-10 for projectors), wherever that bound is meaningful (< 0.1).
 */
function compare(a: Float64Array, n: number, what: string): { wasm: EighResult; js: EighResult } {
  const wasm = eighWith('wasm', a, n);
  const js = eighWith('js', a, n);
  assertValid(a, n, wasm, `${what} (wasm)`);
  assertValid(a, n, js, `${what} (js)`);
  const scale = Math.max(maxAbs(js.values), Number.MIN_VALUE);
  let dv = 0;
  for (let i = 0; i < n; i++) dv = Math.max(dv, Math.abs(wasm.values[i] - js.values[i]));
  assert.ok(dv <= 1e-12 * scale, `${what}: eigenvalues differ by ${(dv / scale).toExponential(2)}·max|λ|`);
  const clusterTol = 1e-8 * scale;
  for (let j = 0; j < n; ) {
    let end = j + 1;
    while (end < n && js.values[end - 1] - js.values[end] <= clusterTol) end++;
    const gap = Math.min(j > 0 ? js.values[j - 1] - js.values[j] : Infinity, end < n ? js.values[end - 1] - js.values[end] : Infinity);
    const bound = (1e3 * n * EPS * scale) / gap; // first-order perturbation bound, with room
    if (bound < 0.1 && end - j === 1) {
      let dot = 0;
      for (let i = 0; i < n; i++) dot += wasm.vectors[i * n + j] * js.vectors[i * n + j];
      const sign = dot < 0 ? -1 : 1;
      let d = 0;
      for (let i = 0; i < n; i++) d = Math.max(d, Math.abs(sign * wasm.vectors[i * n + j] - js.vectors[i * n + j]));
      assert.ok(d <= Math.max(bound, 1e-12), `${what}: eigenvector ${j} differs by ${d.toExponential(2)} (bound ${bound.toExponential(2)})`);
    } else if (bound < 0.1) {
      const cols = Array.from({ length: end - j }, (_, t) => j + t);
      const pw = projector(wasm.vectors, n, cols), pj = projector(js.vectors, n, cols);
      let d = 0;
      for (let i = 0; i < n * n; i++) d = Math.max(d, Math.abs(pw[i] - pj[i]));
      assert.ok(d <= Math.max(bound, 1e-10), `${what}: eigenspace of λ${j}..λ${end - 1} differs by ${d.toExponential(2)}`);
    }
    j = end;
  }
  return { wasm, js };
}

describe('linalg: eigh WebAssembly kernel', () => {
  it('is available in Node and used by eigh from WASM_MIN_ORDER up', () => {
    assert.ok(eighWasmAvailable(), 'WebAssembly kernel did not instantiate');
    for (const n of [WASM_MIN_ORDER - 1, WASM_MIN_ORDER, 70]) {
      const a = randomSymmetric(n, 3 + n);
      const expected = eighWith(n >= WASM_MIN_ORDER ? 'wasm' : 'js', a, n);
      const got = eigh(a, n);
      assert.deepEqual(Array.from(got.values), Array.from(expected.values));
      assert.deepEqual(Array.from(got.vectors), Array.from(expected.vectors));
    }
  });

  for (const n of [2, 3, 5, 16, 24, 31, 33, 64, 97, 200, 257, 520]) {
    it(`random symmetric n=${n}: wasm and js agree`, () => {
      compare(randomSymmetric(n, 1000 + n), n, `random n=${n}`);
    });
  }

  it('repeated eigenvalues (known spectrum with multiplicities)', () => {
    for (const n of [40, 150]) {
      const spectrum = Array.from({ length: n }, (_, i) => [9, 9, 9, 4, 4, 2, 1e-3, 0, 0, 0, -2, -2, -5][i % 13]);
      const a = withSpectrum(spectrum, 99 + n);
      const { wasm } = compare(a, n, `known spectrum n=${n}`);
      const sorted = [...spectrum].sort((x, y) => y - x);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(wasm.values[i] - sorted[i]) <= 100 * n * EPS * 9, `λ${i}`);
    }
  });

  it('tight clusters and a geometric spectrum', () => {
    const n = 96;
    compare(withSpectrum(Array.from({ length: n }, (_, i) => 1 + (i % 7) * 1e-13), 5), n, 'clusters 1e-13');
    compare(withSpectrum(Array.from({ length: n }, (_, i) => (i % 2 ? 1 : 1 + 1e-9)), 6), n, 'two close values');
    compare(withSpectrum(Array.from({ length: n }, (_, i) => 10 ** ((-15 * i) / n)), 7), n, 'geometric 1..1e-15');
  });

  it('rank-deficient Grams: rank 1, rank n/3, duplicated and zero columns', () => {
    for (const [rows, d] of [[1, 60], [20, 60], [50, 150], [400, 130]]) {
      const x = randomMatrix(rows, d, rows * 7 + d);
      if (rows >= 50) {
        for (let r = 0; r < rows; r++) {
          x[r * d + 5] = x[r * d + 2];
          x[r * d + 9] = 0;
          x[r * d + d - 1] = 0;
        }
      }
      const g = gram(x, rows, d);
      const { wasm } = compare(g, d, `Gram ${rows}×${d}`);
      const rank = Math.min(rows, d - (rows >= 50 ? 3 : 0)); // 2 zero columns, 1 duplicate
      for (let i = rank; i < d; i++) assert.ok(Math.abs(wasm.values[i]) < 1e-12 * wasm.values[0], `Gram ${rows}×${d}: λ${i} ≈ 0`);
      assert.ok(wasm.values[rank - 1] > 1e-8 * wasm.values[0], `Gram ${rows}×${d}: λ${rank - 1} > 0`);
    }
  });

  it('structured tridiagonal and block cases: Wilkinson, block diagonal, zero rows, diagonal, identity', () => {
    const n = 90;
    const w = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      w[i * n + i] = Math.abs(i - (n - 1) / 2);
      if (i > 0) w[i * n + i - 1] = w[(i - 1) * n + i] = 1;
    }
    compare(w, n, 'Wilkinson');
    const r = prng(4);
    const blocks = new Float64Array(n * n);
    for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) if (i >> 3 === j >> 3) blocks[i * n + j] = blocks[j * n + i] = 2 * r() - 1;
    compare(blocks, n, 'block diagonal');
    const zeroRows = gram(randomMatrix(n, n, 8), n, n);
    for (let i = 0; i < n; i += 3) for (let j = 0; j < n; j++) zeroRows[i * n + j] = zeroRows[j * n + i] = 0;
    compare(zeroRows, n, 'zero rows');
    // Diagonal and identity: exactly the TypeScript path's answer (sorted diagonal, signed permutation / identity).
    const diag = new Float64Array(n * n);
    for (let i = 0; i < n; i++) diag[i * n + i] = [3, -1, 7, 0, 3.5][i % 5] * (1 + i * 1e-3);
    const dw = eighWith('wasm', diag, n), dj = eighWith('js', diag, n);
    assert.deepEqual(Array.from(dw.values), Array.from(dj.values));
    assert.deepEqual(Array.from(dw.vectors), Array.from(dj.vectors));
    const id = new Float64Array(n * n);
    for (let i = 0; i < n; i++) id[i * n + i] = 1;
    const iw = eighWith('wasm', id, n);
    assert.deepEqual(Array.from(iw.values), new Array(n).fill(1));
    assert.deepEqual(Array.from(iw.vectors), Array.from(id));
  });

  it('extreme magnitudes scale exactly; float32 input; only the lower triangle is read', () => {
    const n = 48;
    const a = randomSymmetric(n, 31);
    const base = eighWith('wasm', a, n).values;
    for (const s of [2 ** -1000, 2 ** 1000, 1e-300, 1e300]) {
      const values = eighWith('wasm', a.map((v) => v * s), n).values;
      const err = maxAbs(Array.from(values, (v, i) => v / s - base[i]));
      assert.ok(err < 1e-12 * maxAbs(base), `scale ${s}: relative error ${err}`);
    }
    const garbage = Float64Array.from(a);
    for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) garbage[i * n + j] = 1e6 * (i - j);
    assert.deepEqual(Array.from(eighWith('wasm', garbage, n).vectors), Array.from(eighWith('wasm', a, n).vectors));
    const a32 = Float32Array.from(a);
    assert.deepEqual(Array.from(eighWith('wasm', a32, n).values), Array.from(eighWith('wasm', Float64Array.from(a32), n).values));
  });

  it('eigvalsh through the kernel matches the eigenvalues of the TypeScript path', () => {
    for (const n of [16, 30, 130, 301]) {
      const a = randomSymmetric(n, 77 + n);
      const values = eigvalsh(a, n);
      const ref = eighWith('js', a, n).values;
      const scale = maxAbs(ref);
      for (let i = 0; i < n; i++) assert.ok(Math.abs(values[i] - ref[i]) <= 1e-12 * scale, `n=${n} λ${i}`);
    }
  });

  it('rejects NaN and ±Infinity at kernel sizes, naming the argument', () => {
    const n = 40;
    for (const bad of [NaN, Infinity, -Infinity]) {
      const b = randomSymmetric(n, 2);
      b[n * 7 + 3] = bad;
      assert.throws(
        () => eigh(b, n),
        (e: unknown) => e instanceof LinalgError && e.op === 'eigh' && e.argument === 'a' && e.message.includes(String(bad)),
      );
      assert.throws(() => eighWith('wasm', b, n), LinalgError);
    }
  });
});
