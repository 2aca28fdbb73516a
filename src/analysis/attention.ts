/**
 * Attention sparsity (Draye, Lei, Pan, Posner & Schölkopf 2025, "Sparse attention post-training for
 * mechanistic interpretability"; ANALYSES.md §5). Pure: attention weights in, plain result objects out.
 *
 * Conventions (the published code differs; these are ours, and the result labels them):
 * - Positions are the attention's key axis. A block is causal (decoders: key j ≤ query i) or full (encoders,
 *   vision and speech transformers: every key of every query; {@link LayerShape}). Only pairs between valid
 *   positions count: padding given as a token mask, and keys the model itself masked out (given per prompt as
 *   `keyValid`). A prompt's pairs are Σ_i n_i with n_i = the number of valid keys of query i (T(T+1)/2 for a
 *   causal block without padding, Tq·Tk for a full one).
 * - **connectivity** (gated models only): A_ij = 1[S_ij + b_gate > 0] with S = QKᵀ/√d_h before masking;
 *   #active causal pairs / #causal pairs, per prompt, averaged over prompts.
 * - **fractionAbove** ε (default 0.01) and **fractionAboveInvT** (ε = 1/T): #causal pairs with weight > ε /
 *   #causal pairs, per prompt, averaged over prompts (the dense proxy of connectivity, same normalisation).
 * - **keysFor90 / keysFor99**: per query, the fewest keys whose largest weights sum to ≥ 90% (99%) of the
 *   row's mass (summed in float64, largest first), divided by n_i; averaged over valid queries.
 * - **entropyKeys**: exp(H) with H the entropy of the row renormalised to its mass (softmax rows have mass
 *   1; gated rows are not renormalised by the model, so we renormalise for the entropy only); not
 *   normalised by n_i; averaged over valid queries.
 * - **sinkMass**: the weight on the first valid key, averaged over the valid queries after it (causal) or
 *   over every other valid query (full).
 * Per layer = mean over its heads; global = mean over all heads. Compare models only at equal T.
 */
import type { HeadSparsity, LayerSparsity, SparsityMetrics, SparsityResult, TokenGraph } from '../shared/results';

/** The query and key lengths of one layer's weights, and whether only keys j ≤ i count (causal). */
export interface LayerShape {
  queries: number;
  keys: number;
  causal: boolean;
}

export interface SparsityOptions {
  /** Sequence length T: the keys of the first layer (every layer's queries = keys = T, causal, without `layers`). */
  seqLen: number;
  /** Per layer: query and key lengths and the pair rule (default: T × T, causal). */
  layers?: LayerShape[];
  /** Heads per layer. */
  heads: number[];
  /** ε for fractionAbove (default 0.01). */
  epsilon?: number;
  /** b_gate: when given, connectivity is computed from the scores S. */
  gateBias?: number;
}

class HeadAcc {
  prompts = 0;
  fracSum = 0;
  fracInvTSum = 0;
  connSum = 0;
  queries = 0;
  k90 = 0;
  k99 = 0;
  entropyKeys = 0;
  sinkSum = 0;
  sinkCount = 0;
}

/** The fewest of `sorted` (descending) summing to ≥ `frac` of their total, accumulated in float64. */
function keysFor(sorted: Float64Array, n: number, total: number, frac: number): number {
  const target = frac * total;
  let s = 0;
  for (let k = 0; k < n; k++) {
    s += sorted[k];
    if (s >= target) return k + 1;
  }
  return n;
}

/**
 * Accumulates the sparsity proxies over batches of attention weights, layer by layer, without keeping the
 * weights. Feed every layer of every batch, then call {@link result}.
 */
export class SparsityAccumulator {
  private readonly acc: HeadAcc[][];
  private readonly T: number;
  private readonly shapes: LayerShape[];
  private readonly eps: number;
  private readonly row: Float64Array;
  private promptsSeen = 0;
  private queriesSeen = 0;

