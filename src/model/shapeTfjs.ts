/**
 * TF.js graph-model shape rules (TensorFlow ops, NHWC unless `data_format` says NCHW). Shapes come from the
 * input signature and the weights' shapes in the manifest; shape-like inputs (Reshape targets, axes, paddings,
 * StridedSlice bounds) are read from small weights, inline `Const` values or propagated `Shape` results.
 */
import type { DType, GraphNode } from './ir';
import {
  attr,
  attrInt,
  attrInts,
  attrStr,
  broadcastAll,
  isIntDtype,
  mapVals,
  MAX_VAL,
  normAxis,
  numbers,
  BIG,
  numel,
  sameAsInput,
  sliceLength,
  withVal,
  type Info,
  type Rule,
} from './shapeCommon';
import type { DimAlgebra, SDim } from './shapeDims';

function attrBool(node: GraphNode, name: string): boolean {
  const v = attr(node, name);
  return v?.type === 'json' && v.value === true;
}

function attrType(node: GraphNode, name: string): DType | undefined {
  const v = attr(node, name);
  return v?.type === 'type' ? (v.value as DType) : undefined;
}

const UNARY = [
  'Relu', 'Relu6', 'Elu', 'Selu', 'LeakyRelu', 'Sigmoid', 'Tanh', 'Abs', 'Neg', 'Cos', 'Sin', 'Tan', 'Exp', 'Log', 'Log1p', 'Reciprocal',
  'Floor', 'Ceil', 'Round', 'Sign', 'Square', 'Sqrt', 'Rsqrt', 'Softmax', 'LogSoftmax', 'Softplus', 'Softsign', 'Erf', 'ZerosLike',
  'OnesLike', 'IsNan', 'LogicalNot', 'Atan', 'Asin', 'Acos', 'Sinh', 'Cosh', 'StopGradient', 'Snapshot', 'EnsureShape', 'ClipByValue',
  'FusedBatchNorm', 'FusedBatchNormV2', 'FusedBatchNormV3', 'LRN', 'Cumsum', 'Mish', 'Swish', 'Gelu',
];
const BINARY = [
  'Add', 'AddV2', 'Sub', 'Mul', 'RealDiv', 'Div', 'DivNoNan', 'FloorDiv', 'FloorMod', 'Mod', 'Minimum', 'Maximum', 'Pow',
  'SquaredDifference', 'Atan2', 'Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'Prelu',
];
const BOOL_OUT = new Set(['Less', 'LessEqual', 'Greater', 'GreaterEqual', 'Equal', 'NotEqual', 'LogicalAnd', 'LogicalOr', 'IsNan', 'LogicalNot']);

function binaryValue(op: string, A: DimAlgebra, intType: boolean): ((xs: SDim[]) => SDim) | undefined {
  switch (op) {
    case 'Add':
    case 'AddV2':
      return ([a, b]) => A.add(a, b);
    case 'Sub':
      return ([a, b]) => A.sub(a, b);
    case 'Mul':
      return ([a, b]) => A.mul(a, b);
    case 'FloorDiv':
      return ([a, b]) => (typeof b === 'number' && Number.isInteger(b) && b > 0 ? A.floorDiv(a, b) : null);
    case 'RealDiv':
    case 'Div':
      return ([a, b]) => {
        if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : intType ? Math.trunc(a / b) : a / b;
        return typeof b === 'number' && Number.isInteger(b) && b > 0 ? (intType ? A.floorDiv(a, b) : A.exactDiv(a, b)) : null;
      };
    case 'Maximum':
      return ([a, b]) => (typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : typeof b === 'number' && b <= 0 ? a : typeof a === 'number' && a <= 0 ? b : null);
    case 'Minimum':
      return ([a, b]) => (typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : null);
    default:
      return undefined;
  }
}

const unary: Rule = ({ node, ins }) => {
  const x = ins[0];
  const dtype = BOOL_OUT.has(node.opType) ? 'bool' : x?.dtype;
  const pass = node.opType === 'Identity' || node.opType === 'StopGradient' || node.opType === 'Snapshot';
  const neg = node.opType === 'Neg' && x?.val?.every((v) => typeof v === 'number') ? x.val.map((v) => -(v as number)) : undefined;
  return [withVal(x?.shape, dtype, pass ? x?.val : neg)];
};

