import { LinalgError } from './errors';
import { assertShape, type RealArray } from './matrix';
import { newLinalgInstance } from './wasm/instance';
import type { WasmMemory } from './wasm/webassembly';

// Large products run in WebAssembly (see "WebAssembly path" below); the TypeScript engine here is the fallback and
// the reference. All TypeScript products go through one engine: C[i][j] += Σ_p Â(i, p) · B̂(j, p), where Â and B̂ are "k-contiguous" views
// of the operands. Each operand is copied block by block into a float64 panel whose rows are contiguous in p
// (rows of A for A·…, columns of A for Aᵀ·…), zero-padded to a multiple of 4 rows. A 4×4 register-blocked
// micro-kernel then computes 16 dot products at once (8 loads per 16 multiply-adds), which measured ≈ 3 GFLOP/s
// in V8 on this class of machine, against ≈ 1.8 for a plain i-k-j loop and ≈ 2.4 for a 4×2 tile. Blocking:
// KB = 256 values of p per panel, MB = 128 rows of Â and NB = 128 rows of B̂ per cache block (256 KiB each,
// L2-sized; picked by measurement on a shared 2-core machine, so only roughly tuned).
const KB = 256;
const MB = 128;
const NB = 128;

/** Fills dst[(r − r0)·kb + (p − p0)] = element (r, p), for r in [r0, r1), zero rows up to a multiple of 4. */
type Packer = (dst: Float64Array, r0: number, r1: number, p0: number, kb: number) => void;

const roundUp4 = (x: number): number => (x + 3) & ~3;

function padRows(dst: Float64Array, from: number, to: number, kb: number): void {
  dst.fill(0, from * kb, to * kb);
}

/** Operand whose rows are the "r" index: element (r, p) = src[r·ld + p]. */
function rowPacker(src: RealArray, ld: number): Packer {
  return (dst, r0, r1, p0, kb) => {
    for (let r = r0; r < r1; r++) {
      const s = r * ld + p0;
      const o = (r - r0) * kb;
      for (let p = 0; p < kb; p++) dst[o + p] = src[s + p];
    }
    padRows(dst, r1 - r0, roundUp4(r1 - r0), kb);
  };
}

/** Operand whose columns are the "r" index: element (r, p) = src[p·ld + r] (reads rows of src contiguously). */
function colPacker(src: RealArray, ld: number): Packer {
  return (dst, r0, r1, p0, kb) => {
    for (let p = 0; p < kb; p++) {
      const s = (p0 + p) * ld;
      for (let r = r0; r < r1; r++) dst[(r - r0) * kb + p] = src[s + r];
    }
    padRows(dst, r1 - r0, roundUp4(r1 - r0), kb);
  };
}

/**
 * 4×4 tile: rows i..i+3 of the Â panel (starting at ao) against rows j..j+3 of the B̂ panel (starting at bo), kb
 * terms each. Adds into C at (i.., j..) with bounds m×n; when `mirror`, also adds the transposed tile at (j.., i..).
 */
