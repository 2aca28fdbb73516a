/**
 * Best-effort shape inference for display. The loaders keep only the shapes stored in the file (exports
 * often store none for intermediate values), so the inspector and the edge labels would show "?" almost
 * everywhere. This pass propagates known shapes through common ONNX operators in topological order; every
 * result is marked as inferred in the UI. Operators whose output shape depends on tensor *values* the
 * webview does not have (Reshape, Expand, Slice with tensor inputs…) stay unknown.
 */
import type { Attribute, DType, Dim, ModelGraph } from '../shared/ir';

export interface InferredValue {
  dtype?: DType;
  shape?: Dim[];
}

export type InferredShapes = Map<string, InferredValue>;

const UNARY = new Set([
  'Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'HardSwish', 'Tanh', 'Softplus', 'Softsign',
  'Mish', 'Erf', 'Exp', 'Log', 'Neg', 'Abs', 'Sqrt', 'Reciprocal', 'Floor', 'Ceil', 'Round', 'Sin', 'Cos', 'Sign', 'Not', 'Identity',
  'Dropout', 'Softmax', 'LogSoftmax', 'Hardmax', 'BatchNormalization', 'LayerNormalization', 'InstanceNormalization',
  'GroupNormalization', 'LpNormalization', 'Clip', 'Relu6', 'Swish', 'Silu', 'IsNaN', 'IsInf', 'CumSum', 'Shrink', 'ThresholdedRelu',
]);
const BROADCAST = new Set(['Add', 'Sub', 'Mul', 'Div', 'Pow', 'Max', 'Min', 'Sum', 'Mean', 'Where', 'Mod', 'And', 'Or', 'Xor', 'BitShift']);
const COMPARE = new Set(['Equal', 'Less', 'Greater', 'LessOrEqual', 'GreaterOrEqual', 'And', 'Or', 'Xor', 'Not', 'IsNaN', 'IsInf']);

function attr(attrs: Attribute[], name: string): Attribute['value'] | undefined {
  return attrs.find((a) => a.name === name)?.value;
}
function attrInt(attrs: Attribute[], name: string, dflt: number): number {
  const v = attr(attrs, name);
  return v?.type === 'int' ? Number(v.value) : dflt;
}
function attrInts(attrs: Attribute[], name: string): number[] | undefined {
  const v = attr(attrs, name);
  return v?.type === 'ints' ? v.value.map(Number) : undefined;
}
function attrStr(attrs: Attribute[], name: string): string | undefined {
  const v = attr(attrs, name);
  return v?.type === 'string' ? v.value : undefined;
}

const ONNX_TYPES: Record<number, DType> = { 1: 'float32', 2: 'uint8', 3: 'int8', 5: 'int16', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16', 11: 'float64', 12: 'uint32', 13: 'uint64', 16: 'bfloat16' };

export function broadcast(a: readonly Dim[], b: readonly Dim[]): Dim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)];
    const y = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (x === y) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') return undefined;
    else out.push(typeof x === 'number' ? x : typeof y === 'number' ? y : x);
  }
  return out;
}

const mulDim = (a: Dim, b: Dim): Dim => (a === 1 ? b : b === 1 ? a : typeof a === 'number' && typeof b === 'number' ? a * b : null);

function convOut(inp: Dim, k: number, stride: number, padSum: number, dil: number, ceil: boolean): Dim {
  if (typeof inp !== 'number') return null;
  const eff = (k - 1) * dil + 1;
  const v = (inp + padSum - eff) / stride + 1;
  return ceil ? Math.ceil(v) : Math.floor(v);
}

