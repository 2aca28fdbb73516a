/**
 * Runtime errors (onnxruntime-node, tfjs) become one typed line naming the model file and the node, cleaned
 * of source paths, ANSI colours and log prefixes; anything untyped crosses the engine boundary as one line
 * without a stack.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { toPayload } from '../../src/engine/errors';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';
import { loadModel } from '../../src/model/load';
import { createOrtSession } from '../../src/model/runtime/ort';
import { cleanRuntimeMessage, ModelRuntimeError, ortError, tfjsError } from '../../src/model/runtime/runtimeError';
import { createTfjsSession } from '../../src/model/runtime/tfjsModels';

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-rterr-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));
const repo = path.join(__dirname, '..', '..');

const M = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
const vi = (name: string, dims: (number | string)[]): object => ({
  name,
  type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
});
/** x [batch, k] · W [5, 3]: shape inference cannot see a mismatch (k is symbolic), the run does. */
function matmulModel(xDims: (number | string)[]): Uint8Array {
  return M.encode(
    M.fromObject({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        node: [{ name: '/fc/MatMul', op_type: 'MatMul', input: ['x', 'W'], output: ['y'] }],
        initializer: [{ name: 'W', data_type: 1, dims: [5, 3], float_data: new Array(15).fill(0.5) }],
        input: [vi('x', xDims)],
        output: [vi('y', ['batch', 3])],
      },
    }),
  ).finish();
}

const oneLine = (s: string): void => {
  assert.ok(!s.includes('\u001b'), s);
  assert.doesNotMatch(s, /\n|onnxruntime_src|\bat .*:\d+:\d+|undefined|\[object Object\]/, s);
};

