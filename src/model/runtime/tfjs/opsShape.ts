/**
 * Shape, indexing and data-movement ops. Values that ONNX passes as tensors but that determine output shapes
 * (Reshape's shape, Slice's starts/ends, Split's sizes, …) are read synchronously with dataSync(): in torch
 * exports they come from Shape/Gather/Concat chains on small int tensors, which this file also runs.
 */
import type { TensorInfo } from '../../ir';
import type { Attrs, OpContext, OpEntry, OpFn, OpInputs } from './context';
import { broadcastShapes, i32, inversePerm, need, normAxis, optInts, prod, stridedSliceDiff } from './opUtil';
import { intValues, tfDTypeOf, tfDTypeOfOnnx } from './tensors';
import { tf } from './tf';

const shape: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const r = x.rank;
  const clampAxis = (v: number): number => Math.min(Math.max(v < 0 ? v + r : v, 0), r);
  const start = clampAxis(a.int('start', 0));
  const end = a.has('end') ? clampAxis(a.int('end')) : r;
  const dims = x.shape.slice(start, Math.max(start, end));
  return [tf.tensor1d(dims, 'int32')];
};

const reshape: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const target = ctx.opset < 5 ? a.ints('shape') : intValues(need(inputs, 1, ctx));
  const allowZero = a.int('allowzero', 0) === 1;
  const out = target.map((d, i) => {
    if (d === 0 && !allowZero) {
      if (i >= x.rank) return ctx.fail('invalid-node', `shape[${i}] = 0 copies an input dim, but the input has rank ${x.rank}`);
      return x.shape[i];
    }
    return d;
  });
  const minus = out.filter((d) => d === -1).length;
  if (minus > 1) return ctx.fail('invalid-node', `shape [${target.join(',')}] has more than one -1`);
  if (minus === 1) {
    const known = prod(out.filter((d) => d !== -1));
    out[out.indexOf(-1)] = known === 0 ? 0 : x.size / known;
  }
  if (prod(out) !== x.size || out.some((d) => d < 0 || !Number.isInteger(d))) {
    ctx.fail('invalid-node', `cannot reshape [${x.shape.join(',')}] (${x.size} elements) to [${target.join(',')}]`);
  }
  return [tf.reshape(x, out)];
};

const flatten: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  let axis = a.int('axis', 1);
  if (axis < 0) axis += x.rank;
  if (axis < 0 || axis > x.rank) return ctx.fail('invalid-node', `axis ${a.int('axis', 1)} is out of range for rank ${x.rank}`);
  return [tf.reshape(x, [prod(x.shape.slice(0, axis)), prod(x.shape.slice(axis))])];
};

const transpose: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const perm = a.ints('perm', [...Array(x.rank).keys()].reverse());
  return [tf.transpose(x, perm)];
};

/** Squeeze/Unsqueeze take `axes` as an attribute before opset 13 and as an input from 13. */
function axesOf(inputs: OpInputs, a: Attrs, ctx: OpContext): number[] | undefined {
  return ctx.opset >= 13 ? optInts(inputs[1]) : a.has('axes') ? a.ints('axes') : undefined;
}

const squeeze: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const axes = axesOf(inputs, a, ctx);
  if (!axes || axes.length === 0) return [tf.reshape(x, x.shape.filter((d) => d !== 1))];
  const ax = axes.map((v) => normAxis(v, x.rank, ctx));
  for (const v of ax) if (x.shape[v] !== 1) return ctx.fail('invalid-node', `cannot squeeze axis ${v} of size ${x.shape[v]}`);
  return [tf.reshape(x, x.shape.filter((_, i) => !ax.includes(i)))];
};

const unsqueeze: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const axes = axesOf(inputs, a, ctx);
  if (!axes) return ctx.fail('invalid-node', 'expected axes, found none');
  const r = x.rank + axes.length;
  const ax = new Set(axes.map((v) => normAxis(v, r, ctx)));
  const out: number[] = [];
  let k = 0;
  for (let i = 0; i < r; i++) out.push(ax.has(i) ? 1 : x.shape[k++]);
  return [tf.reshape(x, out)];
};

