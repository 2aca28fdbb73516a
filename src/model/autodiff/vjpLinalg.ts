/**
 * VJP rules of products and normalisations: MatMul, Gemm, Softmax, LogSoftmax, LayerNormalization,
 * BatchNormalization (inference). Formulas in each rule's comment; g = ∂L/∂y.
 */
import type { GradBuilder } from './builder';
import { attrFloat, attrInt } from './protoUtil';
import type { VjpContext, VjpRule } from './rule';

const swapLast = (r: number): number[] => [...Array(r - 2).keys(), r - 1, r - 2];

/**
 * y = a·b (numpy matmul). ḡa = g·bᵀ, ḡb = aᵀ·g over the last two axes, batch axes reduced to each operand's
 * shape; a 1-D a is a row [1, k] and a 1-D b a column [k, 1] whose added axis g lacks. With a 2-D b and a
 * batched a, ḡb = flat(a)ᵀ·flat(g) (one [k, n] product instead of a batch of them summed).
 */
function matmulBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  const [A, B] = c.x;
  const ra = b.rank(A);
  const rb = b.rank(B);
  if (ra === undefined || rb === undefined) b.fail('a MatMul whose operand ranks are not known statically');
  let g = c.g();
  if (ra === 1 && rb === 1) g = b.reshape(g, b.ints([1, 1]));
  else if (ra === 1) g = b.unsqueeze(g, [Math.max(rb, 2) - 2]);
  else if (rb === 1) g = b.unsqueeze(g, [Math.max(ra, 2) - 1]);
  const A2 = ra === 1 ? b.unsqueeze(A, [0]) : A;
  const B2 = rb === 1 ? b.unsqueeze(B, [1]) : B;
  const ra2 = Math.max(ra, 2);
  const rb2 = Math.max(rb, 2);
  const rOut = Math.max(ra2, rb2);
  // g's shape with its batch axes from y's and its last two from the operand's (equal there by construction).
  const yS = b.shape(c.y[0]);
  const sA2 = ra === 1 ? [1, b.shape(A)?.[0] ?? null] : b.shape(A);
  const sB2 = rb === 1 ? [b.shape(B)?.[0] ?? null, 1] : b.shape(B);
  const yBatch = !yS ? undefined : ra > 1 && rb > 1 ? yS.slice(0, -2) : ra === 1 && rb === 1 ? [] : yS.slice(0, -1);
  const gShape = (s: typeof yS) => (yBatch && s ? [...yBatch, ...s.slice(-2)] : undefined);
  let gA: string | undefined;
  let gB: string | undefined;
  if (c.needs[0]) {
    gA = b.op('MatMul', [g, b.transpose(B2, swapLast(rb2))]);
    if (rOut !== ra2 || rb2 > 2) gA = b.sumToShapeOf(gA, gShape(sA2), A2, sA2);
    if (ra === 1) gA = b.reshapeLike(gA, A);
  }
  if (c.needs[1]) {
    if (rb2 === 2 && ra2 > 2) {
      const k = b.slice(b.shapeOf(A2), [-1], [Number.MAX_SAFE_INTEGER], [0]);
      const n = b.slice(b.op('Shape', [g]), [-1], [Number.MAX_SAFE_INTEGER], [0]);
      const flatA = b.reshape(A2, b.op('Concat', [b.ints([-1]), k], { axis: 0 }));
      const flatG = b.reshape(g, b.op('Concat', [b.ints([-1]), n], { axis: 0 }));
      gB = b.op('MatMul', [b.transpose(flatA, [1, 0]), flatG]);
    } else {
      gB = b.op('MatMul', [b.transpose(A2, swapLast(ra2)), g]);
      if (rOut !== rb2 || ra2 > 2) gB = b.sumToShapeOf(gB, gShape(sB2), B2, sB2);
    }
    if (rb === 1) gB = b.reshapeLike(gB, B);
  }
  return [gA, gB];
}

/**
 * y = α·a′·b′ + β·c with a′ = transA ? aᵀ : a, b′ = transB ? bᵀ : b.
 * ḡa′ = α·g·b′ᵀ, ḡb′ = α·a′ᵀ·g (transposed back when the operand was), ḡc = β·Σ_broadcast g.
 */
function gemmBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  const [A, B, C] = c.x;
  const alpha = attrFloat(c.node, 'alpha', 1);
  const beta = attrFloat(c.node, 'beta', 1);
  const tA = attrInt(c.node, 'transA', 0);
  const tB = attrInt(c.node, 'transB', 0);
  const g = c.g();
  // p(x, tx, y, ty) = α·op(x)·op(y) as a MatMul on transposed views.
  const prod = (x: string, tx: number, y: string, ty: number): string => {
    const m = b.op('MatMul', [tx ? b.transpose(x, [1, 0]) : x, ty ? b.transpose(y, [1, 0]) : y]);
    return alpha === 1 ? m : b.op('Mul', [m, b.scalar(alpha, b.dtype(c.y[0]))]);
  };
  const gA = c.needs[0] ? (tA ? prod(B, tB, g, 1) : prod(g, 0, B, tB ? 0 : 1)) : undefined;
  const gB = c.needs[1] ? (tB ? prod(g, 1, A, tA) : prod(A, tA ? 0 : 1, g, 0)) : undefined;
  let gC: string | undefined;
  if (C && c.needs[2]) {
    gC = b.sumToShape(beta === 1 ? g : b.op('Mul', [g, b.scalar(beta, b.dtype(c.y[0]))]), C, c.y[0]);
  }
  return [gA, gB, gC];
}

/** ReduceSum/ReduceMean with keepdims = 1 over constant axes, in the model's opset's spelling. */
export function reduceKeep(b: GradBuilder, op: 'ReduceSum' | 'ReduceMean', x: string, axes: number[]): string {
  if (op === 'ReduceSum') return b.reduceSum(x, axes, 1);
  return b.opset >= 18 ? b.op('ReduceMean', [x, b.ints(axes)], { keepdims: 1 }) : b.op('ReduceMean', [x], { axes, keepdims: 1 });
}

/**
 * Softmax/LogSoftmax over `axis`; before opset 13 over the axes ≥ axis flattened together (the input is
 * coerced to 2-D [∏ dims < axis, ∏ dims ≥ axis]), so the rule works on that 2-D view and reshapes back.
 * Softmax: ḡx = y ⊙ (g − Σ_axis g ⊙ y). LogSoftmax: ḡx = g − eʸ ⊙ Σ_axis g.
 */
function softmaxBack(c: VjpContext, log: boolean): string {
  const b: GradBuilder = c.b;
  const [x] = c.x;
  const legacy = c.opset < 13;
  let axis = attrInt(c.node, 'axis', legacy ? 1 : -1);
  let g = c.g();
  let y = c.y[0];
  if (legacy) {
    g = b.op('Flatten', [g], { axis });
    y = b.op('Flatten', [y], { axis });
    axis = 1;
  }
  const gx = log
    ? b.op('Sub', [g, b.op('Mul', [b.op('Exp', [y]), reduceKeep(b, 'ReduceSum', g, [axis])])])
    : b.op('Mul', [y, b.op('Sub', [g, reduceKeep(b, 'ReduceSum', b.op('Mul', [g, y]), [axis])])]);
  return legacy ? b.reshapeLike(gx, x) : gx;
}

/**
 * LayerNormalization over the axes ≥ axis: x̂ = (x − μ)·ρ, ρ = 1/√(var + ε), y = x̂·s + β.
 * ḡx = ρ·(ĝ − mean(ĝ) − x̂·mean(ĝ·x̂)) with ĝ = g·s; ḡs = Σ_lead g·x̂; ḡβ = Σ_lead g (reduced to their shapes).
 * μ and ρ are recomputed (ReduceMean) rather than read from the optional outputs, which exports omit.
 */
function layerNormBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  const [x, scale, bias] = c.x;
  const r = b.rank(x);
  const axis0 = attrInt(c.node, 'axis', -1);
  if (axis0 >= 0 && r === undefined) b.fail('a LayerNormalization with a non-negative axis on an input of unknown rank');
  const first = axis0 < 0 ? axis0 : axis0 - r!;
  const axes = Array.from({ length: -first }, (_, i) => first + i);
  const eps = b.scalar(attrFloat(c.node, 'epsilon', 1e-5), b.dtype(x));
  const g = c.g();
  const mu = reduceKeep(b, 'ReduceMean', x, axes);
  const xc = b.op('Sub', [x, mu]);
  const rho = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [reduceKeep(b, 'ReduceMean', b.op('Mul', [xc, xc]), axes), eps])])]);
  const xhat = b.op('Mul', [xc, rho]);
  let gx: string | undefined;
  if (c.needs[0]) {
    const gh = b.op('Mul', [g, scale]);
    const inner = b.op('Sub', [b.op('Sub', [gh, reduceKeep(b, 'ReduceMean', gh, axes)]), b.op('Mul', [xhat, reduceKeep(b, 'ReduceMean', b.op('Mul', [gh, xhat]), axes)])]);
    gx = b.op('Mul', [rho, inner]);
  }
  const gs = c.needs[1] ? b.sumToShape(b.op('Mul', [g, xhat]), scale, c.y[0]) : undefined;
  const gb = bias && c.needs[2] ? b.sumToShape(g, bias, c.y[0]) : undefined;
  return [gx, gs, gb];
}

/**
 * BatchNormalization in inference mode (running statistics m, v; per channel, axis 1):
 * y = (x − m)·ρ·s + β, ρ = 1/√(v + ε). ḡx = g·s·ρ; ḡs = Σ g·(x − m)·ρ; ḡβ = Σ g; ḡm = −Σ g·s·ρ;
 * ḡv = −½·Σ g·(x − m)·s·ρ³ (Σ over every axis but the channel's).
 */
function batchNormBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  if (attrInt(c.node, 'training_mode', 0)) b.fail('BatchNormalization in training mode (exports use running statistics)');
  const [x, s, , m, v] = c.x;
  const r = b.rank(x);
  if (r === undefined) b.fail('a BatchNormalization input of unknown rank');
  const ch = (p: string): string => b.unsqueeze(p, Array.from({ length: r - 2 }, (_, i) => i + 1));
  const eps = b.scalar(attrFloat(c.node, 'epsilon', 1e-5), b.dtype(x));
  const rho = b.op('Reciprocal', [b.op('Sqrt', [b.op('Add', [v, eps])])]);
  const g = c.g();
  const others = [0, ...Array.from({ length: r - 2 }, (_, i) => i + 2)];
  const sumC = (t: string): string => b.reduceSum(t, others, 0);
  const sr = b.op('Mul', [s, rho]);
  const xc = () => b.op('Sub', [x, ch(m)]);
  const gx = c.needs[0] ? b.op('Mul', [g, ch(sr)]) : undefined;
  const gs = c.needs[1] ? b.op('Mul', [sumC(b.op('Mul', [g, xc()])), rho]) : undefined;
  const gbeta = c.needs[2] ? sumC(g) : undefined;
  const gm = c.needs[3] ? b.op('Neg', [b.op('Mul', [sumC(g), sr])]) : undefined;
  const gv = c.needs[4]
    ? b.op('Mul', [b.op('Mul', [sumC(b.op('Mul', [g, xc()])), b.op('Mul', [sr, b.op('Mul', [rho, rho])])]), b.scalar(-0.5, b.dtype(x))])
    : undefined;
  return [gx, gs, gbeta, gm, gv];
}

export const LINALG_RULES: Record<string, VjpRule> = {
  MatMul: { diff: [0, 1], vjp: matmulBack },
  Gemm: { diff: [0, 1, 2], vjp: gemmBack },
  Softmax: { diff: [0], vjp: (c) => [softmaxBack(c, false)] },
  LogSoftmax: { diff: [0], vjp: (c) => [softmaxBack(c, true)] },
  LayerNormalization: { diff: [0, 1, 2], vjp: layerNormBack, outputs: 1 },
  BatchNormalization: { diff: [0, 1, 2, 3, 4], vjp: batchNormBack, outputs: 1 },
};
