import { LinalgError } from './errors';
import { assertFinite, assertShape, type RealArray } from './matrix';
import { newLinalgInstance } from './wasm/instance';
import type { WasmMemory } from './wasm/webassembly';

/** Result of {@link eigh}. */
export interface EighResult {
  /** The n eigenvalues, sorted descending (values[0] is the largest, algebraically). */
  values: Float64Array;
  /**
   * n×n row-major; **column** j (elements `vectors[i * n + j]`, i = 0..n−1) is the unit eigenvector of values[j]
   * (numpy's layout). The columns are orthonormal. Each column's sign is fixed so that its entry of largest
   * magnitude is positive (the first such entry on a tie), which makes results reproducible.
   */
  vectors: Float64Array;
}

const EPS = 2 ** -52;

/** From this order up {@link eigh} and {@link eigvalsh} use the WebAssembly kernel when it is available. */
export const WASM_MIN_ORDER = 16;

/**
 * Symmetric eigendecomposition in float64: A = V·diag(values)·Vᵀ.
 *
 * Reads only the **lower triangle** of the n×n row-major `a` (like LAPACK's UPLO = 'L'); the upper triangle is
 * ignored, so pass an exactly symmetric matrix or accept that its lower half is used. `a` is not modified.
 * The input is first scaled exactly by a power of two to max |a_ij| ≤ 1. From n = {@link WASM_MIN_ORDER} up, where
 * WebAssembly exists, a SIMD WebAssembly kernel (wasm/eigh.c) does the work with LAPACK dsyevd's method: blocked
 * Householder tridiagonalisation, divide and conquer on the tridiagonal, blocked back-transformation (measured:
 * 5–15× faster than the TypeScript path, 1.5–2× numpy/LAPACK dsyevd on one thread, whose 256-bit FMA kernels
 * WebAssembly's 128-bit SIMD cannot match). Otherwise, or should the kernel fail, the TypeScript path below runs:
 * Householder tridiagonalisation (one fused pass over the trailing lower triangle per step), explicit accumulation of
 * the orthogonal factor, implicit QL with Wilkinson shifts (EISPACK tql2) with batched rotations (≈ 9n³ flops;
 * n = 1024 takes seconds). Both are backward stable: |λ − λ_exact| ≲ n·ε·‖A‖₂; eigenvectors of eigenvalues closer
 * than that are an arbitrary orthonormal basis of their (numerical) eigenspace. Memory: the result plus 2n² doubles
 * (TypeScript) or a WebAssembly memory of about 4n² doubles, kept for reuse while under 160 MiB (n ≲ 2200).
 *
 * @param a n×n row-major, float64 or float32.
 * @returns eigenvalues sorted descending and eigenvectors as columns (see {@link EighResult}).
 * @throws LinalgError if a has the wrong length, holds NaN/±Infinity, or the iteration does not converge.
 */
export function eigh(a: RealArray, n: number): EighResult {
  const exponent = scaleExponent('eigh', a, n);
  if (exponent === null) return trivial(n, a);
  if (n >= WASM_MIN_ORDER) {
    const r = eighByWasm(a, n, exponent);
    if (r !== null) return r;
  }
  return eighByJs(a, n, exponent);
}

/**
 * Eigenvalues only of the symmetric n×n row-major matrix `a` (lower triangle read), sorted descending. Same
 * tridiagonalisation as {@link eigh}, then QL without the orthogonal factor: a small fraction of its cost.
 * @throws LinalgError as {@link eigh}.
 */
export function eigvalsh(a: RealArray, n: number): Float64Array {
  const exponent = scaleExponent('eigvalsh', a, n);
  if (exponent === null) return trivial(n, a).values;
  let d: Float64Array | null = null, e: Float64Array | null = null;
  if (n >= WASM_MIN_ORDER) {
    const t = tridiagonalizeByWasm(a, n, exponent);
    if (t !== null) ({ d, e } = t);
  }
  if (d === null || e === null) {
    const w = scaledLower(a, n, exponent);
    d = new Float64Array(n);
    e = new Float64Array(n);
    tridiagonalize(w, n, d, e, new Float64Array(n));
  }
  tql(d, e, n, null);
  const values = Float64Array.from(d).sort().reverse();
  for (let i = 0; i < n; i++) values[i] = unscale(values[i], exponent);
  return values;
}

