/**
 * Shape inference over the IR, run once after loading (ONNX and TF.js graph models).
 *
 * Order of authority: shapes stored in the file (ONNX graph inputs, value_info and outputs; TF.js input
 * signatures and weights) come first and are never overwritten; inference only fills what is missing — a value
 * without a shape, or the unknown dimensions of a stored one — and a rule's result that contradicts a stored
 * shape is dropped (counted in `conflicts`). Propagation walks the graph in topological order with symbolic
 * dimensions ({@link DimAlgebra}: the model's own `dim_param` names, e.g. `batch`; TF.js `-1` dimensions of the
 * inputs become `N` (batch) and `H`/`W`), and small integer tensors are evaluated on the way, so the
 * Shape → Gather → Concat → Reshape chains exporters write around attention resolve to concrete or symbolic
 * shapes. Anything a rule cannot determine exactly stays unknown: an inferred shape is never a guess.
 *
 * Filled shapes are marked `shapeInferred` on the value (the viewer shows them as inferred).
 */
import { fileOrderIsTopological, topologicalOrder } from './graphOrder';
import type { Dim, GraphNode, LoadedModel, LoadedTensor, ModelGraph, TensorInfo, ValueInfo } from './ir';
import { MAX_VAL, type Info, type Rule } from './shapeCommon';
import { DimAlgebra, type SDim } from './shapeDims';
import { ONNX_RULES } from './shapeOnnx';
import { TFJS_RULES } from './shapeTfjs';

export interface ShapeInferenceResult {
  /** Values whose shape was filled or completed by inference. */
  inferred: number;
  /** Values whose inferred shape disagreed with the stored one (the stored one was kept). */
  conflicts: string[];
  /** Every value's shape as inferred (symbolic), for checks against a run with concrete inputs (empty with `dims: false`). */
  dims: Map<string, SDim[]>;
  /** The algebra the symbolic dims belong to ({@link DimAlgebra.evaluate} binds their symbols). */
  algebra: DimAlgebra;
  /** Symbols given to unnamed input dimensions: input id → axis → symbol. */
  inputSymbols: Record<string, Record<number, string>>;
}

/** Tensors whose values inference reads: integer tensors up to {@link MAX_VAL} elements, other numbers up to 16. */
export function isShapeConstant(t: TensorInfo): boolean {
  if (t.dtype === 'int64' || t.dtype === 'int32' || t.dtype === 'int16' || t.dtype === 'int8' || t.dtype === 'uint8') return t.elements <= MAX_VAL;
  return (t.dtype === 'float32' || t.dtype === 'float64' || t.dtype === 'float16' || t.dtype === 'bool') && t.elements <= 16;
}

/** Reads the small constants inference uses through the model's own (lazy) reader; unreadable ones are skipped. */
export async function readShapeConstants(model: LoadedModel): Promise<Map<string, number[]>> {
  const out = new Map<string, number[]>();
  const wanted: TensorInfo[] = [];
  // for…in rather than Object.values: no array of every tensor (66k of them at 100k operators)
  for (const name in model.graph.tensors) if (isShapeConstant(model.graph.tensors[name])) wanted.push(model.graph.tensors[name]);
  // Attribute tensors (ONNX Constant / ConstantOfShape values) are named `<node id>/<attribute>`.
  for (const n of model.graph.nodes) {
    for (const a of n.attributes) if (a.value.type === 'tensor' && isShapeConstant(a.value.value)) wanted.push(a.value.value);
  }
  const keep = (t: TensorInfo, data: LoadedTensor['data']): void => {
    if (Array.isArray(data)) return;
    const arr = data as ArrayLike<number | bigint>;
    const vals: number[] = [];
    for (let i = 0; i < arr.length; i++) vals.push(Number(arr[i]));
    if (vals.every((v) => Number.isFinite(v))) out.set(t.name, vals);
  };
  const readOne = async (t: TensorInfo): Promise<void> => {
    try {
      keep(t, (await model.readTensor(t.name)).data);
    } catch {
      // A tensor that cannot be read leaves the shapes depending on it unknown; loading reports it elsewhere.
    }
  };
  // what is held in memory at once, the rest a few reads in flight at once (each may open a shard or external-data file)
  const later: TensorInfo[] = [];
  for (const t of wanted) {
    let held: LoadedTensor | undefined;
    try {
      held = model.readTensorSync?.(t.name);
    } catch {
      continue; // as an unreadable tensor above
    }
    if (held) keep(t, held.data);
    else later.push(t);
  }
  for (let i = 0; i < later.length; i += 16) await Promise.all(later.slice(i, i + 16).map(readOne));
  return out;
}

