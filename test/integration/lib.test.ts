/**
 * LIB on the real example checkpoints (ANALYSES.md §4, issue 5 acceptance):
 * - the example MLP over its 5000 training samples: invariants (E[f̂f̂ᵀ] = diag(Λ), E[ĴᵀĴ] = I, C_pinv C = I,
 *   constant direction) ≤ 1e-6; agreement with the independent numpy implementation
 *   (scripts/reference/lib_mlp.py → test/fixtures/lib/mlp_reference.json); the paper's shape (LIB needs far fewer
 *   edges than PCA; node ablation keeps accuracy with fewer LIB directions);
 * - closed form vs autodiff (tfjs VJPs) on the MLP: M′ and edges ≤ 1e-6 relative (Frobenius);
 * - the example transformer (autodiff, per-position Jacobians): invariants, and exact per-position Jacobians vs
 *   one stochastic source on a position-local section (where the estimator is exact);
 * - the engine worker end to end, typed errors for bad node layers.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { runLib } from '../../src/engine/analyses/lib';
import type { LibResult } from '../../src/shared/results';
import type { AnalysisEnvelope } from '../../src/shared/analysis';
import { repo, testEngine } from '../helpers/engine';

const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
const fmnist = path.join(repo, 'examples', 'data', 'fmnist.npz');
const transformer = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const induction = path.join(repo, 'examples', 'transformer', 'induction.npz');

interface Reference {
  samples: number;
  layers: { name: string; dim: number; firstRank: number; rank: number; lambdaConstant: number; lambdasTop20: number[]; effectiveFeatures: number; pcaRank: number; pcaTop20: number[] }[];
  edgesFor90: number;
  edgesFor99: number;
  perPair: { for90: number; for99: number }[];
  pca: { edgesFor90: number; edgesFor99: number; perPair: { for90: number; for99: number }[] };
  ablationLib: { layer: number; kept: number; accuracy: number }[];
  ablationPca: { layer: number; kept: number; accuracy: number }[];
}
const reference = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'lib', 'mlp_reference.json'), 'utf8')) as Reference;

function lib(model: string, data: string, options: Record<string, unknown>, extra: { limit?: number; layers?: string[] } = {}): Promise<AnalysisEnvelope<LibResult>> {
  return runLib({ analysis: 'lib', model, data, options, ...extra }, {});
}

/** Counts agree exactly or within 2%. */
function closeCount(ours: number, ref: number, what: string): void {
  assert.ok(ours === ref || Math.abs(ours - ref) <= 0.02 * ref, `${what}: ${ours} vs numpy ${ref}`);
}

function assertInvariants(r: LibResult, tol: number): void {
  assert.ok(r.invariants && r.invariants.length === r.layers.length - 1, 'one invariant row per folded layer');
  for (const inv of r.invariants) {
    assert.ok(inv.gram <= tol, `${inv.layer}: E[f̂f̂ᵀ] vs diag(Λ) ${inv.gram}`);
    assert.ok(inv.jacobian <= tol, `${inv.layer}: E[ĴᵀĴ] vs I ${inv.jacobian}`);
    assert.ok(inv.pinv <= tol, `${inv.layer}: C_pinv C vs I ${inv.pinv}`);
    assert.equal(inv.constantRow, 0, `${inv.layer}: the next layer's constant direction has zero Jacobian`);
  }
}

/** Smallest kept k whose accuracy reaches `frac` of the layer's best accuracy. */
function kFor(points: { layer: string; kept: number; accuracy: number }[], layer: string, frac: number): number {
  const mine = points.filter((p) => p.layer === layer).sort((a, b) => a.kept - b.kept);
  const best = Math.max(...mine.map((p) => p.accuracy));
  return mine.find((p) => p.accuracy >= frac * best)!.kept;
}

