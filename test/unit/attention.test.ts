/**
 * Attention sparsity proxies (src/analysis/attention.ts) and the attention finder (src/model/attentionFinder.ts):
 * golden values from scripts/reference/attention_reference.py (numpy on PyTorch's own attention
 * probabilities of the example transformer), analytic cases, and hand-built graphs for the finder.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { SparsityAccumulator, tokenGraphLayer } from '../../src/analysis/attention';
import type { SparsityMetrics, SparsityResult } from '../../src/shared/results';
import { AttentionStructureError, findAttention, findResidualStream } from '../../src/model/attentionFinder';
import type { GraphNode, ModelGraph, ValueInfo } from '../../src/model/ir';

const fixtures = path.join(__dirname, '..', 'fixtures', 'attention');

interface Proxies {
  heads: (SparsityMetrics & { layer: number; head: number })[];
  layers: (SparsityMetrics & { layer: number })[];
  global: SparsityMetrics;
}
interface Reference {
  epsilon: number;
  seqLen: number;
  gateBias: number;
  validLen: number[];
  probsShape: number[];
  probs: number[][];
  scores: number[][];
  proxiesPrompts: Proxies;
  proxiesPromptsMasked: Proxies;
  proxiesPromptsGated: Proxies;
}

const ref = JSON.parse(fs.readFileSync(path.join(fixtures, 'reference.json'), 'utf8')) as Reference;

function expectMetrics(got: SparsityResult, want: Proxies, tol: number, what: string): void {
  const check = (g: Partial<SparsityMetrics>, w: Partial<SparsityMetrics>, where: string): void => {
    for (const k of Object.keys(w) as (keyof SparsityMetrics)[]) {
      if ((k as string) === 'layer' || (k as string) === 'head' || (k as string) === 'heads') continue;
      const a = g[k];
      const b = w[k] as number;
      assert.ok(typeof a === 'number', `${what} ${where}: ${k} missing`);
      assert.ok(Math.abs(a - b) <= tol * Math.max(1, Math.abs(b)), `${what} ${where}: ${k} = ${a}, numpy ${b}`);
    }
  };
  assert.equal(got.heads.length, want.heads.length);
  want.heads.forEach((w, i) => check(got.heads[i], w, `head ${w.layer}.${w.head}`));
  want.layers.forEach((w, i) => check(got.layers[i], w, `layer ${w.layer}`));
  check(got.global, want.global, 'global');
}

/** Runs the accumulator over the reference probabilities (float32, as captured). */
function fromReference(opts: { valid?: Uint8Array; gate?: boolean }): SparsityResult {
  const [B, H, T] = ref.probsShape;
  const acc = new SparsityAccumulator({ seqLen: T, heads: ref.probs.map(() => H), epsilon: ref.epsilon, gateBias: opts.gate ? ref.gateBias : undefined });
  ref.probs.forEach((p, layer) => acc.add(layer, Float32Array.from(p), [B, H, T, T], opts.valid, opts.gate ? Float32Array.from(ref.scores[layer]) : undefined));
  return acc.result();
}

describe('attention sparsity proxies vs numpy (scripts/reference/attention_reference.py)', () => {
  it('dense proxies on two prompts match exactly (1e-12)', () => {
    expectMetrics(fromReference({}), ref.proxiesPrompts, 1e-12, 'dense');
  });

  it('with padding (valid lengths 24 and 17) they match exactly', () => {
    const [B, , T] = ref.probsShape;
    const valid = new Uint8Array(B * T);
    ref.validLen.forEach((n, b) => valid.fill(1, b * T, b * T + n));
    const r = fromReference({ valid });
    expectMetrics(r, ref.proxiesPromptsMasked, 1e-12, 'masked');
    assert.equal(r.queries, 24 + 17);
  });

  it('connectivity of the gate 1[S + b > 0] matches exactly', () => {
    const r = fromReference({ gate: true });
    expectMetrics(r, ref.proxiesPromptsGated, 1e-12, 'gated');
    assert.equal(r.gateBias, ref.gateBias);
    assert.ok(r.heads.every((h) => h.connectivity !== undefined && h.connectivity > 0 && h.connectivity < 1));
  });
});

