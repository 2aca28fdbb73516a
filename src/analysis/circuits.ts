/**
 * Attention circuits over the residual stream (ANALYSES.md §5; EAP: Syed, Rager & Conmy 2023; EAP-IG:
 * Hanna, Pezzelle & Belinkov 2024, whose hannamw/EAP-IG we follow for the graph and the selection rules).
 * Pure: the component graph, edge bookkeeping, circuit selection (top-n, greedy), pruning, faithfulness and
 * rank correlation. Running the model (scores, patched forwards) is the engine's job.
 *
 * The component graph of a pre-LN transformer: nodes `input` (embeddings), `a{l}.h{h}` (each head), `m{l}`
 * (each MLP), `logits`. Every node writing to the stream (a *sender*) has an edge to every later node reading
 * it (a *receiver*); heads read on three ports, q, k and v, so an edge into a head names its port. Heads of
 * the same layer do not feed each other (they read the same stream value).
 */
import type { CircuitNode, Port, SizeSearchPoint } from '../shared/results';

export const PORTS: readonly Port[] = ['q', 'k', 'v'];

/** A stream reader: a head's port, an MLP, or the logits. */
export interface Receiver {
  node: string;
  port?: Port;
}

export interface CircuitEdge {
  /** `a0.h1->a1.h1<k>` (the port in angle brackets, as in EAP-IG). */
  id: string;
  from: string;
  to: string;
  port?: Port;
  sender: number;
  receiver: number;
}

/** The layout of the model's stream writes, in execution order (what the engine found in the graph). */
export type ComponentLayout = { kind: 'attn'; layer: number; heads: number } | { kind: 'mlp'; layer: number };

export interface ComponentGraph {
  nodes: CircuitNode[];
  /** Node ids of the senders, in stream order; sender 0 is `input`. */
  senders: string[];
  /** Receivers in stream order; an attention layer's are port-major (q of every head, then k, then v). */
  receivers: Receiver[];
  /** Receiver r reads senders 0 … upstream[r] − 1. */
  upstream: number[];
  /** Edges grouped by receiver, senders ascending: edge offset[r] + s is sender s → receiver r. */
  edges: CircuitEdge[];
  offset: number[];
  /** For each component of the layout: its receivers [start, end) and senders [start, end). */
  groups: { component: ComponentLayout; receivers: [number, number]; senders: [number, number] }[];
}

/** Receivers [start, end) of each component of the layout, then of the logits: the groups gradients and patches are laid out by. */
export function receiverGroups(g: ComponentGraph): [number, number][] {
  return [...g.groups.map((gr) => gr.receivers), [g.receivers.length - 1, g.receivers.length]];
}

export const headId = (layer: number, head: number): string => `a${layer}.h${head}`;
export const mlpId = (layer: number): string => `m${layer}`;

/**
 * Builds the component graph of a layout.
 * @throws RangeError for a layout without components or with a head count < 1
 */
export function buildComponentGraph(layout: readonly ComponentLayout[]): ComponentGraph {
  if (!layout.length) throw new RangeError('the layout has no components');
  const nodes: CircuitNode[] = [{ id: 'input', kind: 'input' }];
  const senders = ['input'];
  const receivers: Receiver[] = [];
  const upstream: number[] = [];
  const groups: ComponentGraph['groups'] = [];
  for (const c of layout) {
    const r0 = receivers.length;
    const s0 = senders.length;
    const avail = senders.length;
    if (c.kind === 'attn') {
      if (!Number.isInteger(c.heads) || c.heads < 1) throw new RangeError(`attention layer ${c.layer}: head count must be ≥ 1, got ${c.heads}`);
      for (let h = 0; h < c.heads; h++) nodes.push({ id: headId(c.layer, h), kind: 'head', layer: c.layer, head: h });
      for (const port of PORTS) {
        for (let h = 0; h < c.heads; h++) {
          receivers.push({ node: headId(c.layer, h), port });
          upstream.push(avail);
        }
      }
      for (let h = 0; h < c.heads; h++) senders.push(headId(c.layer, h));
    } else {
      nodes.push({ id: mlpId(c.layer), kind: 'mlp', layer: c.layer });
      receivers.push({ node: mlpId(c.layer) });
      upstream.push(avail);
      senders.push(mlpId(c.layer));
    }
    groups.push({ component: c, receivers: [r0, receivers.length], senders: [s0, senders.length] });
  }
  nodes.push({ id: 'logits', kind: 'logits' });
  receivers.push({ node: 'logits' });
  upstream.push(senders.length);
  const edges: CircuitEdge[] = [];
  const offset: number[] = [];
  receivers.forEach((r, ri) => {
    offset.push(edges.length);
    for (let s = 0; s < upstream[ri]; s++) {
      edges.push({ id: `${senders[s]}->${r.node}${r.port ? `<${r.port}>` : ''}`, from: senders[s], to: r.node, port: r.port, sender: s, receiver: ri });
    }
  });
  return { nodes, senders, receivers, upstream, edges, offset, groups };
}

