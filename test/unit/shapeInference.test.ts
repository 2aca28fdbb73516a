/**
 * Shape inference rules on hand-written graphs: the symbolic dimension algebra, one case (or a few) per ONNX and
 * TF.js op rule, the Shape → Gather → Concat → Reshape chains exporters write around attention, and the order of
 * authority (stored shapes are never overwritten; a contradiction is reported, not applied).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { Attribute, Dim, DType, GraphNode, ModelFormat, ModelGraph, ValueInfo } from '../../src/model/ir';
import { DimAlgebra } from '../../src/model/shapeDims';
import { inferGraphShapes } from '../../src/model/shapeInference';

type A = Attribute['value'];
const ints = (value: number[]): A => ({ type: 'ints', value });
const int = (value: number): A => ({ type: 'int', value });
const str = (value: string): A => ({ type: 'string', value });
const bool = (value: boolean): A => ({ type: 'json', value });

interface Init {
  shape: number[];
  dtype?: DType;
  val?: number[];
}
type N = [op: string, inputs: string[], outputs: string[], attrs?: Record<string, A>];

/** A graph: inputs (id → shape), initializers (shape + values), nodes in order. */
function build(format: ModelFormat, inputs: Record<string, Dim[]>, inits: Record<string, Init>, nodes: N[], opset = 17, stored: Record<string, Dim[]> = {}): { g: ModelGraph; constants: Map<string, number[]> } {
  const values: Record<string, ValueInfo> = {};
  const constants = new Map<string, number[]>();
  for (const [id, shape] of Object.entries(inputs)) values[id] = { id, name: id, shape, dtype: 'float32', kind: 'input' };
  for (const [id, t] of Object.entries(inits)) {
    values[id] = { id, name: id, shape: t.shape, dtype: t.dtype ?? (t.val ? 'int64' : 'float32'), kind: 'initializer' };
    if (t.val) constants.set(id, t.val);
  }
  const gnodes: GraphNode[] = nodes.map(([opType, ins, outs, attrs], k) => {
    for (const o of outs) values[o] = { id: o, name: o, kind: 'intermediate', producer: `n${k}`, shape: stored[o] };
    return {
      id: `n${k}`,
      name: `n${k}`,
      opType,
      domain: format === 'onnx' ? '' : 'tfjs',
      inputs: ins,
      outputs: outs,
      attributes: Object.entries(attrs ?? {}).map(([name, value]) => ({ name, value })),
      params: 0,
      paramBytes: 0,
      scope: [],
    };
  });
  const g: ModelGraph = {
    format,
    file: '/x',
    fileBytes: 0,
    opsets: format === 'onnx' ? [{ domain: '', version: opset }] : [],
    metadata: {},
    inputs: Object.keys(inputs),
    outputs: [],
    nodes: gnodes,
    values,
    tensors: {},
    hierarchy: [],
    params: 0,
    paramBytes: 0,
    warnings: [],
  };
  return { g, constants };
}

/** Runs inference and returns the shapes of the named values. */
function infer(format: ModelFormat, inputs: Record<string, Dim[]>, inits: Record<string, Init>, nodes: N[], opset = 17): Record<string, Dim[] | undefined> {
  const { g, constants } = build(format, inputs, inits, nodes, opset);
  inferGraphShapes(g, constants);
  return Object.fromEntries(Object.entries(g.values).map(([id, v]) => [id, v.shape]));
}
const onnx = (inputs: Record<string, Dim[]>, inits: Record<string, Init>, nodes: N[], opset = 17) => infer('onnx', inputs, inits, nodes, opset);
const tfjs = (inputs: Record<string, Dim[]>, inits: Record<string, Init>, nodes: N[]) => infer('tfjs-graph', inputs, inits, nodes);
const i64 = (...val: number[]): Init => ({ shape: [val.length], val });
const scalar = (v: number): Init => ({ shape: [], val: [v] });