/**
 * {@link eigh} through one path only, for tests and benchmarks: 'js' is the TypeScript implementation, 'wasm' the
 * WebAssembly kernel (throws a LinalgError if WebAssembly is unavailable or the kernel fails). Same contract.
 */
export function eighWith(path: 'js' | 'wasm', a: RealArray, n: number): EighResult {
  const exponent = scaleExponent('eigh', a, n);
  if (exponent === null) return trivial(n, a);
  if (path === 'js') return eighByJs(a, n, exponent);
  const r = eighByWasm(a, n, exponent);
  if (r === null) throw new LinalgError('eigh', 'the WebAssembly kernel is unavailable or failed');
  return r;
}

/** Whether the WebAssembly kernel can be instantiated here. */
export function eighWasmAvailable(): boolean {
  return kernel() !== null;
}

function eighByJs(a: RealArray, n: number, exponent: number): EighResult {
  const w = scaledLower(a, n, exponent);
  const d = new Float64Array(n), e = new Float64Array(n), hs = new Float64Array(n);
  tridiagonalize(w, n, d, e, hs);
  formQ(w, n, hs);
  tql(d, e, n, w);
  return finish(d, w, n, exponent);
}

// ---- WebAssembly kernel -------------------------------------------------------------------------------------------

interface Kernel {
  memory: WasmMemory;
  prepare(n: number): number;
  run(n: number): number;
  tridiag(n: number): number;
  values(): number;
  diag(): number;
  offdiag(): number;
}

/** Instances whose memory exceeds this are dropped after use (WebAssembly memory cannot shrink). */
const KEEP_MEMORY_BYTES = 160 * 2 ** 20;

let wasmKernel: Kernel | null = null;

function kernel(): Kernel | null {
  if (wasmKernel !== null) return wasmKernel;
  const instance = newLinalgInstance();
  if (instance === null) return null;
  const x = instance.exports;
  wasmKernel = {
    memory: x.memory as WasmMemory,
    prepare: x.eigh_prepare as (n: number) => number,
    run: x.eigh_run as (n: number) => number,
    tridiag: x.eigh_tridiag as (n: number) => number,
    values: x.eigh_values as () => number,
    diag: x.eigh_diag as () => number,
    offdiag: x.eigh_offdiag as () => number,
  };
  return wasmKernel;
}

/** Instantiates (or reuses) the kernel, sizes its memory for order n, and copies the scaled lower triangle in. */
function loadInput(a: RealArray, n: number, exponent: number): { k: Kernel; ptr: number } | null {
  const k = kernel();
  if (k === null) return null;
  const ptr = k.prepare(n) >>> 0;
  if (ptr === 0) {
    release(k);
    return null;
  }
  scaledLower(a, n, exponent, new Float64Array(k.memory.buffer, ptr, n * n));
  return { k, ptr };
}

/** Runs a kernel entry point; false on a nonzero status or a trap (the instance is then discarded). */
function call(entry: () => number): boolean {
  try {
    return entry() === 0;
  } catch {
    wasmKernel = null;
    return false;
  }
}

function release(k: Kernel): void {
  if (k.memory.buffer.byteLength > KEEP_MEMORY_BYTES) wasmKernel = null;
}

function eighByWasm(a: RealArray, n: number, exponent: number): EighResult | null {
  const input = loadInput(a, n, exponent);
  if (input === null) return null;
  const { k, ptr } = input;
  try {
    if (!call(() => k.run(n))) return null;
    const buffer = k.memory.buffer;
    const values = new Float64Array(buffer, k.values() >>> 0, n).slice();
    const vectors = new Float64Array(buffer, ptr, n * n).slice();
    let bad = false;
    for (let i = 0; i < n; i++) {
      if (values[i] - values[i] !== 0) bad = true;
      values[i] = unscale(values[i], exponent);
    }
    for (let i = 0; i < vectors.length && !bad; i++) if (vectors[i] - vectors[i] !== 0) bad = true;
    return bad ? null : { values, vectors };
  } finally {
    release(k);
  }
}

function tridiagonalizeByWasm(a: RealArray, n: number, exponent: number): { d: Float64Array; e: Float64Array } | null {
  const input = loadInput(a, n, exponent);
  if (input === null) return null;
  const { k } = input;
  try {
    if (!call(() => k.tridiag(n))) return null;
    const d = new Float64Array(k.memory.buffer, k.diag() >>> 0, n).slice();
    const e = new Float64Array(k.memory.buffer, k.offdiag() >>> 0, n).slice();
    return { d, e };
  } finally {
    release(k);
  }
}

