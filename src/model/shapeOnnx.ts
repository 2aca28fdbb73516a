/**
 * ONNX shape rules (default domain, plus the com.microsoft ops exporters commonly leave behind). Each rule
 * reads its inputs' shapes (and small tensors' values, for shape inputs such as Reshape's) and returns the
 * outputs'; an output it cannot determine exactly stays unknown.
 */
import type { DType } from './ir';
import {
  attr,
  attrFloats,
  attrInt,
  attrInts,
  attrStr,
  broadcast,
  broadcastAll,
  isIntDtype,
  mapVals,
  MAX_VAL,
  normAxis,
  numbers,
  numel,
  numericShape,
  sameAsInput,
  sliceLength,
  windowOut,
  withVal,
  type Info,
  type Rule,
  type RuleCtx,
} from './shapeCommon';
import type { DimAlgebra, SDim } from './shapeDims';

/** ONNX TensorProto.DataType → IR dtype (the subset `Cast` meets). */
const CAST_TO: Record<number, DType> = {
  1: 'float32', 2: 'uint8', 3: 'int8', 4: 'uint16', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64',
  12: 'uint32', 13: 'uint64', 16: 'bfloat16',
};

const SAME_SHAPE = [
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign', 'Mish',
  'Erf', 'Exp', 'Log', 'Sqrt', 'Reciprocal', 'Sin', 'Cos', 'Tan', 'Asin', 'Acos', 'Atan', 'Sinh', 'Cosh', 'Asinh', 'Acosh', 'Atanh',
  'Softmax', 'LogSoftmax', 'Hardmax', 'BatchNormalization', 'InstanceNormalization', 'GroupNormalization', 'LpNormalization', 'LRN',
  'MeanVarianceNormalization', 'Clip', 'Shrink', 'ThresholdedRelu', 'CumSum', 'Trilu', 'Round', 'ScatterND', 'ScatterElements', 'Scatter',
  'QuantizeLinear', 'DequantizeLinear', 'FastGelu', 'BiasGelu', 'QuickGelu', 'SkipLayerNormalization', 'SimplifiedLayerNormalization',
  'SkipSimplifiedLayerNormalization', 'ReverseSequence', 'Swish', 'BitwiseNot',
];
/** Same shape, and the value carried through (integer-valued or exact on numbers). */
const VALUE_UNARY: Record<string, (A: DimAlgebra, x: SDim) => SDim> = {
  Identity: (_A, x) => x,
  Neg: (A, x) => A.scale(x, -1),
  Abs: (_A, x) => (typeof x === 'number' ? Math.abs(x) : x),
  Floor: (_A, x) => (typeof x === 'number' ? Math.floor(x) : x),
  Ceil: (_A, x) => (typeof x === 'number' ? Math.ceil(x) : x),
  Sign: (_A, x) => (typeof x === 'number' ? Math.sign(x) : null),
  Relu: (_A, x) => (typeof x === 'number' ? Math.max(0, x) : x),
};
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);
const BINARY = ['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Mod', 'Max', 'Min', 'Sum', 'Mean', 'And', 'Or', 'Xor', 'Equal', 'Less', 'Greater',
  'LessOrEqual', 'GreaterOrEqual', 'BitShift', 'BitwiseAnd', 'BitwiseOr', 'BitwiseXor'];

function binaryValue(op: string, A: DimAlgebra, intType: boolean): ((xs: SDim[]) => SDim) | undefined {
  const num = (f: (a: number, b: number) => number) => ([a, b]: SDim[]): SDim => (typeof a === 'number' && typeof b === 'number' ? f(a, b) : null);
  switch (op) {
    case 'Add':
    case 'Sum':
      return (xs) => xs.reduce<SDim>((s, x) => A.add(s, x), 0);
    case 'Sub':
      return ([a, b]) => A.sub(a, b);
    case 'Mul':
      return ([a, b]) => A.mul(a, b);
    case 'Div':
      return ([a, b]) => {
        if (typeof a === 'number' && typeof b === 'number') return b === 0 ? null : intType ? Math.trunc(a / b) : a / b;
        if (typeof b !== 'number' || !Number.isInteger(b) || b <= 0) return null;
        return intType ? A.floorDiv(a, b) : A.exactDiv(a, b);
      };
    case 'Max':
      return ([a, b]) => (typeof a === 'number' && typeof b === 'number' ? Math.max(a, b) : typeof b === 'number' && b <= 0 ? a : typeof a === 'number' && a <= 0 ? b : A.equal(a, b) ? a : null);
    case 'Min':
      return ([a, b]) => (typeof a === 'number' && typeof b === 'number' ? Math.min(a, b) : typeof b === 'number' && b <= 0 ? b : typeof a === 'number' && a <= 0 ? a : A.equal(a, b) ? a : null);
    case 'Equal':
      return ([a, b]) => {
        if (A.equal(a, b)) return 1;
        if (typeof a === 'number' && typeof b === 'number') return 0;
        // a dimension expression is never negative
        if ((typeof a === 'number' && a < 0 && b !== null) || (typeof b === 'number' && b < 0 && a !== null)) return 0;
        return null;
      };
    case 'Less':
      return num((a, b) => Number(a < b));
    case 'Greater':
      return num((a, b) => Number(a > b));
    case 'LessOrEqual':
      return num((a, b) => Number(a <= b));
    case 'GreaterOrEqual':
      return num((a, b) => Number(a >= b));
    case 'Mod':
      return num((a, b) => (b === 0 ? NaN : a - b * Math.floor(a / b)));
    case 'Pow':
      return num((a, b) => a ** b);
    default:
      return undefined;
  }
}