const binary: Rule = ({ A, node, ins }) => {
  const shape = broadcastAll(A, ins.slice(0, 2).map((x) => x?.shape));
  const d0 = ins[0]?.dtype;
  const f = binaryValue(node.opType, A, isIntDtype(d0));
  return [withVal(shape, BOOL_OUT.has(node.opType) ? 'bool' : d0, f ? mapVals(ins.slice(0, 2), shape, f) : undefined)];
};

const addN: Rule = ({ A, ins }) => [{ shape: broadcastAll(A, ins.map((x) => x?.shape)), dtype: ins[0]?.dtype }];

const select: Rule = ({ A, ins }) => [{ shape: broadcastAll(A, ins.map((x) => x?.shape)), dtype: ins[1]?.dtype }];

const cast: Rule = ({ node, ins }) => {
  const to = attrType(node, 'DstT');
  const x = ins[0];
  const val = x?.val?.map((v) => (typeof v === 'number' && isIntDtype(to) ? Math.trunc(v) : v));
  return [withVal(x?.shape, to ?? x?.dtype, val)];
};

/** Layout of a 4-D image op: indices of the batch, channel and spatial axes. */
function layout(node: GraphNode): { c: number; sp: [number, number] } {
  return (attrStr(node, 'data_format') ?? 'NHWC') === 'NCHW' ? { c: 1, sp: [2, 3] } : { c: 3, sp: [1, 2] };
}

/** One spatial output of a TF window op: SAME → ceil(x/s); VALID → ceil((x − eff + 1)/s); EXPLICIT pads. */
function tfWindow(A: DimAlgebra, x: SDim, k: number, s: number, dil: number, padding: string, pads: [number, number]): SDim {
  const eff = (k - 1) * dil + 1;
  if (padding === 'SAME') return A.ceilDiv(x, s);
  if (padding === 'VALID') return A.ceilDiv(A.add(x, 1 - eff), s);
  if (padding === 'EXPLICIT') return A.add(A.floorDiv(A.add(x, pads[0] + pads[1] - eff), s), 1);
  return null;
}

function windowOp(A: DimAlgebra, node: GraphNode, x: SDim[], kernel: [number, number], outC: SDim): SDim[] | undefined {
  if (x.length !== 4) return undefined;
  const { c, sp } = layout(node);
  const strides = attrInts(node, 'strides') ?? [1, 1, 1, 1];
  const dil = attrInts(node, 'dilations') ?? [1, 1, 1, 1];
  const padding = attrStr(node, 'padding') ?? 'VALID';
  const ex = attrInts(node, 'explicit_paddings') ?? [];
  const out = [...x];
  out[c] = outC;
  for (let i = 0; i < 2; i++) {
    const a = sp[i];
    out[a] = tfWindow(A, x[a], kernel[i], strides[a] ?? 1, dil[a] ?? 1, padding, [ex[2 * a] ?? 0, ex[2 * a + 1] ?? 0]);
  }
  return out;
}

/** Conv2D / _FusedConv2D (filter [kh, kw, in, out]) and the depthwise forms (filter [kh, kw, in, multiplier]). */
const conv: Rule = ({ A, node, ins }) => {
  const x = ins[0]?.shape;
  const w = ins[1]?.shape;
  const dtype = ins[0]?.dtype;
  if (!x || !w || w.length !== 4 || typeof w[0] !== 'number' || typeof w[1] !== 'number') return [{ dtype }];
  const depthwise = node.opType.includes('Depthwise');
  const outC = depthwise ? A.mul(w[2], w[3]) : w[3];
  return [{ shape: windowOp(A, node, x, [w[0], w[1]], outC), dtype }];
};

const pool: Rule = ({ A, node, ins }) => {
  const x = ins[0]?.shape;
  const ksize = attrInts(node, 'ksize');
  if (!x || !ksize || ksize.length !== 4) return [{ dtype: ins[0]?.dtype }];
  const { c, sp } = layout(node);
  return [{ shape: windowOp(A, node, x, [ksize[sp[0]], ksize[sp[1]]], x[c]), dtype: ins[0]?.dtype }];
};

