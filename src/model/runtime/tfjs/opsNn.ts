/**
 * Convolution, pooling, normalisation and resampling ops. ONNX tensors are channels-first (NCHW); tfjs conv
 * kernels are channels-last, so Conv transposes around tf.conv2d/tf.conv3d. Padding is always applied
 * explicitly (tf.pad) before a 'valid' convolution, which covers asymmetric pads and every auto_pad mode
 * with one code path. Pooling is computed from k^n strided slices combined with max/add: it handles 1-D to
 * 3-D, dilations, ceil_mode and count_include_pad exactly, and stays differentiable with kernels every
 * backend has.
 */
import type { Attrs, OpContext, OpEntry, OpFn, OpInputs } from './context';
import { dilate, need, normAxis, prod, stridedSliceDiff } from './opUtil';
import { floatValues, INT32_MIN, intValues } from './tensors';
import { tf } from './tf';

interface Window {
  kernel: number[];
  strides: number[];
  dilations: number[];
  begin: number[];
  end: number[];
}

/** Kernel geometry and explicit pads from pads/auto_pad (SAME_*: output = ceil(input / stride)). */
function windowOf(a: Attrs, ctx: OpContext, spatial: number[], kernel: number[]): Window {
  const n = spatial.length;
  const ones = new Array<number>(n).fill(1);
  const strides = a.ints('strides', ones);
  const dilations = a.ints('dilations', ones);
  const autoPad = a.string('auto_pad', 'NOTSET');
  let begin = new Array<number>(n).fill(0);
  let end = new Array<number>(n).fill(0);
  if (autoPad === 'NOTSET') {
    const pads = a.ints('pads', new Array<number>(2 * n).fill(0));
    if (pads.length !== 2 * n) return ctx.fail('invalid-node', `pads has ${pads.length} entries for ${n} spatial dims`);
    begin = pads.slice(0, n);
    end = pads.slice(n);
  } else if (autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    for (let i = 0; i < n; i++) {
      const out = Math.ceil(spatial[i] / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (kernel[i] - 1) * dilations[i] + 1 - spatial[i]);
      begin[i] = autoPad === 'SAME_UPPER' ? Math.floor(total / 2) : Math.ceil(total / 2);
      end[i] = total - begin[i];
    }
  } else if (autoPad !== 'VALID') {
    ctx.fail('invalid-node', `auto_pad '${autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID`);
  }
  return { kernel, strides, dilations, begin, end };
}

function padSpatial(x: tf.Tensor, begin: number[], end: number[], value = 0): tf.Tensor {
  if (begin.every((v) => v === 0) && end.every((v) => v === 0)) return x;
  return tf.pad(x, [[0, 0], [0, 0], ...begin.map((b, i): [number, number] => [b, end[i]])], value);
}

/**
 * Grouped N-d convolution (N = 1, 2, 3) of an already padded NC… input with an ONNX-layout weight
 * [M, C/group, k…], 'valid' padding. Depthwise (group = C) maps to tf.depthwiseConv2d; other groups are
 * split, convolved and concatenated.
 */