const binary: Rule = ({ A, node, ins }) => {
  const shape = broadcastAll(A, ins.map((x) => x?.shape));
  const d0 = ins[0]?.dtype;
  const dtype: DType | undefined = COMPARE.has(node.opType) ? 'bool' : d0;
  const f = binaryValue(node.opType, A, isIntDtype(d0));
  const val = f ? mapVals(ins, shape, f) : undefined;
  return [withVal(shape, dtype, val?.some((v) => typeof v === 'number' && !Number.isFinite(v)) ? undefined : val)];
};

const where: Rule = ({ A, ins }) => {
  const shape = broadcastAll(A, ins.map((x) => x?.shape));
  const val = mapVals(ins, shape, ([c, x, y]) => (typeof c === 'number' ? (c ? x : y) : A.equal(x, y) ? x : null));
  return [withVal(shape, ins[1]?.dtype ?? ins[2]?.dtype, val)];
};

const unaryValue: Rule = ({ A, node, ins }) => {
  const x = ins[0];
  if (!x) return undefined;
  const f = VALUE_UNARY[node.opType];
  const val = x.val && f ? x.val.map((v) => f(A, v)) : undefined;
  return [withVal(x.shape, node.opType === 'Not' ? 'bool' : x.dtype, val)];
};

const cast: Rule = ({ node, ins }) => {
  const x = ins[0];
  const to = CAST_TO[attrInt(node, 'to', 0)];
  if (!x) return [{ dtype: to }];
  const val = x.val?.map((v) => (typeof v === 'number' && to && isIntDtype(to) ? Math.trunc(v) : v));
  return [withVal(x.shape, to, val)];
};

const castLike: Rule = ({ ins }) => [withVal(ins[0]?.shape, ins[1]?.dtype, ins[0]?.val)];

const NO_DIMS: readonly SDim[] = [];

function matmulShape(A: DimAlgebra, a: SDim[] | undefined, b: SDim[] | undefined, transA = false, transB = false): SDim[] | undefined {
  if (!a || !b || a.length < 1 || b.length < 1) return undefined;
  // numpy matmul: a 1-D side gains a unit axis (then dropped from the result); the batch axes (all but the last
  // two) broadcast; a transposed side swaps its last two. Only the batch axes are copied, and broadcast's own
  // result is the output (one matmul per 2 of 100k operators: no intermediate arrays).
  const r = broadcast(A, a.length > 2 ? a.slice(0, -2) : NO_DIMS, b.length > 2 ? b.slice(0, -2) : NO_DIMS);
  if (!r) return undefined;
  if (a.length > 1) r.push(transA ? a[a.length - 1] : a[a.length - 2]);
  if (b.length > 1) r.push(transB ? b[b.length - 2] : b[b.length - 1]);
  return r;
}

const matmul: Rule = ({ A, node, ins }) => {
  const fused = node.opType === 'FusedMatMul';
  const shape = matmulShape(A, ins[0]?.shape, ins[1]?.shape, fused && attrInt(node, 'transA', 0) === 1, fused && attrInt(node, 'transB', 0) === 1);
  const dtype = node.opType === 'MatMulInteger' ? 'int32' : ins[0]?.dtype;
  return [{ shape, dtype }];
};

