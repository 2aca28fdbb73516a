/**
 * The WebAssembly products (the GEMM of src/analysis/linalg/wasm/eigh.c, driven by gemm.ts) against the TypeScript
 * path and against a plain triple loop: every transpose combination, sizes off the 4×4 tiles and the 256-deep panels,
 * float32 operands, accumulation, the symmetric (lower-triangle) mode, and blocking of the shared dimension under a
 * small memory cap. Also that the public products (matmul, gram, syrkAccumulate, …) take the WebAssembly path from
 * WASM_MIN_WORK up and still agree with the loop.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { gemmWasmAvailable, gemmWith, WASM_MIN_WORK } from '../../src/analysis/linalg/gemm';
import { crossAccumulate, gram, matmul, matmulABt, matmulAtB, syrkAccumulate } from '../../src/analysis/linalg/index';
import { eigh } from '../../src/analysis/linalg/eigh';
import { randomMatrix, randomSymmetric } from '../helpers/matrices';

/** op(A)·op(B) by a triple loop, each sum in order (the reference). */
function naive(a: ArrayLike<number>, at: boolean, b: ArrayLike<number>, bt: boolean, m: number, k: number, n: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += (at ? a[p * m + i] : a[i * k + p]) * (bt ? b[j * k + p] : b[p * n + j]);
      c[i * n + j] = s;
    }
  }
  return c;
}

/** max |x − y| / max(max |y|, tiny). */
function relErr(x: ArrayLike<number>, y: ArrayLike<number>): number {
  let d = 0, s = 0;
  for (let i = 0; i < y.length; i++) {
    d = Math.max(d, Math.abs(x[i] - y[i]));
    s = Math.max(s, Math.abs(y[i]));
  }
  return d / Math.max(s, Number.MIN_VALUE);
}

const TOL = 1e-13;