describe('DimAlgebra', () => {
  it('keeps polynomials canonical and evaluates them', () => {
    const A = new DimAlgebra();
    const b = A.sym('batch');
    const s = A.sym('seq');
    assert.equal(A.toDim(A.mul(b, s)), A.toDim(A.mul(s, b)));
    assert.equal(A.toDim(A.mul(b, s)), 'batch*seq');
    assert.equal(A.toDim(A.sub(A.add(s, 3), s)), 3);
    assert.equal(A.toDim(A.scale(A.add(b, -1), 2)), '2*batch-2');
    assert.equal(A.evaluate(A.add(A.mul(b, s), 1), { batch: 2, seq: 5 }), 11);
    assert.ok(Number.isNaN(A.evaluate(b, {})), 'an unbound symbol is NaN, never 0');
  });
  it('divides exactly or with floor, merging nested floors', () => {
    const A = new DimAlgebra();
    const h = A.sym('H');
    assert.equal(A.toDim(A.floorDiv(A.scale(h, 4), 2)), '2*H');
    assert.equal(A.toDim(A.floorDiv(A.add(A.scale(h, 2), 1), 2)), 'H');
    const q = A.floorDiv(A.add(h, -1), 2);
    assert.equal(A.toDim(q), 'floor((H-1)/2)');
    assert.equal(A.toDim(A.floorDiv(q, 2)), 'floor((H-1)/4)');
    assert.equal(A.toDim(A.floorDiv(A.add(q, 1), 2)), 'floor((H+1)/4)');
    assert.ok(A.equal(A.add(q, 1), A.floorDiv(A.add(h, 1), 2)), 'a constant beside a floor goes inside: one form per value');
    assert.equal(A.toDim(A.add(A.scale(q, 2), 2)), '2*floor((H-1)/2)+2', 'not with a coefficient');
    for (let H = 1; H < 40; H++) assert.equal(A.evaluate(A.floorDiv(A.add(q, 1), 2), { H }), Math.floor((Math.floor((H - 1) / 2) + 1) / 2));
    assert.equal(A.toDim(A.exactDiv(A.mul(A.sym('b'), A.scale(h, 6)), A.scale(h, 3))), '2*b');
    assert.equal(A.exactDiv(A.add(h, 1), 2), null, 'not exact: unknown');
    assert.equal(A.exactDiv(h, A.sym('W')), null);
  });
});

