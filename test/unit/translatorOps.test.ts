/**
 * The ONNX → tfjs translator on hand-built graphs: support reporting, executor semantics (cuts, disposal,
 * errors), int64 handling, opset-dependent semantics, per-op gradients against central finite differences,
 * Jacobians, backend resolution, and docs/ops.md kept identical to the op table.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import type { AttributeValue, DType, GraphNode, LoadedModel, ModelGraph, TensorData, TensorInfo, ValueInfo } from '../../src/model/ir';
import {
  OPS,
  TfjsGraphExecutor,
  TranslatorError,
  UnsupportedOpsError,
  checkSupported,
  int64ToInt32,
  jacobian,
  resolveBackend,
  tf,
  unsupportedOps,
  vjp,
} from '../../src/model/runtime/tfjs';
import { renderOpsTable } from '../../src/model/runtime/tfjs/ops';
import { seededUniform } from '../helpers/random';

// ---- a tiny in-memory model builder ----

interface TinyNode {
  op: string;
  inputs: string[];
  outputs: string[];
  attrs?: Record<string, AttributeValue>;
  domain?: string;
}

interface TinyInit {
  dtype: DType;
  shape: number[];
  data: TensorData;
}

function tinyModel(spec: { opset?: number; inputs: string[]; outputs: string[]; nodes: TinyNode[]; inits?: Record<string, TinyInit> }): LoadedModel {
  const values: Record<string, ValueInfo> = {};
  const tensors: Record<string, TensorInfo> = {};
  const info = (name: string, t: TinyInit): TensorInfo => ({
    name,
    dtype: t.dtype,
    shape: t.shape,
    elements: t.shape.reduce((a, b) => a * b, 1),
    byteLength: 0,
    location: { kind: 'inline' },
  });
  for (const i of spec.inputs) values[i] = { id: i, name: i, kind: 'input' };
  for (const [name, t] of Object.entries(spec.inits ?? {})) {
    tensors[name] = info(name, t);
    values[name] = { id: name, name, kind: 'initializer', dtype: t.dtype, shape: t.shape };
  }
  const attrTensors = new Map<string, TinyInit>();
  const nodes: GraphNode[] = spec.nodes.map((n, k) => {
    const id = `${n.op}_${k}`;
    for (const o of n.outputs) if (o) values[o] = { id: o, name: o, kind: spec.outputs.includes(o) ? 'output' : 'intermediate', producer: id };
    return {
      id,
      name: id,
      opType: n.op,
      domain: n.domain ?? '',
      inputs: n.inputs,
      outputs: n.outputs,
      attributes: Object.entries(n.attrs ?? {}).map(([name, value]) => {
        if (value.type === 'tensor') attrTensors.set(value.value.name, (value as unknown as { init: TinyInit }).init);
        return { name, value };
      }),
      params: 0,
      paramBytes: 0,
      scope: [],
    };
  });
  const graph: ModelGraph = {
    format: 'onnx',
    file: '/tmp/tiny.onnx',
    fileBytes: 0,
    opsets: [{ domain: '', version: spec.opset ?? 17 }],
    metadata: {},
    inputs: spec.inputs,
    outputs: spec.outputs,
    nodes,
    values,
    tensors,
    hierarchy: [],
    params: 0,
    paramBytes: 0,
    warnings: [],
  };
  return {
    graph,
    async readTensor(name: string) {
      const t = spec.inits?.[name] ?? attrTensors.get(name);
      if (!t) throw new Error(`no tensor ${name}`);
      return { info: info(name, t), data: t.data };
    },
  };
}

const int = (value: number): AttributeValue => ({ type: 'int', value });
const ints = (value: number[]): AttributeValue => ({ type: 'ints', value });
const float = (value: number): AttributeValue => ({ type: 'float', value });
const str = (value: string): AttributeValue => ({ type: 'string', value });

/** Deterministic uniform [lo, hi) values (mulberry32), default [−1, 1). */
const seeded = (n: number, seed: number, lo = -1, hi = 1): Float32Array => seededUniform(n, seed, lo, hi);

const f32 = (shape: number[], seed: number): TinyInit => ({ dtype: 'float32', shape, data: seeded(shape.reduce((a, b) => a * b, 1), seed) });
const i64 = (vals: number[]): TinyInit => ({ dtype: 'int64', shape: [vals.length], data: BigInt64Array.from(vals.map(BigInt)) });

