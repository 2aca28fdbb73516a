/**
 * The graph's wire form (src/shared/graphWire.ts, version 2: columns and a string table; graphWireV1.ts, still
 * decoded): the IR comes back whole, on the bundled examples, the third-party models, the benchmark's synthetic
 * graphs and graphs with unnamed nodes, domains, scopes, names that differ from ids, and fields the columns do not
 * hold (odd types, keys the IR does not declare).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { decodeGraphWire, encodeGraphWire, encodeGraphWireV1, type GraphWireV2 } from '../../src/shared/graphWire';
import type { ModelGraph } from '../../src/shared/ir';
import { loadModel } from '../../src/model/load';
import { benchGraph, syntheticOnnx } from '../bench/graphModels';
import * as os from 'node:os';

const repo = path.join(__dirname, '..', '..');
const models = [
  ...['mlp', 'cnn', 'transformer'].map((m) => path.join(repo, 'examples', m, `${m}.onnx`)),
  path.join(repo, 'examples', 'mlp-tfjs', 'model.json'),
  ...['ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx'].map((f) => path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets', f)),
  // TF.js graph models with their own file names (weights in shards: tensor locations that are not inline).
  ...['emotion.json', 'antispoof.json'].map((f) => path.join(repo, 'node_modules', '@vladmandic', 'human-models', 'models', f)),
];

/**
 * Version 2 decodes to the IR as JSON carries it; `v1`: version 1 as well (it makes up fields an IR lacks);
 * `smaller`: a model's graph, where version 2 is the shortest (a hand-made graph of two nodes is not).
 */
function roundTrip(g: ModelGraph, { v1 = true, smaller = false } = {}): void {
  const plain = JSON.stringify(g);
  const wire = encodeGraphWire(g);
  assert.deepStrictEqual(decodeGraphWire(JSON.parse(wire)), JSON.parse(plain));
  const old = encodeGraphWireV1(g);
  if (v1) assert.deepStrictEqual(decodeGraphWire(JSON.parse(old)), JSON.parse(plain), 'version 1 still decodes');
  if (smaller) assert.ok(wire.length < old.length && old.length < plain.length, `v2 ${wire.length} chars, v1 ${old.length}, plain ${plain.length}`);
}

/** The version-2 envelope of `g`, parsed. */
const wireOf = (g: ModelGraph): GraphWireV2 => JSON.parse(encodeGraphWire(g)) as GraphWireV2;