/** Edge indices sorted by |score| (descending; ties by index, so the order is deterministic). */
export function rankEdges(scores: ArrayLike<number>, absolute = true): number[] {
  const key = (i: number): number => (absolute ? Math.abs(scores[i]) : scores[i]);
  return Array.from({ length: scores.length }, (_, i) => i).sort((a, b) => key(b) - key(a) || a - b);
}

/** The n edges with the largest |score|. */
export function selectTopN(g: ComponentGraph, scores: ArrayLike<number>, n: number, absolute = true): Uint8Array {
  checkScores(g, scores);
  if (!Number.isInteger(n) || n < 0 || n > g.edges.length) throw new RangeError(`n must be an integer in [0, ${g.edges.length}], got ${n}`);
  const mask = new Uint8Array(g.edges.length);
  for (const e of rankEdges(scores, absolute).slice(0, n)) mask[e] = 1;
  return mask;
}

/**
 * Greedy selection from the logits (EAP-IG's `apply_greedy`): start with the logits; repeatedly add the
 * highest-|score| edge into a node already in the circuit, adding its sender (and that sender's incoming
 * edges to the candidates) when new.
 */
export function selectGreedy(g: ComponentGraph, scores: ArrayLike<number>, n: number, absolute = true): Uint8Array {
  checkScores(g, scores);
  if (!Number.isInteger(n) || n < 0 || n > g.edges.length) throw new RangeError(`n must be an integer in [0, ${g.edges.length}], got ${n}`);
  const key = (i: number): number => (absolute ? Math.abs(scores[i]) : scores[i]);
  const mask = new Uint8Array(g.edges.length);
  const inCircuit = new Set<string>(['logits']);
  const candidates: number[] = [];
  const pushInto = (node: string): void => {
    g.edges.forEach((e, i) => {
      if (e.to === node) candidates.push(i);
    });
  };
  pushInto('logits');
  for (let k = 0; k < n && candidates.length; k++) {
    let best = 0;
    for (let c = 1; c < candidates.length; c++) {
      const a = candidates[c];
      const b = candidates[best];
      if (key(a) > key(b) || (key(a) === key(b) && a < b)) best = c;
    }
    const e = candidates.splice(best, 1)[0];
    mask[e] = 1;
    const from = g.edges[e].from;
    if (!inCircuit.has(from)) {
      inCircuit.add(from);
      pushInto(from);
    }
  }
  return mask;
}

/**
 * Removes edges that cannot matter (EAP-IG's `prune`): repeatedly drops nodes without an incoming circuit
 * edge (except `input`) or without an outgoing one (except `logits`), and the edges touching them. Exact for
 * patching: a sender none of whose inputs is in the circuit outputs its corrupted value anyway, and a node
 * feeding nothing in the circuit is read by no one.
 */
export function pruneCircuit(g: ComponentGraph, mask: Uint8Array): Uint8Array {
  const out = Uint8Array.from(mask);
  for (;;) {
    const hasIn = new Set<string>(['input']);
    const hasOut = new Set<string>(['logits']);
    g.edges.forEach((e, i) => {
      if (!out[i]) return;
      hasIn.add(e.to);
      hasOut.add(e.from);
    });
    let changed = false;
    g.edges.forEach((e, i) => {
      if (!out[i]) return;
      const okFrom = hasIn.has(e.from) && hasOut.has(e.from);
      const okTo = hasIn.has(e.to) && hasOut.has(e.to);
      if (!okFrom || !okTo) {
        out[i] = 0;
        changed = true;
      }
    });
    if (!changed) return out;
  }
}