describe('attention sparsity proxies: analytic cases', () => {
  const T = 6;
  const build = (f: (i: number, j: number) => number): Float32Array => {
    const p = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (let j = 0; j <= i; j++) p[i * T + j] = f(i, j);
    return p;
  };

  it('uniform causal attention: every key is needed, exp(H) = i + 1', () => {
    const acc = new SparsityAccumulator({ seqLen: T, heads: [1], epsilon: 0.01 });
    acc.add(0, build((i) => 1 / (i + 1)), [1, 1, T, T]);
    const h = acc.result().heads[0];
    const mean = (f: (i: number) => number, from = 0): number => {
      let s = 0;
      for (let i = from; i < T; i++) s += f(i);
      return s / (T - from);
    };
    assert.ok(Math.abs(h.entropyKeys - mean((i) => i + 1)) < 1e-5);
    assert.ok(Math.abs(h.keysFor90 - mean((i) => Math.ceil(0.9 * (i + 1) - 1e-9) / (i + 1))) < 1e-6);
    assert.equal(h.fractionAbove, 1);
    // weights > 1/T: float32(1/(i+1)) against the float64 1/T (the last row is float32(1/6) > 1/6)
    let above = 0;
    for (let i = 0; i < T; i++) if (Math.fround(1 / (i + 1)) > 1 / T) above += i + 1;
    assert.ok(Math.abs(h.fractionAboveInvT - above / 21) < 1e-12);
    assert.ok(Math.abs(h.sinkMass - mean((i) => 1 / (i + 1), 1)) < 1e-6);
  });

  it('attention to self only: one key, no entropy, no sink', () => {
    const acc = new SparsityAccumulator({ seqLen: T, heads: [1] });
    acc.add(0, build((i, j) => (i === j ? 1 : 0)), [1, 1, T, T]);
    const h = acc.result().heads[0];
    assert.equal(h.entropyKeys, 1);
    assert.equal(h.sinkMass, 0);
    assert.ok(Math.abs(h.fractionAbove - 6 / 21) < 1e-12);
    assert.ok(Math.abs(h.keysFor99 - [1, 2, 3, 4, 5, 6].reduce((s, n) => s + 1 / n, 0) / 6) < 1e-12);
  });

  it('rejects wrong shapes, head counts and non-finite weights', () => {
    const acc = new SparsityAccumulator({ seqLen: T, heads: [2] });
    assert.throws(() => acc.add(0, new Float32Array(T * T), [1, 1, T, T]), /expected 2 heads/);
    assert.throws(() => acc.add(0, new Float32Array(2 * 5 * 5), [1, 2, 5, 5]), /expected weights of shape/);
    const bad = new Float32Array(2 * T * T);
    bad[T] = NaN;
    assert.throws(() => acc.add(0, bad, [1, 2, T, T]), /non-finite/);
    assert.throws(() => new SparsityAccumulator({ seqLen: T, heads: [1], gateBias: 0 }).add(0, new Float32Array(T * T), [1, 1, T, T]), /gate bias needs scores/);
    assert.throws(() => new SparsityAccumulator({ seqLen: 0, heads: [1] }), /seqLen/);
  });

  it('token graph: causal edges above the threshold, padded tokens excluded', () => {
    const p = build((i, j) => (j === 0 ? 0.6 : j === i ? 0.4 : 0));
    const [g] = tokenGraphLayer(1, p, 1, T, 0.5);
    assert.deepEqual(
      g.edges.map((e) => [e.from, e.to]),
      [[0, 0], [0, 1], [0, 2], [0, 3], [0, 4], [0, 5]],
    );
    const valid = Uint8Array.from([1, 1, 1, 0, 0, 0]);
    assert.equal(tokenGraphLayer(1, p, 1, T, 0.3, valid)[0].edges.length, 1 + 2 + 2);
  });
});

