/**
 * What the graph view shows for a given set of expanded groups: pure functions over the IR, no DOM.
 *
 * Every operator is represented by its outermost collapsed enclosing group, or by itself when all its groups
 * are expanded. Edges join representatives (deduplicated, counted); edges inside a collapsed group vanish.
 * Graph inputs and outputs are small terminal nodes; initializers (weights) are not drawn as nodes — they
 * belong to the operator that reads them and appear in the inspector.
 */
import { PairTable } from './pairTable';
import type { Dim, GraphNode, HierarchyGroup, ModelGraph } from '../shared/ir';
import { DimNames, plainLabel, symbolicNames } from './dimNames';
import { inferShapes, type InferredShapes } from './shapes';

export type ItemKind = 'op' | 'group' | 'input' | 'output';

export interface ViewItem {
  /** Element id in the view: `n:<node id>`, `g:<group id>`, `i:<value id>`, `o:<value id>`. */
  id: string;
  kind: ItemKind;
  /** The IR object: node id, group id or value id. */
  ref: string;
  /** Element id of the enclosing expanded group box, if any. */
  parent?: string;
  label: string;
  /** Second label line (collapsed groups: size; terminals: shape). */
  detail?: string;
  category: OpCategory;
  /** For repeated blocks: the shared key, this block's 1-based position and the number of repeats. */
  repeat?: { key: string; index: number; count: number };
}

export interface ViewCompound {
  id: string;
  ref: string;
  parent?: string;
  label: string;
  repeat?: { key: string; index: number; count: number };
}

export interface ViewEdge {
  id: string;
  source: string;
  target: string;
  /** The first value carried (its id), and how many distinct values the edge stands for. */
  value: string;
  count: number;
  /** Short shape label, e.g. `1×64×28×28`. */
  label: string;
  /**
   * The ends' positions in the layout's order (compounds, then items: layoutRequest.ts), where every drawn
   * element's id is unique; else absent and the ends are found by id.
   */
  sourceAt?: number;
  targetAt?: number;
}

export interface VisibleGraph {
  items: ViewItem[];
  compounds: ViewCompound[];
  edges: ViewEdge[];
}

export type OpCategory =
  | 'conv'
  | 'linear'
  | 'activation'
  | 'norm'
  | 'pool'
  | 'shape'
  | 'elementwise'
  | 'attention'
  | 'reduce'
  | 'control'
  | 'other'
  | 'group'
  | 'terminal';

const CATEGORY_OPS: [OpCategory, RegExp][] = [
  ['conv', /^(_?Fused)?(Depthwise)?Conv|^ConvTranspose|^QLinearConv|^ConvInteger/i],
  ['linear', /^(Gemm|MatMul|_?FusedMatMul|MatMulInteger|QLinearMatMul|Einsum|BatchMatMul(V2)?|Dense|Embedding)$/i],
  ['attention', /Attention|^Softmax$|^LogSoftmax$/i],
  ['norm', /Norm|^Dropout$/i],
  ['activation', /^(Relu|Relu6|LeakyRelu|PRelu|Elu|Selu|Celu|Gelu|FastGelu|BiasGelu|Sigmoid|HardSigmoid|HardSwish|Swish|Silu|Tanh|Softplus|Softsign|Mish|Erf|Activation|Clip)$/i],
  ['pool', /Pool|^Resize$|^Upsample$|^ResizeBilinear$|^ResizeNearestNeighbor$/i],
  ['reduce', /^(Reduce|ArgMax|ArgMin|Mean$|Sum$|Max$|Min$|Prod$|TopK|CumSum)/i],
  ['control', /^(If|Loop|Scan|Where|NonZero|Range|TensorList|While|Switch|Merge|Enter|Exit|NextIteration)/i],
  [
    'shape',
    /^(Reshape|Flatten|Transpose|Squeeze|Unsqueeze|Concat|ConcatV2|Split|SplitV|Slice|StridedSlice|Gather|GatherV2|GatherND|GatherElements|Shape|Expand|Tile|Pad|PadV2|MirrorPad|Identity|Cast|Constant|ConstantOfShape|ExpandDims|Pack|Unpack|Fill|ZerosLike|OnesLike|DepthToSpace|SpaceToDepth|Size|ScatterND|ScatterElements|OneHot|Const|Placeholder)$/i,
  ],
  ['elementwise', /^(Add|AddV2|Sub|Mul|Div|Pow|Sqrt|Rsqrt|Exp|Log|Neg|Abs|Reciprocal|Floor|Ceil|Round|Equal|Less|Greater|LessOrEqual|GreaterOrEqual|And|Or|Not|Xor|Mod|Sign|Sin|Cos|BiasAdd|Maximum|Minimum|RealDiv|Square|SquaredDifference|FloorDiv|AddN|Sum|Max|Min)$/i],
];