const concat: OpFn = (inputs, a, ctx) => {
  const xs = inputs.filter((t): t is tf.Tensor => !!t);
  if (xs.length === 0) return ctx.fail('invalid-node', 'expected at least one input');
  const axis = normAxis(a.int('axis'), xs[0].rank, ctx);
  // Empty inputs contribute nothing; dropping them sidesteps backend quirks with zero-size operands.
  const parts = xs.filter((t) => t.size > 0);
  if (parts.length === 0) {
    const out = [...xs[0].shape];
    out[axis] = xs.reduce((s, t) => s + t.shape[axis], 0);
    return [tf.zeros(out, xs[0].dtype)];
  }
  return [parts.length === 1 ? tf.clone(parts[0]) : tf.concat(parts, axis)];
};

const split: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const axis = normAxis(a.int('axis', 0), x.rank, ctx);
  const dim = x.shape[axis];
  let sizes = ctx.opset >= 13 ? optInts(inputs[1]) : a.has('split') ? a.ints('split') : undefined;
  const n = ctx.outputCount;
  if (!sizes || sizes.length === 0) {
    const parts = a.has('num_outputs') ? a.int('num_outputs') : n;
    if (a.has('num_outputs')) {
      const chunk = Math.ceil(dim / parts);
      sizes = Array.from({ length: parts }, (_, i) => Math.max(0, Math.min(chunk, dim - i * chunk)));
    } else {
      if (dim % parts !== 0) return ctx.fail('invalid-node', `cannot split a dimension of ${dim} into ${parts} equal parts`);
      sizes = new Array<number>(parts).fill(dim / parts);
    }
  }
  if (sizes.reduce((s, v) => s + v, 0) !== dim) return ctx.fail('invalid-node', `split sizes [${sizes.join(',')}] do not add up to ${dim}`);
  return tf.split(x, sizes, axis);
};

/**
 * ONNX Slice on one axis: clamps per the spec (step > 0: start, end ∈ [0, d]; step < 0: start ∈ [0, d−1],
 * end ∈ [−1, d−1]) and returns (first index, count, step).
 */
function sliceAxis(d: number, start: number, end: number, step: number): { first: number; count: number } {
  let s = start < 0 ? start + d : start;
  let e = end < 0 ? end + d : end;
  if (step > 0) {
    s = Math.min(Math.max(s, 0), d);
    e = Math.min(Math.max(e, 0), d);
    return { first: s, count: Math.max(0, Math.ceil((e - s) / step)) };
  }
  s = Math.min(Math.max(s, 0), d - 1);
  e = Math.min(Math.max(e, -1), d - 1);
  return { first: s, count: Math.max(0, Math.ceil((s - e) / -step)) };
}

/** Slice with explicit per-axis (start, end, step); negative steps reverse the axis first. */
export function sliceBy(x: tf.Tensor, spec: Map<number, { start: number; end: number; step: number }>): tf.Tensor {
  const begin = x.shape.map(() => 0);
  const counts = [...x.shape];
  const steps = x.shape.map(() => 1);
  const reversed: number[] = [];
  for (const [axis, { start, end, step }] of spec) {
    const d = x.shape[axis];
    const { first, count } = sliceAxis(d, start, end, step);
    counts[axis] = count;
    steps[axis] = Math.abs(step);
    begin[axis] = step > 0 ? first : d - 1 - first;
    if (step < 0) reversed.push(axis);
  }
  if (counts.some((v) => v === 0)) return tf.zeros(counts, x.dtype);
  return stridedSliceDiff(reversed.length ? tf.reverse(x, reversed) : x, begin, counts, steps);
}

