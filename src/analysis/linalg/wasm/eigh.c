/*
 * Symmetric eigendecomposition kernel (float64) for WebAssembly with SIMD128. Freestanding: no libc.
 * Built by scripts/build-wasm.sh into eighWasm.ts (embedded bytes); called from ../eigh.ts, which validates the
 * input, scales it by a power of two, and undoes the scaling.
 *
 * Method (the LAPACK dsyevd pipeline, written from the algorithm descriptions):
 *   1. Blocked Householder tridiagonalisation (dsytrd, reduction from the last row up): panels of NB reflectors
 *      whose symmetric rank-2k update of the leading block is a cache-blocked SIMD GEMM; the symmetric
 *      matrix-vector products read the lower triangle once (row dot and column axpy fused).
 *   2. Cuppen's divide and conquer on the tridiagonal (dstedc/dlaed0-3): implicit QL on small leaves; merges with
 *      deflation (small z components, close pole pairs via Givens rotations), a safeguarded "middle way" secular
 *      equation solver with the origin at the nearer pole, the Gu-Eisenstat (Loewner) recomputation of z so that
 *      the eigenvectors come out orthogonal, and the eigenvector update as two GEMMs that skip the zero blocks.
 *   3. Back-transformation with blocked (compact WY) Householder products: two GEMMs per block.
 *   4. Sort descending, sign convention (largest-magnitude entry of each eigenvector positive), transpose into the
 *      row-major output whose columns are the eigenvectors.
 *
 * Storage: the input is n x n row-major, lower triangle read. Eigenvectors live "vector-major" (row r of E is an
 * eigenvector) until the final transpose. All scratch comes from one bump allocation sized by eigh_prepare().
 */
#include <wasm_simd128.h>

typedef __SIZE_TYPE__ size_t;

#ifdef PROFILE /* development only: bash scripts/build-wasm.sh never defines it */
__attribute__((import_module("env"), import_name("now"))) double now(void);
static double g_prof[16];
__attribute__((export_name("eigh_prof"))) size_t eigh_prof(void) { return (size_t)g_prof; }
#define PROF(i) (g_prof[i] = now())
#define PACC(i, t0) (g_prof[i] += now() - (t0))
#define PNOW() now()
#else
#define PROF(i) ((void)0)
#define PACC(i, t0) ((void)0)
#define PNOW() 0.0
#endif

#define EPS 2.220446049250313e-16 /* 2^-52 */
#define HEPS 1.1102230246251565e-16 /* 2^-53 */

static double fabs_(double x) { return __builtin_fabs(x); }
static double sqrt_(double x) { return __builtin_sqrt(x); }
static double max_(double a, double b) { return a > b ? a : b; }
static int mini(int a, int b) { return a < b ? a : b; }

/* sqrt(a^2 + b^2) without overflow or destructive underflow. */
static double hyp(double a, double b) {
  a = fabs_(a);
  b = fabs_(b);
  double s = a * a + b * b;
  if (s > 1e-290 && s < 1e290) return sqrt_(s);
  double m = a > b ? a : b;
  if (m == 0) return 0;
  a /= m;
  b /= m;
  return m * sqrt_(a * a + b * b);
}

/* The compiler may emit calls to these for loops it recognises. */
void *memset(void *dst, int c, size_t len) {
  unsigned char *d = (unsigned char *)dst;
  while (len--) *d++ = (unsigned char)c;
  return dst;
}
void *memcpy(void *dst, const void *src, size_t len) {
  unsigned char *d = (unsigned char *)dst;
  const unsigned char *s = (const unsigned char *)src;
  while (len--) *d++ = *s++;
  return dst;
}

