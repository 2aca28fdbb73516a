/**
 * VJP rules of ops that move, select or reduce elements: ḡ routes each output element's cotangent back to the
 * input element it came from (summing where several came from one: Expand, Gather with repeated indices).
 */
import type { GradBuilder } from './builder';
import { attrInt, attrInts, attrStr, ELEM, makeTensor } from './protoUtil';
import type { VjpContext, VjpRule } from './rule';

/** y = reshape(x): ḡ = reshape(g, shape(x)). Also Flatten, Squeeze, Unsqueeze. */
const reshapeBack: VjpRule = { diff: [0], vjp: (c) => [c.b.reshapeLike(c.g(), c.x[0])] };

const normAxis = (a: number, r: number): number => (a < 0 ? a + r : a);

/** A node's axes: attribute before `attrUntil`, else the constant input `i` (undefined when only known at run time). */
function axesOf(c: VjpContext, attrUntil: number, i: number): number[] | undefined {
  if (c.opset < attrUntil) return attrInts(c.node, 'axes');
  if (!c.x[i]) return undefined;
  return c.b.facts.konst.get(c.x[i])?.values;
}

/** One element of a 1-D int64 value as a 1-D value of length 1. */
function at(b: GradBuilder, v: string, i: number): string {
  return b.slice1d(v, i, i + 1);
}

/**
 * Re-inserts the reduced axes of a keepdims = 0 reduction into g, then broadcasts to x:
 * ḡx = expand(unsqueeze(g, axes), shape(x)).
 */
function unreduce(c: VjpContext, axes: number[] | undefined, dynAxes: string | undefined): string {
  const b: GradBuilder = c.b;
  const [x] = c.x;
  let g = c.g();
  const r = b.rank(x);
  if (!attrInt(c.node, 'keepdims', 1)) {
    if (axes && axes.length === 0 && attrInt(c.node, 'noop_with_empty_axes', 0)) return g;
    if (axes && r !== undefined) {
      const all = axes.length ? axes.map((a) => normAxis(a, r)) : [...Array(r).keys()];
      g = b.unsqueeze(g, [...all].sort((p, q) => p - q));
    } else {
      // The kept-dims shape is that of the same reduction with keepdims = 1.
      const keep = dynAxes ? b.op(c.node.op_type ?? '', [x, dynAxes], { keepdims: 1 }) : b.op(c.node.op_type ?? '', [x], { keepdims: 1 });
      g = b.reshape(g, b.op('Shape', [keep]));
    }
  } else if (axes && axes.length === 0 && attrInt(c.node, 'noop_with_empty_axes', 0)) return g;
  return b.op('Expand', [g, b.shapeOf(x)]);
}

/** Number of elements a ReduceMean averaged: |x|/|y|, as a scalar of x's float type. */
function meanCount(b: GradBuilder, x: string, y: string): string {
  const sx = b.numShape(x);
  const sy = b.numShape(y);
  if (sx && sy) return b.scalar(sx.reduce((p, q) => p * q, 1) / sy.reduce((p, q) => p * q, 1), b.dtype(x));
  return b.toFloat(b.op('Div', [b.op('Size', [x]), b.op('Size', [y])]), b.dtype(x));
}

/** Concat/Split sizes along `axis`: static when every part's dimension is known. */
function partSizes(b: GradBuilder, parts: string[], axis: number): number[] | string {
  const dims = parts.map((p) => b.shape(p)?.[normAxis(axis, b.rank(p) ?? 0)]);
  if (axis >= 0 || parts.every((p) => b.rank(p) !== undefined)) {
    if (dims.every((d) => typeof d === 'number')) return dims as number[];
  }
  return b.op('Concat', parts.map((p) => b.reshape(b.op('Gather', [b.op('Shape', [p]), b.ints([axis], [])], { axis: 0 }), b.ints([1]))), { axis: 0 });
}

