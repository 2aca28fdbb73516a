/**
 * The attention circuit (ANALYSES.md §5) as the side panel draws it: the component graph's nodes in stages
 * along the residual stream (input, each layer's heads, its MLP, …, logits), the result's edges with their
 * attribution scores, circuit members emphasised and the rest faded. Pure.
 *
 * "circuit" mode shows exactly `circuit.edges`; "topn" shows the n strongest edges by |score| (circuit members
 * among them still emphasised).
 */
import type { CircuitResultNode, CircuitResult } from '../../shared/results';
import { fmt, pct } from './format';
import type { Controls, VColumn, VEdge, VGraph, VNode } from './model';

/** A stage of the residual stream: one column of the drawing. */
interface Stage {
  key: string;
  label: string;
  kind: CircuitResultNode['kind'];
  layer: number;
}

function stageOf(n: CircuitResultNode): Stage {
  const layer = n.layer ?? 0;
  switch (n.kind) {
    case 'input':
      return { key: 'input', label: 'input', kind: 'input', layer: -1 };
    case 'logits':
      return { key: 'logits', label: 'logits', kind: 'logits', layer: Infinity };
    case 'head':
      return { key: `a${layer}`, label: `attn ${layer}`, kind: 'head', layer };
    case 'mlp':
      return { key: `m${layer}`, label: `mlp ${layer}`, kind: 'mlp', layer };
  }
}

/** input < layer 0's heads < layer 0's MLP < layer 1's heads < … < logits. */
function stageRank(s: Stage): number {
  if (s.kind === 'input') return -1;
  if (s.kind === 'logits') return Number.MAX_SAFE_INTEGER;
  return 2 * s.layer + (s.kind === 'mlp' ? 1 : 0);
}

/** The result's edges by |score|, strongest first (ties in result order), with their 1-based ranks. */
export function rankedEdges(r: CircuitResult): { edge: CircuitResult['edges'][number]; rank: number }[] {
  const idx = [...r.edges.keys()].sort((a, b) => Math.abs(r.edges[b].score) - Math.abs(r.edges[a].score) || a - b);
  return idx.map((i, k) => ({ edge: r.edges[i], rank: k + 1 }));
}

export function circuitDefaults(r: CircuitResult): Controls {
  return { mode: 'circuit', value: Math.max(1, r.circuit.edgeCount), constantEdges: false, expanded: [], folds: [], folded: [], pinned: {} };
}

/** Node box sizes: labels sit inside. */
function boxFor(n: CircuitResultNode): { w: number; h: number } {
  switch (n.kind) {
    case 'input':
    case 'logits':
      return { w: 54, h: 26 };
    case 'head':
      return { w: 50, h: 24 };
    case 'mlp':
      return { w: 44, h: 24 };
  }
}

function describe(n: CircuitResultNode): string {
  switch (n.kind) {
    case 'input':
      return 'input embedding';
    case 'logits':
      return 'logits';
    case 'head':
      return `head ${n.head ?? '?'} of attention layer ${n.layer ?? '?'}`;
    case 'mlp':
      return `MLP of layer ${n.layer ?? '?'}`;
  }
}

export function circuitGraph(r: CircuitResult, c: Controls): VGraph {
  const members = new Set(r.circuit.nodes);
  const stages = new Map<string, Stage>();
  for (const n of r.nodes) {
    const s = stageOf(n);
    if (!stages.has(s.key)) stages.set(s.key, s);
  }
  const ordered = [...stages.values()].sort((a, b) => stageRank(a) - stageRank(b));
  const columnOf = new Map(ordered.map((s, i) => [s.key, i]));
  const ranked = rankedEdges(r);
  const circuitEdges = new Set(r.circuit.edges);
  const visible =
    c.mode === 'topn' ? ranked.slice(0, Math.max(0, Math.floor(c.value))) : ranked.filter((x) => circuitEdges.has(x.edge.id)).sort((a, b) => a.rank - b.rank);
  // Σ|score| in and out of each node over all the run's edges (hover).
  const sumIn = new Map<string, number>();
  const sumOut = new Map<string, number>();
  for (const e of r.edges) {
    sumIn.set(e.to, (sumIn.get(e.to) ?? 0) + Math.abs(e.score));
    sumOut.set(e.from, (sumOut.get(e.from) ?? 0) + Math.abs(e.score));
  }
  const nodes: VNode[] = r.nodes.map((n) => {
    const s = stageOf(n);
    const inCircuit = members.has(n.id);
    const box = boxFor(n);
    return {
      id: n.id,
      kind: n.kind,
      column: columnOf.get(s.key)!,
      order: n.kind === 'head' ? (n.head ?? 0) : 0,
      label: n.id,
      ...box,
      faded: !inCircuit,
      inCircuit,
      ...(n.layer !== undefined ? { layer: n.layer } : {}),
      ...(n.head !== undefined ? { head: n.head } : {}),
      info: [
        `${n.id} · ${describe(n)} · ${inCircuit ? 'in the circuit' : 'not in the circuit'}`,
        `Σ|score| in ${fmt(sumIn.get(n.id) ?? 0)} · out ${fmt(sumOut.get(n.id) ?? 0)} (all ${r.listedEdges} listed edges)`,
      ],
    };
  });
  const edges: VEdge[] = visible.map(({ edge: e, rank }) => ({
    id: e.id,
    source: e.from,
    target: e.to,
    weight: Math.abs(e.score),
    score: e.score,
    ...(e.port ? { port: e.port } : {}),
    inCircuit: e.inCircuit,
    rank,
    count: 1,
    info: [
      `${e.from} → ${e.to}${e.port ? ` (${e.port})` : ''} · score ${fmt(e.score)}`,
      `rank ${rank} of ${r.listedEdges} by |score| · ${e.inCircuit ? 'in the circuit' : 'not in the circuit'}`,
    ],
  }));
  const columns: VColumn[] = ordered.map((s) => ({
    label: s.label,
    info: [s.kind === 'head' ? `attention layer ${s.layer}` : s.kind === 'mlp' ? `MLP of layer ${s.layer}` : s.label],
  }));
  const cc = r.circuit;
  const summary = [
    `${r.method} · ${r.pairs} prompt pairs · ${r.seqLen} tokens`,
    `faithfulness ${fmt(cc.faithfulness)} (target ${fmt(cc.target)}${cc.reachedTarget ? ', reached' : ', not reached'}) · ${cc.edgeCount}/${r.totalEdges} edges (${pct(cc.fraction)}) · ${cc.heads.length} heads`,
    `metric: clean ${fmt(cc.metricClean)} · corrupt ${fmt(cc.metricCorrupt)} · circuit ${fmt(cc.metricCircuit)}`,
    `metric = ${r.metric}`,
  ];
  const status =
    c.mode === 'topn'
      ? `top ${visible.length} of ${r.listedEdges} edges by |score| · ${visible.filter((x) => x.edge.inCircuit).length} in the circuit`
      : `circuit only: ${visible.length} edges`;
  return { kind: 'circuit', columns, nodes, edges, summary, status };
}