function microKernel(
  ap: Float64Array, ao: number, bp: Float64Array, bo: number, kb: number,
  c: Float64Array, ldc: number, i: number, j: number, m: number, n: number, mirror: boolean,
): void {
  const a1 = ao + kb, a2 = a1 + kb, a3 = a2 + kb;
  const b1 = bo + kb, b2 = b1 + kb, b3 = b2 + kb;
  let c00 = 0, c01 = 0, c02 = 0, c03 = 0, c10 = 0, c11 = 0, c12 = 0, c13 = 0;
  let c20 = 0, c21 = 0, c22 = 0, c23 = 0, c30 = 0, c31 = 0, c32 = 0, c33 = 0;
  for (let p = 0; p < kb; p++) {
    const y0 = bp[bo + p], y1 = bp[b1 + p], y2 = bp[b2 + p], y3 = bp[b3 + p];
    let x = ap[ao + p];
    c00 += x * y0; c01 += x * y1; c02 += x * y2; c03 += x * y3;
    x = ap[a1 + p];
    c10 += x * y0; c11 += x * y1; c12 += x * y2; c13 += x * y3;
    x = ap[a2 + p];
    c20 += x * y0; c21 += x * y1; c22 += x * y2; c23 += x * y3;
    x = ap[a3 + p];
    c30 += x * y0; c31 += x * y1; c32 += x * y2; c33 += x * y3;
  }
  if (i + 4 <= m && j + 4 <= n) {
    let o = i * ldc + j;
    c[o] += c00; c[o + 1] += c01; c[o + 2] += c02; c[o + 3] += c03; o += ldc;
    c[o] += c10; c[o + 1] += c11; c[o + 2] += c12; c[o + 3] += c13; o += ldc;
    c[o] += c20; c[o + 1] += c21; c[o + 2] += c22; c[o + 3] += c23; o += ldc;
    c[o] += c30; c[o + 1] += c31; c[o + 2] += c32; c[o + 3] += c33;
    if (mirror) {
      o = j * ldc + i;
      c[o] += c00; c[o + 1] += c10; c[o + 2] += c20; c[o + 3] += c30; o += ldc;
      c[o] += c01; c[o + 1] += c11; c[o + 2] += c21; c[o + 3] += c31; o += ldc;
      c[o] += c02; c[o + 1] += c12; c[o + 2] += c22; c[o + 3] += c32; o += ldc;
      c[o] += c03; c[o + 1] += c13; c[o + 2] += c23; c[o + 3] += c33;
    }
    return;
  }
  // Edge tile (padding rows hold zeros): write only what lies inside C.
  const t = [c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33];
  for (let u = 0; u < 4 && i + u < m; u++) {
    for (let v = 0; v < 4 && j + v < n; v++) {
      c[(i + u) * ldc + j + v] += t[u * 4 + v];
      if (mirror) c[(j + v) * ldc + i + u] += t[u * 4 + v];
    }
  }
}

/** C (m×n, row-major, leading dimension n) += Â·B̂ᵀ with Â m×k, B̂ n×k given by packers. */
function gemmNT(m: number, n: number, k: number, packA: Packer, packB: Packer, c: Float64Array): void {
  if (m === 0 || n === 0 || k === 0) return;
  const kbMax = Math.min(KB, k);
  const bufA = new Float64Array(Math.min(roundUp4(m), MB) * kbMax);
  const bufB = new Float64Array(roundUp4(n) * kbMax);
  for (let p0 = 0; p0 < k; p0 += KB) {
    const kb = Math.min(KB, k - p0);
    packB(bufB, 0, n, p0, kb);
    for (let i0 = 0; i0 < m; i0 += MB) {
      const i1 = Math.min(i0 + MB, m);
      packA(bufA, i0, i1, p0, kb);
      const i4 = i0 + roundUp4(i1 - i0);
      for (let j0 = 0; j0 < n; j0 += NB) {
        const j4 = Math.min(j0 + NB, roundUp4(n));
        for (let i = i0; i < i4; i += 4) {
          const ao = (i - i0) * kb;
          for (let j = j0; j < j4; j += 4) microKernel(bufA, ao, bufB, j * kb, kb, c, n, i, j, m, n, false);
        }
      }
    }
  }
}

/** G (n×n) += ÂÂᵀ with Â n×k given by a packer: only 4×4 tiles on or above the diagonal are computed. */
function syrkNT(n: number, k: number, pack: Packer, g: Float64Array): void {
  if (n === 0 || k === 0) return;
  const n4 = roundUp4(n);
  const kbMax = Math.min(KB, k);
  const buf = new Float64Array(n4 * kbMax);
  for (let p0 = 0; p0 < k; p0 += KB) {
    const kb = Math.min(KB, k - p0);
    pack(buf, 0, n, p0, kb);
    for (let j0 = 0; j0 < n4; j0 += NB) {
      const j1 = Math.min(j0 + NB, n4);
      for (let i = 0; i < j1; i += 4) {
        const ao = i * kb;
        // Diagonal tiles are computed whole (both triangles), off-diagonal tiles once and mirrored.
        for (let j = Math.max(j0, i); j < j1; j += 4) {
          microKernel(buf, ao, buf, j * kb, kb, g, n, i, j, n, n, j !== i);
        }
      }
    }
  }
}

