/**
 * Circuits on the example transformer: the decomposed (per-receiver) forward against the plain model and
 * PyTorch, EAP gradients against finite differences, exact patching against PyTorch's
 * (scripts/reference/circuit_exact.py → test/fixtures/attention/exact_patching.json) and vs EAP / EAP-IG
 * (Spearman), and the discovered circuits against the known induction mechanism
 * (examples/transformer/mechanism.json), with measured faithfulness. Two pair sets: the example's own
 * (corrupting the copied token: the value path) and test/fixtures/attention/induction_match_pairs.npz
 * (corrupting the matched token: K-composition through the previous-token heads;
 * scripts/reference/attention_pairs.py).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { CircuitModel } from '../../src/engine/analyses/circuitModel';
import { CircuitSession } from '../../src/engine/analyses/circuitDiscovery';
import { readPromptPairs, runCircuit } from '../../src/engine/analyses/circuit';
import type { CircuitResult } from '../../src/shared/results';
import { JobInputError } from '../../src/engine/errors';
import { openNpz, writeNpz } from '../../src/model/datasets';
import { loadModel } from '../../src/model/load';
import { tf } from '../../src/model/runtime/tfjs';
import { repo, testEngine } from '../helpers/engine';
import { expectClose } from '../helpers/expectClose';

const model = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const dataPairs = path.join(repo, 'examples', 'transformer', 'induction.npz');
const matchPairs = path.join(repo, 'test', 'fixtures', 'attention', 'induction_match_pairs.npz');
const ref = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'attention', 'reference.json'), 'utf8')) as {
  circuitMetrics: Record<'data' | 'match', { clean: number; corrupt: number }>;
};
const mechanism = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'transformer', 'mechanism.json'), 'utf8')) as {
  previousTokenHeads: [number, number][];
  inductionHeads: [number, number][];
  primaryPreviousTokenHead: [number, number];
  primaryInductionHead: [number, number];
};
/** Exact patching per edge computed in PyTorch (scripts/reference/circuit_exact.py) on the match pairs. */
const torchExact = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'attention', 'exact_patching.json'), 'utf8')) as {
  metricClean: number;
  metricCorrupt: number;
  edges: string[];
  exactScores: number[];
};
const id = ([l, h]: [number, number]): string => `a${l}.h${h}`;

let cm: CircuitModel;
let session: CircuitSession;

before(async () => {
  const pairs = await readPromptPairs(dataPairs);
  cm = await CircuitModel.create(await loadModel(model), tf.tensor2d(pairs.clean.subarray(0, 24), [1, 24], 'int32'));
  session = new CircuitSession(cm, pairs, 64);
  await session.prepare();
});

after(() => {
  session?.dispose();
  cm?.dispose();
});

const maxAbsDiff = (a: tf.Tensor, b: tf.Tensor): number => tf.tidy(() => tf.max(tf.abs(tf.sub(a, b))).dataSync()[0]);