const slice: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  let starts: number[];
  let ends: number[];
  let axes: number[] | undefined;
  let steps: number[] | undefined;
  if (ctx.opset < 10) {
    starts = a.ints('starts');
    ends = a.ints('ends');
    axes = a.has('axes') ? a.ints('axes') : undefined;
  } else {
    starts = intValues(need(inputs, 1, ctx));
    ends = intValues(need(inputs, 2, ctx));
    axes = optInts(inputs[3]);
    steps = optInts(inputs[4]);
  }
  const ax = axes ?? starts.map((_, i) => i);
  if (starts.length !== ends.length || ax.length !== starts.length || (steps && steps.length !== starts.length)) {
    ctx.fail('invalid-node', `starts/ends/axes/steps have different lengths (${starts.length}/${ends.length}/${ax.length}/${steps?.length ?? '-'})`);
  }
  const spec = new Map<number, { start: number; end: number; step: number }>();
  ax.forEach((v, i) => {
    const step = steps?.[i] ?? 1;
    if (step === 0) return ctx.fail('invalid-node', 'a slice step is 0');
    spec.set(normAxis(v, x.rank, ctx), { start: starts[i], end: ends[i], step });
  });
  const y = sliceBy(x, spec);
  return [y === x ? tf.clone(x) : y];
};

/**
 * Wraps negative indices (ONNX allows [−d, d)) and detaches them from the gradient tape: indices computed
 * from a differentiated float (Cast, ArgMax…) would otherwise make tfjs's Gather gradient hand an int32
 * "gradient" to them, which backprop rejects. Index tensors are small; the copy is cheap.
 */
function wrapIndices(idx: tf.Tensor, d: number): tf.Tensor {
  const vals = Int32Array.from(idx.dataSync() as ArrayLike<number>, (v) => {
    const k = Math.trunc(Number(v));
    return k < 0 ? k + d : k;
  });
  return tf.tensor(vals, idx.shape, 'int32');
}

const gather: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const idx = need(inputs, 1, ctx);
  const axis = normAxis(a.int('axis', 0), x.rank, ctx);
  return [tf.gather(x, wrapIndices(idx, x.shape[axis]), axis)];
};

/**
 * GatherElements through one flat gather (whose gradient tfjs has): linear index = Σ coordᵢ·strideᵢ with the
 * index tensor's own coordinates on every axis but `axis`. `idx` must be int32, in range.
 */
export function gatherElementsImpl(x: tf.Tensor, idx: tf.Tensor, axis: number): tf.Tensor {
  const strides = x.shape.map((_, i) => prod(x.shape.slice(i + 1)));
  let linear = tf.mul(idx, i32(strides[axis]));
  for (let i = 0; i < x.rank; i++) {
    if (i === axis) continue;
    const shapeI = idx.shape.map((_, j) => (j === i ? (idx.shape[i] as number) : 1));
    const coord = tf.reshape(tf.range(0, idx.shape[i] as number, 1, 'int32'), shapeI);
    linear = tf.add(linear, tf.mul(coord, i32(strides[i])));
  }
  return tf.reshape(tf.gather(tf.reshape(x, [x.size]), tf.reshape(linear, [linear.size])), idx.shape);
}

const gatherElements: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const axis = normAxis(a.int('axis', 0), x.rank, ctx);
  return [gatherElementsImpl(x, wrapIndices(need(inputs, 1, ctx), x.shape[axis] as number), axis)];
};

/** GatherND (batch_dims) as one flat gather over [B·M, rest]. */
const gatherND: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const idx = need(inputs, 1, ctx);
  const b = a.int('batch_dims', 0);
  const k = idx.shape[idx.rank - 1] as number;
  const xs = x.shape as number[];
  const inner = xs.slice(b, b + k);
  const rest = xs.slice(b + k);
  const M = prod(inner);
  const rows = prod((idx.shape as number[]).slice(0, -1));
  const perBatch = rows / Math.max(prod(xs.slice(0, b)), 1);
  const iv = intValues(idx);
  const flat = new Int32Array(rows);
  for (let r = 0; r < rows; r++) {
    let lin = 0;
    for (let j = 0; j < k; j++) {
      let v = iv[r * k + j];
      if (v < 0) v += inner[j];
      if (v < 0 || v >= inner[j]) return ctx.fail('invalid-node', `index ${iv[r * k + j]} is out of range for a dimension of ${inner[j]}`);
      lin = lin * inner[j] + v;
    }
    flat[r] = Math.floor(r / perBatch) * M + lin;
  }
  const table = tf.reshape(x, [prod(xs.slice(0, b)) * M, ...rest]);
  return [tf.reshape(tf.gather(table, tf.tensor1d(flat, 'int32'), 0), [...(idx.shape as number[]).slice(0, -1), ...rest])];
};

