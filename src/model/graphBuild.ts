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
export function buildHierarchy(nodes: GraphNode[], weights: WeightNames = new Set(), indexOf: Map<string, number> = nodeIndex(nodes)): HierarchyGroup[] {
  const groups = new Map<string, HierarchyGroup>();
  // ids[k]: the id of the scope's first k + 1 components (their '/'-join)
  const ensure = (path: string[], ids: string[], depth: number): HierarchyGroup => {
    const id = ids[depth - 1];
    let g = groups.get(id);
    if (g) return g;
    const parent = depth > 1 ? ensure(path, ids, depth - 1) : undefined;
    g = { id, label: path[depth - 1], parent: parent?.id, nodes: [], children: [], nodeCount: 0, params: 0 };
    groups.set(id, g);
    parent?.children.push(id);
    return g;
  };
  for (const node of nodes) {
    const scope = node.scope;
    if (scope.length === 0) continue;
    const ids = [scope[0]];
    for (let k = 1; k < scope.length; k++) ids.push(`${ids[k - 1]}/${scope[k]}`);
    const g = ensure(scope, ids, scope.length);
    g.nodes.push(node.id);
    // totals up the chain
    for (let k = scope.length - 1; k >= 0; k--) {
      const anc = groups.get(ids[k])!;
      anc.nodeCount += 1;
      anc.params += node.params;
    }
  }
  groupRepeatedStructure(groups, nodes, indexOf, weights);
  markRepeats(groups, nodes, indexOf);
  return [...groups.values()];
}

/** Node id → position in `nodes` (the last, for a repeated id): one Map for the motif search, the repeat marks and validation. */
export function nodeIndex(nodes: readonly GraphNode[]): Map<string, number> {
  const indexOf = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) indexOf.set(nodes[i].id, i);
  return indexOf;
}

/** The initializer names (a Set, or anything answering `has`). */
export type WeightNames = Pick<ReadonlySet<string>, 'has'>;

/** Runs the motif search under every parent (and the top level) holding at least MOTIF_MIN_UNITS ops or one-op layers. */
function groupRepeatedStructure(groups: Map<string, HierarchyGroup>, nodes: GraphNode[], indexOf: Map<string, number>, weights: WeightNames): void {
  // file order when it is already topological (exporters write it so), else Kahn's
  const topo = fileOrderIsTopological(nodes) ? undefined : topologicalOrder({ nodes });
  const ordered = topo ? [...topo.order, ...topo.stuck] : nodes;
  const pos = new Int32Array(nodes.length);
  const producerPos = new Map<string, number>();
  for (let i = 0; i < ordered.length; i++) {
    const n = ordered[i];
    pos[topo ? indexOf.get(n.id)! : i] = i;
    for (const o of n.outputs) if (o) producerPos.set(o, i);
  }
  const ctx: MotifContext = { nodes, indexOf, pos, producerPos, weights, unitOfPos: new Int32Array(nodes.length).fill(-1) };
  const posOfId = (id: string): number => {
    const k = indexOf.get(id);
    return k === undefined ? Infinity : pos[k];
  };
  const firstPos = (g: HierarchyGroup): number => {
    let best = Infinity;
    const stack = [g];
    while (stack.length) {
      const h = stack.pop()!;
      for (const id of h.nodes) best = Math.min(best, posOfId(id));
      for (const c of h.children) stack.push(groups.get(c)!);
    }
    return best;
  };
  const unitsOf = (directNodes: number[], children: HierarchyGroup[]): Unit[] => {
    const us: Unit[] = [];
    for (const k of directNodes) us.push({ node: nodes[k], pos: pos[k] });
    for (const group of children) us.push({ group, pos: firstPos(group) });
    return us;
  };
  const atomic = (us: Unit[]): number => {
    let c = 0;
    for (const u of us) if (u.node || u.group!.nodeCount === 1) c++;
    return c;
  };
  const top: number[] = [];
  for (let k = 0; k < nodes.length; k++) if (nodes[k].scope.length === 0) top.push(k);
  const roots: HierarchyGroup[] = [];
  for (const g of groups.values()) if (g.parent === undefined) roots.push(g);
  const parents: [string | undefined, Unit[]][] = [[undefined, unitsOf(top, roots)]];
  for (const g of groups.values()) {
    if (g.nodes.length + g.children.length < MOTIF_MIN_UNITS) continue;
    parents.push([g.id, unitsOf(g.nodes.map((id) => indexOf.get(id)!), g.children.map((c) => groups.get(c)!))]);
  }
  for (const [pid, us] of parents) if (atomic(us) >= MOTIF_MIN_UNITS) addMotifGroups(pid, us, groups, ctx);
}

/**
 * Marks sibling groups that share an op structure (e.g. `layers.0` … `layers.11`): the key is the sorted
 * multiset of op types under the group plus the label with digits removed, so blocks differing only in
 * their index share it. A key is kept only when at least two siblings share it.
 */
function markRepeats(groups: Map<string, HierarchyGroup>, nodes: GraphNode[], indexOf: Map<string, number>): void {
  const signature = new Map<string, string>();
  const sig = (g: HierarchyGroup): string => {
    const cached = signature.get(g.id);
    if (cached !== undefined) return cached;
    const ops = g.nodes.map((id) => nodes[indexOf.get(id)!].opType).sort();
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
  for (const name in partial.tensors) {
    const t = partial.tensors[name];
    params += t.elements;
    paramBytes += t.byteLength;
  }
  const index = nodeIndex(partial.nodes);
  const hierarchy = buildHierarchy(partial.nodes, { has: (v) => Object.hasOwn(partial.tensors, v) }, index);
  const graph: ModelGraph = { ...partial, hierarchy, params, paramBytes };
  const problems = validateGraph(graph, index);
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