describe('graph wire form', () => {
  for (const file of models) {
    it(`round-trips ${path.relative(repo, file)}`, async () => {
      assert.ok(fs.existsSync(file), `${file} is missing`);
      roundTrip((await loadModel(file)).graph, { smaller: true });
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
    const v1 = JSON.parse(encodeGraphWireV1(g)) as { graph: { nodes: Record<string, unknown>[]; values: Record<string, Record<string, unknown>> } };
    assert.equal(v1.graph.nodes[0].name, '', 'an empty name differs from the id and is kept');
    assert.ok(!('name' in v1.graph.nodes[1]) && v1.graph.nodes[1].domain === 'com.example');
    assert.equal(v1.graph.values.in.name, 'input 0');
    assert.ok(!('id' in v1.graph.values.h) && !('name' in v1.graph.values.h));
    const w = wireOf(g);
    assert.deepEqual(w.nodes.id, ['Relu_0', 'b/mul']);
    assert.equal(w.strings[w.nodes.name[0]], '', 'an empty name differs from the id and is kept');
    assert.equal(w.nodes.name[1], -1, 'a name equal to the id is left out');
    assert.equal(w.strings[w.nodes.domain[1]], 'com.example');
    assert.deepEqual(w.values.key, ['in', 'h', 'w', 'y']);
    assert.deepEqual(w.nodes.ins, [0, 1, 2], "inputs refer to the values' rows");
    assert.deepEqual(w.values.producer, [-1, -2, -1, -2], 'producers that are the node listing the value are left out');
    assert.deepEqual(w.nodes.scope, [[1, [w.strings.indexOf('b')]]]);
    assert.deepEqual(w.nodes.attributes, [[1, [{ name: 'k', value: { type: 'int', value: 2 } }]]]);
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
    const v1 = JSON.parse(encodeGraphWireV1(g)) as { graph: { nodes: Record<string, unknown>[]; values: Record<string, Record<string, unknown>>; tensors: Record<string, Record<string, unknown>> } };
    const { values, tensors, nodes } = v1.graph;
    assert.ok(!('dtype' in values.w) && !('shape' in values.w) && !('producer' in values.h), 'what the page can put back is left out');
    assert.equal(values.q.dtype, 'float32', 'a dtype differing from its tensor is kept');
    assert.deepEqual(values.q.shape, ['N', 2]);
    assert.equal(values.e.dtype, null, 'a missing dtype is marked');
    assert.equal(values.orphan.producer, null, 'a missing producer is marked');
    assert.ok(!('location' in tensors.w) && !('elements' in tensors.w) && tensors.e.elements === 2);
    assert.ok(nodes[0].params === 8 && !('params' in nodes[1]));
    const w = wireOf(g);
    assert.deepEqual(w.tensors.elements, [-1, -1, 2], 'an element count other than the product of the shape is kept');
    assert.deepEqual(w.tensors.location, [[1, { kind: 'external', file: 'g.bin', offset: 0, length: 2 }]]);
    assert.deepEqual(w.tensors.quantization, [[1, { dtype: 'uint8', scale: 0.5 }]]);
    assert.deepEqual(w.shapes.slice(0, 3), [[1, 4], [4, 2], ['N', 2]], 'each shape once, a symbol kept as a string');
    assert.equal(w.values.shape[6], -1, 'an unknown shape stays unknown');
  });

  it('carries nodes, values and tensors the columns cannot hold, and keys the IR does not declare', () => {
    const sub = { name: 'body', nodeCount: 1, opCounts: { Add: 1 }, inputs: [], outputs: [], subgraphs: [] };
    const g = {
      format: 'onnx',
      file: 'x.onnx',
      fileBytes: 1,
      opsets: [],
      metadata: {},
      inputs: ['in'],
      outputs: ['y'],
      nodes: [
        { id: 'loop', name: 'loop', opType: 'Loop', domain: '', inputs: ['in', '', 'ghost'], outputs: ['y'], attributes: [], params: 0, paramBytes: 0, scope: [], subgraphs: [sub] },
        { id: 'odd', name: 'odd', opType: 'Relu', domain: '', inputs: ['y'], outputs: ['z'], attributes: [], params: '3', paramBytes: 0, scope: [] },
        { id: 'short', opType: 'Relu', inputs: ['z'], outputs: ['u'] },
      ],
      values: {
        in: { id: 'in', name: 'in', kind: 'input', shape: [null, 'batch*seq', 3], shapeInferred: true, note: 'kept' },
        y: { id: 'y', name: 'y', kind: 'output', producer: 'elsewhere', shapeInferred: false },
        z: { id: 'not-z', name: 'z', kind: 'intermediate', producer: 'odd' },
        u: { id: 'u', name: 'u', kind: 'intermediate' },
      },
      tensors: {
        t: { name: 't', dtype: 'float32', shape: [], elements: 1, byteLength: 4, location: { kind: 'inline', extra: 1 } },
        m: { name: 'm', dtype: 'float32', shape: [2], elements: -1, byteLength: 8, location: { kind: 'inline' } },
        s: { name: 's', dtype: 'float32', shape: ['2'], elements: 2, byteLength: 8, location: { kind: 'inline' } },
      },
      warnings: ['w'],
      hierarchy: [{ id: 'g', label: 'g', nodes: ['loop'], children: [], nodeCount: 1, params: 0 }],
      params: 0,
      paramBytes: 0,
    } as unknown as ModelGraph;
    roundTrip(g, { v1: false });
    const w = wireOf(g);
    assert.deepEqual(w.nodes.extra, [[0, { subgraphs: [sub] }]]);
    assert.deepEqual(w.nodes.odd.map(([i]) => i), [1, 2], 'a node with a field of another type, or missing fields, travels whole');
    assert.deepEqual(w.values.odd.map(([i]) => i), [2], "a value whose id is not its key travels whole");
    assert.deepEqual(w.values.extra, [[0, { note: 'kept' }]]);
    assert.deepEqual(w.values.shapeInferred, [1, 0, -1, -1]);
    assert.equal(w.strings[w.values.producer[1]], 'elsewhere', 'a producer other than the node listing the value is kept');
    assert.deepEqual(w.tensors.odd.map(([i]) => i), [1], 'an element count of -1 travels whole');
    assert.deepEqual(w.tensors.location, [[0, { kind: 'inline', extra: 1 }]]);
    assert.notEqual(w.tensors.shape[2], w.shapes.findIndex((s) => s.length === 1 && s[0] === 2), 'a string dimension is not a number');
  });

  it('round-trips the benchmark graphs at 2,000 operators, with and without name scopes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'graphwire-'));
    try {
      for (const scoped of [false, true]) {
        const file = path.join(dir, `s${scoped}.onnx`);
        fs.writeFileSync(file, syntheticOnnx(2000, scoped));
        const g = benchGraph((await loadModel(file)).graph, scoped);
        assert.ok(g.nodes.length > 1900, `${g.nodes.length} operators`);
        roundTrip(g, { smaller: true });
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps a value and a tensor named __proto__ as own keys', () => {
    const g = JSON.parse(
      '{"format":"onnx","file":"x","fileBytes":0,"opsets":[],"metadata":{},"inputs":["__proto__"],"outputs":["y"],' +
        '"nodes":[{"id":"n","name":"n","opType":"Relu","domain":"","inputs":["__proto__"],"outputs":["y"],"attributes":[],"params":0,"paramBytes":0,"scope":[]}],' +
        '"values":{"__proto__":{"id":"__proto__","name":"__proto__","kind":"input"},"y":{"id":"y","name":"y","kind":"output","producer":"n"}},' +
        '"tensors":{"__proto__":{"name":"__proto__","dtype":"float32","shape":[1],"elements":1,"byteLength":4,"location":{"kind":"inline"}}},' +
        '"hierarchy":[],"params":0,"paramBytes":0,"warnings":[]}',
    ) as ModelGraph;
    roundTrip(g, { v1: false });
    const back = decodeGraphWire(JSON.parse(encodeGraphWire(g)));
    assert.deepEqual(Object.keys(back.values), ['__proto__', 'y']);
    assert.equal(Object.getPrototypeOf(back.tensors), Object.prototype);
  });

  it('decodes to objects of its own: no two values share a shape array', () => {
    const g = wireOf({
      format: 'onnx', file: 'x', fileBytes: 0, opsets: [], metadata: {}, inputs: [], outputs: [], nodes: [],
      values: { a: { id: 'a', name: 'a', kind: 'input', shape: [1, 2] }, b: { id: 'b', name: 'b', kind: 'input', shape: [1, 2] } },
      tensors: {}, hierarchy: [], params: 0, paramBytes: 0, warnings: [],
    } as ModelGraph);
    assert.deepEqual(g.values.shape, [0, 0]);
    const back = decodeGraphWire(g);
    assert.notEqual(back.values.a.shape, back.values.b.shape);
  });

  it('tells neighbouring shapes and strings apart that differ only in type or by one dimension (the tables remember their last lookup)', () => {
    const value = (id: string, shape: unknown[] | undefined, dtype?: string) => ({ id, name: id, kind: 'input', ...(dtype === undefined ? {} : { dtype }), ...(shape ? { shape } : {}) });
    const g = {
      format: 'onnx', file: 'x', fileBytes: 0, opsets: [], metadata: {}, inputs: [], outputs: [], nodes: [], tensors: {}, hierarchy: [], params: 0, paramBytes: 0, warnings: [],
      values: {
        a: value('a', [2, 3], ''),
        b: value('b', [2, '3'], ''),
        c: value('c', [2, 3], 'float32'),
        d: value('d', [2, 3, 1], 'float32'),
        e: value('e', [2], ''),
        f: value('f', [NaN]),
        g: value('g', [NaN]),
        h: value('h', undefined, ''),
        i: value('i', [2, 3], 'float16'),
      },
    } as unknown as ModelGraph;
    roundTrip(g, { v1: false });
    const w = wireOf(g);
    assert.deepEqual(w.values.shape, [0, 1, 0, 2, 3, 4, 5, -1, 0]);
    assert.deepEqual(w.shapes, [[2, 3], [2, '3'], [2, 3, 1], [2], [null], [null]], 'NaN equals no dimension, as before: each its own shape');
    assert.deepEqual(w.values.dtype.map((k) => (k < 0 ? k : w.strings[k])), ['', '', 'float32', 'float32', '', -1, -1, '', 'float16']);
  });

  it('passes a plain IR through and refuses another wire version', () => {
    const plain = { format: 'onnx', nodes: [] };
    assert.equal(decodeGraphWire(plain), plain);
    assert.throws(() => decodeGraphWire({ graphWire: 3, graph: {} }), /graph wire: expected version 1 or 2, found 3/);
    assert.throws(() => decodeGraphWire({ graphWire: 2, graph: {} }), /graph wire: expected version 1 or 2, found 2/, 'a version-2 envelope without its columns');
  });
});
