/**
 * The attention analysis on the example transformer against the independent reference
 * (scripts/reference/attention_reference.py → test/fixtures/attention/reference.json): onnxruntime-captured
 * probabilities vs PyTorch's own (1e-5), the dataset's sparsity proxies vs numpy on PyTorch's probabilities,
 * gated connectivity, errors for models without visible attention, and the worker/CLI path.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import type { AttentionResult, SparsityMetrics } from '../../src/shared/results';
import { runAttention } from '../../src/engine/analyses/attention';
import { forEachBatch, prepareTaps, releaseSessions } from '../../src/engine/capture';
import { JobInputError } from '../../src/engine/errors';
import { loadModel } from '../../src/model/load';
import { findAttention } from '../../src/model/attentionFinder';
import { repo, testEngine } from '../helpers/engine';

const model = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const data = path.join(repo, 'examples', 'transformer', 'induction.npz');
const fixtures = path.join(repo, 'test', 'fixtures', 'attention');
const ref = JSON.parse(fs.readFileSync(path.join(fixtures, 'reference.json'), 'utf8')) as {
  probsShape: number[];
  probs: number[][];
  gateBias: number;
  proxiesPromptsGated: { heads: SparsityMetrics[] };
  proxiesDataset: { prompts: number; heads: (SparsityMetrics & { layer: number; head: number })[]; layers: SparsityMetrics[]; global: SparsityMetrics };
};

after(async () => {
  await releaseSessions();
});

describe('attention probabilities and sparsity on the example transformer', () => {
  it('onnxruntime-captured probabilities equal PyTorch’s (max |diff| ≤ 1e-5)', async () => {
    const blocks = findAttention((await loadModel(model)).graph).blocks;
    assert.equal(blocks.length, 2);
    const runner = await prepareTaps(model, data, blocks.map((b) => b.probs));
    const [B] = ref.probsShape;
    let maxDiff = 0;
    await forEachBatch(
      runner,
      B,
      (b) => {
        blocks.forEach((blk, l) => {
          const got = b.tensors[blk.probs];
          assert.deepEqual(got.dims, ref.probsShape);
          const x = got.data as Float32Array;
          ref.probs[l].forEach((v, i) => (maxDiff = Math.max(maxDiff, Math.abs(x[i] - v))));
        });
      },
      {},
      { end: B },
    );
    console.log(`attention probabilities, ORT vs torch (2 prompts × 2 layers × 4 heads × 24²): max |diff| = ${maxDiff.toExponential(2)}`);
    assert.ok(maxDiff <= 1e-5, `max |diff| ${maxDiff}`);
  });

  it('the dataset’s proxies per head, layer and globally match numpy on torch’s probabilities', async () => {
    const env = await runAttention({ analysis: 'attention', model, data, options: {} }, {});
    const r = env.result as AttentionResult;
    assert.equal(r.prompts, ref.proxiesDataset.prompts);
    assert.equal(r.blocks.length, 2);
    assert.deepEqual(r.blocks.map((b) => [b.name, b.heads, b.gated, b.steps]), [
      ['blocks.0/attn', 4, false, 'Mul (scale) → Add (mask)'],
      ['blocks.1/attn', 4, false, 'Mul (scale) → Add (mask)'],
    ]);
    let maxDiff = 0;
    const cmp = (g: SparsityMetrics, w: SparsityMetrics): void => {
      for (const k of Object.keys(w) as (keyof SparsityMetrics)[]) {
        if (typeof w[k] !== 'number' || ['layer', 'head', 'heads'].includes(k)) continue;
        maxDiff = Math.max(maxDiff, Math.abs((g[k] as number) - (w[k] as number)));
      }
    };
    ref.proxiesDataset.heads.forEach((w, i) => cmp(r.heads[i], w));
    ref.proxiesDataset.layers.forEach((w, i) => cmp(r.layers[i], w));
    cmp(r.global, ref.proxiesDataset.global);
    console.log(`sparsity proxies on 512 prompts (ORT probabilities) vs numpy (torch probabilities): max |diff| = ${maxDiff.toExponential(2)}; global ${JSON.stringify(r.global)}`);
    // threshold counts may flip where ORT and torch differ by ~1e-7 around ε: one flip moves a head's
    // fraction by 1/(300·512) ≈ 7e-6
    assert.ok(maxDiff <= 1e-4, `max |diff| ${maxDiff}`);
    assert.ok(r.tokenGraph && r.tokenGraph.prompt === 0 && r.tokenGraph.tokens.length === 24 && r.tokenGraph.heads.length === 8);
    assert.ok(r.tokenGraph.heads.every((h) => h.edges.every((e) => e.from <= e.to && e.weight >= 0.1)));
    assert.ok(env.warnings?.some((w) => /labelled proxies/.test(w)));
  });

  it('connectivity with a gate bias matches numpy’s on two prompts', async () => {
    const env = await runAttention({ analysis: 'attention', model, data, limit: 2, options: { gateBias: ref.gateBias, prompt: 1 } }, {});
    const r = env.result as AttentionResult;
    const got = r.heads.map((h) => h.connectivity as number);
    const want = ref.proxiesPromptsGated.heads.map((h) => h.connectivity as number);
    const worst = Math.max(...got.map((g, i) => Math.abs(g - want[i])));
    console.log(`connectivity 1[S ${ref.gateBias} > 0], ORT scores vs torch scores: max |diff| = ${worst.toExponential(2)}`);
    // S is compared with −b: a pair within float32 noise of the boundary could flip (1/300 per prompt)
    assert.ok(worst <= 1 / 300, `connectivity ${got} vs ${want}`);
    assert.equal(r.tokenGraph?.prompt, 1);
    assert.ok(env.warnings?.some((w) => /dense/.test(w)));
  });

  it('selects layers by index or name', async () => {
    const env = await runAttention({ analysis: 'attention', model, data, limit: 4, layers: ['1'], options: {} }, {});
    const r = env.result as AttentionResult;
    assert.deepEqual(r.blocks.map((b) => b.layer), [1]);
    assert.equal(r.heads.length, 4);
    await assert.rejects(runAttention({ analysis: 'attention', model, data, layers: ['blocks.7/attn'], options: {} }, {}), /matches no attention block/);
  });

  it('says why when attention is fused or absent', async () => {
    await assert.rejects(
      runAttention({ analysis: 'attention', model: path.join(fixtures, 'fused_attention.onnx'), data, options: {} }, {}),
      (e: unknown) => e instanceof JobInputError && /fused into 1 com.microsoft.Attention node\(s\) \(e.g. \/attn\/Attention\)/.test(e.message),
    );
    await assert.rejects(
      runAttention({ analysis: 'attention', model: path.join(repo, 'examples', 'mlp', 'mlp.onnx'), data: path.join(repo, 'examples', 'data', 'fmnist.npz'), options: {} }, {}),
      /no attention block/,
    );
  });

  it('runs in the engine worker (the CLI path) with the result contract', async () => {
    const engine = testEngine();
    try {
      const env = await engine.run({ kind: 'analysis', analysis: 'attention', model, data, limit: 16, options: { epsilon: '0.05' } });
      assert.equal(env.analysis, 'attention');
      const r = env.result as AttentionResult;
      for (const h of r.heads) for (const k of ['layer', 'head', 'fractionAbove', 'keysFor90', 'entropyKeys', 'sinkMass']) assert.equal(typeof (h as unknown as Record<string, unknown>)[k], 'number');
      assert.equal(r.epsilon, 0.05);
      assert.equal(r.layers.length, 2);
      assert.equal(typeof r.global.fractionAbove, 'number');
      const est = await engine.run({ kind: 'estimateAnalysis', analysis: 'attention', model, data, options: {} });
      assert.equal(est.samples, 512);
      // without --batch-size: one prompt, then batches of the default size (64 for this small model)
      assert.equal(est.batchSize, 64);
      assert.ok(est.peakBytes > 0);
      assert.equal(est.forwardPasses, 1 + Math.ceil(511 / 64));
    } finally {
      engine.dispose();
    }
  });
});
