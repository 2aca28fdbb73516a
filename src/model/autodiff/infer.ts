/**
 * Static facts about a graph's values, as far as they can be known without running it: element types (to
 * stop gradients at integer and bool paths), shapes (number, symbolic name or null per dimension, so the
 * gradient can use cheap static forms), and the values of small integer tensors (shape arithmetic such as
 * Shape → Gather → Concat → Reshape). Unknown stays unknown: every consumer falls back to a dynamic form.
 */
import type { OnnxGraphProto, OnnxValueInfoProto } from '../formats/onnx';
import { attrInt, attrInts, attrStr, attrTensor, ELEM, FLOAT_ELEMS, num, tensorValues, type NodeProto } from './protoUtil';

/**
 * A dimension: a number, a symbol (a dim_param, or `?k` for a dimension computed here but unknown — two
 * values with the same symbol have the same size at run time), or null (unknown, not even equal to itself).
 */
export type Dim = number | string | null;
export type Shape = Dim[];

export interface GraphFacts {
  dtype: Map<string, number>;
  shape: Map<string, Shape>;
  /** Values of small integer tensors (flattened) with their shape. */
  konst: Map<string, { dims: number[]; values: number[] }>;
  /** 1-D integer values known element by element as dimensions (Shape(x) → Gather/Slice/Concat → Reshape). */
  symbolic: Map<string, Dim[]>;
  /** Values of small constant float tensors (Resize/Upsample scales). */
  floats: Map<string, number[]>;
  /** Counter of the `?k` symbols. */
  unknowns: number;
}

function fromValueInfo(v: OnnxValueInfoProto, facts: GraphFacts): void {
  const t = v.type?.tensor_type;
  if (!v.name || !t) return;
  if (t.elem_type) facts.dtype.set(v.name, t.elem_type);
  if (t.shape) setShape(facts, v.name, (t.shape.dim ?? []).map((d) => (d.dim_value !== undefined && num(d.dim_value) > 0 ? num(d.dim_value) : d.dim_param || null)));
}

const SAME_TYPE_AS_INPUT0 = new Set([
  'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Reciprocal', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Erf', 'Gelu',
  'HardSigmoid', 'Clip', 'Softmax', 'LogSoftmax', 'LayerNormalization', 'MatMul', 'Gemm', 'Conv', 'ConvTranspose', 'MaxPool',
  'AveragePool', 'GlobalAveragePool', 'BatchNormalization', 'Reshape', 'Flatten', 'Transpose', 'Slice', 'Concat', 'Unsqueeze',
  'Squeeze', 'Expand', 'Identity', 'Gather', 'Split', 'ReduceMean', 'ReduceSum', 'Dropout', 'Min', 'Max', 'Sum', 'Mean', 'Tile', 'Pad',
  'Floor', 'Ceil', 'Round', 'Sign', 'Resize', 'Sin', 'Cos', 'Softplus', 'Elu', 'HardSwish', 'PRelu', 'GatherElements', 'GatherND', 'ReduceMax', 'ReduceMin', 'ReduceProd', 'CumSum', 'Range',
]);
const BOOL_OUT = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'Not', 'And', 'Or', 'Xor', 'IsNaN', 'IsInf']);
const INT64_OUT = new Set(['Shape', 'Size', 'ArgMax', 'ArgMin', 'NonZero']);

function outDtype(n: NodeProto, k: number, dt: (name: string) => number | undefined): number | undefined {
  const op = n.op_type ?? '';
  const ins = n.input ?? [];
  if (op === 'Cast') return attrInt(n, 'to', 0);
  if (op === 'Constant') return attrTensor(n, 'value')?.data_type ?? (attrInts(n, 'value_ints') ? ELEM.INT64 : ELEM.FLOAT);
  if (op === 'ConstantOfShape') return attrTensor(n, 'value')?.data_type ?? ELEM.FLOAT;
  if (BOOL_OUT.has(op)) return ELEM.BOOL;
  if (INT64_OUT.has(op)) return ELEM.INT64;
  if ((op === 'MaxPool' || op === 'TopK') && k === 1) return ELEM.INT64;
  if (op === 'Where') return dt(ins[1]);
  if (op === 'CastLike') return dt(ins[1]);
  if (SAME_TYPE_AS_INPUT0.has(op)) return dt(ins[0]);
  return undefined;
}