async function run1(model: LoadedModel, feeds: Record<string, tf.Tensor>): Promise<tf.Tensor> {
  const ex = await TfjsGraphExecutor.create(model);
  try {
    return ex.run(feeds, [model.graph.outputs[0]])[0];
  } finally {
    ex.dispose();
  }
}

before(async () => {
  await resolveBackend({ force: 'cpu' });
});

describe('support reporting', () => {
  const model = tinyModel({
    inputs: ['x'],
    outputs: ['z'],
    nodes: [
      { op: 'Frobnicate', inputs: ['x'], outputs: ['a'] },
      { op: 'Frobnicate', inputs: ['a'], outputs: ['b'] },
      { op: 'FusedConv', domain: 'com.microsoft', inputs: ['b'], outputs: ['c'] },
      { op: 'Relu', inputs: ['c'], outputs: ['z'] },
    ],
  });

  it('lists unsupported op types by name, most used first', () => {
    assert.deepEqual(checkSupported(model.graph), ['Frobnicate', 'com.microsoft.FusedConv']);
    assert.deepEqual(unsupportedOps(model.graph).map((u) => [u.op, u.count]), [
      ['Frobnicate', 2],
      ['com.microsoft.FusedConv', 1],
    ]);
  });

  it('refuses to build an executor, naming each op and its count, before reading any tensor', async () => {
    let reads = 0;
    const counting: LoadedModel = { graph: model.graph, readTensor: async (n) => (reads++, model.readTensor(n)) };
    await assert.rejects(TfjsGraphExecutor.create(counting), (e: unknown) => {
      assert.ok(e instanceof UnsupportedOpsError);
      assert.match(e.message, /Frobnicate ×2, com\.microsoft\.FusedConv ×1/);
      return true;
    });
    assert.equal(reads, 0);
  });
});

describe('executor', () => {
  // y = Relu(x·W + b); z = y + x2 (a second input that bypasses the cut at y)
  const model = tinyModel({
    inputs: ['x', 'x2'],
    outputs: ['z'],
    inits: { W: f32([3, 2], 1), b: f32([2], 2) },
    nodes: [
      { op: 'MatMul', inputs: ['x', 'W'], outputs: ['h'] },
      { op: 'Add', inputs: ['h', 'b'], outputs: ['pre'] },
      { op: 'Relu', inputs: ['pre'], outputs: ['y'] },
      { op: 'Add', inputs: ['y', 'x2'], outputs: ['z'] },
    ],
  });

  it('runs from inputs and from a cut, and leaks no tensors', async () => {
    const ex = await TfjsGraphExecutor.create(model);
    const x = tf.tensor([[1, 2, 3]]);
    const x2 = tf.tensor([[10, 20]]);
    const before = tf.memory().numTensors;
    const [z, y] = ex.run({ x, x2 }, ['z', 'y']);
    assert.equal(tf.memory().numTensors, before + 2);
    const [z2] = ex.runFrom({ y, x2 }, ['z']);
    assert.deepEqual(Array.from(z2.dataSync()), Array.from(z.dataSync()));
    // Fetching a given value returns a copy the caller owns.
    const [same] = ex.runFrom({ y, x2 }, ['y']);
    assert.notEqual(same, y);
    for (const t of [z, y, z2, same]) t.dispose();
    assert.equal(tf.memory().numTensors, before);
    ex.dispose();
    x.dispose();
    x2.dispose();
  });

  it('says what is missing or unknown', async () => {
    const ex = await TfjsGraphExecutor.create(model);
    const y = tf.tensor([[1, 2]]);
    assert.throws(() => ex.runFrom({ y }, ['z']), /needs 'x2', which was not given/);
    assert.throws(() => ex.run({ y }, ['z']), /'y' is not graph input\(s\).*runFrom/);
    assert.throws(() => ex.runFrom({ nope: y }, ['z']), /no value named 'nope'/);
    assert.throws(() => ex.runFrom({ y }, ['nope']), /no value named 'nope'/);
    y.dispose();
    ex.dispose();
    assert.throws(() => ex.run({}, ['z']), /disposed/);
  });

  it('names the node when an op fails', async () => {
    const bad = tinyModel({
      inputs: ['x'],
      outputs: ['y'],
      inits: { s: i64([5, 7]) },
      nodes: [{ op: 'Reshape', inputs: ['x', 's'], outputs: ['y'] }],
    });
    const x = tf.ones([2, 3]);
    await assert.rejects(run1(bad, { x }), (e: unknown) => e instanceof TranslatorError && /node 'Reshape_0' \(Reshape\): cannot reshape \[2,3\]/.test(e.message));
    x.dispose();
  });
});

