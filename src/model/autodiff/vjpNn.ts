/**
 * VJP rules of convolution and pooling (NCHW and its 1-D/3-D kin): Conv, MaxPool, AveragePool,
 * GlobalAveragePool; the product/normalisation rules are in vjpLinalg.ts and merged here.
 */
import type { GradBuilder } from './builder';
import { attrInt, attrInts, attrStr, copyAttrs, makeTensor } from './protoUtil';
import type { VjpContext, VjpRule } from './rule';
import { LINALG_RULES } from './vjpLinalg';

interface Window {
  sp: number;
  kernel: number[];
  strides: number[];
  dilations: number[];
  /** [begin…, end…] as the forward pass used them (auto_pad resolved). */
  pads: number[];
}

/** Kernel, strides, dilations and explicit pads of a Conv/pool node (SAME_* needs static spatial input dims). */
function windowOf(b: GradBuilder, c: VjpContext, kernelFromW?: string): Window {
  const x = c.x[0];
  const k = attrInts(c.node, 'kernel_shape') ?? (kernelFromW ? b.numShape(kernelFromW)?.slice(2) : undefined);
  if (!k) b.fail('a kernel shape that is neither an attribute nor the static shape of the weight');
  const sp = k.length;
  const strides = attrInts(c.node, 'strides') ?? new Array<number>(sp).fill(1);
  const dilations = attrInts(c.node, 'dilations') ?? new Array<number>(sp).fill(1);
  const auto = attrStr(c.node, 'auto_pad', 'NOTSET');
  let pads = attrInts(c.node, 'pads') ?? new Array<number>(2 * sp).fill(0);
  if (auto === 'VALID') pads = new Array<number>(2 * sp).fill(0);
  else if (auto === 'SAME_UPPER' || auto === 'SAME_LOWER') {
    const s = b.numShape(x);
    if (!s) b.fail(`auto_pad ${auto} on an input whose spatial shape is not known statically`);
    pads = new Array<number>(2 * sp).fill(0);
    for (let i = 0; i < sp; i++) {
      const n = s[i + 2];
      const out = Math.ceil(n / strides[i]);
      const total = Math.max(0, (out - 1) * strides[i] + (k[i] - 1) * dilations[i] + 1 - n);
      const small = Math.floor(total / 2);
      pads[i] = auto === 'SAME_UPPER' ? small : total - small;
      pads[i + sp] = total - pads[i];
    }
  }
  return { sp, kernel: k, strides, dilations, pads };
}

/**
 * ConvTranspose of `g` with `w` that lands exactly on x's spatial shape: the transpose of a strided
 * convolution is short by r = (n + pads − extent) mod stride at the end of each axis. Where that axis of x is
 * static, output_padding = r. Where it is not (and the stride > 1), the end pad is not cropped and
 * output_padding = stride − 1, which makes the result at least n long with every value computed, and the first
 * n elements are gathered (indices from a ramp: Range, or NonZero of ones before opset 11).
 */
function convTransposeTo(b: GradBuilder, g: string, w: string, win: Window, group: number, x: string, s: (number | string | null)[] | undefined = b.shape(x)): string {
  const dynamic: number[] = [];
  const pads = [...win.pads];
  const outPad = win.kernel.map((k, i) => {
    const n = s?.[i + 2];
    if (typeof n === 'number') return (n + win.pads[i] + win.pads[i + win.sp] - ((k - 1) * win.dilations[i] + 1)) % win.strides[i];
    if (win.strides[i] === 1) return 0;
    dynamic.push(i);
    pads[i + win.sp] = 0;
    return win.strides[i] - 1;
  });
  let ct = b.op('ConvTranspose', [g, w], { strides: win.strides, dilations: win.dilations, pads, group, output_padding: outPad.some((p) => p) ? outPad : undefined });
  for (const i of dynamic) {
    const n = b.op('Gather', [b.op('Shape', [x]), b.ints([i + 2], [])], { axis: 0 });
    ct = b.op('Gather', [ct, b.ramp(n)], { axis: i + 2 });
  }
  return ct;
}