describe('the decomposed forward (receiver inputs rebuilt as residual sums)', () => {
  it('with every edge kept equals the plain model and PyTorch’s logits; with none, the corrupted run', async () => {
    assert.equal(cm.graph.edges.length, 110);
    const z = await openNpz(path.join(repo, 'examples', 'transformer', 'reference.npz'));
    const t = await z.read('tokens');
    const want = await z.read('logits');
    const tokens = tf.tensor2d(Int32Array.from(t.data as BigInt64Array, Number), t.shape as [number, number], 'int32');
    const torchLogits = tf.tensor(want.data as Float32Array, want.shape);
    const b = session.batches[0];
    const full = new Float32Array(cm.graph.edges.length).fill(1);
    const clean = cm.forward(tokens);
    const [plain] = cm.executor.run({ tokens }, ['logits']);
    const dTorch = maxAbsDiff(clean.logits, torchLogits);
    const dPlain = maxAbsDiff(clean.logits, plain);
    const kept = cm.forward(b.clean, { patch: { corrupt: b.corruptSenders as tf.Tensor, keep: full } });
    const none = cm.forward(b.clean, { patch: { corrupt: b.corruptSenders as tf.Tensor, keep: new Float32Array(full.length) } });
    const corrupt = cm.forward(b.corrupt);
    const [plainClean] = cm.executor.run({ tokens: b.clean }, ['logits']);
    const dKept = maxAbsDiff(kept.logits, plainClean);
    const dNone = maxAbsDiff(none.logits, corrupt.logits);
    console.log(`decomposed vs torch logits ${dTorch.toExponential(2)}, vs plain tfjs ${dPlain.toExponential(2)}; all edges kept vs clean ${dKept.toExponential(2)}; none kept vs corrupt ${dNone.toExponential(2)}`);
    assert.ok(dTorch < 1e-4 && dPlain < 1e-4 && dKept < 1e-4);
    assert.equal(dNone, 0);
    tf.dispose([tokens, torchLogits, clean.logits, clean.senders, plain, kept.logits, kept.senders, none.logits, none.senders, corrupt.logits, corrupt.senders, plainClean]);
  });

  it('the metric on clean and corrupted prompts equals PyTorch’s', () => {
    assert.ok(Math.abs(session.metricClean - ref.circuitMetrics.data.clean) < 1e-4, `${session.metricClean}`);
    assert.ok(Math.abs(session.metricCorrupt - ref.circuitMetrics.data.corrupt) < 1e-4, `${session.metricCorrupt}`);
  });

  it('EAP scores are the first-order effect of patching one edge (finite differences, 1% of the way)', async () => {
    const eap = await session.scores('eap');
    const b = session.batches[0];
    const full = b.corruptSenders as tf.Tensor;
    const eps = 0.01;
    b.corruptSenders = tf.tidy(() => tf.add(b.cleanSenders as tf.Tensor, tf.mul(tf.sub(full, b.cleanSenders as tf.Tensor), eps)));
    try {
      const keep = new Float32Array(cm.graph.edges.length).fill(1);
      for (const e of ['input->m0', 'input->a1.h1<v>', 'a1.h1->logits', 'input->a1.h1<k>']) {
        const i = cm.graph.edges.findIndex((x) => x.id === e);
        keep[i] = 0;
        const fd = ((await session.metricWith(keep)) - session.metricClean) / eps;
        keep[i] = 1;
        console.log(`edge ${e}: finite difference ${fd.toFixed(4)}, EAP ${eap[i].toFixed(4)}`);
        assert.ok(Math.abs(fd - eap[i]) <= 0.05 * Math.abs(eap[i]) + 0.02, `${e}: fd ${fd} vs EAP ${eap[i]}`);
      }
    } finally {
      b.corruptSenders.dispose();
      b.corruptSenders = full;
    }
  });
});

describe('circuit discovery on the induction mechanism', () => {
  it('match pairs: exact patching vs EAP/EAP-IG, and a faithful circuit holding the previous-token and induction heads', async () => {
    const env = await runCircuit({ analysis: 'circuit', model, data: matchPairs, options: { validate: true } }, {});
    const r = env.result as CircuitResult;
    const v = r.validation!;
    const c = r.circuit;
    console.log(
      `match pairs: metric clean ${c.metricClean.toFixed(3)}, corrupt ${c.metricCorrupt.toFixed(3)}, circuit ${c.metricCircuit.toFixed(3)}; ` +
        `faithfulness ${c.faithfulness?.toFixed(3)} with n = ${c.edgeCount} of ${r.totalEdges} edges (${(100 * c.fraction).toFixed(1)}%); heads ${c.heads.join(' ')}`,
    );
    console.log(
      `Spearman vs exact patching (${r.totalEdges} forwards), top ${v.top} edges by |exact|: EAP ${v.spearmanTop.eap.toFixed(3)}, EAP-IG ${v.spearmanTop.eapIg.toFixed(3)}; all edges: EAP ${v.spearmanAll.eap.toFixed(3)}, EAP-IG ${v.spearmanAll.eapIg.toFixed(3)}`,
    );
    console.log(`discovery: ${env.timings.discoveryMs.toFixed(0)} ms, ${r.passes.forward} forward + ${r.passes.backward} backward passes`);
    assert.ok(Math.abs(c.metricCorrupt - ref.circuitMetrics.match.corrupt) < 1e-4);
    // The engine's exact patching against PyTorch's, edge by edge (float32 on both sides; the scores reach ~2;
    // measured max |Δ| 1.3e-6 on the onnxruntime route).
    assert.equal(r.listedEdges, r.totalEdges, 'every edge listed, in graph order');
    assert.deepEqual(r.edges.map((e) => e.id), torchExact.edges, 'the same component graph as the PyTorch reference');
    console.log(`exact patching vs PyTorch: max |Δ| ${Math.max(...v.exactScores.map((x, i) => Math.abs(x - torchExact.exactScores[i]))).toExponential(2)} over ${v.exactScores.length} edges`);
    expectClose(v.exactScores, torchExact.exactScores, { abs: 1e-5, rel: 1e-4 }, 'exact patching vs PyTorch (scripts/reference/circuit_exact.py)');
    assert.ok(c.faithfulness !== null && c.faithfulness >= 0.8);
    for (const h of [...mechanism.previousTokenHeads, ...mechanism.inductionHeads]) assert.ok(c.heads.includes(id(h)), `the circuit lacks ${id(h)}`);
    assert.ok(c.fraction < 0.5);
    // measured here: EAP-IG 0.911 on the top 50 (EAP 0.582), the acceptance target being 0.9 (the example
    // transformer is trained to stay out of saturation for this; examples/README.md)
    assert.ok(v.spearmanTop.eapIg >= 0.9, `EAP-IG Spearman ${v.spearmanTop.eapIg}`);
    assert.ok(v.spearmanAll.eapIg > v.spearmanAll.eap);
    // every listed edge carries a score; circuit edges are marked
    assert.equal(r.edges.filter((e) => e.inCircuit).length, c.edgeCount);
  });

  it('the example’s pairs: the copying circuit of the induction heads, ≥ 0.8 faithful with few edges', async () => {
    const env = await runCircuit({ analysis: 'circuit', model, data: dataPairs, options: { method: 'eap-ig', selection: 'greedy' } }, {});
    const c = (env.result as CircuitResult).circuit;
    console.log(`example pairs (greedy): faithfulness ${c.faithfulness?.toFixed(3)} with n = ${c.edgeCount} of 110 edges; heads ${c.heads.join(' ')}; ${env.timings.discoveryMs.toFixed(0)} ms`);
    assert.ok(c.faithfulness !== null && c.faithfulness >= 0.8);
    assert.ok(c.heads.includes(id(mechanism.primaryInductionHead)));
    assert.ok(c.fraction <= 0.15);
    assert.ok(!c.heads.some((h) => h.startsWith('a0.')), 'the copied-token corruption leaves the previous-token heads’ inputs unchanged');
  });
});