const nonZero: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  const v = x.dataSync() as ArrayLike<number>;
  const shape = x.shape as number[];
  const hits: number[] = [];
  for (let i = 0; i < v.length; i++) if (v[i] !== 0) hits.push(i);
  const out = new Int32Array(shape.length * hits.length);
  hits.forEach((flat, n) => {
    let r = flat;
    for (let d = shape.length - 1; d >= 0; d--) {
      out[d * hits.length + n] = r % shape[d];
      r = Math.floor(r / shape[d]);
    }
  });
  return [tf.tensor(out, [shape.length, hits.length], 'int32')];
};

const compress: OpFn = (inputs, a, ctx) => {
  let x = need(inputs, 0, ctx);
  const cond = Array.from(need(inputs, 1, ctx).dataSync() as ArrayLike<number>);
  let axis = 0;
  if (a.has('axis')) axis = normAxis(a.int('axis'), x.rank, ctx);
  else x = tf.reshape(x, [x.size]);
  const keep = cond.slice(0, x.shape[axis] as number).flatMap((c, i) => (c ? [i] : []));
  return [tf.gather(x, tf.tensor1d(keep, 'int32'), axis)];
};

const reverseSequence: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const lens = intValues(need(inputs, 1, ctx));
  const tAxis = a.int('time_axis', 0);
  const bAxis = a.int('batch_axis', 1);
  if (!((tAxis === 0 && bAxis === 1) || (tAxis === 1 && bAxis === 0))) ctx.fail('invalid-node', 'time_axis/batch_axis must be 0 and 1');
  const [d0, d1] = x.shape as number[];
  const map = new Int32Array(d0 * d1);
  for (let i = 0; i < d0; i++) {
    for (let j = 0; j < d1; j++) {
      const [t, b] = tAxis === 0 ? [i, j] : [j, i];
      const src = t < lens[b] ? lens[b] - 1 - t : t;
      map[i * d1 + j] = tAxis === 0 ? src * d1 + j : i * d1 + src;
    }
  }
  const rest = (x.shape as number[]).slice(2);
  const table = tf.reshape(x, [d0 * d1, ...rest]);
  return [tf.reshape(tf.gather(table, tf.tensor1d(map, 'int32'), 0), x.shape)];
};

const expand: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  const target = intValues(need(inputs, 1, ctx));
  const out = broadcastShapes(x.shape, target, ctx);
  return [tf.broadcastTo(x.rank < out.length ? tf.reshape(x, [...new Array<number>(out.length - x.rank).fill(1), ...x.shape]) : x, out)];
};

const tile: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  const reps = intValues(need(inputs, 1, ctx));
  if (reps.length !== x.rank) return ctx.fail('invalid-node', `repeats has ${reps.length} entries for a rank-${x.rank} input`);
  return [tf.tile(x, reps)];
};

const range: OpFn = (inputs, _a, ctx) => {
  const s = need(inputs, 0, ctx);
  const [start] = Array.from(s.dataSync() as ArrayLike<number>);
  const [limit] = Array.from(need(inputs, 1, ctx).dataSync() as ArrayLike<number>);
  const [delta] = Array.from(need(inputs, 2, ctx).dataSync() as ArrayLike<number>);
  if (delta === 0) return ctx.fail('invalid-node', 'delta is 0');
  const n = Math.max(Math.ceil((limit - start) / delta), 0);
  const dtype = s.dtype === 'int32' ? 'int32' : 'float32';
  // Computed as start + i·delta (the spec's definition) so float ranges match element for element.
  const vals = Array.from({ length: n }, (_, i) => start + i * delta);
  return [tf.tensor1d(vals, dtype)];
};

