/**
 * What the per-format shape rules share: the per-value facts they read and write, attribute access, and
 * broadcasting / small-tensor value arithmetic over symbolic dimensions ({@link DimAlgebra}).
 */
import type { Attribute, DType, GraphNode } from './ir';
import { DimAlgebra, type SDim } from './shapeDims';

/** What inference knows about one value. */
export interface Info {
  shape?: SDim[];
  dtype?: DType;
  /**
   * The values of a small tensor (row-major), when known: shape tensors (`Shape` → `Gather` → `Concat`) and
   * small constants. Only with a fully numeric `shape` of at most {@link MAX_VAL} elements.
   */
  val?: SDim[];
}

/** Largest tensor whose values are tracked. */
export const MAX_VAL = 1024;

export interface RuleCtx {
  A: DimAlgebra;
  node: GraphNode;
  ins: (Info | undefined)[];
  /** Default-domain opset (ONNX), 0 when unknown or TF.js. */
  opset: number;
  /** Values of a small constant tensor held in an attribute (ONNX `Constant`/`ConstantOfShape` value). */
  constant(name: string): number[] | undefined;
}

/** A rule returns one Info per output (undefined where it knows nothing), or undefined for none. */
export type Rule = (c: RuleCtx) => (Info | undefined)[] | undefined;

export function attr(node: GraphNode, name: string): Attribute['value'] | undefined {
  return node.attributes.find((a) => a.name === name)?.value;
}

export function attrInt(node: GraphNode, name: string, dflt: number): number {
  const v = attr(node, name);
  if (v?.type === 'int') return Number(v.value);
  return dflt;
}

export function attrFloat(node: GraphNode, name: string, dflt: number): number {
  const v = attr(node, name);
  return v?.type === 'float' ? v.value : v?.type === 'int' ? Number(v.value) : dflt;
}

export function attrInts(node: GraphNode, name: string): number[] | undefined {
  const v = attr(node, name);
  if (v?.type === 'ints') return v.value.map(Number);
  return undefined;
}

export function attrFloats(node: GraphNode, name: string): number[] | undefined {
  const v = attr(node, name);
  return v?.type === 'floats' ? v.value : undefined;
}

export function attrStr(node: GraphNode, name: string): string | undefined {
  const v = attr(node, name);
  return v?.type === 'string' ? v.value : undefined;
}

export function isIntDtype(d: DType | undefined): boolean {
  return d !== undefined && /^u?int\d+$/.test(d);
}

/** Normalises a possibly negative axis; undefined when out of range. */
export function normAxis(axis: number, rank: number): number | undefined {
  const a = axis < 0 ? axis + rank : axis;
  return Number.isInteger(a) && a >= 0 && a < rank ? a : undefined;
}

/** Element count as a dimension (product of dims). */
export function numel(A: DimAlgebra, shape: readonly SDim[]): SDim {
  let n: SDim = 1;
  for (const d of shape) n = A.mul(n, d);
  return n;
}

/** Fully numeric shape, or undefined. */
export function numericShape(shape: readonly SDim[] | undefined): number[] | undefined {
  if (!shape || !shape.every((d): d is number => typeof d === 'number')) return undefined;
  return shape as number[];
}

/** Values that are all plain numbers, or undefined. */
export function numbers(val: readonly SDim[] | undefined): number[] | undefined {
  if (!val || !val.every((d): d is number => typeof d === 'number')) return undefined;
  return val as number[];
}

/**
 * Multidirectional (numpy) broadcasting. Per dimension: equal → it; one side 1 → the other; a number n > 1
 * against a symbol → n (the symbol must then be n or 1, and either way the result is n); two different
 * symbols → unknown; two different numbers, neither 1 → undefined (the shapes do not broadcast).
 */
export function broadcast(A: DimAlgebra, a: readonly SDim[], b: readonly SDim[]): SDim[] | undefined {
  const n = Math.max(a.length, b.length);
  const out: SDim[] = [];
  for (let i = 0; i < n; i++) {
    const x = i < n - a.length ? 1 : a[i - (n - a.length)];
    const y = i < n - b.length ? 1 : b[i - (n - b.length)];
    if (x === 1) out.push(y);
    else if (y === 1) out.push(x);
    else if (A.equal(x, y)) out.push(x);
    else if (typeof x === 'number' && typeof y === 'number') return undefined;
    else if (typeof x === 'number' && x !== 0 && y !== null) out.push(x);
    else if (typeof y === 'number' && y !== 0 && x !== null) out.push(y);
    else out.push(null);
  }
  return out;
}

/** Broadcasts all shapes; undefined when any is unknown or they do not broadcast. */
export function broadcastAll(A: DimAlgebra, shapes: (readonly SDim[] | undefined)[]): SDim[] | undefined {
  let s: SDim[] | undefined = shapes[0] ? [...shapes[0]] : undefined;
  for (let i = 1; i < shapes.length && s; i++) {
    const si = shapes[i];
    s = si ? broadcast(A, s, si) : undefined;
  }
  return s;
}

