/**
 * The LIB interaction graph (ANALYSES.md §4) as the side panel draws it, built from the FULL edge matrices
 * `result.edges[k].weights` so the threshold control can show more or fewer edges than the engine's prepared
 * `result.graph`. Pure.
 *
 * The selection is the engine's own rule (src/analysis/lib.ts `buildGraph`), with the share or n from the
 * slider: per adjacent pair, entries sorted by E (ties in row-major order), taken until they hold the share of
 * the pair's mass (the constant direction's row and column excluded), at most `maxEdgesPerPair`, skipping
 * edges that would put more than `maxNodesPerLayer` directions in a layer; each layer then shows those edges'
 * endpoints, filled up to the cap in basis order. At the engine's own share this reproduces `result.graph`
 * exactly (a unit test checks it). The directions beyond the cap are folded into one supernode per layer;
 * expanding it lifts that layer's cap.
 */
import type { LibEdgesResult, LibLayerResult, LibResult } from '../../shared/results';
import { fmt, pct } from './format';
import { shortLayerName, type Controls, type VColumn, type VEdge, type VGraph, type VNode } from './model';

/** One entry E_ij of a pair's matrix: i = direction of the `to` layer (row), j = of the `from` layer (column). */
export interface Candidate {
  i: number;
  j: number;
  v: number;
}

/** The largest top-n a slider offers (per pair): more edges than this are unreadable in a side panel. */
export const TOPN_MAX = 600;

/**
 * A pair's entries with E > 0, sorted by E descending (ties in row-major order, as the engine's stable sort),
 * without row 0 when `skipRow0` and column 0 when `skipCol0` (the constant directions); `total` is their sum.
 */
export function pairCandidates(e: LibEdgesResult, skipRow0: boolean, skipCol0: boolean): { cand: Candidate[]; total: number } {
  const cand: Candidate[] = [];
  let total = 0;
  for (let i = skipRow0 ? 1 : 0; i < e.rows; i++) {
    for (let j = skipCol0 ? 1 : 0; j < e.cols; j++) {
      const v = e.weights[i * e.cols + j];
      total += v;
      if (v > 0) cand.push({ i, j, v });
    }
  }
  cand.sort((a, b) => b.v - a.v);
  return { cand, total };
}

/**
 * The smallest number of a pair's strongest edges holding `share` of its mass: the least k with
 * Σ_{t<k} cand[t].v ≥ share · total (`cand` sorted descending, as {@link pairCandidates} returns it).
 * Matches the engine's `edgeMass` counts (`for90`, `for99`) at 0.9 and 0.99.
 */
export function massCount(cand: readonly Candidate[], total: number, share: number): number {
  if (!(total > 0)) return 0;
  let acc = 0;
  for (let t = 0; t < cand.length; t++) {
    if (acc >= share * total) return t;
    acc += cand[t].v;
  }
  return cand.length;
}

export interface PairSelection {
  /** Indices into `result.layers`. */
  from: number;
  to: number;
  picked: Candidate[];
  /** Edge mass of the pair, constant directions excluded. */
  total: number;
  /** Mass of the picked edges. */
  held: number;
  /** Picked edges of the `from` layer's constant direction (when asked for), outside every statistic. */
  constant: Candidate[];
  /** Candidate count (the top-n slider's range). */
  candidates: number;
}

export interface LibSelection {
  pairs: PairSelection[];
  /** Per layer (index into `result.layers`): the directions shown, constant excluded. */
  nodes: Set<number>[];
}

/** Whether layer `li`'s direction 0 is the constant (bias) direction kept out of the statistics. */
function excludesConstant(r: LibResult, li: number): boolean {
  return !!r.layers[li]?.folded && !r.graph.threshold.includesConstant;
}