/** Collects dtypes, shapes and small constants for every value reachable by the simple rules here. */
export function inferFacts(graph: OnnxGraphProto, order: readonly NodeProto[]): GraphFacts {
  const facts: GraphFacts = { dtype: new Map(), shape: new Map(), konst: new Map(), symbolic: new Map(), floats: new Map(), unknowns: 0 };
  for (const v of [...(graph.input ?? []), ...(graph.output ?? []), ...(graph.value_info ?? [])]) fromValueInfo(v, facts);
  for (const t of graph.initializer ?? []) {
    if (!t.name) continue;
    const dims = (t.dims ?? []).map(num);
    facts.dtype.set(t.name, t.data_type ?? ELEM.FLOAT);
    facts.shape.set(t.name, dims);
    const values = tensorValues(t, 64);
    if (values && FLOAT_ELEMS.has(t.data_type ?? 0)) facts.floats.set(t.name, values);
    else if (values) facts.konst.set(t.name, { dims, values });
  }
  const dt = (name: string): number | undefined => facts.dtype.get(name);
  for (const n of order) {
    const outs = n.output ?? [];
    outs.forEach((o, k) => {
      if (!o || facts.dtype.has(o)) return;
      const d = outDtype(n, k, dt);
      if (d !== undefined) facts.dtype.set(o, d);
    });
    try {
      inferNode(n, facts);
    } catch {
      // A malformed attribute only costs the static facts of this node; the dynamic forms cover it.
    }
  }
  return facts;
}

/** Records a shape once; an unknown dimension becomes a fresh symbol that the value's same-shaped consumers share. */
function setShape(facts: GraphFacts, name: string | undefined, s: Shape | undefined): void {
  if (name && s && !facts.shape.has(name)) facts.shape.set(name, s.map((d) => (d === null ? `?${facts.unknowns++}` : d)));
}

/** Broadcasts shapes numpy-style; a dimension stays unknown unless it can be decided. */
export function broadcastShapes(shapes: Shape[]): Shape {
  const r = Math.max(...shapes.map((s) => s.length));
  const out: Shape = [];
  for (let i = 0; i < r; i++) {
    const ds = shapes.map((s) => s[s.length - r + i]).filter((d) => d !== undefined && d !== 1) as Dim[];
    if (ds.length === 0) out.push(1);
    else if (ds.some((d) => typeof d === 'number')) out.push(ds.find((d) => typeof d === 'number')!);
    else if (ds.every((d) => d !== null && d === ds[0])) out.push(ds[0]);
    else out.push(null);
  }
  return out;
}

const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

function poolShape(n: NodeProto, x: Shape, w?: Shape): Shape | undefined {
  const sp = x.length - 2;
  const k = attrInts(n, 'kernel_shape') ?? (w ? w.slice(2) : undefined);
  if (!k || k.some((d) => typeof d !== 'number')) return undefined;
  const strides = attrInts(n, 'strides') ?? Array<number>(sp).fill(1);
  const dil = attrInts(n, 'dilations') ?? Array<number>(sp).fill(1);
  const pads = attrInts(n, 'pads') ?? Array<number>(2 * sp).fill(0);
  const auto = attrStr(n, 'auto_pad', 'NOTSET');
  const ceil = attrInt(n, 'ceil_mode', 0);
  const spatial = x.slice(2).map((d, i) => {
    const kd = ((k[i] as number) - 1) * dil[i] + 1;
    // A size known only symbolically is kept by a stride-1 window whose padding adds back what it takes.
    if (typeof d !== 'number') return strides[i] === 1 && !ceil && (auto.startsWith('SAME') || (auto === 'NOTSET' && pads[i] + pads[i + sp] === kd - 1)) ? d : null;
    if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') return Math.ceil(d / strides[i]);
    if (auto === 'VALID') return Math.floor((d - kd) / strides[i]) + 1;
    const v = (d + pads[i] + pads[i + sp] - kd) / strides[i];
    return (ceil ? Math.ceil(v) : Math.floor(v)) + 1;
  });
  const ch = w ? w[0] : x[1];
  return [x[0], ch, ...spatial];
}

