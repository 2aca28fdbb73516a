/**
 * `result.authors` (ANALYSES.md §6) through the engine on the example checkpoints, against the authors' own
 * functions run on the same checkpoints by scripts/reference/authors_conventions.py
 * (→ test/fixtures/authors/reference.json): rhubarbwu/neural-collapse imported, diegodoimo/redundant_representation's
 * compute_accuracy_chunk / compute_r2_chunk and ApolloResearch/rib's basis functions executed from their files.
 *
 * Tolerances. Our activations come from onnxruntime in float32, the reference's from a numpy float32 forward
 * (collapse, redundancy) or a float64 torch forward (rib), so values that are smooth in the activations agree to
 * their ~1e-7 relative difference, amplified a little by the eigenproblems: equiangularity 1e-6 relative (seen
 * 3e-9); R² and residual correlation 1e-6 absolute over the same chunks (seen 2e-9); rib's Λ_0 1e-5 relative
 * (seen 3e-7) and its top Λ 3e-5 (seen 2e-6). Decisions (NCC mismatch, chunk accuracy) can flip only on a float
 * tie: at most one sample of the split (seen: none).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineClient } from '../../src/engine/client';
import type { AnalysisEnvelope } from '../../src/shared/analysis';
import { repo, testEngine } from '../helpers/engine';

const ex = (...p: string[]): string => path.join(repo, 'examples', ...p);
const fmnist = ex('data', 'fmnist.npz');
const ref = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'authors', 'reference.json'), 'utf8'));

type Row = Record<string, unknown>;

function rel(ours: unknown, theirs: unknown, tol: number, what: string): void {
  assert.equal(typeof ours, 'number', `${what}: ours is ${String(ours)}`);
  const a = ours as number, b = theirs as number;
  assert.ok(Math.abs(a - b) <= tol * Math.abs(b), `${what}: ours ${a} vs the authors' ${b} (rel ${(Math.abs(a - b) / Math.abs(b)).toExponential(2)} > ${tol})`);
}
function abs(ours: unknown, theirs: unknown, tol: number, what: string): void {
  assert.equal(typeof ours, 'number', `${what}: ours is ${String(ours)}`);
  assert.ok(Math.abs((ours as number) - (theirs as number)) <= tol, `${what}: ours ${String(ours)} vs the authors' ${String(theirs)} (> ±${tol})`);
}

describe("the authors' conventions (result.authors) against the authors' own code", () => {
  let engine: EngineClient;
  const run = (req: Omit<Extract<Parameters<EngineClient['run']>[0], { kind: 'analysis' }>, 'kind'>): Promise<AnalysisEnvelope> =>
    engine.run({ kind: 'analysis', ...req });
  before(() => {
    engine = testEngine();
  });
  after(() => engine.dispose());

  it('collapse: rhubarbwu/neural-collapse on the MLP and the width-100 network', async () => {
    for (const m of ['mlp/mlp.onnx', 'widths/mlp_w100.onnx']) {
      const r = (await run({ analysis: 'collapse', model: ex(...m.split('/')), data: fmnist, options: { layerwise: false } })).result as Row;
      const a = r.authors as Row, t = ref.collapse[m];
      assert.equal(r.features, t.features, `${m} features`);
      assert.equal(a.repository, 'rhubarbwu/neural-collapse');
      assert.equal(a.commit, ref.repositories['rhubarbwu/neural-collapse']);
      const n = r.samples as number;
      abs(a.nccMismatchTrain, t.nccMismatchTrain, 1 / n + 1e-12, `${m} nccMismatchTrain`);
      abs(a.nccMismatchTest, t.nccMismatchTest, 1 / 1000 + 1e-12, `${m} nccMismatchTest`);
      rel(a.equiangularityMeans, t.equiangularityMeans, 1e-6, `${m} equiangularityMeans`);
      rel(a.equiangularityWeights, t.equiangularityWeights, 1e-6, `${m} equiangularityWeights`);
      // The two conventions are one statistic read two ways: the population variance over the P = C(C−1)/2
      // unordered pairs is our (n−1) std over the 2P ordered pairs, squared, times (2P − 1)/(2P).
      const C = r.classes as number, P2 = C * (C - 1);
      for (const k of ['equiangularityMeans', 'equiangularityWeights']) rel(a[k], (r[k] as number) ** 2 * (P2 - 1) / P2, 1e-9, `${m} ${k} from ours`);
      // The bias moves the head's decisions: on these checkpoints the two NC4 readings differ.
      assert.notEqual(a.nccMismatchTrain, r.nccMismatchTrain, `${m}: with and without the bias should differ here`);
    }
  });

  it('redundancy: diegodoimo/redundant_representation on its grid W // 2^i, the same chunks', async () => {
    for (const m of ['mlp/mlp.onnx', 'widths/mlp_w100.onnx']) {
      const r = (await run({ analysis: 'redundancy', model: ex(...m.split('/')), data: fmnist, options: { groups: false } })).result as Row;
      const a = r.authors as Row, t = ref.redundancy[m];
      assert.equal(r.layer, t.layer);
      assert.equal(a.repository, 'diegodoimo/redundant_representation');
      assert.equal(a.width, t.width, `${m} width (all units, constant ones included)`);
      const co = a.chunks as Row[], ct = t.chunks as Row[];
      assert.deepEqual(co.map((c) => c.size), ct.map((c: Row) => c.size), `${m} chunk grid`);
      co.forEach((c, i) => {
        abs(c.accuracyTrain, ct[i].accuracyTrain, 1 / 5000 + 1e-12, `${m} size ${String(c.size)} accuracyTrain`);
        abs(c.accuracyTest, ct[i].accuracyTest, 1 / 1000 + 1e-12, `${m} size ${String(c.size)} accuracyTest`);
        abs(c.r2, ct[i].r2, 1e-6, `${m} size ${String(c.size)} r2`);
        abs(c.residualCorrelation, ct[i].residualCorrelation, 1e-6, `${m} size ${String(c.size)} residualCorrelation`);
      });
      assert.equal(a.criticalWidth, t.criticalWidth, `${m} criticalWidth`);
      assert.equal(a.clones, t.clones, `${m} clones`);
    }
  });

  it('redundancy: the width-100 grid differs from ours (1, 3, 6, … vs 1, 2, 4, …) and so does the critical width', async () => {
    const r = (await run({ analysis: 'redundancy', model: ex('widths', 'mlp_w100.onnx'), data: fmnist, options: { groups: false } })).result as Row;
    const a = r.authors as Row;
    assert.deepEqual((a.chunks as Row[]).map((c) => c.size), [1, 3, 6, 12, 25, 50, 100]);
    assert.ok((r.chunks as Row[]).every((c) => (c.size as number) === r.width || Number.isInteger(Math.log2(c.size as number))));
    // Residual correlation over all pairs counts pairs inside the chunk (≈ 0): at half the width it is below ours.
    // All 100 units on their side (22 are constant on this data and we drop them: width 78): 50 of 100 reach
    // R² ≥ 0.95 there (2 clones), where our grid over the 78 live units needs 64 (1.2 clones).
    assert.equal(a.width, 100);
    assert.equal(r.width, 78);
    assert.equal(a.criticalWidth, 50);
    assert.equal(r.criticalWidth, 64);
    const half = (a.chunks as Row[]).find((c) => c.size === 50)!;
    assert.ok((half.residualCorrelation as number) < 0.9 * ((r.chunks as Row[]).find((c) => c.size === 32)!.residualCorrelation as number));
  });

  it("lib: ApolloResearch/rib's Λ of the constant direction, with rib's truncation", async () => {
    const t = ref.lib['mlp/mlp.onnx'];
    const tau = t.truncationThreshold as number;
    const r = (await run({
      analysis: 'lib', model: ex('mlp', 'mlp.onnx'), data: fmnist,
      options: { threshold: 0, absThreshold: tau, lambdaThreshold: 0, absLambdaThreshold: tau, pca: false, ablation: false },
    })).result as Row;
    const a = r.authors as Row;
    assert.equal(a.repository, 'ApolloResearch/rib');
    const rows = a.layers as Row[], layers = r.layers as Row[];
    assert.equal(rows.length, t.layers.length);
    rows.forEach((row, i) => {
      const theirs = t.layers[i] as Row;
      assert.equal(row.name, layers[i].name);
      rel(row.lambda0, theirs.lambda0, 1e-5, `${String(row.name)} (${String(theirs.node)}) lambda0`);
      // Every other Λ is the same in both conventions: ranks exact, the top Λ within 3e-5.
      assert.equal(layers[i].rank, theirs.rank, `${String(row.name)} rank`);
      const top = (layers[i].lambdas as number[]).slice(1).sort((x, y) => y - x);
      (theirs.lambdasTop as number[]).forEach((v, k) => rel(top[k], v, 3e-5, `${String(row.name)} Λ_${k + 1}`));
    });
    // The last hidden layer feeds the unfolded logits: no constant is carried, rib's Λ_0 is ours.
    assert.equal(rows.at(-1)!.lambda0, (layers.at(-2)!.lambdas as number[])[0]);
    // Earlier layers: rib's Λ_0 exceeds ours (the carried constant's own Jacobian adds rib's Λ_0 of the next layer).
    assert.ok((rows[0].lambda0 as number) > 2 * (layers[0].lambdas as number[])[0]);
  });
});
