/**
 * Repeated-structure grouping (src/model/motifs.ts, wired into graphBuild.buildHierarchy): consecutive
 * repeats in token sequences, the phase chosen at the narrowest boundary, and the groups it adds to flat
 * graphs — every operator kept exactly once, scoped graphs left alone.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { buildHierarchy } from '../../src/model/graphBuild';
import { findRepeatedBlocks } from '../../src/model/motifs';
import type { GraphNode, HierarchyGroup } from '../../src/shared/ir';

const toks = (s: string): number[] => [...s].map((c) => c.charCodeAt(0));
const flat = (n: number): number[] => new Array<number>(n + 1).fill(1);

describe('findRepeatedBlocks', () => {
  it('finds three consecutive copies of a block between unrelated ops', () => {
    const b = findRepeatedBlocks(toks('XYABCDABCDABCDZ'), flat(15), { minCoverage: 6 });
    assert.deepEqual(b, [
      { motif: 0, start: 2, length: 4, copy: 0 },
      { motif: 0, start: 6, length: 4, copy: 1 },
      { motif: 0, start: 10, length: 4, copy: 2 },
    ]);
  });

  it('places block starts where the fewest values cross', () => {
    // ABCABCAB…: periodic from 0, but the graph is narrowest before each C (cut 1 there, 3 elsewhere)
    const t = toks('ABCABCABCABQ');
    const cut = t.map((_, i) => (t[i] === 67 ? 1 : 3)).concat([1]);
    const b = findRepeatedBlocks(t, cut);
    assert.deepEqual(b.map((x) => x.start), [2, 5, 8]);
    assert.ok(b.every((x) => x.length === 3));
  });

  it('pairs two copies with other units between them when long enough, after the consecutive repeats', () => {
    const b = findRepeatedBlocks(toks('XABCDEFGHQRSTABCDEFGHZ'), flat(22));
    assert.deepEqual(b, [
      { motif: 0, start: 1, length: 8, copy: 0 },
      { motif: 0, start: 13, length: 8, copy: 1 },
    ]);
    assert.deepEqual(findRepeatedBlocks(toks('XABCDEQRSTABCDEZ'), flat(16)), [], 'five units apart: too short to trust');
    // QRQRQR (consecutive) is kept although a longer pair overlaps it
    const c = findRepeatedBlocks(toks('ABCDEFGQRQRQRSTABCDEFGQR'), flat(24));
    assert.deepEqual(c.filter((x) => x.length === 2).map((x) => x.start), [7, 9, 11]);
  });

  it('finds a short block recurring three times between other units, grown over a first op that reads from elsewhere', () => {
    // BCD recurs after P, Q and R: three conv ops (same kind) reading from different distances (different tokens)
    const t = toks('XPBCDYZQBCDWVRBCDU');
    const kinds = [...t];
    for (const i of [1, 7, 13]) kinds[i] = 1000;
    const b = findRepeatedBlocks(t, flat(t.length), {}, kinds);
    assert.deepEqual(b.map((x) => [x.start, x.length, x.copy]), [[1, 4, 0], [7, 4, 1], [13, 4, 2]]);
    assert.ok(b.every((x) => x.motif === b[0].motif));
    assert.deepEqual(findRepeatedBlocks(toks('XBCDYZBCDW'), flat(10)), [], 'twice is not enough for a short block');
  });

  it('finds nothing in a sequence without repeats or with too little coverage', () => {
    assert.deepEqual(findRepeatedBlocks(toks('ABCDEFGHIJ'), flat(10)), []);
    assert.deepEqual(findRepeatedBlocks(toks('QABABZ'), flat(6), { minCoverage: 6 }), []);
  });

  it('never overlaps blocks; each motif`s blocks hold the same tokens (random sequences)', () => {
    let seed = 7;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 200; trial++) {
      const motifs = [0, 1, 2].map(() => Array.from({ length: 2 + Math.floor(rnd() * 6) }, () => Math.floor(rnd() * 5)));
      const t: number[] = [];
      while (t.length < 120) {
        if (rnd() < 0.5) t.push(Math.floor(rnd() * 8));
        else {
          const m = motifs[Math.floor(rnd() * 3)];
          for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) t.push(...m);
        }
      }
      const cut = Array.from({ length: t.length + 1 }, () => Math.floor(rnd() * 4));
      const blocks = findRepeatedBlocks(t, cut);
      const used = new Uint8Array(t.length);
      const seqOf = new Map<number, string>();
      for (const b of blocks) {
        assert.ok(b.start >= 0 && b.start + b.length <= t.length && b.length >= 2);
        for (let i = b.start; i < b.start + b.length; i++) {
          assert.equal(used[i], 0, `unit ${i} in two blocks (trial ${trial})`);
          used[i] = 1;
        }
        const s = t.slice(b.start, b.start + b.length).join(',');
        assert.equal(seqOf.get(b.motif) ?? s, s);
        seqOf.set(b.motif, s);
      }
      for (const m of seqOf.keys()) assert.ok(blocks.filter((b) => b.motif === m).length >= 2);
    }
  });
});

/** A conv-bn-relu chain: a stem, `blocks` copies (the middle one strided), a head. */
function convChain(blocks: number, scopeOf: (i: number, op: string) => string[] = () => []): GraphNode[] {
  const nodes: GraphNode[] = [];
  let x = 'input';
  const add = (op: string, ins: string[], attrs: GraphNode['attributes'] = []): void => {
    const id = `n${nodes.length}`;
    nodes.push({ id, name: id, opType: op, domain: '', inputs: ins, outputs: [`${id}_out`], attributes: attrs, params: ins.filter((v) => v.startsWith('w')).length, paramBytes: 0, scope: scopeOf(nodes.length, op) });
    x = `${id}_out`;
  };
  add('Transpose', [x]);
  add('Reshape', [x]);
  for (let b = 0; b < blocks; b++) {
    const res = x;
    add('Conv', [x, `w${b}a`], [{ name: 'strides', value: { type: 'ints', value: b === 2 ? [2, 2] : [1, 1] } }]);
    add('BatchNormalization', [x, `w${b}b`]);
    add('Relu', [x]);
    add('Conv', [x, `w${b}c`]);
    add('Add', [x, res]);
  }
  add('GlobalAveragePool', [x]);
  add('Flatten', [x]);
  add('Gemm', [x, 'wfc']);
  return nodes;
}

