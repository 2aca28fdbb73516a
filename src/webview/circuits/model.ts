/**
 * What the circuits side panel draws, as plain data: the visible graph of a run (nodes, edges, columns) and
 * the user's controls for it. Pure (no DOM, no cytoscape): libGraph.ts, circuitGraph.ts and groupsGraph.ts
 * build a {@link VGraph} from a result and {@link Controls}; fold.ts folds nodes into supernodes; layout.ts
 * places them.
 * The unit tests run all of it in plain Node on the real CLI envelopes.
 */
import type { CircuitResult, LibResult, RedundancyResult, RunRecord } from '../../shared/results';
import { isSeries } from '../../shared/results';

export type GraphKind = 'lib' | 'circuit' | 'groups';

export type NodeKind =
  /** A LIB direction of a node layer. */
  | 'direction'
  /** The constant (bias) direction of a folded LIB layer: drawn, marked, never counted in edge mass. */
  | 'constant'
  /** The directions beyond the per-layer node cap, as one supernode (expandable). */
  | 'overflow'
  /** Nodes the user folded together. */
  | 'fold'
  | 'input'
  | 'head'
  | 'mlp'
  | 'logits'
  /** A unit (neuron) of the redundancy layer. */
  | 'unit'
  /** A redundancy group drawn as a box around its units (a compound node). */
  | 'group'
  /** A redundancy group folded into one node. */
  | 'foldedGroup';

export interface VNode {
  id: string;
  kind: NodeKind;
  /** Column (node layer / circuit stage); −1 for the redundancy view, which packs boxes instead. */
  column: number;
  /** Position within the column (smaller first). */
  order: number;
  label: string;
  /** Size in model units (the layout keeps these boxes apart). */
  w: number;
  h: number;
  /** Compound parent (redundancy groups). */
  parent?: string;
  /** Drawn faded (attention components outside the circuit). */
  faded?: boolean;
  /** The base nodes a supernode stands for (fold, overflow, folded group). */
  members?: string[];
  /** The numbers hover shows, as lines (every number is the result's own or a sum of its numbers). */
  info: string[];
  // The result's numbers behind the node, for exports and click-through.
  layer?: number;
  index?: number;
  lambda?: number;
  rank?: number;
  head?: number;
  group?: number;
  unit?: number;
  size?: number;
  cohesion?: number | null;
  inCircuit?: boolean;
}

export interface VEdge {
  id: string;
  source: string;
  target: string;
  /** Non-negative strength: E_ij for LIB, |score| for circuits (sums of them when folded). */
  weight: number;
  /** Signed attribution score (circuits; a sum when folded). */
  score?: number;
  /** Receiving port of an attention head (q, k, v). */
  port?: string;
  inCircuit?: boolean;
  /** An edge of a LIB constant direction (never counted in edge-mass statistics). */
  constant?: boolean;
  /** Rank by |score| among all the run's edges (circuits, 1 = strongest). */
  rank?: number;
  /** How many result edges this drawn edge stands for (> 1 after folding). */
  count: number;
  info: string[];
}

export interface VColumn {
  label: string;
  /** The full name and numbers for hover. */
  info: string[];
  /** LIB: index of the layer in `result.layers`. */
  layer?: number;
  /** LIB: whether the layer's node cap is lifted (its overflow supernode expanded). */
  expanded?: boolean;
}

export interface VGraph {
  kind: GraphKind;
  columns: VColumn[];
  nodes: VNode[];
  edges: VEdge[];
  /** Header lines (the run's headline numbers). */
  summary: string[];
  /** What the current threshold shows, one line. */
  status: string;
}

export interface Fold {
  id: string;
  members: string[];
}

/** The user's controls for one run (kept in the webview state with the run id). */
export interface Controls {
  /** lib: 'mass' (edge-mass share per pair) or 'topn' (strongest n per pair); circuit: 'circuit' or 'topn'; groups: 'size'. */
  mode: 'mass' | 'topn' | 'circuit' | 'size';
  /** The slider: a mass share in (0, 1], a count n, or (groups) the smallest group size drawn folded. */
  value: number;
  /** lib: draw the constant directions' strongest edges too (dashed; outside every statistic). */
  constantEdges: boolean;
  /** lib: layers (indices into `result.layers`) whose node cap is lifted. */
  expanded: number[];
  /** lib, circuit: user folds. */
  folds: Fold[];
  /** groups: folded group indices. */
  folded: number[];
  /** Pinned node positions (model coordinates). */
  pinned: Record<string, { x: number; y: number }>;
}

export type DrawableRun =
  | { kind: 'lib'; run: RunRecord; result: LibResult }
  | { kind: 'circuit'; run: RunRecord; result: CircuitResult }
  | { kind: 'groups'; run: RunRecord; result: RedundancyResult & { groups: NonNullable<RedundancyResult['groups']> } };

/** The graph a run can show in this panel, or undefined (other analyses, redundancy without groups, series). */
export function drawable(run: RunRecord): DrawableRun | undefined {
  const e = run.envelope;
  switch (e.analysis) {
    case 'lib':
      return e.result && Array.isArray(e.result.layers) && e.result.graph ? { kind: 'lib', run, result: e.result } : undefined;
    case 'circuit':
      return e.result && Array.isArray(e.result.nodes) && Array.isArray(e.result.edges) ? { kind: 'circuit', run, result: e.result } : undefined;
    case 'redundancy': {
      const r = e.result;
      if (!r || isSeries(r) || !r.groups) return undefined;
      return { kind: 'groups', run, result: { ...r, groups: r.groups } };
    }
    default:
      return undefined;
  }
}

/**
 * A short name for a node layer's value: `/relu1/Relu_output_0` → `relu1`, `/blocks.0/mlp/Add_output_0` →
 * `blocks.0/mlp`, `logits` → `logits` (the scope path without the op's own name).
 */
export function shortLayerName(name: string): string {
  const parts = name.split('/').filter(Boolean);
  if (parts.length <= 1) return (parts[0] ?? name).replace(/_output_\d+$/, '');
  return parts.slice(0, -1).join('/');
}

/** The checkpoint's file name (`examples/mlp/mlp.onnx` → `mlp.onnx`; TF.js `…/name/model.json` → `name/model.json`). */
export function modelBase(model: string): string {
  const parts = model.split(/[\\/]/).filter(Boolean);
  const last = parts.at(-1) ?? model;
  return last === 'model.json' && parts.length > 1 ? `${parts.at(-2)}/${last}` : last;
}
