/**
 * Building and cutting ONNX graphs in memory (decoded `ModelProto` objects, encoded with `encodeModelProto`):
 * node/attribute/tensor constructors, a name generator that never collides with a graph's own names, the
 * producer/consumer index of a graph, sub-models between two cuts and dead-node pruning. Used to build the
 * circuit analysis' decomposed graphs and the small kernels run by onnxruntime.
 */
import type { OnnxGraphProto, OnnxModelProto, OnnxNodeProto } from './formats/onnx';

/** TensorProto.DataType codes. */
export const ELEM = { FLOAT: 1, UINT8: 2, INT8: 3, INT32: 6, INT64: 7, BOOL: 9, FLOAT16: 10, DOUBLE: 11, BFLOAT16: 16 } as const;
const ATTR = { FLOAT: 1, INT: 2, INTS: 7 } as const;

export type AttrValue = { int: number } | { ints: number[] } | { float: number };
export type Dim = number | string;

/** A node; attributes as `{ axis: { int: 1 } }`. */
export function node(op: string, inputs: string[], outputs: string[], attrs: Record<string, AttrValue> = {}, name?: string): OnnxNodeProto {
  const attribute = Object.entries(attrs).map(([k, v]) =>
    'int' in v ? { name: k, type: ATTR.INT, i: v.int } : 'ints' in v ? { name: k, type: ATTR.INTS, ints: v.ints } : { name: k, type: ATTR.FLOAT, f: v.float },
  );
  return { op_type: op, input: inputs, output: outputs, attribute, ...(name ? { name } : {}) } as OnnxNodeProto;
}

export function valueInfo(name: string, elem: number, dims?: Dim[]): { name: string; type: object } {
  const shape = dims ? { shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } : {};
  return { name, type: { tensor_type: { elem_type: elem, ...shape } } };
}

