/**
 * Patterns found in the graph IR that the analyses start from: the linear classifier z = W·h + b (with its
 * weights read from the initializers), the ReLU-like hidden activations, and the value a user's layer name
 * means. Format-independent: they read the IR and the loader's lazy tensors only.
 */
import type { GraphNode, LoadedModel, ModelGraph } from './ir';

/** A graph that does not hold what a user option named (a `head` that is no linear layer, an unknown layer name). */
export class GraphPatternError extends Error {
  override readonly name = 'GraphPatternError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

/** Ops that pass a classifier's output through without changing its argmax or its linear nature. */
const PASS_THROUGH = new Set(['Identity', 'Softmax', 'LogSoftmax', 'Reshape', 'Flatten', 'Squeeze', 'Cast', 'Dropout']);

/** The linear classifier z = W·h + b found in (or named in) the graph. */
export interface LinearHeadInfo {
  /** Node name (or id when unnamed) of the Gemm / MatMul. */
  node: string;
  opType: 'Gemm' | 'MatMul';
  /** Bias Add node when the head is MatMul + Add. */
  addNode?: string;
  /** The head's input value: the features. */
  input: string;
  /** The head's output value (after the bias). */
  output: string;
  /** classes×dim, row-major, float64 (alpha and transB applied). */
  weight: Float64Array;
  /** Length classes (beta applied; zeros when there is none). */
  bias: Float64Array;
  classes: number;
  dim: number;
  /** Weight and bias tensor names, for the report. */
  weightTensor: string;
  biasTensor?: string;
}

const nodeLabel = (n: GraphNode): string => n.name || n.id;

function producers(graph: ModelGraph): Map<string, GraphNode> {
  const m = new Map<string, GraphNode>();
  for (const n of graph.nodes) for (const o of n.outputs) if (o) m.set(o, n);
  return m;
}

function consumers(graph: ModelGraph): Map<string, GraphNode[]> {
  const m = new Map<string, GraphNode[]>();
  for (const n of graph.nodes) for (const i of n.inputs) if (i) (m.get(i) ?? m.set(i, []).get(i)!).push(n);
  return m;
}

function attr(n: GraphNode, name: string, fallback: number): number {
  const a = n.attributes.find((x) => x.name === name);
  if (!a) return fallback;
  if (a.value.type === 'int' || a.value.type === 'float') return Number(a.value.value);
  return fallback;
}

/** A constant input (an initializer, possibly behind Identity or a 2-D Transpose): its data and whether it was transposed. */
async function constantOf(model: LoadedModel, value: string, prod: Map<string, GraphNode>): Promise<{ name: string; data: Float64Array; shape: number[]; transposed: boolean } | null> {
  let v = value;
  let transposed = false;
  for (let hops = 0; hops < 4; hops++) {
    const t = model.graph.tensors[v];
    if (t) {
      const lt = await model.readTensor(v);
      if (Array.isArray(lt.data) || lt.data instanceof BigInt64Array || lt.data instanceof BigUint64Array) return null;
      return { name: v, data: Float64Array.from(lt.data as ArrayLike<number>), shape: t.shape, transposed };
    }
    const p = prod.get(v);
    if (!p) return null;
    if (p.opType === 'Identity') v = p.inputs[0];
    else if (p.opType === 'Transpose') {
      transposed = !transposed;
      v = p.inputs[0];
    } else return null;
  }
  return null;
}

function transpose2(a: Float64Array, rows: number, cols: number): Float64Array {
  const out = new Float64Array(a.length);
  for (let i = 0; i < rows; i++) for (let j = 0; j < cols; j++) out[j * rows + i] = a[i * cols + j];
  return out;
}

/** Broadcasts a bias of shape [C], [1, C], [1] or [] to length C; null if it cannot. */
function biasOf(data: Float64Array, classes: number): Float64Array | null {
  if (data.length === classes) return data;
  if (data.length === 1) return new Float64Array(classes).fill(data[0]);
  return null;
}

/** Reads (W, b) of a Gemm or MatMul(+Add) node; a reason string when it is not a usable linear head. */
async function headFromNode(model: LoadedModel, n: GraphNode): Promise<LinearHeadInfo | string> {
  const graph = model.graph;
  const prod = producers(graph);
  const label = nodeLabel(n);
  if (n.opType === 'Gemm') {
    if (attr(n, 'transA', 0) !== 0) return `Gemm '${label}' has transA = 1 (features along the second axis), which is not supported`;
    const B = await constantOf(model, n.inputs[1], prod);
    if (!B || B.shape.length !== 2) return `the weight of Gemm '${label}' is not a constant 2-D tensor`;
    const transB = (attr(n, 'transB', 0) !== 0) !== B.transposed;
    const alpha = attr(n, 'alpha', 1), beta = attr(n, 'beta', 1);
    // Stored shape is that of the initializer; a Transpose node in front swaps it.
    const [r0, c0] = B.transposed ? [B.shape[1], B.shape[0]] : [B.shape[0], B.shape[1]];
    let data = B.transposed ? transpose2(B.data, B.shape[0], B.shape[1]) : B.data;
    // Now data is r0×c0 as Gemm sees input B; W (C×D) = B if transB else Bᵀ.
    let C: number, D: number;
    if (transB) {
      C = r0;
      D = c0;
    } else {
      data = transpose2(data, r0, c0);
      C = c0;
      D = r0;
    }
    const weight = alpha === 1 ? data : data.map((v) => v * alpha);
    let bias: Float64Array = new Float64Array(C);
    let biasTensor: string | undefined;
    if (n.inputs[2]) {
      const c = await constantOf(model, n.inputs[2], prod);
      const b = c && biasOf(c.data, C);
      if (!b) return `the bias of Gemm '${label}' is not a constant of ${C} values`;
      bias = beta === 1 ? b : b.map((v) => v * beta);
      biasTensor = c.name;
    }
    return { node: label, opType: 'Gemm', input: n.inputs[0], output: n.outputs[0], weight, bias, classes: C, dim: D, weightTensor: B.name, biasTensor };
  }
  if (n.opType === 'MatMul') {
    const B = await constantOf(model, n.inputs[1], prod);
    if (!B || B.shape.length !== 2) return `the weight of MatMul '${label}' is not a constant 2-D tensor`;
    const [D, C] = B.transposed ? [B.shape[1], B.shape[0]] : [B.shape[0], B.shape[1]];
    const weight = B.transposed ? B.data : transpose2(B.data, D, C);
    const cons = consumers(graph).get(n.outputs[0]) ?? [];
    let bias: Float64Array = new Float64Array(C);
    let output = n.outputs[0];
    let addNode: string | undefined, biasTensor: string | undefined;
    if (cons.length === 1 && cons[0].opType === 'Add') {
      const other = cons[0].inputs[0] === n.outputs[0] ? cons[0].inputs[1] : cons[0].inputs[0];
      const c = await constantOf(model, other, prod);
      const b = c && biasOf(c.data, C);
      if (b) {
        bias = b;
        output = cons[0].outputs[0];
        addNode = nodeLabel(cons[0]);
        biasTensor = c.name;
      }
    }
    return { node: label, opType: 'MatMul', addNode, input: n.inputs[0], output, weight, bias, classes: C, dim: D, weightTensor: B.name, biasTensor };
  }
  return `'${label}' is a ${n.opType} node, not a linear layer (Gemm or MatMul + Add)`;
}

function findNode(graph: ModelGraph, name: string): GraphNode | undefined {
  return graph.nodes.find((n) => n.name === name || n.id === name);
}

/**
 * The classifier (W, b) and its input: the node named by `head` when given; else the linear node reading
 * `layer` (directly or through Flatten/Reshape/Identity) when given; else the last Gemm / MatMul(+Add) before
 * the graph's first output (through Softmax/Identity/Reshape…). Returns the reason when there is none.
 * @throws GraphPatternError if `head` names no node, or a node that is not a usable linear layer.
 */
export async function findLinearHead(model: LoadedModel, opts: { head?: string; layer?: string } = {}): Promise<{ head: LinearHeadInfo | null; reason?: string }> {
  const graph = model.graph;
  if (opts.head) {
    const n = findNode(graph, opts.head);
    if (!n) {
      const linear = graph.nodes.filter((x) => x.opType === 'Gemm' || x.opType === 'MatMul').map((x) => `'${nodeLabel(x)}'`);
      throw new GraphPatternError(`option 'head': no node named '${opts.head}' (linear nodes: ${linear.join(', ') || 'none'})`, graph.file);
    }
    const h = await headFromNode(model, n);
    if (typeof h === 'string') throw new GraphPatternError(`option 'head': ${h}`, graph.file);
    return { head: h };
  }
  if (opts.layer) {
    const cons = consumers(graph);
    const queue = [opts.layer];
    for (let hops = 0; hops < 4 && queue.length; hops++) {
      const v = queue.shift()!;
      for (const n of cons.get(v) ?? []) {
        if ((n.opType === 'Gemm' && n.inputs[0] === v) || (n.opType === 'MatMul' && n.inputs[0] === v)) {
          const h = await headFromNode(model, n);
          if (typeof h !== 'string') return { head: h };
        } else if (['Flatten', 'Reshape', 'Identity'].includes(n.opType)) queue.push(n.outputs[0]);
      }
    }
    return { head: null, reason: `no linear layer (Gemm / MatMul) reads '${opts.layer}' directly` };
  }
  const prod = producers(graph);
  const out = graph.outputs[0];
  if (!out) return { head: null, reason: 'the graph has no outputs' };
  let v = out;
  for (let hops = 0; hops < 8; hops++) {
    const n = prod.get(v);
    if (!n) return { head: null, reason: `the output '${out}' is not produced by a linear layer` };
    if (PASS_THROUGH.has(n.opType)) {
      v = n.inputs[0];
      continue;
    }
    if (n.opType === 'Add') {
      const mm = n.inputs.map((i) => prod.get(i)).find((p) => p?.opType === 'MatMul');
      if (mm) {
        const h = await headFromNode(model, mm);
        return typeof h === 'string' ? { head: null, reason: h } : { head: h };
      }
    }
    if (n.opType === 'Gemm' || n.opType === 'MatMul') {
      const h = await headFromNode(model, n);
      return typeof h === 'string' ? { head: null, reason: h } : { head: h };
    }
    return { head: null, reason: `the output '${out}' comes from a ${n.opType} node ('${nodeLabel(n)}'), not from a linear layer (Gemm or MatMul + Add)` };
  }
  return { head: null, reason: `no linear layer found within 8 nodes of the output '${out}'` };
}

/** A ReLU-like activation found in the graph. */
export interface ActivationInfo {
  node: string;
  op: string;
  /** The value coded / analysed: 1[value > 0] is the unit's side of the hinge. */
  value: string;
  /** The activation's output (the hidden layer). */
  output: string;
  /** True for ReLU-family ops (linear regions are exact); false for smooth ones (the sign code still exists). */
  piecewiseLinear: boolean;
}

/** Ops whose output is > 0 exactly when their input is (so the output is tapped). */
const SIGN_PRESERVING_PL = new Set(['Relu', 'LeakyRelu', 'Clip', 'ThresholdedRelu']);
const SIGN_PRESERVING_SMOOTH = new Set(['Gelu', 'Elu', 'Selu', 'Celu', 'Tanh', 'Softsign', 'Mish', 'HardSwish', 'Erf']);
/** Ops whose output does not show the sign of the input (the input is tapped). */
const INPUT_CODED = new Map([['PRelu', true], ['Softplus', false], ['Sigmoid', false], ['HardSigmoid', false]]);

/**
 * Hidden activations of the graph in topological (node) order: ReLU-family ops (Relu, LeakyRelu, PRelu,
 * Clip with min 0, ThresholdedRelu); when there are none, the smooth ReLU-likes (Gelu, Elu, Selu, Celu, Mish,
 * HardSwish, Tanh, Softsign, Softplus, and the Erf of an exported GELU), marked not piecewise-linear.
 * Activations producing a graph output are not hidden and are skipped.
 */
export async function findActivations(model: LoadedModel): Promise<{ activations: ActivationInfo[]; piecewiseLinear: boolean }> {
  const graph = model.graph;
  const outputs = new Set(graph.outputs);
  const prod = producers(graph);
  const pl: ActivationInfo[] = [], smooth: ActivationInfo[] = [];
  for (const n of graph.nodes) {
    if (outputs.has(n.outputs[0])) continue;
    const label = nodeLabel(n);
    if (n.opType === 'Clip') {
      // ReLU6-style only: a min of exactly 0 (attribute before opset 11, input after).
      let min = attr(n, 'min', NaN);
      if (n.inputs[1]) {
        const c = await constantOf(model, n.inputs[1], prod);
        min = c && c.data.length === 1 ? c.data[0] : NaN;
      }
      if (min !== 0) continue;
    }
    if (SIGN_PRESERVING_PL.has(n.opType)) pl.push({ node: label, op: n.opType, value: n.outputs[0], output: n.outputs[0], piecewiseLinear: true });
    else if (SIGN_PRESERVING_SMOOTH.has(n.opType)) smooth.push({ node: label, op: n.opType === 'Erf' ? 'Gelu (Erf subgraph)' : n.opType, value: n.outputs[0], output: n.outputs[0], piecewiseLinear: false });
    else if (INPUT_CODED.has(n.opType)) {
      const info = { node: label, op: n.opType, value: n.inputs[0], output: n.outputs[0], piecewiseLinear: INPUT_CODED.get(n.opType)! };
      (info.piecewiseLinear ? pl : smooth).push(info);
    }
  }
  return pl.length ? { activations: pl, piecewiseLinear: true } : { activations: smooth, piecewiseLinear: false };
}

/** Resolves a layer name (value or node name; a node means its first output) to a value name. */
export function resolveLayer(graph: ModelGraph, name: string, what: string): string {
  if (graph.values[name]) return name;
  const n = findNode(graph, name);
  if (n && n.outputs[0]) return n.outputs[0];
  const candidates = graph.nodes.flatMap((x) => [x.name, ...x.outputs]).filter(Boolean);
  const close = candidates
    .map((c) => ({ c, d: lev(c.toLowerCase(), name.toLowerCase()) }))
    .sort((a, b) => a.d - b.d)
    .slice(0, 3)
    .map((x) => `'${x.c}'`);
  throw new GraphPatternError(`${what}: the graph has no value or node named '${name}' (closest: ${close.join(', ')})`, graph.file);
}

function lev(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}
