// validateGraph with the node index (finishGraph's id → position map): its producer checks without a map of every
// value's producer must report exactly what the full checks report, in the same order, for any producer disagreement.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { GraphNode, ModelGraph, ValueInfo } from '../../src/model/ir';
import { validateGraph } from '../../src/model/validate';

function node(id: string, inputs: string[], outputs: string[]): GraphNode {
  return { id, name: id, opType: 'Relu', domain: '', inputs, outputs, attributes: [], params: 0, paramBytes: 0, scope: [] };
}
function value(id: string, kind: ValueInfo['kind'], producer?: string): ValueInfo {
  return { id, name: id, dtype: 'float32', shape: [1, 4], kind, ...(producer === undefined ? {} : { producer }) };
}
/** x → a → b → y: three nodes, every value naming its producer. */
function chain(): ModelGraph {
  return {
    format: 'onnx',
    file: 'chain.onnx',
    fileBytes: 0,
    opsets: [],
    metadata: {},
    inputs: ['x'],
    outputs: ['y'],
    nodes: [node('n0', ['x'], ['a']), node('n1', ['a'], ['b']), node('n2', ['b'], ['y'])],
    values: { x: value('x', 'input'), a: value('a', 'intermediate', 'n0'), b: value('b', 'intermediate', 'n1'), y: value('y', 'output', 'n2') },
    tensors: {},
    warnings: [],
    hierarchy: [],
    params: 0,
    paramBytes: 0,
  } as ModelGraph;
}
const indexOf = (g: ModelGraph): Map<string, number> => new Map(g.nodes.map((n, i) => [n.id, i]));

test('validateGraph with the node index: a valid graph has no problems', () => {
  assert.deepEqual(validateGraph(chain(), indexOf(chain())), []);
});

const broken: [string, (g: ModelGraph) => void, RegExp][] = [
  ['two nodes write one value', (g) => g.nodes[1].outputs.push('a'), /value 'a' is produced by both 'n0' and 'n1'/],
  ['a node lists an output twice', (g) => g.nodes[1].outputs.push('b'), /value 'b' is produced by both 'n1' and 'n1'/],
  ['a value names another producer', (g) => (g.values.b.producer = 'n2'), /value 'b' names producer 'n2' but is produced by 'n1'/],
  ['a value names a producer that writes nothing', (g) => (g.values.x.producer = 'n9'), /value 'x' names producer 'n9' but is produced by 'nothing'/],
  ['a node writes an unknown value', (g) => g.nodes[2].outputs.push('z'), /node 'n2' produces unknown value 'z'/],
  [
    'a node lists an output twice while another value names a producer nothing honours',
    (g) => {
      g.nodes[0].outputs.push('a');
      g.values.x.producer = 'n7';
    },
    /value 'a' is produced by both 'n0' and 'n0'/,
  ],
];
for (const [what, edit, expected] of broken) {
  test(`validateGraph with the node index: ${what} — the same problems as the full checks`, () => {
    const g = chain();
    edit(g);
    const withIndex = validateGraph(g, indexOf(g));
    assert.match(withIndex.join('\n'), expected);
    assert.deepEqual(withIndex, validateGraph(g));
  });
}
