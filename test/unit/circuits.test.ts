/**
 * The pure circuit machinery (src/analysis/circuits.ts): component graph, selection rules, pruning,
 * faithfulness, rank correlation (values from scipy.stats.spearmanr) and the circuit-size search.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildComponentGraph,
  circuitNodes,
  faithfulness,
  pruneCircuit,
  selectGreedy,
  selectTopN,
  smallestCircuit,
  spearman,
  type ComponentLayout,
} from '../../src/analysis/circuits';

/** The example transformer: 2 layers of 4 heads, each followed by an MLP. */
const LAYOUT: ComponentLayout[] = [
  { kind: 'attn', layer: 0, heads: 4 },
  { kind: 'mlp', layer: 0 },
  { kind: 'attn', layer: 1, heads: 4 },
  { kind: 'mlp', layer: 1 },
];

const edgeIndex = (g: ReturnType<typeof buildComponentGraph>, id: string): number => {
  const i = g.edges.findIndex((e) => e.id === id);
  assert.ok(i >= 0, `no edge ${id}`);
  return i;
};

describe('component graph', () => {
  it('has input, heads, MLPs and logits; q/k/v ports; 110 edges for the example layout', () => {
    const g = buildComponentGraph(LAYOUT);
    assert.deepEqual(
      g.nodes.map((n) => n.id),
      ['input', 'a0.h0', 'a0.h1', 'a0.h2', 'a0.h3', 'm0', 'a1.h0', 'a1.h1', 'a1.h2', 'a1.h3', 'm1', 'logits'],
    );
    // a0 ports: 12 × 1 sender; m0: 5; a1 ports: 12 × 6; m1: 10; logits: 11
    assert.equal(g.edges.length, 12 + 5 + 72 + 10 + 11);
    assert.equal(g.edges[0].id, 'input->a0.h0<q>');
    assert.ok(g.edges.some((e) => e.id === 'a0.h1->a1.h1<k>'));
    assert.ok(!g.edges.some((e) => e.from === 'a1.h0' && e.to === 'a1.h1'), 'heads of one layer do not feed each other');
    g.edges.forEach((e, i) => assert.equal(g.offset[e.receiver] + e.sender, i));
    assert.deepEqual(g.groups.map((x) => x.receivers), [[0, 12], [12, 13], [13, 25], [25, 26]]);
  });

  it('rejects an empty layout and zero heads', () => {
    assert.throws(() => buildComponentGraph([]), /no components/);
    assert.throws(() => buildComponentGraph([{ kind: 'attn', layer: 0, heads: 0 }]), /head count/);
  });
});

describe('circuit selection and pruning', () => {
  const g = buildComponentGraph(LAYOUT);
  const scores = new Float64Array(g.edges.length);
  const set = (id: string, v: number): void => {
    scores[edgeIndex(g, id)] = v;
  };
  set('a1.h1->logits', -5);
  set('a0.h1->a1.h1<k>', 3);
  set('input->a0.h1<v>', 2);
  set('m0->logits', 4); // m0 has no input in the circuit below: pruned
  set('input->a1.h1<q>', 1);

  it('top-n takes the largest |score|', () => {
    const m = selectTopN(g, scores, 3);
    assert.deepEqual(g.edges.filter((_, i) => m[i]).map((e) => e.id).sort(), ['a0.h1->a1.h1<k>', 'a1.h1->logits', 'm0->logits']);
    assert.throws(() => selectTopN(g, scores, g.edges.length + 1), /n must be/);
  });

  it('pruning drops edges from nodes without inputs and into nodes without outputs', () => {
    const pruned = pruneCircuit(g, selectTopN(g, scores, 5));
    assert.deepEqual(
      g.edges.filter((_, i) => pruned[i]).map((e) => e.id),
      ['input->a0.h1<v>', 'input->a1.h1<q>', 'a0.h1->a1.h1<k>', 'a1.h1->logits'],
    );
    assert.deepEqual(circuitNodes(g, pruned), ['input', 'a0.h1', 'a1.h1', 'logits']);
  });

  it('greedy grows from the logits', () => {
    const m = selectGreedy(g, scores, 3);
    // a1.h1->logits (5), then m0->logits (4), then a0.h1->a1.h1<k> (3, into a1.h1, now in the circuit)
    assert.deepEqual(g.edges.filter((_, i) => m[i]).map((e) => e.id).sort(), ['a0.h1->a1.h1<k>', 'a1.h1->logits', 'm0->logits']);
    const m2 = selectGreedy(g, scores, 4);
    assert.ok(m2[edgeIndex(g, 'input->a0.h1<v>')], 'the 4th edge feeds a0.h1, reached through a1.h1');
  });
});

describe('faithfulness and correlation', () => {
  it('normalises between corrupt (0) and clean (1); undefined when they are equal', () => {
    assert.equal(faithfulness(10, -10, 6), 0.8);
    assert.equal(faithfulness(10, -10, -10), 0);
    assert.equal(faithfulness(3, 3, 1), null);
  });

  it('Spearman with average ranks for ties (scipy values)', () => {
    assert.ok(Math.abs(spearman([1, 2, 3, 4, 5], [5, 6, 7, 8, 7]) - 0.8207826816681233) < 1e-12);
    assert.ok(Math.abs(spearman([3, 1, 4, 1, 5, 9, 2, 6], [2, 7, 1, 8, 2, 8, 1, 8]) - 0.19885368120992467) < 1e-12);
  });
});

describe('smallest circuit search', () => {
  it('finds the first n reaching the target with a doubling sweep and a scan of the bracket', async () => {
    const calls: number[] = [];
    const r = await smallestCircuit(100, 0.8, async (n) => {
      calls.push(n);
      return { n, edges: n, faithfulness: Math.min(1, n / 50) };
    });
    assert.equal(r.n, 40);
    assert.deepEqual(calls.slice(0, 7), [1, 2, 4, 8, 16, 32, 64]);
    assert.ok(calls.length <= 7 + 8);
  });

  it('reports no n when the full graph misses the target', async () => {
    const r = await smallestCircuit(10, 0.8, async (n) => ({ n, edges: n, faithfulness: 0.5 }));
    assert.equal(r.n, undefined);
    assert.deepEqual(r.curve.map((p) => p.n), [1, 2, 4, 8, 10]);
  });
});
