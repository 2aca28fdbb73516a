/**
 * The single-op and few-op graphs every VJP rule is checked on (see autodiff.test.ts). Shapes are drawn from a
 * seeded PRNG (`d()` → 2…4) so broadcasting patterns differ from one case to another; `dtype` is float64 where
 * onnxruntime's CPU EP has double kernels for every op of the case, float32 otherwise.
 */
import type { FloatType, TinyInitSpec, TinySpec } from '../helpers/onnxTiny';

export interface GradCase {
  name: string;
  dtype: FloatType;
  spec: (d: () => number) => TinySpec;
  /** Inputs fed from U(0.5, 1.5) instead of U(−1, 1) (logs, roots, denominators). */
  positive?: string[];
  /** Initializers that are also sources (the graph inputs are sources always). */
  initSources?: string[];
  /** Intermediate values that are sources too. */
  midSources?: string[];
  /** Graph inputs that are not sources. */
  notSources?: string[];
  /** Kinks of the function: float32 inputs are kept ≥ 0.03 away from them (the step is 1e-2). */
  kinks?: number[];
  /** Why the translator comparison does not apply (finite differences still do). */
  noTranslator?: string;
}

const i64 = (data: number[], shape = [data.length]): TinyInitSpec => ({ shape, data, elem: 'int64' });
const f = (data: number[], shape = [data.length]): TinyInitSpec => ({ shape, data });
const unaryCase = (op: string, dtype: FloatType, opset = 17, attrs = {}): GradCase => ({
  name: `${op}${Object.keys(attrs).length ? ` ${JSON.stringify(attrs)}` : ''}`,
  dtype,
  positive: ['Sqrt', 'Log', 'Reciprocal'].includes(op) ? ['x'] : undefined,
  spec: (d) => ({ opset, inputs: { x: [d(), d(), d()] }, nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs }], output: 'y' }),
});
const binary = (op: string, sa: (d: number[]) => number[], sb: (d: number[]) => number[], dtype: FloatType = 'float64', positive?: string[]): GradCase => ({
  name: `${op} broadcast`,
  dtype,
  positive,
  spec: (d) => {
    const dims = [d(), d(), d()];
    return { opset: 17, inputs: { a: sa(dims), b: sb(dims) }, nodes: [{ op, inputs: ['a', 'b'], outputs: ['y'] }], output: 'y' };
  },
});

