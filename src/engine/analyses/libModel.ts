/**
 * LIB on a model graph: which values are node layers (complete cuts), and what each section between two
 * adjacent node layers is — a Linear → pointwise-activation section with a closed form (its folded weight
 * W̃ = [W | b] read from the initializers), or anything else (Jacobians by autodiff: libGrad.ts).
 */
import type { Pointwise } from '../../analysis/lib';
import type { GraphNode, LoadedModel, ModelGraph } from '../../model/ir';
import { resolveTaps } from '../../model/runtime/onnxRewrite';
import { JobInputError } from '../errors';
import { topologicalOrder } from '../../model/graphOrder';

/** A section with a closed form: f^{l+1} = σ(f W̃ᵀ) (or no σ), per row. */
export interface ClosedSection {
  kind: 'closed';
  from: string;
  to: string;
  /** Input width w (unfolded) and output width h. */
  w: number;
  h: number;
  /** h × (w + 1) row-major: [W_eff | b]. */
  Wt: Float64Array;
  act: Pointwise | null;
  /** The node ids of the section, in order. */
  nodes: string[];
}

export interface AutodiffSection {
  kind: 'autodiff';
  from: string;
  to: string;
  nodes: string[];
  /** Why no closed form applies (for the result's notes). */
  why: string;
}

export type Section = ClosedSection | AutodiffSection;

export interface NodeLayerPlan {
  /** Value ids, input side first; the last one is the output node layer (identity basis). */
  layers: string[];
  /** How they were chosen. */
  how: string;
}

interface Topo {
  order: GraphNode[];
  index: Map<string, number>;
  producer: Map<string, number>;
  /** Values that depend on a graph input (activations, as opposed to weights and constants). */
  live: Set<string>;
}

function topo(graph: ModelGraph): Topo {
  const { order, stuck } = topologicalOrder(graph);
  if (stuck.length) throw new JobInputError('the graph has a cycle; LIB needs a feed-forward graph', graph.file);
  const index = new Map(order.map((n, i) => [n.id, i]));
  const producer = new Map<string, number>();
  order.forEach((n, i) => n.outputs.forEach((o) => o && producer.set(o, i)));
  const live = new Set(graph.inputs);
  for (const n of order) if (n.inputs.some((v) => v && live.has(v))) for (const o of n.outputs) if (o) live.add(o);
  return { order, index, producer, live };
}

/**
 * Values that are complete cuts: every path from the graph inputs to the outputs passes through them. Found by
 * sweeping the topological order: after each node, the activations produced so far and still needed later (or
 * graph outputs) form a frontier; a frontier of one value is a cut. Returned in graph order.
 */
export function findCuts(graph: ModelGraph): string[] {
  const t = topo(graph);
  const outputs = new Set(graph.outputs);
  const lastUse = new Map<string, number>();
  t.order.forEach((n, i) => n.inputs.forEach((v) => v && t.live.has(v) && lastUse.set(v, i)));
  const frontier = new Set<string>(graph.inputs.filter((v) => lastUse.has(v) || outputs.has(v)));
  const cuts: string[] = [];
  const note = (): void => {
    if (frontier.size === 1) {
      const v = [...frontier][0];
      if (cuts[cuts.length - 1] !== v) cuts.push(v);
    }
  };
  note();
  t.order.forEach((n, i) => {
    for (const o of n.outputs) if (o && t.live.has(o) && (lastUse.has(o) || outputs.has(o))) frontier.add(o);
    for (const v of n.inputs) if (v && lastUse.get(v) === i && !outputs.has(v)) frontier.delete(v);
    note();
  });
  return cuts;
}

function isLinear(n: GraphNode, graph: ModelGraph): boolean {
  if (n.opType === 'Gemm') return true;
  if (n.opType !== 'MatMul') return false;
  const w = graph.values[n.inputs[1]];
  return w?.kind === 'initializer' && (graph.tensors[n.inputs[1]]?.shape.length ?? 0) === 2;
}

/**
 * Node layers chosen automatically (ANALYSES.md §4): for residual networks the residual stream between blocks
 * (the skip input of the first residual Add, then the last residual Add of each top-level scope), otherwise the
 * input of every Linear layer that is a complete cut; the graph output last.
 * @throws JobInputError when the graph has several outputs or fewer than two node layers are found
 */