describe('runtime errors', () => {
  it('cleans onnxruntime messages: log prefix, ANSI colours, status prefix and source paths', () => {
    const raw =
      "\u001b[1;31m2026-12-06 20:45:25.123456789 [E:onnxruntime:, sequential_executor.cc:516 ExecuteKernel] Non-zero status code returned while running MatMul node. Name:'/fc/MatMul' Status Message: /onnxruntime_src/onnxruntime/core/providers/cpu/math/matmul_helper.h:61 onnxruntime::common::Status onnxruntime::MatMulComputeHelper::Compute(const onnxruntime::TensorShape&, const onnxruntime::TensorShape&, bool, bool, bool, bool) left operand cannot broadcast on dim 1\u001b[m\n    at Immediate.<anonymous> (/x/backend.js:1:2)";
    const clean = cleanRuntimeMessage(raw);
    oneLine(clean);
    assert.match(clean, /^Non-zero status code returned while running MatMul node\. Name:'\/fc\/MatMul' Status Message: left operand cannot broadcast on dim 1$/);
    const e = ortError(new Error(raw), 'run', '/models/m.onnx') as ModelRuntimeError;
    assert.equal(e.node, '/fc/MatMul');
    assert.equal(e.message, "/models/m.onnx: onnxruntime failed running the model at node '/fc/MatMul': MatMul: left operand cannot broadcast on dim 1");
    // Release builds name the file without its path, then the function.
    assert.equal(cleanRuntimeMessage('Status Message: matmul_helper.h:59 Compute MatMul dimension mismatch'), 'Status Message: MatMul dimension mismatch');
    const s = ortError(new Error('[ONNXRuntimeError] : 1 : FAIL : Node (/fc/MatMul) Op (MatMul) [ShapeInferenceError] Incompatible dimensions'), 'session', 'm.onnx');
    assert.equal(s.message, "m.onnx: onnxruntime could not load the model at node '/fc/MatMul': Op (MatMul) [ShapeInferenceError] Incompatible dimensions");
  });

  it("tfjs's unformatted values and internal engine errors are put in words", () => {
    const e = tfjsError(new Error('[object Object] is not a valid FanMode. Valid values are fanIn,fanOut,fanAvg or null/undefined.'), 'session', 'm.json');
    assert.equal(e.message, 'm.json: tfjs could not load the model: an object is not a valid FanMode. Valid values are fanIn,fanOut,fanAvg or null.');
    const big = tfjsError(new RangeError('Invalid typed array length: 128000000000'), 'session', 'm.json');
    assert.equal(big.message, 'm.json: tfjs could not load the model: a tensor the model declares is too large to allocate (check its layer sizes and input shape)');
    const t = tfjsError(new TypeError("Cannot read properties of undefined (reading 'x')"), 'run', 'm.json');
    assert.match(t.message, /^m\.json: tfjs failed running the model: the runtime stopped on a model configuration it cannot interpret \(an internal TypeError\)/);
  });

  it('onnxruntime refusing a model names the file and the node', async () => {
    await assert.rejects(createOrtSession(matmulModel(['batch', 4]), { provider: 'cpu', file: '/models/bad.onnx' }), (e: unknown) => {
      assert.ok(e instanceof ModelRuntimeError, String(e));
      assert.equal(e.code, 'session');
      assert.equal(e.node, '/fc/MatMul');
      assert.match(e.message, /^\/models\/bad\.onnx: onnxruntime could not load the model at node '\/fc\/MatMul': .*Incompatible dimensions/);
      oneLine(e.message);
      return true;
    });
  });

  it('a batch failing inside onnxruntime names the file and the node', async () => {
    const s = await createOrtSession(matmulModel(['batch', 'k']), { provider: 'cpu', file: '/models/late.onnx' });
    try {
      await assert.rejects(s.run({ x: { dtype: 'float32', data: new Float32Array(8), dims: [2, 4] } }), (e: unknown) => {
        assert.ok(e instanceof ModelRuntimeError, String(e));
        assert.equal(e.code, 'run');
        assert.equal(e.node, '/fc/MatMul');
        assert.match(e.message, /^\/models\/late\.onnx: onnxruntime failed running the model at node '\/fc\/MatMul': /);
        oneLine(e.message);
        return true;
      });
    } finally {
      await s.release();
    }
  });

  it('tfjs refusing a model it cannot rebuild names the file', async () => {
    const dir = path.join(tmp, 'tfjs');
    fs.mkdirSync(dir);
    const src = path.join(repo, 'examples', 'mlp-tfjs');
    for (const f of fs.readdirSync(src)) fs.copyFileSync(path.join(src, f), path.join(dir, f));
    const json = JSON.parse(fs.readFileSync(path.join(dir, 'model.json'), 'utf8')) as { modelTopology: { config: { layers: { config: Record<string, unknown> }[] } } };
    json.modelTopology.config.layers[1].config.activation = 'no_such_activation';
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    const m = await loadModel(path.join(dir, 'model.json'));
    await assert.rejects(createTfjsSession(m.graph, [], 'cpu'), (e: unknown) => {
      assert.ok(e instanceof ModelRuntimeError, String(e));
      assert.equal(e.runtime, 'tfjs');
      assert.ok(e.message.startsWith(`${path.join(dir, 'model.json')}: tfjs could not load the model`), e.message);
      assert.match(e.message, /Unknown activation: noSuchActivation/);
      oneLine(e.message);
      return true;
    });
  });

  it('untyped errors cross the engine boundary as one line without a stack', () => {
    let range: unknown;
    try {
      new Float32Array(128_000_000_000);
    } catch (e) {
      range = e;
    }
    const p = toPayload(range);
    assert.equal(p.name, 'InternalError');
    assert.equal(p.detail, undefined);
    assert.match(p.message, /^internal error \(RangeError\): Invalid typed array length: 128000000000$/);
    const o = toPayload({ weird: true });
    assert.equal(o.message, 'internal error: {"weird":true}');
    const r = toPayload(new ModelRuntimeError('run', 'onnxruntime', 'm.onnx', 'boom', 'n1'));
    assert.deepEqual(r, { name: 'ModelRuntimeError', message: "m.onnx: onnxruntime failed running the model at node 'n1': boom", code: 'run', file: 'm.onnx', detail: "node 'n1': boom" });
  });
});