export function inferShapes(graph: ModelGraph): InferredShapes {
  const known: InferredShapes = new Map();
  for (const [id, v] of Object.entries(graph.values)) if (v.shape || v.dtype) known.set(id, { dtype: v.dtype, shape: v.shape });
  for (const [name, t] of Object.entries(graph.tensors)) if (!known.get(name)?.shape) known.set(name, { dtype: t.dtype, shape: t.shape });
  if (graph.format !== 'onnx') return known;
  // Nodes are in file order, which ONNX requires to be topological; one pass suffices.
  for (const n of graph.nodes) {
    const ins = n.inputs.map((v) => (v ? known.get(v) : undefined));
    const s0 = ins[0]?.shape;
    const d0 = ins[0]?.dtype;
    const out = (i: number, shape: Dim[] | undefined, dtype: DType | undefined = d0): void => {
      const id = n.outputs[i];
      if (!id) return;
      const prev = known.get(id);
      known.set(id, { dtype: prev?.dtype ?? dtype, shape: prev?.shape ?? shape });
    };
    const a = n.attributes;
    try {
      if (UNARY.has(n.opType)) {
        out(0, s0 ? [...s0] : undefined, COMPARE.has(n.opType) ? 'bool' : d0);
      } else if (BROADCAST.has(n.opType) || COMPARE.has(n.opType)) {
        let s: Dim[] | undefined = n.opType === 'Where' ? ins[1]?.shape : s0;
        const start = n.opType === 'Where' ? 0 : 1;
        for (let i = start; i < ins.length && s; i++) {
          const si = ins[i]?.shape;
          s = si ? broadcast(s, si) : undefined;
        }
        out(0, s, COMPARE.has(n.opType) ? 'bool' : n.opType === 'Where' ? ins[1]?.dtype : d0);
      } else if (n.opType === 'Gemm') {
        const b = ins[1]?.shape;
        if (s0 && b && s0.length === 2 && b.length === 2) {
          const m = attrInt(a, 'transA', 0) ? s0[1] : s0[0];
          const nn = attrInt(a, 'transB', 0) ? b[0] : b[1];
          out(0, [m, nn]);
        }
      } else if (n.opType === 'MatMul' || n.opType === 'MatMulInteger' || n.opType === 'FusedMatMul') {
        const b = ins[1]?.shape;
        if (s0 && b && s0.length >= 1 && b.length >= 1) {
          const A = s0.length === 1 ? [1, s0[0]] : s0;
          const B = b.length === 1 ? [b[0], 1] : b;
          const batch = broadcast(A.slice(0, -2), B.slice(0, -2));
          if (batch) {
            const r: Dim[] = [...batch];
            if (s0.length > 1) r.push(A[A.length - 2]);
            if (b.length > 1) r.push(B[B.length - 1]);
            out(0, r, n.opType === 'MatMulInteger' ? 'int32' : d0);
          }
        }
      } else if (n.opType === 'Conv' || n.opType === 'MaxPool' || n.opType === 'AveragePool' || n.opType === 'LpPool') {
        const w = ins[1]?.shape;
        if (s0 && s0.length >= 3) {
          const sp = s0.length - 2;
          const kernel = attrInts(a, 'kernel_shape') ?? (n.opType === 'Conv' && w ? (w.slice(2) as number[]) : undefined);
          if (kernel && kernel.every((k) => typeof k === 'number')) {
            const strides = attrInts(a, 'strides') ?? new Array<number>(sp).fill(1);
            const dil = attrInts(a, 'dilations') ?? new Array<number>(sp).fill(1);
            const pads = attrInts(a, 'pads') ?? new Array<number>(2 * sp).fill(0);
            const autoPad = attrStr(a, 'auto_pad') ?? 'NOTSET';
            const ceil = attrInt(a, 'ceil_mode', 0) === 1;
            const spatial: Dim[] = [];
            for (let i = 0; i < sp; i++) {
              const x = s0[2 + i];
              if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') spatial.push(typeof x === 'number' ? Math.ceil(x / strides[i]) : null);
              else if (autoPad === 'VALID') spatial.push(convOut(x, kernel[i], strides[i], 0, dil[i], ceil));
              else spatial.push(convOut(x, kernel[i], strides[i], pads[i] + pads[i + sp], dil[i], ceil));
            }
            const channels = n.opType === 'Conv' ? (w ? w[0] : null) : s0[1];
            out(0, [s0[0], channels, ...spatial]);
            if (n.opType === 'MaxPool' && n.outputs[1]) out(1, [s0[0], channels, ...spatial], 'int64');
          }
        }
      } else if (n.opType === 'ConvTranspose') {
        const w = ins[1]?.shape;
        const outputShape = attrInts(a, 'output_shape');
        if (s0 && w && s0.length >= 3) {
          const sp = s0.length - 2;
          const group = attrInt(a, 'group', 1);
          const kernel = attrInts(a, 'kernel_shape') ?? (w.slice(2) as number[]);
          const strides = attrInts(a, 'strides') ?? new Array<number>(sp).fill(1);
          const dil = attrInts(a, 'dilations') ?? new Array<number>(sp).fill(1);
          const pads = attrInts(a, 'pads') ?? new Array<number>(2 * sp).fill(0);
          const outPad = attrInts(a, 'output_padding') ?? new Array<number>(sp).fill(0);
          const spatial: Dim[] = outputShape
            ? outputShape.slice(-sp)
            : s0.slice(2).map((x, i) =>
                typeof x === 'number' ? strides[i] * (x - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[i + sp] : null,
              );
          out(0, [s0[0], mulDim(w[1], group), ...spatial]);
        }
      } else if (n.opType === 'GlobalAveragePool' || n.opType === 'GlobalMaxPool' || n.opType === 'GlobalLpPool') {
        if (s0) out(0, [s0[0], s0[1], ...s0.slice(2).map(() => 1)]);
      } else if (n.opType === 'Flatten') {
        if (s0) {
          let axis = attrInt(a, 'axis', 1);
          if (axis < 0) axis += s0.length;
          out(0, [s0.slice(0, axis).reduce<Dim>(mulDim, 1), s0.slice(axis).reduce<Dim>(mulDim, 1)]);
        }
      } else if (n.opType === 'Transpose') {
        if (s0) {
          const perm = attrInts(a, 'perm') ?? s0.map((_, i) => s0.length - 1 - i);
          out(0, perm.map((p) => s0[p]));
        }
      } else if (n.opType === 'Concat') {
        const shapes = ins.map((x) => x?.shape);
        if (shapes.every((s) => s) && s0) {
          let axis = attrInt(a, 'axis', 0);
          if (axis < 0) axis += s0.length;
          const r = [...s0];
          r[axis] = shapes.reduce<Dim>((acc, s) => (typeof acc === 'number' && typeof s![axis] === 'number' ? acc + (s![axis] as number) : null), 0);
          out(0, r);
        }
      } else if (n.opType === 'Unsqueeze' || n.opType === 'Squeeze') {
        const axes = attrInts(a, 'axes');
        if (s0 && axes) {
          if (n.opType === 'Unsqueeze') {
            const rank = s0.length + axes.length;
            const norm = new Set(axes.map((x) => (x < 0 ? x + rank : x)));
            const r: Dim[] = [];
            let j = 0;
            for (let i = 0; i < rank; i++) r.push(norm.has(i) ? 1 : s0[j++]);
            out(0, r);
          } else {
            const norm = new Set(axes.map((x) => (x < 0 ? x + s0.length : x)));
            out(0, s0.filter((_, i) => !norm.has(i)));
          }
        }
      } else if (n.opType.startsWith('Reduce') || n.opType === 'ArgMax' || n.opType === 'ArgMin') {
        if (s0) {
          const keep = attrInt(a, 'keepdims', 1) === 1;
          const single = n.opType.startsWith('Arg') ? [attrInt(a, 'axis', 0)] : undefined;
          const axes = single ?? attrInts(a, 'axes') ?? (n.inputs.length < 2 ? s0.map((_, i) => i) : undefined);
          if (axes) {
            const norm = new Set(axes.map((x) => (x < 0 ? x + s0.length : x)));
            const r: Dim[] = [];
            s0.forEach((d, i) => {
              if (!norm.has(i)) r.push(d);
              else if (keep) r.push(1);
            });
            out(0, r, n.opType.startsWith('Arg') ? 'int64' : d0);
          }
        }
      } else if (n.opType === 'Gather') {
        const idx = ins[1]?.shape;
        if (s0 && idx) {
          let axis = attrInt(a, 'axis', 0);
          if (axis < 0) axis += s0.length;
          out(0, [...s0.slice(0, axis), ...idx, ...s0.slice(axis + 1)]);
        }
      } else if (n.opType === 'Shape') {
        if (s0) out(0, [s0.length], 'int64');
      } else if (n.opType === 'Cast') {
        const to = attrInt(a, 'to', 0);
        out(0, s0 ? [...s0] : undefined, ONNX_TYPES[to]);
      } else if (n.opType === 'Split') {
        const sizes = attrInts(a, 'split');
        if (s0) {
          let axis = attrInt(a, 'axis', 0);
          if (axis < 0) axis += s0.length;
          const k = n.outputs.length;
          n.outputs.forEach((_, i) => {
            const r = [...s0];
            r[axis] = sizes ? sizes[i] : typeof s0[axis] === 'number' && (s0[axis] as number) % k === 0 ? (s0[axis] as number) / k : null;
            out(i, r);
          });
        }
      } else if (n.opType === 'Attention' || n.opType === 'MultiHeadAttention') {
        if (s0) out(0, [...s0]);
      }
    } catch {
      // Malformed attributes: leave this node's outputs unknown.
    }
  }
  return known;
}
