/**
 * The tests' seeded randomness: mulberry32 from src/analysis/stats/random.ts (the generator the analyses and
 * the Python references share), never a local copy, so that every failure reproduces from its seed.
 */
import { mulberry32 } from '../../src/analysis/stats/random';

export { mulberry32 };

/** n float32 values uniform in [lo, hi) from mulberry32(seed). */
export function seededUniform(n: number, seed: number, lo = 0, hi = 1): Float32Array {
  const u = mulberry32(seed);
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = lo + (hi - lo) * u();
  return out;
}