/** A tiny IR graph from (op, inputs, outputs) triples; names starting with W are initializers. */
function graph(nodes: [string, string[], string[], Record<string, number>?, string?][], inputs = ['x'], outputs?: string[]): ModelGraph {
  const values: Record<string, ValueInfo> = {};
  const gn: GraphNode[] = nodes.map(([op, ins, outs, attrs, domain], i) => ({
    id: `n${i}_${op}`,
    name: `n${i}_${op}`,
    opType: op,
    domain: domain ?? '',
    inputs: ins,
    outputs: outs,
    attributes: Object.entries(attrs ?? {}).map(([name, value]) => ({ name, value: { type: 'int' as const, value } })),
    params: 0,
    paramBytes: 0,
    scope: ['block'],
  }));
  for (const n of gn) {
    for (const v of n.inputs) if (v && !values[v]) values[v] = { id: v, name: v, kind: v.startsWith('W') ? 'initializer' : inputs.includes(v) ? 'input' : 'intermediate' };
    for (const v of n.outputs) values[v] = { id: v, name: v, kind: 'intermediate', producer: n.id };
  }
  return {
    format: 'onnx',
    file: '/mem/test.onnx',
    fileBytes: 0,
    opsets: [{ domain: '', version: 17 }],
    metadata: {},
    inputs,
    outputs: outputs ?? [gn[gn.length - 1].outputs[0]],
    nodes: gn,
    values,
    tensors: {},
    hierarchy: [],
    params: 0,
    paramBytes: 0,
    warnings: [],
  };
}

/** One pre-LN attention block + MLP, written like the example's export. */
const block = (x: string, l: number, gated = false): [string, string[], string[], Record<string, number>?][] => [
  ['LayerNormalization', [x, `Wln${l}`, `Wlnb${l}`], [`ln${l}`]],
  ['MatMul', [`ln${l}`, `Wq${l}`], [`q${l}`]],
  ['MatMul', [`ln${l}`, `Wk${l}`], [`k${l}`]],
  ['MatMul', [`ln${l}`, `Wv${l}`], [`v${l}`]],
  ['Transpose', [`k${l}`], [`kt${l}`]],
  ['MatMul', [`q${l}`, `kt${l}`], [`s${l}`]],
  ['Mul', [`s${l}`, 'Wscale'], [`ss${l}`]],
  ['Add', [`ss${l}`, 'Wmask'], [`sm${l}`]],
  ['Softmax', [`sm${l}`], [`p${l}`], { axis: -1 }],
  ...(gated
    ? ([
        ['Add', [`ss${l}`, 'Wgate'], [`ga${l}`]],
        ['Greater', [`ga${l}`, 'Wzero'], [`gb${l}`]],
        ['Cast', [`gb${l}`], [`g${l}`]],
        ['Mul', [`p${l}`, `g${l}`], [`pg${l}`]],
        ['MatMul', [`pg${l}`, `v${l}`], [`z${l}`]],
      ] as [string, string[], string[]][])
    : ([['MatMul', [`p${l}`, `v${l}`], [`z${l}`]]] as [string, string[], string[]][])),
  ['Transpose', [`z${l}`], [`zt${l}`]],
  ['MatMul', [`zt${l}`, `Wo${l}`], [`o${l}`]],
  ['Add', [`Wob${l}`, `o${l}`], [`ob${l}`]],
  ['Add', [x, `ob${l}`], [`r${l}`]],
  ['LayerNormalization', [`r${l}`, `Wln2${l}`, `Wln2b${l}`], [`lnm${l}`]],
  ['MatMul', [`lnm${l}`, `Wfc${l}`], [`h${l}`]],
  ['Relu', [`h${l}`], [`hr${l}`]],
  ['MatMul', [`hr${l}`, `Wfo${l}`], [`m${l}`]],
  ['Add', [`r${l}`, `m${l}`], [`x${l + 1}`]],
];