function fillValue(info: TensorInfo | undefined, ctx: OpContext): { value: number; dtype: 'float32' | 'int32' | 'bool' } {
  if (!info) return { value: 0, dtype: 'float32' };
  const t = ctx.attrTensor(info);
  const dtype = tfDTypeOf(info.dtype);
  if (!dtype) return ctx.fail('unsupported-feature', `a ${info.dtype} value cannot be held by tfjs`);
  return { value: Number(t.dataSync()[0] ?? 0), dtype };
}

const constantOfShape: OpFn = (inputs, a, ctx) => {
  const dims = intValues(need(inputs, 0, ctx));
  const { value, dtype } = fillValue(a.tensor('value'), ctx);
  return [tf.fill(dims, value, dtype)];
};

const constant: OpFn = (_inputs, a, ctx) => {
  const t = a.tensor('value');
  if (t) return [tf.clone(ctx.attrTensor(t))];
  if (a.has('value_float')) return [tf.scalar(a.float('value_float'), 'float32')];
  if (a.has('value_floats')) return [tf.tensor1d(a.floats('value_floats'), 'float32')];
  if (a.has('value_int')) return [tf.scalar(a.int('value_int'), 'int32')];
  if (a.has('value_ints')) return [tf.tensor1d(a.ints('value_ints'), 'int32')];
  return ctx.fail('unsupported-feature', 'only tensor, float(s) and int(s) constants are supported (not sparse or string)');
};

const cast: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const code = a.int('to');
  const to = tfDTypeOfOnnx(code);
  if (!to) return ctx.fail('unsupported-feature', `Cast to ONNX dtype ${code} (string, complex or 8/4-bit float) is not supported by tfjs`);
  return [x.dtype === to ? tf.clone(x) : tf.cast(x, to)];
};

const castLike: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  const like = need(inputs, 1, ctx);
  return [x.dtype === like.dtype ? tf.clone(x) : tf.cast(x, like.dtype)];
};

const where: OpFn = (inputs, _a, ctx) => {
  const c = need(inputs, 0, ctx);
  const x = need(inputs, 1, ctx);
  const y = need(inputs, 2, ctx);
  const out = broadcastShapes(broadcastShapes(c.shape, x.shape, ctx), y.shape, ctx);
  const b = (t: tf.Tensor): tf.Tensor => (t.shape.length === out.length && t.shape.every((d, i) => d === out[i]) ? t : tf.broadcastTo(t, out));
  return [tf.where(b(tf.cast(c, 'bool')), b(x), b(y))];
};

const identity: OpFn = (inputs, _a, ctx) => [tf.clone(need(inputs, 0, ctx))];

/** Dropout at inference is the identity; the optional mask output is all true. */
const dropout: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  if (ctx.opset >= 12 && inputs[2]) {
    const training = inputs[2].dataSync()[0] !== 0;
    const ratio = inputs[1] ? Number(inputs[1].dataSync()[0]) : 0.5;
    if (training && ratio > 0) return ctx.fail('unsupported-feature', 'training_mode=true (random dropout) is not supported; the translator runs inference');
  }
  void a;
  const out = [tf.clone(x)];
  if (ctx.wantsOutput(1)) out.push(tf.ones(x.shape, 'bool'));
  return out;
};