// ---- TypeScript path ------------------------------------------------------------------------------------------------

/** Validates; returns the exponent of the exact power-of-two scaling to max |a_ij| ≤ 1, or null for n ≤ 1 or A = 0. */
function scaleExponent(op: string, a: RealArray, n: number): number | null {
  assertShape(op, 'a', a, n, n);
  assertFinite(op, 'a', a);
  let max = 0;
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j <= i; j++) max = Math.max(max, Math.abs(a[o + j]));
  }
  if (n <= 1 || max === 0) return null;
  // Power-of-two scaling is exact; it keeps squares of entries far from overflow and underflow in the
  // Householder norms and in the QL square roots (which can then skip Math.hypot, ~10× slower in V8).
  return -Math.ceil(Math.log2(max));
}

/** Copies the lower triangle of a scaled by 2^exponent (exact) into out (fresh if not given); the rest is zero. */
function scaledLower(a: RealArray, n: number, exponent: number, out = new Float64Array(n * n)): Float64Array {
  const half = Math.trunc(exponent / 2);
  const f1 = 2 ** half, f2 = 2 ** (exponent - half); // two factors: 2^exponent alone may overflow
  out.fill(0);
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j <= i; j++) out[o + j] = a[o + j] * f1 * f2;
  }
  return out;
}

function unscale(x: number, exponent: number): number {
  const half = Math.trunc(exponent / 2);
  return x * 2 ** -half * 2 ** -(exponent - half);
}

/** n = 0, n = 1 or the zero matrix: eigenvalues are the diagonal (all zero for A = 0), vectors the identity. */
function trivial(n: number, a: RealArray): EighResult {
  const values = new Float64Array(n);
  const vectors = new Float64Array(n * n);
  for (let i = 0; i < n; i++) vectors[i * n + i] = 1;
  if (n === 1) values[0] = a[0];
  return { values, vectors };
}

/**
 * Householder reduction of the lower triangle of w to tridiagonal T = QᵀAQ, working from the last row up.
 * On return: d[i] = T_ii, e[i] = T_{i,i−1} (e[0] = 0); row i of w holds the Householder vector u_i in columns
 * 0..i−1 (scaled; H_i = I − u_i u_iᵀ / hs[i]) and hs[i] = 0 where no reflection was needed.
 *
 * Step i needs p = A_i u_i for the leading i×i block A_i, which is A_{i+1} after the previous step's rank-2 update
 * A ← A − u qᵀ − q uᵀ. That update is kept pending and applied row by row inside the same pass that forms p, so
 * the trailing triangle is streamed once per step instead of twice; only row i is updated ahead of the pass,
 * because it defines u_i.
 */
function tridiagonalize(w: Float64Array, n: number, d: Float64Array, e: Float64Array, hs: Float64Array): void {
  let u = new Float64Array(n), p = new Float64Array(n);
  let pu = new Float64Array(n), pq = new Float64Array(n); // pending update A ← A − pu·pqᵀ − pq·puᵀ
  let pending = false;
  for (let i = n - 1; i >= 1; i--) {
    const ri = i * n;
    if (pending) {
      const ui = pu[i], qi = pq[i];
      for (let k = 0; k <= i; k++) w[ri + k] -= ui * pq[k] + qi * pu[k];
    }
    d[i] = w[ri + i];
    let scale = 0;
    for (let k = 0; k < i; k++) scale += Math.abs(w[ri + k]);
    if (i === 1 || scale === 0) {
      // Nothing to annihilate: e_i is the single sub-diagonal entry (or 0); flush the pending update.
      e[i] = w[ri + i - 1];
      hs[i] = 0;
      if (pending) {
        for (let j = 0; j < i; j++) {
          const rj = j * n, uj = pu[j], qj = pq[j];
          for (let k = 0; k <= j; k++) w[rj + k] -= uj * pq[k] + qj * pu[k];
        }
      }
      pending = false;
      continue;
    }
    // Row scaling (as in tred2) guards the sum of squares against under/overflow.
    const inv = 1 / scale;
    let sigma = 0;
    for (let k = 0; k < i; k++) {
      const v = w[ri + k] * inv;
      u[k] = v;
      sigma += v * v;
    }
    const f = u[i - 1];
    const g = f >= 0 ? -Math.sqrt(sigma) : Math.sqrt(sigma);
    e[i] = scale * g;
    const h = sigma - f * g;
    u[i - 1] = f - g;
    for (let k = 0; k < i; k++) w[ri + k] = u[k];
    hs[i] = h;

    // One pass over rows 0..i−1 of the lower triangle: apply the pending update, accumulate p = A u.
    p.fill(0, 0, i);
    if (pending) fusedUpdateSymv(w, n, i, u, p, pu, pq);
    else fusedUpdateSymv(w, n, i, u, p, null, null);
    // p ← A u / h, K = uᵀp / 2h, q = p − K u; the next update is A ← A − u qᵀ − q uᵀ.
    const invh = 1 / h;
    let kk = 0;
    for (let k = 0; k < i; k++) {
      p[k] *= invh;
      kk += u[k] * p[k];
    }
    kk *= 0.5 * invh;
    for (let k = 0; k < i; k++) p[k] -= kk * u[k];
    [u, pu] = [pu, u];
    [p, pq] = [pq, p];
    pending = true;
  }
  d[0] = w[0];
  e[0] = 0;
}