const gemm: Rule = ({ node, ins }) => {
  const a = ins[0]?.shape;
  const b = ins[1]?.shape;
  if (!a || !b || a.length !== 2 || b.length !== 2) return [{ dtype: ins[0]?.dtype }];
  const m = attrInt(node, 'transA', 0) ? a[1] : a[0];
  const n = attrInt(node, 'transB', 0) ? b[0] : b[1];
  return [{ shape: [m, n], dtype: ins[0]?.dtype }];
};

/** Conv, ConvInteger and the pools (kernel from the attribute, or the weight's spatial dims for Conv). */
const convPool: Rule = ({ A, node, ins }) => {
  const x = ins[0]?.shape;
  const dtype = node.opType === 'ConvInteger' ? 'int32' : ins[0]?.dtype;
  if (!x || x.length < 3) return [{ dtype }];
  const isConv = node.opType === 'Conv' || node.opType === 'ConvInteger';
  const w = ins[1]?.shape;
  const sp = x.length - 2;
  const kernel = attrInts(node, 'kernel_shape') ?? (isConv ? numericShape(w?.slice(2)) : undefined);
  if (!kernel || kernel.length !== sp) return [{ dtype }];
  const strides = attrInts(node, 'strides') ?? new Array<number>(sp).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array<number>(sp).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * sp).fill(0);
  const autoPad = attrStr(node, 'auto_pad') ?? 'NOTSET';
  const ceil = attrInt(node, 'ceil_mode', 0) === 1;
  const spatial: SDim[] = [];
  for (let i = 0; i < sp; i++) {
    const xi = x[2 + i];
    if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') spatial.push(A.ceilDiv(xi, strides[i]));
    else if (autoPad === 'VALID') spatial.push(windowOut(A, xi, kernel[i], strides[i], 0, dil[i], ceil));
    else {
      let o = windowOut(A, xi, kernel[i], strides[i], pads[i] + pads[i + sp], dil[i], ceil);
      // ceil_mode: the last window must start inside the input or its begin padding (onnxruntime's rule)
      if (ceil && typeof o === 'number' && typeof xi === 'number' && (o - 1) * strides[i] >= xi + pads[i]) o -= 1;
      else if (ceil && typeof o !== 'number') o = null;
      spatial.push(o);
    }
  }
  const channels = isConv ? (w ? w[0] : null) : x[1];
  const out: Info = { shape: [x[0], channels, ...spatial], dtype };
  return node.opType === 'MaxPool' ? [out, { shape: out.shape, dtype: 'int64' }] : [out];
};

const convTranspose: Rule = ({ A, node, ins }) => {
  const x = ins[0]?.shape;
  const w = ins[1]?.shape;
  const dtype = ins[0]?.dtype;
  if (!x || !w || x.length < 3 || w.length !== x.length) return [{ dtype }];
  const sp = x.length - 2;
  const group = attrInt(node, 'group', 1);
  const kernel = attrInts(node, 'kernel_shape') ?? numericShape(w.slice(2));
  if (!kernel) return [{ dtype }];
  const strides = attrInts(node, 'strides') ?? new Array<number>(sp).fill(1);
  const dil = attrInts(node, 'dilations') ?? new Array<number>(sp).fill(1);
  const pads = attrInts(node, 'pads') ?? new Array<number>(2 * sp).fill(0);
  const outPad = attrInts(node, 'output_padding') ?? new Array<number>(sp).fill(0);
  const outputShape = attrInts(node, 'output_shape');
  const autoPad = attrStr(node, 'auto_pad') ?? 'NOTSET';
  const spatial: SDim[] = outputShape
    ? outputShape.slice(-sp)
    : x.slice(2).map((xi, i) =>
        autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER'
          ? A.scale(xi, strides[i])
          : A.add(A.scale(A.add(xi, -1), strides[i]), outPad[i] + (kernel[i] - 1) * dil[i] + 1 - (autoPad === 'VALID' ? 0 : pads[i] + pads[i + sp])),
      );
  return [{ shape: [x[0], A.scale(w[1], group), ...spatial], dtype }];
};

const globalPool: Rule = ({ ins }) => {
  const x = ins[0]?.shape;
  return [{ shape: x && x.length >= 2 ? [x[0], x[1], ...x.slice(2).map(() => 1)] : undefined, dtype: ins[0]?.dtype }];
};

const flatten: Rule = ({ A, node, ins }) => {
  const x = ins[0]?.shape;
  if (!x) return [{ dtype: ins[0]?.dtype }];
  let axis = attrInt(node, 'axis', 1);
  if (axis < 0) axis += x.length;
  return [withVal([numel(A, x.slice(0, axis)), numel(A, x.slice(axis))], ins[0]?.dtype, ins[0]?.val)];
};

