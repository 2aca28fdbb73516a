/**
 * What the forward-only analyses (collapse, hash, redundancy) share on the engine side: finding the linear
 * classifier and the ReLU-like activations in the graph, running the train and test splits through one tapped
 * session (holding small captures in memory so a second pass does not rerun the model), the network's own
 * accuracy, and checkpoint series / width sweeps (one result row per model).
 */
import * as path from 'node:path';
import { labelPermutationCheck } from '../../analysis/stats/assignment';
import type { Dataset } from '../../model/datasets';
import type { GraphNode, LoadedModel, ModelGraph } from '../../model/ir';
import type { OrtOutput } from '../../model/runtime/ort';
import type { AnalysisEnvelope, AnalysisRequest } from '../../shared/analysis';
import type { DatasetRef } from '../../shared/engineProtocol';
import { forEachBatch, prepareTaps, type JobContext, type TapBatch, type TapRunner } from '../capture';
import { JobInputError, throwIfAborted } from '../errors';
import { loadCached } from '../modelCache';

export const DEFAULT_BATCH_SIZE = 256;

// ------------------------------------------------------------------------------------------------ graph

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
 * @throws JobInputError if `head` names no node, or a node that is not a usable linear layer.
 */
export async function findLinearHead(model: LoadedModel, opts: { head?: string; layer?: string } = {}): Promise<{ head: LinearHeadInfo | null; reason?: string }> {
  const graph = model.graph;
  if (opts.head) {
    const n = findNode(graph, opts.head);
    if (!n) {
      const linear = graph.nodes.filter((x) => x.opType === 'Gemm' || x.opType === 'MatMul').map((x) => `'${nodeLabel(x)}'`);
      throw new JobInputError(`option 'head': no node named '${opts.head}' (linear nodes: ${linear.join(', ') || 'none'})`, graph.file);
    }
    const h = await headFromNode(model, n);
    if (typeof h === 'string') throw new JobInputError(`option 'head': ${h}`, graph.file);
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
  throw new JobInputError(`${what}: the graph has no value or node named '${name}' (closest: ${close.join(', ')})`, graph.file);
}

function lev(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

// ------------------------------------------------------------------------------------------------ data

/** A split (train or test) bound to the tapped session, with its labels. */
export interface Split {
  name: 'train' | 'test';
  runner: TapRunner;
  count: number;
  labels: Int32Array;
}

/** The integer class labels of a dataset split, checked. @throws JobInputError naming what is wrong. */
export function requireLabels(ds: Dataset, split: string, count: number): Int32Array {
  if (!ds.labels) {
    throw new JobInputError(`the ${split} split of ${ds.name} has no labels; these analyses need integer class labels ('y' in an .npz, or "labels" in a dataset spec)`, ds.file);
  }
  if (ds.labelShape && ds.labelShape.length) {
    throw new JobInputError(`expected one class id per sample, found labels of shape [${ds.labelShape.join(', ')}] per sample in ${ds.name}`, ds.file);
  }
  if (ds.labels.length < count) throw new JobInputError(`the ${split} split has ${ds.inputs.count} samples but ${ds.labels.length} labels`, ds.file);
  const labels = ds.labels.subarray(0, count);
  for (let i = 0; i < labels.length; i++) {
    if (labels[i] < 0) throw new JobInputError(`${split} label ${i} is ${labels[i]}; class ids must be ≥ 0`, ds.file);
  }
  return labels;
}

/** Prepares one tapped session and binds it to the train split and (when present) the test split. */
export async function prepareSplits(model: string, data: DatasetRef | undefined, taps: string[], ctx: JobContext, limit?: number): Promise<{ train: Split; test: Split | null; backend: string }> {
  if (data === undefined) throw new JobInputError('this analysis needs data with labels (--data <file.npz>)');
  const runner = await prepareTaps(model, data, taps, ctx);
  const ds = runner.dataset;
  const n = Math.min(ds.inputs.count, limit ?? Infinity);
  const train: Split = { name: 'train', runner, count: n, labels: requireLabels(ds, 'train', n) };
  let test: Split | null = null;
  if (ds.test) {
    const m = Math.min(ds.test.inputs.count, limit ?? Infinity);
    test = { name: 'test', runner: { ...runner, dataset: ds.test }, count: m, labels: requireLabels(ds.test, 'test', m) };
  }
  return { train, test, backend: runner.backend };
}

/** A JobContext whose progress stage is prefixed. */
export function staged(ctx: JobContext, prefix: string): JobContext {
  return { ...ctx, progress: ctx.progress && ((d, t, s) => ctx.progress!(d, t, `${prefix}: ${s}`)) };
}

/**
 * Batches of one split that can be walked several times: the first walk runs the model; when the captured
 * taps fit in `holdBytes` they are kept and later walks replay them, otherwise the model runs again.
 */
export class SplitBatches {
  private held: TapBatch[] | null = [];
  private heldBytes = 0;
  private walked = false;
  runMs = 0;
  constructor(
    readonly split: Split,
    readonly taps: string[],
    readonly batchSize: number,
    readonly holdBytes = 256 * 2 ** 20,
  ) {}

  async forEach(fn: (b: TapBatch) => void | Promise<void>, ctx: JobContext): Promise<void> {
    if (this.walked && this.held) {
      let done = 0;
      for (const b of this.held) {
        throwIfAborted(ctx.signal);
        await fn(b);
        done += b.count;
        ctx.progress?.(done, this.split.count, 'replaying');
      }
      return;
    }
    const keep = !this.walked;
    const r = await forEachBatch(
      this.split.runner,
      this.batchSize,
      async (b) => {
        const tensors: Record<string, OrtOutput> = {};
        for (const t of this.taps) {
          const x = b.tensors[t];
          if (!x) throw new JobInputError(`onnxruntime returned no value for '${t}'`);
          if (x.dims[0] !== b.count) throw new JobInputError(`'${t}' has shape [${x.dims.join(', ')}]; expected a per-sample value with the batch (${b.count}) as first axis`);
          tensors[t] = x;
        }
        const batch = { ...b, labels: this.split.labels.subarray(b.start, b.start + b.count), tensors };
        if (keep && this.held) {
          for (const t of this.taps) this.heldBytes += Array.isArray(tensors[t].data) ? 0 : (tensors[t].data as Float32Array).byteLength;
          if (this.heldBytes > this.holdBytes) this.held = null;
          else this.held.push(batch);
        }
        await fn(batch);
      },
      ctx,
      { end: this.split.count },
    );
    this.runMs += r.runMs;
    this.walked = true;
  }
}

/** Float activations of a tap as a flat array, checked. */
export function floatData(t: OrtOutput, name: string): Float32Array | Float64Array {
  if (t.data instanceof Float32Array || t.data instanceof Float64Array) return t.data;
  throw new JobInputError(`'${name}' is ${t.dtype}; expected float activations`);
}

/** Elements per sample of a per-sample tensor. */
export const perSample = (t: OrtOutput): number => t.dims.slice(1).reduce((a, b) => a * b, 1);

/**
 * Counts argmax(output row) = label over a batch; null when the output is not [batch, classes]. With
 * `confusion`, also counts each (label, argmax) pair there.
 */
export function argmaxCorrect(t: OrtOutput, labels: Int32Array, confusion?: Confusion): number | null {
  if (t.dims.length !== 2 || !(t.data instanceof Float32Array || t.data instanceof Float64Array)) return null;
  const C = t.dims[1], x = t.data;
  let ok = 0;
  for (let i = 0; i < labels.length; i++) {
    let arg = 0, top = x[i * C];
    for (let c = 1; c < C; c++) {
      if (x[i * C + c] > top) {
        top = x[i * C + c];
        arg = c;
      }
    }
    if (arg === labels[i]) ok++;
    confusion?.add(labels[i], arg, C);
  }
  return ok;
}

/** Confusion counts of the network's decisions (label × output), for {@link permutedLabelsWarning}. */
export class Confusion {
  counts: Float64Array | null = null;
  outputs = 0;
  /** Set when the outputs are too few for the labels (or too many to count): no check then. */
  unusable = false;
  constructor(readonly labels: number) {}

  add(label: number, output: number, outputs: number): void {
    if (this.unusable) return;
    if (!this.counts) {
      if (outputs < this.labels || this.labels * outputs > 2 ** 22) {
        this.unusable = true;
        return;
      }
      this.outputs = outputs;
      this.counts = new Float64Array(this.labels * outputs);
    }
    if (label < this.labels && output < this.outputs) this.counts[label * this.outputs + output]++;
  }
}

/**
 * The warning when the labels look permuted against the network's outputs: its accuracy is far below what a
 * one-to-one relabelling of the confusion matrix gives (and below `reference`, a label-order-free accuracy
 * such as nearest class mean, when given); names the relabelling and the `classes` spec field that fixes it.
 * Null when they do not.
 */
export function permutedLabelsWarning(
  confusion: Confusion,
  split: string,
  classNames: readonly string[] | undefined,
  reference?: { name: string; value: number | null | undefined },
): string | null {
  if (!confusion.counts || confusion.unusable) return null;
  const L = confusion.labels, K = confusion.outputs;
  const chk = labelPermutationCheck(confusion.counts, L, K, { reference: reference?.value });
  if (!chk.permuted) return null;
  const named = (l: number) => (classNames?.[l] !== undefined ? `'${classNames[l]}' (label ${l})` : `label ${l}`);
  const moved: string[] = [];
  for (let l = 0; l < L; l++) if (chk.mapping[l] >= 0 && chk.mapping[l] !== l) moved.push(`${named(l)} → output ${chk.mapping[l]}`);
  const shown = moved.length > 12 ? `${moved.slice(0, 12).join(', ')}, … (${moved.length} in all)` : moved.join(', ');
  const ref = reference && typeof reference.value === 'number' ? `; ${reference.name} is ${reference.value.toFixed(3)}` : '';
  let fix: string;
  if (classNames && classNames.length >= L) {
    const map = Array.from({ length: L }, (_, l) => l)
      .filter((l) => chk.mapping[l] >= 0)
      .map((l) => `${JSON.stringify(classNames[l])}: ${chk.mapping[l]}`);
    const text = map.length > 12 ? `{${map.slice(0, 12).join(', ')}, …}` : `{${map.join(', ')}}`;
    fix = `if the data numbers its classes in another order than the model, give the model's order in the dataset spec: "classes": ${text}`;
  } else {
    fix = 'if the data numbers its classes in another order than the model, renumber the labels to the model\'s outputs';
  }
  return `labels look permuted: the network's ${split} accuracy is ${chk.accuracy.toFixed(3)}, but ${chk.mappedAccuracy.toFixed(3)} when ${shown}${ref}; ${fix}`;
}

/** Largest label + 1 over the splits. */
export function labelRange(...labels: (Int32Array | undefined)[]): number {
  let m = -1;
  for (const l of labels) if (l) for (let i = 0; i < l.length; i++) m = Math.max(m, l[i]);
  return m + 1;
}

// ------------------------------------------------------------------------------------------------ series

/** The outcome of one model's analysis. */
export interface OneResult<R> {
  result: R;
  backend: string;
  layer?: string | string[];
  warnings: string[];
  timings: Record<string, number>;
}

/** The number in a checkpoint's file name (epoch_064.onnx → 64; mlp_w100.onnx → 100), or null. */
export function checkpointNumber(file: string): number | null {
  const m = path.basename(file).match(/(\d+)(?!.*\d)/);
  return m ? Number(m[1]) : null;
}

/**
 * Runs `one` on the request's model, or on each of `req.models` (a checkpoint series or a set of widths),
 * returning the envelope: a single result, or `{ series: [{ model, checkpoint, …result }] }` in order.
 */
export async function runOverModels<R extends object>(
  req: AnalysisRequest,
  ctx: JobContext,
  options: Record<string, unknown>,
  one: (model: string, ctx: JobContext) => Promise<OneResult<R>>,
): Promise<AnalysisEnvelope> {
  const t0 = performance.now();
  const models = req.models?.length ? req.models : [req.model];
  if (models.length === 1) {
    const r = await one(models[0], ctx);
    return {
      analysis: req.analysis,
      model: models[0],
      backend: r.backend,
      ...(r.layer !== undefined ? { layer: r.layer } : {}),
      options,
      result: r.result,
      timings: { ...r.timings, totalMs: performance.now() - t0 },
      ...(r.warnings.length ? { warnings: r.warnings } : {}),
    };
  }
  const rows: Record<string, unknown>[] = [];
  let variants: unknown;
  const warnings: string[] = [];
  let backend = '';
  let layer: string | string[] | undefined;
  let runMs = 0;
  for (let i = 0; i < models.length; i++) {
    throwIfAborted(ctx.signal);
    const r = await one(models[i], staged(ctx, `model ${i + 1}/${models.length} (${path.basename(models[i])})`));
    // Variant labels are the same for every row: hoisted once beside the series.
    const { variants: v, ...rest } = r.result as Record<string, unknown>;
    variants ??= v;
    rows.push({ model: path.basename(models[i]), checkpoint: checkpointNumber(models[i]), ...rest });
    for (const w of r.warnings) warnings.push(`${path.basename(models[i])}: ${w}`);
    backend = r.backend;
    layer ??= r.layer;
    runMs += r.timings.runMs ?? 0;
  }
  return {
    analysis: req.analysis,
    model: path.dirname(models[0]) === path.dirname(models[models.length - 1]) ? path.dirname(models[0]) : models[0],
    backend,
    ...(layer !== undefined ? { layer } : {}),
    options,
    result: { models: models.length, series: rows, ...(variants !== undefined ? { variants } : {}) },
    timings: { runMs, totalMs: performance.now() - t0 },
    ...(warnings.length ? { warnings } : {}),
  };
}

/** The model file's graph (cached). */
export async function graphOf(model: string): Promise<LoadedModel> {
  return loadCached(model);
}