const convBackpropInput: Rule = ({ ins }) => [withVal(ins[0]?.val ? [...ins[0].val] : undefined, ins[2]?.dtype, undefined)];

function matmulShape(A: DimAlgebra, a: SDim[] | undefined, b: SDim[] | undefined, ta: boolean, tb: boolean): SDim[] | undefined {
  if (!a || !b || a.length < 2 || b.length < 2) return undefined;
  const m = ta ? a[a.length - 1] : a[a.length - 2];
  const n = tb ? b[b.length - 2] : b[b.length - 1];
  const batch = broadcastAll(A, [a.slice(0, -2), b.slice(0, -2)]);
  return batch ? [...batch, m, n] : undefined;
}

const matmul: Rule = ({ A, node, ins }) => {
  const batch = node.opType.startsWith('BatchMatMul');
  const ta = attrBool(node, batch ? 'adj_x' : 'transpose_a');
  const tb = attrBool(node, batch ? 'adj_y' : 'transpose_b');
  return [{ shape: matmulShape(A, ins[0]?.shape, ins[1]?.shape, ta, tb), dtype: ins[0]?.dtype }];
};

const reshape: Rule = ({ A, ins }) => {
  const x = ins[0];
  const target = ins[1]?.val;
  if (!target) return [{ dtype: x?.dtype }];
  const minus = target.findIndex((t) => t === -1);
  const out: SDim[] = target.map((t) => (t === -1 ? null : t));
  if (minus >= 0 && x?.shape) out[minus] = A.exactDiv(numel(A, x.shape), numel(A, out.filter((_, i) => i !== minus)));
  return [withVal(out, x?.dtype, x?.val)];
};

const shapeOp: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  const dtype = attrType(node, 'out_type') ?? 'int32';
  return [s ? { shape: [s.length], dtype, val: [...s] } : { dtype }];
};

const size: Rule = ({ A, node, ins }) => {
  const s = ins[0]?.shape;
  return [{ shape: [], dtype: attrType(node, 'out_type') ?? 'int32', val: s ? [numel(A, s)] : undefined }];
};

/** Inline Const (values kept in the attribute summary: up to 64 listed, a single one splatted over the shape). */
const constOp: Rule = ({ node }) => {
  const v = attr(node, 'value');
  if (v?.type !== 'json' || typeof v.value !== 'object' || v.value === null) return undefined;
  const t = v.value as Record<string, unknown>;
  const shape = Array.isArray(t.shape) ? (t.shape as (number | null)[]) : undefined;
  const dtype = typeof t.dtype === 'string' ? (t.dtype as DType) : undefined;
  if (!shape) return [{ dtype }];
  const n = numbers(shape)?.reduce((p, d) => p * d, 1);
  let val: SDim[] | undefined;
  for (const k of ['intVal', 'int64Val', 'floatVal', 'doubleVal']) {
    const list = t[k];
    if (!Array.isArray(list) || n === undefined || n > MAX_VAL) continue;
    const xs = list.map(Number);
    if (xs.length === n) val = xs;
    else if (xs.length === 1) val = new Array<SDim>(n).fill(xs[0]);
  }
  return [withVal([...shape], dtype, val)];
};

function axisFrom(info: Info | undefined): number | undefined {
  const v = info?.val?.[0];
  return typeof v === 'number' ? v : undefined;
}

const concat: Rule = ({ A, ins }) => {
  const parts = ins.slice(0, -1);
  const axisRaw = axisFrom(ins[ins.length - 1]);
  const first = parts.find((x) => x?.shape)?.shape;
  const dtype = parts.find((x) => x?.dtype)?.dtype;
  if (!first || axisRaw === undefined || !parts.every((x) => x?.shape?.length === first.length)) return [{ dtype }];
  const axis = normAxis(axisRaw, first.length);
  if (axis === undefined) return [{ dtype }];
  const out = first.map((_, i) =>
    i === axis
      ? parts.reduce<SDim>((s, x) => A.add(s, x!.shape![i]), 0)
      : parts.map((x) => x!.shape![i]).find((d) => typeof d === 'number') ?? parts.map((x) => x!.shape![i]).find((d) => d !== null) ?? null,
  );
  const val = first.length === 1 && parts.every((x) => x?.val) ? parts.flatMap((x) => x!.val!) : undefined;
  return [withVal(out, dtype, val)];
};

