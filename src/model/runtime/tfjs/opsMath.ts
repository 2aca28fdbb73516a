/**
 * Element-wise, activation, reduction and matrix ops (ONNX semantics on tfjs-core). Binary ops broadcast
 * numpy-style, as tfjs does. Integer tensors are int32 (see tensors.ts).
 */
import type { Attrs, OpContext, OpEntry, OpFn } from './context';
import { alongLast, isFloat, need, normAxis, optInts, prod } from './opUtil';
import { floatValues } from './tensors';
import { tf } from './tf';

type Unary = (x: tf.Tensor, a: Attrs, ctx: OpContext) => tf.Tensor;

function unary(f: Unary): OpFn {
  return (inputs, a, ctx) => [f(need(inputs, 0, ctx), a, ctx)];
}

function binary(f: (x: tf.Tensor, y: tf.Tensor, ctx: OpContext) => tf.Tensor): OpFn {
  return (inputs, _a, ctx) => [f(need(inputs, 0, ctx), need(inputs, 1, ctx), ctx)];
}

/** Variadic broadcasting op (Sum, Max, Min, Mean). */
function variadic(f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor, post?: (acc: tf.Tensor, n: number) => tf.Tensor): OpFn {
  return (inputs, _a, ctx) => {
    const xs = inputs.filter((t): t is tf.Tensor => !!t);
    if (xs.length === 0) return ctx.fail('invalid-node', 'expected at least one input, found none');
    let acc = xs.length === 1 ? tf.clone(xs[0]) : f(xs[0], xs[1]);
    for (let i = 2; i < xs.length; i++) acc = f(acc, xs[i]);
    return [post ? post(acc, xs.length) : acc];
  };
}

const float = (f: Unary): Unary => (x, a, ctx) => {
  if (!isFloat(x)) return ctx.fail('unsupported-feature', `expected a float tensor, found ${x.dtype}`);
  return f(x, a, ctx);
};

/** C-style integer division (truncation toward zero), which ONNX Div means for integers. */
function intDiv(a: tf.Tensor, b: tf.Tensor): tf.Tensor {
  const q = tf.floorDiv(a, b);
  const r = tf.sub(a, tf.mul(q, b));
  const signsDiffer = tf.notEqual(tf.less(a, 0), tf.less(b, 0));
  const fix = tf.logicalAnd(tf.notEqual(r, 0), signsDiffer);
  return tf.add(q, tf.cast(fix, 'int32'));
}

/** Truncation toward zero of a float tensor. */
function trunc(x: tf.Tensor): tf.Tensor {
  return tf.mul(tf.sign(x), tf.floor(tf.abs(x)));
}

/** ONNX Mod: fmod=0 is Python's floor modulo (integers), fmod=1 C's fmod (sign of the dividend). */
const mod: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const y = need(inputs, 1, ctx);
  const fmod = a.int('fmod', 0);
  if (!fmod) {
    if (isFloat(x)) return ctx.fail('invalid-node', 'fmod=0 is only defined for integers; floats need fmod=1');
    return [tf.mod(x, y)];
  }
  const q = isFloat(x) ? trunc(tf.div(x, y)) : intDiv(x, y);
  return [tf.sub(x, tf.mul(q, y))];
};

const pow: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  let y = need(inputs, 1, ctx);
  if (y.dtype !== x.dtype) y = tf.cast(y, x.dtype);
  return [tf.pow(x, y)];
};

/** relu(x) + α·(exp(min(x,0))−1): the exp never sees large x, so no inf·0 = NaN in the gradient. */
function expLinear(x: tf.Tensor, alpha: number, inner = 1): tf.Tensor {
  const neg = tf.minimum(x, 0);
  const e = tf.sub(tf.exp(inner === 1 ? neg : tf.div(neg, inner)), 1);
  return tf.add(tf.relu(x), tf.mul(e, alpha));
}

/** Clip: opset < 11 takes min/max attributes, ≥ 11 optional scalar inputs. */
const clip: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  let lo: number | undefined;
  let hi: number | undefined;
  if (ctx.opset < 11) {
    lo = a.has('min') ? a.float('min') : undefined;
    hi = a.has('max') ? a.float('max') : undefined;
  } else {
    lo = inputs[1] ? floatValues(inputs[1])[0] : undefined;
    hi = inputs[2] ? floatValues(inputs[2])[0] : undefined;
  }
  // max-then-min: when min > max every value becomes max (numpy.clip's convention, which ONNX follows).
  let y = x;
  if (lo !== undefined && Number.isFinite(lo)) y = tf.maximum(y, tf.scalar(lo, x.dtype));
  if (hi !== undefined && Number.isFinite(hi)) y = tf.minimum(y, tf.scalar(hi, x.dtype));
  return [y === x ? tf.clone(x) : y];
};