static void zero(double *x, long len) {
  for (long i = 0; i < len; i++) x[i] = 0;
}
static void copy(double *dst, const double *src, long len) {
  for (long i = 0; i < len; i++) dst[i] = src[i];
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Memory                                                                                                        */

extern unsigned char __heap_base;

static int g_n = -1;
static double *g_a, *g_e_vec, *g_work, *g_d, *g_e, *g_tau, *g_vals;
static double *g_pack_a, *g_pack_b, *g_small;
static int *g_iwork;

/* Block sizes (overridable with -D for tuning experiments). */
#ifndef NB
#define NB 32 /* tridiagonalisation panel width */
#endif
#ifndef KB
#define KB 64 /* back-transformation block size */
#endif
#ifndef LEAF
#define LEAF 32 /* divide-and-conquer leaf size */
#endif

/* GEMM blocking */
#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 4
#endif
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 96
#endif
#ifndef NC
#define NC 1024
#endif

static void *bump(size_t *top, size_t bytes) {
  size_t p = (*top + 15) & ~(size_t)15;
  *top = p + bytes;
  return (void *)p;
}

/*
 * Lays out the scratch for order n and grows the memory as needed. Returns the byte offset of the n x n input /
 * output matrix, or 0 when the memory cannot grow.
 */
__attribute__((export_name("eigh_prepare"))) size_t eigh_prepare(int n) {
  size_t nn = (size_t)n * (size_t)n;
  size_t top = (size_t)&__heap_base;
  g_a = (double *)bump(&top, nn * 8);
  g_e_vec = (double *)bump(&top, nn * 8);
  g_work = (double *)bump(&top, 2 * nn * 8 + (size_t)n * KB * 8 * 3 + 2 * NB * (size_t)n * 8 * 2);
  g_small = (double *)bump(&top, (size_t)(KB * KB + 64) * 8 + (size_t)n * 8 * 12);
  g_d = (double *)bump(&top, (size_t)n * 8);
  g_e = (double *)bump(&top, (size_t)(n + 1) * 8);
  g_tau = (double *)bump(&top, (size_t)(n + 1) * 8);
  g_vals = (double *)bump(&top, (size_t)n * 8);
  g_pack_a = (double *)bump(&top, (size_t)MC * KC * 8);
  g_pack_b = (double *)bump(&top, (size_t)KC * NC * 8);
  g_iwork = (int *)bump(&top, (size_t)n * 4 * 8);
  size_t have = __builtin_wasm_memory_size(0) * 65536ul;
  if (top > have) {
    size_t pages = (top - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
  }
  g_n = n;
  return (size_t)g_a;
}

__attribute__((export_name("eigh_values"))) size_t eigh_values(void) { return (size_t)g_vals; }
__attribute__((export_name("eigh_diag"))) size_t eigh_diag(void) { return (size_t)g_d; }
__attribute__((export_name("eigh_offdiag"))) size_t eigh_offdiag(void) { return (size_t)g_e; }

/* ------------------------------------------------------------------------------------------------------------ */
/* GEMM: C (m x n, row stride ldc) += alpha * A * B with A(i,p) = A[i*ars + p*acs], B(p,j) = B[p*brs + j*bcs].     */
/* lower != 0: only tiles that intersect the lower triangle j <= i are computed (others may hold anything).       */

static void pack_a(int mc, int kc, double alpha, const double *A, long ars, long acs, double *pa) {
  for (int i0 = 0; i0 < mc; i0 += MR) {
    int mr = mini(MR, mc - i0);
    double *dst = pa + (long)i0 * kc;
    if (mr == MR && acs == 1) {
      for (int r = 0; r < MR; r++) {
        const double *src = A + (long)(i0 + r) * ars;
        for (int p = 0; p < kc; p++) dst[p * MR + r] = alpha * src[p];
      }
    } else if (mr == MR && ars == 1) {
      const double *src = A + i0;
      for (int p = 0; p < kc; p++) {
#pragma clang loop unroll(full)
        for (int r = 0; r < MR; r++) dst[r] = alpha * src[r];
        src += acs;
        dst += MR;
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int r = 0; r < MR; r++) dst[r] = r < mr ? alpha * A[(long)(i0 + r) * ars + (long)p * acs] : 0.0;
        dst += MR;
      }
    }
  }
}

static void pack_b(int kc, int nc, const double *B, long brs, long bcs, double *pb) {
  for (int j0 = 0; j0 < nc; j0 += NR) {
    int nr = mini(NR, nc - j0);
    double *dst = pb + (long)j0 * kc;
    if (nr == NR && bcs == 1) {
      const double *src = B + j0;
      for (int p = 0; p < kc; p++) {
#pragma clang loop unroll(full)
        for (int q = 0; q < NR; q += 2) wasm_v128_store(dst + q, wasm_v128_load(src + q));
        src += brs;
        dst += NR;
      }
    } else if (nr == NR && brs == 1) {
      for (int c = 0; c < NR; c++) {
        const double *src = B + (long)(j0 + c) * bcs;
        for (int p = 0; p < kc; p++) dst[p * NR + c] = src[p];
      }
    } else {
      for (int p = 0; p < kc; p++) {
        for (int c = 0; c < NR; c++) dst[c] = c < nr ? B[(long)p * brs + (long)(j0 + c) * bcs] : 0.0;
        dst += NR;
      }
    }
  }
}

/* MR x NR tile: C[0..mr) x [0..nr) += pa (kc x MR, packed) * pb (kc x NR, packed). */
static void kernel(int kc, const double *pa, const double *pb, double *C, long ldc, int mr, int nr) {
  v128_t c[MR][NR / 2];
#pragma clang loop unroll(full)
  for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
    for (int q = 0; q < NR / 2; q++) c[r][q] = wasm_f64x2_splat(0);
  for (int p = 0; p < kc; p++) {
    v128_t b[NR / 2];
#pragma clang loop unroll(full)
    for (int q = 0; q < NR / 2; q++) b[q] = wasm_v128_load(pb + 2 * q);
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
      v128_t a = wasm_v128_load64_splat(pa + r);
#pragma clang loop unroll(full)
      for (int q = 0; q < NR / 2; q++) c[r][q] = wasm_f64x2_add(c[r][q], wasm_f64x2_mul(a, b[q]));
    }
    pa += MR;
    pb += NR;
  }
  if (mr == MR && nr == NR) {
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
      double *row = C + (long)r * ldc;
#pragma clang loop unroll(full)
      for (int q = 0; q < NR / 2; q++) wasm_v128_store(row + 2 * q, wasm_f64x2_add(wasm_v128_load(row + 2 * q), c[r][q]));
    }
    return;
  }
  double t[MR * NR];
#pragma clang loop unroll(full)
  for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
    for (int q = 0; q < NR / 2; q++) wasm_v128_store(t + r * NR + 2 * q, c[r][q]);
  for (int r = 0; r < mr; r++)
    for (int q = 0; q < nr; q++) C[(long)r * ldc + q] += t[r * NR + q];
}