const pack: Rule = ({ node, ins }) => {
  const first = ins[0]?.shape;
  const dtype = ins[0]?.dtype;
  if (!first) return [{ dtype }];
  const axis = normAxis(attrInt(node, 'axis', 0), first.length + 1);
  if (axis === undefined) return [{ dtype }];
  const out = [...first.slice(0, axis), ins.length, ...first.slice(axis)];
  const val = first.length === 0 && ins.every((x) => x?.val?.length === 1) ? ins.map((x) => x!.val![0]) : undefined;
  return [withVal(out, dtype, val)];
};

const unpack: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  const outs = node.outputs.length;
  if (!s) return node.outputs.map(() => ({ dtype: ins[0]?.dtype }));
  const axis = normAxis(attrInt(node, 'axis', 0), s.length);
  if (axis === undefined) return undefined;
  const shape = s.filter((_, i) => i !== axis);
  const val = s.length === 1 && ins[0]?.val ? ins[0].val : undefined;
  return Array.from({ length: outs }, (_, k) => withVal(shape, ins[0]?.dtype, val ? [val[k]] : undefined));
};

const expandDims: Rule = ({ ins }) => {
  const x = ins[0];
  const a = axisFrom(ins[1]);
  if (!x?.shape || a === undefined) return [{ dtype: x?.dtype }];
  const axis = normAxis(a, x.shape.length + 1);
  if (axis === undefined) return [{ dtype: x.dtype }];
  return [withVal([...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)], x.dtype, x.val)];
};

const squeeze: Rule = ({ node, ins }) => {
  const x = ins[0];
  const s = x?.shape;
  if (!s) return [{ dtype: x?.dtype }];
  const dims = attrInts(node, 'squeeze_dims') ?? attrInts(node, 'axis') ?? [];
  if (dims.length === 0) {
    if (!s.every((d) => typeof d === 'number')) return [{ dtype: x?.dtype }];
    return [withVal(s.filter((d) => d !== 1), x?.dtype, x?.val)];
  }
  const norm = new Set(dims.map((a) => (a < 0 ? a + s.length : a)));
  return [withVal(s.filter((_, i) => !norm.has(i)), x?.dtype, x?.val)];
};


/** StridedSlice with begin/end/ellipsis/new-axis/shrink masks (TensorFlow's sparse → dense spec). */
const stridedSlice: Rule = ({ A, node, ins }) => {
  const x = ins[0];
  const s = x?.shape;
  const begin = ins[1]?.val;
  const end = ins[2]?.val;
  const strides = numbers(ins[3]?.val);
  if (!s || !begin || !end || !strides || begin.length !== end.length || end.length !== strides.length) return [{ dtype: x?.dtype }];
  const bm = attrInt(node, 'begin_mask', 0);
  const em = attrInt(node, 'end_mask', 0);
  const elm = attrInt(node, 'ellipsis_mask', 0);
  const nam = attrInt(node, 'new_axis_mask', 0);
  const sam = attrInt(node, 'shrink_axis_mask', 0);
  const k = begin.length;
  const bit = (m: number, i: number): boolean => ((m >> i) & 1) === 1;
  let newAxes = 0;
  for (let i = 0; i < k; i++) if (bit(nam, i) && !bit(elm, i)) newAxes++;
  const hasEllipsis = elm !== 0;
  const consumed = k - (hasEllipsis ? 1 : 0) - newAxes;
  const out: SDim[] = [];
  const firsts: (number | undefined)[] = [];
  let dim = 0;
  for (let i = 0; i < k; i++) {
    if (bit(elm, i)) {
      const cover = s.length - consumed;
      for (let j = 0; j < cover; j++) out.push(s[dim++]);
      continue;
    }
    if (bit(nam, i)) {
      out.push(1);
      continue;
    }
    const d = s[dim++];
    if (d === undefined) return [{ dtype: x?.dtype }];
    const st = strides[i];
    if (bit(sam, i)) {
      firsts.push(typeof begin[i] === 'number' && typeof d === 'number' ? ((begin[i] as number) < 0 ? (begin[i] as number) + d : (begin[i] as number)) : undefined);
      continue;
    }
    const b = bit(bm, i) ? (st > 0 ? 0 : -1) : begin[i];
    const e = bit(em, i) ? (st > 0 ? BIG : -BIG - 1) : end[i];
    const r = sliceLength(A, d, b, e, st);
    out.push(r.len);
    firsts.push(r.first);
  }
  while (dim < s.length) out.push(s[dim++]);
  let val: SDim[] | undefined;
  if (s.length === 1 && x?.val && firsts[0] !== undefined && strides.length >= 1) {
    if (out.length === 0) val = [x.val[firsts[0]] ?? null];
    else if (typeof out[0] === 'number' && out.length === 1) val = Array.from({ length: out[0] }, (_, j) => x.val![firsts[0]! + j * strides[0]] ?? null);
  }
  return [withVal(out, x?.dtype, val)];
};