const reshape: Rule = ({ A, node, ins }) => {
  const x = ins[0];
  const target = node.opType === 'Reshape' && node.inputs.length < 2 ? attrInts(node, 'shape') : ins[1]?.val;
  if (!target) return [{ dtype: x?.dtype }];
  const allowZero = attrInt(node, 'allowzero', 0) === 1;
  const out: SDim[] = [];
  let minus = -1;
  for (let i = 0; i < target.length; i++) {
    const t = target[i];
    if (t === 0 && !allowZero) out.push(x?.shape?.[i] ?? null);
    else if (t === -1) {
      if (minus >= 0) return [{ dtype: x?.dtype }];
      minus = i;
      out.push(null);
    } else if (typeof t === 'number' && t < 0) return [{ dtype: x?.dtype }];
    else out.push(t);
  }
  if (minus >= 0 && x?.shape) {
    const rest = numel(A, out.filter((_, i) => i !== minus));
    out[minus] = A.exactDiv(numel(A, x.shape), rest);
  }
  return [withVal(out, x?.dtype, x?.val)];
};

const transpose: Rule = ({ node, ins }) => {
  const x = ins[0]?.shape;
  if (!x) return [{ dtype: ins[0]?.dtype }];
  const perm = attrInts(node, 'perm') ?? x.map((_, i) => x.length - 1 - i);
  if (perm.length !== x.length || perm.some((p) => p < 0 || p >= x.length)) return [{ dtype: ins[0]?.dtype }];
  return [withVal(perm.map((p) => x[p]), ins[0]?.dtype, x.length <= 1 ? ins[0]?.val : undefined)];
};

const concat: Rule = ({ A, node, ins }) => {
  const shapes = ins.map((x) => x?.shape);
  const dtype = ins.find((x) => x?.dtype)?.dtype;
  const first = shapes.find((s) => s);
  if (!first || !shapes.every((s) => s && s.length === first.length)) return [{ dtype }];
  const axis = normAxis(attrInt(node, 'axis', 0), first.length);
  if (axis === undefined) return [{ dtype }];
  const out: SDim[] = first.map((_, i) => {
    if (i === axis) return shapes.reduce<SDim>((acc, s) => A.add(acc, s![i]), 0);
    // all equal by Concat's contract: a number says the most
    const dims = shapes.map((s) => s![i]);
    return dims.find((d) => typeof d === 'number') ?? dims.find((d) => d !== null) ?? null;
  });
  const val = first.length === 1 && ins.every((x) => x?.val) ? ins.flatMap((x) => x!.val!) : undefined;
  return [withVal(out, dtype, val)];
};

/** Split sizes: the `split` attribute or input, `num_outputs` (opset 18), else equal parts. */
const split: Rule = ({ A, node, ins }) => {
  const x = ins[0];
  const k = node.outputs.length;
  const s = x?.shape;
  if (!s) return node.outputs.map(() => ({ dtype: x?.dtype }));
  const axis = normAxis(attrInt(node, 'axis', 0), s.length);
  if (axis === undefined) return undefined;
  let sizes: SDim[] | undefined = attrInts(node, 'split') ?? ins[1]?.val;
  if (!sizes) {
    const d = s[axis];
    const numOut = attrInt(node, 'num_outputs', 0);
    if (numOut > 0 && typeof d === 'number') {
      const part = Math.ceil(d / numOut);
      sizes = node.outputs.map((_, i) => Math.max(0, Math.min(part, d - part * i)));
    } else sizes = node.outputs.map(() => A.exactDiv(d, k));
  }
  if (sizes.length !== k) return node.outputs.map(() => ({ dtype: x?.dtype }));
  let offset = 0;
  return sizes.map((sz) => {
    const shape = s.map((d, i) => (i === axis ? sz : d));
    const n = typeof sz === 'number' ? sz : 0;
    const val = s.length === 1 && x?.val && typeof sz === 'number' ? x.val.slice(offset, offset + n) : undefined;
    offset += n;
    return withVal(shape, x?.dtype, val);
  });
};