export const SHAPE_RULES: Record<string, VjpRule> = {
  Reshape: reshapeBack,
  Flatten: reshapeBack,
  Squeeze: reshapeBack,
  Unsqueeze: reshapeBack,
  /** y = transpose(x, p): ḡ = transpose(g, p⁻¹) (the default reversal is its own inverse). */
  Transpose: {
    diff: [0],
    vjp: (c) => {
      const perm = attrInts(c.node, 'perm');
      if (!perm) return [c.b.op('Transpose', [c.g()])];
      const inv = perm.map(() => 0);
      perm.forEach((p, i) => (inv[p] = i));
      return [c.b.transpose(c.g(), inv)];
    },
  },
  /** y = expand(x, s): ḡ = Σ over the broadcast axes of g. */
  Expand: { diff: [0], vjp: (c) => [c.b.sumToShape(c.g(), c.x[0], c.y[0])] },
  /** y = concat(x₁…xₙ, axis): ḡxᵢ = the i-th block of g along axis (Split). */
  Concat: {
    diff: (n) => (n.input ?? []).map((_, i) => i),
    vjp: (c) => {
      const b: GradBuilder = c.b;
      const axis = attrInt(c.node, 'axis', 0);
      if (axis < 0 && b.opset < 11) b.fail('a negative Concat axis before opset 11');
      const sizes = partSizes(b, c.x, axis);
      if (c.x.length === 1) return [c.g()];
      if (typeof sizes === 'string') {
        b.need(13, 'splitting a Concat cotangent whose part sizes are known only at run time');
        return b.node('Split', [c.g(), sizes], { axis }, c.x.length);
      }
      return b.opset >= 13 ? b.node('Split', [c.g(), b.ints(sizes)], { axis }, c.x.length) : b.node('Split', [c.g()], { axis, split: sizes }, c.x.length);
    },
  },
  /** yᵢ = the i-th block of x: ḡx = concat(g₁…gₙ) with zeros for blocks the objective ignores. */
  Split: { diff: [0], vjp: (c) => [c.b.op('Concat', c.y.map((_, i) => c.g(i)), { axis: attrInt(c.node, 'axis', 0) })] },
  /** y = Σ_axes x: ḡ = broadcast of g back to x's shape. */
  ReduceSum: {
    diff: [0],
    vjp: (c) => [unreduce(c, axesOf(c, 13, 1), c.opset >= 13 && c.x[1] ? c.x[1] : undefined)],
  },
  /** y = mean_axes x: ḡ = broadcast of g back to x's shape / (number of averaged elements). */
  ReduceMean: {
    diff: [0],
    vjp: (c) => [c.b.op('Div', [unreduce(c, axesOf(c, 18, 1), c.opset >= 18 && c.x[1] ? c.x[1] : undefined), meanCount(c.b, c.x[0], c.y[0])])],
  },
  Slice: { diff: [0], vjp: (c) => [sliceBack(c)] },
  /** y = pad(x) in constant mode with pads ≥ 0: ḡx = g[begin : dim − end] (the padding's cotangent is dropped). */
  Pad: { diff: [0], vjp: (c) => [padBack(c)] },
  Gather: { diff: [0], vjp: (c) => [gatherBack(c)] },
};

/**
 * y = x[starts:ends:steps] along axes: ḡx = g scattered into zeros shaped like x. Opset ≥ 11, one axis at a
 * time: the positions an axis kept are Slice(Range(0, dim), start, end, step) — the node's own slice applied to
 * an index ramp, so negative and clamped bounds mean exactly what they meant in the forward pass — and
 * ScatterElements writes g there (positions are distinct: no accumulation needed). Before 11: Pad (steps 1).
 */
function sliceBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const [x, starts, ends, axesIn, stepsIn] = c.x;
  const r = b.rank(x);
  if (c.opset < 10 || (c.opset < 11 && !stepsIn)) return slicePad(c);
  if (c.opset < 11) b.fail('a strided Slice before opset 11');
  const nAxes = b.facts.konst.get(starts)?.values.length;
  const axes = axesIn ? b.facts.konst.get(axesIn)?.values : nAxes !== undefined ? [...Array(nAxes).keys()] : undefined;
  if (!axes || r === undefined) b.fail('a Slice whose axes or input rank are not known statically');
  const ax = axes.map((a) => normAxis(a, r));
  const shapeX = b.op('Shape', [x]);
  const shapeY = b.op('Shape', [c.y[0]]);
  let g = c.g();
  const done = new Array<number>(r).fill(0);
  ax.forEach((a, i) => {
    done[a] = 1;
    const mask = b.op('Constant', [], { value: { tensor: makeTensor(ELEM.BOOL, [r], done) } });
    const target = b.op('Where', [mask, shapeX, shapeY]);
    const dim = b.op('Gather', [shapeX, b.ints([a], [])], { axis: 0 });
    const ramp = b.op('Range', [b.ints([0], []), dim, b.ints([1], [])]);
    const sliceIns = [ramp, at(b, starts, i), at(b, ends, i), b.ints([0])];
    if (stepsIn) sliceIns.push(at(b, stepsIn, i));
    const pos = b.op('Slice', sliceIns);
    const col = b.ints(Array.from({ length: r }, (_, j) => (j === a ? -1 : 1)));
    const idx = b.op('Expand', [b.reshape(pos, col), b.op('Shape', [g])]);
    g = b.op('ScatterElements', [b.op('ConstantOfShape', [target], { value: { tensor: makeTensor(b.dtype(x), [1], [0]) } }), idx, g], { axis: a });
  });
  return g;
}

/** Slice before opset 11 (constant bounds, steps 1): ḡx = pad(g) with the zeros x had outside the slice. */
function slicePad(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const [x] = c.x;
  const s = b.shape(x);
  const K = (i: number) => (c.x[i] ? b.facts.konst.get(c.x[i])?.values : undefined);
  const starts = attrInts(c.node, 'starts') ?? K(1);
  const ends = attrInts(c.node, 'ends') ?? K(2);
  if (!s || !starts || !ends) b.fail('a Slice before opset 11 whose bounds or input rank are not known statically');
  const axes = (attrInts(c.node, 'axes') ?? K(3) ?? starts.map((_, i) => i)).map((a) => normAxis(a, s.length));
  const pads = new Array<number>(2 * s.length).fill(0);
  axes.forEach((a, i) => {
    const d = s[a];
    if (typeof d !== 'number') b.fail(`a Slice before opset 11 along axis ${a}, whose size is not known statically`);
    const clamp = (v: number): number => Math.max(0, Math.min(d, v < 0 ? v + d : v));
    const lo = clamp(starts[i]);
    pads[a] = lo;
    pads[a + s.length] = d - Math.max(lo, clamp(ends[i]));
  });
  return c.opset >= 11 ? b.op('Pad', [c.g(), b.ints(pads)]) : b.op('Pad', [c.g()], { pads });
}

function padBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const mode = attrStr(c.node, 'mode', 'constant');
  if (mode !== 'constant') b.fail(`Pad in ${mode} mode (only constant padding has a rule)`);
  const pads = c.opset < 11 ? attrInts(c.node, 'pads') : b.facts.konst.get(c.x[1])?.values;
  if (!pads) b.fail('a Pad whose pads are not constant');
  const axesIn = c.opset >= 18 && c.x[3] ? b.facts.konst.get(c.x[3])?.values : undefined;
  if (c.opset >= 18 && c.x[3] && !axesIn) b.fail('a Pad whose axes are not constant');
  if (pads.some((p) => p < 0)) b.fail('a Pad with negative pads (cropping)');
  const n = pads.length / 2;
  const r = b.rank(c.x[0]);
  const axes = axesIn ?? [...Array(n).keys()];
  if (axes.some((a) => a < 0) && r === undefined) b.fail('a Pad with negative axes on an input of unknown rank');
  const ax = axes.map((a) => normAxis(a, r ?? 0));
  const starts = ax.map((_, i) => pads[i]);
  const ends = ax.map((_, i) => (pads[i + n] > 0 ? -pads[i + n] : Number.MAX_SAFE_INTEGER));
  return b.slice(c.g(), starts, ends, ax);
}