/**
 * For rows j < i of the lower triangle of w: w_jk −= pu_j·pq_k + pq_j·pu_k (k ≤ j) when pu/pq are given, then
 * p += A·u with the updated symmetric A (row j contributes its dot with u to p_j and u_j·w_jk to p_k). Rows are taken
 * two at a time so the loads of u, p, pu, pq are shared; the whole step streams the triangle once.
 */
function fusedUpdateSymv(
  w: Float64Array, n: number, i: number, u: Float64Array, p: Float64Array,
  pu: Float64Array | null, pq: Float64Array | null,
): void {
  let j = 0;
  if (pu !== null && pq !== null) {
    for (; j + 2 <= i; j += 2) {
      const r0 = j * n, r1 = r0 + n;
      const a0 = pu[j], b0 = pq[j], v0 = u[j], a1 = pu[j + 1], b1 = pq[j + 1], v1 = u[j + 1];
      let s0 = 0, s1 = 0;
      for (let k = 0; k < j; k++) {
        const qk = pq[k], uk = pu[k], vk = u[k];
        const x0 = w[r0 + k] - (a0 * qk + b0 * uk);
        const x1 = w[r1 + k] - (a1 * qk + b1 * uk);
        w[r0 + k] = x0;
        w[r1 + k] = x1;
        s0 += x0 * vk;
        s1 += x1 * vk;
        p[k] += x0 * v0 + x1 * v1;
      }
      const xd0 = w[r0 + j] - 2 * a0 * b0; // (j, j)
      const xo1 = w[r1 + j] - (a1 * b0 + b1 * a0); // (j+1, j)
      const xd1 = w[r1 + j + 1] - 2 * a1 * b1; // (j+1, j+1)
      w[r0 + j] = xd0;
      w[r1 + j] = xo1;
      w[r1 + j + 1] = xd1;
      p[j] += s0 + xd0 * v0 + xo1 * v1;
      p[j + 1] += s1 + xo1 * v0 + xd1 * v1;
    }
    for (; j < i; j++) {
      const rj = j * n, a0 = pu[j], b0 = pq[j], v0 = u[j];
      let s0 = 0;
      for (let k = 0; k < j; k++) {
        const x = w[rj + k] - (a0 * pq[k] + b0 * pu[k]);
        w[rj + k] = x;
        s0 += x * u[k];
        p[k] += x * v0;
      }
      const x = w[rj + j] - 2 * a0 * b0;
      w[rj + j] = x;
      p[j] += s0 + x * v0;
    }
    return;
  }
  for (; j + 2 <= i; j += 2) {
    const r0 = j * n, r1 = r0 + n, v0 = u[j], v1 = u[j + 1];
    let s0 = 0, s1 = 0;
    for (let k = 0; k < j; k++) {
      const x0 = w[r0 + k], x1 = w[r1 + k], vk = u[k];
      s0 += x0 * vk;
      s1 += x1 * vk;
      p[k] += x0 * v0 + x1 * v1;
    }
    const xd0 = w[r0 + j], xo1 = w[r1 + j], xd1 = w[r1 + j + 1];
    p[j] += s0 + xd0 * v0 + xo1 * v1;
    p[j + 1] += s1 + xo1 * v0 + xd1 * v1;
  }
  for (; j < i; j++) {
    const rj = j * n, v0 = u[j];
    let s0 = 0;
    for (let k = 0; k < j; k++) {
      const x = w[rj + k];
      s0 += x * u[k];
      p[k] += x * v0;
    }
    p[j] += s0 + w[rj + j] * v0;
  }
}