describe('int64', () => {
  it('saturates ±2^63 sentinels and refuses other values beyond int32', () => {
    assert.equal(int64ToInt32(9223372036854775807n, 'v'), 2147483647);
    assert.equal(int64ToInt32(-9223372036854775807n, 'v'), -2147483648);
    assert.equal(int64ToInt32(-5n, 'v'), -5);
    assert.throws(() => int64ToInt32(2n ** 40n, 'ends'), (e: unknown) => e instanceof TranslatorError && e.code === 'int64-overflow' && /ends: the int64 value 1099511627776/.test(e.message));
  });

  it('slices with INT64_MAX ends and a negative step on an int64 shape tensor', async () => {
    const model = tinyModel({
      inputs: ['x'],
      outputs: ['y'],
      inits: { starts: i64([-1]), ends: { dtype: 'int64', shape: [1], data: BigInt64Array.from([-9223372036854775807n]) }, axes: i64([0]), steps: i64([-2]) },
      nodes: [
        { op: 'Shape', inputs: ['x'], outputs: ['s'] },
        { op: 'Slice', inputs: ['s', 'starts', 'ends', 'axes', 'steps'], outputs: ['y'] },
      ],
    });
    const x = tf.zeros([2, 3, 4, 5, 6]);
    const y = await run1(model, { x });
    assert.equal(y.dtype, 'int32');
    assert.deepEqual(Array.from(y.dataSync()), [6, 4, 2]);
    y.dispose();
    x.dispose();
  });

  it('raises an int64 overflow only when the offending initializer is used', async () => {
    const model = tinyModel({
      inputs: ['x'],
      outputs: ['y'],
      inits: { big: i64([2 ** 40]) },
      nodes: [{ op: 'Add', inputs: ['x', 'big'], outputs: ['y'] }],
    });
    const ex = await TfjsGraphExecutor.create(model);
    const x = tf.tensor([1], [1], 'int32');
    assert.throws(() => ex.run({ x }, ['y']), /value 'big' is a int64 initializer: .*does not fit int32/);
    x.dispose();
    ex.dispose();
  });
});

describe('opset-dependent semantics', () => {
  const x = (): tf.Tensor => tf.tensor(seeded(24, 3), [2, 3, 4]);
  it('Softmax < 13 normalises the flattened trailing dims; ≥ 13 only the axis', async () => {
    const mk = (opset: number): LoadedModel =>
      tinyModel({ opset, inputs: ['x'], outputs: ['y'], nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: int(1) } }] });
    const xi = x();
    const old = await run1(mk(11), { x: xi });
    const neu = await run1(mk(13), { x: xi });
    const sum = (t: tf.Tensor, axes: number[]): number[] => Array.from(tf.sum(t, axes).dataSync());
    sum(old, [1, 2]).forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5));
    sum(neu, [1]).forEach((v) => assert.ok(Math.abs(v - 1) < 1e-5));
    assert.ok(Math.abs(sum(old, [1])[0] - 1) > 1e-3, 'opset 11 does not normalise axis 1 alone');
    for (const t of [xi, old, neu]) t.dispose();
  });

  it('ReduceSum takes axes as an attribute before 13 and as an input from 13', async () => {
    const xi = x();
    const a = await run1(tinyModel({ opset: 11, inputs: ['x'], outputs: ['y'], nodes: [{ op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { axes: ints([1]), keepdims: int(0) } }] }), { x: xi });
    const b = await run1(
      tinyModel({ opset: 13, inputs: ['x'], outputs: ['y'], inits: { ax: i64([1]) }, nodes: [{ op: 'ReduceSum', inputs: ['x', 'ax'], outputs: ['y'], attrs: { keepdims: int(0) } }] }),
      { x: xi },
    );
    assert.deepEqual(a.shape, [2, 4]);
    assert.deepEqual(Array.from(a.dataSync()), Array.from(b.dataSync()));
    for (const t of [xi, a, b]) t.dispose();
  });
});

