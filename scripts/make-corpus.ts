/**
 * Writes the loader fixture corpus: test/fixtures/corpus/** and its manifest.json (file → expected format, or
 * the exact error code plus a phrase of its message). Run: node --import tsx scripts/make-corpus.ts
 *
 * Every file is made here from scratch (ONNX protobufs through the same schema the loader decodes with), so
 * the corpus is reproducible and reviewable.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from '../src/model/formats/onnxSchema';

const root = path.join(__dirname, '..', 'test', 'fixtures', 'corpus');
const schema = protobuf.Root.fromJSON(ONNX_SCHEMA);
const ModelProto = schema.lookupType('onnx.ModelProto');

export interface CorpusEntry {
  /** Path relative to the corpus folder. */
  file: string;
  /** What the case exercises. */
  why: string;
  expect: { format: string; nodes: number; params?: number } | { error: string; match: string };
}

const entries: CorpusEntry[] = [];

function write(rel: string, data: Uint8Array | string): void {
  const abs = path.join(root, rel);
  fs.mkdirSync(path.dirname(abs), { recursive: true });
  fs.writeFileSync(abs, data);
}

function ok(rel: string, why: string, data: Uint8Array | string | null, format: string, nodes: number, params?: number): void {
  if (data !== null) write(rel, data);
  entries.push({ file: rel, why, expect: { format, nodes, ...(params === undefined ? {} : { params }) } });
}

function bad(rel: string, why: string, data: Uint8Array | string | null, error: string, match: string): void {
  if (data !== null) write(rel, data);
  entries.push({ file: rel, why, expect: { error, match } });
}

// ---------------------------------------------------------------- ONNX builders
type Obj = Record<string, unknown>;
const f32 = (xs: number[]): Uint8Array => new Uint8Array(new Float32Array(xs).buffer);
const vi = (name: string, elem = 1, dims: (number | string)[] = [1, 4]): Obj => ({
  name,
  type: { tensor_type: { elem_type: elem, shape: { dim: dims.map((d) => (typeof d === 'number' ? { dim_value: d } : { dim_param: d })) } } },
});

/** y = Relu(x · W + b): a small, valid model; `edit` changes the message before encoding. */
function model(edit: (m: Obj, g: Obj) => void = () => {}): Uint8Array {
  const g: Obj = {
    name: 'corpus',
    node: [
      { name: '/fc/MatMul', op_type: 'MatMul', input: ['x', 'W'], output: ['h'] },
      { name: '/fc/Add', op_type: 'Add', input: ['h', 'b'], output: ['z'] },
      { name: '/act/Relu', op_type: 'Relu', input: ['z'], output: ['y'] },
    ],
    initializer: [
      { name: 'W', data_type: 1, dims: [4, 3], raw_data: f32([...Array(12).keys()].map((i) => i / 10)) },
      { name: 'b', data_type: 1, dims: [3], raw_data: f32([0.5, -0.5, 0]) },
    ],
    input: [vi('x', 1, ['batch', 4])],
    output: [vi('y', 1, ['batch', 3])],
  };
  const m: Obj = { ir_version: 8, producer_name: 'circuitscope-corpus', opset_import: [{ domain: '', version: 13 }], graph: g };
  edit(m, g);
  const err = ModelProto.verify(m);
  if (err) throw new Error(`corpus model does not verify: ${err}`);
  return ModelProto.encode(ModelProto.fromObject(m)).finish();
}

const nodes = (g: Obj): Obj[] => g.node as Obj[];
const inits = (g: Obj): Obj[] => g.initializer as Obj[];

