/**
 * Tap outputs without re-encoding (src/model/runtime/onnxRewrite.ts `tapModelBytes`) and a loaded ONNX model that
 * keeps no view into the file's bytes (src/model/load.ts, src/model/formats/onnx.ts): onnxruntime accepts the
 * appended protobuf suffix, the tapped values equal those of a session made from a decoded-and-re-encoded model,
 * dead nodes are hidden, the in-place edit is undone, and the file buffer is freed once taken.
 */
import { strict as assert } from 'node:assert';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import { collectGarbage } from '../../src/engine/capture';
import { decodeModelProto, encodeModelProto, openOnnx } from '../../src/model/formats/onnx';
import { ModelLoadError } from '../../src/model/errors';
import { loadModel, readFileWithSpare, TAP_SPARE_BYTES } from '../../src/model/load';
import { graphLayout, TapError, tapModelBytes, withTapOutputs } from '../../src/model/runtime/onnxRewrite';
import { createOrtSession, type OrtOutput } from '../../src/model/runtime/ort';

const repo = path.join(__dirname, '..', '..');
const transformer = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');

/** Deterministic token prompts for the example transformer (vocabulary and length from its graph input). */
async function transformerFeeds(): Promise<{ name: string; feeds: Record<string, { dtype: 'int64'; data: BigInt64Array; dims: number[] }> }> {
  const m = await loadModel(transformer);
  const name = m.graph.inputs[0];
  const shape = m.graph.values[name].shape ?? [];
  const T = typeof shape[1] === 'number' ? shape[1] : 16;
  const data = BigInt64Array.from({ length: 3 * T }, (_, i) => BigInt((i * 7 + 3) % 10));
  return { name, feeds: { [name]: { dtype: 'int64', data, dims: [3, T] } } };
}

async function runWith(bytes: Uint8Array, feeds: Record<string, { dtype: 'int64'; data: BigInt64Array; dims: number[] }>, fetches: string[]): Promise<Record<string, OrtOutput>> {
  const s = await createOrtSession(bytes, { provider: 'cpu', threads: 1 });
  try {
    return await s.run(feeds, fetches);
  } finally {
    await s.release();
  }
}