const slice: Rule = ({ A, node, ins, opset }) => {
  const x = ins[0];
  const s = x?.shape;
  if (!s) return [{ dtype: x?.dtype }];
  let starts: SDim[] | undefined;
  let ends: SDim[] | undefined;
  let axes: SDim[] | undefined;
  let steps: SDim[] | undefined;
  if (opset > 0 && opset < 10) {
    starts = attrInts(node, 'starts');
    ends = attrInts(node, 'ends');
    axes = attrInts(node, 'axes');
  } else {
    starts = ins[1]?.val;
    ends = ins[2]?.val;
    axes = node.inputs[3] ? ins[3]?.val : undefined;
    steps = node.inputs[4] ? ins[4]?.val : undefined;
    if ((node.inputs[3] && !axes) || (node.inputs[4] && !steps)) return [{ dtype: x?.dtype }];
  }
  if (!starts || !ends || starts.length !== ends.length) return [{ dtype: x?.dtype }];
  const ax = numbers(axes ?? starts.map((_, i) => i));
  const st = numbers(steps ?? starts.map(() => 1));
  if (!ax || !st) return [{ dtype: x?.dtype }];
  const out = [...s];
  let first: number | undefined;
  for (let i = 0; i < starts.length; i++) {
    const a = normAxis(ax[i], s.length);
    if (a === undefined) return [{ dtype: x?.dtype }];
    const r = sliceLength(A, s[a], starts[i], ends[i], st[i]);
    out[a] = r.len;
    first = r.first;
  }
  let val: SDim[] | undefined;
  if (s.length === 1 && x?.val && typeof out[0] === 'number' && first !== undefined) {
    val = [];
    for (let k = 0; k < out[0]; k++) val.push(x.val[first + k * st[0]]);
  }
  return [withVal(out, x?.dtype, val)];
};

const gather: Rule = ({ node, ins }) => {
  const x = ins[0];
  const idx = ins[1];
  const s = x?.shape;
  if (!s || !idx?.shape) return [{ dtype: x?.dtype }];
  const axis = normAxis(attrInt(node, 'axis', 0), s.length);
  if (axis === undefined) return [{ dtype: x?.dtype }];
  const shape = [...s.slice(0, axis), ...idx.shape, ...s.slice(axis + 1)];
  let val: SDim[] | undefined;
  const n = s[0];
  const ids = numbers(idx.val);
  if (s.length === 1 && x?.val && ids && typeof n === 'number') val = ids.map((i) => x.val![i < 0 ? i + n : i] ?? null);
  return [withVal(shape, x?.dtype, val)];
};

const gatherElements: Rule = ({ ins }) => [{ shape: ins[1]?.shape, dtype: ins[0]?.dtype }];

/** Axes from the attribute (older opsets) or the second input (opset 13 on; Reduce* from 18). */
function axesOf(c: RuleCtx, inputIndex: number): number[] | undefined | 'none' {
  const fromAttr = attrInts(c.node, 'axes');
  if (fromAttr) return fromAttr;
  if (!c.node.inputs[inputIndex]) return 'none';
  return numbers(c.ins[inputIndex]?.val);
}

const unsqueeze: Rule = (c) => {
  const x = c.ins[0];
  const axes = axesOf(c, 1);
  if (!x?.shape || !Array.isArray(axes)) return [{ dtype: x?.dtype }];
  const rank = x.shape.length + axes.length;
  const norm = new Set(axes.map((a) => (a < 0 ? a + rank : a)));
  const out: SDim[] = [];
  let j = 0;
  for (let i = 0; i < rank; i++) out.push(norm.has(i) ? 1 : x.shape[j++] ?? null);
  return [withVal(out, x.dtype, x.val)];
};

const squeeze: Rule = (c) => {
  const x = c.ins[0];
  const axes = axesOf(c, 1);
  const s = x?.shape;
  if (!s || axes === undefined) return [{ dtype: x?.dtype }];
  let out: SDim[];
  if (axes === 'none') {
    if (!s.every((d) => typeof d === 'number')) return [{ dtype: x?.dtype }];
    out = s.filter((d) => d !== 1);
  } else {
    const norm = new Set(axes.map((a) => (a < 0 ? a + s.length : a)));
    out = s.filter((_, i) => !norm.has(i));
  }
  return [withVal(out, x?.dtype, x?.val)];
};

const expand: Rule = ({ A, ins }) => {
  const x = ins[0];
  const target = ins[1]?.val;
  if (!x?.shape || !target) return [{ dtype: x?.dtype }];
  const shape = broadcastAll(A, [x.shape, target]);
  return [withVal(shape, x.dtype, shape ? mapVals([x], shape, ([v]) => v) : undefined)];
};

const shapeOp: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  if (!s) return [{ dtype: 'int64' }];
  const r = s.length;
  const clamp = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const val = s.slice(clamp(attrInt(node, 'start', 0)), clamp(attrInt(node, 'end', r)));
  return [{ shape: [val.length], dtype: 'int64', val }];
};