/**
 * Softmax family. Opset < 13: coerce to 2-D at `axis` (default 1) and normalise each row over all trailing
 * dims; opset ≥ 13: normalise along `axis` (default −1) only.
 */
function softmaxLike(f: (x2: tf.Tensor) => tf.Tensor): OpFn {
  return (inputs, a, ctx) => {
    const x = need(inputs, 0, ctx);
    if (ctx.opset < 13) {
      const axis = normAxis(a.int('axis', 1), x.rank, ctx);
      const rows = prod(x.shape.slice(0, axis));
      const cols = prod(x.shape.slice(axis));
      return [tf.reshape(f(tf.reshape(x, [rows, cols])), x.shape)];
    }
    const axis = normAxis(a.int('axis', -1), x.rank, ctx);
    return [alongLast(x, axis, f)];
  };
}

function hardmax2(x: tf.Tensor): tf.Tensor {
  const last = x.shape[x.rank - 1];
  return tf.cast(tf.oneHot(tf.argMax(x, -1), last), x.dtype);
}

// ---- reductions ----

type ReduceKind = 'sum' | 'mean' | 'max' | 'min' | 'prod' | 'l1' | 'l2' | 'logsum' | 'logsumexp' | 'sumsquare';

function reduceOp(kind: ReduceKind, axesInputFrom: number): OpFn {
  return (inputs, a, ctx) => {
    const x = need(inputs, 0, ctx);
    const keep = a.int('keepdims', 1) === 1;
    let axes: number[] | undefined;
    if (ctx.opset >= axesInputFrom) axes = optInts(inputs[1]);
    else axes = a.has('axes') ? a.ints('axes') : undefined;
    const noop = a.int('noop_with_empty_axes', 0) === 1;
    if (!axes || axes.length === 0) {
      if (noop) return [tf.clone(x)];
      axes = [...Array(x.rank).keys()];
    }
    const ax = [...new Set(axes.map((v) => normAxis(v, x.rank, ctx)))];
    const wasInt = x.dtype === 'int32';
    let y: tf.Tensor;
    switch (kind) {
      case 'sum':
        y = tf.sum(x, ax, keep);
        break;
      case 'mean':
        y = tf.mean(x, ax, keep);
        break;
      case 'max':
        y = tf.max(x, ax, keep);
        break;
      case 'min':
        y = tf.min(x, ax, keep);
        break;
      case 'prod':
        y = tf.prod(x, ax, keep);
        break;
      case 'l1':
        y = tf.sum(tf.abs(x), ax, keep);
        break;
      case 'l2':
        y = tf.sqrt(tf.sum(tf.square(x), ax, keep));
        break;
      case 'logsum':
        y = tf.log(tf.sum(x, ax, keep));
        break;
      case 'logsumexp':
        y = tf.logSumExp(x, ax, keep);
        break;
      case 'sumsquare':
        y = tf.sum(tf.square(x), ax, keep);
        break;
    }
    if (wasInt && y.dtype !== 'int32') y = tf.cast(kind === 'mean' ? trunc(y) : y, 'int32');
    return [y];
  };
}

/** ArgMax/ArgMin with keepdims and select_last_index (opset 12: search from the end on ties). */
function argReduce(which: 'max' | 'min'): OpFn {
  return (inputs, a, ctx) => {
    const x = need(inputs, 0, ctx);
    const axis = normAxis(a.int('axis', 0), x.rank, ctx);
    const keep = a.int('keepdims', 1) === 1;
    const last = a.int('select_last_index', 0) === 1;
    const src = last ? tf.reverse(x, [axis]) : x;
    let idx = which === 'max' ? tf.argMax(src, axis) : tf.argMin(src, axis);
    if (last) idx = tf.sub(tf.scalar(x.shape[axis] - 1, 'int32'), idx);
    if (keep) idx = tf.expandDims(idx, axis);
    return [idx];
  };
}

// ---- matrix products ----

const matMul: OpFn = (inputs, _a, ctx) => {
  let x = need(inputs, 0, ctx);
  let y = need(inputs, 1, ctx);
  // numpy.matmul: a 1-D left operand gets a leading 1, a 1-D right operand a trailing 1, removed afterwards.
  const vecL = x.rank === 1;
  const vecR = y.rank === 1;
  if (vecL) x = tf.reshape(x, [1, x.shape[0]]);
  if (vecR) y = tf.reshape(y, [y.shape[0], 1]);
  if (x.dtype !== y.dtype) return ctx.fail('invalid-node', `operands have different dtypes (${x.dtype}, ${y.dtype})`);
  let z = x.rank === 2 && y.rank === 2 ? tf.matMul(x, y) : batchMatMul(x, y, ctx);
  if (vecL) z = tf.squeeze(z, [z.rank - 2]);
  if (vecR) z = tf.squeeze(z, [z.rank - 1]);
  return [z];
};

