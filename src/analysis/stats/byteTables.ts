/**
 * Byte-table kernels for linear functions of binary codes. For a 0/1 vector x and a real vector w, x·w is the
 * sum over the code's bytes of T_b[byte] with T_b[v] = Σ_{bits t of v} w[8b + t]: ⌈bits/8⌉ table look-ups
 * instead of `bits` multiply-adds, after 256 additions per byte position to build the tables. The transpose
 * (Σ_i r_i x_i) is the mirror image: a histogram of r by (byte position, byte value), then
 * {@link expandByteHistogram}. K-means distances and logistic-regression gradients on codes both use them.
 */

/** Bytes that hold `bits` bits. */
export const bytesFor = (bits: number): number => Math.ceil(bits / 8);

/**
 * Fills `out` (nb·256, at `offset`) with the byte tables of w (length ≥ bits; positions ≥ bits count as 0):
 * out[offset + b·256 + v] = Σ_{t: bit t of v set, 8b+t < bits} w[8b + t].
 */
export function buildByteTables(w: ArrayLike<number>, bits: number, out: Float64Array, offset = 0): void {
  const nb = bytesFor(bits);
  for (let b = 0; b < nb; b++) {
    const o = offset + b * 256;
    out[o] = 0;
    const base = 8 * b;
    for (let t = 0; t < 8; t++) {
      const wt = base + t < bits ? w[base + t] : 0;
      const lo = 1 << t;
      // Values with highest bit t: v = lo + u for u < lo, each one more bit than u.
      for (let u = 0; u < lo; u++) out[o + lo + u] = out[o + u] + wt;
    }
  }
}

/**
 * From a histogram h (nb·256: h[b·256 + v] = total weight of rows whose byte b equals v) to per-bit sums:
 * out[8b + t] = Σ_{v with bit t set} h[b·256 + v], for 8b + t < bits. `out` is overwritten.
 */
export function expandByteHistogram(h: Float64Array, bits: number, out: Float64Array, hOffset = 0): void {
  const nb = bytesFor(bits);
  for (let b = 0; b < nb; b++) {
    const o = hOffset + b * 256;
    for (let t = 0; t < 8 && 8 * b + t < bits; t++) {
      const m = 1 << t;
      let s0 = 0, s1 = 0;
      // v runs over the 128 byte values with bit t set, in increasing order; two partial sums.
      for (let v = m; v < 256; v = (v + 1) | m) {
        s0 += h[o + v];
        v = (v + 1) | m;
        s1 += h[o + v];
      }
      out[8 * b + t] = s0 + s1;
    }
  }
}