static void gemm(int m, int n, int k, double alpha, const double *A, long ars, long acs, const double *B, long brs,
                 long bcs, double *C, long ldc, int lower) {
  if (m <= 0 || n <= 0 || k <= 0) return;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = mini(NC, n - jc);
    for (int pc = 0; pc < k; pc += KC) {
      int kc = mini(KC, k - pc);
      /* In lower mode only columns < m matter; rows start where the block reaches the diagonal. */
      pack_b(kc, nc, B + (long)pc * brs + (long)jc * bcs, brs, bcs, g_pack_b);
      int ic0 = 0;
      if (lower) ic0 = (jc / MR) * MR;
      for (int ic = ic0; ic < m; ic += MC) {
        int mc = mini(MC, m - ic);
        pack_a(mc, kc, alpha, A + (long)ic * ars + (long)pc * acs, ars, acs, g_pack_a);
        for (int ir = 0; ir < mc; ir += MR) {
          int mr = mini(MR, mc - ir);
          int jend = nc;
          if (lower) {
            int lim = ic + ir + mr - jc; /* columns jc + j with j < lim intersect the lower triangle */
            if (lim <= 0) continue;
            if (lim < jend) jend = lim;
          }
          const double *pa = g_pack_a + (long)ir * kc;
          double *crow = C + (long)(ic + ir) * ldc + jc;
          for (int jr = 0; jr < jend; jr += NR) {
            kernel(kc, pa, g_pack_b + (long)jr * kc, crow + jr, ldc, mr, mini(NR, nc - jr));
          }
        }
      }
    }
  }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* GEMM entry points for ../gemm.ts. That file runs them in an instance of its own (this layout replaces the      */
/* eigensolver's; gemm_prepare marks it gone so an eigh_run on the same instance refuses instead of misreading).  */

static double *g_ga, *g_gb, *g_gc;

/*
 * Lays out A (na doubles), B (nb), C (nc) and the packing buffers, growing the memory as needed. Returns A's byte
 * offset (B and C at gemm_b(), gemm_c()), or 0 when the memory cannot grow.
 */
__attribute__((export_name("gemm_prepare"))) size_t gemm_prepare(int na, int nb, int nc) {
  size_t top = (size_t)&__heap_base;
  g_ga = (double *)bump(&top, (size_t)na * 8);
  g_gb = (double *)bump(&top, (size_t)nb * 8);
  g_gc = (double *)bump(&top, (size_t)nc * 8);
  g_pack_a = (double *)bump(&top, (size_t)MC * KC * 8);
  g_pack_b = (double *)bump(&top, (size_t)KC * NC * 8);
  g_n = -1;
  size_t have = __builtin_wasm_memory_size(0) * 65536ul;
  if (top > have) {
    size_t pages = (top - have + 65535) / 65536;
    if (__builtin_wasm_memory_grow(0, pages) == (size_t)-1) return 0;
  }
  return (size_t)g_ga;
}
__attribute__((export_name("gemm_b"))) size_t gemm_b(void) { return (size_t)g_gb; }
__attribute__((export_name("gemm_c"))) size_t gemm_c(void) { return (size_t)g_gc; }

/*
 * C (m x n, row-major) += A B with A(i,p) = A[i*ars + p*acs], B(p,j) = B[p*brs + j*bcs], on the buffers laid out by
 * gemm_prepare. lower != 0 (m == n): only the tiles that meet the lower triangle j <= i are computed; the caller
 * reads that triangle. Products and sums are float64 multiplies and adds (no fused multiply-add), as in gemm.ts.
 */
__attribute__((export_name("gemm_run"))) int gemm_run(int m, int n, int k, int ars, int acs, int brs, int bcs, int lower) {
  if (m < 0 || n < 0 || k < 0 || (lower && m != n)) return -2;
  gemm(m, n, k, 1.0, g_ga, ars, acs, g_gb, brs, bcs, g_gc, n, lower);
  return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* 1. Tridiagonalisation                                                                                         */

/* out[0..i) = A[0..i, 0..i] v for the symmetric leading block stored in the lower triangle (row stride lda). Rows
 * go four at a time: the strictly-left part of each row gives a dot product (out[j]) and an axpy (out[k], k < j). */
static void symv_lower(const double *A, long lda, int i, const double *v, double *out) {
  zero(out, i);
  int j = 0;
  for (; j + 4 <= i; j += 4) {
    const double *r0 = A + (long)j * lda, *r1 = r0 + lda, *r2 = r1 + lda, *r3 = r2 + lda;
    v128_t v0 = wasm_f64x2_splat(v[j]), v1 = wasm_f64x2_splat(v[j + 1]);
    v128_t v2 = wasm_f64x2_splat(v[j + 2]), v3 = wasm_f64x2_splat(v[j + 3]);
    v128_t s0 = wasm_f64x2_splat(0), s1 = s0, s2 = s0, s3 = s0;
    int k = 0;
    for (; k + 2 <= j; k += 2) {
      v128_t vk = wasm_v128_load(v + k);
      v128_t x0 = wasm_v128_load(r0 + k), x1 = wasm_v128_load(r1 + k);
      v128_t x2 = wasm_v128_load(r2 + k), x3 = wasm_v128_load(r3 + k);
      s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(x0, vk));
      s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(x1, vk));
      s2 = wasm_f64x2_add(s2, wasm_f64x2_mul(x2, vk));
      s3 = wasm_f64x2_add(s3, wasm_f64x2_mul(x3, vk));
      v128_t o = wasm_f64x2_add(wasm_f64x2_mul(x0, v0), wasm_f64x2_mul(x1, v1));
      v128_t o2 = wasm_f64x2_add(wasm_f64x2_mul(x2, v2), wasm_f64x2_mul(x3, v3));
      wasm_v128_store(out + k, wasm_f64x2_add(wasm_v128_load(out + k), wasm_f64x2_add(o, o2)));
    }
    double t[4];
    t[0] = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
    t[1] = wasm_f64x2_extract_lane(s1, 0) + wasm_f64x2_extract_lane(s1, 1);
    t[2] = wasm_f64x2_extract_lane(s2, 0) + wasm_f64x2_extract_lane(s2, 1);
    t[3] = wasm_f64x2_extract_lane(s3, 0) + wasm_f64x2_extract_lane(s3, 1);
    const double *rows[4] = {r0, r1, r2, r3};
    for (; k < j; k++) { /* odd j: one leftover column */
      for (int q = 0; q < 4; q++) {
        t[q] += rows[q][k] * v[k];
        out[k] += rows[q][k] * v[j + q];
      }
    }
    /* the 4 x 4 diagonal block (lower part, mirrored) */
    for (int q = 0; q < 4; q++) {
      double acc = t[q];
      for (int c = 0; c < 4; c++) acc += (c <= q ? rows[q][j + c] : rows[c][j + q]) * v[j + c];
      out[j + q] += acc;
    }
  }
  for (; j < i; j++) {
    const double *r0 = A + (long)j * lda;
    double vj = v[j], t0 = 0;
    for (int k = 0; k < j; k++) {
      t0 += r0[k] * v[k];
      out[k] += r0[k] * vj;
    }
    out[j] += t0 + r0[j] * vj;
  }
}