/** Categories by op type, found once per type (a graph has few types and many operators). */
const categoryOf = new Map<string, OpCategory>();

export function opCategory(opType: string): OpCategory {
  let c = categoryOf.get(opType);
  if (c === undefined) {
    c = CATEGORY_OPS.find(([, re]) => re.test(opType))?.[0] ?? 'other';
    if (categoryOf.size < 4096) categoryOf.set(opType, c);
  }
  return c;
}

/** Index over one graph, built once; view computations reuse it. */
export interface GraphIndex {
  graph: ModelGraph;
  groups: Map<string, HierarchyGroup>;
  nodeById: Map<string, GraphNode>;
  /** For each node (by position in graph.nodes): its enclosing groups, outermost first. */
  chains: string[][];
  nodeIndex: Map<string, number>;
  /** Whether every node id is unique (then `nodeIndex.get(graph.nodes[i].id) === i`). */
  uniqueIds: boolean;
  /** Repeat position per group with a repeatKey. */
  repeats: Map<string, { key: string; index: number; count: number }>;
  /** Consumers of each value (node positions). */
  consumers: Map<string, number[]>;
  /** Stored shapes plus those inferred by the viewer (see shapes.ts). */
  shapes: InferredShapes;
  /** How symbolic dims are written in labels: short names as they are, long ones by a graph-wide alias. */
  dims: DimNames;
}

export function buildIndex(graph: ModelGraph): GraphIndex {
  const groups = new Map<string, HierarchyGroup>();
  for (const g of graph.hierarchy) groups.set(g.id, g);
  const nodeById = new Map<string, GraphNode>();
  const nodeIndex = new Map<string, number>();
  const chains: string[][] = [];
  graph.nodes.forEach((n, i) => {
    nodeById.set(n.id, n);
    nodeIndex.set(n.id, i);
  });
  // A node's groups: every group listing it directly, plus that group's ancestors.
  const direct = new Map<string, string>();
  for (const g of graph.hierarchy) for (const id of g.nodes) direct.set(id, g.id);
  const chainOfGroup = new Map<string, string[]>();
  const groupChain = (gid: string): string[] => {
    let c = chainOfGroup.get(gid);
    if (c) return c;
    const g = groups.get(gid);
    c = g?.parent && groups.has(g.parent) ? [...groupChain(g.parent), gid] : [gid];
    chainOfGroup.set(gid, c);
    return c;
  };
  for (const n of graph.nodes) {
    const gid = direct.get(n.id);
    chains.push(gid ? groupChain(gid) : []);
  }
  const byKey = new Map<string, string[]>();
  for (const g of graph.hierarchy) {
    if (!g.repeatKey) continue;
    const list = byKey.get(g.repeatKey) ?? [];
    list.push(g.id);
    byKey.set(g.repeatKey, list);
  }
  const repeats = new Map<string, { key: string; index: number; count: number }>();
  for (const [key, ids] of byKey) {
    if (ids.length < 2) continue;
    ids.forEach((id, i) => repeats.set(id, { key, index: i + 1, count: ids.length }));
  }
  // Consumers are listed when first read (the inspector's value rows): not on the way to the first frame.
  let consumers: Map<string, number[]> | undefined;
  const listConsumers = (): Map<string, number[]> => {
    const out = new Map<string, number[]>();
    graph.nodes.forEach((n, i) => {
      for (const v of n.inputs) {
        if (!v) continue;
        const list = out.get(v);
        if (list) {
          if (list[list.length - 1] !== i) list.push(i);
        } else out.set(v, [i]);
      }
    });
    return out;
  };
  // Shapes are inferred when first read (the inspector, edge labels): not on the way to the first frame.
  let shapes: InferredShapes | undefined;
  let dims: DimNames | undefined;
  return {
    graph,
    groups,
    nodeById,
    chains,
    nodeIndex,
    uniqueIds: nodeIndex.size === graph.nodes.length,
    repeats,
    get consumers() {
      return (consumers ??= listConsumers());
    },
    get shapes() {
      return (shapes ??= inferShapes(graph));
    },
    // The inferred shapes only carry names found in stored ones, so the stored shapes name every dim.
    get dims() {
      return (dims ??= new DimNames(symbolicNames(Object.values(graph.values), graph.inputs.map((v) => graph.values[v]))));
    },
  };
}

