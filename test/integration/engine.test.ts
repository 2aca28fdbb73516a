/**
 * The engine through its worker, on the real example checkpoints: graph loading, capture (streamed to an
 * .npz and checked against a plain onnxruntime run), cost estimates, and every bad input — wrong shapes,
 * wrong dtypes, NaN in data, unknown taps, a cancelled job, a crashed or out-of-memory worker — each a clear
 * error that leaves the engine usable.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';
import { EngineError } from '../../src/engine/errors';
import { openNpz, writeNpz } from '../../src/model/datasets';
import type { EngineClient } from '../../src/engine/client';
import { gunzipJoin, repo, testEngine } from '../helpers/engine';
import { decodeGraphWire } from '../../src/shared/graphWire';

const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
const fmnist = path.join(repo, 'examples', 'data', 'fmnist.npz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-engine-'));

const rejectsWith = async (p: Promise<unknown>, name: string, match: RegExp): Promise<void> => {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof EngineError, `expected an EngineError, got ${String(e)}`);
    assert.equal(e.name, name, e.message);
    assert.match(e.message, match);
    return true;
  });
};

describe('engine', () => {
  let engine: EngineClient;
  before(() => {
    engine = testEngine();
  });
  after(() => {
    engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('loads a graph in the worker', async () => {
    const g = await engine.run({ kind: 'loadGraph', model: mlp });
    assert.equal(g.format, 'onnx');
    assert.equal(g.nodes.length, 6);
  });

  it('hands the graph over as JSON bytes in transferred chunks', async () => {
    const r = await engine.run({ kind: 'loadGraphBytes', model: mlp });
    assert.ok(r.chunks.length >= 1 && r.chunks.every((c) => c instanceof Uint8Array));
    assert.equal(r.encoding, 'gzip');
    assert.equal(r.chunks.reduce((a, c) => a + c.byteLength, 0), r.sentBytes);
    const text = gunzipJoin(r.chunks);
    assert.equal(Buffer.byteLength(text), r.byteLength);
    const g = decodeGraphWire(JSON.parse(text));
    assert.equal(g.format, 'onnx');
    assert.equal(g.nodes.length, r.nodes);
    // The wire form leaves out only what it puts back (graphWire.ts): the page gets the engine's IR.
    const direct = await engine.run({ kind: 'loadGraph', model: mlp });
    assert.deepStrictEqual(g, JSON.parse(JSON.stringify(direct)));
  });

  it('previews a weight tensor with stats and a histogram', async () => {
    const t = await engine.run({ kind: 'readTensor', model: mlp, tensor: 'fc1.weight', maxElements: 10 });
    assert.deepEqual(t.shape, [128, 784]);
    assert.equal(t.values.length, 10);
    assert.equal(t.stats!.histogram.counts.reduce((a, b) => a + b, 0), 128 * 784);
  });

  it('captures taps batch by batch into an .npz that matches a plain onnxruntime run', async () => {
    const out = path.join(tmp, 'acts.npz');
    const progress: number[] = [];
    const r = await engine.run(
      { kind: 'capture', model: mlp, data: fmnist, taps: ['/relu2/Relu_output_0', 'logits'], batchSize: 100, limit: 450, out },
      { onProgress: (p) => progress.push(p.done) },
    );
    assert.equal(r.samples, 450);
    assert.equal(r.batches, 5);
    assert.match(r.backend, /onnxruntime-node .* execution provider/);
    assert.deepEqual(r.taps.map((t) => t.sampleShape), [[128], [10]]);
    assert.ok(progress.length > 0 && progress[progress.length - 1] === 450);
    const z = await openNpz(out);
    const acts = await z.read('_relu2_Relu_output_0');
    const logits = await z.read('logits');
    const y = await z.read('y');
    assert.deepEqual(acts.shape, [450, 128]);
    assert.deepEqual(y.shape, [450]);
    // independent check: the same samples through an untouched session
    const data = await openNpz(fmnist);
    const x = await data.readRows('x', 440, 450);
    const s = await ort.InferenceSession.create(mlp);
    const ref = (await s.run({ x: new ort.Tensor('float32', x.data as Float32Array, [10, 1, 28, 28]) })).logits.data as Float32Array;
    const got = (logits.data as Float32Array).subarray(440 * 10, 450 * 10);
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(ref[i] - got[i]) <= 1e-5 * (1 + Math.abs(ref[i])), `logit ${i}`);
    assert.ok(r.taps[0].min >= 0, 'ReLU output is non-negative');
  });

  it('captures from TF.js layers and graph models through tfjs, matching the ONNX twin', async () => {
    await engine.run({ kind: 'capture', model: mlp, data: fmnist, taps: ['logits'], limit: 64, out: path.join(tmp, 'onnx.npz') });
    const tfjs = await engine.run({ kind: 'capture', model: path.join(repo, 'examples', 'mlp-tfjs', 'model.json'), data: fmnist, taps: ['fc3'], limit: 64, out: path.join(tmp, 'tfjs.npz') });
    assert.match(tfjs.backend, /^tfjs .* layers model/);
    const a = (await (await openNpz(path.join(tmp, 'onnx.npz'))).read('logits')).data as Float32Array;
    const b = (await (await openNpz(path.join(tmp, 'tfjs.npz'))).read('fc3_0_0')).data as Float32Array;
    assert.equal(a.length, 640);
    let worst = 0;
    for (let i = 0; i < a.length; i++) worst = Math.max(worst, Math.abs(a[i] - b[i]));
    assert.ok(worst < 1e-4, `max |onnx − tfjs| = ${worst}`);
    const faces = path.join(tmp, 'faces.npz');
    await writeNpz(faces, { x: { dtype: 'float32', shape: [3, 64, 64, 1], data: new Float32Array(3 * 64 * 64).fill(0.5) } });
    const emotion = path.join(repo, 'node_modules', '@vladmandic', 'human-models', 'models', 'emotion.json');
    const g = await engine.run({ kind: 'capture', model: emotion, data: faces, taps: ['StatefulPartitionedCall/model_1/block1_conv1_act/Relu'] });
    assert.match(g.backend, /graph model/);
    assert.deepEqual(g.taps[0].sampleShape, [31, 31, 32]);
    assert.ok(g.taps[0].min >= 0);
  });

  it('estimates cost from a calibration batch', async () => {
    const e = await engine.run({ kind: 'estimate', model: mlp, data: fmnist, taps: ['/relu2/Relu_output_0'], batchSize: 256 });
    assert.equal(e.samples, 5000);
    assert.equal(e.activationBytesPerBatch, 256 * 128 * 4);
    assert.ok(e.expectedMs > 0 && e.peakBytes > 256 * 128 * 4);
  });

  it('reports a wrong input shape with the model expected shape beside the data shape', async () => {
    const flat = path.join(tmp, 'flat.npz');
    await writeNpz(flat, { x: { dtype: 'float32', shape: [4, 784], data: new Float32Array(4 * 784) } });
    await rejectsWith(engine.run({ kind: 'capture', model: mlp, data: flat, taps: ['logits'] }), 'DatasetError', /expects \[batch, 1, 28, 28\] float32.*\[784\]/);
  });

  it('reports a wrong dtype', async () => {
    const ints = path.join(tmp, 'ints.npz');
    await writeNpz(ints, { x: { dtype: 'int64', shape: [2, 1, 28, 28], data: new BigInt64Array(2 * 784) } });
    await rejectsWith(engine.run({ kind: 'capture', model: mlp, data: ints, taps: ['logits'] }), 'DatasetError', /float32/);
  });

  it('reports NaN in the data', async () => {
    const nan = path.join(tmp, 'nan.npz');
    const x = new Float32Array(3 * 784);
    x[784 + 5] = Number.NaN;
    await writeNpz(nan, { x: { dtype: 'float32', shape: [3, 1, 28, 28], data: x } });
    await rejectsWith(engine.run({ kind: 'capture', model: mlp, data: nan, taps: ['logits'] }), 'DatasetError', /NaN|non-finite/i);
  });

  it('reports an unknown tap with the closest names', async () => {
    await rejectsWith(engine.run({ kind: 'capture', model: mlp, data: fmnist, taps: ['/relu9/Relu_output_0'] }), 'TapError', /closest: .*'\/relu2\/Relu_output_0'/);
  });

  it('names unsupported ops before a gradient job runs, and stays usable', async () => {
    // x → Gemm → Mish → Gemm → y: onnxruntime runs Mish (opset 18), the tfjs translator has no Mish
    const M = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
    const w = (name: string, dims: number[]): object => ({ name, data_type: 1, dims, float_data: Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(i + 1)) });
    const vi = (name: string, dims: (number | string)[]): object => ({
      name,
      type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
    });
    const model = path.join(tmp, 'mish.onnx');
    fs.writeFileSync(
      model,
      M.encode(
        M.fromObject({
          ir_version: 8,
          opset_import: [{ domain: '', version: 18 }],
          graph: {
            name: 'mish',
            node: [
              { name: 'fc1', op_type: 'Gemm', input: ['x', 'W1', 'b1'], output: ['h'] },
              { name: 'act', op_type: 'Mish', input: ['h'], output: ['a'] },
              { name: 'fc2', op_type: 'Gemm', input: ['a', 'W2', 'b2'], output: ['y'] },
            ],
            initializer: [w('W1', [4, 5]), w('b1', [5]), w('W2', [5, 3]), w('b2', [3])],
            input: [vi('x', ['batch', 4])],
            output: [vi('y', ['batch', 3])],
          },
        }),
      ).finish(),
    );
    const data = path.join(tmp, 'mish.npz');
    await writeNpz(data, { x: { dtype: 'float32', shape: [16, 4], data: new Float32Array(64).map((_, i) => Math.cos(i)) } });
    await rejectsWith(engine.run({ kind: 'analysis', analysis: 'lib', model, data, options: { jacobians: 'autodiff' } }), 'TranslatorError', /Mish ×1/);
    assert.deepEqual(await engine.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
  });

  it('cancels a running job and stays usable', async () => {
    const ac = new AbortController();
    const job = engine.run({ kind: 'selfTest', mode: 'sleep', ms: 10_000 }, { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await rejectsWith(job, 'Cancelled', /cancelled/);
    assert.deepEqual(await engine.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
  });

  it('cancels a capture between batches', async () => {
    const ac = new AbortController();
    const job = engine.run(
      { kind: 'capture', model: mlp, data: fmnist, taps: ['/relu2/Relu_output_0'], batchSize: 1 },
      { signal: ac.signal, onProgress: () => ac.abort() },
    );
    await rejectsWith(job, 'Cancelled', /cancelled/);
    const g = await engine.run({ kind: 'loadGraph', model: mlp });
    assert.equal(g.nodes.length, 6);
  });

  it('survives a worker that dies mid-run', async () => {
    const before = engine.workersStarted;
    await rejectsWith(engine.run({ kind: 'selfTest', mode: 'crash' }), 'EngineCrashed', /stopped unexpectedly/);
    assert.deepEqual(await engine.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
    assert.equal(engine.workersStarted, before + 1);
  });

  it('survives a worker that runs out of memory', async () => {
    const small = testEngine({ resourceLimits: { maxOldGenerationSizeMb: 96 } });
    try {
      await rejectsWith(small.run({ kind: 'selfTest', mode: 'oom' }), 'EngineCrashed', /out of memory/);
      assert.deepEqual(await small.run({ kind: 'selfTest', mode: 'echo' }), { echoed: 'ok' });
    } finally {
      small.dispose();
    }
  });
});