describe('lib on the example MLP (5000 samples, closed form)', () => {
  let env: AnalysisEnvelope<LibResult>;
  before(async () => {
    env = await lib(mlp, fmnist, { checkInvariants: true });
  });

  it('picks the inputs of the Linear layers and the logits, all closed-form', () => {
    const r = env.result;
    assert.deepEqual(r.nodeLayers.names, reference.layers.map((l) => l.name).concat('logits'));
    assert.deepEqual(r.sections.map((s) => s.method), ['closed-form', 'closed-form', 'closed-form']);
    assert.deepEqual(r.sections.map((s) => s.activation), ['Relu', 'Relu', 'none']);
    assert.equal(r.samples, 5000);
    assert.equal(r.jacobians.vjps, 0);
  });

  it('holds the invariants to ≤ 1e-6 on the data it was built from', () => {
    assertInvariants(env.result, 1e-6);
  });

  it('agrees with the independent numpy implementation: Λ (top 20, 1e-4), ranks, edge counts (≤ 2%)', () => {
    const r = env.result;
    reference.layers.forEach((ref, l) => {
      const ours = r.layers[l];
      assert.equal(ours.dim, ref.dim);
      assert.equal(ours.firstRank, ref.firstRank, `${ref.name} first rank`);
      assert.equal(ours.rank, ref.rank, `${ref.name} rank`);
      assert.ok(Math.abs(ours.lambdas[0] - ref.lambdaConstant) <= 1e-4 * ref.lambdaConstant, `${ref.name} Λ of the constant`);
      ref.lambdasTop20.forEach((v, i) => assert.ok(Math.abs(ours.lambdas[i + 1] - v) <= 1e-4 * v, `${ref.name} Λ[${i + 1}] ${ours.lambdas[i + 1]} vs ${v}`));
      assert.equal(ours.effectiveFeatures, ref.effectiveFeatures, `${ref.name} effective features`);
      const pca = r.pca!.layers[l];
      assert.equal(pca.rank, ref.pcaRank);
      ref.pcaTop20.forEach((v, i) => assert.ok(Math.abs(pca.lambdas[i + 1] - v) <= 1e-4 * v, `${ref.name} PCA λ[${i + 1}]`));
    });
    reference.perPair.forEach((p, l) => {
      closeCount(r.edges[l].for90, p.for90, `LIB pair ${l} for90`);
      closeCount(r.edges[l].for99, p.for99, `LIB pair ${l} for99`);
      closeCount(r.pca!.edges[l].for90, reference.pca.perPair[l].for90, `PCA pair ${l} for90`);
      closeCount(r.pca!.edges[l].for99, reference.pca.perPair[l].for99, `PCA pair ${l} for99`);
    });
    closeCount(r.edgesFor90, reference.edgesFor90, 'LIB edgesFor90');
    closeCount(r.edgesFor99, reference.edgesFor99, 'LIB edgesFor99');
    closeCount(r.pca!.edgesFor90, reference.pca.edgesFor90, 'PCA edgesFor90');
    closeCount(r.pca!.edgesFor99, reference.pca.edgesFor99, 'PCA edgesFor99');
    // Node ablation on the 1000 test samples (float32 forward in both; a sample or two may flip). The reference
    // keeps min(k + 1, rank) directions (lib_mlp.py `ablation`), so its k beyond rank − 1 is ours at rank − 1:
    // every direction kept. Every reference point must have its counterpart.
    for (const [ours, ref, kind] of [[r.ablation!, reference.ablationLib, 'lib'], [r.pca!.ablation!, reference.ablationPca, 'pca']] as const) {
      for (const p of ref) {
        const layer = reference.layers[p.layer];
        const kept = Math.min(p.kept, (kind === 'lib' ? layer.rank : layer.pcaRank) - 1);
        const q = ours.find((o) => o.layer === layer.name && o.kept === kept);
        assert.ok(q, `${kind} ablation ${layer.name}/${kept}: the numpy reference has this point, ours does not (ours: ${ours.filter((o) => o.layer === layer.name).map((o) => o.kept).join(', ')})`);
        assert.ok(Math.abs(q.accuracy - p.accuracy) <= 0.005, `${kind} ablation ${layer.name}/${p.kept} (ours at ${kept}): ${q.accuracy} vs ${p.accuracy}`);
      }
    }
  });

  it("has the paper's shape: far fewer LIB edges than PCA edges, accuracy kept with fewer LIB directions", () => {
    const r = env.result;
    assert.ok(r.edgesFor90 * 5 < r.pca!.edgesFor90, `LIB ${r.edgesFor90} vs PCA ${r.pca!.edgesFor90} edges for 90%`);
    assert.ok(r.edges[0].for90 * 10 < r.pca!.edges[0].for90, 'first pair: an order of magnitude');
    assert.equal(r.ablationSplit, 'test split (x_test, y_test)');
    for (const layer of r.nodeLayers.names.slice(0, -1)) {
      assert.ok(kFor(r.ablation!, layer, 0.95) <= kFor(r.pca!.ablation!, layer, 0.95), `${layer}: LIB needs no more directions than PCA`);
    }
    const first = r.nodeLayers.names[0];
    assert.ok(kFor(r.ablation!, first, 0.95) < kFor(r.pca!.ablation!, first, 0.95), 'input layer: strictly fewer');
  });

  it('returns a readable graph: nodes sorted by Λ, thresholded edges between existing nodes', () => {
    const g = env.result.graph;
    assert.equal(g.layers.length, 4);
    const ids = new Set(g.layers.flatMap((l) => l.nodes.map((n) => n.id)));
    for (const l of g.layers) {
      assert.ok(l.nodes.length > 0 && l.nodes.length <= g.threshold.maxNodesPerLayer);
      for (let i = 1; i < l.nodes.length; i++) assert.ok(l.nodes[i].lambda <= l.nodes[i - 1].lambda);
    }
    assert.ok(g.edges.length > 0 && g.edges.every((e) => ids.has(e.from) && ids.has(e.to) && e.weight > 0));
    assert.ok(env.result.edges.every((e) => e.weights.length === e.rows * e.cols && e.weights.every((v) => v >= 0 && Number.isFinite(v))));
  });
});