// ---- WebAssembly path ----------------------------------------------------------------------------------------------
// From WASM_MIN_WORK multiply-adds up, the products run in the SIMD WebAssembly kernel of wasm/eigh.c (its GEMM:
// packed panels, 4×4 f64x2 register tiles; measured ≈ 16 GFLOP/s on this class of machine against ≈ 3 for the
// TypeScript micro-kernel above). The operands are copied into the instance's memory in blocks of the shared
// dimension so that it stays under WASM_MAX_BYTES; the sums are the same float64 multiplies and adds (no fused
// multiply-add), in a different order, so results agree with the TypeScript path to round-off. Where WebAssembly is
// unavailable, or an output alone would not fit, the TypeScript path runs.

/** From this many multiply-adds (m·n·k) up, products use the WebAssembly kernel when it is available. */
export const WASM_MIN_WORK = 1 << 15;
/** The most memory one product may lay out in the WebAssembly instance. */
const WASM_MAX_BYTES = 256 * 2 ** 20;
/** Instances whose memory exceeds this are dropped after use (WebAssembly memory cannot shrink). */
const KEEP_MEMORY_BYTES = 128 * 2 ** 20;

interface GemmKernel {
  memory: WasmMemory;
  prepare(na: number, nb: number, nc: number): number;
  b(): number;
  c(): number;
  run(m: number, n: number, k: number, ars: number, acs: number, brs: number, bcs: number, lower: number): number;
}

let gemmKernel: GemmKernel | null | undefined; // undefined: not tried yet; null: unavailable

function wasmGemmKernel(): GemmKernel | null {
  if (gemmKernel !== undefined) return gemmKernel;
  const instance = newLinalgInstance();
  if (instance === null) return (gemmKernel = null);
  const x = instance.exports;
  gemmKernel = {
    memory: x.memory as WasmMemory,
    prepare: x.gemm_prepare as GemmKernel['prepare'],
    b: x.gemm_b as GemmKernel['b'],
    c: x.gemm_c as GemmKernel['c'],
    run: x.gemm_run as GemmKernel['run'],
  };
  return gemmKernel;
}

/** Whether the WebAssembly products can run here. */
export function gemmWasmAvailable(): boolean {
  return wasmGemmKernel() !== null;
}

/** One product C = op(A)·op(B) (+ C when accumulating), op(A) m×k, op(B) k×n. */
interface Product {
  m: number;
  n: number;
  k: number;
  /** A as stored: m×k, or k×m when `at` (op(A) = Aᵀ). */
  a: RealArray;
  at: boolean;
  /** B as stored: k×n, or n×k when `bt` (op(B) = Bᵀ). */
  b: RealArray;
  bt: boolean;
  /** m×n output; added into when `accumulate`, else overwritten. */
  c: Float64Array;
  accumulate: boolean;
  /** m = n and C symmetric: compute the lower triangle only and mirror it (exactly symmetric output). */
  symmetric: boolean;
}

/** Copies rows [p0, p1) of the `cols`-wide row-major `src` (contiguous) or its columns [p0, p1) into `dst`. */
function copyBlock(dst: Float64Array, src: RealArray, rows: number, cols: number, p0: number, p1: number, byRows: boolean): void {
  if (byRows || p1 - p0 === cols) {
    dst.set(byRows ? src.subarray(p0 * cols, p1 * cols) : src.subarray(0, rows * cols));
    return;
  }
  const kb = p1 - p0;
  for (let r = 0; r < rows; r++) dst.set(src.subarray(r * cols + p0, r * cols + p1), r * kb);
}

/**
 * Runs a product in the WebAssembly kernel; false when it cannot (no WebAssembly, the output alone too large, the
 * memory cannot grow, a trap), and then nothing was written to `c`. `maxBytes` is for tests of the blocking.
 */
