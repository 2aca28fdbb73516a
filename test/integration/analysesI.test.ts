/**
 * Analyses I (collapse, hash, redundancy) through the engine worker on the real example checkpoints, field by
 * field against the independent numpy/scikit-learn reference committed with the script that made it
 * (scripts/reference/analyses_i.py → test/fixtures/analysesI/reference.json), plus the paper shapes and every
 * bad input named in the issue.
 *
 * Tolerances (issue 4): NC metrics 1e-3 relative; redundancy ratios and code widths exact; KNN ±0.005;
 * K-means and logistic regression ±0.03; R² ±0.02. K-means: scikit-learn's own accuracy moves by up to 0.044
 * between random_state values on these codes, so ours is checked against the run that shares our seeding
 * (±0.03) and against the spread of scikit-learn's seeds 0–4 (widened by 0.03), not against one sklearn seed.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { EngineClient } from '../../src/engine/client';
import { EngineError } from '../../src/engine/errors';
import { writeNpz } from '../../src/model/datasets';
import type { AnalysisEnvelope } from '../../src/shared/analysis';
import { repo, testEngine } from '../helpers/engine';
import { expectClose } from '../helpers/expectClose';

const ex = (...p: string[]): string => path.join(repo, 'examples', ...p);
const fmnist = ex('data', 'fmnist.npz');
const ref = JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'analysesI', 'reference.json'), 'utf8'));

type Row = Record<string, unknown>;
const num = (r: Row, k: string): number => r[k] as number;


const NC_METRICS = [
  'nc1', 'nc1TraceRatio', 'cdnv', 'equinormMeans', 'equinormWeights', 'equiangularityMeans', 'equiangularityWeights',
  'maxAngleMeans', 'maxAngleWeights', 'etfDistanceMeans', 'etfDistanceWeights', 'selfDuality', 'selfDualityEtf',
];
/** Shares of samples: identical decisions up to float ties (≤ 2 samples of 1000). */
const NC_SHARES = ['accuracyTrain', 'accuracyTest', 'nccMismatchTrain', 'nccMismatchTest', 'nccAccuracyTrain', 'nccAccuracyTest'];

function compareCollapse(ours: Row, theirs: Row, where: string): void {
  for (const k of ['classes', 'samples', 'dim', 'features']) assert.equal(ours[k], theirs[k], `${where} ${k}`);
  for (const k of NC_METRICS) expectClose(ours[k], theirs[k], { rel: 1e-3 }, `${where} ${k}`);
  for (const k of NC_SHARES) expectClose(ours[k], theirs[k], { abs: 0.002 }, `${where} ${k}`);
  const lo = ours.layers as Row[], lt = theirs.layers as Row[];
  assert.deepEqual(lo.map((l) => l.layer), lt.map((l) => l.layer), `${where} layer list`);
  lo.forEach((l, i) => {
    for (const k of ['nc1', 'nc1TraceRatio', 'cdnv', 'equinormMeans', 'equiangularityMeans', 'maxAngleMeans', 'etfDistanceMeans']) {
      expectClose(l[k], lt[i][k], { rel: 1e-3 }, `${where} layer ${String(l.layer)} ${k}`);
    }
    expectClose(l.nccAccuracyTrain, lt[i].nccAccuracyTrain, { abs: 0.002 }, `${where} layer ${String(l.layer)} nccAccuracyTrain`);
  });
}

function compareHash(ours: Row, theirs: Row, where: string): void {
  for (const k of ['codeBitsRaw', 'codeBits', 'distinctTrain', 'distinctTest', 'redundancyRatioTrain', 'redundancyRatioTest']) {
    assert.equal(ours[k], theirs[k], `${where} ${k}`);
  }
  assert.deepEqual(ours.layers, theirs.layers, `${where} layers`);
  expectClose(ours.knnAccuracy, theirs.knnAccuracy, { abs: 0.005 }, `${where} knnAccuracy`);
  expectClose(ours.logisticAccuracy, theirs.logisticAccuracy, { abs: 0.03 }, `${where} logisticAccuracy`);
  expectClose(ours.networkAccuracyTrain, theirs.networkAccuracyTrain, { abs: 0.001 }, `${where} networkAccuracyTrain`);
  expectClose(ours.networkAccuracyTest, theirs.networkAccuracyTest, { abs: 0.001 }, `${where} networkAccuracyTest`);
  const detail = theirs.kmeansDetail as Record<'train' | 'test', Row>;
  for (const split of ['train', 'test'] as const) {
    const k = split === 'train' ? 'kmeansAccuracyTrain' : 'kmeansAccuracyTest';
    const d = detail[split];
    const [lo, hi] = d.spread as [number, number];
    const v = num(ours, k);
    assert.ok(v >= lo - 0.03 && v <= hi + 0.03, `${where} ${k}: ours ${v} outside scikit-learn's seed spread [${lo}, ${hi}] ± 0.03`);
    // Same k-means++ seeds, scikit-learn's Lloyd: it centres the data first, which breaks the exact distance ties
    // of codes with few distinct values differently from ours, so this is checked where ties are rare.
    const distinct = num(theirs, split === 'train' ? 'distinctTrain' : 'distinctTest');
    if (d.sharedSeeding !== null && distinct >= 500) expectClose(v, d.sharedSeeding, { abs: 0.03 }, `${where} ${k} (shared seeding)`);
  }
}