describe('attention sparsity proxies: full (non-causal) blocks, model masks, cross-attention', () => {
  it('uniform full attention over T keys: every pair above ε, exp(H) = T, keysFor90 = ⌈0.9T⌉/T, sink 1/T', () => {
    const T = 5;
    const acc = new SparsityAccumulator({ seqLen: T, heads: [1], layers: [{ queries: T, keys: T, causal: false }] });
    acc.add(0, new Float32Array(T * T).fill(1 / T), [1, 1, T, T]);
    const h = acc.result().heads[0];
    assert.equal(h.fractionAbove, 1);
    assert.ok(Math.abs(h.entropyKeys - T) < 1e-5);
    assert.equal(h.keysFor90, Math.ceil(0.9 * T) / T);
    // the sink (key 0) is averaged over the other T−1 queries, its own row excluded
    assert.ok(Math.abs(h.sinkMass - 1 / T) < 1e-7);
    // the same weights read as causal count only keys j ≤ i: exp(H) = i + 1, averaged = 3
    const causal = new SparsityAccumulator({ seqLen: T, heads: [1] });
    causal.add(0, new Float32Array(T * T).fill(1 / T), [1, 1, T, T]);
    assert.ok(Math.abs(causal.result().heads[0].entropyKeys - 3) < 1e-5);
  });

  it('keys the model masked are neither pairs nor sinks: uniform over the 3 attended of 5 keys = dense over 3', () => {
    const T = 5;
    const p = new Float32Array(T * T);
    for (let i = 0; i < T; i++) for (const j of [1, 2, 4]) p[i * T + j] = 1 / 3;
    const keyValid = Uint8Array.from([0, 1, 1, 0, 1]);
    const acc = new SparsityAccumulator({ seqLen: T, heads: [1], layers: [{ queries: T, keys: T, causal: false }] });
    acc.add(0, p, [1, 1, T, T], undefined, undefined, true, keyValid);
    const h = acc.result().heads[0];
    assert.equal(h.fractionAbove, 1, 'the 2 masked keys (weight 0) are not counted as pairs');
    assert.ok(Math.abs(h.entropyKeys - 3) < 1e-5);
    assert.equal(h.keysFor90, 1);
    // sink = the first attended key (1), over the queries other than 1
    assert.ok(Math.abs(h.sinkMass - 1 / 3) < 1e-7);
    const unmasked = new SparsityAccumulator({ seqLen: T, heads: [1], layers: [{ queries: T, keys: T, causal: false }] });
    unmasked.add(0, p, [1, 1, T, T]);
    assert.ok(Math.abs(unmasked.result().heads[0].fractionAbove - 3 / 5) < 1e-12);
  });

  it('cross-attention with 2 queries over 4 keys', () => {
    const p = Float32Array.from([0.7, 0.25, 0.03, 0.02, 0.25, 0.25, 0.25, 0.25]);
    const acc = new SparsityAccumulator({ seqLen: 4, heads: [1], layers: [{ queries: 2, keys: 4, causal: false }] });
    acc.add(0, p, [1, 1, 2, 4]);
    const r = acc.result();
    assert.equal(r.queries, 2);
    assert.ok(Math.abs(r.heads[0].fractionAboveInvT - 1 / 8) < 1e-12, 'only 0.7 > 1/Tk = 0.25');
    assert.ok(Math.abs(r.heads[0].keysFor90 - (2 / 4 + 4 / 4) / 2) < 1e-12);
    assert.throws(() => acc.add(0, p, [1, 1, 4, 2]), /expected weights of shape \[B, H, 2, 4\]/);
    assert.throws(() => new SparsityAccumulator({ seqLen: 4, heads: [1], layers: [{ queries: 2, keys: 4, causal: true }] }), /causal layer needs as many queries as keys/);
    assert.throws(() => acc.add(0, p, [1, 1, 2, 4], new Uint8Array(4)), /token mask needs as many queries as keys/);
  });

  it('token graph of a full block has edges both ways', () => {
    const p = Float32Array.from([0.5, 0.5, 0.5, 0.5]);
    assert.deepEqual(
      tokenGraphLayer(0, p, 1, 2, 0.5, undefined, false)[0].edges.map((e) => [e.from, e.to]),
      [[0, 0], [1, 0], [0, 1], [1, 1]],
    );
    assert.equal(tokenGraphLayer(0, p, 1, 2, 0.5)[0].edges.length, 3);
  });
});

