/**
 * IR invariant checks, run on every loaded graph (and by the tests on every fixture).
 */
import { isDType, type ModelGraph } from './ir';

/**
 * Returns human-readable violations (empty when the graph is valid):
 * unique node ids; every node input/output refers to a known value; each value has at most one producer and
 * its `producer` field agrees; graph inputs/outputs exist; dtypes are known; tensors referenced by values
 * exist; hierarchy groups reference existing nodes and groups; shapes hold integers ≥ 0, names or null.
 * `index`: optionally, the nodes' positions by id (a Map built from `g.nodes`), to check against instead of a new set.
 */
export function validateGraph(g: ModelGraph, index?: ReadonlyMap<string, number>): string[] {
  const problems: string[] = [];
  const say = (s: string): void => {
    if (problems.length < 100) problems.push(s);
  };
  // `index` (node id → position, as finishGraph built it for the hierarchy) stands for the set of ids when it maps
  // every node's id to that node's own position: the ids are then distinct (no set built again).
  let indexed = index !== undefined && index.size === g.nodes.length;
  for (let i = 0; indexed && i < g.nodes.length; i++) indexed = index!.get(g.nodes[i].id) === i;
  let nodeIds: Pick<ReadonlySet<string>, 'has'>;
  if (indexed) {
    nodeIds = index!;
    for (const n of g.nodes) if (!n.id) say(`a ${n.opType} node has an empty id`);
  } else {
    const ids = new Set<string>();
    for (const n of g.nodes) {
      if (!n.id) say(`a ${n.opType} node has an empty id`);
      if (ids.has(n.id)) say(`duplicate node id '${n.id}'`);
      ids.add(n.id);
    }
    nodeIds = ids;
  }
  // With distinct ids, producers are first checked without a map of every value's producer (166k entries at 100k
  // operators): each node output must be a value naming that node, listed once by it, and as many values name a
  // producer as there are such outputs (distinct ids: no two outputs match one value). Any miss starts over on the
  // full checks, which name it, with the same messages in the same order.
  const fast = indexed;
  let written = 0;
  let named = 0;
  const producers = new Map<string, string>();
  for (const n of g.nodes) {
    for (const v of n.inputs) {
      if (v && !(v in g.values)) say(`node '${n.id}' consumes unknown value '${v}'`);
    }
    if (fast) {
      const outs = n.outputs;
      for (let j = 0; j < outs.length; j++) {
        const v = outs[j];
        if (!v) continue;
        if (!Object.hasOwn(g.values, v) || g.values[v].producer !== n.id || outs.indexOf(v) < j) return validateGraph(g);
        written++;
      }
      continue;
    }
    for (const v of n.outputs) {
      if (!v) continue;
      if (!(v in g.values)) say(`node '${n.id}' produces unknown value '${v}'`);
      const prev = producers.get(v);
      if (prev !== undefined) say(`value '${v}' is produced by both '${prev}' and '${n.id}'`);
      producers.set(v, n.id);
    }
  }
  // for…in rather than Object.entries: no pair array per value (166k of them at 100k operators).
  for (const id in g.values) {
    const v = g.values[id];
    if (v.id !== id) say(`value keyed '${id}' has id '${v.id}'`);
    if (v.dtype !== undefined && !isDType(v.dtype)) say(`value '${id}' has unknown dtype '${String(v.dtype)}'`);
    if (fast) {
      if (v.producer !== undefined) named++;
    } else if (v.producer !== undefined && producers.get(id) !== v.producer) {
      say(`value '${id}' names producer '${v.producer}' but is produced by '${producers.get(id) ?? 'nothing'}'`);
    }
    if (v.kind === 'initializer' && !(id in g.tensors)) say(`initializer value '${id}' has no tensor descriptor`);
    if (v.shape) {
      for (const d of v.shape) {
        if (!(d === null || typeof d === 'string' || (Number.isSafeInteger(d) && d >= 0))) {
          say(`value '${id}' has an invalid dimension ${String(d)}`);
          break;
        }
      }
    }
  }
  if (fast && named !== written) return validateGraph(g);
  for (const id of g.inputs) if (!(id in g.values)) say(`graph input '${id}' is not a known value`);
  for (const id of g.outputs) if (!(id in g.values)) say(`graph output '${id}' is not a known value`);
  for (const name in g.tensors) {
    const t = g.tensors[name];
    if (t.name !== name) say(`tensor keyed '${name}' is named '${t.name}'`);
    if (!isDType(t.dtype)) say(`tensor '${name}' has unknown dtype '${String(t.dtype)}'`);
  }
  const groupIds = new Set(g.hierarchy.map((h) => h.id));
  for (const h of g.hierarchy) {
    if (h.parent !== undefined && !groupIds.has(h.parent)) say(`group '${h.id}' has unknown parent '${h.parent}'`);
    for (const c of h.children) if (!groupIds.has(c)) say(`group '${h.id}' has unknown child '${c}'`);
    for (const n of h.nodes) if (!nodeIds.has(n)) say(`group '${h.id}' lists unknown node '${n}'`);
  }
  return problems;
}