const sliceOp: Rule = ({ A, ins }) => {
  const x = ins[0];
  const s = x?.shape;
  const begin = ins[1]?.val;
  const sz = ins[2]?.val;
  if (!s || !begin || !sz || begin.length !== s.length || sz.length !== s.length) return [{ dtype: x?.dtype }];
  const out = s.map((d, i) => (sz[i] === -1 ? A.sub(d, begin[i]) : sz[i]));
  const b0 = begin[0];
  const val = s.length === 1 && x?.val && typeof b0 === 'number' && typeof out[0] === 'number' ? x.val.slice(b0, b0 + out[0]) : undefined;
  return [withVal(out, x?.dtype, val)];
};

const gather: Rule = ({ node, ins }) => {
  const x = ins[0];
  const idx = ins[1];
  const s = x?.shape;
  const a = node.opType === 'GatherV2' ? axisFrom(ins[2]) : 0;
  if (!s || !idx?.shape || a === undefined) return [{ dtype: x?.dtype }];
  const axis = normAxis(a, s.length);
  const bd = attrInt(node, 'batch_dims', 0);
  if (axis === undefined || bd < 0) return [{ dtype: x?.dtype }];
  const shape = [...s.slice(0, axis), ...idx.shape.slice(bd), ...s.slice(axis + 1)];
  const ids = numbers(idx.val);
  const n = s[0];
  const val = s.length === 1 && x?.val && ids && typeof n === 'number' ? ids.map((i) => x.val![i < 0 ? i + n : i] ?? null) : undefined;
  return [withVal(shape, x?.dtype, val)];
};

const gatherNd: Rule = ({ ins }) => {
  const s = ins[0]?.shape;
  const idx = ins[1]?.shape;
  const last = idx?.[idx.length - 1];
  if (!s || !idx || typeof last !== 'number') return [{ dtype: ins[0]?.dtype }];
  return [{ shape: [...idx.slice(0, -1), ...s.slice(last)], dtype: ins[0]?.dtype }];
};

const transpose: Rule = ({ ins }) => {
  const s = ins[0]?.shape;
  const perm = numbers(ins[1]?.val);
  if (!s || !perm || perm.length !== s.length) return [{ dtype: ins[0]?.dtype }];
  return [{ shape: perm.map((p) => s[p] ?? null), dtype: ins[0]?.dtype }];
};

const pad: Rule = ({ A, ins }) => {
  const s = ins[0]?.shape;
  const p = numbers(ins[1]?.val);
  if (!s || !p || p.length !== 2 * s.length) return [{ dtype: ins[0]?.dtype }];
  return [{ shape: s.map((d, i) => A.add(d, p[2 * i] + p[2 * i + 1])), dtype: ins[0]?.dtype }];
};