/**
 * Overwrites w with Q = H_{n−1}···H_2 (n×n row-major, full), built as Q ← H_i Q for i = 2, 3, …: before step i
 * only the leading i×i block is non-trivial, and the vectors u_j (j < i) already consumed are overwritten.
 * Reflectors are applied four at a time: one pass forms the raw products Qᵀu_t, a small recurrence turns them into
 * those of the successive products (g_t = (Qᵀu_t − Σ_{s<t} (u_s·u_t) g_s) / h_t), and one pass applies
 * Q −= Σ_t u_t g_tᵀ. Rows go two at a time. This streams Q twice per four reflectors instead of twice per one.
 */
function formQ(w: Float64Array, n: number, hs: Float64Array): void {
  const B = 4;
  const U = new Float64Array(B * n), G = new Float64Array(B * n);
  w[0] = 1;
  w[1] = 0;
  w[n] = 0;
  w[n + 1] = 1;
  for (let i0 = 2; i0 < n; i0 += B) {
    const nb = Math.min(B, n - i0);
    const act = i0 + nb - 1; // reflectors of this group touch rows/columns 0..act−1
    U.fill(0);
    G.fill(0);
    for (let t = 0; t < nb; t++) {
      const i = i0 + t;
      if (hs[i] !== 0) for (let k = 0; k < i; k++) U[t * n + k] = w[i * n + k];
    }
    for (let t = 0; t < nb; t++) {
      const i = i0 + t, ri = i * n;
      w.fill(0, ri, ri + n);
      w[ri + i] = 1;
      for (let k = 0; k < i; k++) w[k * n + i] = 0;
    }
    // Pass 1: G_t = Qᵀ u_t over the active block.
    let r = 0;
    for (; r + 2 <= act; r += 2) {
      const o0 = r * n, o1 = o0 + n;
      const a0 = U[r], a1 = U[n + r], a2 = U[2 * n + r], a3 = U[3 * n + r];
      const b0 = U[r + 1], b1 = U[n + r + 1], b2 = U[2 * n + r + 1], b3 = U[3 * n + r + 1];
      for (let c = 0; c < act; c++) {
        const x = w[o0 + c], y = w[o1 + c];
        G[c] += a0 * x + b0 * y;
        G[n + c] += a1 * x + b1 * y;
        G[2 * n + c] += a2 * x + b2 * y;
        G[3 * n + c] += a3 * x + b3 * y;
      }
    }
    for (; r < act; r++) {
      const o0 = r * n;
      const a0 = U[r], a1 = U[n + r], a2 = U[2 * n + r], a3 = U[3 * n + r];
      for (let c = 0; c < act; c++) {
        const x = w[o0 + c];
        G[c] += a0 * x;
        G[n + c] += a1 * x;
        G[2 * n + c] += a2 * x;
        G[3 * n + c] += a3 * x;
      }
    }
    // Successive products: g_t = (raw_t − Σ_{s<t} (u_s·u_t) g_s) / h_t.
    for (let t = 0; t < nb; t++) {
      const h = hs[i0 + t], gt = t * n;
      if (h === 0) continue;
      for (let s2 = 0; s2 < t; s2++) {
        let dot = 0;
        for (let k = 0; k < act; k++) dot += U[s2 * n + k] * U[gt + k];
        if (dot !== 0) for (let c = 0; c < act; c++) G[gt + c] -= dot * G[s2 * n + c];
      }
      const invh = 1 / h;
      for (let c = 0; c < act; c++) G[gt + c] *= invh;
    }
    // Pass 2: Q −= Σ_t u_t g_tᵀ.
    r = 0;
    for (; r + 2 <= act; r += 2) {
      const o0 = r * n, o1 = o0 + n;
      const a0 = U[r], a1 = U[n + r], a2 = U[2 * n + r], a3 = U[3 * n + r];
      const b0 = U[r + 1], b1 = U[n + r + 1], b2 = U[2 * n + r + 1], b3 = U[3 * n + r + 1];
      for (let c = 0; c < act; c++) {
        const g0 = G[c], g1 = G[n + c], g2 = G[2 * n + c], g3 = G[3 * n + c];
        w[o0 + c] -= a0 * g0 + a1 * g1 + a2 * g2 + a3 * g3;
        w[o1 + c] -= b0 * g0 + b1 * g1 + b2 * g2 + b3 * g3;
      }
    }
    for (; r < act; r++) {
      const o0 = r * n;
      const a0 = U[r], a1 = U[n + r], a2 = U[2 * n + r], a3 = U[3 * n + r];
      for (let c = 0; c < act; c++) w[o0 + c] -= a0 * G[c] + a1 * G[n + c] + a2 * G[2 * n + c] + a3 * G[3 * n + c];
    }
  }
}