function productByWasm(p: Product, maxBytes = WASM_MAX_BYTES): boolean {
  const { m, n, k, a, b, c } = p;
  const kern = wasmGemmKernel();
  if (kern === null) return false;
  const budget = Math.floor(maxBytes / 8) - m * n;
  const kb = Math.min(k, Math.floor(budget / Math.max(1, m + n)));
  if (kb < Math.min(k, 16)) return false;
  try {
    const ptrA = kern.prepare(m * kb, kb * n, m * n) >>> 0;
    if (ptrA === 0) return false;
    const buf = kern.memory.buffer;
    const A = new Float64Array(buf, ptrA, m * kb), B = new Float64Array(buf, kern.b() >>> 0, kb * n), C = new Float64Array(buf, kern.c() >>> 0, m * n);
    if (p.accumulate) C.set(c);
    else C.fill(0);
    for (let p0 = 0; p0 < k; p0 += kb) {
      const p1 = Math.min(k, p0 + kb), w = p1 - p0;
      // op(A) block (m × w): Aᵀ's rows p0..p1 are contiguous (ars = 1, acs = m); A's are row segments (ars = w).
      copyBlock(A, a, p.at ? k : m, p.at ? m : k, p0, p1, p.at);
      // op(B) block (w × n): B's rows are contiguous (brs = n, bcs = 1); Bᵀ's are row segments (brs = 1, bcs = w).
      copyBlock(B, b, p.bt ? n : k, p.bt ? k : n, p0, p1, !p.bt);
      const rc = kern.run(m, n, w, p.at ? 1 : w, p.at ? m : 1, p.bt ? 1 : n, p.bt ? w : 1, p.symmetric ? 1 : 0);
      if (rc !== 0) return false;
    }
    if (!p.symmetric) c.set(C);
    else {
      for (let i = 0; i < m; i++) {
        for (let j = 0; j <= i; j++) {
          const v = C[i * n + j];
          c[i * n + j] = v;
          c[j * n + i] = v;
        }
      }
    }
    return true;
  } catch {
    gemmKernel = undefined; // a trap: start from a fresh instance next time
    return false;
  } finally {
    if (gemmKernel && gemmKernel.memory.buffer.byteLength > KEEP_MEMORY_BYTES) gemmKernel = undefined;
  }
}

/** The TypeScript path of a product (the reference the WebAssembly path is tested against). */
function productByJs(p: Product): void {
  const { m, n, k, a, b, c } = p;
  if (!p.accumulate) c.fill(0);
  const packA = p.at ? colPacker(a, m) : rowPacker(a, k);
  if (p.symmetric) syrkNT(m, k, packA, c);
  else gemmNT(m, n, k, packA, p.bt ? rowPacker(b, k) : colPacker(b, n), c);
}

function product(p: Product): void {
  if (p.m * p.n * p.k >= WASM_MIN_WORK && productByWasm(p)) return;
  productByJs(p);
}

/**
 * For tests: C = op(A)·op(B) by one path ('js', or 'wasm' with an optional memory cap that forces blocking of the
 * shared dimension). Throws when the WebAssembly path cannot run.
 */
export function gemmWith(
  path: 'js' | 'wasm', a: RealArray, at: boolean, b: RealArray, bt: boolean, m: number, k: number, n: number,
  opts: { c?: Float64Array; symmetric?: boolean; maxBytes?: number } = {},
): Float64Array {
  const c = opts.c ?? new Float64Array(m * n);
  const p: Product = { m, n, k, a, at, b, bt, c, accumulate: opts.c !== undefined, symmetric: opts.symmetric ?? false };
  if (path === 'js') productByJs(p);
  else if (!productByWasm(p, opts.maxBytes)) throw new LinalgError('gemm', 'the WebAssembly kernel is unavailable or could not lay out the product');
  return c;
}

function checkOut(op: string, out: Float64Array, rows: number, cols: number): void {
  if (!(out instanceof Float64Array)) throw new LinalgError(op, 'expected a Float64Array accumulator', 'out');
  assertShape(op, 'out', out, rows, cols);
}

/**
 * A·B for A m×k and B k×n (row-major). Returns a fresh m×n Float64Array.
 * @throws LinalgError if a length does not match its dimensions.
 */
export function matmul(a: RealArray, b: RealArray, m: number, k: number, n: number): Float64Array {
  assertShape('matmul', 'a', a, m, k);
  assertShape('matmul', 'b', b, k, n);
  const c = new Float64Array(m * n);
  product({ m, n, k, a, at: false, b, bt: false, c, accumulate: false, symmetric: false });
  return c;
}

/**
 * A·Bᵀ for A m×k and B n×k (row-major). Returns a fresh m×n Float64Array.
 * @throws LinalgError if a length does not match its dimensions.
 */
export function matmulABt(a: RealArray, b: RealArray, m: number, k: number, n: number): Float64Array {
  assertShape('matmulABt', 'a', a, m, k);
  assertShape('matmulABt', 'b', b, n, k);
  const c = new Float64Array(m * n);
  product({ m, n, k, a, at: false, b, bt: true, c, accumulate: false, symmetric: false });
  return c;
}