function compareRedundancy(ours: Row, theirs: Row, where: string): void {
  for (const k of ['width', 'layerWidth', 'droppedConstantUnits', 'criticalWidth', 'clones', 'layer']) assert.equal(ours[k], theirs[k], `${where} ${k}`);
  assert.deepEqual(ours.criticalWidths, theirs.criticalWidths, `${where} criticalWidths`);
  const co = ours.chunks as Row[], ct = theirs.chunks as Row[];
  assert.deepEqual(co.map((c) => c.size), ct.map((c) => c.size), `${where} chunk sizes`);
  co.forEach((c, i) => {
    // The same chunks on both sides (shared mulberry32 draws): accuracies agree up to float ties.
    expectClose(c.accuracyTrain, ct[i].accuracyTrain, { abs: 0.001 }, `${where} size ${c.size} accuracyTrain`);
    expectClose(c.accuracyTest, ct[i].accuracyTest, { abs: 0.001 }, `${where} size ${c.size} accuracyTest`);
    expectClose(c.r2, ct[i].r2, { abs: 0.02 }, `${where} size ${c.size} r2`);
    if (ct[i].residualCorrelation === null) assert.equal(c.residualCorrelation, null);
    else expectClose(c.residualCorrelation, ct[i].residualCorrelation, { abs: 0.02 }, `${where} size ${c.size} residualCorrelation`);
  });
  const g = ours.groups as Row, gt = theirs.groups as Row;
  assert.equal(g.count, gt.count, `${where} group count`);
  assert.deepEqual(g.assignment, gt.assignment, `${where} group assignment`);
}