function buildOnnx(): void {
  const good = model();
  ok('onnx/valid-mlp.onnx', 'a small valid model', good, 'onnx', 3, 15);
  ok(
    'onnx/valid-constant.onnx',
    'a Constant node is folded into an initializer',
    model((_m, g) => {
      inits(g).splice(1, 1);
      nodes(g).unshift({ op_type: 'Constant', output: ['b'], attribute: [{ name: 'value', type: 4, t: { data_type: 1, dims: [3], float_data: [1, 2, 3] } }] });
    }),
    'onnx',
    3,
    15,
  );
  ok(
    'onnx/valid-if.onnx',
    'a nested If subgraph is listed',
    model((_m, g) => {
      const branch = (v: number): Obj => ({
        name: `branch${v}`,
        node: [{ op_type: 'Constant', output: [`c${v}`], attribute: [{ name: 'value_float', type: 1, f: v }] }],
        output: [vi(`c${v}`, 1, [])],
      });
      (g.input as Obj[]).push(vi('cond', 9, []));
      nodes(g).push({ name: 'branch', op_type: 'If', input: ['cond'], output: ['k'], attribute: [
        { name: 'then_branch', type: 5, g: branch(1) },
        { name: 'else_branch', type: 5, g: branch(0) },
      ] });
      (g.output as Obj[]).push(vi('k', 1, []));
    }),
    'onnx',
    4,
    15,
  );
  write('onnx/valid-external.bin', f32([...Array(12).keys()].map((i) => i / 10)));
  ok(
    'onnx/valid-external.onnx',
    'external data inside the model folder',
    model((_m, g) => {
      inits(g)[0] = { name: 'W', data_type: 1, dims: [4, 3], data_location: 1, external_data: [
        { key: 'location', value: 'valid-external.bin' }, { key: 'offset', value: '0' }, { key: 'length', value: '48' },
      ] };
    }),
    'onnx',
    3,
    15,
  );

  bad('onnx/truncated-half.onnx', 'cut in the middle', good.subarray(0, Math.floor(good.length / 2)), 'truncated', 'ends early');
  bad('onnx/truncated-3-bytes.onnx', 'only the first bytes', good.subarray(0, 3), 'truncated', 'ends early');
  const badWire = Uint8Array.from(good); // (encode() returns a Buffer: slice() would alias it)
  badWire[0] = 0x0f; // field 1 with wire type 7 (does not exist)
  bad('onnx/bad-wire-type.onnx', 'an invalid protobuf wire type', badWire, 'corrupt', 'do not decode');
  const inflated = Uint8Array.from(good);
  const gi = inflated.indexOf(0x3a); // graph: field 7, wire type 2
  inflated[gi + 1] = 0xff;
  inflated[gi + 2] = 0xff;
  inflated[gi + 3] = 0x7f;
  bad('onnx/corrupted-length.onnx', 'the graph length field points past the end', inflated, 'truncated', 'past the end');
  bad('onnx/no-graph.onnx', 'a ModelProto without a graph', ModelProto.encode(ModelProto.fromObject({ ir_version: 8 })).finish(), 'invalid-structure', 'with a graph');
  bad('onnx/unknown-dtype.onnx', 'initializer data_type 99', model((_m, g) => void (inits(g)[1].data_type = 99)), 'unknown-dtype', "initializer 'b'");
  bad('onnx/input-unknown-dtype.onnx', 'graph input elem_type 77', model((_m, g) => void ((g.input as Obj[])[0] = vi('x', 77, ['batch', 4]))), 'unknown-dtype', 'found 77');
  bad('onnx/undefined-dtype.onnx', 'initializer with data_type 0', model((_m, g) => void (inits(g)[1].data_type = 0)), 'unknown-dtype', 'UNDEFINED');
  bad('onnx/absurd-shape.onnx', 'initializer dims 1e15 × 1e15', model((_m, g) => void (inits(g)[1].dims = [1e15, 1e15])), 'absurd-shape', "initializer 'b'");
  bad('onnx/huge-element-count.onnx', 'initializer dims whose product overflows', model((_m, g) => void (inits(g)[1].dims = [2 ** 30, 2 ** 30, 2 ** 30])), 'absurd-shape', 'more than 2^40');
  bad('onnx/negative-dim.onnx', 'initializer dim -5', model((_m, g) => void (inits(g)[1].dims = [-5])), 'absurd-shape', '[-5]');
  bad('onnx/huge-input-dim.onnx', 'graph input dim 2^50', model((_m, g) => void ((g.input as Obj[])[0] = vi('x', 1, [2 ** 50, 4]))), 'absurd-shape', 'larger than 2^40');
  bad('onnx/raw-size-mismatch.onnx', '3 floats declared, 2 stored', model((_m, g) => void (inits(g)[1].raw_data = f32([1, 2]))), 'tensor-size-mismatch', 'needs 12 bytes');
  bad('onnx/typed-count-mismatch.onnx', '3 floats declared, 5 in float_data', model((_m, g) => void (inits(g)[1] = { name: 'b', data_type: 1, dims: [3], float_data: [1, 2, 3, 4, 5] })), 'tensor-size-mismatch', 'needs 3 values');
  const ext = (location: string, length = 48): ((m: Obj, g: Obj) => void) => (_m, g) => {
    inits(g)[0] = { name: 'W', data_type: 1, dims: [4, 3], data_location: 1, external_data: [
      { key: 'location', value: location }, { key: 'offset', value: '0' }, { key: 'length', value: String(length) },
    ] };
  };
  bad('onnx/external-escape.onnx', "external data at '../../secret.bin'", model(ext('../../secret.bin')), 'path-escape', 'leaves the model');
  bad('onnx/external-absolute.onnx', 'external data at an absolute path', model(ext('/etc/passwd')), 'path-escape', 'absolute path');
  bad('onnx/external-missing.onnx', 'external data file absent', model(ext('not-there.bin')), 'missing-shard', 'does not exist');
  write('onnx/external-short.bin', f32([1, 2]));
  bad('onnx/external-short.onnx', 'external data file too short', model(ext('external-short.bin')), 'short-shard', 'has 8 bytes');
  bad('onnx/external-wrong-length.onnx', 'external length disagrees with the shape', model(ext('valid-external.bin', 40)), 'tensor-size-mismatch', 'declares 40');
  bad('onnx/external-no-location.onnx', 'external data without a location', model((_m, g) => void (inits(g)[0] = { name: 'W', data_type: 1, dims: [4, 3], data_location: 1 })), 'invalid-structure', "no 'location'");
  bad('onnx/dangling-input.onnx', 'a node reads a value nobody produces', model((_m, g) => void (nodes(g)[2].input = ['ghost'])), 'invalid-graph', "reads 'ghost'");
  bad('onnx/dangling-output.onnx', 'a graph output nobody produces', model((_m, g) => void ((g.output as Obj[])[0] = vi('nowhere'))), 'invalid-graph', "'nowhere'");
  bad('onnx/duplicate-producer.onnx', 'two nodes write the same value', model((_m, g) => void nodes(g).push({ name: 'again', op_type: 'Identity', input: ['x'], output: ['h'] })), 'invalid-graph', "value 'h'");
  bad('onnx/overwrites-initializer.onnx', 'a node writes an initializer', model((_m, g) => void (nodes(g)[0].output = ['b'])), 'invalid-graph', 'already a graph input or initializer');
  bad('onnx/no-op-type.onnx', 'a node without op_type', model((_m, g) => void delete nodes(g)[1].op_type), 'invalid-structure', 'expected an op_type');
  bad('onnx/string-raw-data.onnx', 'a string initializer in raw_data', model((_m, g) => void (inits(g)[1].data_type = 8)), 'invalid-structure', 'must keep its values in string_data');
  bad('onnx/cycle.onnx', 'two nodes read each other', model((_m, g) => void (nodes(g)[0].input = ['x', 'y'])), 'invalid-graph', 'found a cycle');
  bad('onnx/self-loop.onnx', 'a node reads its own output', model((_m, g) => void (nodes(g)[2].input = ['y'])), 'invalid-graph', 'found a cycle');
  bad(
    'onnx/external-no-offset-length.onnx',
    'external data offset -4 and no length',
    model((_m, g) => {
      inits(g)[0] = { name: 'W', data_type: 1, dims: [4, 3], data_location: 1, external_data: [{ key: 'location', value: 'valid-external.bin' }, { key: 'offset', value: '-4' }] };
    }),
    'invalid-structure',
    'found offset=-4 length=(absent, 48)',
  );
  bad('onnx/unnamed-initializer.onnx', 'an initializer without a name', model((_m, g) => void delete inits(g)[1].name), 'invalid-structure', 'has no name');
}