/** Infers shapes for a loaded model in place (graph values); never throws. */
export async function inferModelShapes(model: LoadedModel, opts: InferOptions = {}): Promise<ShapeInferenceResult | undefined> {
  const g = model.graph;
  if (g.format === 'tfjs-layers') {
    nameLayersBatch(g);
    return undefined;
  }
  const constants = await readShapeConstants(model);
  return inferGraphShapes(g, constants, opts);
}

/**
 * Keras layers models store every layer's output shape with the batch as the leading `None`; it is one free
 * dimension across the model, named `N` here as ONNX exports name it `batch`. Other `None`s stay unknown.
 */
function nameLayersBatch(g: ModelGraph): void {
  const taken = Object.values(g.values).some((v) => v.shape?.some((d) => d === 'N'));
  if (taken) return;
  for (const v of Object.values(g.values)) {
    if (v.kind === 'initializer' || !v.shape || v.shape.length === 0 || v.shape[0] !== null) continue;
    v.shape = ['N', ...v.shape.slice(1)];
    v.shapeInferred = true;
  }
}

function toSDim(A: DimAlgebra, d: Dim): SDim {
  return typeof d === 'string' ? A.sym(d) : d;
}

/** A dimension a rule computed from malformed attributes (negative, fractional, NaN, beyond 2^40) is unknown. */
function sane(d: SDim): SDim {
  return typeof d === 'number' && !(Number.isSafeInteger(d) && d >= 0 && d <= 2 ** 40) ? null : d;
}

/** `s` with every dimension {@link sane}: `s` itself when all are (no copy per output), else a copy. */
function saneShape(s: SDim[] | undefined): SDim[] | undefined {
  if (!s) return s;
  for (let i = 0; i < s.length; i++) if (sane(s[i]) !== s[i]) return s.map(sane);
  return s;
}

/** What inference knows of a value, with the graph's value it is written back to (none for an id the graph lacks). */
interface Known extends Info {
  value?: ValueInfo;
}

/** Merges a rule's shape into a stored one; undefined on a contradiction. */
function merge(A: DimAlgebra, stored: SDim[] | undefined, got: SDim[] | undefined): SDim[] | undefined | 'conflict' {
  if (!got) return stored;
  if (!stored) return got;
  if (stored.length !== got.length) return 'conflict';
  const out: SDim[] = [];
  for (let i = 0; i < stored.length; i++) {
    const s = stored[i];
    const r = got[i];
    if (typeof s === 'number' && typeof r === 'number' && s !== r) return 'conflict';
    out.push(s ?? r);
  }
  return out;
}

function symbolsForInputs(g: ModelGraph, A: DimAlgebra): Record<string, Record<number, string>> {
  const out: Record<string, Record<number, string>> = {};
  if (!g.inputs.some((id) => g.values[id]?.shape?.includes(null))) return out;
  const single = g.inputs.length === 1;
  const taken = new Set<string>();
  for (const v of Object.values(g.values)) for (const d of v.shape ?? []) if (typeof d === 'string') taken.add(d);
  for (const id of g.inputs) {
    const s = g.values[id]?.shape;
    if (!s) continue;
    s.forEach((d, axis) => {
      if (d !== null) return;
      let name = `${id}.${axis}`;
      if (single) {
        const nhwc = g.format === 'tfjs-graph' && s.length === 4;
        name = axis === 0 ? 'N' : nhwc && axis === 1 ? 'H' : nhwc && axis === 2 ? 'W' : `d${axis}`;
      }
      while (taken.has(name)) name = `${name}'`;
      taken.add(name);
      (out[id] ??= {})[axis] = name;
      A.sym(name);
    });
  }
  return out;
}

/** The nodes in a topological order: the file's own when it is one (ONNX requires it), else a sorted copy. */
function inOrder(g: ModelGraph): readonly GraphNode[] {
  return fileOrderIsTopological(g.nodes) ? g.nodes : topologicalOrder(g).order;
}

/** Options of {@link inferGraphShapes}. */
export interface InferOptions {
  /** Fill {@link ShapeInferenceResult.dims} (default true; a load that only keeps the graph's shapes skips it). */
  dims?: boolean;
}

/**
 * Infers shapes over `g` in place. `constants` holds the values of small weight tensors (by name) that shape
 * inputs read (Reshape targets, Slice bounds, Resize scales…).
 *
 * What inference knows of a value starts as what the graph stores, read when a rule first asks for it (most of
 * 166k values at 100k operators are read once, by their one consumer; none is enumerated up front).
 */