const weights = (nodes: GraphNode[]): Set<string> => new Set(nodes.flatMap((n) => n.inputs.filter((v) => v.startsWith('w'))));

/** Every node listed by at most one group, and every listed node exists. */
function assertPartition(nodes: GraphNode[], h: HierarchyGroup[]): void {
  const seen = new Set<string>();
  const ids = new Set(nodes.map((n) => n.id));
  for (const g of h) {
    for (const id of g.nodes) {
      assert.ok(ids.has(id), `group ${g.id} lists unknown ${id}`);
      assert.ok(!seen.has(id), `${id} listed twice`);
      seen.add(id);
    }
    if (g.parent !== undefined) assert.ok(h.find((p) => p.id === g.parent)?.children.includes(g.id), `${g.id} missing from its parent's children`);
    for (const c of g.children) assert.equal(h.find((x) => x.id === c)?.parent, g.id);
  }
  const count = (g: HierarchyGroup): number => g.nodes.length + g.children.reduce((s, c) => s + count(h.find((x) => x.id === c)!), 0);
  for (const g of h) assert.equal(g.nodeCount, count(g), `${g.id} nodeCount`);
}

describe('buildHierarchy: repeated structure', () => {
  it('groups the residual blocks of a flat conv chain (the strided one too) as repeats of one block', () => {
    const nodes = convChain(6);
    const h = buildHierarchy(nodes, weights(nodes));
    assertPartition(nodes, h);
    assert.deepEqual(h.map((g) => [g.id, g.nodeCount]), [0, 1, 2, 3, 4, 5].map((i) => [`conv.${i}`, 5]));
    assert.ok(h.every((g) => g.motif && g.repeatKey === h[0].repeatKey && g.repeatKey));
    // each block starts at its Conv: the narrowest boundary (only the block's input crosses it)
    for (const g of h) assert.equal(nodes.find((n) => n.id === g.nodes[0])!.opType, 'Conv');
    assert.equal(h[0].params, 3);
  });

  it('re-parents one-op layer scopes (TF.js graph models) under the blocks found inside their wrapper', () => {
    const nodes = convChain(6, (i, op) => ['model', `${op.toLowerCase()}_${i}`]);
    const h = buildHierarchy(nodes, weights(nodes));
    assertPartition(nodes, h);
    const blocks = h.filter((g) => g.motif);
    assert.equal(blocks.length, 6);
    for (const b of blocks) {
      assert.equal(b.parent, 'model');
      assert.equal(b.children.length, 5);
      assert.equal(b.nodeCount, 5);
    }
    const model = h.find((g) => g.id === 'model')!;
    assert.equal(model.children.filter((c) => c.startsWith('model/conv.')).length, 6);
    assert.equal(model.children.length, 6 + 5, 'the 5 stem and head layers stay directly under model');
  });

  it('leaves short or scoped graphs as their scopes say', () => {
    const short = convChain(2);
    assert.deepEqual(buildHierarchy(short, weights(short)), []);
    const scoped = convChain(6, (i) => (i < 2 ? [] : i >= 32 ? ['head'] : [`blocks.${Math.floor((i - 2) / 5)}`]));
    const h = buildHierarchy(scoped, weights(scoped));
    assert.ok(!h.some((g) => g.motif), h.map((g) => g.id).join(' '));
  });
});