/**
 * Batched matmul with numpy broadcasting of the batch dims. A rank-2 right operand (x·W, the common
 * Linear layer) is folded into one 2-D product, which is faster and has the simplest gradient.
 */
function batchMatMul(x: tf.Tensor, y: tf.Tensor, ctx: OpContext): tf.Tensor {
  if (y.rank === 2) {
    const lead = x.shape.slice(0, -1);
    const k = x.shape[x.rank - 1];
    const z = tf.matMul(tf.reshape(x, [prod(lead), k]), y);
    return tf.reshape(z, [...lead, y.shape[1] as number]);
  }
  if (x.shape[x.rank - 1] !== y.shape[y.rank - 2]) {
    ctx.fail('invalid-node', `inner dimensions differ: [${x.shape.join(',')}] × [${y.shape.join(',')}]`);
  }
  const n = Math.max(x.rank, y.rank);
  const bx = x.shape.slice(0, -2);
  const by = y.shape.slice(0, -2);
  const batch: number[] = [];
  for (let i = 0; i < n - 2; i++) {
    const p = bx[bx.length - (n - 2) + i] ?? 1;
    const q = by[by.length - (n - 2) + i] ?? 1;
    if (p !== q && p !== 1 && q !== 1) return ctx.fail('invalid-node', `batch dims of [${x.shape.join(',')}] and [${y.shape.join(',')}] do not broadcast`);
    batch.push(Math.max(p, q));
  }
  // Broadcast explicitly so the 3-D kernel (and its gradient, reduced by BroadcastTo's) sees equal batches.
  const xb = tf.broadcastTo(x, [...batch, ...x.shape.slice(-2)]);
  const yb = tf.broadcastTo(y, [...batch, ...y.shape.slice(-2)]);
  const B = prod(batch);
  const z = tf.matMul(tf.reshape(xb, [B, ...x.shape.slice(-2)] as [number, number, number]) as tf.Tensor3D, tf.reshape(yb, [B, ...y.shape.slice(-2)] as [number, number, number]) as tf.Tensor3D);
  return tf.reshape(z, [...batch, x.shape[x.rank - 2], y.shape[y.rank - 1]]);
}

const gemm: OpFn = (inputs, a, ctx) => {
  const A = need(inputs, 0, ctx);
  const B = need(inputs, 1, ctx);
  const C = inputs[2];
  const alpha = a.float('alpha', 1);
  const beta = a.float('beta', 1);
  if (A.rank !== 2 || B.rank !== 2) return ctx.fail('invalid-node', `expected 2-D A and B, found ranks ${A.rank} and ${B.rank}`);
  let y = tf.matMul(A, B, a.int('transA', 0) === 1, a.int('transB', 0) === 1);
  if (alpha !== 1) y = tf.mul(y, alpha);
  if (C && beta !== 0) y = tf.add(y, beta === 1 ? C : tf.mul(C, beta));
  return [y];
};

/** Einsum via tf.einsum (two operands at most, no repeated index within one operand, no ellipsis). */
const einsum: OpFn = (inputs, a, ctx) => {
  let eq = a.string('equation').replace(/\s+/g, '');
  if (eq.includes('...')) return ctx.fail('unsupported-feature', `einsum with an ellipsis ('${eq}') is not supported`);
  if (!eq.includes('->')) {
    // Implicit mode: the output is every index that appears exactly once, in alphabetical order.
    const counts = new Map<string, number>();
    for (const c of eq.replace(/,/g, '')) counts.set(c, (counts.get(c) ?? 0) + 1);
    eq += '->' + [...counts].filter(([, n]) => n === 1).map(([c]) => c).sort().join('');
  }
  const xs = inputs.filter((t): t is tf.Tensor => !!t);
  try {
    return [tf.einsum(eq, ...xs)];
  } catch (e) {
    return ctx.fail('unsupported-feature', `tf.einsum cannot evaluate '${eq}': ${(e as Error).message}`);
  }
};

function cmp(f: (x: tf.Tensor, y: tf.Tensor) => tf.Tensor): OpFn {
  return binary((x, y) => f(x, y));
}