// ---------------------------------------------------------------- other files people right-click
function buildOther(): void {
  bad('other/empty.onnx', 'zero bytes', '', 'empty-file', 'empty file');
  write('other/a-folder.onnx/README', 'a directory named like a model\n');
  bad('other/a-folder.onnx', 'a directory', null, 'directory', 'found a directory');
  bad('other/missing.onnx', 'a path that does not exist', null, 'not-found', 'found nothing');
  bad('other/picture.png', 'a PNG image', Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13]), 'unknown-format', 'a PNG image');
  bad('other/photo.jpg', 'a JPEG image', Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46]), 'unknown-format', 'a JPEG image');
  bad('other/notes.txt', 'plain text', 'These are my notes about the model.\nNothing to see.\n', 'unknown-format', 'a text file');
  bad('other/noise.bin', 'random binary', Uint8Array.from([0xfe, 0xff, 0x00, 0x13, 0x37, 0x00, 0x99, 0xaa, 0xbb]), 'unknown-format', 'binary data of an unknown kind');
  bad('other/array.npy', 'a NumPy array', Uint8Array.from([0x93, ...Buffer.from('NUMPY'), 1, 0, 0x76, 0]), 'unknown-format', 'NumPy .npy');
  bad('other/checkpoint.pt', 'a PyTorch zip checkpoint', Uint8Array.from([0x50, 0x4b, 0x03, 0x04, 20, 0, 0, 0]), 'unknown-format', 'PyTorch checkpoint');
  bad('other/keras.h5', 'an HDF5 file', Uint8Array.from([0x89, 0x48, 0x44, 0x46, 0x0d, 0x0a, 0x1a, 0x0a]), 'unknown-format', 'HDF5');
  bad('other/model.tflite', 'a TFLite flatbuffer', Uint8Array.from([0x1c, 0, 0, 0, 0x54, 0x46, 0x4c, 0x33, 0, 0]), 'unknown-format', 'TensorFlow Lite');
  bad('other/legacy.pth', 'a pickle', Uint8Array.from([0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc]), 'unknown-format', 'pickle');
}

