/**
 * The vocabulary a token input indexes (embedding Gathers reached through value-preserving ops, not a
 * position Gather fed by Range(Shape(tokens))), and the id check's messages.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkTokenIds, embeddingVocabulary, logitsVocabulary } from '../../src/engine/tokens';
import { JobInputError } from '../../src/engine/errors';
import type { GraphNode, ModelGraph, TensorInfo, ValueInfo } from '../../src/model/ir';

function node(id: string, opType: string, inputs: string[], outputs: string[], axis?: number): GraphNode {
  return {
    id,
    name: id,
    opType,
    domain: '',
    inputs,
    outputs,
    attributes: axis === undefined ? [] : [{ name: 'axis', value: { type: 'int', value: axis } }],
    params: 0,
    paramBytes: 0,
    scope: [],
  };
}

function weight(name: string, shape: number[]): TensorInfo {
  const elements = shape.reduce((a, b) => a * b, 1);
  return { name, dtype: 'float32', shape, elements, byteLength: 4 * elements, location: { kind: 'inline' } };
}

function graph(nodes: GraphNode[], tensors: TensorInfo[], logitsShape: (number | string)[] = ['batch', 16, 50]): ModelGraph {
  const values: Record<string, ValueInfo> = {
    tokens: { id: 'tokens', name: 'tokens', dtype: 'int64', shape: ['batch', 16], kind: 'input' },
    logits: { id: 'logits', name: 'logits', dtype: 'float32', shape: logitsShape, kind: 'output' },
  };
  return {
    format: 'onnx',
    file: '/models/lm.onnx',
    fileBytes: 0,
    opsets: [],
    metadata: {},
    inputs: ['tokens'],
    outputs: ['logits'],
    nodes,
    values,
    tensors: Object.fromEntries(tensors.map((t) => [t.name, t])),
    hierarchy: [],
    params: 0,
    paramBytes: 0,
    warnings: [],
  } as ModelGraph;
}

describe('embeddingVocabulary', () => {
  it('finds the token table through Cast and Reshape and ignores the position table fed by Range(Shape(tokens))', () => {
    const g = graph(
      [
        node('cast', 'Cast', ['tokens'], ['ids']),
        node('flat', 'Reshape', ['ids', 'shape'], ['ids2']),
        node('wte', 'Gather', ['wte.weight', 'ids2'], ['tok_emb']),
        node('shape', 'Shape', ['tokens'], ['s']),
        node('range', 'Range', ['zero', 's', 'one'], ['pos']),
        node('wpe', 'Gather', ['wpe.weight', 'pos'], ['pos_emb']),
      ],
      [weight('wte.weight', [50, 8]), weight('wpe.weight', [16, 8])],
    );
    const v = embeddingVocabulary(g, 'tokens');
    assert.equal(v?.size, 50);
    assert.match(v!.source, /'wte\.weight' read by Gather 'wte'/);
  });

  it('takes the smallest of several tables the ids index, skips axis ≠ 0, and is undefined without one', () => {
    const two = graph(
      [node('a', 'Gather', ['big', 'tokens'], ['e1']), node('b', 'Gather', ['small', 'tokens'], ['e2']), node('c', 'Gather', ['cols', 'tokens'], ['e3'], 1)],
      [weight('big', [100, 4]), weight('small', [30, 4]), weight('cols', [4, 7])],
    );
    assert.equal(embeddingVocabulary(two, 'tokens')?.size, 30);
    assert.equal(embeddingVocabulary(graph([node('m', 'MatMul', ['tokens', 'w'], ['y'])], [weight('w', [16, 4])]), 'tokens'), undefined);
  });

  it('reads the logits vocabulary from the last declared axis, not a symbolic one', () => {
    assert.equal(logitsVocabulary(graph([], []))?.size, 50);
    assert.equal(logitsVocabulary(graph([], [], ['batch', 16, 'vocab'])), undefined);
  });
});

describe('checkTokenIds', () => {
  const vocab = { size: 10, source: 'the 10 rows of the embedding' };
  const where = { array: 'tokens', file: '/data/prompts.npz' };
  it('accepts ids in [0, vocab)', () => {
    checkTokenIds(new BigInt64Array([0n, 9n, 3n, 4n]), 2, vocab, where);
    checkTokenIds([0, 5, 1e9], 3, undefined, where);
  });
  it('names the first bad row and column, the id, the vocabulary and the file', () => {
    const cases: [ArrayLike<number | bigint>, number, RegExp][] = [
      [new BigInt64Array([1n, 2n, 3n, -1n, -5n, 0n]), 3, /^\/data\/prompts\.npz: 'tokens' row 1, column 0 holds the token id -1: expected an id in \[0, 10\) \(the 10 rows of the embedding\)$/],
      [new Int32Array([1, 2, 3, 4, 5, 10]), 2, /'tokens' row 2, column 1 holds the token id 10/],
      [[0, 0.5], 1, /'tokens' row 1 holds the token id 0\.5/],
      [new BigInt64Array([2n, 2n, 2n, 7n]).map((v, i) => (i === 3 ? 2n ** 40n : v)), 4, /row 0, column 3 holds the token id 1099511627776/],
    ];
    for (const [ids, rowLength, what] of cases) {
      assert.throws(
        () => checkTokenIds(ids, rowLength, vocab, where),
        (e: unknown) => e instanceof JobInputError && what.test(e.message) && e.file === '/data/prompts.npz',
      );
    }
  });
  it('refuses negative ids without a vocabulary, counting rows from firstRow', () => {
    assert.throws(() => checkTokenIds([4, -2], 1, undefined, { ...where, firstRow: 4096 }), /'tokens' row 4097 holds the token id -2: expected a non-negative integer id/);
  });
});