function convValid(x: tf.Tensor, w: tf.Tensor, group: number, strides: number[], dilations: number[], ctx: OpContext): tf.Tensor {
  const n = x.rank - 2;
  if (n === 1) {
    const y = convValid(tf.expandDims(x, 2), tf.expandDims(w, 2), group, [1, strides[0]], [1, dilations[0]], ctx);
    return tf.squeeze(y, [2]);
  }
  if (n !== 2 && n !== 3) return ctx.fail('unsupported-feature', `${n}-d convolution is not supported (1-d, 2-d and 3-d are)`);
  let d = dilations;
  let kernel = w;
  if (strides.some((s) => s > 1) && d.some((v) => v > 1)) {
    // tfjs refuses strides and dilations both > 1; dilating the kernel with zeros is the same convolution.
    kernel = dilate(w, [...Array(n).keys()].map((i) => i + 2), d);
    d = d.map(() => 1);
  }
  const C = x.shape[1] as number;
  const M = kernel.shape[0] as number;
  const toLast = n === 2 ? [0, 2, 3, 1] : [0, 2, 3, 4, 1];
  const toFirst = n === 2 ? [0, 3, 1, 2] : [0, 4, 1, 2, 3];
  const filterPerm = n === 2 ? [2, 3, 1, 0] : [2, 3, 4, 1, 0];
  const xl = tf.transpose(x, toLast);
  const run = (xi: tf.Tensor, wi: tf.Tensor): tf.Tensor => {
    const f = tf.transpose(wi, filterPerm);
    return n === 2
      ? tf.conv2d(xi as tf.Tensor4D, f as tf.Tensor4D, strides as [number, number], 'valid', 'NHWC', d as [number, number])
      : tf.conv3d(xi as tf.Tensor5D, f as tf.Tensor5D, strides as [number, number, number], 'valid', 'NDHWC', d as [number, number, number]);
  };
  let y: tf.Tensor;
  if (group === 1) {
    y = run(xl, kernel);
  } else if (n === 2 && group === C && kernel.shape[1] === 1 && M % C === 0) {
    const f = tf.reshape(tf.transpose(kernel, filterPerm), [kernel.shape[2] as number, kernel.shape[3] as number, C, M / C]);
    y = tf.depthwiseConv2d(xl as tf.Tensor4D, f as tf.Tensor4D, strides as [number, number], 'valid', 'NHWC', d as [number, number]);
  } else {
    if (C % group !== 0 || M % group !== 0) return ctx.fail('invalid-node', `group ${group} does not divide ${C} input and ${M} output channels`);
    const xs = tf.split(xl, group, n + 1);
    const ws = tf.split(kernel, group, 0);
    y = tf.concat(xs.map((xi, i) => run(xi, ws[i])), n + 1);
  }
  return tf.transpose(y, toFirst);
}

function addBias(y: tf.Tensor, b: tf.Tensor | undefined): tf.Tensor {
  if (!b) return y;
  return tf.add(y, tf.reshape(b, [1, b.size, ...new Array<number>(y.rank - 2).fill(1)]));
}

const conv: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const w = need(inputs, 1, ctx);
  const spatial = x.shape.slice(2);
  const kernel = a.ints('kernel_shape', w.shape.slice(2));
  const win = windowOf(a, ctx, spatial, kernel);
  const group = a.int('group', 1);
  const y = convValid(padSpatial(x, win.begin, win.end), w, group, win.strides, win.dilations, ctx);
  return [addBias(y, inputs[2])];
};

/**
 * ConvTranspose as a convolution: insert stride−1 zeros between input elements, pad by k_eff−1−pad
 * (cropping where negative; output_padding extends the end), and convolve with the spatially flipped,
 * in/out-swapped kernel. Output size = stride·(in−1) + output_padding + k_eff − pad_begin − pad_end, or
 * output_shape with pads derived as the spec says.
 */
const convTranspose: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const w = need(inputs, 1, ctx);
  const n = x.rank - 2;
  const spatial = x.shape.slice(2);
  const group = a.int('group', 1);
  const kernel = a.ints('kernel_shape', w.shape.slice(2));
  const ones = new Array<number>(n).fill(1);
  const strides = a.ints('strides', ones);
  const dil = a.ints('dilations', ones);
  const outPad = a.ints('output_padding', new Array<number>(n).fill(0));
  const keff = kernel.map((k, i) => (k - 1) * dil[i] + 1);
  const autoPad = a.string('auto_pad', 'NOTSET');
  let begin: number[];
  let end: number[];
  let outShape = a.has('output_shape') ? a.ints('output_shape') : undefined;
  if (outShape && outShape.length === n + 2) outShape = outShape.slice(2);
  if (outShape || autoPad === 'SAME_UPPER' || autoPad === 'SAME_LOWER') {
    const target = outShape ?? spatial.map((s, i) => s * strides[i]);
    const total = target.map((o, i) => strides[i] * (spatial[i] - 1) + outPad[i] + keff[i] - o);
    if (autoPad === 'SAME_UPPER') {
      begin = total.map((t) => Math.floor(t / 2));
      end = total.map((t) => t - Math.floor(t / 2));
    } else {
      begin = total.map((t) => t - Math.floor(t / 2));
      end = total.map((t) => Math.floor(t / 2));
    }
  } else if (autoPad === 'VALID') {
    begin = new Array<number>(n).fill(0);
    end = new Array<number>(n).fill(0);
  } else {
    const pads = a.ints('pads', new Array<number>(2 * n).fill(0));
    begin = pads.slice(0, n);
    end = pads.slice(n);
  }
  const axes = [...Array(n).keys()].map((i) => i + 2);
  let xd = dilate(x, axes, strides);
  const lo = keff.map((k, i) => k - 1 - begin[i]);
  const hi = keff.map((k, i) => k - 1 - end[i] + outPad[i]);
  xd = tf.pad(xd, [[0, 0], [0, 0], ...lo.map((l, i): [number, number] => [Math.max(l, 0), Math.max(hi[i], 0)])]);
  if (lo.some((l) => l < 0) || hi.some((h) => h < 0)) {
    const b = [0, 0, ...lo.map((l) => Math.max(-l, 0))];
    const size = xd.shape.map((s, i) => (i < 2 ? s : s - b[i] - Math.max(-hi[i - 2], 0)));
    xd = tf.slice(xd, b, size);
  }
  const cin = w.shape[0] as number;
  const coutG = w.shape[1] as number;
  const wg = tf.reshape(w, [group, cin / group, coutG, ...w.shape.slice(2)]);
  const swapped = tf.transpose(wg, [0, 2, 1, ...axes.map((i) => i + 1)]);
  const flipped = tf.reverse(tf.reshape(swapped, [group * coutG, cin / group, ...w.shape.slice(2)]), axes);
  const y = convValid(xd, flipped, group, ones, dil, ctx);
  return [addBias(y, inputs[2])];
};