// ---- per-op gradients vs central finite differences ----

interface GradCase {
  name: string;
  nodes: TinyNode[];
  /** Differentiated inputs (float) with their shapes; other operands are initializers. */
  x: Record<string, number[]>;
  inits?: Record<string, TinyInit>;
  opset?: number;
}

const conv = (attrs: Record<string, AttributeValue>): TinyNode => ({ op: 'Conv', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs });
const GRAD_CASES: GradCase[] = [
  { name: 'Conv group=2 strides=2 dilations=2 asymmetric pads', nodes: [conv({ group: int(2), strides: ints([2, 2]), dilations: ints([2, 2]), pads: ints([1, 0, 2, 1]) })], x: { x: [1, 4, 7, 7], w: [4, 2, 3, 3] }, inits: { b: f32([4], 9) } },
  { name: 'Conv depthwise (group=C, multiplier 2) SAME_UPPER', nodes: [conv({ group: int(3), auto_pad: str('SAME_UPPER'), strides: ints([2, 1]) })], x: { x: [1, 3, 5, 6], w: [6, 1, 3, 3] }, inits: { b: f32([6], 9) } },
  { name: 'Conv 1-d', nodes: [conv({ pads: ints([1, 1]) })], x: { x: [2, 2, 9], w: [3, 2, 3] }, inits: { b: f32([3], 9) } },
  {
    name: 'ConvTranspose strides=2 pads output_padding group=2',
    nodes: [{ op: 'ConvTranspose', inputs: ['x', 'w', 'b'], outputs: ['y'], attrs: { strides: ints([2, 2]), pads: ints([1, 0, 0, 1]), output_padding: ints([1, 0]), group: int(2) } }],
    x: { x: [1, 4, 3, 3], w: [4, 1, 3, 2] },
    inits: { b: f32([2], 9) },
  },
  { name: 'MaxPool 3×3 s2 pads ceil_mode', nodes: [{ op: 'MaxPool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: ints([3, 3]), strides: ints([2, 2]), pads: ints([1, 1, 1, 1]), ceil_mode: int(1) } }], x: { x: [1, 2, 6, 6] } },
  { name: 'AveragePool count_include_pad=0', nodes: [{ op: 'AveragePool', inputs: ['x'], outputs: ['y'], attrs: { kernel_shape: ints([3, 2]), strides: ints([2, 2]), pads: ints([1, 0, 1, 1]) } }], x: { x: [1, 2, 5, 6] } },
  { name: 'GlobalAveragePool', nodes: [{ op: 'GlobalAveragePool', inputs: ['x'], outputs: ['y'] }], x: { x: [2, 3, 4, 4] } },
  { name: 'BatchNormalization', nodes: [{ op: 'BatchNormalization', inputs: ['x', 's', 'b', 'm', 'v'], outputs: ['y'] }], x: { x: [2, 3, 2, 2], s: [3] }, inits: { b: f32([3], 1), m: f32([3], 2), v: { dtype: 'float32', shape: [3], data: seeded(3, 3, 0.5, 2) } } },
  { name: 'LayerNormalization', nodes: [{ op: 'LayerNormalization', inputs: ['x', 's', 'b'], outputs: ['y'] }], x: { x: [2, 3, 5], s: [5], b: [5] } },
  { name: 'Softmax axis=1 (opset 13)', nodes: [{ op: 'Softmax', inputs: ['x'], outputs: ['y'], attrs: { axis: int(1) } }], x: { x: [2, 4, 3] } },
  { name: 'LogSoftmax (opset 11)', opset: 11, nodes: [{ op: 'LogSoftmax', inputs: ['x'], outputs: ['y'] }], x: { x: [2, 3, 4] } },
  { name: 'MatMul batched broadcast', nodes: [{ op: 'MatMul', inputs: ['a', 'b'], outputs: ['y'] }], x: { a: [2, 1, 3, 4], b: [5, 4, 2] } },
  { name: 'Gemm transA transB alpha beta', nodes: [{ op: 'Gemm', inputs: ['a', 'b', 'c'], outputs: ['y'], attrs: { transA: int(1), transB: int(1), alpha: float(0.5), beta: float(2) } }], x: { a: [4, 3], b: [5, 4], c: [5] } },
  { name: 'Gather negative indices', nodes: [{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: int(1) } }], x: { x: [2, 5] }, inits: { i: { dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([-1n, 0n, 2n, -1n]) } } },
  { name: 'GatherElements', nodes: [{ op: 'GatherElements', inputs: ['x', 'i'], outputs: ['y'], attrs: { axis: int(1) } }], x: { x: [2, 3] }, inits: { i: { dtype: 'int64', shape: [2, 2], data: BigInt64Array.from([2n, -3n, 1n, 1n]) } } },
  { name: 'Slice negative step', nodes: [{ op: 'Slice', inputs: ['x', 's', 'e', 'a', 'st'], outputs: ['y'] }], x: { x: [3, 7] }, inits: { s: i64([-1]), e: i64([0]), a: i64([1]), st: i64([-2]) } },
  { name: 'Pad reflect', nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode: str('reflect') } }], x: { x: [2, 4] }, inits: { p: i64([0, 2, 1, 1]) } },
  { name: 'Pad edge', nodes: [{ op: 'Pad', inputs: ['x', 'p'], outputs: ['y'], attrs: { mode: str('edge') } }], x: { x: [2, 4] }, inits: { p: i64([1, 0, 0, 2]) } },
  {
    name: 'Where(Less(x, 0), x, x·x) (comparison on the gradient path)',
    nodes: [
      { op: 'Less', inputs: ['x', 'zero'], outputs: ['c'] },
      { op: 'Mul', inputs: ['x', 'x'], outputs: ['sq'] },
      { op: 'Where', inputs: ['c', 'x', 'sq'], outputs: ['y'] },
    ],
    x: { x: [3, 4] },
    inits: { zero: { dtype: 'float32', shape: [], data: Float32Array.of(0) } },
  },
  { name: 'TopK values (axis 0, smallest)', nodes: [{ op: 'TopK', inputs: ['x', 'k'], outputs: ['y', 'idx'], attrs: { axis: int(0), largest: int(0) } }], x: { x: [5, 3] }, inits: { k: i64([2]) } },
  { name: 'Resize linear half_pixel', nodes: [{ op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['y'], attrs: { mode: str('linear') } }], x: { x: [1, 2, 3, 4] }, inits: { sc: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 2, 1.5) } } },
  { name: 'Resize cubic align_corners', nodes: [{ op: 'Resize', inputs: ['x', '', 'sc'], outputs: ['y'], attrs: { mode: str('cubic'), coordinate_transformation_mode: str('align_corners') } }], x: { x: [1, 1, 4, 4] }, inits: { sc: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 1, 1.5, 0.75) } } },
  { name: 'Expand, Tile, Concat, Split, Transpose', nodes: [
    { op: 'Expand', inputs: ['x', 'shape'], outputs: ['e'] },
    { op: 'Tile', inputs: ['e', 'reps'], outputs: ['t'] },
    { op: 'Split', inputs: ['t', 'sp'], outputs: ['s1', 's2'], attrs: { axis: int(2) } },
    { op: 'Concat', inputs: ['s2', 's1'], outputs: ['c'], attrs: { axis: int(2) } },
    { op: 'Transpose', inputs: ['c'], outputs: ['y'], attrs: { perm: ints([2, 0, 1]) } },
  ], x: { x: [3, 1] }, inits: { shape: i64([2, 1, 4]), reps: i64([1, 1, 2]), sp: i64([3, 5]) } },
  { name: 'Erf, HardSwish, Clip, CumSum, Elu', nodes: [
    { op: 'Erf', inputs: ['x'], outputs: ['a'] },
    { op: 'HardSwish', inputs: ['x'], outputs: ['b'] },
    { op: 'Clip', inputs: ['x', 'lo', 'hi'], outputs: ['c'] },
    { op: 'Elu', inputs: ['x'], outputs: ['d'] },
    { op: 'Sum', inputs: ['a', 'b', 'c', 'd'], outputs: ['s'] },
    { op: 'CumSum', inputs: ['s', 'ax'], outputs: ['y'], attrs: { reverse: int(1) } },
  ], x: { x: [2, 6] }, inits: { lo: { dtype: 'float32', shape: [], data: Float32Array.of(-0.5) }, hi: { dtype: 'float32', shape: [], data: Float32Array.of(0.6) }, ax: i64([1]) } },
  { name: 'SoftmaxCrossEntropyLoss mean, weights, ignore_index', nodes: [{ op: 'SoftmaxCrossEntropyLoss', inputs: ['x', 't', 'w'], outputs: ['y'], attrs: { ignore_index: int(1) } }], x: { x: [3, 4, 2] }, inits: { t: { dtype: 'int64', shape: [3, 2], data: BigInt64Array.from([0n, 1n, 3n, 2n, 1n, 0n]) }, w: { dtype: 'float32', shape: [4], data: Float32Array.of(1, 2, 0.5, 3) } } },
  { name: 'GatherND batch_dims=1', nodes: [{ op: 'GatherND', inputs: ['x', 'i'], outputs: ['y'], attrs: { batch_dims: int(1) } }], x: { x: [2, 3, 4] }, inits: { i: { dtype: 'int64', shape: [2, 2, 1], data: BigInt64Array.from([2n, -3n, 1n, 1n]) } } },
  { name: 'ReduceProd / ReduceLogSumExp / ReduceL2', nodes: [
    { op: 'ReduceProd', inputs: ['x'], outputs: ['a'], attrs: { axes: ints([1]), keepdims: int(0) } },
    { op: 'ReduceLogSumExp', inputs: ['x'], outputs: ['b'], attrs: { axes: ints([1]), keepdims: int(0) } },
    { op: 'ReduceL2', inputs: ['x'], outputs: ['c'], attrs: { axes: ints([1]), keepdims: int(0) } },
    { op: 'Sum', inputs: ['a', 'b', 'c'], outputs: ['y'] },
  ], x: { x: [3, 4] }, opset: 13 },
];