  constructor(private readonly opts: SparsityOptions) {
    if (!Number.isInteger(opts.seqLen) || opts.seqLen < 1) throw new RangeError(`seqLen must be a positive integer, got ${opts.seqLen}`);
    this.T = opts.seqLen;
    this.eps = opts.epsilon ?? 0.01;
    if (!(this.eps >= 0 && this.eps < 1)) throw new RangeError(`epsilon must be in [0, 1), got ${this.eps}`);
    this.acc = opts.heads.map((h) => Array.from({ length: h }, () => new HeadAcc()));
    this.shapes = opts.heads.map((_, l) => opts.layers?.[l] ?? { queries: this.T, keys: this.T, causal: true });
    if (opts.layers && opts.layers.length !== opts.heads.length) throw new RangeError(`${opts.layers.length} layer shapes for ${opts.heads.length} layers`);
    for (const [l, sh] of this.shapes.entries()) {
      if (!(Number.isInteger(sh.queries) && sh.queries >= 1 && Number.isInteger(sh.keys) && sh.keys >= 1)) throw new RangeError(`layer ${l}: queries and keys must be positive integers, got ${sh.queries} × ${sh.keys}`);
      if (sh.causal && sh.queries !== sh.keys) throw new RangeError(`layer ${l}: a causal layer needs as many queries as keys, got ${sh.queries} × ${sh.keys}`);
    }
    this.row = new Float64Array(Math.max(...this.shapes.map((sh) => sh.keys), this.T));
  }

  /**
   * Adds one layer of one batch.
   * @param probs attention weights, C order [B, H, Tq, Tk] (query i, key j); rows need not sum to 1 (gated)
   * @param valid optional [B, T] token mask, 1 = a real token, for queries and keys (needs Tq = Tk; default: all valid)
   * @param scores optional [B, H, Tq, Tk] scaled scores S (needed for connectivity when a gate bias is set)
   * @param countPrompts true for the first layer of each batch (prompt and query totals count once)
   * @param keyValid optional [B, Tk] mask of the keys the model attends to (0 = masked by the model)
   * @throws RangeError on shape mismatches or non-finite weights
   */
  add(
    layer: number,
    probs: Float32Array | Float64Array,
    shape: readonly number[],
    valid?: Uint8Array,
    scores?: Float32Array | Float64Array,
    countPrompts = layer === 0,
    keyValid?: Uint8Array,
  ): void {
    const [B, H, Tq, Tk] = shape;
    if (!this.acc[layer]) throw new RangeError(`layer ${layer} is out of range (${this.acc.length} layers)`);
    const { queries, keys, causal } = this.shapes[layer];
    if (shape.length !== 4 || Tq !== queries || Tk !== keys) throw new RangeError(`layer ${layer}: expected weights of shape [B, H, ${queries}, ${keys}], got [${shape.join(', ')}]`);
    if (H !== this.acc[layer].length) throw new RangeError(`layer ${layer}: expected ${this.acc[layer].length} heads, got ${H}`);
    if (probs.length !== B * H * Tq * Tk) throw new RangeError(`layer ${layer}: ${probs.length} weights for shape [${shape.join(', ')}]`);
    if (valid && Tq !== Tk) throw new RangeError(`layer ${layer}: a token mask needs as many queries as keys, got ${Tq} × ${Tk}`);
    if (valid && valid.length !== B * Tk) throw new RangeError(`valid mask has ${valid.length} entries, expected ${B * Tk}`);
    if (keyValid && keyValid.length !== B * Tk) throw new RangeError(`key mask has ${keyValid.length} entries, expected ${B * Tk}`);
    const gate = this.opts.gateBias;
    if (gate !== undefined && (!scores || scores.length !== probs.length)) throw new RangeError(`layer ${layer}: a gate bias needs scores of the weights' shape`);
    const invT = 1 / Tk;
    const row = this.row;
    for (let b = 0; b < B; b++) {
      const queryValid = (t: number): boolean => !valid || valid[b * Tq + t] !== 0;
      const isKey = (t: number): boolean => (!valid || valid[b * Tk + t] !== 0) && (!keyValid || keyValid[b * Tk + t] !== 0);
      let first = -1;
      for (let t = 0; t < Tk; t++) if (isKey(t)) { first = t; break; }
      if (first < 0) continue;
      if (countPrompts) {
        this.promptsSeen++;
        for (let i = 0; i < Tq; i++) if (queryValid(i)) this.queriesSeen++;
      }
      for (let h = 0; h < H; h++) {
        const a = this.acc[layer][h];
        const base = ((b * H + h) * Tq) * Tk;
        let pairs = 0;
        let above = 0;
        let aboveInvT = 0;
        let active = 0;
        for (let i = 0; i < Tq; i++) {
          if (!queryValid(i)) continue;
          let n = 0;
          const last = causal ? i : Tk - 1;
          for (let j = 0; j <= last; j++) {
            if (!isKey(j)) continue;
            const p = probs[base + i * Tk + j];
            if (!Number.isFinite(p)) throw new RangeError(`layer ${layer} head ${h}: non-finite attention weight ${p} (prompt ${b}, query ${i}, key ${j})`);
            row[n++] = p;
            if (p > this.eps) above++;
            if (p > invT) aboveInvT++;
            if (gate !== undefined && (scores as Float32Array)[base + i * Tk + j] + gate > 0) active++;
          }
          if (n === 0) continue;
          pairs += n;
          const sorted = row.subarray(0, n).sort().reverse();
          // the mass as the same float64 sum, largest first, that keysFor accumulates
          let mass = 0;
          for (let k = 0; k < n; k++) mass += sorted[k];
          a.k90 += keysFor(sorted, n, mass, 0.9) / n;
          a.k99 += keysFor(sorted, n, mass, 0.99) / n;
          let H_ = 0;
          if (mass > 0) {
            for (let k = 0; k < n; k++) {
              const q = sorted[k] / mass;
              if (q > 0) H_ -= q * Math.log(q);
            }
          }
          a.entropyKeys += Math.exp(H_);
          a.queries++;
          // the sink is the first valid key; its own row (causal: every row before it) is not counted
          if (causal ? i > first : !(Tq === Tk && i === first)) {
            a.sinkSum += probs[base + i * Tk + first];
            a.sinkCount++;
          }
        }
        if (pairs === 0) continue;
        a.prompts++;
        a.fracSum += above / pairs;
        a.fracInvTSum += aboveInvT / pairs;
        if (gate !== undefined) a.connSum += active / pairs;
      }
    }
  }