function padAmounts(inputs: OpInputs, a: Attrs, ctx: OpContext, rank: number): { pads: number[]; value: number; mode: string } {
  let pads: number[];
  let value = 0;
  if (ctx.opset < 11) {
    pads = a.ints(ctx.opset < 2 ? 'paddings' : 'pads');
    value = a.float('value', 0);
  } else {
    pads = intValues(need(inputs, 1, ctx));
    if (inputs[2] && inputs[2].size > 0) value = Number(inputs[2].dataSync()[0]);
    const axes = optInts(inputs[3]);
    if (axes) {
      const full = new Array<number>(2 * rank).fill(0);
      axes.forEach((ax, i) => {
        const k = normAxis(ax, rank, ctx);
        full[k] = pads[i];
        full[k + rank] = pads[i + axes.length];
      });
      pads = full;
    }
  }
  if (pads.length !== 2 * rank) return ctx.fail('invalid-node', `pads has ${pads.length} entries for a rank-${rank} input (expected ${2 * rank})`);
  return { pads, value, mode: a.string('mode', 'constant') };
}

/** Edge padding: repeats the first/last slice along each axis. */
function edgePad(x: tf.Tensor, pairs: [number, number][]): tf.Tensor {
  let y = x;
  pairs.forEach(([b, e], axis) => {
    if (b === 0 && e === 0) return;
    const parts: tf.Tensor[] = [];
    const d = y.shape[axis];
    const size = [...y.shape];
    size[axis] = 1;
    if (b > 0) {
      const reps = y.shape.map((_, i) => (i === axis ? b : 1));
      parts.push(tf.tile(tf.slice(y, y.shape.map(() => 0), size), reps));
    }
    parts.push(y);
    if (e > 0) {
      const reps = y.shape.map((_, i) => (i === axis ? e : 1));
      const begin = y.shape.map((_, i) => (i === axis ? d - 1 : 0));
      parts.push(tf.tile(tf.slice(y, begin, size), reps));
    }
    y = tf.concat(parts, axis);
  });
  return y;
}

/**
 * Reflect padding from reversed slices. Not tf.mirrorPad: its registered gradient only slices dy back and
 * drops the contributions of the reflected copies.
 */
function reflectPad(x: tf.Tensor, pairs: [number, number][]): tf.Tensor {
  let y = x;
  pairs.forEach(([b, e], axis) => {
    if (b === 0 && e === 0) return;
    const d = y.shape[axis] as number;
    const part = (from: number, len: number): tf.Tensor => {
      const begin = y.shape.map((_, i) => (i === axis ? from : 0));
      const size = y.shape.map((s, i) => (i === axis ? len : s));
      return tf.reverse(tf.slice(y, begin, size), [axis]);
    };
    const parts: tf.Tensor[] = [];
    if (b > 0) parts.push(part(1, b));
    parts.push(y);
    if (e > 0) parts.push(part(d - 1 - e, e));
    y = tf.concat(parts, axis);
  });
  return y;
}

const pad: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const { pads, value, mode } = padAmounts(inputs, a, ctx, x.rank);
  const r = x.rank;
  // Negative pads crop: pad with the positive parts, then slice the negative parts away.
  const pos: [number, number][] = x.shape.map((_, i) => [Math.max(pads[i], 0), Math.max(pads[i + r], 0)]);
  let y: tf.Tensor;
  switch (mode) {
    case 'constant':
      y = tf.pad(x, pos, value);
      break;
    case 'reflect':
      y = reflectPad(x, pos);
      break;
    case 'edge':
      y = edgePad(x, pos);
      break;
    default:
      return ctx.fail('unsupported-feature', `pad mode '${mode}' is not supported (constant, reflect, edge are)`);
  }
  if (pads.some((p) => p < 0)) {
    const begin = x.shape.map((_, i) => Math.max(-pads[i], 0));
    const size = y.shape.map((d, i) => d - begin[i] - Math.max(-pads[i + r], 0));
    y = tf.slice(y, begin, size);
  }
  return [y === x ? tf.clone(x) : y];
};

const size: OpFn = (inputs, _a, ctx) => [tf.scalar(need(inputs, 0, ctx).size, 'int32')];

/** Lower/upper triangle of the last two dims, offset k (input). */
const trilu: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const k = inputs[1] ? intValues(inputs[1])[0] : 0;
  const upper = a.int('upper', 1) === 1;
  const [m, n] = x.shape.slice(-2);
  const mask = new Uint8Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) mask[i * n + j] = (upper ? j - i >= k : j - i <= k) ? 1 : 0;
  return [tf.where(tf.broadcastTo(tf.tensor(mask, [m, n], 'bool'), x.shape), x, tf.zerosLike(x))];
};

