/**
 * Format-independent finishing steps for a freshly decoded graph: parameter counts per node, totals, the
 * collapsible hierarchy (name scopes / layer names, with repeated blocks marked) and invariant validation.
 * Every format loader hands its graph to {@link finishGraph}.
 */
import { ModelLoadError } from './errors';
import { fileOrderIsTopological, topologicalOrder } from './graphOrder';
import type { GraphNode, HierarchyGroup, ModelGraph } from './ir';
import { addMotifGroups, MOTIF_MIN_UNITS, type MotifContext, type Unit } from './motifs';
import { validateGraph } from './validate';

/** A graph before hierarchy and totals are filled in. */
export type PartialGraph = Omit<ModelGraph, 'hierarchy' | 'params' | 'paramBytes'>;

/**
 * Splits a node name into scope components. ONNX exporters write `/encoder/layer.0/attn/MatMul` (torch) or
 * `encoder/layer_0/attn/MatMul` (tf2onnx); TF.js graph models use `model/block_1/conv/Conv2D`. The last
 * component is the op itself and is not a scope.
 */
export function scopeFromName(name: string): string[] {
  if (!name.includes('/')) return [];
  const parts = name.split('/').filter((p) => p.length > 0);
  return parts.slice(0, -1);
}

/** Fills `params`/`paramBytes` of each node from the weight tensors it consumes (each tensor counted once per consumer). */
export function assignNodeParams(graph: PartialGraph): void {
  for (const node of graph.nodes) {
    let params = 0;
    let bytes = 0;
    const inputs = node.inputs;
    for (let j = 0; j < inputs.length; j++) {
      const input = inputs[j];
      // A weight read twice counts once (inputs are few: a scan instead of a Set per node).
      if (!input || inputs.indexOf(input) < j) continue;
      const t = graph.tensors[input];
      if (t) {
        params += t.elements;
        bytes += t.byteLength;
      }
    }
    node.params = params;
    node.paramBytes = bytes;
  }
}

/**
 * Builds the hierarchy from each node's `scope`. Groups holding exactly one node and no children are kept.
 * Where many operators (or one-op layers) sit side by side under one parent — no name scopes at all, or a
 * scope per op — their repeated blocks become groups too (motifs.ts). `weights`: the initializer names.
 */
export function buildHierarchy(nodes: GraphNode[], weights: ReadonlySet<string> = new Set()): HierarchyGroup[] {
  const groups = new Map<string, HierarchyGroup>();
  const ensure = (path: string[]): HierarchyGroup => {
    const id = path.join('/');
    let g = groups.get(id);
    if (g) return g;
    const parentPath = path.slice(0, -1);
    const parent = parentPath.length ? ensure(parentPath) : undefined;
    g = { id, label: path[path.length - 1], parent: parent?.id, nodes: [], children: [], nodeCount: 0, params: 0 };
    groups.set(id, g);
    parent?.children.push(id);
    return g;
  };
  for (const node of nodes) {
    if (node.scope.length === 0) continue;
    const g = ensure(node.scope);
    g.nodes.push(node.id);
    // totals up the chain
    for (let k = node.scope.length; k >= 1; k--) {
      const anc = groups.get(node.scope.slice(0, k).join('/'))!;
      anc.nodeCount += 1;
      anc.params += node.params;
    }
  }
  groupRepeatedStructure(groups, nodes, weights);
  markRepeats(groups, nodes);
  return [...groups.values()];
}

/** Runs the motif search under every parent (and the top level) holding at least MOTIF_MIN_UNITS ops or one-op layers. */
function groupRepeatedStructure(groups: Map<string, HierarchyGroup>, nodes: GraphNode[], weights: ReadonlySet<string>): void {
  const ctx: MotifContext = { nodeById: new Map(nodes.map((n) => [n.id, n])), posOf: new Map(), producerPos: new Map(), weights };
  // file order when it is already topological (exporters write it so), else Kahn's
  const topo = fileOrderIsTopological(nodes) ? undefined : topologicalOrder({ nodes });
  (topo ? [...topo.order, ...topo.stuck] : nodes).forEach((n, i) => {
    ctx.posOf.set(n.id, i);
    for (const o of n.outputs) if (o) ctx.producerPos.set(o, i);
  });
  const firstPos = (g: HierarchyGroup): number => {
    let best = Infinity;
    const stack = [g];
    while (stack.length) {
      const h = stack.pop()!;
      for (const id of h.nodes) best = Math.min(best, ctx.posOf.get(id) ?? Infinity);
      for (const c of h.children) stack.push(groups.get(c)!);
    }
    return best;
  };
  const unitsOf = (directNodes: GraphNode[], children: HierarchyGroup[]): Unit[] => [
    ...directNodes.map((node) => ({ node, pos: ctx.posOf.get(node.id)! })),
    ...children.map((group) => ({ group, pos: firstPos(group) })),
  ];
  const atomic = (us: Unit[]): number => us.filter((u) => u.node || u.group!.nodeCount === 1).length;
  const parents: [string | undefined, Unit[]][] = [
    [undefined, unitsOf(nodes.filter((n) => n.scope.length === 0), [...groups.values()].filter((g) => g.parent === undefined))],
  ];
  for (const g of groups.values()) {
    if (g.nodes.length + g.children.length < MOTIF_MIN_UNITS) continue;
    parents.push([g.id, unitsOf(g.nodes.map((id) => ctx.nodeById.get(id)!), g.children.map((c) => groups.get(c)!))]);
  }
  for (const [pid, us] of parents) if (atomic(us) >= MOTIF_MIN_UNITS) addMotifGroups(pid, us, groups, ctx);
}