describe('gradients of individual ops vs central finite differences', () => {
  for (const c of GRAD_CASES) {
    it(c.name, async () => {
      for (const n of c.nodes) assert.ok(OPS[n.op], `${n.op} is in the op table`);
      const model = tinyModel({ opset: c.opset, inputs: Object.keys(c.x), outputs: ['y'], nodes: c.nodes, inits: c.inits });
      const ex = await TfjsGraphExecutor.create(model);
      const given: Record<string, tf.Tensor> = {};
      Object.entries(c.x).forEach(([name, shape], k) => (given[name] = tf.tensor(seeded(shape.reduce((a, b) => a * b, 1), 17 + k, -2, 2), shape)));
      const [y0] = ex.run(given, ['y']);
      const w = tf.tensor(seeded(y0.size, 5), y0.shape);
      const wv = Array.from(w.dataSync());
      y0.dispose();
      const S = (vals: Record<string, tf.Tensor>): number => {
        const [y] = ex.run(vals, ['y']);
        const yv = Array.from(y.dataSync() as Float32Array);
        y.dispose();
        return yv.reduce((s, v, i) => s + v * wv[i], 0);
      };
      const names = Object.keys(c.x);
      const { output, grads } = vjp(ex, given, names, 'y', w);
      output.dispose();
      names.forEach((name, k) => {
        const g = Array.from(grads[k].dataSync());
        const x = Array.from(given[name].dataSync());
        const h = 1e-2;
        let worst = 0;
        // Every coordinate (these tensors are small): float32 forward, float64 differences.
        for (let i = 0; i < x.length; i++) {
          const plus = x.slice();
          const minus = x.slice();
          plus[i] += h;
          minus[i] -= h;
          const tp = tf.tensor(plus, given[name].shape);
          const tm = tf.tensor(minus, given[name].shape);
          const fd = (S({ ...given, [name]: tp }) - S({ ...given, [name]: tm })) / (2 * h);
          tp.dispose();
          tm.dispose();
          worst = Math.max(worst, Math.abs(fd - g[i]));
        }
        const scale = Math.max(1, Math.sqrt(g.reduce((s, v) => s + v * v, 0) / g.length));
        assert.ok(worst / scale < 2e-2, `${c.name}: ∂/∂${name} differs from finite differences by ${worst} (gradient RMS ${scale})`);
        grads[k].dispose();
      });
      w.dispose();
      for (const t of Object.values(given)) t.dispose();
      ex.dispose();
    });
  }
});