/** Output length of a pooling window (ceil_mode drops a last window that would start in the end padding). */
function poolOut(size: number, k: number, s: number, d: number, b: number, e: number, ceil: boolean): number {
  const keff = (k - 1) * d + 1;
  const span = size + b + e - keff;
  let out = (ceil ? Math.ceil(span / s) : Math.floor(span / s)) + 1;
  if (ceil && (out - 1) * s >= size + b) out--;
  return out;
}

function pool(x: tf.Tensor, kind: 'max' | 'avg', a: Attrs, ctx: OpContext, withIndices = false): { y: tf.Tensor; indices?: tf.Tensor } {
  const n = x.rank - 2;
  const spatial = x.shape.slice(2);
  const win = windowOf(a, ctx, spatial, a.ints('kernel_shape'));
  const ceil = a.int('ceil_mode', 0) === 1;
  const out = spatial.map((s, i) => poolOut(s, win.kernel[i], win.strides[i], win.dilations[i], win.begin[i], win.end[i], ceil));
  const keff = win.kernel.map((k, i) => (k - 1) * win.dilations[i] + 1);
  const endPad = spatial.map((s, i) => Math.max(win.end[i], (out[i] - 1) * win.strides[i] + keff[i] - s - win.begin[i]));
  const padValue = kind === 'avg' ? 0 : x.dtype === 'int32' ? INT32_MIN : -Infinity;
  const xp = padSpatial(x, win.begin, endPad, padValue);
  let acc: tf.Tensor | undefined;
  let accIdx: tf.Tensor | undefined;
  const offsets = new Array<number>(n).fill(0);
  // MaxPool's Indices output: flat positions in the unpadded input, row-major (storage_order=0) or
  // column-major over the spatial dims (storage_order=1), offset by (n·C + c)·∏spatial.
  const colMajor = a.int('storage_order', 0) === 1;
  const spatialStride = spatial.map((_, i) => (colMajor ? prod(spatial.slice(0, i)) : prod(spatial.slice(i + 1))));
  const base = withIndices
    ? tf.reshape(tf.mul(tf.range(0, (x.shape[0] as number) * (x.shape[1] as number), 1, 'int32'), tf.scalar(prod(spatial), 'int32')), [x.shape[0] as number, x.shape[1] as number, ...spatial.map(() => 1)])
    : undefined;
  const count = prod(win.kernel);
  for (let c = 0; c < count; c++) {
    let r = c;
    for (let i = n - 1; i >= 0; i--) {
      offsets[i] = r % win.kernel[i];
      r = Math.floor(r / win.kernel[i]);
    }
    const begin = [0, 0, ...offsets.map((o, i) => o * win.dilations[i])];
    const sl = stridedSliceDiff(xp, begin, [x.shape[0] as number, x.shape[1] as number, ...out], [1, 1, ...win.strides]);
    if (base) {
      const flat = new Int32Array(prod(out));
      for (let idx = 0; idx < flat.length; idx++) {
        let r = idx;
        let v = 0;
        for (let i = n - 1; i >= 0; i--) {
          const o = r % out[i];
          r = Math.floor(r / out[i]);
          v += (o * win.strides[i] + offsets[i] * win.dilations[i] - win.begin[i]) * spatialStride[i];
        }
        flat[idx] = v;
      }
      const here = tf.add(base, tf.tensor(flat, [1, 1, ...out], 'int32'));
      accIdx = acc && accIdx ? tf.where(tf.greater(sl, acc), here, accIdx) : tf.broadcastTo(here, sl.shape);
    }
    acc = acc ? (kind === 'max' ? tf.maximum(acc, sl) : tf.add(acc, sl)) : sl;
  }
  if (!acc) return ctx.fail('invalid-node', 'empty kernel');
  if (kind === 'max') return { y: acc, indices: accIdx };
  // Divisor per output position: positions of the window inside the input (count_include_pad=0) or inside
  // input + explicit pads (=1); the extra end padding of ceil_mode never counts.
  const includePad = a.int('count_include_pad', 0) === 1;
  const perAxis = spatial.map((s, i) => {
    const lo = includePad ? -win.begin[i] : 0;
    const hi = includePad ? s + win.end[i] : s;
    return Array.from({ length: out[i] }, (_, o) => {
      let k = 0;
      for (let j = 0; j < win.kernel[i]; j++) {
        const p = o * win.strides[i] + j * win.dilations[i] - win.begin[i];
        if (p >= lo && p < hi) k++;
      }
      return k;
    });
  });
  const div = new Float32Array(prod(out));
  for (let idx = 0; idx < div.length; idx++) {
    let r = idx;
    let v = 1;
    for (let i = n - 1; i >= 0; i--) {
      v *= perAxis[i][r % out[i]];
      r = Math.floor(r / out[i]);
    }
    div[idx] = v;
  }
  return { y: tf.div(acc, tf.tensor(div, [1, 1, ...out], 'float32')) };
}