/**
 * Marks sibling groups that share an op structure (e.g. `layers.0` … `layers.11`): the key is the sorted
 * multiset of op types under the group plus the label with digits removed, so blocks differing only in
 * their index share it. A key is kept only when at least two siblings share it.
 */
function markRepeats(groups: Map<string, HierarchyGroup>, nodes: GraphNode[]): void {
  const byId = new Map(nodes.map((n) => [n.id, n]));
  const signature = new Map<string, string>();
  const sig = (g: HierarchyGroup): string => {
    const cached = signature.get(g.id);
    if (cached !== undefined) return cached;
    const ops = g.nodes.map((id) => byId.get(id)!.opType).sort();
    const kids = g.children.map((c) => sig(groups.get(c)!)).sort();
    const s = `${ops.join(',')}|${kids.join(';')}`;
    signature.set(g.id, s);
    return s;
  };
  const siblings = new Map<string, HierarchyGroup[]>();
  for (const g of groups.values()) {
    const key = `${g.parent ?? ''}\u0000${g.label.replace(/\d+/g, '#')}\u0000${sig(g)}`;
    const list = siblings.get(key) ?? [];
    list.push(g);
    siblings.set(key, list);
  }
  let k = 0;
  for (const list of siblings.values()) {
    if (list.length < 2 || list[0].nodeCount < 2) continue;
    const repeatKey = `r${k++}:${list[0].label.replace(/\d+/g, '#')}`;
    for (const g of list) g.repeatKey = repeatKey;
  }
}

/** Limits that keep a hostile file from making us allocate or loop without bound. */
export const LIMITS = {
  /** Largest dimension accepted in a declared shape. */
  maxDim: 2 ** 40,
  /** Largest element count of one tensor (2^40 ≈ 1.1e12: already 4 TB of float32). */
  maxElements: 2 ** 40,
  /** Most nodes in one graph. */
  maxNodes: 5_000_000,
} as const;

/**
 * Checks a declared tensor shape and returns its element count.
 * @throws ModelLoadError `absurd-shape` for negative, fractional, huge or overflowing dimensions.
 */
export function checkedElements(shape: readonly number[], file: string, what: string, format?: string): number {
  let n = 1;
  for (const d of shape) {
    if (!Number.isSafeInteger(d) || d < 0 || d > LIMITS.maxDim) {
      throw new ModelLoadError(
        'absurd-shape',
        file,
        `${what}: expected non-negative integer dimensions ≤ 2^40, found [${shape.join(', ')}]`,
        format,
      );
    }
    n *= d;
    if (n > LIMITS.maxElements) {
      throw new ModelLoadError(
        'absurd-shape',
        file,
        `${what}: shape [${shape.join(', ')}] declares more than 2^40 elements`,
        format,
      );
    }
  }
  return n;
}

/** Fills node params, totals and hierarchy, then validates. @throws ModelLoadError `invalid-graph`. */
export function finishGraph(partial: PartialGraph): ModelGraph {
  assignNodeParams(partial);
  let params = 0;
  let paramBytes = 0;
  for (const t of Object.values(partial.tensors)) {
    params += t.elements;
    paramBytes += t.byteLength;
  }
  const graph: ModelGraph = { ...partial, hierarchy: buildHierarchy(partial.nodes, new Set(Object.keys(partial.tensors))), params, paramBytes };
  const problems = validateGraph(graph);
  if (problems.length) {
    const more = problems.length > 5 ? ` (and ${problems.length - 5} more)` : '';
    throw new ModelLoadError(
      'invalid-graph',
      graph.file,
      `the graph breaks IR invariants: ${problems.slice(0, 5).join('; ')}${more}`,
      graph.format,
    );
  }
  return graph;
}