/** The selection behind {@link libGraph}: which edges and directions the controls show. */
export function selectLib(r: LibResult, c: Pick<Controls, 'mode' | 'value' | 'expanded' | 'constantEdges'>): LibSelection {
  const t = r.graph.threshold;
  const index = new Map(r.layers.map((l, i) => [l.name, i]));
  const used = r.layers.map(() => new Set<number>());
  const expanded = new Set(c.expanded);
  const cap = (li: number): number => (expanded.has(li) ? Infinity : t.maxNodesPerLayer);
  const topn = c.mode === 'topn';
  const share = topn ? Infinity : c.value;
  const maxEdges = topn ? Math.max(0, Math.floor(c.value)) : t.maxEdgesPerPair;
  const pairs: PairSelection[] = [];
  for (const e of r.edges) {
    const lo = index.get(e.from);
    const hi = index.get(e.to);
    if (lo === undefined || hi === undefined) continue;
    const { cand, total } = pairCandidates(e, excludesConstant(r, hi), excludesConstant(r, lo));
    const picked: Candidate[] = [];
    let acc = 0;
    for (const x of cand) {
      if (picked.length >= maxEdges) break;
      if (acc >= share * total) break;
      if (used[lo].size >= cap(lo) && !used[lo].has(x.j)) continue;
      if (used[hi].size >= cap(hi) && !used[hi].has(x.i)) continue;
      picked.push(x);
      used[lo].add(x.j);
      used[hi].add(x.i);
      acc += x.v;
    }
    pairs.push({ from: lo, to: hi, picked, total, held: acc, constant: [], candidates: cand.length });
  }
  const nodes = r.layers.map((l, li) => {
    const ids = used[li];
    for (let i = excludesConstant(r, li) ? 1 : 0; i < l.lambdas.length && ids.size < cap(li); i++) ids.add(i);
    return ids;
  });
  if (c.constantEdges) {
    // The constant direction's own edges, chosen by the same rule within their own mass, to shown directions only.
    for (const p of pairs) {
      if (!excludesConstant(r, p.from)) continue;
      const e = r.edges.find((x) => index.get(x.from) === p.from && index.get(x.to) === p.to)!;
      const cand: Candidate[] = [];
      let total = 0;
      for (let i = excludesConstant(r, p.to) ? 1 : 0; i < e.rows; i++) {
        const v = e.weights[i * e.cols];
        total += v;
        if (v > 0 && nodes[p.to].has(i)) cand.push({ i, j: 0, v });
      }
      cand.sort((a, b) => b.v - a.v);
      const n = topn ? Math.min(maxEdges, cand.length) : Math.min(maxEdges, massCount(cand, total, share));
      p.constant = cand.slice(0, n);
    }
  }
  return { pairs, nodes };
}

/** Default controls for a LIB run: the engine's own share (the prepared graph). */
export function libDefaults(r: LibResult): Controls {
  return { mode: 'mass', value: r.graph.threshold.massFraction, constantEdges: false, expanded: [], folds: [], folded: [], pinned: {}, };
}

/** The top-n slider's range for a run: 1 … the largest pair's candidate count (at most {@link TOPN_MAX}). */
export function libTopnMax(r: LibResult): number {
  let m = 1;
  for (const e of r.edges) m = Math.max(m, e.rows * e.cols);
  return Math.min(TOPN_MAX, m);
}

/** Node diameter ∝ log Λ over the run's range of Λ (min 14, max 34 model units). */
export function lambdaScale(layers: readonly LibLayerResult[]): (lambda: number) => number {
  let lo = Infinity;
  let hi = -Infinity;
  for (const l of layers) {
    for (let i = l.folded ? 1 : 0; i < l.lambdas.length; i++) {
      const v = l.lambdas[i];
      if (v > 0) {
        lo = Math.min(lo, Math.log(v));
        hi = Math.max(hi, Math.log(v));
      }
    }
  }
  return (lambda) => {
    if (!(lambda > 0) || !Number.isFinite(lo)) return 14;
    const t = hi > lo ? (Math.log(lambda) - lo) / (hi - lo) : 1;
    return 14 + 20 * Math.max(0, Math.min(1, t));
  };
}

/** Column order: `nodeLayers.names`, then any layer the list misses, as indices into `result.layers`. */
export function libColumnOrder(r: LibResult): number[] {
  const index = new Map(r.layers.map((l, i) => [l.name, i]));
  const order: number[] = [];
  for (const n of r.nodeLayers?.names ?? []) {
    const i = index.get(n);
    if (i !== undefined && !order.includes(i)) order.push(i);
  }
  r.layers.forEach((_, i) => {
    if (!order.includes(i)) order.push(i);
  });
  return order;
}

/** One drawn LIB edge (E = `weight`) from node `source` to node `target`; `constant` marks a constant direction's. */
function edge(source: string, target: string, weight: number, constant: boolean, info: string[]): VEdge {
  return { id: `${source}->${target}`, source, target, weight, ...(constant ? { constant: true } : {}), count: 1, info };
}