static double dot(const double *x, const double *y, int len) {
  v128_t s0 = wasm_f64x2_splat(0), s1 = s0;
  int k = 0;
  for (; k + 4 <= len; k += 4) {
    s0 = wasm_f64x2_add(s0, wasm_f64x2_mul(wasm_v128_load(x + k), wasm_v128_load(y + k)));
    s1 = wasm_f64x2_add(s1, wasm_f64x2_mul(wasm_v128_load(x + k + 2), wasm_v128_load(y + k + 2)));
  }
  s0 = wasm_f64x2_add(s0, s1);
  double s = wasm_f64x2_extract_lane(s0, 0) + wasm_f64x2_extract_lane(s0, 1);
  for (; k < len; k++) s += x[k] * y[k];
  return s;
}

/* y += a*x */
static void axpy(double *y, double a, const double *x, int len) {
  v128_t va = wasm_f64x2_splat(a);
  int k = 0;
  for (; k + 2 <= len; k += 2)
    wasm_v128_store(y + k, wasm_f64x2_add(wasm_v128_load(y + k), wasm_f64x2_mul(va, wasm_v128_load(x + k))));
  for (; k < len; k++) y[k] += a * x[k];
}

/* Euclidean norm of x[0..len) with scaling when the plain sum of squares would under/overflow. */
static double norm2(const double *x, int len) {
  double s = dot(x, x, len);
  if (s > 1e-280 && s < 1e280) return sqrt_(s);
  double m = 0;
  for (int k = 0; k < len; k++) m = max_(m, fabs_(x[k]));
  if (m == 0) return 0;
  double acc = 0, inv = 1 / m;
  for (int k = 0; k < len; k++) {
    double t = x[k] * inv;
    acc += t * t;
  }
  return m * sqrt_(acc);
}

/*
 * Reduces the lower triangle of A (n x n, row-major) to tridiagonal T = Q^T A Q, from the last row up: d[i] = T_ii,
 * e[i] = T_{i,i-1} (i >= 1). Row i of A then holds the Householder vector v_i in columns 0..i-1 (v_i[i-1] = 1),
 * H_i = I - tau[i] v_i v_i^T, and Q = H_{n-1} ... H_1.
 * Each panel of nb rows keeps its update A <- A - V W^T - W V^T pending (applied to a row just before it is reduced,
 * and to matrix-vector products by correction terms), then applies it to the leading block with one GEMM.
 */