const maxPool: OpFn = (inputs, a, ctx) => {
  const { y, indices } = pool(need(inputs, 0, ctx), 'max', a, ctx, ctx.wantsOutput(1));
  return indices ? [y, indices] : [y];
};

const averagePool: OpFn = (inputs, a, ctx) => [pool(need(inputs, 0, ctx), 'avg', a, ctx).y];

const spatialAxes = (x: tf.Tensor): number[] => [...Array(x.rank - 2).keys()].map((i) => i + 2);

const globalAveragePool: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  return [tf.mean(x, spatialAxes(x), true)];
};

const globalMaxPool: OpFn = (inputs, _a, ctx) => {
  const x = need(inputs, 0, ctx);
  return [tf.max(x, spatialAxes(x), true)];
};

/** Reshapes a per-channel [C] parameter to broadcast over NC… */
function perChannel(p: tf.Tensor, rank: number): tf.Tensor {
  return p.rank === 1 ? tf.reshape(p, [1, p.size, ...new Array<number>(rank - 2).fill(1)]) : p;
}

const batchNorm: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const [scale, bias, mean, variance] = [1, 2, 3, 4].map((i) => need(inputs, i, ctx));
  if (a.int('training_mode', 0) === 1) {
    ctx.fail('unsupported-feature', 'training mode (batch statistics) is not supported; the translator runs inference');
  }
  if (ctx.opset < 9 && a.int('spatial', 1) === 0) return ctx.fail('unsupported-feature', 'spatial=0 is not supported');
  const eps = a.float('epsilon', 1e-5);
  const r = x.rank;
  const factor = tf.div(perChannel(scale, r), tf.sqrt(tf.add(perChannel(variance, r), eps)));
  const y = tf.add(tf.mul(tf.sub(x, perChannel(mean, r)), factor), perChannel(bias, r));
  const out: tf.Tensor[] = [y];
  for (let i = 1; i < ctx.outputCount; i++) {
    if (ctx.wantsOutput(i)) return ctx.fail('unsupported-feature', 'training-mode outputs (running mean/var) are not supported');
  }
  return out;
};

const instanceNorm: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const scale = need(inputs, 1, ctx);
  const bias = need(inputs, 2, ctx);
  const eps = a.float('epsilon', 1e-5);
  const { mean, variance } = tf.moments(x, spatialAxes(x), true);
  const norm = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps)));
  return [tf.add(tf.mul(norm, perChannel(scale, x.rank)), perChannel(bias, x.rank))];
};