/** A group with at most one operator is never drawn as a box: its operator stands for it. */
export function isTransparent(g: HierarchyGroup): boolean {
  return g.nodeCount <= 1;
}

/** A wrapper holds exactly one child group and nothing else (e.g. TF's `StatefulPartitionedCall/model`). */
export function isWrapper(g: HierarchyGroup): boolean {
  return g.nodes.length === 0 && g.children.length === 1;
}

/** Whether a group can be expanded or collapsed by the user. */
export function isCollapsible(g: HierarchyGroup): boolean {
  return !isTransparent(g);
}

/**
 * The initial expansion: wrappers open (they would only hide their single child); a block holding most of
 * the model opens (a collapsed box standing for 90% of the graph says nothing); and while the view would
 * show almost nothing (a handful of boxes), the visible blocks open one level more.
 */
export function initialExpanded(index: GraphIndex, minVisible = 6): Set<string> {
  const expanded = new Set<string>();
  // Nothing to open (a flat graph): skip computing the view, a second pass over every node and edge.
  if (!index.graph.hierarchy.some(isCollapsible)) return expanded;
  for (const g of index.graph.hierarchy) if (isWrapper(g) && !isTransparent(g)) expanded.add(g.id);
  const total = Math.max(1, index.graph.nodes.length);
  for (let round = 0; round < 16; round++) {
    const view = visibleGraph(index, expanded);
    const closed = view.items.filter((i) => i.kind === 'group');
    if (!closed.length) break;
    const dominant = closed.filter((i) => (index.groups.get(i.ref)?.nodeCount ?? 0) > total / 2);
    if (dominant.length) {
      for (const i of dominant) expanded.add(i.ref);
      continue;
    }
    const shown = view.items.filter((i) => i.kind !== 'input' && i.kind !== 'output');
    if (shown.length >= minVisible) break;
    for (const i of closed) expanded.add(i.ref);
  }
  return expanded;
}

/** A shape as a label (`D0×3×48×D1`): symbolic dims as `index.dims` writes them, "?" only for unknown ones. */
export function shapeLabel(index: GraphIndex, shape: readonly Dim[] | undefined): string {
  return index.dims.label(shape);
}

/**
 * {@link shapeLabel} of a stored value's shape: written directly when it holds only numbers and short names (the
 * same text: see plainLabel), so terminals' shape lines need not build the graph-wide dim table before the first
 * frame's layout.
 */
export function storedShapeLabel(index: GraphIndex, shape: readonly Dim[] | undefined): string {
  return plainLabel(shape) ?? index.dims.label(shape);
}