describe('lib: closed form vs autodiff on the MLP', () => {
  it('M′ and the edges agree to ≤ 1e-6 (tfjs VJPs in float32, accumulated in float64)', async () => {
    const env = await lib(mlp, fmnist, { crossCheck: true, pca: false, ablation: false }, { limit: 512 });
    const cc = env.result.crossCheck!;
    assert.equal(cc.length, 3);
    for (const c of cc) {
      assert.ok(c.mPrime <= 1e-6, `${c.from} → ${c.to}: M′ relative error ${c.mPrime}`);
      assert.ok(c.edges <= 1e-6, `${c.from} → ${c.to}: edges relative error ${c.edges}`);
    }
    assert.ok(env.result.jacobians.vjps > 0);
  });
});

describe('lib on the example transformer (autodiff, per-position Jacobians)', () => {
  it('chooses the residual stream between blocks and holds the invariants (stochastic sources)', async () => {
    const env = await lib(transformer, induction, { stochasticSources: 1, pca: false, checkInvariants: true }, { limit: 16 });
    const r = env.result;
    assert.deepEqual(r.nodeLayers.names, ['/Add_output_0', '/blocks.0/Add_1_output_0', '/blocks.1/Add_1_output_0', 'logits']);
    assert.equal(r.positions, 24);
    assert.ok(r.sections.every((s) => s.method === 'autodiff'));
    assertInvariants(r, 1e-6);
    assert.deepEqual(r.layers.map((l) => l.dim), [65, 65, 65, 32]);
    assert.ok(r.edges.every((e) => e.weights.every((v) => Number.isFinite(v) && v >= 0)));
    assert.ok(r.jacobians.vjps > 0);
    assert.ok((env.warnings ?? []).some((w) => /ablation skipped/.test(w)), 'no labels: no ablation');
  });

  it('exact per-position Jacobians equal one stochastic source on a position-local section (LayerNorm → unembed)', async () => {
    const layers = ['/blocks.1/Add_1_output_0', 'logits'];
    const exact = await lib(transformer, induction, { pca: false, checkInvariants: true }, { limit: 4, layers });
    const stoch = await lib(transformer, induction, { pca: false, stochasticSources: 1 }, { limit: 4, layers });
    assertInvariants(exact.result, 1e-6);
    assert.equal(exact.result.jacobians.vjps, 24 * 32, 'T × outputs VJPs (the edges and invariants replay the M′ pass)');
    const a = exact.result.layers[0].lambdas, b = stoch.result.layers[0].lambdas;
    assert.equal(a.length, b.length);
    for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i] - b[i]) <= 1e-6 * a[1], `Λ[${i}] ${a[i]} vs ${b[i]}`);
  });
});