const cumsum: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const axis = normAxis(intValues(need(inputs, 1, ctx))[0], x.rank, ctx);
  return [tf.cumsum(x, axis, a.int('exclusive', 0) === 1, a.int('reverse', 0) === 1)];
};

const topk: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const k = ctx.opset < 10 ? a.int('k') : intValues(need(inputs, 1, ctx))[0];
  const axis = normAxis(a.int('axis', -1), x.rank, ctx);
  const largest = a.int('largest', 1) === 1;
  const perm = [...Array(x.rank).keys()];
  perm[axis] = x.rank - 1;
  perm[x.rank - 1] = axis;
  const moved = axis === x.rank - 1 ? x : tf.transpose(x, perm);
  // Indices from a detached copy (see wrapIndices); values are then gathered from the live tensor.
  const copy = tf.tensor(moved.dataSync() as Float32Array | Int32Array, moved.shape, moved.dtype);
  const { indices } = tf.topk(largest ? copy : tf.neg(copy), k, true);
  // Values are gathered by index rather than taken from tf.topk, which has no gradient.
  const n = moved.shape[moved.rank - 1];
  const rows = moved.size / Math.max(n, 1);
  const offsets = tf.reshape(tf.mul(tf.range(0, rows, 1, 'int32'), i32(n)), [...indices.shape.slice(0, -1), 1]);
  const flat = tf.reshape(tf.add(indices, offsets), [indices.size]);
  const v = tf.reshape(tf.gather(tf.reshape(moved, [moved.size]), flat), indices.shape);
  const back = (t: tf.Tensor): tf.Tensor => (axis === x.rank - 1 ? t : tf.transpose(t, inversePerm(perm)));
  return [back(v), back(indices)];
};

const oneHot: OpFn = (inputs, a, ctx) => {
  const idx = need(inputs, 0, ctx);
  const depth = Math.trunc(Number(need(inputs, 1, ctx).dataSync()[0]));
  const values = need(inputs, 2, ctx);
  const axisAttr = a.int('axis', -1);
  const r = idx.rank + 1;
  const axis = normAxis(axisAttr, r, ctx);
  const ix = tf.cast(idx.dtype === 'float32' ? tf.floor(idx) : idx, 'int32');
  const wrapped = tf.add(ix, tf.mul(tf.cast(tf.less(ix, 0), 'int32'), i32(depth)));
  const hot = tf.cast(tf.oneHot(wrapped, depth), 'bool');
  const off = tf.slice(values, [0], [1]);
  const on = tf.slice(values, [1], [1]);
  let y = tf.where(hot, tf.broadcastTo(tf.reshape(on, []), hot.shape), tf.broadcastTo(tf.reshape(off, []), hot.shape));
  if (axis !== r - 1) {
    const perm = [...Array(r - 1).keys()];
    perm.splice(axis, 0, r - 1);
    y = tf.transpose(y, perm);
  }
  return [y];
};

const eyeLike: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const k = a.int('k', 0);
  const dtype = a.has('dtype') ? tfDTypeOfOnnx(a.int('dtype')) : x.dtype === 'bool' ? 'bool' : (x.dtype as 'float32' | 'int32');
  if (!dtype) return ctx.fail('unsupported-feature', `dtype ${a.int('dtype')} is not supported by tfjs`);
  const [m, n] = x.shape;
  const vals = new Array<number>(m * n).fill(0);
  for (let i = 0; i < m; i++) if (i + k >= 0 && i + k < n) vals[i * n + i + k] = 1;
  return [tf.tensor(vals, [m, n], dtype)];
};