const size: Rule = ({ A, ins }) => {
  const s = ins[0]?.shape;
  return [{ shape: [], dtype: 'int64', val: s ? [numel(A, s)] : undefined }];
};

const constantOfShape: Rule = ({ node, ins, constant }) => {
  const shape = ins[0]?.val;
  const v = attr(node, 'value');
  const dtype: DType = v?.type === 'tensor' ? v.value.dtype : 'float32';
  const fill = v?.type === 'tensor' ? constant(v.value.name)?.[0] : 0;
  const n = shape ? numericShape(shape)?.reduce((p, d) => p * d, 1) : undefined;
  const val = fill !== undefined && n !== undefined && n <= MAX_VAL ? new Array<SDim>(n).fill(fill) : undefined;
  return [withVal(shape ? [...shape] : undefined, dtype, val)];
};

const constantNode: Rule = ({ node, constant }) => {
  const v = attr(node, 'value');
  if (v?.type !== 'tensor') return undefined;
  return [withVal([...v.value.shape], v.value.dtype, constant(v.value.name))];
};

const range: Rule = ({ A, ins }) => {
  const [start, limit, delta] = [ins[0]?.val?.[0], ins[1]?.val?.[0], ins[2]?.val?.[0]];
  const dtype = ins[0]?.dtype;
  if (start === undefined || limit === undefined || typeof delta !== 'number' || delta === 0) return [{ shape: [null], dtype }];
  if (typeof start === 'number' && typeof limit === 'number') {
    const n = Math.max(0, Math.ceil((limit - start) / delta));
    const val = n <= MAX_VAL ? Array.from({ length: n }, (_, i) => start + i * delta) : undefined;
    return [withVal([n], dtype, val)];
  }
  // symbolic: an integer range start < limit (sizes computed from the model's own dims)
  if (!Number.isInteger(delta) || delta < 0) return [{ shape: [null], dtype }];
  return [{ shape: [A.ceilDiv(A.sub(limit, start), delta)], dtype }];
};

const tile: Rule = ({ A, ins }) => {
  const x = ins[0];
  const reps = ins[1]?.val;
  if (!x?.shape || !reps || reps.length !== x.shape.length) return [{ dtype: x?.dtype }];
  return [{ shape: x.shape.map((d, i) => A.mul(d, reps[i])), dtype: x.dtype }];
};

function reduceShape(s: SDim[], axes: number[] | 'all', keep: boolean): SDim[] | undefined {
  const norm = axes === 'all' ? new Set(s.map((_, i) => i)) : new Set(axes.map((a) => (a < 0 ? a + s.length : a)));
  if ([...norm].some((a) => a < 0 || a >= s.length)) return undefined;
  const out: SDim[] = [];
  s.forEach((d, i) => {
    if (!norm.has(i)) out.push(d);
    else if (keep) out.push(1);
  });
  return out;
}

const reduce: Rule = (c) => {
  const x = c.ins[0];
  const s = x?.shape;
  if (!s) return [{ dtype: x?.dtype }];
  const keep = attrInt(c.node, 'keepdims', 1) === 1;
  const axes = axesOf(c, 1);
  if (axes === undefined) return [{ dtype: x?.dtype }];
  const noop = attrInt(c.node, 'noop_with_empty_axes', 0) === 1;
  if (axes === 'none' || axes.length === 0) return [{ shape: noop ? s : reduceShape(s, 'all', keep), dtype: x?.dtype }];
  return [{ shape: reduceShape(s, axes, keep), dtype: x?.dtype }];
};

const argReduce: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  if (!s) return [{ dtype: 'int64' }];
  return [{ shape: reduceShape(s, [attrInt(node, 'axis', 0)], attrInt(node, 'keepdims', 1) === 1), dtype: 'int64' }];
};

const topK: Rule = ({ node, ins }) => {
  const x = ins[0];
  const s = x?.shape;
  const k = node.inputs.length > 1 ? ins[1]?.val?.[0] : attrInt(node, 'k', -1);
  if (!s || k === undefined || (typeof k === 'number' && k < 0)) return [{ dtype: x?.dtype }, { dtype: 'int64' }];
  const axis = normAxis(attrInt(node, 'axis', -1), s.length);
  if (axis === undefined) return undefined;
  const shape = s.map((d, i) => (i === axis ? k : d));
  return [{ shape, dtype: x?.dtype }, { shape, dtype: 'int64' }];
};

