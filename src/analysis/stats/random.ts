/**
 * Seeded randomness shared with the Python reference (scripts/reference/analyses_i.py implements the same two
 * functions bit for bit), so that random chunks and restarts are reproducible across implementations.
 */

/**
 * mulberry32: a 32-bit PRNG returning uniforms in [0, 1) with 32 random bits each. Small, fast and trivially
 * portable (every step is a 32-bit integer operation), which is why it was chosen over a better generator.
 */
export function mulberry32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/**
 * `k` distinct indices out of 0..n−1 by a partial Fisher–Yates shuffle of the identity (index i swaps with
 * i + ⌊u·(n − i)⌋): uniformly random, in the order drawn.
 * @throws RangeError if k > n or either is negative.
 */
export function sampleWithoutReplacement(n: number, k: number, rand: () => number): Int32Array {
  if (!(Number.isInteger(n) && Number.isInteger(k) && k >= 0 && k <= n)) {
    throw new RangeError(`expected 0 ≤ k ≤ n (integers), found k = ${k}, n = ${n}`);
  }
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  for (let i = 0; i < k; i++) {
    const j = i + Math.floor(rand() * (n - i));
    const t = perm[i];
    perm[i] = perm[j];
    perm[j] = t;
  }
  return perm.slice(0, k);
}