export const MATH_CASES: GradCase[] = [
  binary('Add', ([p, q, r]) => [p, q, r], ([, , r]) => [r]),
  binary('Add', ([p, , r]) => [p, 1, r], ([, q]) => [q, 1]),
  binary('Sub', ([, q]) => [1, q], ([p]) => [p, 1]),
  binary('Mul', ([p, q]) => [p, q], ([p]) => [p, 1]),
  binary('Div', ([p, q, r]) => [p, q, r], ([, q]) => [q, 1], 'float64', ['b']),
  binary('Pow', ([p, q]) => [p, q], ([, q]) => [q], 'float64', ['a']),
  {
    name: 'Pow constant exponent',
    dtype: 'float64',
    positive: ['x'],
    spec: (d) => ({ opset: 17, inputs: { x: [d(), d()] }, inits: { e: f([3], []) }, nodes: [{ op: 'Pow', inputs: ['x', 'e'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Sum of three, broadcast',
    dtype: 'float64',
    spec: (d) => {
      const [p, q] = [d(), d()];
      return { opset: 17, inputs: { a: [p, q], b: [q], c: [p, 1] }, nodes: [{ op: 'Sum', inputs: ['a', 'b', 'c'], outputs: ['y'] }], output: 'y' };
    },
  },
  ...['Neg', 'Sqrt', 'Exp', 'Log', 'Abs', 'Reciprocal', 'Tanh', 'Sigmoid', 'Relu'].map((op) => unaryCase(op, 'float64')),
  unaryCase('Erf', 'float32'),
  unaryCase('Sin', 'float64'),
  unaryCase('Cos', 'float64'),
  unaryCase('Softplus', 'float32'),
  { ...unaryCase('Elu', 'float32', 17, { alpha: { float: 0.7 } }), kinks: [0] },
  { ...unaryCase('HardSwish', 'float32', 14), kinks: [-0.6, 0.6], spec: (d) => ({ opset: 14, inputs: { x: [d(), d(), d()] }, nodes: [{ op: 'Mul', inputs: ['x', 'five'], outputs: ['x5'] }, { op: 'HardSwish', inputs: ['x5'], outputs: ['y'] }], inits: { five: f([5], []) }, output: 'y' }) },
  {
    name: 'PRelu with a per-channel slope [c,1,1]',
    dtype: 'float32',
    kinks: [0],
    spec: (d) => {
      const ch = d();
      return { opset: 16, inputs: { x: [2, ch, d(), d()], s: [ch, 1, 1] }, nodes: [{ op: 'PRelu', inputs: ['x', 's'], outputs: ['y'] }], output: 'y' };
    },
  },
  {
    name: 'Max of three, broadcast',
    dtype: 'float64',
    noTranslator: "tfjs's Maximum gradient does not reduce a broadcast operand (it throws)",
    spec: (d) => {
      const [p, q] = [d(), d()];
      return { opset: 13, inputs: { a: [p, q], b: [q], c: [p, 1] }, nodes: [{ op: 'Max', inputs: ['a', 'b', 'c'], outputs: ['y'] }], output: 'y' };
    },
  },
  binary('Min', ([p, q]) => [p, q], ([p, q]) => [p, q]),
  { ...unaryCase('LeakyRelu', 'float32', 17, { alpha: { float: 0.2 } }), kinks: [0] },
  unaryCase('HardSigmoid', 'float32', 9, { alpha: { float: 0.3 }, beta: { float: 0.4 } }),
  unaryCase('Gelu', 'float32', 20),
  unaryCase('Gelu', 'float32', 20, { approximate: 'tanh' }),
  { ...unaryCase('Clip', 'float32', 9, { min: { float: -0.5 }, max: { float: 0.6 } }), kinks: [-0.5, 0.6] },
  {
    name: 'Clip (opset 13, min/max inputs)',
    dtype: 'float64',
    spec: (d) => ({ opset: 13, inputs: { x: [d(), d()] }, inits: { lo: f([-0.4], []), hi: f([0.5], []) }, nodes: [{ op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Where (condition from a comparison: no gradient to it)',
    dtype: 'float64',
    spec: (d) => {
      const [p, q] = [d(), d()];
      return {
        opset: 17,
        inputs: { a: [p, q], b: [q], c: [p, q] },
        inits: { zero: f([0], []) },
        nodes: [
          { op: 'Greater', inputs: ['c', 'zero'], outputs: ['m'] },
          { op: 'Where', inputs: ['m', 'a', 'b'], outputs: ['y'] },
        ],
        output: 'y',
      };
    },
  },
  {
    name: 'Cast float → double → float',
    dtype: 'float32',
    spec: (d) => ({
      opset: 17,
      inputs: { x: [d(), d()] },
      nodes: [
        { op: 'Cast', inputs: ['x'], outputs: ['xd'], attrs: { to: 11 } },
        { op: 'Exp', inputs: ['xd'], outputs: ['ed'] },
        { op: 'Cast', inputs: ['ed'], outputs: ['y'], attrs: { to: 1 } },
      ],
      output: 'y',
    }),
  },
  {
    name: 'Cast to int64 ends the path (y = x·float(int(3x)))',
    dtype: 'float64',
    noTranslator: "tfjs's Cast gradient passes the cotangent through a cast to int (finite differences say 0 there)",
    spec: (d) => ({
      opset: 17,
      inputs: { x: [d(), d()] },
      inits: { three: f([3.3], []) },
      nodes: [
        { op: 'Mul', inputs: ['x', 'three'], outputs: ['x3'] },
        { op: 'Cast', inputs: ['x3'], outputs: ['xi'], attrs: { to: 7 } },
        { op: 'CastLike', inputs: ['xi', 'x'], outputs: ['xf'] },
        { op: 'Mul', inputs: ['x', 'xf'], outputs: ['y'] },
      ],
      output: 'y',
    }),
  },
  {
    name: 'a value used three times accumulates (y = x·x + eˣ)',
    dtype: 'float64',
    spec: (d) => ({
      opset: 17,
      inputs: { x: [d(), d()] },
      nodes: [
        { op: 'Mul', inputs: ['x', 'x'], outputs: ['xx'] },
        { op: 'Exp', inputs: ['x'], outputs: ['ex'] },
        { op: 'Add', inputs: ['xx', 'ex'], outputs: ['y'] },
      ],
      output: 'y',
    }),
    midSources: ['xx'],
  },
  {
    name: 'Add with symbolic dims (run-time reduction)',
    dtype: 'float64',
    spec: () => ({
      opset: 17,
      inputs: { a: ['N', 3], b: ['M', 1] },
      feedShapes: { a: [4, 3], b: [1, 1] },
      nodes: [{ op: 'Add', inputs: ['a', 'b'], outputs: ['y'] }],
      output: 'y',
    }),
  },
  ...[
    [4, 1],
    [1, 3],
  ].map(
    (bShape): GradCase => ({
      name: `Add with symbolic dims at opset 11 (per-axis run-time choice), b ${JSON.stringify(bShape)}`,
      dtype: 'float64',
      spec: () => ({
        opset: 11,
        inputs: { a: ['N', 'K'], b: ['M', 'J'], c: [2, 'P', 'Q'] },
        feedShapes: { a: [4, 3], b: bShape, c: [2, 1, 1] },
        nodes: [
          { op: 'Add', inputs: ['a', 'b'], outputs: ['s'] },
          { op: 'Mul', inputs: ['s', 'c'], outputs: ['y'] },
        ],
        output: 'y',
      }),
    }),
  ),
  {
    name: 'Mul with symbolic dims (run-time reduction, rank padding)',
    dtype: 'float64',
    spec: () => ({
      opset: 17,
      inputs: { a: ['N', 'K', 3], b: ['K', 'J'] },
      feedShapes: { a: [2, 4, 3], b: [4, 1] },
      nodes: [{ op: 'Mul', inputs: ['a', 'b'], outputs: ['y'] }],
      output: 'y',
    }),
  },
];

const softmax = (op: string, opset: number, axis: number, dtype: FloatType = 'float64'): GradCase => ({
  name: `${op} opset ${opset} axis ${axis}`,
  dtype,
  spec: (d) => ({ opset, inputs: { x: [d(), d(), d()] }, nodes: [{ op, inputs: ['x'], outputs: ['y'], attrs: { axis } }], output: 'y' }),
});

export const LINALG_CASES: GradCase[] = [
  softmax('Softmax', 13, 1),
  softmax('Softmax', 11, 1),
  softmax('Softmax', 13, -1),
  softmax('LogSoftmax', 13, -1),
  softmax('LogSoftmax', 11, 1),
  ...(
    [
      ['[p,q,k]·[k,n]', (p: number, q: number, k: number, n: number) => [[p, q, k], [k, n]]],
      ['[p,1,m,k]·[q,k,n] (batch broadcast)', (p: number, q: number, k: number, n: number) => [[p, 1, n, k], [q, k, n]]],
      ['[k]·[k,n]', (_p: number, _q: number, k: number, n: number) => [[k], [k, n]]],
      ['[p,k]·[k]', (p: number, _q: number, k: number) => [[p, k], [k]]],
      ['[k]·[k]', (_p: number, _q: number, k: number) => [[k], [k]]],
      ['[k]·[p,k,n]', (p: number, _q: number, k: number, n: number) => [[k], [p, k, n]]],
    ] as [string, (...d: number[]) => number[][]][]
  ).map(([label, shapes]): GradCase => ({
    name: `MatMul ${label}`,
    dtype: 'float64',
    spec: (d) => {
      const [sa, sb] = shapes(d(), d(), d(), d());
      return { opset: 17, inputs: { a: sa, b: sb }, nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], output: 'y' };
    },
  })),
  ...[
    { transA: 0, transB: 0, c: 'n' },
    { transA: 1, transB: 0, c: 'm1' },
    { transA: 0, transB: 1, c: 'mn' },
    { transA: 1, transB: 1, c: 'n' },
    { transA: 0, transB: 1, c: 'none' },
  ].map(({ transA, transB, c }): GradCase => ({
    name: `Gemm transA ${transA} transB ${transB} C ${c}`,
    dtype: 'float64',
    spec: (d) => {
      const [m, k, n] = [d(), d(), d()];
      const cShape = c === 'n' ? [n] : c === 'm1' ? [m, 1] : [m, n];
      return {
        opset: 13,
        inputs: { a: transA ? [k, m] : [m, k], b: transB ? [n, k] : [k, n], ...(c === 'none' ? {} : { c: cShape }) },
        nodes: [{ op: 'Gemm', inputs: c === 'none' ? ['a', 'b'] : ['a', 'b', 'c'], outputs: ['y'], attrs: { transA, transB, alpha: { float: 0.7 }, beta: { float: 1.3 } } }],
        output: 'y',
      };
    },
  })),
  {
    name: 'LayerNormalization axis -1',
    dtype: 'float64',
    spec: (d) => {
      const [p, q, r] = [d(), d(), d() + 2];
      return { opset: 17, inputs: { x: [p, q, r], s: [r], b: [r] }, nodes: [{ op: 'LayerNormalization', inputs: ['x', 's', 'b'], outputs: ['y'], attrs: { epsilon: { float: 1e-3 } } }], output: 'y' };
    },
  },
  {
    name: 'LayerNormalization axis 1 (two normalised axes)',
    dtype: 'float64',
    spec: (d) => {
      const [p, q, r] = [d(), d(), d()];
      return { opset: 17, inputs: { x: [p, q, r], s: [q, r] }, nodes: [{ op: 'LayerNormalization', inputs: ['x', 's'], outputs: ['y'], attrs: { axis: 1 } }], output: 'y' };
    },
  },
  {
    name: 'LayerNormalization decomposed (ReduceMean/Sub/Pow/Add/Sqrt/Div, opset 13)',
    dtype: 'float64',
    spec: (d) => {
      const [p, q, r] = [d(), d(), d() + 2];
      return {
        opset: 13,
        inputs: { x: [p, q, r], s: [r], b: [r] },
        inits: { two: f([2], []), eps: f([1e-5], []) },
        nodes: [
          { op: 'ReduceMean', inputs: ['x'], outputs: ['mu'], attrs: { axes: [-1] } },
          { op: 'Sub', inputs: ['x', 'mu'], outputs: ['xc'] },
          { op: 'Pow', inputs: ['xc', 'two'], outputs: ['sq'] },
          { op: 'ReduceMean', inputs: ['sq'], outputs: ['var'], attrs: { axes: [-1] } },
          { op: 'Add', inputs: ['var', 'eps'], outputs: ['ve'] },
          { op: 'Sqrt', inputs: ['ve'], outputs: ['sd'] },
          { op: 'Div', inputs: ['xc', 'sd'], outputs: ['xh'] },
          { op: 'Mul', inputs: ['xh', 's'], outputs: ['xs'] },
          { op: 'Add', inputs: ['xs', 'b'], outputs: ['y'] },
        ],
        output: 'y',
      };
    },
  },
  {
    name: 'BatchNormalization (inference, every input a source)',
    dtype: 'float64',
    positive: ['v'],
    spec: (d) => {
      const c = d();
      return { opset: 15, inputs: { x: [2, c, d(), d()], s: [c], b: [c], m: [c], v: [c] }, nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'], attrs: { epsilon: { float: 1e-3 } } }], output: 'y' };
    },
  },
];

export const SHAPE_CASES: GradCase[] = [
  {
    name: 'Reshape (shape with 0 and −1)',
    dtype: 'float64',
    spec: (d) => ({ opset: 17, inputs: { x: [d(), d(), d()] }, inits: { s: i64([0, -1]) }, nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['r'] }, { op: 'Exp', inputs: ['r'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Flatten axis 2',
    dtype: 'float64',
    spec: (d) => ({ opset: 17, inputs: { x: [d(), d(), d(), d()] }, nodes: [{ op: 'Flatten', inputs: ['x'], outputs: ['r'], attrs: { axis: 2 } }, { op: 'Exp', inputs: ['r'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Transpose perm [2,0,1]',
    dtype: 'float64',
    spec: (d) => ({ opset: 17, inputs: { x: [d(), d(), d()] }, nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['y'], attrs: { perm: [2, 0, 1] } }], output: 'y' }),
  },
  {
    name: 'Transpose default (reversed axes)',
    dtype: 'float64',
    spec: (d) => ({ opset: 17, inputs: { x: [d(), d(), d()] }, nodes: [{ op: 'Transpose', inputs: ['x'], outputs: ['t'] }, { op: 'Identity', inputs: ['t'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Expand [q,1] → [p,q,r]',
    dtype: 'float64',
    spec: (d) => {
      const [p, q, r] = [d(), d(), d()];
      return { opset: 17, inputs: { x: [q, 1] }, inits: { s: i64([p, q, r]) }, nodes: [{ op: 'Expand', inputs: ['x', 's'], outputs: ['y'] }], output: 'y' };
    },
  },
  {
    name: 'Concat axis 1 of three',
    dtype: 'float64',
    spec: (d) => {
      const p = d();
      return { opset: 17, inputs: { a: [p, d()], b: [p, d()], c: [p, 1] }, nodes: [{ op: 'Concat', inputs: ['a', 'b', 'c'], outputs: ['y'], attrs: { axis: 1 } }], output: 'y' };
    },
  },
  {
    name: 'Concat axis −1, symbolic sizes (opset 13: run-time split)',
    dtype: 'float64',
    spec: () => ({
      opset: 13,
      inputs: { a: [2, 'A'], b: [2, 'B'] },
      feedShapes: { a: [2, 3], b: [2, 2] },
      nodes: [{ op: 'Concat', inputs: ['a', 'b'], outputs: ['c'], attrs: { axis: -1 } }, { op: 'Exp', inputs: ['c'], outputs: ['y'] }],
      output: 'y',
    }),
  },
  {
    name: 'Split opset 13 (sizes input, one output unused)',
    dtype: 'float64',
    spec: (d) => ({
      opset: 13,
      inputs: { x: [d(), 5] },
      inits: { sp: i64([1, 2, 2]) },
      nodes: [
        { op: 'Split', inputs: ['x', 'sp'], outputs: ['s0', 's1', 's2'], attrs: { axis: 1 } },
        { op: 'Exp', inputs: ['s2'], outputs: ['e2'] },
        { op: 'Concat', inputs: ['e2', 's0'], outputs: ['y'], attrs: { axis: 1 } },
      ],
      output: 'y',
    }),
  },
  {
    name: 'Split opset 11 (split attribute)',
    dtype: 'float64',
    spec: (d) => ({
      opset: 11,
      inputs: { x: [4, d()] },
      nodes: [
        { op: 'Split', inputs: ['x'], outputs: ['s0', 's1'], attrs: { axis: 0, split: [3, 1] } },
        { op: 'Sum', inputs: ['s0', 's1'], outputs: ['y'] },
      ],
      output: 'y',
    }),
  },
  {
    name: 'Slice opset 13 (negative starts, ends past the end, a step of −2)',
    dtype: 'float64',
    spec: () => ({
      opset: 13,
      inputs: { x: [6, 5, 4] },
      inits: { st: i64([-5, 4]), en: i64([1000, -1000]), ax: i64([0, 1]), sp: i64([2, -2]) },
      nodes: [{ op: 'Slice', inputs: ['x', 'st', 'en', 'ax', 'sp'], outputs: ['y'] }],
      output: 'y',
    }),
  },
  {
    name: 'Slice opset 13 (no axes/steps)',
    dtype: 'float64',
    spec: () => ({ opset: 13, inputs: { x: [5, 4] }, inits: { st: i64([1, -3]), en: i64([-1, 4]) }, nodes: [{ op: 'Slice', inputs: ['x', 'st', 'en'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Slice opset 9 (attributes)',
    dtype: 'float64',
    spec: () => ({ opset: 9, inputs: { x: [5, 4] }, nodes: [{ op: 'Slice', inputs: ['x'], outputs: ['y'], attrs: { starts: [1, -3], ends: [1000, 3], axes: [0, 1] } }], output: 'y' }),
  },
  ...[13, 11].map((opset): GradCase => ({
    name: `Unsqueeze/Squeeze opset ${opset}`,
    dtype: 'float64',
    spec: (d) => ({
      opset,
      inputs: { x: [d(), 1, d()] },
      inits: opset >= 13 ? { ax1: i64([1]), ax2: i64([0, -1]) } : ({} as Record<string, TinyInitSpec>),
      nodes: [
        opset >= 13 ? { op: 'Squeeze', inputs: ['x', 'ax1'], outputs: ['s'] } : { op: 'Squeeze', inputs: ['x'], outputs: ['s'], attrs: { axes: [1] } },
        { op: 'Exp', inputs: ['s'], outputs: ['e'] },
        opset >= 13 ? { op: 'Unsqueeze', inputs: ['e', 'ax2'], outputs: ['y'] } : { op: 'Unsqueeze', inputs: ['e'], outputs: ['y'], attrs: { axes: [0, 3] } },
      ],
      output: 'y',
    }),
  })),
  {
    name: 'Pad constant (opset 13, pads input)',
    dtype: 'float64',
    spec: (d) => ({ opset: 13, inputs: { x: [d(), d(), d()] }, inits: { p: i64([1, 0, 2, 0, 3, 1]) }, nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['q'] }, { op: 'Exp', inputs: ['q'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Pad constant (opset 9, pads attribute)',
    dtype: 'float64',
    spec: (d) => ({ opset: 9, inputs: { x: [d(), d()] }, nodes: [{ op: 'Pad', inputs: ['x'], outputs: ['q'], attrs: { pads: [0, 2, 1, 0], value: { float: 0.5 } } }, { op: 'Exp', inputs: ['q'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Gather axis 0 (repeated and negative indices, opset 17: scatter-add)',
    dtype: 'float64',
    spec: (d) => ({ opset: 17, inputs: { x: [5, d()] }, inits: { i: i64([0, -1, 3, 0, 4, -5], [2, 3]) }, nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'Gather axis 1 (opset 13: one-hot product)',
    dtype: 'float64',
    spec: (d) => ({ opset: 13, inputs: { x: [d(), 4, d()] }, inits: { i: i64([2, -1, 2]) }, nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: 1 } }], output: 'y' }),
  },
  {
    name: 'Gather axis 1 scalar index (opset 17)',
    dtype: 'float64',
    spec: (d) => ({ opset: 17, inputs: { x: [d(), 4, d()] }, inits: { i: i64([-2], []) }, nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: 1 } }], output: 'y' }),
  },
  {
    name: 'ReduceSum opset 13 (axes input, keepdims 0)',
    dtype: 'float64',
    spec: (d) => ({ opset: 13, inputs: { x: [d(), d(), d()] }, inits: { ax: i64([0, 2]) }, nodes: [{ op: 'ReduceSum', inputs: ['x', 'ax'], outputs: ['y'], attrs: { keepdims: 0 } }], output: 'y' }),
  },
  {
    name: 'ReduceSum opset 11 (all axes)',
    dtype: 'float64',
    spec: (d) => ({ opset: 11, inputs: { x: [d(), d()] }, nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { keepdims: 0 } }], output: 'y' }),
  },
  {
    name: 'ReduceMean opset 13 (axes attribute, keepdims 0)',
    dtype: 'float64',
    spec: (d) => ({ opset: 13, inputs: { x: [d(), d(), d()] }, nodes: [{ op: 'ReduceMean', inputs: ['x'], outputs: ['y'], attrs: { axes: [-1, 0], keepdims: 0 } }], output: 'y' }),
  },
  {
    name: 'ReduceMean opset 18 (axes input, keepdims 1)',
    dtype: 'float64',
    spec: (d) => ({ opset: 18, inputs: { x: [d(), d(), d()] }, inits: { ax: i64([1]) }, nodes: [{ op: 'ReduceMean', inputs: ['x', 'ax'], outputs: ['y'], attrs: { keepdims: 1 } }], output: 'y' }),
  },
];

export const NN_CASES: GradCase[] = [
  {
    name: 'Conv grouped, strided, dilated, asymmetric pads, bias',
    dtype: 'float32',
    spec: () => ({
      opset: 17,
      inputs: { x: [2, 4, 7, 6], w: [6, 2, 3, 2], bias: [6] },
      nodes: [{ op: 'Conv', inputs: ['x', 'w', 'bias'], outputs: ['y'], attrs: { group: 2, strides: [2, 1], dilations: [1, 2], pads: [1, 0, 0, 1] } }],
      output: 'y',
    }),
  },
  {
    name: 'Conv auto_pad SAME_UPPER stride 2',
    dtype: 'float32',
    spec: () => ({ opset: 11, inputs: { x: [1, 3, 6, 5], w: [2, 3, 3, 3] }, nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { auto_pad: 'SAME_UPPER', strides: [2, 2] } }], output: 'y' }),
  },
  {
    name: 'Conv 1-D, symbolic length (run-time padding of ḡx)',
    dtype: 'float32',
    spec: () => ({
      opset: 13,
      inputs: { x: [2, 3, 'L'], w: [4, 3, 3] },
      feedShapes: { x: [2, 3, 8] },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [3], pads: [1, 0] } }],
      output: 'y',
    }),
  },
  ...[9, 13].map((opset): GradCase => ({
    name: `Conv strided, padded at both ends, symbolic width (opset ${opset}: run-time crop of ḡx)`,
    dtype: 'float32',
    spec: () => ({
      opset,
      inputs: { x: [1, 2, 5, 'W'], w: [3, 2, 3, 3] },
      feedShapes: { x: [1, 2, 5, 8] },
      nodes: [{ op: 'Conv', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2, 2], pads: [1, 1, 1, 1] } }],
      output: 'y',
    }),
  })),
  {
    name: 'AveragePool padded, count_include_pad 0, symbolic dims (opset 11)',
    dtype: 'float32',
    spec: () => ({
      opset: 11,
      inputs: { x: [1, 2, 'H', 'W'] },
      feedShapes: { x: [1, 2, 6, 7] },
      nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }],
      output: 'y',
    }),
  },
  ...[
    [1, 1],
    [1, 2],
  ].map(
    (dilations): GradCase => ({
      name: `ConvTranspose strided, padded, output_padding, bias, dilations ${dilations.join('×')}`,
      dtype: 'float32',
      noTranslator: dilations[1] > 1 ? 'tfjs has no gradient for a dilated conv2D' : undefined,
      spec: () => ({
        opset: 17,
        inputs: { x: [2, 3, 4, 3], w: [3, 2, 3, 2], bias: [2] },
        nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'bias'], outputs: ['y'], attrs: { strides: [2, 3], dilations, pads: [1, 0, 0, 1], output_padding: [1, 0] } }],
        output: 'y',
      }),
    }),
  ),
  {
    name: 'ConvTranspose grouped (input gradient)',
    dtype: 'float32',
    notSources: ['w'],
    spec: () => ({
      opset: 11,
      inputs: { x: [1, 4, 3, 3], w: [4, 3, 2, 2] },
      nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w'], outputs: ['y'], attrs: { strides: [2, 2], group: 2 } }],
      output: 'y',
    }),
  },
  {
    name: 'Resize nearest ×[2,3] (asymmetric, floor; opset 13)',
    dtype: 'float32',
    spec: (d) => ({
      opset: 13,
      inputs: { x: [2, d(), d(), d()] },
      inits: { roi: f([], [0]), sc: f([1, 1, 2, 3]) },
      nodes: [{ op: 'Resize', inputs: ['x', 'roi', 'sc'], outputs: ['y'], attrs: { mode: 'nearest', coordinate_transformation_mode: 'asymmetric', nearest_mode: 'floor' } }],
      output: 'y',
    }),
  },
  {
    name: 'Upsample nearest ×2 (opset 9)',
    dtype: 'float32',
    spec: (d) => ({ opset: 9, inputs: { x: [1, d(), d(), d()] }, inits: { sc: f([1, 1, 2, 2]) }, nodes: [{ op: 'Upsample', inputs: ['x', 'sc'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'MaxPool overlapping windows (opset 17: scatter-add)',
    dtype: 'float64',
    spec: () => ({ opset: 17, inputs: { x: [2, 3, 7, 6] }, nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1] } }], output: 'y' }),
  },
  {
    name: 'MaxPool 2×2 stride 2 (opset 11)',
    dtype: 'float64',
    spec: () => ({ opset: 11, inputs: { x: [2, 2, 6, 4] }, nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }], output: 'y' }),
  },
  ...[0, 1].map((cip): GradCase => ({
    name: `AveragePool padded, count_include_pad ${cip}`,
    dtype: 'float32',
    spec: () => ({ opset: 17, inputs: { x: [2, 2, 7, 6] }, nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [3, 2], strides: [2, 2], pads: [1, 1, 1, 0], count_include_pad: cip } }], output: 'y' }),
  })),
  {
    name: 'AveragePool 2×2 stride 2 (opset 9)',
    dtype: 'float32',
    spec: () => ({ opset: 9, inputs: { x: [1, 3, 4, 6] }, nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: [2, 2], strides: [2, 2] } }], output: 'y' }),
  },
  {
    name: 'GlobalAveragePool',
    dtype: 'float32',
    spec: (d) => ({ opset: 17, inputs: { x: [2, d(), d(), d()] }, nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'GlobalAveragePool, symbolic spatial dims',
    dtype: 'float32',
    spec: () => ({ opset: 17, inputs: { x: [2, 3, 'H', 'W'] }, feedShapes: { x: [2, 3, 4, 5] }, nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['y'] }], output: 'y' }),
  },
  {
    name: 'MLP with an initializer source (Gemm → Relu → Gemm)',
    dtype: 'float64',
    initSources: ['w1'],
    spec: () => ({
      opset: 17,
      inputs: { x: [3, 4] },
      inits: { w1: { shape: [5, 4] }, b1: { shape: [5] }, w2: { shape: [2, 5] } },
      nodes: [
        { op: 'Gemm', inputs: ['x', 'w1', 'b1'], outputs: ['h'], attrs: { transB: 1 } },
        { op: 'Relu', inputs: ['h'], outputs: ['r'] },
        { op: 'Gemm', inputs: ['r', 'w2'], outputs: ['y'], attrs: { transB: 1 } },
      ],
      output: 'y',
    }),
    midSources: ['h'],
  },
];

export const ALL_CASES: GradCase[] = [...MATH_CASES, ...LINALG_CASES, ...SHAPE_CASES, ...NN_CASES];