/** LayerNormalization (opset 17): normalises over axes [axis, rank); optional Mean and InvStdDev outputs. */
const layerNorm: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const scale = need(inputs, 1, ctx);
  const bias = inputs[2];
  const axis = normAxis(a.int('axis', -1), x.rank, ctx);
  const eps = a.float('epsilon', 1e-5);
  const axes = [...Array(x.rank - axis).keys()].map((i) => i + axis);
  const mean = tf.mean(x, axes, true);
  const d = tf.sub(x, mean);
  const variance = tf.mean(tf.square(d), axes, true);
  const inv = tf.rsqrt(tf.add(variance, eps));
  let y = tf.mul(tf.mul(d, inv), scale);
  if (bias) y = tf.add(y, bias);
  const out = [y];
  if (ctx.outputCount > 1) out.push(mean);
  if (ctx.outputCount > 2) out.push(inv);
  return out;
};

const meanVarianceNorm: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const axes = a.ints('axes', [0, 2, 3]).map((v) => normAxis(v, x.rank, ctx));
  const mean = tf.mean(x, axes, true);
  const meanSq = tf.mean(tf.square(x), axes, true);
  // As the ONNX function body: (X − E[X]) / (sqrt(E[X²] − E[X]²) + 1e-9).
  const std = tf.add(tf.sqrt(tf.sub(meanSq, tf.square(mean))), 1e-9);
  return [tf.div(tf.sub(x, mean), std)];
};

/** LRN across channels: x / (bias + α/size · Σ x²)^β over a window of `size` channels. */
const lrn: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const size = a.int('size');
  const alpha = a.float('alpha', 1e-4);
  const beta = a.float('beta', 0.75);
  const bias = a.float('bias', 1);
  const before = Math.floor((size - 1) / 2);
  const after = Math.ceil((size - 1) / 2);
  const sq = tf.square(x);
  const pads: [number, number][] = x.shape.map((_, i) => (i === 1 ? [before, after] : [0, 0]));
  const padded = tf.pad(sq, pads);
  const C = x.shape[1] as number;
  let sum: tf.Tensor | undefined;
  for (let j = 0; j < size; j++) {
    const sl = tf.slice(padded, x.shape.map((_, i) => (i === 1 ? j : 0)), x.shape.map((d, i) => (i === 1 ? C : d)));
    sum = sum ? tf.add(sum, sl) : sl;
  }
  if (!sum) return ctx.fail('invalid-node', 'size must be ≥ 1');
  return [tf.div(x, tf.pow(tf.add(tf.mul(sum, alpha / size), bias), beta))];
};

// ---- Resize / Upsample ----

interface ResizeOptions {
  mode: string;
  ctm: string;
  nearest: string;
  cubicA: number;
  excludeOutside: boolean;
  extrapolation: number;
  roi?: number[];
}

/**
 * Output coordinate → input coordinate. `O` is the resized length as the ONNX reference uses it: I·scale,
 * not rounded (it equals the integer output size when sizes are given).
 */
function originalCoord(o: number, I: number, O: number, scale: number, axis: number, rank: number, opt: ResizeOptions): number {
  switch (opt.ctm) {
    case 'half_pixel':
      return (o + 0.5) / scale - 0.5;
    case 'pytorch_half_pixel':
      return O > 1 ? (o + 0.5) / scale - 0.5 : 0;
    case 'align_corners':
      return O === 1 ? 0 : (o * (I - 1)) / (O - 1);
    case 'asymmetric':
      return o / scale;
    case 'tf_half_pixel_for_nn':
      return (o + 0.5) / scale;
    case 'tf_crop_and_resize': {
      const roi = opt.roi ?? [];
      const s = roi[axis] ?? 0;
      const e = roi[axis + rank] ?? 1;
      return O > 1 ? s * (I - 1) + (o * (e - s) * (I - 1)) / (O - 1) : 0.5 * (s + e) * (I - 1);
    }
    default:
      throw new Error(`coordinate_transformation_mode '${opt.ctm}'`);
  }
}

function nearestIndex(x: number, mode: string): number {
  switch (mode) {
    case 'round_prefer_ceil':
      return Math.floor(x + 0.5);
    case 'floor':
      return Math.floor(x);
    case 'ceil':
      return Math.ceil(x);
    default: // round_prefer_floor
      return Math.ceil(x - 0.5);
  }
}