/** sqrt(p² + q²) without Math.hypot's cost where the squares cannot over/underflow (the usual case here). */
function hyp(p: number, q: number): number {
  const s = p * p + q * q;
  return s > 1e-290 && s < 1e290 ? Math.sqrt(s) : Math.hypot(p, q);
}

/** Rotations buffered before being applied to V: 8192 (c, s) pairs = 128 KiB; with an 8-row block of V it fits L2. */
const ROTATION_BUFFER = 8192;

/**
 * Implicit QL with Wilkinson shifts on the tridiagonal (d, e) — EISPACK tql2 / JAMA. On return d holds the
 * eigenvalues (unsorted). When v (n×n) is given, every plane rotation is also applied on the right (V ← V·G, so
 * it mixes columns i and i+1 of each row). Rotations are recorded per sweep and applied in batches, row by row:
 * rows of V evolve independently, so each row is loaded once per batch rather than once per sweep.
 */
function tql(d: Float64Array, e: Float64Array, n: number, v: Float64Array | null): void {
  for (let i = 1; i < n; i++) e[i - 1] = e[i];
  e[n - 1] = 0;
  const rot = v === null ? null : new Float64Array(2 * Math.max(ROTATION_BUFFER, n));
  if (v !== null) interleave8(v, n, true);
  const sweepL: number[] = [], sweepM: number[] = [], sweepOff: number[] = [];
  let used = 0;
  const flush = (): void => {
    if (v !== null && rot !== null && sweepL.length > 0) applySweeps(v, n, rot, sweepL, sweepM, sweepOff);
    sweepL.length = sweepM.length = sweepOff.length = 0;
    used = 0;
  };
  let f = 0, tst1 = 0, sweeps = 0;
  const maxSweeps = 30 * n;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n - 1 && Math.abs(e[m]) > EPS * tst1) m++;
    if (m > l) {
      do {
        if (++sweeps > maxSweeps) {
          throw new LinalgError('eigh', `QL iteration did not converge (eigenvalue ${l} of ${n}, ${maxSweeps} sweeps)`);
        }
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hyp(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        let c = 1, c2 = 1, c3 = 1, s = 0, s2 = 0;
        const el1 = e[l + 1];
        let o = 0;
        if (rot !== null) {
          if (used + 2 * (m - l) > rot.length) flush();
          sweepL.push(l);
          sweepM.push(m);
          sweepOff.push(used);
          o = used;
          used += 2 * (m - l);
        }
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hyp(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (rot !== null) {
            rot[o] = c;
            rot[o + 1] = s;
            o += 2;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  flush();
  if (v !== null) interleave8(v, n, false);
}

/**
 * Rows of V are grouped in blocks of 8 (rows 8b..8b+7 occupy one contiguous 8n range in row-major order). During QL
 * each full block is stored interleaved — element (8b + q, i) at 8n·b + 8i + q — so one rotation touches 16
 * adjacent doubles and eight independent dependency chains run side by side (measured ≈ 1.5× faster than four
 * separate rows). Rows past the last full block stay row-major.
 */
function interleave8(v: Float64Array, n: number, forward: boolean): void {
  const tmp = new Float64Array(8 * n);
  for (let base = 0; base + 8 * n <= n * n; base += 8 * n) {
    for (let k = 0; k < 8 * n; k++) tmp[k] = v[base + k];
    if (forward) {
      for (let q = 0; q < 8; q++) for (let i = 0; i < n; i++) v[base + 8 * i + q] = tmp[q * n + i];
    } else {
      for (let q = 0; q < 8; q++) for (let i = 0; i < n; i++) v[base + q * n + i] = tmp[8 * i + q];
    }
  }
}

/**
 * Applies recorded sweeps to every row of v (n×n, full 8-row blocks interleaved, see {@link interleave8}): for
 * sweep t and i = m−1 down to l, (x_i, x_{i+1}) ← (c·x_i − s·x_{i+1}, s·x_i + c·x_{i+1}); the value moving down the
 * sweep stays in a register, and each block or row is loaded once for the whole batch.
 */
function applySweeps(
  v: Float64Array, n: number, rot: Float64Array, sweepL: number[], sweepM: number[], sweepOff: number[],
): void {
  const ns = sweepL.length;
  const full = n - (n % 8);
  for (let base = 0; base < full * n; base += 8 * n) {
    for (let t = 0; t < ns; t++) {
      const l = sweepL[t], m = sweepM[t];
      let o = sweepOff[t];
      let a = base + 8 * m;
      let x0 = v[a], x1 = v[a + 1], x2 = v[a + 2], x3 = v[a + 3];
      let x4 = v[a + 4], x5 = v[a + 5], x6 = v[a + 6], x7 = v[a + 7];
      for (let i = m - 1; i >= l; i--) {
        const c = rot[o], s = rot[o + 1];
        o += 2;
        a -= 8;
        let y = v[a];
        v[a + 8] = s * y + c * x0;
        x0 = c * y - s * x0;
        y = v[a + 1];
        v[a + 9] = s * y + c * x1;
        x1 = c * y - s * x1;
        y = v[a + 2];
        v[a + 10] = s * y + c * x2;
        x2 = c * y - s * x2;
        y = v[a + 3];
        v[a + 11] = s * y + c * x3;
        x3 = c * y - s * x3;
        y = v[a + 4];
        v[a + 12] = s * y + c * x4;
        x4 = c * y - s * x4;
        y = v[a + 5];
        v[a + 13] = s * y + c * x5;
        x5 = c * y - s * x5;
        y = v[a + 6];
        v[a + 14] = s * y + c * x6;
        x6 = c * y - s * x6;
        y = v[a + 7];
        v[a + 15] = s * y + c * x7;
        x7 = c * y - s * x7;
      }
      v[a] = x0;
      v[a + 1] = x1;
      v[a + 2] = x2;
      v[a + 3] = x3;
      v[a + 4] = x4;
      v[a + 5] = x5;
      v[a + 6] = x6;
      v[a + 7] = x7;
    }
  }
  for (let k = full; k < n; k++) {
    const r0 = k * n;
    for (let t = 0; t < ns; t++) {
      const l = sweepL[t], m = sweepM[t];
      let o = sweepOff[t];
      let x0 = v[r0 + m];
      for (let i = m - 1; i >= l; i--) {
        const c = rot[o], s = rot[o + 1];
        o += 2;
        const y0 = v[r0 + i];
        v[r0 + i + 1] = s * y0 + c * x0;
        x0 = c * y0 - s * x0;
      }
      v[r0 + l] = x0;
    }
  }
}

/** Sorts descending, permutes V's columns to match, fixes signs, undoes the scaling. */
function finish(d: Float64Array, v: Float64Array, n: number, exponent: number): EighResult {
  const order = Array.from({ length: n }, (_, i) => i).sort((x, y) => d[y] - d[x] || x - y);
  const values = new Float64Array(n);
  for (let j = 0; j < n; j++) values[j] = unscale(d[order[j]], exponent);
  const vectors = new Float64Array(n * n);
  for (let r = 0; r < n; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) vectors[o + j] = v[o + order[j]];
  }
  // Sign: largest-magnitude entry of each column positive. One row-major pass to find it, one to flip.
  const best = new Float64Array(n), sign = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) {
      const x = vectors[o + j];
      if (Math.abs(x) > best[j]) {
        best[j] = Math.abs(x);
        sign[j] = x < 0 ? -1 : 1;
      }
    }
  }
  for (let r = 0; r < n; r++) {
    const o = r * n;
    for (let j = 0; j < n; j++) if (sign[j] < 0) vectors[o + j] = -vectors[o + j];
  }
  return { values, vectors };
}