/**
 * Applies `f` elementwise over broadcast small tensors; undefined unless every input has a value and the
 * output's numeric shape is small.
 */
export function mapVals(ins: (Info | undefined)[], out: readonly SDim[] | undefined, f: (xs: SDim[]) => SDim): SDim[] | undefined {
  const oshape = numericShape(out);
  if (!oshape) return undefined;
  const total = oshape.reduce((p, d) => p * d, 1);
  if (total > MAX_VAL) return undefined;
  const srcs: { val: SDim[]; shape: number[] }[] = [];
  for (const x of ins) {
    const s = numericShape(x?.shape);
    if (!x?.val || !s) return undefined;
    srcs.push({ val: x.val, shape: s });
  }
  const r = oshape.length;
  const res: SDim[] = new Array<SDim>(total);
  const idx = new Array<number>(r).fill(0);
  for (let k = 0; k < total; k++) {
    const args = srcs.map(({ val, shape }) => {
      let off = 0;
      for (let i = 0; i < shape.length; i++) {
        const oi = idx[r - shape.length + i];
        off = off * shape[i] + (shape[i] === 1 ? 0 : oi);
      }
      return val[off];
    });
    res[k] = f(args);
    for (let i = r - 1; i >= 0; i--) {
      if (++idx[i] < oshape[i]) break;
      idx[i] = 0;
    }
  }
  return res;
}

/** `val` kept only when the shape is numeric and small enough. */
export function withVal(shape: SDim[] | undefined, dtype: DType | undefined, val: SDim[] | undefined): Info {
  const s = numericShape(shape);
  const ok = val && s && s.reduce((p, d) => p * d, 1) === val.length && val.length <= MAX_VAL;
  return ok ? { shape, dtype, val } : { shape, dtype };
}

/** Same shape and dtype as input 0 (activations, normalisations, Identity…). */
export const sameAsInput: Rule = ({ ins }) => [ins[0] ? { shape: ins[0].shape, dtype: ins[0].dtype } : undefined];

/** Output of a convolution / pooling window along one axis (`pads` are begin + end, `ceil` = ceil_mode). */
export function windowOut(A: DimAlgebra, x: SDim, k: number, stride: number, padSum: number, dil: number, ceil: boolean): SDim {
  const eff = (k - 1) * dil + 1;
  const span = A.add(x, padSum - eff);
  const q = ceil ? A.ceilDiv(span, stride) : A.floorDiv(span, stride);
  return A.add(q, 1);
}

/** INT32_MAX: exporters' "to the end" slice bound. */
export const BIG = 2 ** 31 - 1;

/**
 * Length of a slice along a dimension of extent `d`. Numeric: ONNX's clamping exactly. Symbolic: the whole
 * range (start 0 / end ≥ INT_MAX), negative constants counted from the end, and bounds derived from the model's
 * own sizes (Shape → … → Slice), which are taken to lie inside the dimension, as exporters write them.
 * A constant bound against a symbolic extent would need min(·,·) and stays unknown.
 */
export function sliceLength(A: DimAlgebra, d: SDim, start: SDim, end: SDim, step: number): { len: SDim; first?: number } {
  if (!Number.isInteger(step) || step === 0) return { len: null };
  if (typeof d === 'number' && typeof start === 'number' && typeof end === 'number') {
    let s = start < 0 ? start + d : start;
    let e = end < 0 ? end + d : end;
    if (step > 0) {
      s = Math.min(Math.max(s, 0), d);
      e = Math.min(Math.max(e, 0), d);
    } else {
      s = Math.min(Math.max(s, -1), d - 1);
      e = Math.min(Math.max(e, -1), d - 1);
    }
    return { len: Math.max(0, Math.ceil((e - s) / step)), first: s };
  }
  if (d === null || start === null || end === null) return { len: null };
  if (step < 0) {
    const whole = (start === -1 || (typeof start === 'number' && start >= BIG)) && typeof end === 'number' && end <= -BIG;
    return { len: whole ? d : null };
  }
  const lower = (v: SDim): SDim | undefined => {
    if (typeof v === 'number') {
      if (v >= BIG) return d;
      if (v === 0) return 0;
      if (v < 0 && typeof d !== 'number') return undefined; // d+v may be negative: clamped
      if (v < 0) return Math.max(0, (d as number) + v);
      return typeof d === 'number' ? Math.min(v, d) : undefined;
    }
    return v; // a bound computed from the model's sizes
  };
  const s = lower(start);
  const e = lower(end);
  if (s === undefined || e === undefined) return { len: null };
  return { len: A.ceilDiv(A.sub(e, s), step) };
}