function cubicWeights(t: number, A: number): number[] {
  const w = (d: number): number => {
    const ad = Math.abs(d);
    if (ad <= 1) return ((A + 2) * ad - (A + 3)) * ad * ad + 1;
    if (ad < 2) return ((A * ad - 5 * A) * ad + 8 * A) * ad - 4 * A;
    return 0;
  };
  return [w(1 + t), w(t), w(1 - t), w(2 - t)];
}

/** Resamples one axis as a sum of weighted gathers (differentiable in x). */
function resizeAxis(x: tf.Tensor, axis: number, O: number, scale: number, opt: ResizeOptions): tf.Tensor {
  const I = x.shape[axis];
  const rank = x.rank;
  const clampI = (i: number): number => Math.min(Math.max(i, 0), I - 1);
  const coords = Array.from({ length: O }, (_, o) => originalCoord(o, I, I * scale, scale, axis, rank, opt));
  const bshape = x.shape.map((_, i) => (i === axis ? O : 1));
  let taps: { idx: number[]; w: number[] }[];
  if (opt.mode === 'nearest') {
    taps = [{ idx: coords.map((c) => clampI(nearestIndex(c, opt.nearest))), w: coords.map(() => 1) }];
  } else if (opt.mode === 'linear') {
    const f = coords.map((c) => Math.floor(c));
    taps = [
      { idx: f.map((v) => clampI(v)), w: coords.map((c, o) => 1 - (c - f[o])) },
      { idx: f.map((v) => clampI(v + 1)), w: coords.map((c, o) => c - f[o]) },
    ];
  } else {
    const f = coords.map((c) => Math.floor(c));
    const ws = coords.map((c, o) => cubicWeights(c - f[o], opt.cubicA));
    if (opt.excludeOutside) {
      ws.forEach((w, o) => {
        for (let j = 0; j < 4; j++) if (f[o] - 1 + j < 0 || f[o] - 1 + j >= I) w[j] = 0;
        const s = w.reduce((p, q) => p + q, 0);
        for (let j = 0; j < 4; j++) w[j] = s === 0 ? 0 : w[j] / s;
      });
    }
    taps = [0, 1, 2, 3].map((j) => ({ idx: f.map((v) => clampI(v - 1 + j)), w: ws.map((w) => w[j]) }));
  }
  let y: tf.Tensor | undefined;
  for (const tap of taps) {
    const g = tf.gather(x, tf.tensor1d(tap.idx, 'int32'), axis);
    const term = taps.length === 1 ? g : tf.mul(g, tf.tensor(Float32Array.from(tap.w), bshape, 'float32'));
    y = y ? tf.add(y, term) : term;
  }
  if (!y) throw new Error('no taps');
  if (opt.ctm === 'tf_crop_and_resize') {
    const outside = coords.map((c) => (c < 0 || c > I - 1 ? 1 : 0));
    if (outside.some((v) => v)) {
      const mask = tf.broadcastTo(tf.tensor(Uint8Array.from(outside), bshape, 'bool'), y.shape);
      y = tf.where(mask, tf.fill(y.shape, opt.extrapolation, y.dtype), y);
    }
  }
  return y;
}

function resizeImpl(x: tf.Tensor, scalesIn: number[] | undefined, sizesIn: number[] | undefined, opt: ResizeOptions, ctx: OpContext): tf.Tensor {
  const r = x.rank;
  const sizes = sizesIn ?? x.shape.map((d, i) => Math.floor(d * (scalesIn?.[i] ?? 1)));
  const scales = scalesIn ?? sizes.map((o, i) => o / x.shape[i]);
  if (sizes.length !== r || scales.length !== r) return ctx.fail('invalid-node', `scales/sizes must have ${r} entries`);
  if (!['nearest', 'linear', 'cubic'].includes(opt.mode)) return ctx.fail('unsupported-feature', `mode '${opt.mode}' is not supported`);
  const known = ['half_pixel', 'pytorch_half_pixel', 'align_corners', 'asymmetric', 'tf_half_pixel_for_nn', 'tf_crop_and_resize'];
  if (!known.includes(opt.ctm)) return ctx.fail('unsupported-feature', `coordinate_transformation_mode '${opt.ctm}' is not supported`);
  let y = x;
  // Innermost axis first, as the ONNX reference interpolates (matters only for tf_crop_and_resize extrapolation).
  for (let axis = r - 1; axis >= 0; axis--) {
    if (sizes[axis] === x.shape[axis] && scales[axis] === 1 && opt.ctm !== 'tf_crop_and_resize') continue;
    y = resizeAxis(y, axis, sizes[axis], scales[axis], opt);
  }
  return y === x ? tf.clone(x) : y;
}

