/**
 * The ONNX autodiff on real exports: for every example model (mlp, cnn, transformer), the HF-style tiny GPT-2
 * (test/fixtures/autodiff/gpt2tiny.onnx, made by scripts/reference/gpt2_tiny_export.py) and the three PaddleOCR
 * models (recognizer opset 9, detector opset 11, classifier opset 9), the gradient of S = Σ w ⊙ output (seeded w ∈ U(−1, 1)) with respect to the model's input (or
 * the embedding output for the transformers) and to an intermediate value, run by onnxruntime, agrees with
 * the tfjs translator's vjp: max |g_ort − g_tfjs| ≤ 2e-3·‖g_tfjs‖∞ (both float32; the deeper graphs sum in
 * different orders, measured worst ≈ 1e-5 relative). At an intermediate value the translator is cut there
 * (its gradient is then the total derivative too); graph inputs and initializers are not cut.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';
import { openNpz } from '../../src/model/datasets';
import { decodeModelProto } from '../../src/model/formats/onnx';
import type { LoadedModel } from '../../src/model/ir';
import { loadModel } from '../../src/model/load';
import { createOrtSession, type OrtInput } from '../../src/model/runtime/ort';
import { createOrtGradSession } from '../../src/model/runtime/ortGrad';
import { TfjsGraphExecutor, resolveBackend, tf, vjp } from '../../src/model/runtime/tfjs';
import { rng } from '../helpers/onnxTiny';

const ROOT = path.join(__dirname, '..', '..');
const TOL = 2e-3;

function seeded(n: number, seed: number, lo = -1, hi = 1): Float32Array {
  const r = rng(seed);
  return Float32Array.from({ length: n }, () => lo + (hi - lo) * r());
}

interface Setup {
  file: string;
  feeds: Record<string, OrtInput>;
  /** The same feeds for the translator. */
  given: () => Record<string, tf.Tensor>;
  /** Graph inputs or initializers (no cut). */
  outer: string[];
  /** Intermediate values (cut for the translator). */
  mids: string[];
}

async function compare(s: Setup): Promise<string[]> {
  const model = await loadModel(s.file);
  const out = model.graph.outputs[0];
  const ex = await TfjsGraphExecutor.create(model);
  const given = s.given();
  const lines: string[] = [];
  try {
    const [y, ...midValues] = ex.run(given, [out, ...s.mids]);
    const w = tf.tensor(seeded(y.size, 17), y.shape, 'float32');
    const refs = new Map<string, tf.Tensor>();
    if (s.outer.length) vjp(ex, given, s.outer, out, w).grads.forEach((g, i) => refs.set(s.outer[i], g));
    // One cut per intermediate source (a cut at another one would block paths through it).
    s.mids.forEach((m, i) => {
      const r = vjp(ex, { ...given, [m]: midValues[i] }, m, out, w);
      refs.set(m, r.grads[0]);
      r.output.dispose();
    });
    const proto = decodeModelProto(s.file, fs.readFileSync(s.file));
    const gs = await createOrtGradSession(proto, { objective: { seeds: [out] }, sources: [...s.outer, ...s.mids] }, { provider: 'cpu' });
    try {
      const r = await gs.run(s.feeds, { [out]: { dtype: 'float32', data: w.dataSync() as Float32Array, dims: y.shape } });
      for (const [name, ref] of refs) {
        const a = r.grads[name].data as Float32Array;
        const b = ref.dataSync() as Float32Array;
        assert.deepEqual(r.grads[name].dims, ref.shape, `${s.file}: shape of ∂S/∂${name}`);
        const scale = Math.max(...Array.from(b, Math.abs));
        assert.ok(scale > 0, `${s.file}: the translator's ∂S/∂${name} is all zeros (the check would be vacuous)`);
        let worst = 0;
        for (let j = 0; j < a.length; j++) worst = Math.max(worst, Math.abs(a[j] - b[j]));
        lines.push(`${path.basename(s.file)} ∂S/∂${name}: max |Δ| / ‖g‖∞ = ${(worst / scale).toExponential(2)}`);
        assert.ok(worst <= TOL * scale, `${s.file}: ∂S/∂${name} differs from the translator's by ${worst} (tolerance ${TOL * scale})`);
      }
    } finally {
      await gs.release();
    }
    for (const t of [y, w, ...midValues, ...refs.values()]) t.dispose();
  } finally {
    for (const t of Object.values(given)) t.dispose();
    ex.dispose();
  }
  for (const l of lines) console.log(l);
  return lines;
}

