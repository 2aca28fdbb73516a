/**
 * The onnxruntime route of the circuit analysis (gradients as ONNX graphs) against the tfjs translator's route
 * on the example transformer: the same metrics, EAP and EAP-IG scores, patched metrics for random edge masks
 * and exact patching; batching does not change the numbers; the route is named in the result.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPromptPairs, runCircuit } from '../../src/engine/analyses/circuit';
import type { CircuitResult } from '../../src/shared/results';
import { CircuitModel } from '../../src/engine/analyses/circuitModel';
import { CircuitSession, type PromptPairs } from '../../src/engine/analyses/circuitDiscovery';
import { OrtCircuitModel } from '../../src/engine/analyses/circuitOrt';
import { OrtCircuitSession } from '../../src/engine/analyses/circuitOrtSession';
import { findResidualStream } from '../../src/model/attentionFinder';
import { loadModel } from '../../src/model/load';
import { tf } from '../../src/model/runtime/tfjs';
import { mulberry32 } from '../../src/analysis/stats/random';
import { repo } from '../helpers/engine';

const model = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const matchPairs = path.join(repo, 'test', 'fixtures', 'attention', 'induction_match_pairs.npz');

let pairs: PromptPairs;
let tfm: CircuitModel;
let tfs: CircuitSession;
let ortm: OrtCircuitModel;
let orts: OrtCircuitSession;

function maxRel(a: ArrayLike<number>, b: ArrayLike<number>): { abs: number; rel: number } {
  let abs = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    abs = Math.max(abs, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return { abs, rel: abs / scale };
}

before(async () => {
  pairs = await readPromptPairs(matchPairs);
  const loaded = await loadModel(model);
  tfm = await CircuitModel.create(loaded, tf.tensor2d(pairs.clean.subarray(0, 24), [1, 24], 'int32'));
  tfs = new CircuitSession(tfm, pairs, 64);
  await tfs.prepare();
  ortm = await OrtCircuitModel.create(loaded, findResidualStream(loaded.graph), pairs.clean.subarray(0, 24), { sample: [24], position: 23, metric: 'auto' });
  orts = new OrtCircuitSession(ortm, pairs, 24);
  await orts.prepare();
});

after(async () => {
  tfs?.dispose();
  tfm?.dispose();
  await ortm?.dispose();
});

describe('circuits on onnxruntime vs the tfjs translator (example transformer, match pairs)', () => {
  it('finds the same component graph and metrics', () => {
    assert.equal(ortm.graph.edges.length, 110);
    assert.deepEqual(ortm.layout, tfm.layout);
    assert.ok(orts.batches.length > 1, 'the pairs span several batches');
    assert.ok(Math.abs(orts.metricClean - tfs.metricClean) < 1e-4, `${orts.metricClean} vs ${tfs.metricClean}`);
    assert.ok(Math.abs(orts.metricCorrupt - tfs.metricCorrupt) < 1e-4, `${orts.metricCorrupt} vs ${tfs.metricCorrupt}`);
  });

  for (const method of ['eap', 'eap-ig'] as const) {
    it(`${method} scores agree`, async () => {
      const a = await orts.scores(method, 5);
      const b = await tfs.scores(method, 5);
      const d = maxRel(a, b);
      console.log(`${method}: max |Δ| ${d.abs.toExponential(2)}, relative to the largest score ${d.rel.toExponential(2)}`);
      assert.ok(d.rel < 1e-3, `${method} differs by ${d.rel}`);
      assert.ok(a.some((v) => v !== 0));
    });
  }

  it('patched metrics agree for random edge masks and for none/all kept', async () => {
    const rand = mulberry32(7);
    const E = ortm.graph.edges.length;
    const masks = [new Float32Array(E).fill(1), new Float32Array(E)];
    for (let k = 0; k < 4; k++) masks.push(Float32Array.from({ length: E }, () => (rand() < 0.5 ? 1 : 0)));
    for (const m of masks) {
      const a = await orts.metricWith(m);
      const b = await tfs.metricWith(m);
      assert.ok(Math.abs(a - b) < 1e-4 * Math.max(1, Math.abs(b)), `${a} vs ${b}`);
    }
    assert.ok(Math.abs((await orts.metricWith(masks[0])) - orts.metricClean) < 1e-4);
    assert.ok(Math.abs((await orts.metricWith(masks[1])) - orts.metricCorrupt) < 1e-4);
  });

  it('the analysis runs on onnxruntime by default, the translator on request, with the same circuit', async () => {
    const a = await runCircuit({ analysis: 'circuit', model, data: matchPairs, options: { method: 'eap-ig' } }, {});
    const b = await runCircuit({ analysis: 'circuit', model, data: matchPairs, options: { method: 'eap-ig', route: 'tfjs' } }, {});
    assert.match(a.backend, /^onnxruntime/);
    assert.match(b.backend, /^tfjs/);
    const ra = a.result as CircuitResult;
    const rb = b.result as CircuitResult;
    assert.deepEqual(ra.circuit.edges, rb.circuit.edges);
    assert.ok(Math.abs((ra.circuit.faithfulness ?? NaN) - (rb.circuit.faithfulness ?? NaN)) < 1e-3);
  });
});

describe('a batch size above the number of prompt pairs (the extension sends circuitscope.batchSize, 256 by default)', () => {
  it('is clamped to the pairs by the estimate and by the run', async () => {
    const { runJob } = await import('../../src/engine/jobs');
    const data = path.join(repo, 'examples', 'transformer', 'induction.npz');
    const est = (await runJob({ kind: 'estimateAnalysis', analysis: 'circuit', model, data, options: {}, batchSize: 256 }, {})) as { samples: number; batchSize: number };
    assert.equal(est.samples, 64);
    assert.equal(est.batchSize, 64);
    const run = (await runJob({ kind: 'analysisRun', analysis: 'circuit', model, data, options: {}, batchSize: 256 }, {})) as { envelope: { result: unknown } };
    const r = run.envelope.result as CircuitResult;
    assert.equal(r.pairs, 64);
    assert.ok(Number.isFinite(r.circuit.faithfulness), `faithfulness ${r.circuit.faithfulness}`);
  });
});