function inferNode(n: NodeProto, facts: GraphFacts): void {
  const op = n.op_type ?? '';
  const ins = n.input ?? [];
  const outs = n.output ?? [];
  const S = (i: number): Shape | undefined => (ins[i] ? facts.shape.get(ins[i]) : undefined);
  const K = (i: number) => (ins[i] ? facts.konst.get(ins[i]) : undefined);
  const x = S(0);
  if (op === 'Constant') {
    const t = attrTensor(n, 'value');
    const ints = attrInts(n, 'value_ints');
    if (t) {
      const dims = (t.dims ?? []).map(num);
      setShape(facts, outs[0], dims);
      const values = tensorValues(t, 64);
      if (values && FLOAT_ELEMS.has(t.data_type ?? 0)) facts.floats.set(outs[0], values);
      else if (values) facts.konst.set(outs[0], { dims, values });
    } else if (ints) {
      setShape(facts, outs[0], [ints.length]);
      facts.konst.set(outs[0], { dims: [ints.length], values: ints });
    }
    return;
  }
  if (op === 'Shape' && x) {
    setShape(facts, outs[0], [x.length]);
    if (attrInts(n, 'start') === undefined && attrInts(n, 'end') === undefined) facts.symbolic.set(outs[0], x);
    if (x.every((d) => typeof d === 'number') && attrInts(n, 'start') === undefined && attrInts(n, 'end') === undefined) {
      facts.konst.set(outs[0], { dims: [x.length], values: x as number[] });
    }
    return;
  }
  inferConst(n, facts);
  inferSymbolic(n, facts);
  if (op === 'Range') return setShape(facts, outs[0], [null]);
  if (op === 'ConstantOfShape' || op === 'Expand') {
    const si = op === 'Expand' ? 1 : 0;
    const k = symbolicOf(facts, ins[si]);
    const len = S(si)?.[0];
    const target: Shape | undefined = k ?? (typeof len === 'number' ? new Array<Dim>(len).fill(null) : undefined);
    if (!target) return;
    if (op === 'ConstantOfShape') return setShape(facts, outs[0], target);
    return x ? setShape(facts, outs[0], broadcastShapes([x, target.map((d) => (d === null ? null : d))])) : undefined;
  }
  if (SAME_SHAPE.has(op)) return setShape(facts, outs[0], x);
  if (BROADCAST.has(op)) {
    const shapes = ins.filter((i) => i).map((i) => facts.shape.get(i));
    if (shapes.every((s) => s)) setShape(facts, outs[0], broadcastShapes(shapes as Shape[]));
    return;
  }
  if (!x) return;
  inferStructural(n, facts, x, S, K);
}