/**
 * y = conv(x, w) + bias (groups G, strides s, dilations d, pads p).
 * ḡx = convTranspose(g, w) with the same s, d, p, G (the adjoint of the convolution).
 * ḡw[o, i, κ] = Σ_{n, t} g[n, o, t]·x_pad[n, i, t·s + κ·d]: a convolution of x (batch and channel swapped,
 * groups kept) with g as the kernel, stride d and dilation s, cropped to the kernel size.
 * ḡbias = Σ_{n, t} g[n, o, t].
 */
function convBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  const [x, w, bias] = c.x;
  const win = windowOf(b, c, w);
  const G = attrInt(c.node, 'group', 1);
  const g = c.g();
  const spatial = Array.from({ length: win.sp }, (_, i) => i + 2);
  const gx = c.needs[0] ? convTransposeTo(b, g, w, win, G, x) : undefined;
  let gw: string | undefined;
  if (c.needs[1]) {
    const perm01 = [1, 0, ...spatial];
    let xt: string;
    if (G === 1) xt = b.transpose(x, perm01);
    else {
      const sx = b.shapeOf(x);
      const rest = b.slice(sx, [2], [Number.MAX_SAFE_INTEGER], [0]);
      const x5 = b.reshape(x, b.op('Concat', [b.slice1d(sx, 0, 1), b.ints([G, -1]), rest], { axis: 0 }));
      const t = b.transpose(x5, [2, 1, 0, ...spatial.map((a) => a + 1)]);
      xt = b.reshape(t, b.op('Concat', [b.ints([0, -1]), rest], { axis: 0 }));
    }
    const gt = b.transpose(g, perm01);
    const full = b.op('Conv', [xt, gt], { strides: win.dilations, dilations: win.strides, pads: win.pads, group: G });
    const cropped = b.slice(full, new Array<number>(win.sp).fill(0), win.kernel, spatial);
    gw = b.transpose(cropped, perm01);
  }
  const gb = bias && c.needs[2] ? b.reduceSum(g, [0, ...spatial], 0) : undefined;
  return [gx, gw, gb];
}

/**
 * y = maxpool(x): ḡx[j] = Σ_{t: argmax of window t = j} g[t]. The argmax comes from MaxPool's Indices output
 * (flat over N·C·spatial; a second MaxPool computes it when the node does not), and g is scattered there:
 * ScatterElements with reduction = add from opset 16; before, only non-overlapping windows (an element is
 * the max of at most one window), with a plain scatter.
 */
function maxPoolBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const x = c.x[0];
  if (attrInt(c.node, 'storage_order', 0) !== 0) b.fail('MaxPool with storage_order = 1');
  if (c.opset < 8) b.fail('MaxPool before opset 8 (no Indices output)');
  const idx = c.y[1] || b.node('MaxPool', [x], {}, 2)[1];
  if (!c.y[1]) {
    const last = b.nodes[b.nodes.length - 1];
    last.attribute = copyAttrs(c.node);
  }
  const flatIdx = b.reshape(idx, b.ints([-1]));
  const flatG = b.reshape(c.g(), b.ints([-1]));
  const zeros = b.op('ConstantOfShape', [b.reshape(b.op('Size', [x]), b.ints([1]))], { value: { tensor: makeTensor(b.dtype(x), [1], [0]) } });
  let flat: string;
  if (c.opset >= 16) flat = b.op('ScatterElements', [zeros, flatIdx, flatG], { axis: 0, reduction: 'add' });
  else {
    const win = windowOf(b, c);
    if (win.kernel.some((k, i) => win.strides[i] < (k - 1) * win.dilations[i] + 1)) {
      b.fail('an overlapping MaxPool before opset 16 (accumulating a scatter needs ScatterElements reduction = add)');
    }
    flat = b.op(c.opset >= 11 ? 'ScatterElements' : 'Scatter', [zeros, flatIdx, flatG], { axis: 0 });
  }
  return b.reshapeLike(flat, x);
}