async function imageSetup(name: string, pickMid: (m: LoadedModel) => string): Promise<Setup> {
  const file = path.join(ROOT, 'examples', name, `${name}.onnx`);
  const model = await loadModel(file);
  const npz = await openNpz(path.join(ROOT, 'examples', 'data', 'fmnist.npz'));
  const rows = await npz.readRows('x', 0, 3);
  const noise = seeded(rows.data.length, 5, 0, 0.01);
  const x = Float32Array.from(rows.data as Float32Array, (v, i) => v + noise[i]);
  const input = model.graph.inputs[0];
  return {
    file,
    feeds: { [input]: { dtype: 'float32', data: x, dims: rows.shape } },
    given: () => ({ [input]: tf.tensor(x, rows.shape, 'float32') }),
    outer: [input],
    mids: [pickMid(model)],
  };
}

async function tokenSetup(file: string, input: string, tokens: BigInt64Array, dims: number[], mids: (m: LoadedModel) => string[], outer: string[] = []): Promise<Setup> {
  const model = await loadModel(file);
  return {
    file,
    feeds: { [input]: { dtype: 'int64', data: tokens, dims } },
    given: () => ({ [input]: tf.tensor(Int32Array.from(tokens, Number), dims, 'int32') }),
    outer,
    mids: mids(model),
  };
}

/** [1, 3, h, w]: background (1 − 0.485)/0.229 ≈ 2.2 (white, ImageNet-normalised), strokes −2.1 (black). */
function textLine(h: number, w: number): Float32Array {
  const x = new Float32Array(3 * h * w);
  for (let c = 0; c < 3; c++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < w; j++) {
        const stroke = i >= 24 && i < 40 && j >= 8 && j < w - 8 && (j % 8 < 2 || i === 24 || i === 39 || (i + j) % 9 === 0);
        x[c * h * w + i * w + j] = stroke ? -2.1 : 2.2;
      }
    }
  }
  return x;
}

const checked: string[] = [];

before(async () => {
  await resolveBackend({ force: 'auto', requireGradients: true });
});