function inferStructural(
  n: NodeProto,
  facts: GraphFacts,
  x: Shape,
  S: (i: number) => Shape | undefined,
  K: (i: number) => { dims: number[]; values: number[] } | undefined,
): void {
  const op = n.op_type ?? '';
  const outs = n.output ?? [];
  const r = x.length;
  switch (op) {
    case 'MatMul': {
      const w = S(1);
      if (!w) return;
      const a = r === 1 ? [1, x[0]] : x;
      const b = w.length === 1 ? [w[0], 1] : w;
      const batch = broadcastShapes([a.slice(0, -2), b.slice(0, -2)]);
      const s = [...batch, ...(r === 1 ? [] : [a[a.length - 2]]), ...(w.length === 1 ? [] : [b[b.length - 1]])];
      return setShape(facts, outs[0], s);
    }
    case 'Gemm': {
      const w = S(1);
      if (!w || r !== 2 || w.length !== 2) return;
      return setShape(facts, outs[0], [attrInt(n, 'transA', 0) ? x[1] : x[0], attrInt(n, 'transB', 0) ? w[0] : w[1]]);
    }
    case 'Conv':
    case 'MaxPool':
    case 'AveragePool': {
      const s = poolShape(n, x, op === 'Conv' ? S(1) : undefined);
      setShape(facts, outs[0], s);
      if (op === 'MaxPool') setShape(facts, outs[1], s);
      return;
    }
    case 'ConvTranspose': {
      const w = S(1);
      const k = attrInts(n, 'kernel_shape') ?? w?.slice(2);
      const sp = r - 2;
      const st = attrInts(n, 'strides') ?? new Array<number>(sp).fill(1);
      const dil = attrInts(n, 'dilations') ?? new Array<number>(sp).fill(1);
      const pads = attrInts(n, 'pads') ?? new Array<number>(2 * sp).fill(0);
      const op = attrInts(n, 'output_padding') ?? new Array<number>(sp).fill(0);
      const G = attrInt(n, 'group', 1);
      const ch = typeof w?.[1] === 'number' ? (w[1] as number) * G : null;
      const auto = attrStr(n, 'auto_pad', 'NOTSET');
      const spatial = x.slice(2).map((d, i) =>
        typeof d === 'number' && k && typeof k[i] === 'number' && auto === 'NOTSET' && !attrInts(n, 'output_shape')
          ? st[i] * (d - 1) + op[i] + ((k[i] as number) - 1) * dil[i] + 1 - pads[i] - pads[i + sp]
          : null,
      );
      return setShape(facts, outs[0], [x[0], ch, ...spatial]);
    }
    case 'Resize':
    case 'Upsample': {
      const scales = attrInts(n, 'scales') ? undefined : facts.floats.get(n.input![op === 'Resize' ? 2 : 1] ?? '');
      return setShape(facts, outs[0], x.map((d, i) => (scales && scales[i] === 1 ? d : scales && typeof d === 'number' ? Math.floor(d * scales[i]) : null)));
    }
    case 'GlobalAveragePool':
    case 'GlobalMaxPool':
      return setShape(facts, outs[0], [x[0], x[1], ...x.slice(2).map(() => 1)]);
    case 'Transpose': {
      const perm = attrInts(n, 'perm') ?? x.map((_, i) => r - 1 - i);
      return setShape(facts, outs[0], perm.map((p) => x[p]));
    }
    case 'Flatten': {
      const ax = normAxis(attrInt(n, 'axis', 1), r);
      const prod = (ds: Shape): Dim => (ds.every((d) => typeof d === 'number') ? (ds as number[]).reduce((a, b) => a * b, 1) : null);
      return setShape(facts, outs[0], [prod(x.slice(0, ax)), prod(x.slice(ax))]);
    }
    case 'Reshape': {
      const k = symbolicOf(facts, n.input![1]);
      const len = S(1)?.[0];
      // Shape computed at run time: at least the rank is known when the shape vector's length is.
      if (!k) return typeof len === 'number' ? setShape(facts, outs[0], new Array<Dim>(len).fill(null)) : undefined;
      const allowzero = attrInt(n, 'allowzero', 0);
      const s: Shape = k.map((v, i) => (v === 0 && !allowzero ? (x[i] ?? null) : v === -1 ? null : v));
      const known = x.every((d) => typeof d === 'number') ? (x as number[]).reduce((a, b) => a * b, 1) : undefined;
      const neg = s.indexOf(null);
      if (neg >= 0 && known !== undefined && s.filter((d) => d === null).length === 1 && k.includes(-1) && s.every((d) => d === null || typeof d === 'number')) {
        const rest = s.reduce<number>((a, d) => (typeof d === 'number' ? a * d : a), 1);
        s[neg] = known / rest;
      }
      return setShape(facts, outs[0], s);
    }
    case 'Unsqueeze':
    case 'Squeeze': {
      const axes = attrInts(n, 'axes') ?? K(1)?.values;
      if (!axes) return;
      if (op === 'Squeeze') {
        const ax = axes.map((a) => normAxis(a, r));
        return setShape(facts, outs[0], x.filter((_, i) => !ax.includes(i)));
      }
      const ro = r + axes.length;
      const ax = axes.map((a) => normAxis(a, ro));
      const out: Shape = [];
      let j = 0;
      for (let i = 0; i < ro; i++) out.push(ax.includes(i) ? 1 : x[j++]);
      return setShape(facts, outs[0], out);
    }
    case 'Concat': {
      const shapes = (n.input ?? []).map((i) => facts.shape.get(i));
      if (shapes.some((s) => !s)) return;
      const ax = normAxis(attrInt(n, 'axis', 0), r);
      const sum = shapes.reduce<Dim>((a, s) => (typeof a === 'number' && typeof s![ax] === 'number' ? a + (s![ax] as number) : null), 0);
      return setShape(facts, outs[0], x.map((d, i) => (i === ax ? sum : d)));
    }
    case 'ReduceMean':
    case 'ReduceSum': {
      const axes = attrInts(n, 'axes') ?? K(1)?.values;
      const keep = attrInt(n, 'keepdims', 1);
      if (!axes) return;
      const ax = axes.length ? axes.map((a) => normAxis(a, r)) : x.map((_, i) => i);
      return setShape(facts, outs[0], keep ? x.map((d, i) => (ax.includes(i) ? 1 : d)) : x.filter((_, i) => !ax.includes(i)));
    }
    case 'Split': {
      const ax = normAxis(attrInt(n, 'axis', 0), r);
      const sizes = attrInts(n, 'split') ?? K(1)?.values;
      const d = x[ax];
      const parts = sizes ?? (typeof d === 'number' && d % outs.length === 0 ? new Array<number>(outs.length).fill(d / outs.length) : undefined);
      if (!parts) return;
      outs.forEach((o, i) => setShape(facts, o, x.map((dd, j) => (j === ax ? parts[i] : dd))));
      return;
    }
    case 'Slice': {
      // opset ≥ 10: starts, ends, axes, steps as inputs (constant here); earlier: attributes
      const starts = attrInts(n, 'starts') ?? K(1)?.values;
      const ends = attrInts(n, 'ends') ?? K(2)?.values;
      if (!starts || !ends) return setShape(facts, outs[0], x.map(() => null));
      const axes = attrInts(n, 'axes') ?? K(3)?.values ?? starts.map((_, i) => i);
      const steps = K(4)?.values ?? starts.map(() => 1);
      const out: Shape = [...x];
      axes.forEach((a, i) => {
        const ax = normAxis(a, r);
        const d = x[ax];
        if (typeof d !== 'number') return void (out[ax] = null);
        const st = steps[i];
        const clamp = (v: number, lo: number, hi: number): number => Math.min(Math.max(v < 0 ? v + d : v, lo), hi);
        const b = st > 0 ? clamp(starts[i], 0, d) : clamp(starts[i], 0, d - 1);
        const e = st > 0 ? clamp(ends[i], 0, d) : clamp(ends[i], -1, d - 1);
        out[ax] = Math.max(0, Math.ceil((e - b) / st));
      });
      return setShape(facts, outs[0], out);
    }
    case 'Expand': {
      const k = K(1);
      const len = S(1)?.[0];
      if (!k) return typeof len === 'number' ? setShape(facts, outs[0], new Array<Dim>(Math.max(len, r)).fill(null)) : undefined;
      return setShape(facts, outs[0], broadcastShapes([x, k.values]));
    }
    case 'Gather': {
      const idx = S(1);
      if (!idx) return;
      const ax = normAxis(attrInt(n, 'axis', 0), r);
      return setShape(facts, outs[0], [...x.slice(0, ax), ...idx, ...x.slice(ax + 1)]);
    }
    default:
  }
}