describe('ONNX rules', () => {
  it('broadcasts elementwise ops: a number against a symbol, two symbols unknown', () => {
    const s = onnx({ a: ['b', 1, 4], c: [3, 1], d: ['q', 4] }, {}, [
      ['Add', ['a', 'c'], ['y']],
      ['Mul', ['a', 'd'], ['z']],
    ]);
    assert.deepEqual(s.y, ['b', 3, 4]);
    assert.deepEqual(s.z, ['b', 'q', 4]);
    const t = onnx({ a: ['b', 4], d: ['q', 4] }, {}, [['Add', ['a', 'd'], ['y']]]);
    assert.deepEqual(t.y, [null, 4], 'b vs q: either could be 1');
  });
  it('MatMul with batch broadcasting and vectors; Gemm with transB', () => {
    const s = onnx({ a: ['b', 8, 5, 6], v: [6] }, { w: { shape: [6, 7] } }, [
      ['MatMul', ['a', 'w'], ['y']],
      ['MatMul', ['a', 'v'], ['z']],
      ['Gemm', ['m', 'w2'], ['g'], { transB: int(1) }],
    ]);
    assert.deepEqual(s.y, ['b', 8, 5, 7]);
    assert.deepEqual(s.z, ['b', 8, 5]);
    const g = onnx({ m: ['n', 6] }, { w2: { shape: [9, 6] } }, [['Gemm', ['m', 'w2'], ['g'], { transB: int(1) }]]);
    assert.deepEqual(g.g, ['n', 9]);
  });
  it('Conv: pads, strides, dilations, auto_pad, symbolic spatial dims', () => {
    const s = onnx({ x: ['N', 3, 'H', 17] }, { w: { shape: [8, 3, 3, 3] } }, [
      ['Conv', ['x', 'w'], ['a'], { pads: ints([1, 1, 1, 1]), strides: ints([2, 2]) }],
      ['Conv', ['x', 'w'], ['b'], { dilations: ints([2, 2]) }],
      ['Conv', ['x', 'w'], ['c'], { auto_pad: str('SAME_UPPER'), strides: ints([2, 2]) }],
      ['Conv', ['x', 'w'], ['d'], { auto_pad: str('VALID'), strides: ints([3, 3]) }],
    ]);
    assert.deepEqual(s.a, ['N', 8, 'floor((H+1)/2)', 9], 'floor((H-1)/2)+1 in canonical form');
    assert.deepEqual(s.b, ['N', 8, 'H-4', 13]);
    assert.deepEqual(s.c, ['N', 8, 'floor((H+1)/2)', 9]);
    assert.deepEqual(s.d, ['N', 8, 'floor(H/3)', 5], 'floor((H-3)/3)+1 simplified');
  });
  it('pools: ceil_mode with the last-window rule, global pools, ConvTranspose', () => {
    const s = onnx({ x: [1, 4, 5, 6] }, { w: { shape: [4, 2, 3, 3] } }, [
      ['MaxPool', ['x'], ['a'], { kernel_shape: ints([2, 2]), strides: ints([2, 2]), ceil_mode: int(1) }],
      ['AveragePool', ['x'], ['b'], { kernel_shape: ints([3, 3]), pads: ints([1, 1, 1, 1]) }],
      ['GlobalAveragePool', ['x'], ['c']],
      ['ConvTranspose', ['x', 'w'], ['d'], { strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), output_padding: ints([1, 1]), group: int(2) }],
    ]);
    assert.deepEqual(s.a, [1, 4, 3, 3]);
    assert.deepEqual(s.b, [1, 4, 5, 6]);
    assert.deepEqual(s.c, [1, 4, 1, 1]);
    assert.deepEqual(s.d, [1, 4, 10, 12]);
  });
  it('Reshape with 0 and -1 over symbolic dims; Flatten; Transpose', () => {
    const s = onnx({ x: ['b', 's', 64] }, { t1: i64(0, 0, 4, 16), t2: i64(-1, 64) }, [
      ['Reshape', ['x', 't1'], ['a']],
      ['Reshape', ['x', 't2'], ['c']],
      ['Flatten', ['x'], ['f'], { axis: int(2) }],
      ['Transpose', ['a'], ['t'], { perm: ints([0, 2, 1, 3]) }],
    ]);
    assert.deepEqual(s.a, ['b', 's', 4, 16]);
    assert.deepEqual(s.c, ['b*s', 64]);
    assert.deepEqual(s.f, ['b*s', 64]);
    assert.deepEqual(s.t, ['b', 4, 's', 16]);
  });
  it('the Shape → Gather → Unsqueeze → Concat → Reshape chain of an attention block', () => {
    const s = onnx({ x: ['batch', 'seq', 32] }, { i0: scalar(0), i1: scalar(1), u: i64(0), heads: i64(4), hd: i64(8) }, [
      ['Shape', ['x'], ['sh']],
      ['Gather', ['sh', 'i0'], ['b'], { axis: int(0) }],
      ['Gather', ['sh', 'i1'], ['s']],
      ['Unsqueeze', ['b', 'u'], ['bu']],
      ['Unsqueeze', ['s', 'u'], ['su']],
      ['Concat', ['bu', 'su', 'heads', 'hd'], ['target'], { axis: int(0) }],
      ['Reshape', ['x', 'target'], ['y']],
      ['Transpose', ['y'], ['q'], { perm: ints([0, 2, 1, 3]) }],
      ['Transpose', ['y'], ['k'], { perm: ints([0, 2, 3, 1]) }],
      ['MatMul', ['q', 'k'], ['scores']],
      ['Softmax', ['scores'], ['p'], { axis: int(-1) }],
    ]);
    assert.deepEqual(s.sh, [3]);
    assert.deepEqual(s.b, []);
    assert.deepEqual(s.target, [4]);
    assert.deepEqual(s.y, ['batch', 'seq', 4, 8]);
    assert.deepEqual(s.p, ['batch', 4, 'seq', 'seq']);
  });
  it('Unsqueeze/Squeeze: attribute axes before opset 13, input axes after', () => {
    const a = onnx({ x: [3, 'n'] }, {}, [['Unsqueeze', ['x'], ['y'], { axes: ints([0, -1]) }], ['Squeeze', ['y'], ['z'], { axes: ints([0]) }]], 11);
    assert.deepEqual(a.y, [1, 3, 'n', 1]);
    assert.deepEqual(a.z, [3, 'n', 1]);
    const b = onnx({ x: [3, 'n'] }, { ax: i64(1) }, [['Unsqueeze', ['x', 'ax'], ['y']], ['Squeeze', ['y', 'ax'], ['z']], ['Squeeze', ['y'], ['w']]], 13);
    assert.deepEqual(b.y, [3, 1, 'n']);
    assert.deepEqual(b.z, [3, 'n']);
    assert.equal(b.w, undefined, 'no axes and a symbolic dim (which may be 1): unknown');
  });
  it('Concat sums symbolic extents; Split by attribute, input and equal parts', () => {
    const s = onnx({ a: ['n', 2], b: ['n', 'k'] }, { sp: i64(2, 4) }, [
      ['Concat', ['a', 'b'], ['c'], { axis: int(1) }],
      ['Split', ['x6'], ['s1', 's2'], { axis: int(1), split: ints([1, 5]) }],
      ['Split', ['x6', 'sp'], ['t1', 't2'], { axis: int(1) }],
      ['Split', ['x6'], ['u1', 'u2', 'u3'], { axis: int(1) }],
    ]);
    assert.deepEqual(s.c, ['n', 'k+2']);
    const m = onnx({ a: ['n', 2], b: [4, 3] }, {}, [['Concat', ['a', 'b'], ['c'], { axis: int(1) }]]);
    assert.deepEqual(m.c, [4, 5], 'equal by contract: the number is kept');
    const t = onnx({ x6: ['n', 6] }, { sp: i64(2, 4) }, [
      ['Split', ['x6'], ['s1', 's2'], { axis: int(1), split: ints([1, 5]) }],
      ['Split', ['x6', 'sp'], ['t1', 't2'], { axis: int(1) }],
      ['Split', ['x6'], ['u1', 'u2', 'u3'], { axis: int(1) }],
    ]);
    assert.deepEqual([t.s1, t.s2, t.t1, t.t2, t.u3], [['n', 1], ['n', 5], ['n', 2], ['n', 4], ['n', 2]]);
  });
  it('Slice: constant bounds (clamped, negative, steps), opset-9 attributes, and bounds from the model’s sizes', () => {
    const s = onnx({ x: [10, 'seq', 8] }, { st: i64(1, -3), en: i64(100, 2 ** 31 - 1), ax: i64(0, 2), stp: i64(3, 1) }, [
      ['Slice', ['x', 'st', 'en', 'ax', 'stp'], ['a']],
    ]);
    assert.deepEqual(s.a, [3, 'seq', 3]);
    const old = onnx({ x: [10, 4] }, {}, [['Slice', ['x'], ['a'], { starts: ints([2]), ends: ints([-1]), axes: ints([0]) }]], 9);
    assert.deepEqual(old.a, [7, 4]);
    // GPT-2's causal mask: bias[:, :, k-q:k, :k] with q = k = seq
    const g = onnx({ x: [1, 1, 16, 16], ids: ['b', 'seq'] }, { i1: i64(1), z: i64(0), a2: i64(2), a3: i64(3) }, [
      ['Shape', ['ids'], ['sh']],
      ['Slice', ['sh', 'i1', 'a2'], ['k']],
      ['Sub', ['k', 'k'], ['start']],
      ['Slice', ['x', 'start', 'k', 'a2'], ['m1']],
      ['Slice', ['m1', 'z', 'k', 'a3'], ['m2']],
      ['Slice', ['x', 'z', 'i1', 'a2'], ['c']],
      ['Slice', ['ids', 'i1', 'a2', 'i1'], ['w']],
    ]);
    assert.deepEqual(g.m2, [1, 1, 'seq', 'seq']);
    assert.deepEqual(g.c, [1, 1, 1, 16]);
    assert.equal(g.w?.[1], null, 'a constant bound against a symbolic extent is min(·,·): unknown');
    const n = onnx({ x: [10, 4], ids: ['b', 'seq'] }, { i1: i64(1), a2: i64(2), neg: i64(-20), z: i64(0) }, [
      ['Shape', ['ids'], ['sh']],
      ['Slice', ['sh', 'i1', 'a2'], ['k']],
      ['Slice', ['x', 'neg', 'k', 'z'], ['y']],
    ]);
    assert.deepEqual(n.y, ['seq', 4], 'start -20 on an extent of 10 clamps to 0');
  });
  it('Expand through the ConstantOfShape → Equal → Where pattern torch writes', () => {
    const s = onnx({ x: ['b', 1, 4] }, { three: i64(3), neg: scalar(-1), sh: i64(-1, 7, 4), cos: i64(1) }, [
      ['ConstantOfShape', ['three'], ['ones'], { value: { type: 'tensor', value: { name: 'cos', dtype: 'int64', shape: [1], elements: 1, byteLength: 8, location: { kind: 'inline' } } } }],
      ['Mul', ['ones', 'neg'], ['m']],
      ['Equal', ['sh', 'm'], ['eq']],
      ['Where', ['eq', 'ones', 'sh'], ['t']],
      ['Expand', ['x', 't'], ['y']],
    ]);
    assert.deepEqual(s.t, [3]);
    assert.deepEqual(s.y, ['b', 7, 4]);
  });
  it('reductions (attribute and input axes, keepdims), ArgMax, TopK', () => {
    const s = onnx({ x: ['n', 5, 6] }, { ax: i64(1), k: i64(2) }, [
      ['ReduceMean', ['x'], ['a'], { axes: ints([-1]) }],
      ['ReduceSum', ['x', 'ax'], ['b'], { keepdims: int(0) }],
      ['ReduceMax', ['x'], ['c'], { keepdims: int(0) }],
      ['ArgMax', ['x'], ['d'], { axis: int(2), keepdims: int(0) }],
      ['TopK', ['x', 'k'], ['v', 'i'], { axis: int(1) }],
    ]);
    assert.deepEqual(s.a, ['n', 5, 1]);
    assert.deepEqual(s.b, ['n', 6]);
    assert.deepEqual(s.c, []);
    assert.deepEqual(s.d, ['n', 5]);
    assert.deepEqual([s.v, s.i], [['n', 2, 6], ['n', 2, 6]]);
  });
  it('Resize by scales and sizes, Upsample, Pad, Range, Tile, Cast, Where', () => {
    const s = onnx({ x: ['n', 3, 'H', 5], c: [1, 5] }, {
      roi: { shape: [0], dtype: 'float32', val: [] },
      sc: { shape: [4], dtype: 'float32', val: [1, 1, 2, 2.5] },
      sz: i64(1, 3, 7, 9),
      pads: i64(0, 0, 1, 2, 0, 0, 3, 4),
      r0: scalar(2), r1: scalar(11), r2: scalar(3),
      rep: i64(1, 2, 1, 3),
    }, [
      ['Resize', ['x', 'roi', 'sc'], ['a']],
      ['Resize', ['x', 'roi', '', 'sz'], ['b']],
      ['Pad', ['x', 'pads'], ['p']],
      ['Range', ['r0', 'r1', 'r2'], ['r']],
      ['Tile', ['x', 'rep'], ['t']],
      ['Cast', ['x'], ['k'], { to: int(7) }],
      ['Where', ['c', 'x', 'x'], ['w']],
    ], 13);
    assert.deepEqual(s.a, ['n', 3, '2*H', 12]);
    assert.deepEqual(s.b, [1, 3, 7, 9]);
    assert.deepEqual(s.p, ['n', 3, 'H+4', 11]);
    assert.deepEqual(s.r, [3]);
    assert.deepEqual(s.t, ['n', 6, 'H', 15]);
    assert.deepEqual(s.k, ['n', 3, 'H', 5]);
    assert.deepEqual(s.w, ['n', 3, 'H', 5]);
    const up = onnx({ x: [1, 2, 3, 4] }, {}, [['Upsample', ['x'], ['u'], { scales: { type: 'floats', value: [1, 1, 2, 2] } }]], 8);
    assert.deepEqual(up.u, [1, 2, 6, 8]);
  });
  it('Einsum (explicit, implicit, ellipsis), LayerNormalization statistics, Dropout mask, DepthToSpace', () => {
    const s = onnx({ a: ['b', 4, 5], c: [5, 6], x: ['n', 8, 3, 3] }, {}, [
      ['Einsum', ['a', 'c'], ['e1'], { equation: str('bij,jk->bik') }],
      ['Einsum', ['a', 'c'], ['e2'], { equation: str('...ij,jk') }],
      ['LayerNormalization', ['a'], ['ln', 'mean', 'inv'], { axis: int(-1) }],
      ['Dropout', ['a'], ['dr', 'mask']],
      ['DepthToSpace', ['x'], ['d2s'], { blocksize: int(2) }],
    ]);
    assert.deepEqual(s.e1, ['b', 4, 6]);
    assert.deepEqual(s.e2, ['b', 4, 6]);
    assert.deepEqual(s.mean, ['b', 4, 1]);
    assert.deepEqual(s.mask, ['b', 4, 5]);
    assert.deepEqual(s.d2s, ['n', 2, 6, 6]);
  });
  it('malformed attributes give unknown dims, never negative or fractional ones', () => {
    const s = onnx({ x: [1, 2, 3, 4] }, { sc: { shape: [4], dtype: 'float32', val: [1, 1, 0.3, -2] }, roi: { shape: [0], dtype: 'float32', val: [] } }, [
      ['MaxPool', ['x'], ['p'], { kernel_shape: ints([9, 9]) }],
      ['Resize', ['x', 'roi', 'sc'], ['r']],
    ], 13);
    assert.deepEqual(s.p, [1, 2, null, null]);
    assert.deepEqual(s.r, [1, 2, 0, null]);
  });
  it('an op without a rule leaves its outputs unknown (and everything after them)', () => {
    const s = onnx({ x: [4] }, {}, [['NonZero', ['x'], ['nz']], ['Relu', ['nz'], ['r']]]);
    assert.equal(s.nz, undefined);
    assert.equal(s.r, undefined);
  });
});

