/**
 * The ONNX autodiff's graph-level contract: typed errors (unknown name, non-float source, op without a rule
 * naming the node, a rule not expressible at the model's opset), the input proto left untouched, generated
 * names that avoid the model's own, zeros for a source the objective does not depend on, a scalar objective,
 * pruning (only nodes between sources and objective are differentiated), and the opset never raised.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { AutodiffError, buildGradientModel, supportedGradientOps } from '../../src/model/autodiff';
import { encodeModelProto } from '../../src/model/formats/onnx';
import { createOrtGradSession } from '../../src/model/runtime/ortGrad';
import { rng, tinyModel, type TinySpec } from '../helpers/onnxTiny';

const spec = (nodes: TinySpec['nodes'], inputs: TinySpec['inputs'] = { x: [2, 3] }, opset = 17, extra: Partial<TinySpec> = {}): TinySpec => ({
  opset,
  inputs,
  nodes,
  output: 'y',
  ...extra,
});
const model = (s: TinySpec) => tinyModel(s, 'float64', rng(1));

function throwsCode(f: () => unknown, code: string, re: RegExp): void {
  assert.throws(f, (e: unknown) => {
    assert.ok(e instanceof AutodiffError, `expected an AutodiffError, found ${String(e)}`);
    assert.equal(e.code, code);
    assert.match(e.message, re);
    assert.doesNotMatch(e.message, /undefined|\[object Object\]/);
    return true;
  });
}

describe('autodiff graph contract', () => {
  it('unknown names are refused, listing them', () => {
    const m = model(spec([{ op: 'Exp', inputs: ['x'], outputs: ['y'] }]));
    throwsCode(() => buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['nope'] }), 'unknown-name', /'nope'/);
    throwsCode(() => buildGradientModel(m, { objective: { scalar: 'zz' }, sources: ['x'] }), 'unknown-name', /'zz'/);
  });

  it('a non-float source is refused', () => {
    const m = model(spec([{ op: 'Gather', inputs: ['x', 'i'], outputs: ['y'] }], { x: [4, 3] }, 17, { inits: { i: { shape: [2], data: [0, 1], elem: 'int64' } } }));
    throwsCode(() => buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['i'] }), 'non-float', /'i'.*element type 7/);
  });

  it('an op without a rule on the differentiable path names the node and op; off the path it is ignored', () => {
    const m = model(spec([{ op: 'Atan', inputs: ['x'], outputs: ['s'] }, { op: 'Exp', inputs: ['s'], outputs: ['y'] }]));
    throwsCode(() => buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['x'] }), 'unsupported-op', /node 'Atan_0' \(Atan\)/);
    // With the cut at s, Atan is upstream of every source: not differentiated.
    const g = buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['s'] });
    assert.ok(g.grads.s);
  });

  it('a rule that needs a newer opset is a typed error, and the opset is never raised', () => {
    // Add with an operand of unknown shape at opset 9 needs a Slice with run-time bounds (10) or ReduceSum's axes
    // as an input (13).
    const m = model(spec([{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }], { x: [2, 3], b: ['N', 'M'] }, 9));
    throwsCode(() => buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['b'] }), 'unsupported-case', /opset ≥ 13.*imports 9/);
    const ok = buildGradientModel(model(spec([{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }], { x: [2, 3], b: [3] }, 11)), { objective: { seeds: ['y'] }, sources: ['b'] });
    assert.deepEqual(ok.model.opset_import, [{ domain: '', version: 11 }]);
    assert.ok(ok.model.graph!.node!.every((n) => !(n.op_type === 'ReduceSum' && (n.input ?? []).length > 1)), 'ReduceSum with attribute axes at opset 11');
  });

  it('a float input a rule does not differentiate, or an output it ignores, reaching the objective is refused', () => {
    // Clip's bounds carry no gradient in its rule: a source upstream of one must not get a silent zero.
    const clip = model(spec([{ op: 'Neg', inputs: ['x'], outputs: ['lo'] }, { op: 'Clip', inputs: ['z', 'lo'], outputs: ['y'] }], { x: [], z: [2, 3] }, 13));
    throwsCode(() => buildGradientModel(clip, { objective: { seeds: ['y'] }, sources: ['x'] }), 'unsupported-case', /node 'Clip_1' \(Clip\).*input 1 \('lo'\)/);
    // LayerNormalization's Mean output on the path to the objective.
    const ln = model(
      spec([{ op: 'LayerNormalization', inputs: ['x', 's'], outputs: ['n', 'mean'] }, { op: 'Sum', inputs: ['n', 'mean'], outputs: ['y'] }], { x: [2, 3], s: [3] }, 17),
    );
    throwsCode(() => buildGradientModel(ln, { objective: { seeds: ['y'] }, sources: ['x'] }), 'unsupported-case', /LayerNormalization.*output 1 \('mean'\)/);
  });

  it('static shapes give the static form (no run-time reduction ops), unknown ones the dynamic form', () => {
    const nodes = [{ op: 'Add', inputs: ['x', 'b'], outputs: ['y'] }];
    const ops = (m: ReturnType<typeof model>) => new Set(buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['b'] }).model.graph!.node!.map((n) => n.op_type));
    const known = ops(model(spec(nodes, { x: [2, 3], b: [3] })));
    assert.ok(!known.has('NonZero') && !known.has('Shape'), `static: ${[...known].join(', ')}`);
    const unknown = ops(model(spec(nodes, { x: ['N', 3], b: ['M', 'K'] })));
    assert.ok(unknown.has('NonZero'), `dynamic: ${[...unknown].join(', ')}`);
  });

  it('does not mutate the input proto', () => {
    const m = model(spec([{ op: 'Mul', inputs: ['x', 'x'], outputs: ['m'] }, { op: 'Softmax', inputs: ['m'], outputs: ['y'] }]));
    const before = Buffer.from(encodeModelProto(m)).toString('hex');
    const counts = [m.graph!.node!.length, m.graph!.input!.length, m.graph!.output!.length];
    buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['x', 'm'], outputs: ['m'] });
    assert.equal(Buffer.from(encodeModelProto(m)).toString('hex'), before);
    assert.deepEqual([m.graph!.node!.length, m.graph!.input!.length, m.graph!.output!.length], counts);
  });

  it('generated names avoid the names the model already uses', async () => {
    const taken = ['__grad_mul_0', '__grad_seed_y_0', '__grad_grad_x_1', '__grad_n_Mul_1'];
    const m = model(
      spec([
        { op: 'Exp', inputs: ['x'], outputs: [taken[0]] },
        { op: 'Mul', inputs: [taken[0], 'x'], outputs: [taken[1]] },
        { op: 'Identity', inputs: [taken[1]], outputs: [taken[2]] },
        { op: 'Neg', inputs: [taken[2]], outputs: ['y'] },
      ]),
    );
    m.graph!.node![1].name = taken[3];
    const g = buildGradientModel(m, { objective: { seeds: ['y'] }, sources: ['x'] });
    const outputs = new Map<string, number>();
    for (const n of g.model.graph!.node!) for (const o of n.output ?? []) outputs.set(o, (outputs.get(o) ?? 0) + 1);
    assert.ok([...outputs.values()].every((c) => c === 1), 'every value produced once');
    const names = g.model.graph!.node!.map((n) => n.name).filter((n) => n);
    assert.equal(new Set(names).size, names.length, 'node names unique');
    for (const t of taken) assert.ok(!Object.values(g.grads).includes(t) && !Object.values(g.seeds).includes(t));
    const s = await createOrtGradSession(m, { objective: { seeds: ['y'] }, sources: ['x'] }, { provider: 'cpu' });
    const x = Float64Array.from([0.1, -0.2, 0.3, 0.4, -0.5, 0.6]);
    const r = await s.run({ x: { dtype: 'float64', data: x, dims: [2, 3] } }, { y: { dtype: 'float64', data: new Float64Array(6).fill(1), dims: [2, 3] } });
    await s.release();
    // y = −x·eˣ: dy/dx = −(1 + x)·eˣ
    (r.grads.x.data as Float64Array).forEach((g, i) => assert.ok(Math.abs(g + (1 + x[i]) * Math.exp(x[i])) < 1e-12));
  });

  it('a source the objective does not depend on gets zeros; a scalar objective seeds ones', async () => {
    const m = model(
      spec(
        [
          { op: 'ReduceSum', inputs: ['x'], outputs: ['y'], attrs: { keepdims: 0 } },
          { op: 'Exp', inputs: ['z'], outputs: ['unused'] },
        ],
        { x: [2, 3], z: [4] },
      ),
    );
    const s = await createOrtGradSession(m, { objective: { scalar: 'y' }, sources: ['x', 'z', 'unused'], outputs: ['y'] }, { provider: 'cpu' });
    const r = await s.run({ x: { dtype: 'float64', data: new Float64Array(6).fill(2), dims: [2, 3] }, z: { dtype: 'float64', data: new Float64Array(4), dims: [4] } });
    await s.release();
    assert.deepEqual(Array.from(r.grads.x.data as Float64Array), [1, 1, 1, 1, 1, 1]);
    assert.deepEqual(Array.from(r.grads.z.data as Float64Array), [0, 0, 0, 0]);
    assert.deepEqual(r.grads.unused.dims, [4]);
    assert.deepEqual(Array.from(r.outputs.y.data as Float64Array), [12]);
  });

  it('several seeds mean Σ ⟨seedᵢ, valueᵢ⟩, and only nodes between sources and objective get VJPs', async () => {
    // CumSum has no rule: off the path between sources and objective it must not matter.
    const m = model(
      spec(
        [
          { op: 'Exp', inputs: ['x'], outputs: ['a'] },
          { op: 'Mul', inputs: ['a', 'x'], outputs: ['y'] },
          { op: 'CumSum', inputs: ['x', 'ax'], outputs: ['off'] },
        ],
        { x: [2, 3] },
        17,
        { inits: { ax: { shape: [], data: [0], elem: 'int64' } } },
      ),
    );
    const g = buildGradientModel(m, { objective: { seeds: ['a', 'y'] }, sources: ['x'] });
    assert.deepEqual(Object.keys(g.seeds).sort(), ['a', 'y']);
    const s = await createOrtGradSession(m, { objective: { seeds: ['a', 'y'] }, sources: ['x'] }, { provider: 'cpu' });
    const x = Float64Array.from([0.5, -1, 2, 0, 1, -0.5]);
    const one = { dtype: 'float64' as const, data: new Float64Array(6).fill(1), dims: [2, 3] };
    const two = { dtype: 'float64' as const, data: new Float64Array(6).fill(2), dims: [2, 3] };
    const r = await s.run({ x: { dtype: 'float64', data: x, dims: [2, 3] } }, { a: two, y: one });
    await s.release();
    // S = 2·Σeˣ + Σ x·eˣ: dS/dx = 2eˣ + (1 + x)eˣ
    (r.grads.x.data as Float64Array).forEach((v, i) => assert.ok(Math.abs(v - (3 + x[i]) * Math.exp(x[i])) < 1e-12));
  });

  it('lists its supported ops (every op the brief and the real exports need)', () => {
    const ops = new Set(supportedGradientOps());
    for (const op of ['MatMul', 'Gemm', 'Add', 'Sub', 'Mul', 'Div', 'Pow', 'Neg', 'Sqrt', 'Exp', 'Log', 'Abs', 'Reciprocal', 'Softmax', 'LogSoftmax',
      'LayerNormalization', 'Erf', 'Tanh', 'Gelu', 'Relu', 'LeakyRelu', 'Sigmoid', 'HardSigmoid', 'Clip', 'Where', 'Split', 'Gather', 'Reshape',
      'Flatten', 'Transpose', 'Slice', 'Concat', 'Unsqueeze', 'Squeeze', 'Expand', 'Identity', 'Cast', 'Conv', 'MaxPool', 'AveragePool',
      'GlobalAveragePool', 'BatchNormalization', 'ReduceMean', 'ReduceSum']) {
      assert.ok(ops.has(op), op);
    }
  });
});