const SAME_SHAPE = new Set([
  'Neg', 'Abs', 'Sqrt', 'Exp', 'Log', 'Reciprocal', 'Relu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Erf', 'Gelu', 'HardSigmoid', 'Clip',
  'Softmax', 'LogSoftmax', 'LayerNormalization', 'BatchNormalization', 'Identity', 'Cast', 'Dropout', 'Floor', 'Ceil', 'Round', 'Sign',
  'CumSum', 'Not', 'IsNaN', 'IsInf', 'CastLike', 'HardSwish', 'Softplus', 'Elu', 'Selu', 'Sin', 'Cos',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Where', 'Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Min', 'Max', 'Sum', 'Mean', 'PRelu']);

/** Folds small integer shape arithmetic (Gather/Slice/Concat/Unsqueeze/Squeeze/Cast/Add/Sub/Mul/Div on constants). */
function inferConst(n: NodeProto, facts: GraphFacts): void {
  const op = n.op_type ?? '';
  const ins = n.input ?? [];
  const out = n.output?.[0];
  if (!out) return;
  const k = ins.map((i) => facts.konst.get(i));
  const set = (dims: number[], values: number[]): void => {
    facts.konst.set(out, { dims, values });
    setShape(facts, out, dims);
  };
  if (!k[0]) return;
  const a = k[0];
  if (op === 'Cast' && !FLOAT_ELEMS.has(attrInt(n, 'to', 0))) return set(a.dims, a.values);
  if (op === 'Identity') return set(a.dims, a.values);
  if ((op === 'Unsqueeze' || op === 'Squeeze') && a.values.length === 1) {
    return set(op === 'Unsqueeze' ? [1] : [], a.values);
  }
  if (op === 'Gather' && k[1] && a.dims.length === 1) {
    const vals = k[1].values.map((i) => a.values[i < 0 ? i + a.values.length : i]);
    return set(k[1].dims, vals);
  }
  if (op === 'Concat' && k.every((t) => t) && ins.length === k.length) return set([k.reduce((s, t) => s + t!.values.length, 0)], k.flatMap((t) => t!.values));
  if (op === 'Slice' && a.dims.length === 1) {
    const starts = attrInts(n, 'starts') ?? k[1]?.values;
    const ends = attrInts(n, 'ends') ?? k[2]?.values;
    const steps = k[4]?.values ?? [1];
    if (!starts || !ends || starts.length !== 1 || steps[0] !== 1) return;
    const len = a.values.length;
    const clamp = (v: number): number => Math.max(0, Math.min(len, v < 0 ? v + len : v));
    return set([Math.max(0, clamp(ends[0]) - clamp(starts[0]))], a.values.slice(clamp(starts[0]), clamp(ends[0])));
  }
  const b = k[1];
  if (b && ['Add', 'Sub', 'Mul', 'Div'].includes(op) && (a.values.length === b.values.length || b.values.length === 1 || a.values.length === 1)) {
    const len = Math.max(a.values.length, b.values.length);
    const f = { Add: (x: number, y: number) => x + y, Sub: (x: number, y: number) => x - y, Mul: (x: number, y: number) => x * y, Div: (x: number, y: number) => Math.trunc(x / y) }[op as 'Add'];
    const vals = Array.from({ length: len }, (_, i) => f(a.values[a.values.length === 1 ? 0 : i], b.values[b.values.length === 1 ? 0 : i]));
    return set(a.values.length >= b.values.length ? a.dims : b.dims, vals);
  }
}

/** A 1-D integer value's elements as dimensions, when known. */
export function symbolicOf(facts: GraphFacts, name: string | undefined): Dim[] | undefined {
  if (!name) return undefined;
  const k = facts.konst.get(name);
  if (k && k.dims.length <= 1) return k.values;
  return facts.symbolic.get(name);
}

/** Carries dimension vectors through the shape arithmetic exports write (Cast, Gather, Slice, Concat, Unsqueeze). */
function inferSymbolic(n: NodeProto, facts: GraphFacts): void {
  const op = n.op_type ?? '';
  const ins = n.input ?? [];
  const out = n.output?.[0];
  if (!out || facts.konst.has(out) || facts.symbolic.has(out)) return;
  const a = symbolicOf(facts, ins[0]);
  if (!a) return;
  const set = (v: Dim[]): void => void facts.symbolic.set(out, v);
  if ((op === 'Cast' && !FLOAT_ELEMS.has(attrInt(n, 'to', 0))) || op === 'Identity') return set(a);
  if (op === 'Unsqueeze' || op === 'Squeeze') return a.length === 1 ? set(a) : undefined;
  if (op === 'Gather') {
    const idx = facts.konst.get(ins[1]);
    if (!idx || idx.dims.length > 1) return;
    return set(idx.values.map((i) => a[i < 0 ? i + a.length : i] ?? null));
  }
  if (op === 'Slice') {
    const starts = attrInts(n, 'starts') ?? facts.konst.get(ins[1])?.values;
    const ends = attrInts(n, 'ends') ?? facts.konst.get(ins[2])?.values;
    const steps = facts.konst.get(ins[4])?.values ?? [1];
    if (!starts || !ends || starts.length !== 1 || steps[0] !== 1) return;
    const len = a.length;
    const clamp = (v: number): number => Math.max(0, Math.min(len, v < 0 ? v + len : v));
    return set(a.slice(clamp(starts[0]), clamp(ends[0])));
  }
  if (op === 'Concat') {
    const parts = ins.map((i) => symbolicOf(facts, i));
    if (parts.every((p) => p)) set(parts.flatMap((p) => p!));
  }
}