/**
 * An edge's tooltip: the value's name and shape as the label writes it, then — where the label uses aliases or
 * written-out expressions — the shape with the file's own dim names (`[p2o.DynamicDimension.0, 3, 48, …]`).
 */
export function edgeTooltip(index: GraphIndex, valueId: string, count = 1): string {
  const v = index.graph.values[valueId];
  const shape = v?.shape ?? index.shapes.get(valueId)?.shape;
  const lines = [`${v?.name ?? valueId}${count > 1 ? ` (and ${count - 1} more value${count > 2 ? 's' : ''})` : ''}`];
  if (shape) {
    lines.push(shapeLabel(index, shape));
    if (shape.some((d) => typeof d === 'string' && index.dims.format(d) !== d)) lines.push(`[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`);
  }
  return lines.join('\n');
}

export function formatCount(n: number): string {
  if (n < 1000) return String(n);
  const units = ['k', 'M', 'G', 'T'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v >= 100 ? v.toFixed(0) : v >= 10 ? v.toFixed(1) : v.toFixed(2)}${units[u]}`;
}

/** Element id helpers. */
export const nodeElementId = (id: string): string => `n:${id}`;
export const groupElementId = (id: string): string => `g:${id}`;

/** A view edge whose shape label is made when read: big graphs draw no edge labels, so never read them. */
class LazyEdge implements ViewEdge {
  count = 1;
  constructor(
    readonly id: string,
    readonly source: string,
    readonly target: string,
    readonly value: string,
    private readonly index: GraphIndex,
    readonly sourceAt: number | undefined,
    readonly targetAt: number | undefined,
  ) {}

  get label(): string {
    // A stored (or engine-inferred) shape is what the page's inference would return for it: read it directly, so
    // the page's own pass over the whole graph (shapes.ts) runs only once a label lacks one — not for the first frame.
    const stored = this.index.graph.values[this.value]?.shape;
    return stored ? storedShapeLabel(this.index, stored) : shapeLabel(this.index, this.index.shapes.get(this.value)?.shape);
  }
}

/**
 * The visible graph for a set of expanded group ids (ids of groups that are not collapsible are ignored:
 * they are always open).
 */
export function visibleGraph(index: GraphIndex, expanded: ReadonlySet<string>): VisibleGraph {
  const { graph, groups, chains, repeats } = index;
  const items: ViewItem[] = [];
  const compounds: ViewCompound[] = [];
  const compoundSeen = new Set<string>();
  const itemSeen = new Set<string>();
  const open = (g: HierarchyGroup): boolean => isTransparent(g) || expanded.has(g.id);
  // A box is drawn for an open group unless it is transparent or a wrapper.
  const boxed = (g: HierarchyGroup): boolean => !isTransparent(g) && !isWrapper(g);

  const addCompound = (gid: string, parent: string | undefined): string => {
    const id = groupElementId(gid);
    if (!compoundSeen.has(id)) {
      compoundSeen.add(id);
      const g = groups.get(gid)!;
      compounds.push({ id, ref: gid, parent, label: g.id, repeat: repeats.get(gid) });
    }
    return id;
  };

  const rep = new Array<string>(graph.nodes.length);
  // Each node's representative's position in items (for the edges' sourceAt/targetAt).
  const repItem = new Int32Array(graph.nodes.length);
  const groupItem = new Map<string, number>();
  // Each drawn element as a number too, for deduplicating edges (pairTable.ts): an operator its node's index
  // (the last of a repeated id, as nodeIndex keeps), then groups, inputs and outputs, each by first appearance.
  const N = graph.nodes.length;
  const repNum = new Int32Array(N);
  const groupNum = new Map<string, number>();
  const inputNum = new Map<string, number>();
  for (const vid of graph.inputs) if (!inputNum.has(vid)) inputNum.set(vid, N + groups.size + inputNum.size);
  const outputNum = new Map<string, number>();
  graph.nodes.forEach((n, i) => {
    let parent: string | undefined;
    let repId: string | undefined;
    let repGroup = '';
    for (const gid of chains[i]) {
      const g = groups.get(gid)!;
      if (!open(g)) {
        repId = groupElementId(gid);
        repGroup = gid;
        if (!itemSeen.has(repId)) {
          itemSeen.add(repId);
          groupNum.set(gid, N + groupNum.size);
          groupItem.set(gid, items.length);
          const r = repeats.get(gid);
          items.push({
            id: repId,
            kind: 'group',
            ref: gid,
            parent,
            label: g.label,
            detail: `${g.nodeCount} ops${g.params ? ` · ${formatCount(g.params)} params` : ''}`,
            category: 'group',
            repeat: r,
          });
        }
        break;
      }
      if (boxed(g)) parent = addCompound(gid, parent);
    }
    if (!repId) {
      repId = nodeElementId(n.id);
      repItem[i] = items.length;
      items.push({ id: repId, kind: 'op', ref: n.id, parent, label: n.opType, category: opCategory(n.opType) });
      repNum[i] = index.uniqueIds ? i : index.nodeIndex.get(n.id)!;
    } else {
      repNum[i] = groupNum.get(repGroup)!;
      repItem[i] = groupItem.get(repGroup)!;
    }
    rep[i] = repId;
  });

  const edges: ViewEdge[] = [];
  const edgeAt = new PairTable(N);
  // Positions stand for ends only where ids are unique (as the layout request's id map would find them).
  const C = new Set(graph.inputs).size === graph.inputs.length && new Set(graph.outputs).size === graph.outputs.length && index.uniqueIds ? compounds.length : -1;
  const inputItem = new Map<string, number>();
  const addEdge = (source: string, target: string, value: string, s: number, t: number, sAt: number, tAt: number): void => {
    if (s === t) return;
    const k = edgeAt.get(s, t);
    if (k >= 0) {
      const e = edges[k];
      if (e.value !== value) e.count++;
      return;
    }
    edgeAt.set(s, t, edges.length);
    edges.push(new LazyEdge(`e${edges.length}`, source, target, value, index, C < 0 ? undefined : C + sAt, C < 0 ? undefined : C + tAt));
  };

  const inputIds = new Set(graph.inputs);
  for (const vid of graph.inputs) {
    const v = graph.values[vid];
    inputItem.set(vid, items.length);
    items.push({ id: `i:${vid}`, kind: 'input', ref: vid, label: v?.name ?? vid, detail: storedShapeLabel(index, v?.shape), category: 'terminal' });
  }
  graph.nodes.forEach((n, i) => {
    for (const vid of n.inputs) {
      if (!vid) continue;
      const v = graph.values[vid];
      if (v?.producer !== undefined) {
        const pi = index.nodeIndex.get(v.producer);
        if (pi !== undefined) addEdge(rep[pi], rep[i], vid, repNum[pi], repNum[i], repItem[pi], repItem[i]);
      } else if (inputIds.has(vid)) {
        addEdge(`i:${vid}`, rep[i], vid, inputNum.get(vid)!, repNum[i], inputItem.get(vid)!, repItem[i]);
      }
    }
  });
  for (const vid of graph.outputs) {
    const v = graph.values[vid];
    const id = `o:${vid}`;
    if (!outputNum.has(vid)) outputNum.set(vid, N + groups.size + inputNum.size + outputNum.size);
    const num = outputNum.get(vid)!;
    const at = items.length;
    items.push({ id, kind: 'output', ref: vid, label: v?.name ?? vid, detail: storedShapeLabel(index, v?.shape), category: 'terminal' });
    if (v?.producer !== undefined) {
      const pi = index.nodeIndex.get(v.producer);
      if (pi !== undefined) addEdge(rep[pi], id, vid, repNum[pi], num, repItem[pi], at);
    } else if (inputIds.has(vid)) addEdge(`i:${vid}`, id, vid, inputNum.get(vid)!, num, inputItem.get(vid)!, at);
  }
  return { items, compounds, edges };
}

/**
 * The element that draws a node with these groups open: its outermost collapsed enclosing group, or the node
 * itself (the same rule as {@link visibleGraph}); undefined for an unknown node.
 */
export function representativeOf(index: GraphIndex, expanded: ReadonlySet<string>, nodeId: string): string | undefined {
  const i = index.nodeIndex.get(nodeId);
  if (i === undefined) return undefined;
  for (const gid of index.chains[i]) {
    const g = index.groups.get(gid)!;
    if (!isTransparent(g) && !expanded.has(gid)) return groupElementId(gid);
  }
  return nodeElementId(nodeId);
}

/** Groups to open so that a node is visible (its collapsible enclosing groups). */
export function groupsToReveal(index: GraphIndex, nodeId: string): string[] {
  const i = index.nodeIndex.get(nodeId);
  if (i === undefined) return [];
  return index.chains[i].filter((gid) => isCollapsible(index.groups.get(gid)!));
}

/** Collapsing a group also forgets its expanded descendants, so reopening it starts collapsed inside. */
export function collapseGroup(index: GraphIndex, expanded: Set<string>, gid: string): void {
  expanded.delete(gid);
  const g = index.groups.get(gid);
  if (!g) return;
  const stack = [...g.children];
  while (stack.length) {
    const c = stack.pop()!;
    expanded.delete(c);
    const cg = index.groups.get(c);
    if (cg) stack.push(...cg.children);
  }
}

/** The collapsible group an element stands for or sits in (for "collapse" on an operator). */
export function enclosingCollapsible(index: GraphIndex, nodeId: string): string | undefined {
  const i = index.nodeIndex.get(nodeId);
  if (i === undefined) return undefined;
  const chain = index.chains[i];
  for (let j = chain.length - 1; j >= 0; j--) {
    const g = index.groups.get(chain[j])!;
    if (isCollapsible(g) && !isWrapper(g)) return g.id;
  }
  return undefined;
}

export interface SearchHit {
  kind: 'node' | 'group';
  id: string;
  label: string;
  detail: string;
}

/**
 * Case-insensitive search over operator names, op types and group ids. Exact op-type matches first, then
 * name prefixes (last path component), then substrings; at most `limit` hits.
 */
export function search(index: GraphIndex, query: string, limit = 200): { hits: SearchHit[]; total: number } {
  const q = query.trim().toLowerCase();
  if (!q) return { hits: [], total: 0 };
  const scored: { s: number; h: SearchHit; order: number }[] = [];
  let order = 0;
  for (const n of index.graph.nodes) {
    const name = n.name || n.id;
    const op = n.opType.toLowerCase();
    const lname = name.toLowerCase();
    const tail = lname.slice(lname.lastIndexOf('/') + 1);
    let s = -1;
    if (op === q) s = 0;
    else if (tail.startsWith(q)) s = 1;
    else if (op.startsWith(q)) s = 2;
    else if (lname.includes(q)) s = 3;
    else if (op.includes(q)) s = 4;
    if (s >= 0) scored.push({ s, order: order++, h: { kind: 'node', id: n.id, label: name, detail: n.opType } });
  }
  for (const g of index.graph.hierarchy) {
    if (!isCollapsible(g)) continue;
    const lid = g.id.toLowerCase();
    if (lid.includes(q)) {
      scored.push({ s: g.label.toLowerCase().startsWith(q) ? 1 : 3, order: order++, h: { kind: 'group', id: g.id, label: g.id, detail: `${g.nodeCount} ops` } });
    }
  }
  scored.sort((a, b) => a.s - b.s || a.order - b.order);
  return { hits: scored.slice(0, limit).map((x) => x.h), total: scored.length };
}