const gelu: Unary = (x, a) => {
  if (a.string('approximate', 'none') === 'tanh') {
    const inner = tf.mul(tf.add(x, tf.mul(tf.pow(x, 3), 0.044715)), Math.sqrt(2 / Math.PI));
    return tf.mul(tf.mul(x, 0.5), tf.add(tf.tanh(inner), 1));
  }
  return tf.mul(tf.mul(x, 0.5), tf.add(tf.erf(tf.mul(x, Math.SQRT1_2)), 1));
};

const e = (fn: OpFn, opsets: string, grad: boolean, notes?: string): OpEntry => ({ fn, opsets, grad, notes });
const u = (f: Unary, grad = true, notes?: string): OpEntry => e(unary(f), '1–17', grad, notes);

export const MATH_OPS: Record<string, OpEntry> = {
  Add: e(binary((x, y) => tf.add(x, y)), '1–17', true, 'numpy broadcasting'),
  Sub: e(binary((x, y) => tf.sub(x, y)), '1–17', true, 'numpy broadcasting'),
  Mul: e(binary((x, y) => tf.mul(x, y)), '1–17', true, 'numpy broadcasting'),
  Div: e(binary((x, y) => (x.dtype === 'int32' ? intDiv(x, y) : tf.div(x, y))), '1–17', true, 'integers truncate toward zero'),
  Pow: e(pow, '1–17', true, 'exponent cast to the base dtype'),
  Mod: e(mod, '10–17', false, 'fmod=0 (integers, sign of divisor) and fmod=1'),
  Neg: u((x) => tf.neg(x)),
  Abs: u((x) => tf.abs(x)),
  Sign: u((x) => tf.sign(x), false),
  Exp: u(float((x) => tf.exp(x))),
  Log: u(float((x) => tf.log(x))),
  Sqrt: u(float((x) => tf.sqrt(x))),
  Reciprocal: u(float((x) => tf.reciprocal(x))),
  Floor: u(float((x) => tf.floor(x)), false),
  Ceil: u(float((x) => tf.ceil(x)), false),
  Round: u(float((x) => tf.round(x)), false, 'half to even'),
  Sin: u(float((x) => tf.sin(x))),
  Cos: u(float((x) => tf.cos(x))),
  Tan: u(float((x) => tf.tan(x))),
  Asin: u(float((x) => tf.asin(x))),
  Acos: u(float((x) => tf.acos(x))),
  Atan: u(float((x) => tf.atan(x))),
  Sinh: u(float((x) => tf.sinh(x))),
  Cosh: u(float((x) => tf.cosh(x))),
  Asinh: u(float((x) => tf.asinh(x))),
  Acosh: u(float((x) => tf.acosh(x))),
  Atanh: u(float((x) => tf.atanh(x))),
  Erf: u(float((x) => tf.erf(x))),
  Relu: u((x) => tf.relu(x)),
  LeakyRelu: u((x, a) => tf.leakyRelu(x, a.float('alpha', 0.01)), true, 'alpha (0.01)'),
  PRelu: e(binary((x, s) => tf.sub(tf.relu(x), tf.mul(s, tf.relu(tf.neg(x))))), '1–17', true, 'slope broadcasts'),
  Elu: u(float((x, a) => expLinear(x, a.float('alpha', 1))), true, 'alpha (1)'),
  Selu: u(float((x, a) => tf.mul(expLinear(x, a.float('alpha', 1.67326319217681884765625)), a.float('gamma', 1.05070102214813232421875))), true, 'alpha, gamma'),
  Celu: u(float((x, a) => { const al = a.float('alpha', 1); return expLinear(x, al, al); }), true, 'alpha (1)'),
  ThresholdedRelu: u(float((x, a) => tf.mul(x, tf.cast(tf.greater(x, a.float('alpha', 1)), 'float32'))), true, 'alpha (1)'),
  Tanh: u(float((x) => tf.tanh(x))),
  Sigmoid: u(float((x) => tf.sigmoid(x))),
  HardSigmoid: u(float((x, a) => tf.clipByValue(tf.add(tf.mul(x, a.float('alpha', 0.2)), a.float('beta', 0.5)), 0, 1)), true, 'alpha (0.2), beta (0.5)'),
  HardSwish: u(float((x) => tf.mul(x, tf.clipByValue(tf.add(tf.div(x, 6), 0.5), 0, 1)))),
  Softplus: u(float((x) => tf.softplus(x))),
  Softsign: u(float((x) => tf.div(x, tf.add(tf.abs(x), 1)))),
  Gelu: e(unary(float(gelu)), '20', true, "approximate 'none' or 'tanh'; torch ≤ 2.0 exports GELU decomposed (Div, Erf, Add, Mul), which runs op by op"),
  Shrink: u(float((x, a) => {
    const l = a.float('lambd', 0.5);
    const b = a.float('bias', 0);
    const lo = tf.cast(tf.less(x, -l), 'float32');
    const hi = tf.cast(tf.greater(x, l), 'float32');
    return tf.add(tf.mul(lo, tf.add(x, b)), tf.mul(hi, tf.sub(x, b)));
  }), true, 'lambd, bias'),
  Clip: e(clip, '1–17', true, 'min/max attributes before opset 11, optional inputs from 11'),
  IsNaN: u(float((x) => tf.isNaN(x)), false),
  IsInf: u(float((x, a) => {
    const pos = a.int('detect_positive', 1) === 1;
    const neg = a.int('detect_negative', 1) === 1;
    const p = tf.equal(x, Infinity);
    const n = tf.equal(x, -Infinity);
    return pos && neg ? tf.logicalOr(p, n) : pos ? p : neg ? n : tf.cast(tf.zerosLike(x), 'bool');
  }), false, 'detect_positive, detect_negative'),
  Equal: e(cmp((x, y) => tf.equal(x, y)), '1–17', false),
  Less: e(cmp((x, y) => tf.less(x, y)), '1–17', false),
  LessOrEqual: e(cmp((x, y) => tf.lessEqual(x, y)), '12–17', false),
  Greater: e(cmp((x, y) => tf.greater(x, y)), '1–17', false),
  GreaterOrEqual: e(cmp((x, y) => tf.greaterEqual(x, y)), '12–17', false),
  Not: u((x) => tf.logicalNot(x), false),
  And: e(cmp((x, y) => tf.logicalAnd(x, y)), '1–17', false),
  Or: e(cmp((x, y) => tf.logicalOr(x, y)), '1–17', false),
  Xor: e(cmp((x, y) => tf.logicalXor(x, y)), '1–17', false),
  Max: e(variadic((x, y) => tf.maximum(x, y)), '1–17', true, 'variadic, broadcasting'),
  Min: e(variadic((x, y) => tf.minimum(x, y)), '1–17', true, 'variadic, broadcasting'),
  Sum: e(variadic((x, y) => tf.add(x, y)), '1–17', true, 'variadic, broadcasting'),
  Mean: e(variadic((x, y) => tf.add(x, y), (acc, n) => tf.div(acc, n)), '1–17', true, 'variadic, broadcasting'),
  Softmax: e(softmaxLike((x) => tf.softmax(x)), '1–17', true, 'opset < 13: flatten to 2-D at axis (default 1); ≥ 13: along axis (default −1)'),
  LogSoftmax: e(softmaxLike((x) => tf.logSoftmax(x)), '1–17', true, 'as Softmax'),
  Hardmax: e(softmaxLike(hardmax2), '1–17', false, 'as Softmax; first maximum wins'),
  ReduceSum: e(reduceOp('sum', 13), '1–17', true, 'axes attribute < 13, input ≥ 13; keepdims, noop_with_empty_axes'),
  ReduceMean: e(reduceOp('mean', 18), '1–18', true, 'axes attribute < 18, input ≥ 18; keepdims'),
  ReduceMax: e(reduceOp('max', 18), '1–18', true, 'as ReduceMean'),
  ReduceMin: e(reduceOp('min', 18), '1–18', true, 'as ReduceMean'),
  ReduceProd: e(reduceOp('prod', 18), '1–18', true, 'as ReduceMean'),
  ReduceL1: e(reduceOp('l1', 18), '1–18', true, 'as ReduceMean'),
  ReduceL2: e(reduceOp('l2', 18), '1–18', true, 'as ReduceMean'),
  ReduceLogSum: e(reduceOp('logsum', 18), '1–18', true, 'as ReduceMean'),
  ReduceLogSumExp: e(reduceOp('logsumexp', 18), '1–18', true, 'as ReduceMean'),
  ReduceSumSquare: e(reduceOp('sumsquare', 18), '1–18', true, 'as ReduceMean'),
  ArgMax: e(argReduce('max'), '1–17', false, 'axis, keepdims, select_last_index'),
  ArgMin: e(argReduce('min'), '1–17', false, 'axis, keepdims, select_last_index'),
  MatMul: e(matMul, '1–17', true, 'batched with numpy broadcasting; 1-D operands'),
  Gemm: e(gemm, '1–17', true, 'transA, transB, alpha, beta; C optional and broadcast'),
  Einsum: e(einsum, '12–17', true, 'what tf.einsum supports: ≤ 2 operands, no repeated index in one operand, no ellipsis'),
};

export { intDiv, trunc };