const resize: OpFn = (inputs: OpInputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  if (a.int('antialias', 0) !== 0) return ctx.fail('unsupported-feature', 'antialias=1 is not supported');
  if (a.has('axes')) return ctx.fail('unsupported-feature', 'the axes attribute (opset 18) is not supported');
  if (a.string('keep_aspect_ratio_policy', 'stretch') !== 'stretch') return ctx.fail('unsupported-feature', 'keep_aspect_ratio_policy is not supported');
  const opset10 = ctx.opset < 11;
  const opt: ResizeOptions = {
    mode: a.string('mode', 'nearest'),
    ctm: opset10 ? 'asymmetric' : a.string('coordinate_transformation_mode', 'half_pixel'),
    nearest: opset10 ? 'floor' : a.string('nearest_mode', 'round_prefer_floor'),
    cubicA: a.float('cubic_coeff_a', -0.75),
    excludeOutside: a.int('exclude_outside', 0) === 1,
    extrapolation: a.float('extrapolation_value', 0),
  };
  let scales: number[] | undefined;
  let sizes: number[] | undefined;
  if (opset10) {
    scales = floatValues(need(inputs, 1, ctx));
  } else {
    if (inputs[1] && inputs[1].size > 0) opt.roi = floatValues(inputs[1]);
    if (inputs[2] && inputs[2].size > 0) scales = floatValues(inputs[2]);
    if (inputs[3] && inputs[3].size > 0) sizes = intValues(inputs[3]);
  }
  if (!scales && !sizes) return ctx.fail('invalid-node', 'expected scales or sizes, found neither');
  return [resizeImpl(x, sizes ? undefined : scales, sizes, opt, ctx)];
};

const upsample: OpFn = (inputs, a, ctx) => {
  const x = need(inputs, 0, ctx);
  const scales = ctx.opset >= 9 ? floatValues(need(inputs, 1, ctx)) : a.floats('scales');
  const mode = a.string('mode', 'nearest');
  const opt: ResizeOptions = {
    mode: mode === 'bilinear' ? 'linear' : mode,
    ctm: 'asymmetric',
    nearest: 'floor',
    cubicA: -0.75,
    excludeOutside: false,
    extrapolation: 0,
  };
  return [resizeImpl(x, scales, undefined, opt, ctx)];
};

const e = (fn: OpFn, opsets: string, grad: boolean, notes?: string): OpEntry => ({ fn, opsets, grad, notes });

export const NN_OPS: Record<string, OpEntry> = {
  Conv: e(conv, '1–17', true, '1-d/2-d/3-d; pads, strides, dilations, group (depthwise via tf.depthwiseConv2d), auto_pad'),
  ConvTranspose: e(convTranspose, '1–17', true, '1-d/2-d/3-d as a convolution of the zero-stuffed input; pads, output_padding, output_shape, dilations, group, auto_pad'),
  MaxPool: e(maxPool, '1–17', true, '1-d/2-d/3-d; pads, strides, dilations, ceil_mode, auto_pad; Indices output (storage_order 0/1)'),
  AveragePool: e(averagePool, '1–17', true, '1-d/2-d/3-d; pads, strides, ceil_mode, count_include_pad, auto_pad'),
  GlobalAveragePool: e(globalAveragePool, '1–17', true),
  GlobalMaxPool: e(globalMaxPool, '1–17', true),
  BatchNormalization: e(batchNorm, '1–17', true, 'inference only (running statistics); epsilon'),
  InstanceNormalization: e(instanceNorm, '1–17', true, 'epsilon'),
  LayerNormalization: e(layerNorm, '17', true, 'axis, epsilon; optional Mean/InvStdDev outputs'),
  MeanVarianceNormalization: e(meanVarianceNorm, '9–17', true, 'axes (default [0,2,3])'),
  LRN: e(lrn, '1–17', true, 'size, alpha, beta, bias'),
  Resize: e(resize, '10–17', true, 'nearest (4 rounding modes), linear, cubic (cubic_coeff_a, exclude_outside); half_pixel, pytorch_half_pixel, align_corners, asymmetric, tf_half_pixel_for_nn, tf_crop_and_resize; no antialias/axes'),
  Upsample: e(upsample, '7–9', true, 'nearest, linear (asymmetric coordinates)'),
};