describe('analyses I against the independent reference', () => {
  let engine: EngineClient;
  const run = (req: Omit<Extract<Parameters<EngineClient['run']>[0], { kind: 'analysis' }>, 'kind'>): Promise<AnalysisEnvelope> =>
    engine.run({ kind: 'analysis', ...req });
  before(() => {
    engine = testEngine();
  });
  after(() => engine.dispose());

  it('collapse on the MLP: every field, and layer-wise NC1', async () => {
    const env = await run({ analysis: 'collapse', model: ex('mlp', 'mlp.onnx'), data: fmnist });
    assert.match(env.backend, /onnxruntime-node/);
    const r = env.result as Row;
    compareCollapse(r, ref.collapse['mlp/mlp.onnx'], 'mlp.onnx');
    assert.equal((r.head as Row).node, '/fc3/Gemm');
    assert.ok(typeof (r.variants as Row).nc1 === 'string');
    assert.ok(!JSON.stringify(env).includes('NaN'));
  });

  it('collapse over the checkpoint series: every metric per epoch, NC1 falls', async () => {
    const dir = ex('mlp', 'series');
    const models = fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort().map((f) => path.join(dir, f));
    const env = await run({ analysis: 'collapse', model: models[0], models, data: fmnist, options: { layerwise: false } });
    const rows = (env.result as { series: Row[] }).series;
    assert.equal(rows.length, models.length);
    for (const row of rows) {
      const theirs = ref.collapse[`mlp/series/${String(row.model)}`];
      for (const k of NC_METRICS) expectClose(row[k], theirs[k], { rel: 1e-3 }, `${String(row.model)} ${k}`);
      for (const k of NC_SHARES) expectClose(row[k], theirs[k], { abs: 0.002 }, `${String(row.model)} ${k}`);
    }
    assert.deepEqual(rows.map((r) => r.checkpoint), models.map((m) => Number(path.basename(m).match(/\d+/)![0])));
    const nc1 = rows.map((r) => num(r, 'nc1'));
    assert.ok(nc1[nc1.length - 1] < nc1[0] / 4, `NC1 should fall over training: ${nc1.join(', ')}`);
  });

  it('hash codes on the MLP (two ReLU layers)', async () => {
    const env = await run({ analysis: 'hash', model: ex('mlp', 'mlp.onnx'), data: fmnist });
    const r = env.result as Row;
    compareHash(r, ref.hash['mlp/mlp.onnx'], 'mlp.onnx');
    assert.deepEqual((r.activations as Row[]).map((a) => [a.op, a.units, a.piecewiseLinear]), [['Relu', 128, true], ['Relu', 128, true]]);
    // sampleSizes defaults to 'auto': 5000 training samples halved down to 100; the full size repeats the headline.
    const bySize = r.bySampleSize as Row[];
    assert.deepEqual(bySize.map((b) => b.samples), [156, 312, 625, 1250, 2500, 5000]);
    assert.equal(bySize.at(-1)!.redundancyRatio, r.redundancyRatioTrain);
    for (let i = 1; i < bySize.length; i++) assert.ok((bySize[i].distinct as number) >= (bySize[i - 1].distinct as number), 'distinct codes cannot fall as samples are added');
  });

  it('hash phase chart over the width sweep: ratio ≈ 1 → ≈ 0 while the probes rise', async () => {
    const dir = ex('widths');
    const models = fs.readdirSync(dir).filter((f) => f.endsWith('.onnx')).sort().map((f) => path.join(dir, f));
    const env = await run({ analysis: 'hash', model: models[0], models, data: fmnist, options: { sampleSizes: '1000,5000' } });
    const rows = (env.result as { series: Row[] }).series;
    for (const row of rows) compareHash(row, ref.hash[`widths/${String(row.model)}`], String(row.model));
    const first = rows[0], last = rows[rows.length - 1];
    assert.ok(num(first, 'redundancyRatioTrain') > 0.95 && num(last, 'redundancyRatioTrain') < 0.05);
    for (const k of ['knnAccuracy', 'logisticAccuracy', 'kmeansAccuracyTest']) assert.ok(num(last, k) > num(first, k) + 0.3, `${k} rises`);
    const bySize = last.bySampleSize as Row[];
    assert.deepEqual(bySize.map((b) => b.samples), [1000, 5000]);
    assert.equal(bySize[1].redundancyRatio, last.redundancyRatioTrain);
  });

  it('the CNN: convolution codes are channels × positions; collapse finds the Gemm head behind Flatten', async () => {
    const cnn = ex('cnn', 'cnn.onnx');
    const h = await run({ analysis: 'hash', model: cnn, data: fmnist, limit: 300, options: { probes: 'knn' } });
    const r = h.result as Row;
    assert.deepEqual((r.activations as Row[]).map((a) => [a.node, a.units]), [['/relu1/Relu', 8 * 28 * 28], ['/relu2/Relu', 16 * 14 * 14]]);
    assert.equal(r.codeBitsRaw, 8 * 28 * 28 + 16 * 14 * 14);
    assert.equal(r.kmeansAccuracyTrain, null);
    assert.equal(typeof r.knnAccuracy, 'number');
    const c = await run({ analysis: 'collapse', model: cnn, data: fmnist, limit: 300 });
    const m = c.result as Row;
    assert.equal((m.head as Row).node, '/fc/Gemm');
    assert.equal(m.dim, 784);
    assert.deepEqual((m.layers as Row[]).map((l) => l.dim), [6272, 3136]);
    assert.ok(num(m, 'nc1') > 0 && num(m, 'selfDuality') > 0);
  });

  it('redundancy on the MLP and on the width-100 network', async () => {
    for (const rel of ['mlp/mlp.onnx', 'widths/mlp_w100.onnx']) {
      const env = await run({ analysis: 'redundancy', model: ex(...rel.split('/')), data: fmnist });
      compareRedundancy(env.result as Row, ref.redundancy[rel], rel);
      const groups = (env.result as Row).groups as Row;
      assert.match(String(groups.label), /our extension/);
    }
  });
});