describe('circuit inputs and errors', () => {
  it('refuses pairs of unequal length, missing arrays and models without visible attention', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuit-'));
    try {
      const bad = path.join(dir, 'bad.npz');
      await writeNpz(bad, {
        clean: { dtype: 'int64', shape: [2, 24], data: new BigInt64Array(48) },
        corrupt: { dtype: 'int64', shape: [2, 23], data: new BigInt64Array(46) },
        answer: { dtype: 'int64', shape: [2], data: new BigInt64Array(2) },
        wrong: { dtype: 'int64', shape: [2], data: new BigInt64Array(2) },
      });
      await assert.rejects(readPromptPairs(bad), (e: unknown) => e instanceof JobInputError && /equal length/.test(e.message) && /\(2, 23\)/.test(e.message));
      const missing = path.join(dir, 'missing.npz');
      await writeNpz(missing, { clean: { dtype: 'int64', shape: [1, 24], data: new BigInt64Array(24) } });
      await assert.rejects(readPromptPairs(missing), /'corrupt' is missing/);
      const big = path.join(dir, 'big.npz');
      const toks = new BigInt64Array(24).fill(99n);
      await writeNpz(big, {
        clean: { dtype: 'int64', shape: [1, 24], data: toks },
        corrupt: { dtype: 'int64', shape: [1, 24], data: toks },
        answer: { dtype: 'int64', shape: [1], data: new BigInt64Array(1) },
        wrong: { dtype: 'int64', shape: [1], data: new BigInt64Array(1) },
      });
      await assert.rejects(runCircuit({ analysis: 'circuit', model, data: big, options: { edges: 5 } }, {}), /'clean' row 0, column 0 holds the token id 99: expected an id in \[0, 32\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    await assert.rejects(
      runCircuit({ analysis: 'circuit', model: path.join(repo, 'test', 'fixtures', 'attention', 'fused_attention.onnx'), data: dataPairs, options: {} }, {}),
      (e: unknown) => e instanceof JobInputError && /fused attention op\(s\) com.microsoft.Attention/.test(e.message),
    );
  });

  it('runs in the engine worker (the CLI path): a fixed-size EAP circuit', async () => {
    const engine = testEngine();
    try {
      const env = await engine.run({ kind: 'analysis', analysis: 'circuit', model, data: dataPairs, limit: 16, options: { method: 'eap', edges: '12' } });
      const r = env.result as CircuitResult;
      assert.equal(env.analysis, 'circuit');
      assert.match(env.backend, /^onnxruntime /);
      assert.deepEqual(Object.keys(r.circuit).filter((k) => ['edges', 'metricClean', 'metricCorrupt', 'metricCircuit', 'faithfulness'].includes(k)).sort(), ['edges', 'faithfulness', 'metricCircuit', 'metricClean', 'metricCorrupt']);
      assert.ok(r.nodes.some((n) => n.kind === 'head' && n.layer === 1 && n.head === 3));
      assert.ok(r.edges.every((e) => typeof e.score === 'number' && e.from && e.to));
      assert.equal(r.passes.backward, 1);
      assert.equal(r.pairs, 16);
    } finally {
      engine.dispose();
    }
  });
});