describe('tap outputs as a protobuf suffix', () => {
  it('onnxruntime accepts the suffix in place; values equal the re-encoded model’s; the bytes are restored', async () => {
    const m = await loadModel(transformer);
    const softmaxes = m.graph.nodes.filter((n) => n.opType === 'Softmax').map((n) => n.outputs[0]);
    assert.ok(softmaxes.length >= 2, 'the example transformer has two attention softmaxes');
    const taps = [softmaxes[0], m.graph.outputs[0], softmaxes[1]];
    const { feeds } = await transformerFeeds();
    const own = await readFileWithSpare(transformer, TAP_SPARE_BYTES);
    const before = own.slice();
    const tapped = tapModelBytes(transformer, own, taps, (n) => m.valueInfo?.(n));
    assert.equal(tapped.inPlace, true);
    assert.equal(tapped.bytes.buffer, own.buffer, 'the suffix is written into the spare capacity, not a copy');
    const decoded = decodeModelProto(transformer, tapped.bytes);
    assert.deepEqual(decoded.graph!.output!.map((o) => o.name), taps, 'exactly the taps are outputs, in order');
    const ours = await runWith(tapped.bytes, feeds, taps);
    tapped.restore();
    assert.deepEqual(own, before, 'restore() puts every edited byte back');
    const reference = await runWith(withTapOutputs(transformer, before, taps), feeds, taps);
    for (const t of taps) {
      assert.deepEqual(ours[t].dims, reference[t].dims, t);
      assert.deepEqual(ours[t].data, reference[t].data, `${t}: the same values as the re-encoded model`);
    }
  });

  it('hides the nodes no tap depends on, and copies when there is no room after the bytes', async () => {
    const m = await loadModel(transformer);
    const first = m.graph.nodes.find((n) => n.opType === 'Softmax')!.outputs[0];
    const { feeds } = await transformerFeeds();
    const tight = new Uint8Array(fs.readFileSync(transformer)); // its own ArrayBuffer, no spare capacity
    const before = tight.slice();
    const tapped = tapModelBytes(transformer, tight, [first]);
    assert.equal(tapped.inPlace, false);
    assert.deepEqual(tight, before, 'a copy leaves the input untouched');
    const layout = graphLayout(transformer, before);
    assert.ok(tapped.prunedNodes > 0 && tapped.prunedNodes < layout.nodes.length, `pruned ${tapped.prunedNodes} of ${layout.nodes.length}`);
    const decoded = decodeModelProto(transformer, tapped.bytes);
    assert.equal(decoded.graph!.node!.length, layout.nodes.length - tapped.prunedNodes);
    const ours = await runWith(tapped.bytes, feeds, [first]);
    const reference = await runWith(withTapOutputs(transformer, before, [first]), feeds, [first]);
    assert.deepEqual(ours[first].data, reference[first].data);
  });

  it('keeps every node when a node carries a subgraph, and refuses bytes that are not a ModelProto', () => {
    const body = { name: 'body', node: [{ op_type: 'Identity', input: ['x'], output: ['y'] }], output: [{ name: 'y' }] };
    const model = encodeModelProto({
      ir_version: 8,
      opset_import: [{ domain: '', version: 17 }],
      graph: {
        name: 'g',
        input: [{ name: 'c' }, { name: 'x' }],
        node: [
          { op_type: 'If', input: ['c'], output: ['out'], attribute: [{ name: 'then_branch', type: 5, g: body }, { name: 'else_branch', type: 5, g: body }] },
          { op_type: 'Identity', input: ['x'], output: ['x2'] },
        ],
        output: [{ name: 'out' }, { name: 'x2' }],
      },
    });
    const layout = graphLayout('if.onnx', model);
    assert.equal(layout.controlFlow, true);
    assert.deepEqual(layout.nodes.map((n) => n.outputs), [['out'], ['x2']]);
    assert.equal(tapModelBytes('if.onnx', model, ['x2']).prunedNodes, 0);
    assert.throws(
      () => tapModelBytes('bad.onnx', new Uint8Array([0x3a, 0x7f, 1, 2]), ['x']),
      (e: unknown) => e instanceof TapError && /expected an ONNX ModelProto, found a field that runs past the end/.test(e.message) && e.message.startsWith('bad.onnx: '),
    );
    assert.throws(() => tapModelBytes('empty.onnx', encodeModelProto({ ir_version: 8 }), ['x']), /found no graph \(field 7\)/);
  });
});

describe('a loaded ONNX model keeps no view into the file buffer', () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-tapbytes-'));
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('reads tensors from the file, equal to the in-memory route; hands its bytes over once; they are then freed', async () => {
    const m = await loadModel(mlp);
    const inMemory = await openOnnx(mlp, new Uint8Array(fs.readFileSync(mlp)));
    const names = Object.keys(m.graph.tensors);
    const large = names.filter((n) => m.graph.tensors[n].elements * 4 > 64 * 1024);
    assert.ok(large.length > 0, 'the example MLP has a tensor above the copy threshold (read from the file)');
    for (const n of names) assert.deepEqual((await m.readTensor(n)).data, (await inMemory.readTensor(n)).data, n);
    let bytes = m.takeBytes?.();
    assert.ok(bytes && bytes.byteLength === fs.statSync(mlp).size);
    assert.equal(m.takeBytes?.(), undefined, 'handed over once');
    const ref = new WeakRef(bytes.buffer);
    bytes = undefined;
    await new Promise((r) => setImmediate(r)); // WeakRef targets are kept until the current job ends
    collectGarbage();
    assert.equal(ref.deref(), undefined, 'nothing in the loaded model keeps the file buffer alive');
    assert.equal((await m.readTensor(large[0])).data.length, m.graph.tensors[large[0]].elements, 'tensors still read after');
  });

  it('refuses to read a tensor once the file changed on disk', async () => {
    const copy = path.join(tmp, 'mlp.onnx');
    fs.copyFileSync(mlp, copy);
    const m = await loadModel(copy);
    const large = Object.keys(m.graph.tensors).find((n) => m.graph.tensors[n].elements * 4 > 64 * 1024)!;
    fs.appendFileSync(copy, new Uint8Array(8));
    await assert.rejects(
      m.readTensor(large),
      (e: unknown) => e instanceof ModelLoadError && e.code === 'changed' && e.message.includes(copy) && /changed on disk since it was loaded/.test(e.message),
    );
  });
});