describe('gemm: WebAssembly path', () => {
  it('instantiates here (Node has WebAssembly)', () => {
    assert.ok(gemmWasmAvailable(), 'the WebAssembly GEMM kernel did not instantiate');
  });

  const shapes: [number, number, number][] = [[1, 1, 1], [3, 5, 2], [17, 9, 33], [64, 64, 64], [130, 7, 301], [5, 200, 513], [97, 131, 259]];
  for (const [m, k, n] of shapes) {
    for (const at of [false, true]) {
      for (const bt of [false, true]) {
        it(`${m}×${k}·${k}×${n} (A${at ? 'ᵀ' : ''} B${bt ? 'ᵀ' : ''}): wasm = js = loop`, () => {
          const a = randomMatrix(at ? k : m, at ? m : k, m * 7 + k);
          const b = randomMatrix(bt ? n : k, bt ? k : n, n * 11 + k);
          const ref = naive(a, at, b, bt, m, k, n);
          const w = gemmWith('wasm', a, at, b, bt, m, k, n);
          const j = gemmWith('js', a, at, b, bt, m, k, n);
          assert.ok(relErr(w, ref) <= TOL, `wasm vs loop: ${relErr(w, ref)}`);
          assert.ok(relErr(j, ref) <= TOL, `js vs loop: ${relErr(j, ref)}`);
        });
      }
    }
  }

  it('float32 operands are widened exactly (products formed in float64)', () => {
    const m = 40, k = 70, n = 30;
    const a = Float32Array.from(randomMatrix(m, k, 1)), b = Float32Array.from(randomMatrix(k, n, 2));
    const ref = naive(a, false, b, false, m, k, n);
    assert.ok(relErr(gemmWith('wasm', a, false, b, false, m, k, n), ref) <= TOL);
  });

  it('accumulates into C when given one', () => {
    const m = 33, k = 45, n = 21;
    const a = randomMatrix(m, k, 3), b = randomMatrix(k, n, 4);
    const c0 = randomMatrix(m, n, 5);
    const ref = naive(a, false, b, false, m, k, n).map((v, i) => v + c0[i]);
    assert.ok(relErr(gemmWith('wasm', a, false, b, false, m, k, n, { c: Float64Array.from(c0) }), ref) <= TOL);
    assert.ok(relErr(gemmWith('js', a, false, b, false, m, k, n, { c: Float64Array.from(c0) }), ref) <= TOL);
  });

  it('symmetric mode: XᵀX from the lower triangle, exactly symmetric, accumulating', () => {
    const rows = 77, d = 53;
    const x = randomMatrix(rows, d, 6);
    const g0 = randomSymmetric(d, 7);
    const ref = naive(x, true, x, false, d, rows, d).map((v, i) => v + g0[i]);
    const g = gemmWith('wasm', x, true, x, false, d, rows, d, { c: Float64Array.from(g0), symmetric: true });
    assert.ok(relErr(g, ref) <= TOL);
    for (let i = 0; i < d; i++) for (let j = 0; j < i; j++) assert.equal(g[i * d + j], g[j * d + i]);
  });

  it('blocks the shared dimension under a memory cap, with the same result', () => {
    const m = 60, k = 1000, n = 50;
    for (const [at, bt] of [[false, false], [true, false], [false, true], [true, true]] as const) {
      const a = randomMatrix(at ? k : m, at ? m : k, 8), b = randomMatrix(bt ? n : k, bt ? k : n, 9);
      const ref = naive(a, at, b, bt, m, k, n);
      // 64 KiB: m·n = 3000 doubles of output leaves room for blocks of ~45 values of the shared dimension.
      const blocked = gemmWith('wasm', a, at, b, bt, m, k, n, { maxBytes: 64 * 1024 });
      assert.ok(relErr(blocked, ref) <= TOL, `A${at ? 'ᵀ' : ''}B${bt ? 'ᵀ' : ''}: ${relErr(blocked, ref)}`);
    }
    const x = randomMatrix(k, 40, 10);
    const sym = gemmWith('wasm', x, true, x, false, 40, k, 40, { symmetric: true, maxBytes: 48 * 1024 });
    assert.ok(relErr(sym, naive(x, true, x, false, 40, k, 40)) <= TOL);
  });

  it('refuses (throws) when even the output cannot fit the cap', () => {
    const a = randomMatrix(100, 10, 1), b = randomMatrix(10, 100, 2);
    assert.throws(() => gemmWith('wasm', a, false, b, false, 100, 10, 100, { maxBytes: 8 * 100 * 100 }), /WebAssembly/);
  });

  it('the public products use it from WASM_MIN_WORK up and agree with the loop', () => {
    const m = 70, k = 90, n = 80; // 504,000 multiply-adds ≥ WASM_MIN_WORK
    assert.ok(m * k * n >= WASM_MIN_WORK);
    const a = randomMatrix(m, k, 11), b = randomMatrix(k, n, 12), bt = randomMatrix(n, k, 13), at = randomMatrix(k, m, 14);
    assert.ok(relErr(matmul(a, b, m, k, n), naive(a, false, b, false, m, k, n)) <= TOL);
    assert.ok(relErr(matmulABt(a, bt, m, k, n), naive(a, false, bt, true, m, k, n)) <= TOL);
    assert.ok(relErr(matmulAtB(at, b, k, m, n), naive(at, true, b, false, m, k, n)) <= TOL);
    const g = gram(a, m, k);
    assert.ok(relErr(g, naive(a, true, a, false, k, m, k)) <= TOL);
    for (let i = 0; i < k; i++) for (let j = 0; j < i; j++) assert.equal(g[i * k + j], g[j * k + i]);
    const acc = new Float64Array(k * k);
    syrkAccumulate(acc, a, m, k);
    syrkAccumulate(acc, a, m, k);
    assert.ok(relErr(acc, naive(a, true, a, false, k, m, k).map((v) => 2 * v)) <= TOL);
    const cross = new Float64Array(k * n);
    crossAccumulate(cross, a, randomMatrix(m, n, 15), m, k, n);
    assert.ok(relErr(cross, naive(a, true, randomMatrix(m, n, 15), false, k, m, n)) <= TOL);
  });

  it('leaves the eigensolver working between products (separate instances)', () => {
    const n = 40;
    const s = randomSymmetric(n, 16);
    const before = eigh(s, n).values;
    matmul(randomMatrix(200, 200, 17), randomMatrix(200, 200, 18), 200, 200, 200);
    const after = eigh(s, n).values;
    assert.deepEqual(Array.from(after), Array.from(before));
  });
});