describe('lib: cancellation', () => {
  it('stops between batches when the signal aborts', async () => {
    const ac = new AbortController();
    const p = runLib({ analysis: 'lib', model: mlp, data: fmnist, batchSize: 64, options: { ablation: false } }, { signal: ac.signal, progress: (done) => done > 0 && ac.abort() });
    // The dataset reader may notice first (AbortError); the engine maps both to 'Cancelled' across the worker boundary.
    await assert.rejects(p, (e: Error) => e.name === 'Cancelled' || e.name === 'AbortError');
  });
});

describe('lib: onnxruntime float64 kernels vs the TypeScript reference routines', () => {
  it('give the same bases and edges (LIB and PCA)', async () => {
    const opts = { ablation: false, checkInvariants: true };
    const [ort, js] = await Promise.all([lib(mlp, fmnist, { ...opts, kernels: 'ort' }, { limit: 300 }), lib(mlp, fmnist, { ...opts, kernels: 'js' }, { limit: 300 })]);
    for (const key of ['layers', 'pca'] as const) {
      const a = key === 'layers' ? ort.result.layers : ort.result.pca!.layers;
      const b = key === 'layers' ? js.result.layers : js.result.pca!.layers;
      a.forEach((l, i) => {
        assert.equal(l.rank, b[i].rank);
        l.lambdas.forEach((v, j) => assert.ok(Math.abs(v - b[i].lambdas[j]) <= 1e-9 * Math.abs(b[i].lambdas[1] ?? v), `${key} ${l.name} Λ[${j}]`));
      });
    }
    for (const [ea, eb] of [[ort.result.edges, js.result.edges], [ort.result.pca!.edges, js.result.pca!.edges]] as const) {
      ea.forEach((e, i) => {
        let num = 0, den = 0;
        e.weights.forEach((v, k) => ((num += (v - eb[i].weights[k]) ** 2), (den += eb[i].weights[k] ** 2)));
        assert.ok(Math.sqrt(num / den) <= 1e-9, `edges ${e.from} → ${e.to}: ${Math.sqrt(num / den)}`);
      });
    }
    assertInvariants(js.result, 1e-6);
  });
});

describe('lib through the engine worker', () => {
  const engine = testEngine();
  after(() => engine.dispose());

  it('runs as an analysis job with progress, and refuses node layers that are not cuts', async () => {
    const stages = new Set<string>();
    const env = (await engine.run(
      { kind: 'analysis', analysis: 'lib', model: mlp, data: fmnist, limit: 300, options: { pca: 'false', ablation: 'false' } },
      { onProgress: (p) => stages.add(p.stage.split(' ')[0]) },
    )) as AnalysisEnvelope<LibResult>;
    assert.equal(env.analysis, 'lib');
    assert.ok(env.result.layers.length === 4 && env.result.edgesFor90 > 0);
    assert.ok(stages.has('moments') && stages.has('edges'), [...stages].join(', '));
    const est = await engine.run({ kind: 'estimateAnalysis', analysis: 'lib', model: transformer, data: induction, limit: 32, options: { stochasticSources: '2' } });
    assert.ok(est.vjps > 0, 'the estimate counts VJPs for autodiff sections');
    await assert.rejects(
      engine.run({ kind: 'analysis', analysis: 'lib', model: transformer, data: induction, layers: ['/blocks.0/attn/q/MatMul_output_0', 'logits'], limit: 4 }),
      (e: Error) => e.name === 'JobInputError' && /complete cuts/.test(e.message),
    );
  });
});