/**
 * y = averagepool(x): ḡx = convTranspose(g/D, 1ₖ) per channel, D the element count each window averaged:
 * ∏k when count_include_pad = 1 or nothing is padded, else conv(1_x, 1ₖ) with the same pads (the number of
 * real elements under each window). ceil_mode = 1 is refused (its last windows' counts differ by runtime).
 */
function averagePoolBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const x = c.x[0];
  if (attrInt(c.node, 'ceil_mode', 0)) b.fail('AveragePool with ceil_mode = 1');
  const win = windowOf(b, c);
  const elem = b.dtype(x);
  const ones = b.op('Constant', [], { value: { tensor: makeTensor(elem, [1, 1, ...win.kernel], new Array<number>(win.kernel.reduce((p, q) => p * q, 1)).fill(1)) } });
  let g = c.g();
  const padded = win.pads.some((p) => p);
  if (padded && !attrInt(c.node, 'count_include_pad', 0)) {
    const inShape = b.op('Concat', [b.ints([1, 1]), b.slice(b.shapeOf(x), [2], [Number.MAX_SAFE_INTEGER], [0])], { axis: 0 });
    const onesX = b.op('ConstantOfShape', [inShape], { value: { tensor: makeTensor(elem, [1], [1]) } });
    g = b.op('Div', [g, b.op('Conv', [onesX, ones], { strides: win.strides, dilations: win.dilations, pads: win.pads })]);
  } else {
    g = b.op('Div', [g, b.scalar(win.kernel.reduce((p, q) => p * q, 1), elem)]);
  }
  const perChannel = b.reshape(g, b.op('Concat', [b.ints([-1, 1]), b.slice(b.op('Shape', [g]), [2], [Number.MAX_SAFE_INTEGER], [0])], { axis: 0 }));
  const xPerChannel = b.reshape(x, b.op('Concat', [b.ints([-1, 1]), b.slice(b.shapeOf(x), [2], [Number.MAX_SAFE_INTEGER], [0])], { axis: 0 }));
  const gx = convTransposeTo(b, perChannel, ones, win, 1, xPerChannel, b.shape(x));
  return b.reshapeLike(gx, x);
}

/** y = mean over the spatial axes of x: ḡx = broadcast(g)/(number of spatial elements). */
function globalAveragePoolBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const [x] = c.x;
  const s = b.numShape(x);
  const count = s ? b.scalar(s.slice(2).reduce((p, q) => p * q, 1), b.dtype(x)) : b.toFloat(b.op('Div', [b.op('Size', [x]), b.op('Size', [c.y[0]])]), b.dtype(x));
  return b.op('Div', [b.op('Expand', [c.g(), b.shapeOf(x)]), count]);
}

/**
 * y = convTranspose(x, w) + bias (explicit pads p, output_padding, strides s, dilations d, groups G).
 * ḡx = conv(g, w) with the same s, d, p, G (the adjoint; output_padding only adds positions no input reached).
 * ḡw[i, o, κ] = Σ_{n, t} x[n, i, t]·g_pad[n, o, t·s + κ·d]: a convolution of g (batch and channel swapped)
 * with x as the kernel, stride d and dilation s, cropped to the kernel size (G = 1).
 */
function convTransposeBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  const [x, w, bias] = c.x;
  if (attrInts(c.node, 'output_shape')) b.fail('ConvTranspose with an output_shape attribute (only explicit pads have a rule)');
  const auto = attrStr(c.node, 'auto_pad', 'NOTSET');
  if (auto !== 'NOTSET' && auto !== 'VALID') b.fail(`ConvTranspose with auto_pad ${auto}`);
  const k = attrInts(c.node, 'kernel_shape') ?? b.numShape(w)?.slice(2);
  if (!k) b.fail('a kernel shape that is neither an attribute nor the static shape of the weight');
  const sp = k.length;
  const strides = attrInts(c.node, 'strides') ?? new Array<number>(sp).fill(1);
  const dilations = attrInts(c.node, 'dilations') ?? new Array<number>(sp).fill(1);
  const pads = auto === 'VALID' ? new Array<number>(2 * sp).fill(0) : (attrInts(c.node, 'pads') ?? new Array<number>(2 * sp).fill(0));
  const G = attrInt(c.node, 'group', 1);
  const g = c.g();
  const spatial = Array.from({ length: sp }, (_, i) => i + 2);
  const gx = c.needs[0] ? b.op('Conv', [g, w], { strides, dilations, pads, group: G }) : undefined;
  let gw: string | undefined;
  if (c.needs[1]) {
    if (G !== 1) b.fail('the weight gradient of a grouped ConvTranspose');
    const perm01 = [1, 0, ...spatial];
    const full = b.op('Conv', [b.transpose(g, perm01), b.transpose(x, perm01)], { strides: dilations, dilations: strides, pads });
    gw = b.transpose(b.slice(full, new Array<number>(sp).fill(0), k, spatial), perm01);
  }
  const gb = bias && c.needs[2] ? b.reduceSum(g, [0, ...spatial], 0) : undefined;
  return [gx, gw, gb];
}