export function inferGraphShapes(g: ModelGraph, constants: ReadonlyMap<string, number[]>, opts: InferOptions = {}): ShapeInferenceResult {
  const A = new DimAlgebra();
  // Info arrays may be shared between entries (a rule may hand on its input's shape): none is changed in place,
  // and the graph's values get copies.
  const infos = new Map<string, Known>();
  const conflicts: string[] = [];
  const inputSymbols = symbolsForInputs(g, A);
  const values = g.values;
  let anySyms = false;
  for (const id in inputSymbols) anySyms ||= Object.hasOwn(inputSymbols, id);
  /** The stored facts of a value as inference starts from them (undefined: no such value). */
  const read = (id: string): Known | undefined => {
    // one lookup for a value keyed by its own id (an inherited property has no such `id`), else the own-key check
    const v = values[id] as ValueInfo | undefined;
    if (v === undefined || (v.id !== id && !Object.hasOwn(values, id))) return undefined;
    const syms = anySyms ? inputSymbols[id] : undefined;
    let plain = !syms;
    if (plain && v.shape) for (const d of v.shape) if (typeof d === 'string') plain = false;
    const shape = plain ? (v.shape as SDim[] | undefined) : v.shape?.map((d, axis) => (d === null && syms?.[axis] !== undefined ? A.sym(syms[axis]) : toSDim(A, d)));
    const c = v.kind === 'initializer' ? constants.get(id) : undefined;
    return { shape, dtype: v.dtype, val: c && shape && c.length <= MAX_VAL ? c : undefined, value: v };
  };
  // A value no rule wrote is read afresh at each use (the same facts each time: nothing is written back before the
  // end), so `infos` holds only the written values and the inputs, not every weight read once (66k at 100k operators).
  const known = (id: string): Known | undefined => infos.get(id) ?? read(id);
  // the inputs' unnamed dimensions become symbols even where no node reads them (kept: written back below)
  for (const id of g.inputs) {
    const info = read(id);
    if (info) infos.set(id, info);
  }
  const opset = g.format === 'onnx' ? g.opsets.find((o) => o.domain === '' || o.domain === 'ai.onnx')?.version ?? 0 : 0;
  const rules: Record<string, Rule> = g.format === 'onnx' ? ONNX_RULES : TFJS_RULES;
  const constant = (n: string): number[] | undefined => constants.get(n);
  for (const node of inOrder(g)) {
    const rule = rules[node.opType];
    if (!rule) continue;
    let outs: (Info | undefined)[] | undefined;
    try {
      const ins: (Info | undefined)[] = [];
      for (const i of node.inputs) ins.push(i ? known(i) : undefined);
      outs = rule({ A, node, ins, opset, constant });
    } catch {
      outs = undefined; // malformed attributes: this node's outputs stay as stored
    }
    if (!outs) continue;
    for (let k = 0; k < node.outputs.length; k++) {
      const id = node.outputs[k];
      const got = outs[k];
      if (!id || !got) continue;
      const prev: Known = known(id) ?? {};
      const m = merge(A, prev.shape, saneShape(got.shape));
      if (m === 'conflict') {
        conflicts.push(id);
        continue;
      }
      const keepVal = got.val && m && m.length === got.shape?.length;
      infos.set(id, { shape: m, dtype: prev.dtype ?? got.dtype, val: keepVal ? got.val : prev.val, value: prev.value });
    }
  }
  // Only a value inference wrote (or an input given symbols) can have changed: the others keep their stored shape.
  let inferred = 0;
  for (const info of infos.values()) {
    const v = info.value;
    const shape = info.shape;
    if (!shape || !v || v.kind === 'initializer') continue;
    const before = v.shape;
    let changed = !before || before.length !== shape.length;
    for (let i = 0; !changed && i < shape.length; i++) changed = before![i] !== A.toDim(shape[i]);
    if (!changed) continue;
    const dims: Dim[] = new Array<Dim>(shape.length);
    for (let i = 0; i < shape.length; i++) dims[i] = A.toDim(shape[i]);
    v.shape = dims;
    v.shapeInferred = true;
    if (!v.dtype && info.dtype) v.dtype = info.dtype;
    inferred++;
  }
  const dims = new Map<string, SDim[]>();
  if (opts.dims !== false) {
    for (const id in values) {
      const shape = known(id)?.shape;
      if (shape) dims.set(id, shape);
    }
  }
  return { inferred, conflicts, dims, algebra: A, inputSymbols };
}