/** Node ids touched by the circuit's edges (heads, MLPs, input, logits), in graph order. */
export function circuitNodes(g: ComponentGraph, mask: Uint8Array): string[] {
  const s = new Set<string>();
  g.edges.forEach((e, i) => {
    if (mask[i]) {
      s.add(e.from);
      s.add(e.to);
    }
  });
  return g.nodes.map((n) => n.id).filter((id) => s.has(id));
}

/**
 * Normalised faithfulness (m_circuit − m_corrupt) / (m_clean − m_corrupt): 1 = the circuit alone recovers
 * the clean behaviour, 0 = no better than the corrupted run. Undefined (null) when clean = corrupt.
 */
export function faithfulness(metricClean: number, metricCorrupt: number, metricCircuit: number): number | null {
  const d = metricClean - metricCorrupt;
  if (!Number.isFinite(d) || d === 0 || !Number.isFinite(metricCircuit)) return null;
  return (metricCircuit - metricCorrupt) / d;
}

/** Ranks 1…n with ties given their average rank. */
export function ranks(x: ArrayLike<number>): Float64Array {
  const idx = Array.from({ length: x.length }, (_, i) => i).sort((a, b) => x[a] - x[b]);
  const r = new Float64Array(x.length);
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && x[idx[j + 1]] === x[idx[i]]) j++;
    const avg = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) r[idx[k]] = avg;
    i = j + 1;
  }
  return r;
}

/** Pearson correlation of two equal-length samples (NaN when either is constant). */
export function pearson(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`samples differ in length: ${a.length} vs ${b.length}`);
  const n = a.length;
  let ma = 0;
  let mb = 0;
  for (let i = 0; i < n; i++) {
    ma += a[i];
    mb += b[i];
  }
  ma /= n;
  mb /= n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    sab += (a[i] - ma) * (b[i] - mb);
    saa += (a[i] - ma) ** 2;
    sbb += (b[i] - mb) ** 2;
  }
  return sab / Math.sqrt(saa * sbb);
}

/** Spearman's rank correlation (Pearson on average ranks). */
export function spearman(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return pearson(ranks(a), ranks(b));
}

/**
 * The smallest n whose circuit reaches `target` faithfulness, measured by `evaluate(n)`: a doubling sweep
 * (1, 2, 4, …, all) brackets it, then every n in the bracket is measured when it holds ≤ 32 values, else it
 * is bisected (faithfulness is not monotone in n in general; the sweep points are all reported).
 * Returns undefined for `n` when even the full graph misses the target.
 */
export async function smallestCircuit(
  total: number,
  target: number,
  evaluate: (n: number) => Promise<SizeSearchPoint>,
): Promise<{ n?: number; point?: SizeSearchPoint; curve: SizeSearchPoint[] }> {
  const curve: SizeSearchPoint[] = [];
  const seen = new Map<number, SizeSearchPoint>();
  const at = async (n: number): Promise<SizeSearchPoint> => {
    let p = seen.get(n);
    if (!p) {
      p = await evaluate(n);
      seen.set(n, p);
      curve.push(p);
    }
    return p;
  };
  const ok = (p: SizeSearchPoint): boolean => p.faithfulness !== null && p.faithfulness >= target;
  let lo = 0;
  let hi = -1;
  for (let n = 1; ; n = Math.min(total, n * 2)) {
    if (ok(await at(n))) {
      hi = n;
      break;
    }
    lo = n;
    if (n === total) break;
  }
  if (hi < 0) return { curve: curve.sort((a, b) => a.n - b.n) };
  if (hi - lo - 1 <= 32) {
    for (let n = lo + 1; n < hi; n++) {
      if (ok(await at(n))) {
        hi = n;
        break;
      }
    }
  } else {
    while (hi - lo > 1) {
      const mid = Math.floor((lo + hi) / 2);
      if (ok(await at(mid))) hi = mid;
      else lo = mid;
    }
  }
  return { n: hi, point: seen.get(hi), curve: curve.sort((a, b) => a.n - b.n) };
}

function checkScores(g: ComponentGraph, scores: ArrayLike<number>): void {
  if (scores.length !== g.edges.length) throw new RangeError(`expected ${g.edges.length} edge scores, got ${scores.length}`);
}