/**
 * Aᵀ·B for A k×m and B k×n (row-major; k is the shared row count, e.g. samples). Returns a fresh m×n Float64Array.
 * @throws LinalgError if a length does not match its dimensions.
 */
export function matmulAtB(a: RealArray, b: RealArray, k: number, m: number, n: number): Float64Array {
  assertShape('matmulAtB', 'a', a, k, m);
  assertShape('matmulAtB', 'b', b, k, n);
  const c = new Float64Array(m * n);
  product({ m, n, k, a, at: true, b, bt: false, c, accumulate: false, symmetric: false });
  return c;
}

/**
 * Gram matrix AᵀA of the rows×d matrix A (syrk): a fresh d×d symmetric Float64Array (both triangles filled,
 * exactly symmetric). Only the upper half of the work is done.
 * @throws LinalgError if a's length is not rows·d.
 */
export function gram(a: RealArray, rows: number, d: number): Float64Array {
  assertShape('gram', 'a', a, rows, d);
  const g = new Float64Array(d * d);
  product({ m: d, n: d, k: rows, a, at: true, b: a, bt: false, c: g, accumulate: false, symmetric: true });
  return g;
}

/**
 * Streaming second moments: adds XᵀX of the batch X (rows×d, row-major, float32 or float64) into the d×d float64
 * accumulator `g`, in place (both triangles; it stays exactly symmetric). Products are formed in float64, so the
 * result is the same as widening X first. Divide by the total sample count at the end for E[xxᵀ].
 * Cost: rows·d²/2 multiply-adds (≈ 1.4 s for 5000×785 on one slow core), plus one read-modify-write of all of G
 * per 256 rows — so pass batches of a few hundred rows or more; tiny batches are dominated by the d² traffic.
 * @throws LinalgError if `g` is not a d×d Float64Array or x's length is not rows·d.
 */
export function syrkAccumulate(g: Float64Array, x: RealArray, rows: number, d: number): void {
  checkOut('syrkAccumulate', g, d, d);
  assertShape('syrkAccumulate', 'x', x, rows, d);
  product({ m: d, n: d, k: rows, a: x, at: true, b: x, bt: false, c: g, accumulate: true, symmetric: true });
}

/**
 * Streaming cross moments: adds XᵀY of the batches X (rows×dx) and Y (rows×dy) into the dx×dy float64 accumulator
 * `c`, in place.
 * @throws LinalgError if a length does not match its dimensions.
 */
export function crossAccumulate(
  c: Float64Array, x: RealArray, y: RealArray, rows: number, dx: number, dy: number,
): void {
  checkOut('crossAccumulate', c, dx, dy);
  assertShape('crossAccumulate', 'x', x, rows, dx);
  assertShape('crossAccumulate', 'y', y, rows, dy);
  product({ m: dx, n: dy, k: rows, a: x, at: true, b: y, bt: false, c, accumulate: true, symmetric: false });
}

/**
 * Streaming first moments: adds the column sums of X (rows×d) into `sums` (length d, float64), in place.
 * @throws LinalgError if a length does not match its dimensions.
 */
export function colSumsAccumulate(sums: Float64Array, x: RealArray, rows: number, d: number): void {
  checkOut('colSumsAccumulate', sums, 1, d);
  assertShape('colSumsAccumulate', 'x', x, rows, d);
  for (let r = 0; r < rows; r++) {
    const o = r * d;
    for (let j = 0; j < d; j++) sums[j] += x[o + j];
  }
}

/**
 * y = A·v for A m×n (row-major) and v of length n. Returns a fresh Float64Array of length m.
 * @throws LinalgError if a length does not match its dimensions.
 */
export function matvec(a: RealArray, v: RealArray, m: number, n: number): Float64Array {
  assertShape('matvec', 'a', a, m, n);
  assertShape('matvec', 'v', v, n, 1);
  const y = new Float64Array(m);
  for (let i = 0; i < m; i++) {
    const o = i * n;
    let s = 0;
    for (let j = 0; j < n; j++) s += a[o + j] * v[j];
    y[i] = s;
  }
  return y;
}