describe('stored shapes come first', () => {
  it('fills unknown dims of a stored shape, keeps stored dims, reports a contradiction without applying it', () => {
    const { g, constants } = build('onnx', { x: ['b', 3] }, { w: { shape: [3, 4] } }, [
      ['MatMul', ['x', 'w'], ['y']],
      ['Relu', ['y'], ['z']],
      ['Relu', ['y'], ['q']],
    ], 17, { y: [null, 4], z: [2, 5], q: ['batch', 4] });
    const r = inferGraphShapes(g, constants);
    assert.deepEqual(g.values.y.shape, ['b', 4]);
    assert.equal(g.values.y.shapeInferred, true);
    assert.deepEqual(g.values.z.shape, [2, 5], 'stored shape kept');
    assert.deepEqual(g.values.q.shape, ['batch', 4], 'a stored symbol is kept');
    assert.equal(g.values.q.shapeInferred, undefined);
    assert.deepEqual(r.conflicts, ['z']);
  });
});

describe('TF.js rules', () => {
  it('Conv2D / depthwise / pools with SAME, VALID and EXPLICIT padding (NHWC)', () => {
    const s = tfjs({ x: ['N', 'H', 9, 3] }, { w: { shape: [3, 3, 3, 16] }, dw: { shape: [3, 3, 3, 2] } }, [
      ['Conv2D', ['x', 'w'], ['a'], { strides: ints([1, 2, 2, 1]), padding: str('SAME') }],
      ['_FusedConv2D', ['x', 'w', 'bias'], ['b'], { strides: ints([1, 1, 1, 1]), padding: str('VALID'), dilations: ints([1, 2, 2, 1]) }],
      ['DepthwiseConv2dNative', ['x', 'dw'], ['c'], { strides: ints([1, 2, 2, 1]), padding: str('EXPLICIT'), explicit_paddings: ints([0, 0, 1, 1, 1, 1, 0, 0]) }],
      ['MaxPool', ['x'], ['d'], { ksize: ints([1, 2, 2, 1]), strides: ints([1, 2, 2, 1]), padding: str('VALID') }],
    ]);
    assert.deepEqual(s.a, ['N', 'floor((H+1)/2)', 5, 16]);
    assert.deepEqual(s.b, ['N', 'H-4', 5, 16]);
    assert.deepEqual(s.c, ['N', 'floor((H+1)/2)', 5, 6]);
    assert.deepEqual(s.d, ['N', 'floor(H/2)', 4, 3]);
  });
  it('MatMul with transposes, BiasAdd, Reshape -1, Mean keep_dims, Pad, ResizeBilinear, ConcatV2', () => {
    const s = tfjs({ x: ['N', 8], img: ['N', 4, 4, 3] }, {
      w: { shape: [5, 8] }, bias: { shape: [5] }, t: { shape: [2], dtype: 'int32', val: [-1, 10] }, ax: { shape: [2], dtype: 'int32', val: [1, 2] },
      p: { shape: [4, 2], dtype: 'int32', val: [0, 0, 1, 1, 2, 2, 0, 0] }, size: { shape: [2], dtype: 'int32', val: [9, 7] }, cax: { shape: [], dtype: 'int32', val: [-1] },
    }, [
      ['_FusedMatMul', ['x', 'w', 'bias'], ['m'], { transpose_b: bool(true) }],
      ['BiasAdd', ['m', 'bias'], ['ba']],
      ['Reshape', ['img', 't'], ['r']],
      ['Mean', ['img', 'ax'], ['mean'], { keep_dims: bool(true) }],
      ['Pad', ['img', 'p'], ['pad']],
      ['ResizeBilinear', ['img', 'size'], ['rs']],
      ['ConcatV2', ['img', 'img', 'cax'], ['cat']],
    ]);
    assert.deepEqual(s.m, ['N', 5]);
    assert.deepEqual(s.ba, ['N', 5]);
    assert.equal(s.r?.[0], null, 'N*48/10 is not exact: unknown');
    assert.deepEqual(s.mean, ['N', 1, 1, 3]);
    assert.deepEqual(s.pad, ['N', 6, 8, 3]);
    assert.deepEqual(s.rs, ['N', 9, 7, 3]);
    assert.deepEqual(s.cat, ['N', 4, 4, 6]);
  });
  it('StridedSlice masks (begin/end, shrink, new axis, ellipsis) and the Shape → StridedSlice → Pack → Reshape chain', () => {
    const i32 = (...val: number[]): Init => ({ shape: [val.length], dtype: 'int32', val });
    const s = tfjs({ x: ['N', 6, 8, 3] }, {
      b0: i32(0, 1, 0), e0: i32(0, 5, 0), s1: i32(1, 2, 1),
      b1: i32(0, 0), e1: i32(0, 1), s2: i32(1, 1),
      one: i32(1), two: i32(2), st: i32(1), m: { shape: [], dtype: 'int32', val: [-1] }, c3: { shape: [], dtype: 'int32', val: [24] },
    }, [
      ['StridedSlice', ['x', 'b0', 'e0', 's1'], ['a'], { begin_mask: int(5), end_mask: int(5) }],
      ['StridedSlice', ['x', 'b1', 'e1', 's2'], ['b'], { ellipsis_mask: int(1), shrink_axis_mask: int(2) }],
      ['StridedSlice', ['x', 'b1', 'e1', 's2'], ['c'], { new_axis_mask: int(1), end_mask: int(2) }],
      ['StridedSlice', ['x', 'b1', 'e1', 's2'], ['c2'], { new_axis_mask: int(1) }],
      ['Shape', ['x'], ['sh']],
      ['StridedSlice', ['sh', 'st', 'two', 'st'], ['h'], { shrink_axis_mask: int(1) }],
      ['Pack', ['m', 'c3'], ['tgt'], { axis: int(0) }],
      ['Reshape', ['x', 'tgt'], ['flat']],
    ]);
    assert.deepEqual(s.a, ['N', 2, 8, 3]);
    assert.deepEqual(s.b, ['N', 6, 8]);
    assert.deepEqual(s.c, [1, 'N', 6, 8, 3]);
    assert.deepEqual(s.c2, [1, null, 6, 8, 3], 'x[newaxis, 0:1] on a symbolic N is min(1, N): unknown');
    assert.deepEqual(s.h, []);
    assert.deepEqual(s.flat, ['6*N', 24]);
  });
  it("SparseToDense resolving Reshape's zeros (onnx-tf), Transpose by a constant perm", () => {
    const i32 = (shape: number[], ...val: number[]): Init => ({ shape, dtype: 'int32', val });
    const s = tfjs({ x: [1, 44, 52, 52] }, {
      where: i32([0, 1]), n: i32([1], 3), zero: i32([]), dflt: i32([], 0), tgt: i32([3], 4, 11, -1), perm: i32([3], 0, 2, 1),
    }, [
      ['SparseToDense', ['where', 'n', 'zero', 'dflt'], ['dense']],
      ['AddV2', ['tgt', 'dense'], ['t']],
      ['Reshape', ['x', 't'], ['r']],
      ['Transpose', ['r', 'perm'], ['tr']],
    ]);
    assert.deepEqual(s.dense, [3]);
    assert.deepEqual(s.r, [4, 11, 2704]);
    assert.deepEqual(s.tr, [4, 2704, 11]);
  });
});