const reduce: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  const axes = numbers(ins[1]?.val);
  const argmax = node.opType === 'ArgMax' || node.opType === 'ArgMin';
  const dtype = argmax ? attrType(node, 'output_type') ?? 'int64' : ins[0]?.dtype;
  if (!s || !axes) return [{ dtype }];
  const keep = !argmax && attrBool(node, 'keep_dims');
  const norm = new Set(axes.map((a) => (a < 0 ? a + s.length : a)));
  const out: SDim[] = [];
  s.forEach((d, i) => {
    if (!norm.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return [{ shape: out, dtype }];
};

const resize: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  const size = ins[1]?.val;
  const dtype = node.opType === 'ResizeBilinear' ? 'float32' : ins[0]?.dtype;
  if (!s || s.length !== 4 || !size || size.length !== 2) return [{ dtype }];
  return [{ shape: [s[0], size[0], size[1], s[3]], dtype }];
};

const fill: Rule = ({ ins }) => {
  const dims = ins[0]?.val;
  const v = ins[1]?.val?.[0];
  const n = numbers(dims)?.reduce((p, d) => p * d, 1);
  const val = v !== undefined && n !== undefined && n <= MAX_VAL ? new Array<SDim>(n).fill(v) : undefined;
  return [withVal(dims ? [...dims] : undefined, ins[1]?.dtype, val)];
};

const range: Rule = ({ A, ins }) => {
  const [start, limit, delta] = [ins[0]?.val?.[0], ins[1]?.val?.[0], ins[2]?.val?.[0]];
  const dtype = ins[0]?.dtype;
  if (start === undefined || limit === undefined || typeof delta !== 'number' || delta === 0) return [{ shape: [null], dtype }];
  if (typeof start === 'number' && typeof limit === 'number') {
    const n = Math.max(0, Math.ceil((limit - start) / delta));
    return [withVal([n], dtype, n <= MAX_VAL ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined)];
  }
  if (!Number.isInteger(delta) || delta < 0) return [{ shape: [null], dtype }];
  return [{ shape: [A.ceilDiv(A.sub(limit, start), delta)], dtype }];
};

const tile: Rule = ({ A, ins }) => {
  const s = ins[0]?.shape;
  const m = ins[1]?.val;
  if (!s || !m || m.length !== s.length) return [{ dtype: ins[0]?.dtype }];
  return [{ shape: s.map((d, i) => A.mul(d, m[i])), dtype: ins[0]?.dtype }];
};

const broadcastTo: Rule = ({ A, ins }) => {
  const s = ins[0]?.shape;
  const t = ins[1]?.val;
  if (!s || !t) return [{ dtype: ins[0]?.dtype }];
  return [{ shape: broadcastAll(A, [s, t]), dtype: ins[0]?.dtype }];
};

const splitOp: Rule = ({ A, node, ins }) => {
  const isV = node.opType === 'SplitV';
  const x = isV ? ins[0] : ins[1];
  const a = axisFrom(isV ? ins[2] : ins[0]);
  const s = x?.shape;
  const k = node.outputs.length;
  if (!s || a === undefined) return node.outputs.map(() => ({ dtype: x?.dtype }));
  const axis = normAxis(a, s.length);
  if (axis === undefined) return undefined;
  let sizes: SDim[];
  if (isV) {
    const given = ins[1]?.val;
    if (!given || given.length !== k) return node.outputs.map(() => ({ dtype: x?.dtype }));
    const minus = given.findIndex((v) => v === -1);
    sizes = [...given];
    if (minus >= 0) sizes[minus] = A.sub(s[axis], given.filter((_, i) => i !== minus).reduce<SDim>((p, v) => A.add(p, v), 0));
  } else sizes = node.outputs.map(() => A.exactDiv(s[axis], k));
  return sizes.map((sz) => ({ shape: s.map((d, i) => (i === axis ? sz : d)), dtype: x?.dtype }));
};

const depthToSpace: Rule = ({ A, node, ins }) => {
  const s = ins[0]?.shape;
  const b = attrInt(node, 'block_size', 0);
  if (!s || s.length !== 4 || b <= 0) return [{ dtype: ins[0]?.dtype }];
  const { c, sp } = layout(node);
  const out = [...s];
  const d2s = node.opType === 'DepthToSpace';
  out[c] = d2s ? A.exactDiv(s[c], b * b) : A.scale(s[c], b * b);
  for (const a of sp) out[a] = d2s ? A.scale(s[a], b) : A.exactDiv(s[a], b);
  return [{ shape: out, dtype: ins[0]?.dtype }];
};

const topK: Rule = ({ ins }) => {
  const s = ins[0]?.shape;
  const k = ins[1]?.val?.[0];
  if (!s || s.length === 0 || k === undefined) return [{ dtype: ins[0]?.dtype }, { dtype: 'int32' }];
  const shape = [...s.slice(0, -1), k];
  return [{ shape, dtype: ins[0]?.dtype }, { shape, dtype: 'int32' }];
};

/**
 * SparseToDense(indices, output_shape, values, default): the shape is `output_shape`; the values are computed for
 * a rank-1 output when the indices and values are known (onnx-tf writes this to resolve Reshape's 0 entries).
 */
const sparseToDense: Rule = ({ ins }) => {
  const shape = ins[1]?.val;
  const dtype = ins[2]?.dtype;
  if (!shape) return [{ dtype }];
  const n = shape.length === 1 ? shape[0] : undefined;
  const idxShape = numbers(ins[0]?.shape);
  const dflt = ins[3]?.val?.[0];
  let val: SDim[] | undefined;
  if (typeof n === 'number' && n <= MAX_VAL && idxShape && dflt !== undefined) {
    const k = idxShape.length === 0 ? 1 : idxShape[0];
    const idx = numbers(ins[0]?.val);
    const vals = ins[2]?.val;
    if (k === 0) val = new Array<SDim>(n).fill(dflt);
    else if (idx && idx.length === k && vals && (vals.length === k || vals.length === 1)) {
      val = new Array<SDim>(n).fill(dflt);
      idx.forEach((i, j) => {
        if (i >= 0 && i < n) val![i] = vals.length === 1 ? vals[0] : vals[j];
      });
    }
  }
  return [withVal([...shape], dtype, val)];
};

export const TFJS_RULES: Record<string, Rule> = {
  SparseToDense: sparseToDense,
  ...Object.fromEntries(UNARY.map((op) => [op, unary])),
  ...Object.fromEntries(BINARY.map((op) => [op, binary])),
  Identity: unary,
  BiasAdd: sameAsInput,
  AddN: addN,
  Select: select,
  SelectV2: select,
  Cast: cast,
  Conv2D: conv,
  _FusedConv2D: conv,
  DepthwiseConv2dNative: conv,
  FusedDepthwiseConv2dNative: conv,
  MaxPool: pool,
  AvgPool: pool,
  Conv2DBackpropInput: convBackpropInput,
  MatMul: matmul,
  _FusedMatMul: matmul,
  BatchMatMul: matmul,
  BatchMatMulV2: matmul,
  Reshape: reshape,
  Shape: shapeOp,
  Size: size,
  Const: constOp,
  ConcatV2: concat,
  Pack: pack,
  Unpack: unpack,
  ExpandDims: expandDims,
  Squeeze: squeeze,
  StridedSlice: stridedSlice,
  Slice: sliceOp,
  GatherV2: gather,
  Gather: gather,
  GatherNd: gatherNd,
  Transpose: transpose,
  Pad: pad,
  PadV2: pad,
  MirrorPad: pad,
  Mean: reduce,
  Sum: reduce,
  Max: reduce,
  Min: reduce,
  Prod: reduce,
  All: reduce,
  Any: reduce,
  ArgMax: reduce,
  ArgMin: reduce,
  ResizeBilinear: resize,
  ResizeNearestNeighbor: resize,
  Fill: fill,
  Range: range,
  Tile: tile,
  BroadcastTo: broadcastTo,
  Split: splitOp,
  SplitV: splitOp,
  DepthToSpace: depthToSpace,
  SpaceToDepth: depthToSpace,
  TopKV2: topK,
};