/** Resize (opset 10: X, scales; 11+: X, roi, scales, sizes) and Upsample (X, scales, or the scales attribute). */
const resize: Rule = ({ A, node, ins, opset }) => {
  const x = ins[0];
  const s = x?.shape;
  if (!s) return [{ dtype: x?.dtype }];
  const policy = attrStr(node, 'keep_aspect_ratio_policy') ?? 'stretch';
  const axes = attrInts(node, 'axes')?.map((a) => (a < 0 ? a + s.length : a)) ?? s.map((_, i) => i);
  let scales: number[] | undefined;
  let sizes: SDim[] | undefined;
  if (node.opType === 'Upsample') scales = attrFloats(node, 'scales') ?? numbers(ins[1]?.val);
  else if (opset > 0 && opset < 11) scales = numbers(ins[1]?.val);
  else {
    const sz = node.inputs[3] ? ins[3]?.val : undefined;
    if (sz && sz.length > 0) sizes = sz;
    else scales = node.inputs[2] ? numbers(ins[2]?.val) : undefined;
  }
  const out = [...s];
  if (sizes && sizes.length === axes.length && policy === 'stretch') axes.forEach((a, i) => (out[a] = sizes![i]));
  else if (scales && scales.length === axes.length) {
    axes.forEach((a, i) => {
      const d = s[a];
      const f = scales![i];
      out[a] = typeof d === 'number' ? Math.floor(d * Math.fround(f)) : Number.isInteger(f) ? A.scale(d, f) : null;
    });
  } else return [{ dtype: x?.dtype }];
  return [{ shape: out, dtype: x?.dtype }];
};

const pad: Rule = ({ A, node, ins, opset }) => {
  const x = ins[0];
  const s = x?.shape;
  if (!s) return [{ dtype: x?.dtype }];
  const pads = opset > 0 && opset < 11 ? attrInts(node, 'pads') ?? attrInts(node, 'paddings') : numbers(ins[1]?.val);
  let axes = s.map((_, i) => i);
  if (node.inputs[3]) {
    const ax = numbers(ins[3]?.val);
    if (!ax) return [{ dtype: x?.dtype }];
    axes = ax.map((a) => (a < 0 ? a + s.length : a));
  }
  if (!pads || pads.length !== 2 * axes.length) return [{ dtype: x?.dtype }];
  const out = [...s];
  axes.forEach((a, i) => (out[a] = A.add(s[a], pads[i] + pads[i + axes.length])));
  return [{ shape: out, dtype: x?.dtype }];
};

const depthToSpace: Rule = ({ A, node, ins }) => {
  const s = ins[0]?.shape;
  const b = attrInt(node, 'blocksize', 0);
  if (!s || s.length !== 4 || b <= 0) return [{ dtype: ins[0]?.dtype }];
  const shape =
    node.opType === 'DepthToSpace'
      ? [s[0], A.exactDiv(s[1], b * b), A.scale(s[2], b), A.scale(s[3], b)]
      : [s[0], A.scale(s[1], b * b), A.exactDiv(s[2], b), A.exactDiv(s[3], b)];
  return [{ shape, dtype: ins[0]?.dtype }];
};

const layerNorm: Rule = ({ node, ins }) => {
  const x = ins[0];
  const s = x?.shape;
  if (!s) return [{ dtype: x?.dtype }];
  const axis = normAxis(attrInt(node, 'axis', -1), s.length);
  const stat = axis === undefined ? undefined : s.map((d, i) => (i < axis ? d : 1));
  return [{ shape: s, dtype: x?.dtype }, { shape: stat, dtype: 'float32' }, { shape: stat, dtype: 'float32' }];
};

const dropout: Rule = ({ ins }) => [{ shape: ins[0]?.shape, dtype: ins[0]?.dtype }, { shape: ins[0]?.shape, dtype: 'bool' }];

const oneHot: Rule = ({ node, ins }) => {
  const s = ins[0]?.shape;
  const depth = ins[1]?.val?.[0];
  if (!s || depth === undefined) return [{ dtype: ins[2]?.dtype }];
  const rank = s.length + 1;
  const axis = normAxis(attrInt(node, 'axis', -1), rank);
  if (axis === undefined) return undefined;
  const shape = [...s.slice(0, axis), typeof depth === 'number' ? Math.trunc(depth) : depth, ...s.slice(axis)];
  return [{ shape, dtype: ins[2]?.dtype }];
};

