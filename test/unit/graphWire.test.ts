/**
 * The graph's wire form (src/shared/graphWire.ts): what it leaves out comes back, on the bundled examples, the
 * third-party models and a graph with unnamed nodes, domains, scopes and names that differ from ids.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeGraphWire, encodeGraphWire } from '../../src/shared/graphWire';
import type { ModelGraph } from '../../src/shared/ir';
import { loadModel } from '../../src/model/load';

const repo = path.join(__dirname, '..', '..');
const models = [
  ...['mlp', 'cnn', 'transformer'].map((m) => path.join(repo, 'examples', m, `${m}.onnx`)),
  path.join(repo, 'examples', 'mlp-tfjs', 'model.json'),
  ...['ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'].map((f) => path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets', f)),
];

function roundTrip(g: ModelGraph): void {
  const wire = encodeGraphWire(g);
  const plain = JSON.stringify(g);
  assert.deepStrictEqual(decodeGraphWire(JSON.parse(wire)), JSON.parse(plain));
  assert.ok(wire.length < plain.length, `wire ${wire.length} bytes, plain ${plain.length}`);
}

describe('graph wire form', () => {
  for (const file of models) {
    it(`round-trips ${path.relative(repo, file)}`, async () => {
      assert.ok(fs.existsSync(file), `${file} is missing`);
      roundTrip((await loadModel(file)).graph);
    });
  }

  it('keeps names, domains, attributes and scopes that cannot be put back', () => {
    const g: ModelGraph = {
      format: 'onnx',
      file: 'x.onnx',
      fileBytes: 1,
      opsets: [],
      metadata: {},
      inputs: ['in'],
      outputs: ['y'],
      nodes: [
        { id: 'Relu_0', name: '', opType: 'Relu', domain: '', inputs: ['in'], outputs: ['h'], attributes: [], params: 0, paramBytes: 0, scope: [] },
        {
          id: 'b/mul',
          name: 'b/mul',
          opType: 'Mul',
          domain: 'com.example',
          inputs: ['h', 'w'],
          outputs: ['y'],
          attributes: [{ name: 'k', value: { type: 'int', value: 2 } }],
          params: 4,
          paramBytes: 16,
          scope: ['b'],
        },
      ],
      values: {
        in: { id: 'in', name: 'input 0', dtype: 'float32', shape: [1, 4], kind: 'input' },
        h: { id: 'h', name: 'h', kind: 'intermediate', producer: 'Relu_0' },
        w: { id: 'w', name: 'w', dtype: 'float32', shape: [4], kind: 'initializer' },
        y: { id: 'y', name: 'y', kind: 'output', producer: 'b/mul' },
      },
      tensors: { w: { name: 'w', dtype: 'float32', shape: [4], elements: 4, byteLength: 16, location: { kind: 'inline' } } },
      warnings: [],
      hierarchy: [],
      params: 4,
      paramBytes: 16,
    } as unknown as ModelGraph;
    roundTrip(g);
    const wire = JSON.parse(encodeGraphWire(g)) as { graph: { nodes: Record<string, unknown>[]; values: Record<string, Record<string, unknown>> } };
    assert.equal(wire.graph.nodes[0].name, '', 'an empty name differs from the id and is kept');
    assert.ok(!('name' in wire.graph.nodes[1]) && wire.graph.nodes[1].domain === 'com.example');
    assert.equal(wire.graph.values.in.name, 'input 0');
    assert.ok(!('id' in wire.graph.values.h) && !('name' in wire.graph.values.h));
  });

  it('puts back producers, initializer dtypes and shapes, tensor locations and element counts only where they were left out', () => {
    const g = {
      format: 'tfjs-graph',
      file: 'm.json',
      fileBytes: 1,
      opsets: [],
      metadata: {},
      inputs: ['in'],
      outputs: ['y'],
      nodes: [
        { id: 'a', name: 'a', opType: 'MatMul', domain: '', inputs: ['in', 'w'], outputs: ['h'], attributes: [], params: 8, paramBytes: 32, scope: [] },
        { id: 'b', name: 'b', opType: 'Add', domain: '', inputs: ['h', 'q', 'e'], outputs: ['y', 'orphan'], attributes: [], params: 0, paramBytes: 0, scope: [] },
      ],
      values: {
        in: { id: 'in', name: 'in', dtype: 'float32', shape: [1, 4], kind: 'input' },
        w: { id: 'w', name: 'w', dtype: 'float32', shape: [4, 2], kind: 'initializer' },
        q: { id: 'q', name: 'q', dtype: 'float32', shape: ['N', 2], kind: 'initializer' },
        e: { id: 'e', name: 'e', kind: 'initializer' },
        h: { id: 'h', name: 'h', kind: 'intermediate', producer: 'a' },
        y: { id: 'y', name: 'y', kind: 'output', producer: 'b' },
        orphan: { id: 'orphan', name: 'orphan', kind: 'intermediate' },
      },
      tensors: {
        w: { name: 'w', dtype: 'float32', shape: [4, 2], elements: 8, byteLength: 32, location: { kind: 'inline' } },
        q: { name: 'q', dtype: 'uint8', shape: [1, 2], elements: 2, byteLength: 2, location: { kind: 'external', file: 'g.bin', offset: 0, length: 2 }, quantization: { dtype: 'uint8', scale: 0.5 } },
        e: { name: 'e', dtype: 'float32', shape: [3], elements: 2, byteLength: 8, location: { kind: 'inline' } },
      },
      warnings: [],
      hierarchy: [],
      params: 12,
      paramBytes: 42,
    } as unknown as ModelGraph;
    roundTrip(g);
    const wire = JSON.parse(encodeGraphWire(g)) as { graph: { nodes: Record<string, unknown>[]; values: Record<string, Record<string, unknown>>; tensors: Record<string, Record<string, unknown>> } };
    const { values, tensors, nodes } = wire.graph;
    assert.ok(!('dtype' in values.w) && !('shape' in values.w) && !('producer' in values.h), 'what the page can put back is left out');
    assert.equal(values.q.dtype, 'float32', 'a dtype differing from its tensor is kept');
    assert.deepEqual(values.q.shape, ['N', 2]);
    assert.equal(values.e.dtype, null, 'a missing dtype is marked');
    assert.equal(values.orphan.producer, null, 'a missing producer is marked');
    assert.ok(!('location' in tensors.w) && !('elements' in tensors.w) && tensors.e.elements === 2);
    assert.ok(nodes[0].params === 8 && !('params' in nodes[1]));
  });

  it('passes a plain IR through and refuses another wire version', () => {
    const plain = { format: 'onnx', nodes: [] };
    assert.equal(decodeGraphWire(plain), plain);
    assert.throws(() => decodeGraphWire({ graphWire: 2, graph: {} }), /graph wire: expected version 1, found 2/);
  });
});