describe('autodiff on real exports agrees with the tfjs translator', () => {
  it('mlp: ∂/∂image and ∂/∂(first Relu output)', async () => {
    const s = await imageSetup('mlp', (m) => m.graph.nodes.find((n) => n.opType === 'Relu')!.outputs[0]);
    checked.push(...(await compare(s)));
  });

  it('cnn: ∂/∂image and ∂/∂(second Conv output)', async () => {
    const s = await imageSetup('cnn', (m) => m.graph.nodes.filter((n) => n.opType === 'Conv')[1].outputs[0]);
    checked.push(...(await compare(s)));
  });

  it('transformer: ∂/∂(embedding output) and ∂/∂(residual stream after block 1)', async () => {
    const npz = await openNpz(path.join(ROOT, 'examples', 'transformer', 'induction.npz'));
    const t = await npz.readRows('tokens', 0, 2);
    const file = path.join(ROOT, 'examples', 'transformer', 'transformer.onnx');
    const s = await tokenSetup(file, 'tokens', t.data as BigInt64Array, t.shape, (m) => {
      const g = m.graph;
      const embed = g.nodes.find((n) => n.opType === 'Gather' && n.inputs[1] === g.inputs[0])!;
      const lns = g.nodes.filter((n) => n.opType === 'LayerNormalization');
      return [embed.outputs[0], lns[1].inputs[0]];
    });
    checked.push(...(await compare(s)));
  });

  it('HF-style GPT-2 (opset 14): ∂/∂(tied embedding matrix), ∂/∂(embedding sum), ∂/∂(block 2 input)', async () => {
    const file = path.join(ROOT, 'test', 'fixtures', 'autodiff', 'gpt2tiny.onnx');
    const r = rng(3);
    const tokens = BigInt64Array.from({ length: 2 * 7 }, () => BigInt(Math.floor(r() * 64)));
    const model = await loadModel(file);
    const gathers = model.graph.nodes.filter((n) => n.opType === 'Gather' && model.graph.values[n.inputs[0]]?.kind === 'initializer' && model.graph.tensors[n.inputs[0]]?.shape.length === 2);
    const wte = gathers.find((n) => n.inputs[1] === 'input_ids')!.inputs[0];
    const s = await tokenSetup(
      file,
      'input_ids',
      tokens,
      [2, 7],
      (m) => {
        const g = m.graph;
        const embedSum = g.nodes.find((n) => n.opType === 'Add' && gathers.some((x) => x.outputs[0] === n.inputs[0]))!.outputs[0];
        // The input of the second block's first LayerNorm (decomposed at opset 14: its first ReduceMean).
        const means = g.nodes.filter((n) => n.opType === 'ReduceMean');
        return [embedSum, means[2].inputs[0]];
      },
      [wte],
    );
    checked.push(...(await compare(s)));
  });

  it('PaddleOCR recognizer (opset 9): the gradient graph builds and runs, ∂/∂image and ∂/∂(a Conv output)', async () => {
    const file = path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
    const proto = decodeModelProto(file, fs.readFileSync(file));
    const out = proto.graph!.output![0].name!;
    const conv = proto.graph!.node!.filter((n) => n.op_type === 'Conv')[5].output![0];
    const gs = await createOrtGradSession(proto, { objective: { seeds: [out] }, sources: ['x', conv], outputs: [out] }, { provider: 'cpu' });
    try {
      const dims = [1, 3, 48, 64];
      const x = seeded(dims.reduce((a, b) => a * b, 1), 9, 0, 1);
      const fwd = await createOrtSession(fs.readFileSync(file), { provider: 'cpu' });
      const y0 = (await fwd.run({ x: { dtype: 'float32', data: x, dims } }))[out];
      await fwd.release();
      const yDims = y0.dims;
      const w = seeded(yDims.reduce((a, b) => a * b, 1), 10);
      const r = await gs.run({ x: { dtype: 'float32', data: x, dims } }, { [out]: { dtype: 'float32', data: w, dims: yDims } });
      assert.deepEqual(r.grads.x.dims, dims);
      const yv = r.outputs[out].data as Float32Array;
      const y0v = y0.data as Float32Array;
      assert.ok(yv.every((v, i) => Math.abs(v - y0v[i]) <= 1e-5), 'the same forward output (up to float32 rounding)');
      const g = r.grads.x.data as Float32Array;
      assert.ok(g.every(Number.isFinite), 'finite gradient');
      assert.ok(g.some((v) => v !== 0), 'a non-zero gradient');
    } finally {
      await gs.release();
    }
  });

  const ocr: [string, number[], number][] = [
    ['ch_PP-OCRv4_rec_infer.onnx', [1, 3, 48, 64], 5],
    ['ch_PP-OCRv4_det_infer.onnx', [1, 3, 64, 64], -1],
    ['ch_ppocr_mobile_v2.0_cls_infer.onnx', [1, 3, 48, 96], -1],
  ];
  for (const [name, dims, mid] of ocr) {
    it(`PaddleOCR ${name}: agrees with the translator`, async () => {
      const file = path.join(ROOT, 'node_modules', '@gutenye', 'ocr-models', 'assets', name);
      // The detector saturates its sigmoid on noise (gradients ~1e-8): it gets a normalised white image with a
      // dark stroke pattern where some outputs are undecided.
      const x = name.includes('det') ? textLine(dims[2], dims[3]) : seeded(dims.reduce((a, b) => a * b, 1), 9, 0, 1);
      const model = await loadModel(file);
      const mids = mid >= 0 ? [model.graph.nodes.filter((n) => n.opType === 'Conv')[mid].outputs[0]] : [];
      checked.push(
        ...(await compare({ file, feeds: { x: { dtype: 'float32', data: x, dims } }, given: () => ({ x: tf.tensor(x, dims, 'float32') }), outer: ['x'], mids })),
      );
    });
  }

  it('compared every source', () => {
    assert.equal(checked.length, 13, checked.join('\n'));
  });
});
