/** Topological order of an IR graph, shared by the executor and the analyses that walk a graph. */
import type { GraphNode, ModelGraph } from './ir';

/**
 * Kahn's algorithm over value edges, stable in file order (ONNX files are usually sorted already). Nodes on
 * a cycle never become ready: they are returned in `stuck` (empty for a feed-forward graph), and `order`
 * then holds only the others; callers raise their own error. A node reading its own output is a cycle too.
 */
export function topologicalOrder(graph: Pick<ModelGraph, 'nodes'>): { order: GraphNode[]; stuck: GraphNode[] } {
  const producerOf = new Map<string, number>();
  graph.nodes.forEach((n, i) => n.outputs.forEach((o) => o && producerOf.set(o, i)));
  const indeg = graph.nodes.map(() => 0);
  const consumers = graph.nodes.map(() => [] as number[]);
  graph.nodes.forEach((n, i) => {
    for (const v of new Set(n.inputs)) {
      const p = v ? producerOf.get(v) : undefined;
      if (p === undefined) continue;
      indeg[i]++;
      consumers[p].push(i);
    }
  });
  const ready = indeg.map((d, i) => (d === 0 ? i : -1)).filter((i) => i >= 0);
  const order: GraphNode[] = [];
  // A min-heap is unnecessary: ready nodes are taken in ascending index order by re-sorting small batches.
  while (ready.length) {
    ready.sort((a, b) => b - a);
    const i = ready.pop() as number;
    order.push(graph.nodes[i]);
    for (const c of consumers[i]) if (--indeg[c] === 0) ready.push(c);
  }
  return { order, stuck: graph.nodes.filter((_, i) => indeg[i] > 0) };
}

/** Per node array: its length when checked, and whether file order was topological then. */
const fileOrderChecked = new WeakMap<readonly GraphNode[], { length: number; sorted: boolean }>();

/**
 * Whether every node comes after the producers of its inputs (the file's own order is topological: ONNX requires
 * it and exporters write it so). Loading asks this several times of the same array (hierarchy, shape inference):
 * the answer is kept per array and recomputed when its length changed.
 */
export function fileOrderIsTopological(nodes: readonly GraphNode[]): boolean {
  const known = fileOrderChecked.get(nodes);
  if (known && known.length === nodes.length) return known.sorted;
  const producer = new Map<string, number>();
  for (let i = 0; i < nodes.length; i++) for (const o of nodes[i].outputs) if (o) producer.set(o, i);
  let sorted = true;
  for (let i = 0; i < nodes.length && sorted; i++) {
    for (const v of nodes[i].inputs) {
      if (v && (producer.get(v) ?? -1) >= i) {
        sorted = false;
        break;
      }
    }
  }
  fileOrderChecked.set(nodes, { length: nodes.length, sorted });
  return sorted;
}

/** Records that `nodes` are in topological order, as a loader that checked it while building them knows. */
export function noteTopological(nodes: readonly GraphNode[]): void {
  fileOrderChecked.set(nodes, { length: nodes.length, sorted: true });
}