describe('jacobian', () => {
  it('of y = x·W between two cuts is Wᵀ, row by row', async () => {
    const W = f32([3, 4], 8);
    const model = tinyModel({
      inputs: ['x'],
      outputs: ['z'],
      inits: { W },
      nodes: [
        { op: 'Identity', inputs: ['x'], outputs: ['cut'] },
        { op: 'MatMul', inputs: ['cut', 'W'], outputs: ['z'] },
      ],
    });
    const ex = await TfjsGraphExecutor.create(model);
    const x = tf.tensor(seeded(3, 1), [1, 3]);
    const J = jacobian(ex, x, 'cut', 'z');
    assert.deepEqual(J.shape, [4, 1, 3]);
    const j = J.dataSync();
    const w = W.data as Float32Array;
    for (let r = 0; r < 4; r++) for (let c = 0; c < 3; c++) assert.ok(Math.abs(j[r * 3 + c] - w[c * 4 + r]) < 1e-6);
    const rows = jacobian(ex, { cut: x }, 'cut', 'z', { rows: [2] });
    assert.deepEqual(rows.shape, [1, 1, 3]);
    assert.throws(() => jacobian(ex, x, 'cut', 'z', { rows: [4] }), /row 4 is outside the 4 output elements/);
    for (const t of [x, J, rows]) t.dispose();
    ex.dispose();
  });

  it('gives zeros for an input the output does not depend on', async () => {
    const model = tinyModel({ inputs: ['a', 'b'], outputs: ['y'], nodes: [{ op: 'Exp', inputs: ['a'], outputs: ['y'] }] });
    const ex = await TfjsGraphExecutor.create(model);
    const a = tf.ones([2]);
    const b = tf.ones([3]);
    const r = vjp(ex, { a, b }, ['a', 'b'], 'y', tf.ones([2]));
    assert.deepEqual(Array.from(r.grads[1].dataSync()), [0, 0, 0]);
    for (const t of [a, b, r.output, ...r.grads]) t.dispose();
    ex.dispose();
  });
});