/** A float32 initializer (raw little-endian bytes). */
export function floatTensor(name: string, data: Float32Array, dims: number[]): object {
  return { name, data_type: ELEM.FLOAT, dims, raw_data: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

export function int64Tensor(name: string, values: readonly number[], dims: number[] = [values.length]): object {
  return { name, data_type: ELEM.INT64, dims, int64_data: [...values] };
}

/** Fresh value/node names with a prefix, avoiding every name already used in the graph. */
export class Names {
  private n = 0;
  private readonly taken: Set<string>;
  constructor(
    graph: OnnxGraphProto,
    private readonly prefix = 'cs',
  ) {
    this.taken = new Set<string>();
    for (const nd of graph.node ?? []) for (const v of [...(nd.input ?? []), ...(nd.output ?? [])]) this.taken.add(v);
    for (const t of graph.initializer ?? []) if (t.name) this.taken.add(t.name);
    for (const v of [...(graph.input ?? []), ...(graph.output ?? [])]) if (v.name) this.taken.add(v.name);
  }
  next(hint: string): string {
    let s: string;
    do s = `${this.prefix}/${hint}_${this.n++}`;
    while (this.taken.has(s));
    this.taken.add(s);
    return s;
  }
}

/** Producer and consumers of every value of a graph, and which values are constant. */
export class GraphIndexProto {
  readonly producer = new Map<string, OnnxNodeProto>();
  readonly consumers = new Map<string, OnnxNodeProto[]>();
  readonly initializers = new Set<string>();
  readonly inputs: Set<string>;
  constructor(readonly graph: OnnxGraphProto) {
    for (const t of graph.initializer ?? []) if (t.name) this.initializers.add(t.name);
    this.inputs = new Set((graph.input ?? []).map((v) => v.name ?? '').filter((n) => n && !this.initializers.has(n)));
    for (const n of graph.node ?? []) {
      for (const o of n.output ?? []) if (o) this.producer.set(o, n);
      for (const i of n.input ?? []) {
        if (!i) continue;
        const c = this.consumers.get(i);
        if (c) c.push(n);
        else this.consumers.set(i, [n]);
      }
    }
  }

  private constMemo = new Map<string, boolean>();
  /** Whether a value is an initializer or computed from initializers and Constants alone. */
  isConst(v: string): boolean {
    const m = this.constMemo.get(v);
    if (m !== undefined) return m;
    let r: boolean;
    if (this.initializers.has(v)) r = true;
    else {
      const p = this.producer.get(v);
      r = !!p && (p.input ?? []).every((i) => !i || this.isConst(i));
    }
    this.constMemo.set(v, r);
    return r;
  }

  /** Nodes needed to compute `outputs` when the values in `stops` are given, in graph order. */
  nodesFor(outputs: readonly string[], stops: ReadonlySet<string>): OnnxNodeProto[] {
    const need = new Set<OnnxNodeProto>();
    const stack = [...outputs];
    const seen = new Set<string>();
    while (stack.length) {
      const v = stack.pop()!;
      if (seen.has(v) || stops.has(v)) continue;
      seen.add(v);
      const p = this.producer.get(v);
      if (!p || need.has(p)) continue;
      need.add(p);
      for (const i of p.input ?? []) if (i) stack.push(i);
    }
    return (this.graph.node ?? []).filter((n) => need.has(n));
  }

  /** Graph inputs (not initializers) that `nodes` read directly. */
  inputsRead(nodes: readonly OnnxNodeProto[]): string[] {
    const out = new Set<string>();
    for (const n of nodes) for (const i of n.input ?? []) if (i && this.inputs.has(i)) out.add(i);
    return [...out];
  }
}

/** Initializers that `nodes` read. */
function initializersFor(graph: OnnxGraphProto, nodes: readonly OnnxNodeProto[], extra: readonly string[] = []): OnnxGraphProto['initializer'] {
  const used = new Set<string>(extra);
  for (const n of nodes) for (const i of n.input ?? []) if (i) used.add(i);
  return (graph.initializer ?? []).filter((t) => t.name && used.has(t.name));
}

/**
 * A model computing `outputs` from the values `cuts` (made float graph inputs) and whatever original graph
 * inputs the remaining nodes read (kept with their declared types).
 */
export function submodel(model: OnnxModelProto, cuts: readonly string[], outputs: readonly string[]): OnnxModelProto {
  const g = model.graph!;
  const ix = new GraphIndexProto(g);
  const nodes = ix.nodesFor(outputs, new Set(cuts));
  const read = new Set(ix.inputsRead(nodes));
  for (const o of outputs) if (ix.inputs.has(o)) read.add(o);
  const inputs = [...cuts.map((c) => valueInfo(c, ELEM.FLOAT)), ...(g.input ?? []).filter((v) => v.name && read.has(v.name) && !cuts.includes(v.name))];
  return withGraph(model, { name: `${g.name ?? 'graph'}_sub`, node: nodes, initializer: initializersFor(g, nodes), input: inputs as OnnxGraphProto['input'], output: outputs.map((o) => ({ name: o })) });
}

/** The same model (opsets, IR version) with another graph. */
export function withGraph(model: OnnxModelProto, graph: OnnxGraphProto): OnnxModelProto {
  return { ir_version: model.ir_version, opset_import: model.opset_import, producer_name: 'circuitscope', graph, functions: model.functions } as OnnxModelProto;
}

/** Removes nodes (and initializers, inputs) that the graph's outputs do not need. Returns a new graph. */
export function prune(graph: OnnxGraphProto): OnnxGraphProto {
  const ix = new GraphIndexProto(graph);
  const outs = (graph.output ?? []).map((o) => o.name ?? '');
  const nodes = topoSort(ix.nodesFor(outs, new Set()));
  const read = new Set(ix.inputsRead(nodes));
  for (const o of outs) read.add(o);
  const used = new Set(nodes.flatMap((n) => n.input ?? []));
  return { ...graph, node: nodes, initializer: initializersFor(graph, nodes, outs), input: (graph.input ?? []).filter((v) => v.name && (read.has(v.name) || used.has(v.name))) };
}

/**
 * Copies `nodes`, renaming every value they produce with `rename` and every input in `inputMap`; inputs
 * produced outside the set keep their names. Returns the copies and the map of produced names.
 */
export function cloneNodes(nodes: readonly OnnxNodeProto[], names: Names, inputMap: ReadonlyMap<string, string>, hint: string): { nodes: OnnxNodeProto[]; renamed: Map<string, string> } {
  const renamed = new Map<string, string>(inputMap);
  const out: OnnxNodeProto[] = [];
  for (const n of nodes) {
    const outputs = (n.output ?? []).map((o) => {
      if (!o) return o;
      const r = names.next(hint);
      renamed.set(o, r);
      return r;
    });
    out.push({ ...n, name: names.next(`${hint}_node`), input: (n.input ?? []).map((i) => (i && renamed.has(i) ? renamed.get(i)! : i)), output: outputs });
  }
  return { nodes: out, renamed };
}

/** Replaces reads of `from` by `to` in `nodes` (in place) for the nodes `where` accepts. */
export function redirect(nodes: readonly OnnxNodeProto[], from: string, to: string, where: (n: OnnxNodeProto) => boolean = () => true): number {
  let count = 0;
  for (const n of nodes) {
    if (!where(n) || !n.input) continue;
    n.input = n.input.map((i) => {
      if (i !== from) return i;
      count++;
      return to;
    });
  }
  return count;
}

/**
 * Nodes in topological order (ONNX requires producers before consumers), stable for nodes already in order.
 * @throws Error on a cycle
 */
export function topoSort(nodes: readonly OnnxNodeProto[]): OnnxNodeProto[] {
  const producer = new Map<string, number>();
  nodes.forEach((n, i) => n.output?.forEach((o) => o && producer.set(o, i)));
  const state = new Uint8Array(nodes.length); // 0 new, 1 on stack, 2 done
  const out: OnnxNodeProto[] = [];
  for (let s = 0; s < nodes.length; s++) {
    if (state[s]) continue;
    const stack: [number, number][] = [[s, 0]];
    state[s] = 1;
    while (stack.length) {
      const top = stack[stack.length - 1];
      const ins = nodes[top[0]].input ?? [];
      if (top[1] < ins.length) {
        const p = producer.get(ins[top[1]++]);
        if (p === undefined || state[p] === 2) continue;
        if (state[p] === 1) throw new Error(`the graph has a cycle through node ${nodes[p].name ?? nodes[p].op_type}`);
        state[p] = 1;
        stack.push([p, 0]);
      } else {
        state[top[0]] = 2;
        out.push(nodes[top[0]]);
        stack.pop();
      }
    }
  }
  return out;
}