/** DepthToSpace (DCR default, CRD) and SpaceToDepth by reshape/transpose. */
const depthToSpace: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const b = a.int('blocksize');
  const [n, c, h, w] = x.shape;
  const crd = a.string('mode', 'DCR') === 'CRD';
  const t = crd
    ? tf.transpose(tf.reshape(x, [n, c / (b * b), b, b, h, w]), [0, 1, 4, 2, 5, 3])
    : tf.transpose(tf.reshape(x, [n, b, b, c / (b * b), h, w]), [0, 3, 4, 1, 5, 2]);
  return [tf.reshape(t, [n, c / (b * b), h * b, w * b])];
};

const spaceToDepth: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const b = a.int('blocksize');
  const [n, c, h, w] = x.shape;
  const t = tf.transpose(tf.reshape(x, [n, c, h / b, b, w / b, b]), [0, 3, 5, 1, 2, 4]);
  return [tf.reshape(t, [n, c * b * b, h / b, w / b])];
};

const e = (fn: OpFn, opsets: string, grad: boolean, notes?: string): OpEntry => ({ fn, opsets, grad, notes });

export const SHAPE_OPS: Record<string, OpEntry> = {
  Shape: e(shape, '1–17', false, 'start/end (opset 15)'),
  Size: e(size, '1–17', false),
  Reshape: e(reshape, '1–17', true, '0 copies a dim (unless allowzero=1), one -1 inferred'),
  Flatten: e(flatten, '1–17', true, 'axis (default 1, negative allowed)'),
  Transpose: e(transpose, '1–17', true, 'perm (default: reversed)'),
  Squeeze: e(squeeze, '1–17', true, 'axes attribute < 13, input ≥ 13'),
  Unsqueeze: e(unsqueeze, '1–17', true, 'axes attribute < 13, input ≥ 13'),
  Concat: e(concat, '1–17', true, 'axis (negative allowed); empty inputs dropped'),
  Split: e(split, '1–18', true, 'split attribute < 13, input ≥ 13; num_outputs (18)'),
  Slice: e(slice, '1–17', true, 'attributes < 10, inputs ≥ 10; negative/INT64_MAX starts and ends, negative steps'),
  Gather: e(gather, '1–17', true, 'axis; negative indices'),
  GatherElements: e(gatherElements, '11–17', true, 'axis; negative indices'),
  GatherND: e(gatherND, '11–17', true, 'batch_dims; negative indices'),
  NonZero: e(nonZero, '9–17', false),
  Compress: e(compress, '9–17', true, 'axis (absent: flattened)'),
  ReverseSequence: e(reverseSequence, '10–17', true, 'time_axis, batch_axis'),
  Expand: e(expand, '8–17', true, 'bidirectional broadcast'),
  Tile: e(tile, '6–17', true),
  Range: e(range, '11–17', false),
  ConstantOfShape: e(constantOfShape, '9–17', false, 'value tensor attribute (default float 0)'),
  Constant: e(constant, '1–17', false, 'the loader folds most Constant nodes into initializers'),
  Cast: e(cast, '1–17', true, 'float16/float64 compute as float32, every integer type as int32; float→int truncates'),
  CastLike: e(castLike, '15–17', true, 'as Cast'),
  Where: e(where, '9–17', true, 'broadcasting'),
  Identity: e(identity, '1–17', true),
  Dropout: e(dropout, '1–17', true, 'inference identity; mask output all true; training_mode=true with ratio>0 is refused'),
  Pad: e(pad, '1–18', true, 'attributes < 11, inputs ≥ 11, axes (18); constant, reflect, edge; negative pads crop'),
  Trilu: e(trilu, '14–17', true, 'upper, k'),
  CumSum: e(cumsum, '11–17', true, 'exclusive, reverse'),
  TopK: e(topk, '1–17', true, 'k attribute < 10, input ≥ 10; axis, largest; always sorted'),
  OneHot: e(oneHot, '9–17', false, 'axis; negative indices'),
  EyeLike: e(eyeLike, '9–17', false, 'k, dtype'),
  DepthToSpace: e(depthToSpace, '1–17', true, 'DCR and CRD modes'),
  SpaceToDepth: e(spaceToDepth, '1–17', true),
};
