/**
 * The architecture examples written by examples/make_archs.py (gpt2/, bert/, vit/, resnet/): each checkpoint run
 * by onnxruntime-node agrees with torch's stored outputs, has a dynamic batch axis, and the stored data hold what
 * examples/README.md says (the circuit pairs differ from their clean prompts exactly where described, and the
 * models answer them as described).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { readNpz, type NdArray } from '../../src/model/datasets';
import { repo } from '../helpers/engine';

const ex = (...p: string[]): string => path.join(repo, 'examples', ...p);

const tensor = (a: NdArray): ort.Tensor =>
  a.dtype === 'int64' ? new ort.Tensor('int64', a.data as BigInt64Array, a.shape) : new ort.Tensor('float32', a.data as Float32Array, a.shape);

async function run(model: string, feeds: Record<string, NdArray>): Promise<{ dims: readonly number[]; data: Float32Array }> {
  const session = await ort.InferenceSession.create(model);
  try {
    const out = await session.run(Object.fromEntries(Object.entries(feeds).map(([k, v]) => [k, tensor(v)])));
    const t = out[session.outputNames[0]];
    return { dims: t.dims, data: t.data as Float32Array };
  } finally {
    await session.release();
  }
}

const ints = (a: NdArray): number[] => Array.from(a.data as BigInt64Array, Number);
const row = (a: NdArray, i: number): number[] => ints(a).slice(i * a.shape[1], (i + 1) * a.shape[1]);
const argmaxRows = (data: Float32Array, rows: number, cols: number, stride = cols, offset = 0): number[] =>
  Array.from({ length: rows }, (_, r) => {
    let best = 0;
    for (let c = 1; c < cols; c++) if (data[r * stride + offset + c] > data[r * stride + offset + best]) best = c;
    return best;
  });

describe('make_archs.py examples: onnxruntime-node vs torch', () => {
  const checks: [string, string, Record<string, string>, string][] = [
    ['gpt2/gpt2.onnx', 'gpt2/reference.npz', { input_ids: 'input_ids' }, 'logits'],
    ['gpt2/gpt2.onnx', 'gpt2/reference.npz', { input_ids: 'input_ids_short' }, 'logits_short'],
    ['gpt2/gpt2_addmm.onnx', 'gpt2/reference.npz', { input_ids: 'input_ids' }, 'logits'],
    ['gpt2/gpt2_addmm.onnx', 'gpt2/reference.npz', { input_ids: 'input_ids_short' }, 'logits_short'],
    ['bert/bert.onnx', 'bert/reference.npz', { input_ids: 'input_ids' }, 'logits'],
    ['bert/bert_mask.onnx', 'bert/reference.npz', { input_ids: 'input_ids', attention_mask: 'attention_mask' }, 'logits_mask'],
    ['vit/vit.onnx', 'vit/reference.npz', { pixel_values: 'pixel_values' }, 'logits'],
    ['resnet/resnet.onnx', 'resnet/reference.npz', { pixel_values: 'pixel_values' }, 'logits'],
  ];
  for (const [model, refFile, inputs, outKey] of checks) {
    it(`${model} (${Object.values(inputs).join(', ')}) matches torch within 1e-4`, async () => {
      assert.ok(fs.statSync(ex(model)).size < 3e6, `${model} is under 3 MB`);
      const ref = await readNpz(ex(refFile));
      const feeds = Object.fromEntries(Object.entries(inputs).map(([name, key]) => [name, ref[key]]));
      const got = await run(ex(model), feeds);
      const want = ref[outKey];
      assert.deepEqual([...got.dims], want.shape);
      let max = 0;
      for (let i = 0; i < want.data.length; i++) max = Math.max(max, Math.abs(got.data[i] - (want.data as Float32Array)[i]));
      assert.ok(max < 1e-4, `max |ort − torch| ${max}`);
    });
  }

  it('every checkpoint takes any batch size (dynamic batch axis)', async () => {
    const x = (await readNpz(ex('vit', 'images.npz'))).x;
    const three: NdArray = { dtype: 'float32', shape: [3, 1, 28, 28], data: (x.data as Float32Array).slice(0, 3 * 784) };
    for (const m of ['vit/vit.onnx', 'resnet/resnet.onnx']) assert.deepEqual([...(await run(ex(m), { pixel_values: three })).dims], [3, 10]);
    const pairs = await readNpz(ex('gpt2', 'pairs.npz'));
    const ids: NdArray = { dtype: 'int64', shape: [3, 24], data: (pairs.clean.data as BigInt64Array).slice(0, 72) };
    assert.deepEqual([...(await run(ex('gpt2/gpt2.onnx'), { input_ids: ids })).dims], [3, 24, 64]);
    const bids: NdArray = { dtype: 'int64', shape: [3, 16], data: ((await readNpz(ex('bert', 'pairs.npz'))).clean.data as BigInt64Array).slice(0, 48) };
    assert.deepEqual([...(await run(ex('bert/bert.onnx'), { input_ids: bids })).dims], [3, 2]);
  });
});

describe('make_archs.py examples: the stored data', () => {
  it('gpt2 pairs.npz corrupts the match, pairs_copy.npz the copied token; the model answers the clean prompts', async () => {
    const match = await readNpz(ex('gpt2', 'pairs.npz'));
    const copy = await readNpz(ex('gpt2', 'pairs_copy.npz'));
    const n = match.clean.shape[0];
    assert.deepEqual(match.clean.shape, [64, 24]);
    assert.deepEqual(match.corrupt.shape, match.clean.shape);
    assert.deepEqual(ints(copy.clean), ints(match.clean));
    const answer = ints(match.answer);
    const wrong = ints(match.wrong);
    for (let i = 0; i < n; i++) {
      const c = row(match.clean, i);
      const last = c[23];
      const earlier = c.slice(0, 23).flatMap((t, j) => (t === last ? [j] : []));
      assert.equal(earlier.length, 1, `pair ${i}: the last token occurs once before`);
      const j = earlier[0];
      assert.equal(c[j + 1], answer[i], `pair ${i}: answer = successor of the earlier occurrence`);
      assert.ok(!c.includes(wrong[i]), `pair ${i}: wrong is absent from the prompt`);
      const m = row(match.corrupt, i);
      const diffM = m.flatMap((t, k) => (t !== c[k] ? [k] : []));
      assert.deepEqual(diffM, [j], `pair ${i}: pairs.npz changes only the match`);
      assert.ok(!c.includes(m[j]) && m[j] !== wrong[i]);
      const k2 = row(copy.corrupt, i);
      const diffC = k2.flatMap((t, k) => (t !== c[k] ? [k] : []));
      assert.deepEqual(diffC, [j + 1], `pair ${i}: pairs_copy.npz changes only the copied token`);
      assert.equal(k2[j + 1], wrong[i]);
    }
    const out = await run(ex('gpt2/gpt2.onnx'), { input_ids: match.clean });
    const pred = argmaxRows(out.data, n, 64, 24 * 64, 23 * 64);
    const right = pred.filter((t, i) => t === answer[i]).length;
    assert.ok(right >= 63, `last-position argmax = answer on ${right} of 64 clean prompts (63 measured)`);
  });

  it('gpt2 lm.npz labels are the next token after the last position', async () => {
    const lm = await readNpz(ex('gpt2', 'lm.npz'));
    assert.deepEqual(lm.x.shape, [2048, 24]);
    const t = lm.targets;
    for (let i = 0; i < 2048; i += 97) {
      assert.deepEqual(row(lm.x, i).slice(1), row(t, i).slice(0, 23));
      assert.equal(ints(lm.y)[i], row(t, i)[23]);
    }
  });

  it('bert pairs.npz swaps A and B, which flips the label; the model answers both sides', async () => {
    const p = await readNpz(ex('bert', 'pairs.npz'));
    const n = p.clean.shape[0];
    const answer = ints(p.answer);
    for (let i = 0; i < n; i++) {
      const c = row(p.clean, i);
      const x = row(p.corrupt, i);
      assert.deepEqual(x, c.map((t) => (t === 1 ? 2 : t === 2 ? 1 : t)), `pair ${i}: A and B swapped`);
      assert.equal(answer[i], c.indexOf(1) < c.indexOf(2) ? 1 : 0);
      assert.equal(ints(p.wrong)[i], 1 - answer[i]);
    }
    assert.deepEqual(argmaxRows((await run(ex('bert/bert.onnx'), { input_ids: p.clean })).data, n, 2), answer);
    assert.deepEqual(argmaxRows((await run(ex('bert/bert.onnx'), { input_ids: p.corrupt })).data, n, 2), ints(p.wrong));
  });

  for (const m of ['vit', 'resnet']) {
    it(`${m} pairs.npz: clean classified as answer, corrupt as wrong, both test images of fmnist.npz`, async () => {
      const p = await readNpz(ex(m, 'pairs.npz'));
      const n = p.clean.shape[0];
      assert.deepEqual(p.clean.shape, [64, 1, 28, 28]);
      assert.equal(p.clean.dtype, 'float32');
      const answer = ints(p.answer);
      const wrong = ints(p.wrong);
      for (let i = 0; i < n; i++) assert.notEqual(answer[i], wrong[i]);
      const card = JSON.parse(fs.readFileSync(ex(m, 'card.json'), 'utf8')) as { pairs: { cleanIndex: number[] } };
      const test = (await readNpz(ex('data', 'fmnist.npz'))).x_test.data as Float32Array;
      const first = card.pairs.cleanIndex[0];
      assert.deepEqual((p.clean.data as Float32Array).slice(0, 784), test.slice(first * 784, (first + 1) * 784));
      assert.deepEqual(argmaxRows((await run(ex(m, `${m}.onnx`), { pixel_values: p.clean })).data, n, 10), answer);
      assert.deepEqual(argmaxRows((await run(ex(m, `${m}.onnx`), { pixel_values: p.corrupt })).data, n, 10), wrong);
    });
  }
});