describe('backend resolution', () => {
  // tfjs-node and tfjs-node-gpu are optional and not dependencies of this package (package.json): the
  // priority list must pass over both, skip wasm for gradients, and land on cpu, explaining each step.
  it('skips wasm when gradients are required and explains every candidate', async () => {
    const r = await resolveBackend({ requireGradients: true });
    assert.equal(r.name, 'cpu');
    assert.deepEqual(
      r.attempts.map((a) => `${a.name}: ${a.ok ? 'ok' : a.reason}`),
      [
        'tfjs-node-gpu: @tensorflow/tfjs-node-gpu is not installed',
        'tfjs-node: @tensorflow/tfjs-node is not installed',
        'wasm: skipped: gradients were requested and wasm lacks backward kernels (e.g. Conv2DBackpropFilter)',
        'cpu: ok',
      ],
    );
    await assert.rejects(resolveBackend({ force: 'wasm', requireGradients: true }), (e: unknown) => e instanceof TranslatorError && e.code === 'no-backend' && /wasm: skipped/.test(e.message));
  });

  it('loads wasm with its .wasm files located in node_modules, and cpu', async () => {
    const w = await resolveBackend({ force: 'wasm' });
    assert.equal(w.name, 'wasm');
    assert.equal(tf.getBackend(), 'wasm');
    const c = await resolveBackend({ force: 'cpu' });
    assert.equal(c.tfjsName, 'cpu');
  });

  it('reports a missing optional package as not installed (tfjs-node is optional)', async () => {
    await assert.rejects(
      resolveBackend({ force: 'tfjs-node' }),
      (e: unknown) =>
        e instanceof TranslatorError &&
        e.code === 'no-backend' &&
        e.message === 'no tfjs backend could be initialised (forced: tfjs-node): tfjs-node: @tensorflow/tfjs-node is not installed',
    );
    await resolveBackend({ force: 'cpu' });
  });
});

describe('docs/ops.md', () => {
  it('holds exactly the op table', () => {
    const file = path.join(__dirname, '..', '..', 'docs', 'ops.md');
    const text = fs.readFileSync(file, 'utf8');
    const m = /<!-- ops:begin -->\n([\s\S]*?)\n<!-- ops:end -->/.exec(text);
    assert.ok(m, 'docs/ops.md has the <!-- ops:begin --> … <!-- ops:end --> markers');
    assert.equal(m[1], renderOpsTable(), 'docs/ops.md is stale: paste renderOpsTable() between the markers');
  });
});