export function autoNodeLayers(graph: ModelGraph): NodeLayerPlan {
  if (graph.outputs.length !== 1) {
    throw new JobInputError(`LIB picks node layers automatically for single-output models; this one has ${graph.outputs.length} outputs — pass --layer`, graph.file);
  }
  const out = graph.outputs[0];
  const cuts = findCuts(graph);
  const cutSet = new Set(cuts);
  const t = topo(graph);
  const residual = t.order.filter(
    (n) => n.opType === 'Add' && cutSet.has(n.outputs[0]) && n.inputs.length === 2 && n.inputs.every((v) => t.live.has(v)) && n.inputs.some((v) => cutSet.has(v)),
  );
  let layers: string[];
  let how: string;
  if (residual.length) {
    const skip = residual[0].inputs.find((v) => cutSet.has(v))!;
    const groups = new Map<string, GraphNode>();
    for (const n of residual) groups.set(n.scope[0] ?? n.id, n); // the last residual Add of each top-level scope
    layers = [skip, ...[...groups.values()].map((n) => n.outputs[0])];
    how = 'residual stream between blocks (the input of the first block, then the last residual Add of each top-level scope), and the output';
  } else {
    layers = t.order.filter((n) => isLinear(n, graph) && cutSet.has(n.inputs[0])).map((n) => n.inputs[0]);
    how = 'the input of each Linear layer (Gemm / MatMul with a weight initializer) that is a complete cut, and the output';
  }
  layers = [...new Set([...layers.filter((v) => v !== out), out])];
  if (layers.length < 2) {
    throw new JobInputError(`found ${layers.length} node layer(s) (${layers.join(', ')}); LIB needs at least two complete cuts — pass --layer`, graph.file);
  }
  return { layers, how };
}

/**
 * Node layers given by the user (value or node names), checked to be complete cuts and put in graph order.
 * @throws JobInputError naming the values that are not complete cuts
 */
export function userNodeLayers(graph: ModelGraph, names: string[]): NodeLayerPlan {
  let resolved: string[];
  try {
    resolved = resolveTaps(graph, names);
  } catch (e) {
    throw new JobInputError(e instanceof Error ? e.message : String(e), graph.file);
  }
  const cuts = findCuts(graph);
  const pos = new Map(cuts.map((c, i) => [c, i]));
  const bad = resolved.filter((v) => !pos.has(v));
  if (bad.length) {
    throw new JobInputError(
      `LIB node layers must be complete cuts of the graph (every path from the input to the output passes through them); not cuts: ${bad.map((b) => `'${b}'`).join(', ')}. Cuts: ${cuts.slice(0, 12).map((c) => `'${c}'`).join(', ')}${cuts.length > 12 ? ', …' : ''}`,
      graph.file,
    );
  }
  const layers = resolved.sort((a, b) => pos.get(a)! - pos.get(b)!);
  if (layers.length < 2) throw new JobInputError(`LIB needs at least two node layers, found ${layers.length}`, graph.file);
  return { layers, how: 'given with --layer (the last one is the output node layer, identity basis)' };
}

/** Nodes computing `to` from `from` (and weights/constants), in topological order. */
function sectionNodes(graph: ModelGraph, t: Topo, from: string, to: string): GraphNode[] {
  const need = new Set<number>();
  const stack = [to];
  const seen = new Set<string>();
  while (stack.length) {
    const v = stack.pop()!;
    if (seen.has(v) || v === from) continue;
    seen.add(v);
    const p = t.producer.get(v);
    if (p === undefined) {
      if (t.live.has(v)) throw new JobInputError(`'${to}' depends on '${v}' without passing through '${from}': node layers must be complete cuts`, graph.file);
      continue;
    }
    need.add(p);
    for (const i of t.order[p].inputs) if (i) stack.push(i);
  }
  return [...need].sort((a, b) => a - b).map((i) => t.order[i]);
}

function attr(n: GraphNode, name: string): number | undefined {
  const a = n.attributes.find((x) => x.name === name);
  if (!a) return undefined;
  if (a.value.type === 'float') return a.value.value;
  if (a.value.type === 'int') return Number(a.value.value);
  return undefined;
}

async function floatTensor(model: LoadedModel, name: string): Promise<{ data: Float64Array; shape: number[] } | undefined> {
  const info = model.graph.tensors[name];
  if (!info) return undefined;
  const t = await model.readTensor(name);
  const d = t.data;
  if (!(d instanceof Float32Array) && !(d instanceof Float64Array)) return undefined;
  return { data: Float64Array.from(d), shape: info.shape };
}

const POINTWISE = new Set(['Relu', 'LeakyRelu', 'Sigmoid', 'Tanh']);