static void tridiagonalize(int n, double *A, double *d, double *e, double *tau, double *vw, double *wv) {
  long lda = n;
  int N = n;
  while (N > 1) {
    int nb = mini(NB, N - 1);
    double *V = vw, *W = vw + (long)nb * n; /* V_t = V + t*n, W_t = W + t*n, length N; [V W] contiguous */
    for (int t = 0; t < nb; t++) {
      int i = N - 1 - t;
      double *row = A + (long)i * lda;
      double *vt = V + (long)t * n, *wt = W + (long)t * n;
      for (int s = 0; s < t; s++) {
        const double *vs = V + (long)s * n, *ws = W + (long)s * n;
        axpy(row, -vs[i], ws, i + 1);
        axpy(row, -ws[i], vs, i + 1);
      }
      d[i] = row[i];
      double alpha = row[i - 1];
      double xnorm = norm2(row, i - 1);
      double tu = 0, beta = alpha;
      if (xnorm != 0) {
        beta = -__builtin_copysign(hyp(alpha, xnorm), alpha);
        tu = (beta - alpha) / beta;
        double sc = 1 / (alpha - beta);
        for (int k = 0; k < i - 1; k++) row[k] *= sc;
      }
      e[i] = beta;
      tau[i] = tu;
      row[i - 1] = 1;
      copy(vt, row, i);
      zero(vt + i, N - i);
      zero(wt + i, N - i);
      if (tu == 0) {
        zero(wt, i);
        continue;
      }
      double q0 = PNOW();
      (void)q0;
      symv_lower(A, lda, i, vt, wt);
      PACC(12, q0);
      for (int s = 0; s < t; s++) {
        const double *vs = V + (long)s * n, *ws = W + (long)s * n;
        double a = dot(ws, vt, i), b = dot(vs, vt, i);
        axpy(wt, -a, vs, i);
        axpy(wt, -b, ws, i);
      }
      for (int k = 0; k < i; k++) wt[k] *= tu;
      double al = -0.5 * tu * dot(wt, vt, i);
      axpy(wt, al, vt, i);
    }
    int i0 = N - nb;
    /* A[0:i0, 0:i0] -= [V W] [W; V] (lower): X(r, t) = vw[t*n + r], Y(t, c) = wv[t*n + c]. */
    copy(wv, W, (long)nb * n);
    copy(wv + (long)nb * n, V, (long)nb * n);
    if (i0 <= 8) {
      for (int r = 0; r < i0; r++)
        for (int c = 0; c <= r; c++) {
          double s = 0;
          for (int t = 0; t < nb; t++) s += vw[(long)t * n + r] * W[(long)t * n + c] + W[(long)t * n + r] * vw[(long)t * n + c];
          A[(long)r * lda + c] -= s;
        }
    } else {
      double q1 = PNOW();
      (void)q1;
      gemm(i0, i0, 2 * nb, -1.0, vw, 1, n, wv, n, 1, A, lda, 1);
      PACC(13, q1);
    }
    N = i0;
  }
  d[0] = A[0];
  e[0] = 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* 2. Divide and conquer on the tridiagonal                                                                      */

static double g_tol; /* deflation tolerance: 8 eps ||T|| */

/* Stable merge sort of idx[0..len) by key[idx] ascending; tmp has len entries. */
static void sort_idx(int *idx, int len, const double *key, int *tmp) {
  for (int w = 1; w < len; w *= 2) {
    for (int lo = 0; lo < len; lo += 2 * w) {
      int mid = mini(lo + w, len), hi = mini(lo + 2 * w, len);
      int a = lo, b = mid, o = lo;
      while (a < mid && b < hi) tmp[o++] = key[idx[b]] < key[idx[a]] ? idx[b++] : idx[a++];
      while (a < mid) tmp[o++] = idx[a++];
      while (b < hi) tmp[o++] = idx[b++];
    }
    for (int q = 0; q < len; q++) idx[q] = tmp[q];
  }
}

/* Rows x, y of length len: (x, y) <- (c x - s y, s x + c y). */
static void rot_rows(double *x, double *y, int len, double c, double s) {
  v128_t vc = wasm_f64x2_splat(c), vs = wasm_f64x2_splat(s);
  int k = 0;
  for (; k + 2 <= len; k += 2) {
    v128_t a = wasm_v128_load(x + k), b = wasm_v128_load(y + k);
    wasm_v128_store(x + k, wasm_f64x2_sub(wasm_f64x2_mul(vc, a), wasm_f64x2_mul(vs, b)));
    wasm_v128_store(y + k, wasm_f64x2_add(wasm_f64x2_mul(vs, a), wasm_f64x2_mul(vc, b)));
  }
  for (; k < len; k++) {
    double a = x[k], b = y[k];
    x[k] = c * a - s * b;
    y[k] = s * a + c * b;
  }
}

/*
 * Implicit QL with Wilkinson shifts (EISPACK tql2) on the tridiagonal block [s, s+N): eigenvalues into d[s..],
 * eigenvectors into rows s..s+N-1 of E (columns s..s+N-1), which start as the identity. Returns 0, or -1 when the
 * iteration does not converge.
 */
static int ql_leaf(int s, int N, double *E, long lde, double *d, const double *e, double *dd, double *ee) {
  for (int i = 0; i < N; i++) {
    dd[i] = d[s + i];
    ee[i] = i + 1 < N ? e[s + i + 1] : 0;
    double *row = E + (long)(s + i) * lde + s;
    zero(row, N);
    row[i] = 1;
  }
  double f = 0, tst1 = 0;
  for (int l = 0; l < N; l++) {
    tst1 = max_(tst1, fabs_(dd[l]) + fabs_(ee[l]));
    int m = l;
    while (m < N - 1 && fabs_(ee[m]) > EPS * tst1) m++;
    if (m > l) {
      int iter = 0;
      do {
        if (++iter > 60) return -1;
        double g = dd[l];
        double p = (dd[l + 1] - g) / (2 * ee[l]);
        double r = hyp(p, 1);
        if (p < 0) r = -r;
        dd[l] = ee[l] / (p + r);
        dd[l + 1] = ee[l] * (p + r);
        double dl1 = dd[l + 1];
        double h = g - dd[l];
        for (int i = l + 2; i < N; i++) dd[i] -= h;
        f += h;
        p = dd[m];
        double c = 1, c2 = 1, c3 = 1, sn = 0, s2 = 0;
        double el1 = ee[l + 1];
        for (int i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = sn;
          g = c * ee[i];
          h = c * p;
          r = hyp(p, ee[i]);
          ee[i + 1] = sn * r;
          sn = ee[i] / r;
          c = p / r;
          p = c * dd[i] - sn * g;
          dd[i + 1] = h + sn * (c * g + sn * dd[i]);
          /* column i+1 <- s col_i + c col_{i+1}; col_i <- c col_i - s col_{i+1} (columns are rows of E) */
          double *ri = E + (long)(s + i) * lde + s, *ri1 = ri + lde;
          rot_rows(ri, ri1, N, c, sn);
        }
        p = -sn * s2 * c3 * el1 * ee[l] / dl1;
        ee[l] = sn * p;
        dd[l] = c * p;
      } while (fabs_(ee[l]) > EPS * tst1);
    }
    dd[l] += f;
    ee[l] = 0;
  }
  for (int i = 0; i < N; i++) d[s + i] = dd[i];
  return 0;
}

/* Over j in [from, to): s += w_j^2 / del_j, ds += (w_j / del_j)^2 with del_j = (dl_j - dlo) - t. Two lanes. */
static void sec_sums(const double *dl, const double *w, int from, int to, double dlo, double t, double *s_out,
                     double *ds_out) {
  v128_t vs = wasm_f64x2_splat(0), vds = vs, vo = wasm_f64x2_splat(dlo), vt = wasm_f64x2_splat(t);
  int j = from;
  for (; j + 2 <= to; j += 2) {
    v128_t wj = wasm_v128_load(w + j);
    v128_t del = wasm_f64x2_sub(wasm_f64x2_sub(wasm_v128_load(dl + j), vo), vt);
    v128_t q = wasm_f64x2_div(wj, del);
    vs = wasm_f64x2_add(vs, wasm_f64x2_mul(wj, q));
    vds = wasm_f64x2_add(vds, wasm_f64x2_mul(q, q));
  }
  double s = wasm_f64x2_extract_lane(vs, 0) + wasm_f64x2_extract_lane(vs, 1);
  double ds = wasm_f64x2_extract_lane(vds, 0) + wasm_f64x2_extract_lane(vds, 1);
  for (; j < to; j++) {
    double q = w[j] / ((dl[j] - dlo) - t);
    s += w[j] * q;
    ds += q * q;
  }
  *s_out = s;
  *ds_out = ds;
}

/*
 * Root i (0 <= i < k) of the secular equation 1/rho + sum_j w_j^2 / (dl_j - lambda) = 0 with dl strictly
 * increasing, rho > 0. The root is returned as origin index *org and offset *tau: lambda = dl[org] + tau, so that
 * every dl_j - lambda = (dl_j - dl_org) - tau is accurate. Safeguarded "middle way" iteration (Li): a rational
 * model with the two nearest poles matched in value and derivative, bisection when it leaves the bracket.
 */
static void secular_root(int i, int k, const double *dl, const double *w, double rho, int *org, double *tau) {
  double rinv = 1 / rho;
  int o;
  double lo, hi, t;
  int last = i == k - 1;
  if (!last) {
    double gap = dl[i + 1] - dl[i], mid = 0.5 * gap;
    /* f at the midpoint decides the nearer pole */
    double f1, unused;
    sec_sums(dl, w, 0, k, dl[i], mid, &f1, &unused);
    double f = rinv + f1;
    if (f >= 0) {
      o = i;
      lo = 0;
      hi = mid;
      t = mid;
    } else {
      o = i + 1;
      lo = -mid;
      hi = 0;
      t = -mid;
    }
    if (f == 0) {
      *org = o;
      *tau = t;
      return;
    }
  } else {
    double ww = 0;
    for (int j = 0; j < k; j++) ww += w[j] * w[j];
    o = i;
    lo = 0;
    hi = rho * ww * (1 + 4 * EPS) + 0; /* the root lies in (dl[k-1], dl[k-1] + rho ||w||^2] */
    t = 0.5 * hi;
  }
  double dlo = dl[o];
  for (int it = 0; it < 100; it++) {
    double psi, dpsi, phi, dphi;
    sec_sums(dl, w, 0, i + 1, dlo, t, &psi, &dpsi);
    sec_sums(dl, w, i + 1, k, dlo, t, &phi, &dphi);
    double f = rinv + psi + phi;
    if (f == 0) break;
    if (f > 0) hi = t;
    else lo = t;
    double erretm = 8 * (phi - psi) + 2 * rinv + fabs_(t) * (dpsi + dphi);
    if (fabs_(f) <= EPS * erretm) break;
    if (hi - lo <= 2 * EPS * max_(fabs_(lo), fabs_(hi))) break;
    double a = (dl[i] - dlo) - t, eta;
    int ok = 0;
    if (!last) {
      double b = (dl[i + 1] - dlo) - t;
      double c = f - a * dpsi - b * dphi;
      double A_ = (a + b) * f - a * b * (dpsi + dphi), B_ = a * b * f;
      double disc = sqrt_(fabs_(A_ * A_ - 4 * B_ * c));
      if (c == 0) {
        if (A_ != 0) {
          eta = B_ / A_;
          ok = 1;
        }
      } else if (A_ <= 0) {
        eta = (A_ - disc) / (2 * c);
        ok = 1;
      } else {
        eta = 2 * B_ / (A_ + disc);
        ok = 1;
      }
    } else {
      double c = f - a * dpsi; /* model c + a^2 dpsi / (a - eta) */
      if (c > 0) {
        eta = a + a * a * dpsi / c;
        ok = 1;
      }
    }
    double tn = ok ? t + eta : 0.5 * (lo + hi);
    if (!(tn > lo && tn < hi)) tn = 0.5 * (lo + hi);
    if (tn == t) break;
    t = tn;
  }
  *org = o;
  *tau = t;
}

static int dc_solve(int s, int N, double *E, long lde, double *d, double *e, double *wk, double *sm, int *iw);

/*
 * Merges the solved halves [s, s+n1) and [s+n1, s+N) coupled by beta = e[s+n1] (whose |beta| was taken off
 * d[s+n1-1] and d[s+n1] before the halves were solved). Rows s..s+N-1 of E hold the halves' eigenvectors (any
 * order; eigenvalue of row r in d[r]) and are replaced by the merged problem's, again with eigenvalues in d.
 */
static void dc_merge(int s, int n1, int n2, double beta, double *E, long lde, double *d, double *Q, double *sm,
                     int *iw) {
  int N = n1 + n2;
  double rho = 2 * fabs_(beta);
  double sg = beta < 0 ? -1 : 1;
  const double rs2 = 0.70710678118654752440;
  double *z = sm, *dv = sm + N, *dl = sm + 2 * N, *w = sm + 3 * N, *zh = sm + 4 * N, *tau = sm + 5 * N,
         *dfv = sm + 6 * N;
  int *idx = iw, *tmp = iw + N, *mask = iw + 2 * N, *nd = iw + 3 * N, *df = iw + 4 * N, *pos = iw + 5 * N,
      *org = iw + 6 * N;
  double zmax = 0, dmax = 0;
  for (int r = 0; r < N; r++) {
    const double *row = E + (long)(s + r) * lde + s;
    z[r] = r < n1 ? row[n1 - 1] * rs2 : sg * row[n1] * rs2;
    dv[r] = d[s + r];
    mask[r] = r < n1 ? 1 : 2;
    idx[r] = r;
    zmax = max_(zmax, fabs_(z[r]));
    dmax = max_(dmax, fabs_(dv[r]));
  }
  sort_idx(idx, N, dv, tmp);
  double tol = g_tol;
  int k = 0, nf = 0, pj = -1;
  if (rho * zmax <= tol) {
    /* all deflated: nothing to do (rows keep their vectors, d keeps its values) */
    return;
  }
  for (int q = 0; q < N; q++) {
    int j = idx[q];
    if (rho * fabs_(z[j]) <= tol) {
      df[nf++] = j;
      continue;
    }
    if (pj < 0) {
      pj = j;
      continue;
    }
    double sv = z[pj], cv = z[j];
    double t = hyp(cv, sv);
    double dif = dv[j] - dv[pj];
    cv /= t;
    sv = -sv / t;
    if (fabs_(dif * cv * sv) <= tol) {
      z[j] = t;
      z[pj] = 0;
      double *rp = E + (long)(s + pj) * lde + s, *rj = E + (long)(s + j) * lde + s;
      /* Qp' = c Qp + s Qj ; Qj' = c Qj - s Qp  ==  rot_rows(rj, rp) with (c, s) */
      rot_rows(rj, rp, N, cv, sv);
      double tt = dv[pj] * cv * cv + dv[j] * sv * sv;
      dv[j] = dv[pj] * sv * sv + dv[j] * cv * cv;
      dv[pj] = tt;
      int mm = mask[pj] | mask[j];
      mask[pj] = mm;
      mask[j] = mm;
      df[nf++] = pj;
      pj = j;
    } else {
      nd[k++] = pj;
      pj = j;
    }
  }
  if (pj >= 0) nd[k++] = pj;
  if (k == 0) {
    for (int q = 0; q < nf; q++) d[s + df[q]] = dv[df[q]];
    return;
  }
  sort_idx(nd, k, dv, tmp); /* already ordered up to ties from rotations; keep it strictly safe */
  for (int i = 0; i < k; i++) {
    dl[i] = dv[nd[i]];
    w[i] = z[nd[i]];
  }
  /* positions in type order: top-only, both, bottom-only */
  int k1 = 0, k2 = 0, k3 = 0;
  for (int i = 0; i < k; i++) {
    int m = mask[nd[i]];
    if (m == 1) k1++;
    else if (m == 3) k2++;
    else k3++;
  }
  {
    int p1 = 0, p2 = k1, p3 = k1 + k2;
    for (int i = 0; i < k; i++) {
      int m = mask[nd[i]];
      pos[i] = m == 1 ? p1++ : m == 3 ? p2++ : p3++;
    }
  }
  /* Q rows: non-deflated vectors in type order, then the deflated ones. */
  for (int i = 0; i < k; i++) copy(Q + (long)pos[i] * N, E + (long)(s + nd[i]) * lde + s, N);
  for (int q = 0; q < nf; q++) {
    copy(Q + (long)(k + q) * N, E + (long)(s + df[q]) * lde + s, N);
    dfv[q] = dv[df[q]];
  }
  /* secular equation */
  double *U = Q + (long)N * N; /* k x k, after Q's N x N */
  double p0 = PNOW();
  (void)p0;
  if (k == 1) {
    tau[0] = rho * w[0] * w[0];
    org[0] = 0;
    U[0] = 1;
  } else {
    for (int i = 0; i < k; i++) secular_root(i, k, dl, w, rho, &org[i], &tau[i]);
    /* Gu-Eisenstat: zh_j^2 = -prod_i (dl_j - lambda_i) / (rho prod_{i != j} (dl_j - dl_i)) */
    for (int j = 0; j < k; j++) zh[j] = -((dl[j] - dl[org[j]]) - tau[j]) / rho;
    for (int i = 0; i < k; i++) {
      double dlo = dl[org[i]], ti = tau[i], dli = dl[i];
      for (int j = 0; j < i; j++) zh[j] *= ((dl[j] - dlo) - ti) / (dl[j] - dli);
      for (int j = i + 1; j < k; j++) zh[j] *= ((dl[j] - dlo) - ti) / (dl[j] - dli);
    }
    for (int j = 0; j < k; j++) {
      double v = sqrt_(fabs_(zh[j]));
      zh[j] = w[j] < 0 ? -v : v;
    }
    double *tmpu = dfv + nf; /* k doubles of scratch after the deflated values */
    for (int i = 0; i < k; i++) {
      v128_t vo = wasm_f64x2_splat(dl[org[i]]), vt = wasm_f64x2_splat(tau[i]), vn = wasm_f64x2_splat(0);
      int j = 0;
      for (; j + 2 <= k; j += 2) {
        v128_t del = wasm_f64x2_sub(wasm_f64x2_sub(wasm_v128_load(dl + j), vo), vt);
        v128_t v = wasm_f64x2_div(wasm_v128_load(zh + j), del);
        wasm_v128_store(tmpu + j, v);
        vn = wasm_f64x2_add(vn, wasm_f64x2_mul(v, v));
      }
      double nrm = wasm_f64x2_extract_lane(vn, 0) + wasm_f64x2_extract_lane(vn, 1);
      for (; j < k; j++) {
        double v = zh[j] / ((dl[j] - dl[org[i]]) - tau[i]);
        tmpu[j] = v;
        nrm += v * v;
      }
      double inv = 1 / sqrt_(nrm);
      double *u = U + (long)i * k;
      for (j = 0; j < k; j++) u[pos[j]] = tmpu[j] * inv;
    }
  }
  PACC(5, p0);
  p0 = PNOW();
  /* E rows s..s+k-1 <- U * Q (top columns from types 1-2, bottom columns from types 2-3) */
  for (int i = 0; i < k; i++) zero(E + (long)(s + i) * lde + s, N);
  double *Et = E + (long)s * lde + s;
  if (k1 + k2 > 0) gemm(k, n1, k1 + k2, 1.0, U, k, 1, Q, N, 1, Et, lde, 0);
  if (k2 + k3 > 0) gemm(k, n2, k2 + k3, 1.0, U + k1, k, 1, Q + (long)k1 * N + n1, N, 1, Et + n1, lde, 0);
  PACC(6, p0);
  for (int i = 0; i < k; i++) d[s + i] = dl[org[i]] + tau[i];
  for (int q = 0; q < nf; q++) {
    copy(E + (long)(s + k + q) * lde + s, Q + (long)(k + q) * N, N);
    d[s + k + q] = dfv[q];
  }
}

static int dc_solve(int s, int N, double *E, long lde, double *d, double *e, double *wk, double *sm, int *iw) {
  if (N <= LEAF) {
    double p0 = PNOW();
    (void)p0;
    int rc = ql_leaf(s, N, E, lde, d, e, sm, sm + N);
    PACC(7, p0);
    return rc;
  }
  int n1 = N / 2, n2 = N - n1;
  double beta = e[s + n1];
  d[s + n1 - 1] -= fabs_(beta);
  d[s + n1] -= fabs_(beta);
  if (dc_solve(s, n1, E, lde, d, e, wk, sm, iw)) return -1;
  if (dc_solve(s + n1, n2, E, lde, d, e, wk, sm, iw)) return -1;
  dc_merge(s, n1, n2, beta, E, lde, d, wk, sm, iw);
  return 0;
}

/* ------------------------------------------------------------------------------------------------------------ */
/* 3. Back-transformation: rows x of E (eigenvectors of T) <- Q x = H_{n-1} ... H_1 x.                            */

static void back_transform(int n, const double *A, const double *tau, double *E, double *Yb, double *Wm, double *W2,
                           double *T) {
  for (int lo = 1; lo < n; lo += KB) {
    int hi = mini(lo + KB - 1, n - 1);
    int kb = hi - lo + 1;
    int m = hi; /* support of all vectors in the block: 0..hi-1 */
    double p0 = PNOW();
    (void)p0;
    /* Y columns (forward order): t = 0 <-> H_hi (applied last) ... t = kb-1 <-> H_lo. Yb row t = v, length m. */
    for (int t = 0; t < kb; t++) {
      int i = hi - t;
      double *y = Yb + (long)t * m;
      copy(y, A + (long)i * n, i);
      zero(y + i, m - i);
    }
    /* T upper triangular: P = H(0) H(1) ... H(kb-1) = I - Y T Y^T (dlarft, forward, columnwise) */
    for (int j = 0; j < kb; j++) {
      double tj = tau[hi - j];
      const double *yj = Yb + (long)j * m;
      for (int r = 0; r < j; r++) T[r * KB + j] = -tj * dot(Yb + (long)r * m, yj, hi - j);
      /* T[0:j, j] = T[0:j, 0:j] * T[0:j, j] (upper triangular times vector, in place from the top) */
      for (int r = 0; r < j; r++) {
        double acc = 0;
        for (int q = r; q < j; q++) acc += T[r * KB + q] * T[q * KB + j];
        T[r * KB + j] = acc;
      }
      T[j * KB + j] = tj;
      for (int r = j + 1; r < kb; r++) T[r * KB + j] = 0;
    }
    PACC(8, p0);
    p0 = PNOW();
    /* Wm (n x kb) = E[:, 0:m] Y ; Y(p, t) = Yb[t*m + p] */
    zero(Wm, (long)n * kb);
    gemm(n, kb, m, 1.0, E, n, 1, Yb, 1, m, Wm, kb, 0);
    PACC(9, p0);
    p0 = PNOW();
    /* W2 = Wm T^T (W2 (j) = sum_q Wm(q) T[j][q]; T's zero lower part is included) */
    zero(W2, (long)n * kb);
    gemm(n, kb, kb, 1.0, Wm, kb, 1, T, 1, KB, W2, kb, 0);
    PACC(10, p0);
    p0 = PNOW();
    /* E[:, 0:m] -= W2 Y^T ; Y^T(t, c) = Yb[t*m + c] */
    gemm(n, m, kb, -1.0, W2, kb, 1, Yb, m, 1, E, n, 0);
    PACC(11, p0);
  }
}

/* ------------------------------------------------------------------------------------------------------------ */
/* Driver                                                                                                        */

/* Tridiagonalisation only (for eigenvalues): d at eigh_diag(), e at eigh_offdiag() with e[i] = T_{i,i-1}, e[0] = 0. */
__attribute__((export_name("eigh_tridiag"))) int eigh_tridiag(int n) {
  if (n != g_n || n < 2) return -2;
  tridiagonalize(n, g_a, g_d, g_e, g_tau, g_work, g_work + 2 * NB * (long)n);
  return 0;
}

/*
 * Full eigendecomposition of the n x n lower triangle at eigh_prepare(n)'s offset (n >= 2, finite, scaled so that
 * max |a_ij| <= 1). On success (0) that matrix is replaced by the eigenvectors as columns (row-major, columns in
 * descending eigenvalue order, largest-magnitude entry of each column positive) and eigh_values() holds the
 * eigenvalues, descending. Nonzero: the divide-and-conquer leaf iteration failed to converge.
 */
__attribute__((export_name("eigh_run"))) int eigh_run(int n) {
  if (n != g_n || n < 2) return -2;
  double *A = g_a, *E = g_e_vec, *d = g_d, *e = g_e, *tau = g_tau;
  double *vw = g_work, *wv = g_work + 2 * NB * (long)n; /* wv: [W; V] */
  PROF(0);
#ifdef PROFILE
  for (int q = 5; q < 16; q++) g_prof[q] = 0;
#endif
  tridiagonalize(n, A, d, e, tau, vw, wv);
  double tn = 0;
  for (int i = 0; i < n; i++) tn = max_(tn, fabs_(d[i]) + fabs_(e[i]) + (i + 1 < n ? fabs_(e[i + 1]) : 0));
  g_tol = 8 * HEPS * tn;
  zero(E, (long)n * n);
  /* D&C work: Q (N x N) then U (k x k) in g_work (2 n^2 doubles) */
  PROF(1);
  int rc = dc_solve(0, n, E, n, d, e, g_work, g_small + KB * KB + 64, g_iwork);
  if (rc) return rc;
  PROF(2);
  back_transform(n, A, tau, E, g_work, g_work + (long)n * KB, g_work + 2 * (long)n * KB, g_small);
  PROF(3);
  /* order (descending), signs, transpose into A */
  int *idx = g_iwork, *tmp = g_iwork + n;
  for (int i = 0; i < n; i++) idx[i] = i;
  /* sort ascending by -d, stable: ties keep row order */
  double *negd = g_small + KB * KB + 64;
  for (int i = 0; i < n; i++) negd[i] = -d[i];
  sort_idx(idx, n, negd, tmp);
  double *sgn = negd + n;
  for (int c = 0; c < n; c++) {
    const double *row = E + (long)idx[c] * n;
    double best = 0, bv = 1;
    for (int r = 0; r < n; r++) {
      double a = fabs_(row[r]);
      if (a > best) {
        best = a;
        bv = row[r];
      }
    }
    sgn[c] = bv < 0 ? -1 : 1;
    g_vals[c] = d[idx[c]];
  }
  const int TB = 16;
  for (int c0 = 0; c0 < n; c0 += TB) {
    int c1 = mini(c0 + TB, n);
    for (int r0 = 0; r0 < n; r0 += TB) {
      int r1 = mini(r0 + TB, n);
      for (int c = c0; c < c1; c++) {
        const double *row = E + (long)idx[c] * n;
        double sc = sgn[c];
        for (int r = r0; r < r1; r++) A[(long)r * n + c] = sc * row[r];
      }
    }
  }
  PROF(4);
  return 0;
}

#ifdef PROFILE
/* C (m x n) += A (m x k) B (k x n), all row-major in the scratch; returns nothing (time it from JS). */
__attribute__((export_name("bench_gemm"))) void bench_gemm(int m, int n, int k, int reps) {
  double *A = g_a, *B = g_e_vec, *C = g_work;
  for (int r = 0; r < reps; r++) gemm(m, n, k, 1.0, A, k, 1, B, n, 1, C, n, 0);
}
__attribute__((export_name("bench_tridiag"))) void bench_tridiag(int n) {
  tridiagonalize(n, g_a, g_d, g_e, g_tau, g_work, g_work + 2 * NB * (long)n);
}
#endif