// ---------------------------------------------------------------- TF.js
const layersModel = (weightsPath = 'group1-shard1of1.bin', dtype = 'float32', shape = [4, 3]): Obj => ({
  format: 'layers-model',
  generatedBy: 'circuitscope-corpus',
  convertedBy: null,
  modelTopology: {
    class_name: 'Sequential',
    keras_version: 'tfjs-layers 4.22.0',
    backend: 'tensor_flow.js',
    config: { name: 'seq', layers: [{ class_name: 'Dense', config: { name: 'dense', units: 3, activation: 'relu', use_bias: true, batch_input_shape: [null, 4] } }] },
  },
  weightsManifest: [{ paths: [weightsPath], weights: [{ name: 'dense/kernel', shape, dtype }, { name: 'dense/bias', shape: [3], dtype: 'float32' }] }],
});

function buildTfjs(): void {
  const shard = f32([...Array(15).keys()].map((i) => i / 10));
  const json = (o: unknown): string => JSON.stringify(o, null, 1);
  write('tfjs/valid/group1-shard1of1.bin', shard);
  ok('tfjs/valid/model.json', 'a valid layers model', json(layersModel()), 'tfjs-layers', 1, 15);
  bad('tfjs/missing-shard/model.json', 'the weight shard is absent', json(layersModel()), 'missing-shard', 'group1-shard1of1.bin');
  write('tfjs/short-shard/group1-shard1of1.bin', shard.subarray(0, 40));
  bad('tfjs/short-shard/model.json', 'the shard is shorter than the manifest', json(layersModel()), 'short-shard', 'group1-shard1of1.bin');
  bad('tfjs/escape-shard/model.json', "a shard path with '..'", json(layersModel('../../outside.bin')), 'path-escape', 'outside.bin');
  bad('tfjs/absolute-shard/model.json', 'an absolute shard path', json(layersModel('/etc/passwd')), 'path-escape', '/etc/passwd');
  write('tfjs/unknown-dtype/group1-shard1of1.bin', shard);
  bad('tfjs/unknown-dtype/model.json', "weight dtype 'float128'", json(layersModel(undefined, 'float128')), 'unknown-dtype', 'float128');
  write('tfjs/absurd-shape/group1-shard1of1.bin', shard);
  bad('tfjs/absurd-shape/model.json', 'weight shape 1e13 × 1e13', json(layersModel(undefined, 'float32', [1e13, 1e13])), 'absurd-shape', 'dense/kernel');
  write('tfjs/negative-shape/group1-shard1of1.bin', shard);
  bad('tfjs/negative-shape/model.json', 'weight shape with -4', json(layersModel(undefined, 'float32', [-4, 3])), 'absurd-shape', 'dense/kernel');
  const full = json(layersModel());
  bad('tfjs/truncated/model.json', 'JSON cut in the middle', full.slice(0, Math.floor(full.length / 2)), 'truncated', 'ends early');
  bad('tfjs/invalid-json/model.json', 'not JSON at all past the brace', '{ "format": "layers-model", modelTopology: ??? }', 'corrupt', 'invalid JSON');
  write('tfjs/no-layers/group1-shard1of1.bin', shard);
  bad('tfjs/no-layers/model.json', 'a layers model with no layers', json({ ...layersModel(), modelTopology: { class_name: 'Sequential', config: { name: 'x' } } }), 'invalid-structure', 'layers');
  const graphModel = {
    format: 'graph-model',
    modelTopology: { node: [{ name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } }, { name: 'relu', input: ['x'] }] },
    weightsManifest: [],
  };
  bad('tfjs/graph-no-op/model.json', "a graph-model node without 'op'", json(graphModel), 'invalid-structure', "'op'");
  const layer = (cfg: Obj): Obj => {
    const m = layersModel();
    ((m.modelTopology as Obj).config as { layers: Obj[] }).layers[0].config = { ...(((m.modelTopology as Obj).config as { layers: Obj[] }).layers[0].config as Obj), ...cfg };
    return m;
  };
  const withShard = (dir: string): void => write(`tfjs/${dir}/group1-shard1of1.bin`, shard);
  withShard('empty-manifest');
  bad('tfjs/empty-manifest/model.json', 'a Dense layer and an empty weightsManifest', json({ ...layersModel(), weightsManifest: [] }), 'invalid-structure', 'found an empty weightsManifest');
  withShard('duplicated-shard');
  const dup = layersModel();
  const g0 = (dup.weightsManifest as Obj[])[0] as { paths: string[]; weights: Obj[] };
  dup.weightsManifest = [{ paths: g0.paths, weights: g0.weights.slice(0, 1) }, { paths: g0.paths, weights: g0.weights.slice(1) }];
  bad('tfjs/duplicated-shard/model.json', 'two manifest groups list the same shard', json(dup), 'invalid-structure', 'is already listed');
  withShard('duplicated-manifest');
  bad('tfjs/duplicated-manifest/model.json', 'the manifest group twice', json({ ...layersModel(), weightsManifest: [...(layersModel().weightsManifest as Obj[]), ...(layersModel().weightsManifest as Obj[])] }), 'invalid-structure', 'is already listed');
  withShard('units-1e9');
  bad('tfjs/units-1e9/model.json', 'a Dense layer with units 1e9', json(layer({ units: 1e9 })), 'absurd-shape', "expected 'units' to be an integer from 0 to 16777216, found 1000000000");
  withShard('units-mismatch');
  bad('tfjs/units-mismatch/model.json', 'units 5 with a [4, 3] kernel', json(layer({ units: 5 })), 'tensor-size-mismatch', "'units' is 5 but its weight 'dense/kernel' has shape [4, 3]");
  withShard('input-width-1e9');
  bad('tfjs/input-width-1e9/model.json', 'batch_input_shape [null, 1e9] before a [4, 3] kernel', json(layer({ batch_input_shape: [null, 1e9] })), 'tensor-size-mismatch', 'is 1000000000 wide');
  withShard('kernel-size-1e9');
  bad('tfjs/kernel-size-1e9/model.json', 'kernel_size 1e9', json(layer({ kernel_size: [1e9, 1] })), 'absurd-shape', "expected 'kernel_size' to hold integers from 0 to 65536");
  withShard('initializer-number');
  bad('tfjs/initializer-number/model.json', 'kernel_initializer is the number 1e308', json(layer({ kernel_initializer: 1e308 })), 'invalid-structure', "expected 'kernel_initializer' to be null");
  withShard('initializer-config-number');
  bad(
    'tfjs/initializer-config-number/model.json',
    "an initializer whose config is 1e308 (tfjs: Cannot create property 'customObjects' on number)",
    json(layer({ bias_initializer: { class_name: 'Zeros', config: 1e308 } })),
    'invalid-structure',
    "expected 'config' to be an object, found number 1e+308",
  );
  withShard('deep-nesting');
  bad('tfjs/deep-nesting/model.json', 'a config nested 100,000 deep', `{"modelTopology": {"x": ${'['.repeat(100_000)}${']'.repeat(100_000)}}, "weightsManifest": []}`, 'corrupt', 'nested at most 256 levels deep');
  const graphConst = {
    format: 'graph-model',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' } } },
        { name: 'w', op: 'Const', attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '4' }, { size: '3' }] } } } } },
        { name: 'y', op: 'MatMul', input: ['x', 'w'], attr: {} },
      ],
    },
    weightsManifest: [],
  };
  bad('tfjs/graph-empty-manifest/model.json', 'a graph model whose Const weights are not in its empty manifest', json(graphConst), 'invalid-structure', "Const node 'w' has no value");
  const splat = JSON.parse(JSON.stringify(graphConst)) as typeof graphConst;
  (splat.modelTopology.node[1].attr!.value as { tensor: Obj }).tensor = { dtype: 'DT_FLOAT', tensorShape: { dim: [{ size: '100000' }, { size: '100000' }] }, floatVal: [0] };
  bad('tfjs/graph-inline-splat/model.json', 'an inline Const of one value splatted over 10^10 elements', json(splat), 'absurd-shape', 'declares an inline value of shape [100000, 100000]');
  bad('json/tokenizer.json', 'a HuggingFace tokenizer', json({ version: '1.0', truncation: null, added_tokens: [], model: { type: 'BPE', vocab: { a: 0 } } }), 'unknown-format', 'tokenizer');
  bad('json/package.json', 'an npm package.json', json({ name: 'x', version: '1.0.0', dependencies: {} }), 'unknown-format', 'package.json');
  bad('json/config.json', 'a HuggingFace config', json({ model_type: 'gpt2', n_layer: 12, architectures: ['GPT2LMHeadModel'] }), 'unknown-format', 'config');
  bad('json/array.json', 'a JSON array', '[1, 2, 3]', 'unknown-format', 'array');
}

fs.rmSync(root, { recursive: true, force: true });
buildOnnx();
buildOther();
buildTfjs();
fs.writeFileSync(path.join(root, 'manifest.json'), `${JSON.stringify(entries, null, 2)}\n`);
const bads = entries.filter((e) => 'error' in e.expect).length;
console.log(`wrote ${entries.length} corpus entries (${bads} bad files) to ${path.relative(process.cwd(), root)}`);