/**
 * y = gather(x, idx, axis): ḡx[…, j, …] = Σ_{k: idx_k = j} g[…, k, …] (repeated indices accumulate; negative
 * indices count from the end). Opset ≥ 16: ScatterElements with reduction = add into zeros. Before: the
 * one-hot product onehot(idx)ᵀ·g (exact, but |idx| × dim(axis) floats of memory).
 */
function gatherBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const [x, idx] = c.x;
  const r = b.rank(x);
  const axis0 = attrInt(c.node, 'axis', 0);
  if (axis0 < 0 && r === undefined) b.fail('a negative Gather axis on an input of unknown rank');
  const axis = normAxis(axis0, r ?? 0);
  const shapeX = b.shapeOf(x);
  const dim = b.op('Gather', [shapeX, b.ints([axis], [])], { axis: 0 });
  const flatIdx = b.reshape(idx, b.ints([-1]));
  // g as [x[:axis]…, K, x[axis+1:]…]
  const parts = [];
  if (axis > 0) parts.push(b.slice1d(shapeX, 0, axis));
  parts.push(b.ints([-1]));
  parts.push(b.slice(shapeX, [axis + 1], [Number.MAX_SAFE_INTEGER], [0]));
  const gShape = b.op('Concat', parts, { axis: 0 });
  const g = b.reshape(c.g(), gShape);
  if (c.opset >= 16) {
    const dimI = b.op('Cast', [dim], { to: b.dtype(idx) });
    const norm = b.op('Where', [b.op('Less', [flatIdx, b.op('Cast', [b.ints([0], [])], { to: b.dtype(idx) })]), b.op('Add', [flatIdx, dimI]), flatIdx]);
    const col = b.op('Concat', [b.op('ConstantOfShape', [b.ints([axis])], { value: { tensor: makeTensor(ELEM.INT64, [1], [1]) } }), b.ints([-1]), b.op('ConstantOfShape', [b.op('Sub', [b.op('Shape', [gShape]), b.ints([axis + 1])])], { value: { tensor: makeTensor(ELEM.INT64, [1], [1]) } })], { axis: 0 });
    const idxFull = b.op('Expand', [b.reshape(norm, col), b.op('Shape', [g])]);
    return b.op('ScatterElements', [b.fill(x, 0), idxFull, g], { axis, reduction: 'add' });
  }
  let onehot: string;
  if (c.opset >= 11) {
    // onehot[k, j] = (idx_k mod⁺ dim = j), from a ramp (OneHot has no double kernel in onnxruntime).
    const dimI = b.op('Cast', [dim], { to: b.dtype(idx) });
    const norm = b.op('Where', [b.op('Less', [flatIdx, b.op('Cast', [b.ints([0], [])], { to: b.dtype(idx) })]), b.op('Add', [flatIdx, dimI]), flatIdx]);
    const ramp = b.op('Range', [b.op('Cast', [b.ints([0], [])], { to: b.dtype(idx) }), dimI, b.op('Cast', [b.ints([1], [])], { to: b.dtype(idx) })]);
    onehot = b.op('Cast', [b.op('Equal', [b.unsqueeze(norm, [1]), ramp])], { to: b.dtype(x) });
  } else {
    b.need(9, 'the one-hot Gather gradient');
    const values = b.op('Constant', [], { value: { tensor: makeTensor(b.dtype(x), [2], [0, 1]) } });
    onehot = b.op('OneHot', [flatIdx, dim, values], { axis: -1 });
  }
  // [pre, K, post] so that onehotᵀ [N, K] · g3 → [pre, N, post]
  const g3 = b.reshape(b.op('Flatten', [g], { axis }), b.op('Concat', [b.ints([0]), b.reshape(b.op('Size', [idx]), b.ints([1])), b.ints([-1])], { axis: 0 }));
  return b.reshapeLike(b.op('MatMul', [b.transpose(onehot, [1, 0]), g3]), x);
}
