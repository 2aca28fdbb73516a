/**
 * The fast ONNX load path (src/model/formats/onnx.ts: protobuf decoded over a Buffer view, small weights copied into
 * one pooled buffer, large ones left in the file and read on demand, the file's topological order trusted once
 * checked) gives the same IR and the same tensor values as the eager path (decode over a plain Uint8Array, every
 * weight a view into the bytes), on the bundled examples and the PaddleOCR models.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as os from 'node:os';
import { decodeModelProto, encodeModelProto, fromRaw, onnxToGraph, openOnnx } from '../../src/model/formats/onnx';
import { valueInfo } from '../../src/model/onnxBuild';
import { loadModel } from '../../src/model/load';

const repo = path.join(__dirname, '..', '..');
const ocr = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets');
const models = [
  ...fs.readdirSync(path.join(repo, 'examples')).flatMap((d) => {
    const dir = path.join(repo, 'examples', d);
    return fs.statSync(dir).isDirectory() ? fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).map((f) => path.join(dir, f)) : [];
  }),
  ...fs.readdirSync(ocr).filter((f) => f.endsWith('.onnx')).map((f) => path.join(ocr, f)),
];

describe('ONNX fast load path equals the eager one', () => {
  it('finds the example and PaddleOCR models', () => {
    assert.ok(models.filter((m) => m.includes('examples')).length >= 3, `examples found: ${models.join(', ')}`);
    assert.equal(models.filter((m) => m.includes('ocr-models')).length, 3);
  });
  for (const file of models) {
    it(path.basename(file), async () => {
      const bytes = new Uint8Array(fs.readFileSync(file));
      const proto = decodeModelProto(file, bytes);
      const eager = onnxToGraph(file, bytes.length, proto).graph;
      const loaded = await loadModel(file, { inferShapes: false });
      assert.deepStrictEqual(loaded.graph, eager);
      const views = await openOnnx(file, new Uint8Array(bytes));
      // The stored bytes of initializers and of Constant nodes' tensors (PaddleOCR keeps its weights in those).
      const raw = new Map((proto.graph?.initializer ?? []).map((t) => [t.name ?? '', t.raw_data]));
      for (const n of proto.graph?.node ?? []) {
        const t = n.op_type === 'Constant' && n.attribute?.length === 1 && n.attribute[0].name === 'value' ? n.attribute[0].t : undefined;
        if (t && n.output?.[0]) raw.set(n.output[0], t.raw_data);
      }
      let compared = 0;
      for (const name of Object.keys(eager.tensors)) {
        const a = await loaded.readTensor(name);
        const b = await views.readTensor(name);
        assert.deepStrictEqual(a, b, `tensor '${name}'`);
        const r = raw.get(name);
        if (r?.length) {
          assert.deepStrictEqual(a.data, fromRaw(r, eager.tensors[name]), `tensor '${name}' against its raw_data`);
          compared++;
        }
      }
      assert.ok(compared > 0, 'no initializer with raw_data compared');
    });
  }
});

describe('ONNX values named like Object.prototype members', () => {
  it('loads a graph whose values are named constructor, toString and hasOwnProperty', async () => {
    // `values` is a plain object: these names found Object.prototype's members, and the first node was refused
    // ("writes 'constructor', which is already a graph input or initializer").
    const bytes = encodeModelProto({
      ir_version: 8,
      opset_import: [{ domain: '', version: 13 }],
      graph: {
        name: 'g',
        input: [valueInfo('x', 1, [1, 4])],
        node: [
          { op_type: 'Relu', input: ['x'], output: ['constructor'], name: 'r1' },
          { op_type: 'Relu', input: ['constructor'], output: ['toString'], name: 'r2' },
          { op_type: 'Identity', input: ['toString'], output: ['hasOwnProperty'], name: 'r3' },
        ],
        output: [valueInfo('hasOwnProperty', 1, [1, 4])],
      },
    } as Parameters<typeof encodeModelProto>[0]);
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-protonames-')), 'm.onnx');
    fs.writeFileSync(file, bytes);
    const g = (await loadModel(file)).graph;
    assert.deepEqual(g.nodes.map((n) => [n.inputs, n.outputs]), [[['x'], ['constructor']], [['constructor'], ['toString']], [['toString'], ['hasOwnProperty']]]);
    for (const [name, producer, kind] of [['constructor', 'r1', 'intermediate'], ['toString', 'r2', 'intermediate'], ['hasOwnProperty', 'r3', 'output']]) {
      assert.ok(Object.hasOwn(g.values, name), name);
      assert.deepEqual([g.values[name].id, g.values[name].producer, g.values[name].kind, g.values[name].shape], [name, producer, kind, [1, 4]]);
    }
  });
});