describe('attention finder', () => {
  const twoLayers = [
    ['Gather', ['Wemb', 'tokens'], ['e']],
    ['Add', ['e', 'Wpos'], ['x0']],
    ...block('x0', 0),
    ...block('x1', 1),
    ['LayerNormalization', ['x2', 'Wlnf', 'Wlnfb'], ['lnf']],
    ['MatMul', ['lnf', 'Wu'], ['logits']],
  ] as [string, string[], string[], Record<string, number>?][];

  it('finds each block: scale and mask steps, scores before the mask, q/k/v/z', () => {
    const r = findAttention(graph(twoLayers, ['tokens'], ['logits']));
    assert.equal(r.blocks.length, 2);
    const b = r.blocks[1];
    assert.deepEqual([b.layer, b.q, b.kT, b.v, b.z, b.scores, b.logits, b.probs], [1, 'q1', 'kt1', 'v1', 'z1', 'ss1', 'sm1', 'p1']);
    assert.deepEqual(b.steps.map((s) => s.role), ['scale', 'mask']);
    assert.equal(b.gate, undefined);
  });

  it('decomposes the residual stream: attention and MLP writes, the final value', () => {
    const s = findResidualStream(graph(twoLayers, ['tokens'], ['logits']));
    assert.equal(s.embed, 'x0');
    assert.deepEqual(
      s.components.map((c) => `${c.kind}${c.layer}:${c.input}->${c.output}`),
      ['attn0:x0->ob0', 'mlp0:r0->m0', 'attn1:x1->ob1', 'mlp1:r1->m1'],
    );
    assert.equal(s.final, 'x2');
  });

  it('recognises the gate of sparse attention (softmax ⊙ 1[S + b > 0])', () => {
    const r = findAttention(graph([['Identity', ['tokens'], ['x0']], ...block('x0', 0, true)], ['tokens']));
    assert.equal(r.blocks.length, 1);
    assert.equal(r.blocks[0].probs, 'pg0');
    assert.equal(r.blocks[0].gate?.value, 'g0');
  });

  it('skips classifier softmaxes with a note, and reports fused attention', () => {
    const g = graph([
      ['MatMul', ['x', 'W1'], ['h']],
      ['Softmax', ['h'], ['p'], { axis: -1 }],
      ['Attention', ['x', 'Wqkv', 'Wb'], ['y'], {}, 'com.microsoft'],
    ]);
    const r = findAttention(g);
    assert.equal(r.blocks.length, 0);
    assert.match(r.notes[0], /not fed by a product of two computed values/);
    assert.deepEqual(r.fused, [{ node: 'n2_Attention', opType: 'Attention', domain: 'com.microsoft' }]);
    assert.throws(() => findResidualStream(g, r), (e: unknown) => e instanceof AttentionStructureError && /fused attention op\(s\) com.microsoft.Attention/.test(e.message));
  });

  it('decomposes post-LN blocks: each residual Add’s norm is the component’s post, the last one’s belongs to the logits', () => {
    // post-LN: y0 = LN(x0 + attn(x0)), y0' = LN(y0 + mlp(y0)); the next block reads the normalised value
    const nodes = [
      ['Identity', ['tokens'], ['x0']],
      ...block('x0', 0).slice(0, 14),
      ['LayerNormalization', ['r0', 'Wa', 'Wb'], ['y0']],
      ['MatMul', ['y0', 'Wfc'], ['h0']],
      ['Relu', ['h0'], ['hr0']],
      ['Add', ['y0', 'hr0'], ['rm0']],
      ['LayerNormalization', ['rm0', 'Wc', 'Wd'], ['x1']],
      ...block('x1', 1).slice(0, 14),
      ['LayerNormalization', ['r1', 'We', 'Wf'], ['lnf']],
      ['MatMul', ['lnf', 'Wu'], ['logits']],
    ] as [string, string[], string[], Record<string, number>?][];
    const s = findResidualStream(graph(nodes, ['tokens'], ['logits']));
    assert.equal(s.postLN, true);
    assert.deepEqual(
      s.components.map((c) => `${c.kind}${c.layer}:${c.input}->${c.resid}${c.post ? `->${c.post}` : ''}`),
      ['attn0:x0->r0->y0', 'mlp0:y0->rm0->x1', 'attn1:x1->r1'],
    );
    assert.equal(s.final, 'r1', 'the last norm is part of the logits path');
  });

  it('a scale computed from shapes alone (HF’s torch.full divisor) is a scale; Shape reads of z and of the input are skipped', () => {
    const nodes = twoLayers.map((n) => (n[0] === 'Mul' && n[1][1] === 'Wscale' ? (['Div', [n[1][0], 'dv'], n[2]] as (typeof twoLayers)[number]) : n));
    nodes.unshift(['Shape', ['tokens'], ['shp']], ['Gather', ['shp', 'Wone'], ['d0']], ['Cast', ['d0'], ['df']], ['Sqrt', ['df'], ['dv']]);
    const z = nodes.findIndex((n) => n[2][0] === 'zt0');
    nodes.splice(z + 1, 0, ['Shape', ['zt0'], ['zs0']]);
    // HF's GPT2Model ends with hidden_states.view(input_shape + (D,)): the logits read the input's shape
    nodes[nodes.length - 1] = ['MatMul', ['lnf', 'Wu'], ['lg']];
    nodes.push(['Shape', ['tokens'], ['tshape']], ['Concat', ['tshape', 'Wv'], ['vshape'], { axis: 0 }], ['Reshape', ['lg', 'vshape'], ['logits']]);
    const s = findResidualStream(graph(nodes, ['tokens'], ['logits']));
    assert.equal(s.postLN, false);
    assert.deepEqual(s.components.map((c) => `${c.kind}${c.layer}`), ['attn0', 'mlp0', 'attn1', 'mlp1']);
  });

  it('refuses an output that reads the input besides the stream, naming the node where it joins', () => {
    const nodes = [...twoLayers.slice(0, -1), ['Cast', ['tokens'], ['tf']], ['Add', ['lnf', 'tf'], ['logits']]] as typeof twoLayers;
    assert.throws(
      () => findResidualStream(graph(nodes, ['tokens'], ['logits'])),
      (e: unknown) => e instanceof AttentionStructureError && /reads the graph input\(s\) tokens other than through the last residual stream value 'x2': Add \S+ combines it with 'tf'/.test(e.message),
    );
  });

  it('refuses several graph inputs, naming them and what to export instead', () => {
    assert.throws(
      () => findResidualStream(graph(twoLayers, ['tokens', 'mask'], ['logits'])),
      (e: unknown) => e instanceof AttentionStructureError && /found 2 \(tokens, mask\); circuit pairs give one input per side/.test(e.message),
    );
  });

  it('refuses a block that is neither x + f(LN(x)) nor LN(x + f(x)), naming the values', () => {
    // the second block reads a value computed from the stream by something other than a norm of the residual Add
    const nodes = [
      ['Identity', ['tokens'], ['x0']],
      ...block('x0', 0).slice(0, 14),
      ['Mul', ['r0', 'tokensf'], ['y0']],
      ...block('y0', 1).slice(0, 14),
      ['MatMul', ['r1', 'Wu'], ['logits']],
    ] as [string, string[], string[], Record<string, number>?][];
    nodes.unshift(['Cast', ['tokens'], ['tokensf']]);
    assert.throws(
      () => findResidualStream(graph(nodes, ['tokens'], ['logits'])),
      (e: unknown) => e instanceof AttentionStructureError && /reads the stream value 'y0'.*'r0'.*post-LN blocks LN\(x \+ f\(x\)\)/.test(e.message),
    );
  });
});