/** Einsum with explicit output (`ij,jk->ik`) or implicit (sorted letters seen once); `...` broadcast. */
const einsum: Rule = ({ A, node, ins }) => {
  const eq = (attrStr(node, 'equation') ?? '').replace(/\s+/g, '');
  const [lhs, rhsGiven] = eq.split('->');
  const terms = lhs.split(',');
  if (terms.length !== ins.length) return undefined;
  const sizes = new Map<string, SDim>();
  const ellipses: SDim[][] = [];
  for (let t = 0; t < terms.length; t++) {
    const s = ins[t]?.shape;
    if (!s) return [{ dtype: ins[0]?.dtype }];
    const [pre, post] = terms[t].includes('...') ? terms[t].split('...') : [terms[t], undefined];
    const named = post === undefined ? pre.length : pre.length + post.length;
    if (post === undefined ? s.length !== named : s.length < named) return undefined;
    [...pre].forEach((ch, i) => {
      if (!sizes.has(ch) || sizes.get(ch) === 1) sizes.set(ch, s[i]);
    });
    if (post !== undefined) {
      ellipses.push(s.slice(pre.length, s.length - post.length));
      [...post].forEach((ch, i) => {
        if (!sizes.has(ch) || sizes.get(ch) === 1) sizes.set(ch, s[s.length - post.length + i]);
      });
    }
  }
  const ell = ellipses.length ? broadcastAll(A, ellipses) : [];
  if (!ell) return undefined;
  let rhs = rhsGiven;
  if (rhs === undefined) {
    const counts = new Map<string, number>();
    for (const ch of lhs.replace(/\.\.\.|,/g, '')) counts.set(ch, (counts.get(ch) ?? 0) + 1);
    rhs = (ellipses.length ? '...' : '') + [...counts].filter(([, n]) => n === 1).map(([ch]) => ch).sort().join('');
  }
  const out: SDim[] = [];
  const [rpre, rpost] = rhs.includes('...') ? rhs.split('...') : [rhs, undefined];
  for (const ch of rpre) out.push(sizes.get(ch) ?? null);
  if (rpost !== undefined) {
    out.push(...ell);
    for (const ch of rpost) out.push(sizes.get(ch) ?? null);
  }
  return [{ shape: out, dtype: ins[0]?.dtype }];
};

export const ONNX_RULES: Record<string, Rule> = {
  ...Object.fromEntries(SAME_SHAPE.map((op) => [op, sameAsInput])),
  ...Object.fromEntries(Object.keys(VALUE_UNARY).map((op) => [op, unaryValue])),
  ...Object.fromEntries(BINARY.map((op) => [op, binary])),
  Not: unaryValue,
  IsNaN: ({ ins }) => [{ shape: ins[0]?.shape, dtype: 'bool' }],
  IsInf: ({ ins }) => [{ shape: ins[0]?.shape, dtype: 'bool' }],
  PRelu: binary,
  Where: where,
  Cast: cast,
  CastLike: castLike,
  MatMul: matmul,
  MatMulInteger: matmul,
  FusedMatMul: matmul,
  Gemm: gemm,
  Conv: convPool,
  ConvInteger: convPool,
  MaxPool: convPool,
  AveragePool: convPool,
  LpPool: convPool,
  ConvTranspose: convTranspose,
  GlobalAveragePool: globalPool,
  GlobalMaxPool: globalPool,
  GlobalLpPool: globalPool,
  Flatten: flatten,
  Reshape: reshape,
  Transpose: transpose,
  Concat: concat,
  Split: split,
  Slice: slice,
  Gather: gather,
  GatherElements: gatherElements,
  Unsqueeze: unsqueeze,
  Squeeze: squeeze,
  Expand: expand,
  Shape: shapeOp,
  Size: size,
  ConstantOfShape: constantOfShape,
  Constant: constantNode,
  Range: range,
  Tile: tile,
  ReduceMean: reduce,
  ReduceSum: reduce,
  ReduceMax: reduce,
  ReduceMin: reduce,
  ReduceProd: reduce,
  ReduceL1: reduce,
  ReduceL2: reduce,
  ReduceLogSum: reduce,
  ReduceLogSumExp: reduce,
  ReduceSumSquare: reduce,
  ArgMax: argReduce,
  ArgMin: argReduce,
  TopK: topK,
  Resize: resize,
  Upsample: resize,
  Pad: pad,
  DepthToSpace: depthToSpace,
  SpaceToDepth: depthToSpace,
  LayerNormalization: layerNorm,
  Dropout: dropout,
  OneHot: oneHot,
  Einsum: einsum,
};