/**
 * Nearest-neighbour upsampling by integer factors f on the spatial axes (Resize with asymmetric coordinates
 * and floor rounding, or Upsample): every input element is copied to an f₁×f₂… block, so
 * ḡx = Σ over each block of g = averagePool(g, kernel f, stride f)·∏f. Other Resize modes are refused.
 */
function upsampleBack(c: VjpContext): string {
  const b: GradBuilder = c.b;
  const op = c.node.op_type;
  if (attrStr(c.node, 'mode', 'nearest') !== 'nearest') b.fail(`${op} in ${attrStr(c.node, 'mode', 'nearest')} mode (only integer-factor nearest upsampling has a rule)`);
  if (op === 'Resize') {
    if (c.opset < 11) b.fail('Resize before opset 11 (its nearest rounding differs)');
    if (attrStr(c.node, 'coordinate_transformation_mode', 'half_pixel') !== 'asymmetric' || attrStr(c.node, 'nearest_mode', 'round_prefer_floor') !== 'floor') {
      b.fail('Resize other than nearest with asymmetric coordinates and floor rounding');
    }
  }
  const scalesName = op === 'Resize' ? c.x[2] : c.x[1];
  const scales = attrFloats(c.node, 'scales') ?? (scalesName ? tensorFloats(b, scalesName) : undefined);
  if (!scales || scales.length < 3) b.fail(`${op} whose scales are not constant (sizes are not supported)`);
  if (scales[0] !== 1 || scales[1] !== 1 || scales.some((f) => !Number.isInteger(f) || f < 1)) b.fail(`${op} with scales [${scales.join(', ')}] (integer factors on the spatial axes only)`);
  const f = scales.slice(2);
  const prod = f.reduce((p, q) => p * q, 1);
  const pooled = b.op('AveragePool', [c.g()], { kernel_shape: f, strides: f });
  return prod === 1 ? pooled : b.op('Mul', [pooled, b.scalar(prod, b.dtype(c.x[0]))]);
}

function attrFloats(n: VjpContext['node'], name: string): number[] | undefined {
  const a = n.attribute?.find((x) => x.name === name);
  return a ? (a.floats ?? []) : undefined;
}

/** The values of a constant float tensor (an initializer or a Constant node's output), as recorded by the facts. */
function tensorFloats(b: GradBuilder, name: string): number[] | undefined {
  return b.facts.floats.get(name);
}

export const NN_RULES: Record<string, VjpRule> = {
  ...LINALG_RULES,
  Conv: { diff: [0, 1, 2], vjp: convBack },
  MaxPool: { diff: [0], vjp: (c) => [maxPoolBack(c)], outputs: 1 },
  AveragePool: { diff: [0], vjp: (c) => [averagePoolBack(c)] },
  GlobalAveragePool: { diff: [0], vjp: (c) => [globalAveragePoolBack(c)] },
  ConvTranspose: { diff: [0, 1, 2], vjp: convTransposeBack },
  Resize: { diff: [0], vjp: (c) => [upsampleBack(c)] },
  Upsample: { diff: [0], vjp: (c) => [upsampleBack(c)] },
};