describe('analyses I: bad inputs', () => {
  let engine: EngineClient;
  let tiny: string;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-analysesI-'));
  before(async () => {
    engine = testEngine();
    tiny = path.join(tmp, 'tiny.npz');
    const x = Float32Array.from({ length: 60 * 4 }, (_, i) => Math.sin(i * 1.7));
    const y = Int32Array.from({ length: 60 }, (_, i) => i % 3);
    await writeNpz(tiny, { x: { dtype: 'float32', shape: [60, 4], data: x }, y: { dtype: 'int32', shape: [60], data: y } });
    await writeNpz(path.join(tmp, 'short.npz'), {
      x: { dtype: 'float32', shape: [60, 4], data: x },
      y: { dtype: 'int32', shape: [59], data: y.subarray(0, 59) },
    });
    await writeNpz(path.join(tmp, 'nolabels.npz'), { x: { dtype: 'float32', shape: [60, 4], data: x } });
  });
  after(() => {
    engine.dispose();
    fs.rmSync(tmp, { recursive: true, force: true });
  });

  const rejects = async (p: Promise<unknown>, match: RegExp): Promise<void> => {
    await assert.rejects(p, (e: unknown) => {
      assert.ok(e instanceof EngineError, String(e));
      assert.match(e.message, match);
      return true;
    });
  };
  const noHead = path.join(repo, 'test', 'fixtures', 'corpus', 'onnx', 'valid-mlp.onnx');

  it('names a layer that does not exist, with suggestions', async () => {
    await rejects(engine.run({ kind: 'analysis', analysis: 'hash', model: ex('mlp', 'mlp.onnx'), data: fmnist, layers: ['/relu9/Relu'], limit: 50 }), /no value or node named '\/relu9\/Relu' \(closest: /);
    await rejects(engine.run({ kind: 'analysis', analysis: 'collapse', model: ex('mlp', 'mlp.onnx'), data: fmnist, options: { head: 'fc9' } }), /option 'head': no node named 'fc9' \(linear nodes: /);
  });

  it('rejects labels that do not match the data, missing labels and bad options', async () => {
    await rejects(engine.run({ kind: 'analysis', analysis: 'collapse', model: noHead, data: path.join(tmp, 'short.npz'), layers: ['z'] }), /label/i);
    await rejects(engine.run({ kind: 'analysis', analysis: 'redundancy', model: noHead, data: path.join(tmp, 'nolabels.npz'), layers: ['z'] }), /has no labels/);
    await rejects(engine.run({ kind: 'analysis', analysis: 'hash', model: ex('mlp', 'mlp.onnx'), data: fmnist, options: { probes: 'knn,svm' } }), /option 'probes' expects one of kmeans, knn, logistic/);
    await rejects(engine.run({ kind: 'analysis', analysis: 'redundancy', model: ex('mlp', 'mlp.onnx'), data: fmnist, options: { sizes: '4,x' } }), /option 'sizes' expects positive integers/);
  });

  it('a model without a linear head: says which metrics are undefined and why, returns the rest', async () => {
    const env = await engine.run({ kind: 'analysis', analysis: 'collapse', model: noHead, data: tiny, layers: ['z'] });
    const r = env.result as Row;
    assert.equal(r.head, null);
    assert.equal(r.selfDuality, null);
    assert.equal(r.nccMismatchTrain, null);
    assert.equal(typeof r.nc1, 'number');
    assert.ok(env.warnings!.some((w) => /selfDuality.*undefined: the output 'y' comes from a Relu node/.test(w)), env.warnings!.join('\n'));
    const red = await engine.run({ kind: 'analysis', analysis: 'redundancy', model: noHead, data: tiny, layers: ['z'] });
    assert.equal(((red.result as Row).chunks as Row[])[0].accuracyTrain, null);
    assert.equal(typeof ((red.result as Row).chunks as Row[])[0].r2, 'number');
    assert.ok(red.warnings!.some((w) => /chunk accuracy is undefined/.test(w)));
    await rejects(engine.run({ kind: 'analysis', analysis: 'hash', model: noHead, data: tiny }), /no ReLU-like activation/);
    // Naming the MatMul + Add layer as the head makes its input the features and defines the W metrics.
    const named = await engine.run({ kind: 'analysis', analysis: 'collapse', model: noHead, data: tiny, options: { head: '/fc/MatMul' } });
    const n = named.result as Row;
    assert.deepEqual(n.head, { node: '/fc/MatMul', opType: 'MatMul', weight: 'W', bias: 'b', classes: 3 });
    assert.equal(n.features, 'x');
    assert.equal(typeof n.selfDuality, 'number');
    assert.equal(typeof n.nccMismatchTrain, 'number');
    await rejects(engine.run({ kind: 'analysis', analysis: 'collapse', model: noHead, data: tiny, options: { head: '/act/Relu' } }), /option 'head': '\/act\/Relu' is a Relu node, not a linear layer/);
  });
});