/** The visible LIB graph for the controls (before user folds; fold.ts applies those). */
export function libGraph(r: LibResult, c: Controls): VGraph {
  const sel = selectLib(r, c);
  const order = libColumnOrder(r);
  const columnOf = new Map(order.map((li, col) => [li, col]));
  const size = lambdaScale(r.layers);
  const expanded = new Set(c.expanded);
  const nodes: VNode[] = [];
  const columns: VColumn[] = [];
  const rankOf = r.layers.map((l, li) => {
    const idx = [...l.lambdas.keys()].filter((i) => !(excludesConstant(r, li) && i === 0));
    idx.sort((a, b) => l.lambdas[b] - l.lambdas[a] || a - b);
    return { rank: new Map(idx.map((i, k) => [i, k + 1])), count: idx.length };
  });
  const short = r.layers.map((l) => shortLayerName(l.name));
  for (const li of order) {
    const l = r.layers[li];
    const col = columnOf.get(li)!;
    const shown = sel.nodes[li];
    const hidden: number[] = [];
    for (let i = excludesConstant(r, li) ? 1 : 0; i < l.lambdas.length; i++) if (!shown.has(i)) hidden.push(i);
    const outPair = sel.pairs.find((p) => p.from === li);
    const edgeInfo = r.edges.find((e) => e.from === l.name);
    columns.push({
      label: expanded.has(li) && l.lambdas.length > r.graph.threshold.maxNodesPerLayer ? `${short[li]} (all)` : short[li],
      layer: li,
      expanded: expanded.has(li),
      info: [
        l.name,
        `dim ${fmt(l.dim)} · rank ${fmt(l.rank)} · ${fmt(l.effectiveFeatures)} effective features (Λ > 1e-3·Λmax${l.folded ? ', constant excluded' : ''})`,
        ...(edgeInfo && outPair
          ? [
              `→ ${short[outPair.to]}: edge mass ${fmt(outPair.total)}${edgeInfo.for90 !== undefined ? ` · ${fmt(edgeInfo.for90)} edges hold 90%, ${fmt(edgeInfo.for99 ?? null)} hold 99%` : ''}`,
              `shown: ${outPair.picked.length} edges holding ${pct(outPair.total > 0 ? outPair.held / outPair.total : null)}`,
            ]
          : []),
        ...(expanded.has(li) ? ['Click the layer name to fold the extra directions back.'] : []),
      ],
    });
    if (excludesConstant(r, li)) {
      const lam = l.lambdas[0];
      const s = size(lam);
      nodes.push({
        id: `${li}:0`,
        kind: 'constant',
        column: col,
        order: -1,
        label: 'c',
        w: s,
        h: s,
        layer: li,
        index: 0,
        lambda: lam,
        info: [`${short[li]} · constant direction (the folded bias)`, `Λ = ${fmt(lam)} · excluded from edge-mass statistics`],
      });
    }
    const dirs = [...shown].sort((a, b) => l.lambdas[b] - l.lambdas[a] || a - b);
    dirs.forEach((i, k) => {
      const lam = l.lambdas[i];
      const s = size(lam);
      const rk = rankOf[li].rank.get(i)!;
      nodes.push({
        id: `${li}:${i}`,
        kind: 'direction',
        column: col,
        order: k,
        label: String(i),
        w: s,
        h: s,
        layer: li,
        index: i,
        lambda: lam,
        rank: rk,
        info: [`${short[li]} · LIB direction ${i}`, `Λ = ${fmt(lam)} · rank ${rk} of ${rankOf[li].count} by Λ`],
      });
    });
    if (hidden.length && !expanded.has(li)) {
      let sum = 0;
      for (const i of hidden) sum += l.lambdas[i];
      nodes.push({
        id: `more:${li}`,
        kind: 'overflow',
        column: col,
        order: dirs.length,
        label: `+${hidden.length}`,
        w: 38,
        h: 24,
        layer: li,
        lambda: sum,
        members: hidden.map((i) => `${li}:${i}`),
        info: [`+${hidden.length} directions of ${short[li]}, ΣΛ = ${fmt(sum)}`, 'Beyond the node cap; click to expand.'],
      });
    }
  }
  const edges: VEdge[] = [];
  const lamOf = (li: number, i: number): number => r.layers[li].lambdas[i];
  for (const p of sel.pairs) {
    for (const x of p.picked) {
      edges.push(
        edge(`${p.from}:${x.j}`, `${p.to}:${x.i}`, x.v, false, [
          `E = ${fmt(x.v)} · ${pct(p.total > 0 ? x.v / p.total : null)} of the pair's mass`,
          `${short[p.from]} ${x.j} (Λ ${fmt(lamOf(p.from, x.j))}) → ${short[p.to]} ${x.i} (Λ ${fmt(lamOf(p.to, x.i))})`,
        ]),
      );
    }
    for (const x of p.constant) {
      edges.push(edge(`${p.from}:0`, `${p.to}:${x.i}`, x.v, true, [`E = ${fmt(x.v)} · from the constant direction (outside the mass statistics)`, `${short[p.from]} c → ${short[p.to]} ${x.i}`]));
    }
  }
  let total = 0;
  let held = 0;
  let picked = 0;
  for (const p of sel.pairs) {
    total += p.total;
    held += p.held;
    picked += p.picked.length;
  }
  const t = r.graph.threshold;
  const status =
    c.mode === 'topn'
      ? `top ${Math.floor(c.value)} per pair · ${picked} edges hold ${pct(total > 0 ? held / total : null)} of the mass`
      : `${pct(c.value)} of mass per pair (≤ ${t.maxEdgesPerPair}) · ${picked} edges hold ${pct(total > 0 ? held / total : null)}`;
  const summary = [
    `LIB interaction graph · ${r.layers.length} node layers · ${fmt(r.samples)} samples${r.positions > 1 ? ` × ${fmt(r.positions)} positions` : ''}`,
    `${fmt(r.edgesFor90)} edges hold 90% of the mass, ${fmt(r.edgesFor99)} hold 99% (constant excluded)${r.pca ? ` · PCA basis: ${fmt(r.pca.edgesFor90)} / ${fmt(r.pca.edgesFor99)}` : ''}`,
  ];
  return { kind: 'lib', columns, nodes, edges, summary, status };
}