  result(): SparsityResult {
    const gate = this.opts.gateBias;
    const heads: HeadSparsity[] = [];
    const layers: LayerSparsity[] = [];
    this.acc.forEach((hs, layer) => {
      const per = hs.map((a, head) => ({ layer, head, ...metricsOf(a, gate !== undefined) }));
      heads.push(...per);
      layers.push({ layer, heads: hs.length, ...meanMetrics(per, gate !== undefined) });
    });
    return {
      heads,
      layers,
      global: meanMetrics(heads, gate !== undefined),
      prompts: this.promptsSeen,
      queries: this.queriesSeen,
      seqLen: this.T,
      epsilon: this.eps,
      ...(gate !== undefined ? { gateBias: gate } : {}),
    };
  }
}

function metricsOf(a: HeadAcc, gated: boolean): SparsityMetrics {
  const m: SparsityMetrics = {
    fractionAbove: a.prompts ? a.fracSum / a.prompts : 0,
    fractionAboveInvT: a.prompts ? a.fracInvTSum / a.prompts : 0,
    keysFor90: a.queries ? a.k90 / a.queries : 0,
    keysFor99: a.queries ? a.k99 / a.queries : 0,
    entropyKeys: a.queries ? a.entropyKeys / a.queries : 0,
    sinkMass: a.sinkCount ? a.sinkSum / a.sinkCount : 0,
  };
  if (gated) return { connectivity: a.prompts ? a.connSum / a.prompts : 0, ...m };
  return m;
}

const KEYS = ['connectivity', 'fractionAbove', 'fractionAboveInvT', 'keysFor90', 'keysFor99', 'entropyKeys', 'sinkMass'] as const;

function meanMetrics(xs: SparsityMetrics[], gated: boolean): SparsityMetrics {
  const out: Record<string, number> = {};
  for (const k of KEYS) {
    if (k === 'connectivity' && !gated) continue;
    out[k] = xs.length ? xs.reduce((s, x) => s + (x[k] ?? 0), 0) / xs.length : 0;
  }
  return out as unknown as SparsityMetrics;
}

/**
 * The token-level attention graph of one prompt for one layer: every causal pair (j ≤ i, both valid; every
 * pair of valid positions when `causal` is false) with weight ≥ `threshold`, per head.
 * @param probs [H, T, T] weights of this prompt (C order)
 */
export function tokenGraphLayer(
  layer: number,
  probs: Float32Array | Float64Array,
  H: number,
  T: number,
  threshold: number,
  valid?: Uint8Array,
  causal = true,
): TokenGraph['heads'] {
  if (probs.length !== H * T * T) throw new RangeError(`expected ${H * T * T} weights ([${H}, ${T}, ${T}]), got ${probs.length}`);
  const out: TokenGraph['heads'] = [];
  for (let h = 0; h < H; h++) {
    const edges: { from: number; to: number; weight: number }[] = [];
    for (let i = 0; i < T; i++) {
      if (valid && !valid[i]) continue;
      for (let j = 0; j <= (causal ? i : T - 1); j++) {
        if (valid && !valid[j]) continue;
        const w = probs[(h * T + i) * T + j];
        if (w >= threshold) edges.push({ from: j, to: i, weight: w });
      }
    }
    out.push({ layer, head: h, edges });
  }
  return out;
}
