/**
 * VJP rules of elementwise ops. Notation: y = f(a, b, …), g = ∂L/∂y; every binary rule reduces its cotangent
 * to the operand's shape (numpy broadcasting) with {@link GradBuilder.sumToShape}.
 */
import type { GradBuilder } from './builder';
import { attrFloat, attrInt, attrStr, FLOAT_ELEMS } from './protoUtil';
import type { VjpContext, VjpRule } from './rule';

const unary = (f: (c: VjpContext, g: string, x: string, y: string) => string): VjpRule => ({ diff: [0], vjp: (c) => [f(c, c.g(), c.x[0], c.y[0])] });

/** Cotangent of input i of a broadcasting op from the full-size contribution `full` (skipped when not needed). */
function toInput(c: VjpContext, i: number, full: () => string): string | undefined {
  return c.needs[i] ? c.b.sumToShape(full(), c.x[i], c.y[0], c.x.filter((o, j) => j !== i && o)) : undefined;
}

/** A float scalar of the dtype of `like`. */
const k = (b: GradBuilder, like: string, v: number): string => b.scalar(v, b.dtype(like));

export const MATH_RULES: Record<string, VjpRule> = {
  /** y = a + b: ḡa = g, ḡb = g. */
  Add: { diff: [0, 1], vjp: (c) => [toInput(c, 0, () => c.g()), toInput(c, 1, () => c.g())] },
  /** y = a − b: ḡa = g, ḡb = −g. */
  Sub: { diff: [0, 1], vjp: (c) => [toInput(c, 0, () => c.g()), toInput(c, 1, () => c.b.op('Neg', [c.g()]))] },
  /** y = a·b: ḡa = g·b, ḡb = g·a. */
  Mul: { diff: [0, 1], vjp: (c) => [toInput(c, 0, () => c.b.op('Mul', [c.g(), c.x[1]])), toInput(c, 1, () => c.b.op('Mul', [c.g(), c.x[0]]))] },
  /** y = a/b: ḡa = g/b, ḡb = −g·y/b. */
  Div: {
    diff: [0, 1],
    vjp: (c) => [toInput(c, 0, () => c.b.op('Div', [c.g(), c.x[1]])), toInput(c, 1, () => c.b.op('Neg', [c.b.op('Div', [c.b.op('Mul', [c.g(), c.y[0]]), c.x[1]])]))],
  },
  /** y = aᵇ: ḡa = g·b·aᵇ⁻¹, ḡb = g·y·ln a (the exponent may have its own float type: cast to a's). */
  Pow: {
    diff: [0, 1],
    vjp: (c) => {
      const b: GradBuilder = c.b;
      const [a, e] = c.x;
      const ea = b.dtype(e) === b.dtype(a) ? e : b.op('Cast', [e], { to: b.dtype(a) });
      return [
        toInput(c, 0, () => b.op('Mul', [b.op('Mul', [c.g(), ea]), b.op('Pow', [a, b.op('Sub', [ea, k(b, a, 1)])])])),
        c.needs[1] ? castTo(b, b.sumToShape(b.op('Mul', [b.op('Mul', [c.g(), c.y[0]]), b.op('Log', [a])]), e, c.y[0]), b.dtype(a), b.dtype(e)) : undefined,
      ];
    },
  },
  /** y = Σ xᵢ: ḡxᵢ = g. */
  Sum: { diff: (n) => (n.input ?? []).map((_, i) => i), vjp: (c) => c.x.map((_, i) => toInput(c, i, () => c.g())) },
  /** y = (Σ xᵢ)/n: ḡxᵢ = g/n. */
  Mean: { diff: (n) => (n.input ?? []).map((_, i) => i), vjp: (c) => c.x.map((_, i) => toInput(c, i, () => c.b.op('Div', [c.g(), k(c.b, c.y[0], c.x.length)]))) },
  /** y = −x: ḡ = −g. */
  Neg: unary((c, g) => c.b.op('Neg', [g])),
  /** y = √x: ḡ = g/(2y). */
  Sqrt: unary((c, g, _x, y) => c.b.op('Div', [c.b.op('Mul', [g, k(c.b, y, 0.5)]), y])),
  /** y = eˣ: ḡ = g·y. */
  Exp: unary((c, g, _x, y) => c.b.op('Mul', [g, y])),
  /** y = ln x: ḡ = g/x. */
  Log: unary((c, g, x) => c.b.op('Div', [g, x])),
  /** y = |x|: ḡ = g·sign(x) (0 at x = 0). */
  Abs: unary((c, g, x) => c.b.op('Mul', [g, c.b.op('Sign', [x])])),
  /** y = 1/x: ḡ = −g·y². */
  Reciprocal: unary((c, g, _x, y) => c.b.op('Neg', [c.b.op('Mul', [g, c.b.op('Mul', [y, y])])])),
  /** y = erf x: ḡ = g·(2/√π)·e^(−x²). */
  Erf: unary((c, g, x) => {
    const b: GradBuilder = c.b;
    const e = b.op('Exp', [b.op('Neg', [b.op('Mul', [x, x])])]);
    return b.op('Mul', [g, b.op('Mul', [e, k(b, x, 2 / Math.sqrt(Math.PI))])]);
  }),
  /** y = tanh x: ḡ = g·(1 − y²). */
  Tanh: unary((c, g, _x, y) => c.b.op('Mul', [g, c.b.op('Sub', [k(c.b, y, 1), c.b.op('Mul', [y, y])])])),
  /** y = σ(x): ḡ = g·y·(1 − y). */
  Sigmoid: unary((c, g, _x, y) => c.b.op('Mul', [g, c.b.op('Mul', [y, c.b.op('Sub', [k(c.b, y, 1), y])])])),
  /** y = max(x, 0): ḡ = g where x > 0, else 0. */
  Relu: unary((c, g, x) => c.b.op('Where', [c.b.op('Greater', [x, k(c.b, x, 0)]), g, k(c.b, x, 0)])),
  /** y = x (x ≥ 0), αx (x < 0): ḡ = g where x ≥ 0, αg elsewhere. */
  LeakyRelu: unary((c, g, x) => {
    const alpha = attrFloat(c.node, 'alpha', 0.01);
    return c.b.op('Where', [c.b.op('Less', [x, k(c.b, x, 0)]), c.b.op('Mul', [g, k(c.b, x, alpha)]), g]);
  }),
  /** y = max(0, min(1, αx + β)): ḡ = α·g where 0 < αx + β < 1, else 0. */
  HardSigmoid: unary((c, g, x) => {
    const b: GradBuilder = c.b;
    const alpha = attrFloat(c.node, 'alpha', 0.2);
    const t = b.op('Add', [b.op('Mul', [x, k(b, x, alpha)]), k(b, x, attrFloat(c.node, 'beta', 0.5))]);
    const inside = b.op('And', [b.op('Greater', [t, k(b, x, 0)]), b.op('Less', [t, k(b, x, 1)])]);
    return b.op('Where', [inside, b.op('Mul', [g, k(b, x, alpha)]), k(b, x, 0)]);
  }),
  /** y = clip(x, lo, hi): ḡ = g where lo ≤ x ≤ hi, else 0 (no gradient to lo and hi). */
  Clip: unary((c, g, x) => {
    const b: GradBuilder = c.b;
    let mask: string | undefined;
    const both = (m: string): string => (mask = mask ? b.op('And', [mask, m]) : m);
    const [, lo, hi] = c.x;
    if (c.opset < 11) {
      both(b.op('Not', [b.op('Less', [x, k(b, x, attrFloat(c.node, 'min', -3.4028234663852886e38))])]));
      both(b.op('Not', [b.op('Greater', [x, k(b, x, attrFloat(c.node, 'max', 3.4028234663852886e38))])]));
    } else {
      if (lo) both(b.op('Not', [b.op('Less', [x, lo])]));
      if (hi) both(b.op('Not', [b.op('Greater', [x, hi])]));
    }
    return mask ? b.op('Where', [mask, g, k(b, x, 0)]) : g;
  }),
  /**
   * Gelu (opset 20). approximate = none: y = x·Φ(x), ḡ = g·(Φ(x) + x·φ(x)), φ(x) = e^(−x²/2)/√(2π).
   * approximate = tanh: y = ½x(1 + tanh u), u = √(2/π)(x + 0.044715x³),
   * ḡ = g·(½(1 + t) + ½x(1 − t²)·√(2/π)(1 + 3·0.044715x²)), t = tanh u.
   */
  Gelu: unary((c, g, x) => {
    const b: GradBuilder = c.b;
    const K = (v: number): string => k(b, x, v);
    const x2 = b.op('Mul', [x, x]);
    if (attrStr(c.node, 'approximate', 'none') === 'tanh') {
      const s = Math.sqrt(2 / Math.PI);
      const u = b.op('Mul', [K(s), b.op('Add', [x, b.op('Mul', [K(0.044715), b.op('Mul', [x2, x])])])]);
      const t = b.op('Tanh', [u]);
      const du = b.op('Mul', [K(s), b.op('Add', [K(1), b.op('Mul', [K(3 * 0.044715), x2])])]);
      const left = b.op('Mul', [K(0.5), b.op('Add', [K(1), t])]);
      const right = b.op('Mul', [b.op('Mul', [K(0.5), x]), b.op('Mul', [b.op('Sub', [K(1), b.op('Mul', [t, t])]), du])]);
      return b.op('Mul', [g, b.op('Add', [left, right])]);
    }
    const cdf = b.op('Mul', [K(0.5), b.op('Add', [K(1), b.op('Erf', [b.op('Mul', [x, K(Math.SQRT1_2)])])])]);
    const pdf = b.op('Mul', [K(1 / Math.sqrt(2 * Math.PI)), b.op('Exp', [b.op('Mul', [x2, K(-0.5)])])]);
    return b.op('Mul', [g, b.op('Add', [cdf, b.op('Mul', [x, pdf])])]);
  }),
  /** y = where(c, a, b): ḡa = g where c, ḡb = g where ¬c (c carries none). */
  Where: {
    diff: [1, 2],
    vjp: (c) => {
      const zero = k(c.b, c.y[0], 0);
      return [undefined, toInput(c, 1, () => c.b.op('Where', [c.x[0], c.g(), zero])), toInput(c, 2, () => c.b.op('Where', [c.x[0], zero, c.g()]))];
    },
  },
  /** y = x (Identity; Dropout in inference): ḡ = g. */
  Identity: unary((_c, g) => g),
  Dropout: {
    diff: [0],
    outputs: 1,
    vjp: (c) => {
      if (c.opset >= 12 && c.x[2]) c.b.fail('Dropout with a training_mode input (only inference Dropout is the identity)');
      if (c.opset < 12 && attrInt(c.node, 'is_test', 1) === 0 && c.opset < 7) c.b.fail('Dropout in training mode');
      return [c.g()];
    },
  },
  /** y = cast(x) between float types: ḡ = cast(g) back to x's type (a cast to an integer type ends the path). */
  Cast: unary((c, g, x) => {
    if (!FLOAT_ELEMS.has(attrInt(c.node, 'to', 0))) c.b.fail('a gradient through a Cast to a non-float type');
    return castTo(c.b, g, c.b.dtype(x), c.b.dtype(c.y[0]));
  }),
  /** y = sin x: ḡ = g·cos x. */
  Sin: unary((c, g, x) => c.b.op('Mul', [g, c.b.op('Cos', [x])])),
  /** y = cos x: ḡ = −g·sin x. */
  Cos: unary((c, g, x) => c.b.op('Neg', [c.b.op('Mul', [g, c.b.op('Sin', [x])])])),
  /** y = ln(1 + eˣ): ḡ = g·σ(x). */
  Softplus: unary((c, g, x) => c.b.op('Mul', [g, c.b.op('Sigmoid', [x])])),
  /** y = x (x > 0), α(eˣ − 1) (x ≤ 0): ḡ = g where x > 0, g·(y + α) elsewhere. */
  Elu: unary((c, g, x, y) => {
    const b: GradBuilder = c.b;
    const alpha = attrFloat(c.node, 'alpha', 1);
    return b.op('Where', [b.op('Greater', [x, k(b, x, 0)]), g, b.op('Mul', [g, b.op('Add', [y, k(b, x, alpha)])])]);
  }),
  /** y = x·clip(x/6 + ½, 0, 1) (opset 14): ḡ = 0 (x < −3), g (x > 3), g·(x/3 + ½) between. */
  HardSwish: unary((c, g, x) => {
    const b: GradBuilder = c.b;
    const mid = b.op('Mul', [g, b.op('Add', [b.op('Div', [x, k(b, x, 3)]), k(b, x, 0.5)])]);
    const high = b.op('Where', [b.op('Greater', [x, k(b, x, 3)]), g, mid]);
    return b.op('Where', [b.op('Less', [x, k(b, x, -3)]), k(b, x, 0), high]);
  }),
  /** y = x (x ≥ 0), s·x (x < 0), s broadcast to x: ḡx = g or g·s, ḡs = Σ_broadcast g·x where x < 0. */
  PRelu: {
    diff: [0, 1],
    vjp: (c) => {
      const b: GradBuilder = c.b;
      const [x, slope] = c.x;
      const neg = b.op('Less', [x, k(b, x, 0)]);
      return [
        c.needs[0] ? b.op('Where', [neg, b.op('Mul', [c.g(), slope]), c.g()]) : undefined,
        c.needs[1] ? b.sumToShape(b.op('Where', [neg, b.op('Mul', [c.g(), x]), k(b, x, 0)]), slope, c.y[0], [x]) : undefined,
      ];
    },
  },
  /** y = max(x₁…xₙ) (min likewise): ḡxᵢ = g where xᵢ is the first input equal to y, broadcast-reduced. */
  Max: { diff: (n) => (n.input ?? []).map((_, i) => i), vjp: (c) => extremumBack(c) },
  Min: { diff: (n) => (n.input ?? []).map((_, i) => i), vjp: (c) => extremumBack(c) },
  /** y = castlike(x, t) between float types: ḡx = cast(g) back to x's type (t only lends its type). */
  CastLike: { diff: [0, 1], vjp: (c) => [castTo(c.b, c.g(), c.b.dtype(c.x[0]), c.b.dtype(c.y[0])), undefined] },
};

function castTo(b: GradBuilder, g: string, to: number, from: number): string {
  return to === from ? g : b.op('Cast', [g], { to });
}

/** Max/Min: the cotangent goes to the first operand attaining the extremum (ties are not split). */
function extremumBack(c: VjpContext): (string | undefined)[] {
  const b: GradBuilder = c.b;
  let taken: string | undefined;
  return c.x.map((xi, i) => {
    const hit = b.op('Equal', [xi, c.y[0]]);
    const mine = taken ? b.op('And', [hit, b.op('Not', [taken])]) : hit;
    taken = taken ? b.op('Or', [taken, hit]) : hit;
    return toInput(c, i, () => b.op('Where', [mine, c.g(), k(b, c.y[0], 0)]));
  });
}