/**
 * Classifies each section: Gemm (transA = 0) or MatMul + Add with weight initializers, optionally followed by a
 * Relu / LeakyRelu / Sigmoid / Tanh, is closed-form; anything else is autodiff.
 */
export async function planSections(model: LoadedModel, layers: string[]): Promise<Section[]> {
  const graph = model.graph;
  const t = topo(graph);
  const out: Section[] = [];
  for (let l = 0; l + 1 < layers.length; l++) {
    const from = layers[l], to = layers[l + 1];
    const nodes = sectionNodes(graph, t, from, to).filter((n) => n.opType !== 'Constant');
    const ids = nodes.map((n) => n.id);
    const closed = await closedForm(model, nodes, from, to);
    if (typeof closed === 'string') out.push({ kind: 'autodiff', from, to, nodes: ids, why: closed });
    else out.push({ ...closed, from, to, nodes: ids });
  }
  return out;
}

async function closedForm(model: LoadedModel, nodes: GraphNode[], from: string, to: string): Promise<Omit<ClosedSection, 'from' | 'to' | 'nodes'> | string> {
  const ops = nodes.map((n) => n.opType).join(' → ');
  let k = 0;
  let W: Float64Array | undefined; // h × w
  let b: Float64Array | undefined;
  let h = 0, w = 0;
  const lin = nodes[k];
  if (!lin) return 'empty section';
  if (lin.opType === 'Gemm' && lin.inputs[0] === from) {
    if ((attr(lin, 'transA') ?? 0) !== 0) return 'Gemm with transA';
    const B = await floatTensor(model, lin.inputs[1]);
    if (!B || B.shape.length !== 2) return 'Gemm weight is not a float initializer';
    const transB = (attr(lin, 'transB') ?? 0) !== 0;
    const alpha = attr(lin, 'alpha') ?? 1, beta = attr(lin, 'beta') ?? 1;
    [h, w] = transB ? B.shape : [B.shape[1], B.shape[0]];
    W = new Float64Array(h * w);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) W[i * w + j] = alpha * (transB ? B.data[i * w + j] : B.data[j * h + i]);
    b = new Float64Array(h);
    if (lin.inputs[2]) {
      const C = await floatTensor(model, lin.inputs[2]);
      if (!C) return 'Gemm bias is not a float initializer';
      const bias = broadcastBias(C, h);
      if (!bias) return `Gemm bias of shape [${C.shape.join(', ')}] does not broadcast to [${h}]`;
      for (let i = 0; i < h; i++) b[i] = beta * bias[i];
    }
    k = 1;
  } else if (lin.opType === 'MatMul' && lin.inputs[0] === from) {
    const B = await floatTensor(model, lin.inputs[1]);
    if (!B || B.shape.length !== 2) return 'MatMul weight is not a 2-D float initializer';
    [w, h] = B.shape;
    W = new Float64Array(h * w);
    for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) W[i * w + j] = B.data[j * h + i];
    b = new Float64Array(h);
    k = 1;
    const add = nodes[k];
    if (add?.opType === 'Add' && add.inputs.includes(lin.outputs[0])) {
      const other = add.inputs.find((v) => v !== lin.outputs[0])!;
      const C = await floatTensor(model, other);
      const bias = C && broadcastBias(C, h);
      if (!bias) return 'MatMul followed by an Add that is not a bias';
      b.set(bias);
      k = 2;
    }
  } else {
    return `not Linear → pointwise (${ops})`;
  }
  let act: Pointwise | null = null;
  const a = nodes[k];
  if (a && POINTWISE.has(a.opType) && a.inputs[0] === nodes[k - 1].outputs[0]) {
    act = a.opType === 'LeakyRelu' ? { op: 'LeakyRelu', alpha: attr(a, 'alpha') ?? 0.01 } : ({ op: a.opType } as Pointwise);
    k++;
  }
  if (k !== nodes.length || nodes[k - 1].outputs[0] !== to) return `not Linear → pointwise (${ops})`;
  const Wt = new Float64Array(h * (w + 1));
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) Wt[i * (w + 1) + j] = W[i * w + j];
    Wt[i * (w + 1) + w] = b[i];
  }
  return { kind: 'closed', w, h, Wt, act };
}

function broadcastBias(C: { data: Float64Array; shape: number[] }, h: number): Float64Array | undefined {
  const n = C.data.length;
  if (n === h && C.shape.filter((d) => d !== 1).length <= 1) return C.data;
  if (n === 1) return new Float64Array(h).fill(C.data[0]);
  return undefined;
}
