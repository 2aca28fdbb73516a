/**
 * Circuits on the architectures people export, each made at test time by a script in scripts/ with Debian's
 * torch (small, untrained, seeded: structure and numbers, not mechanisms):
 * - an HF-style GPT-2 decoder written with Hugging Face's exact lines (scripts/bench/gpt2_export.py --hf-exact:
 *   fused c_attn + Split, the shape-derived torch.full divisor, Where mask, tanh GELU, tied unembedding,
 *   _merge_heads' Shape reads): the onnxruntime route against the tfjs translator's, and EAP-IG, exact
 *   patching and a circuit's faithfulness against plain PyTorch (scripts/bench/gpt2_reference.py circuit --exact);
 * - a timm-style ViT on clean/corrupted image pairs (scripts/reference/vit_tiny_export.py), metric between two
 *   classes: exact patching and EAP against PyTorch (scripts/reference/circuit_exact.py --vit);
 * - a post-LN BERT-style encoder with a pooler + classifier (scripts/reference/bert_tiny_export.py): exact
 *   patching and EAP against PyTorch's rebuild of each receiver's stream through the norms (--bert);
 * - the same encoder written pre-LN (--pre-ln), a token classifier both routes run: they agree on the metric
 *   between two classes;
 * - typed errors where the metric option or the route does not fit the model.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readPromptPairs, runCircuit } from '../../src/engine/analyses/circuit';
import { encodeNpz } from '../../src/model/datasets/writer';
import { releaseOrtCircuit } from '../../src/engine/analyses/circuitRoute';
import { JobInputError } from '../../src/engine/errors';
import type { CircuitResult } from '../../src/shared/results';
import { repo } from '../helpers/engine';

let dir: string;
const py = (script: string, ...args: string[]): void => {
  execFileSync('/usr/bin/python3', [path.join(repo, 'scripts', script), ...args], { env: { ...process.env, OMP_NUM_THREADS: '1' }, stdio: 'pipe' });
};

interface TorchRef {
  metricClean: number;
  metricCorrupt: number;
  edges: string[];
  exactScores: number[];
  eapScores: number[];
}

async function circuit(model: string, data: string, options: Record<string, unknown>): Promise<{ r: CircuitResult; backend: string }> {
  const env = await runCircuit({ analysis: 'circuit', model, data, options }, {});
  await releaseOrtCircuit();
  return { r: env.result as CircuitResult, backend: env.backend };
}

function maxDiff(a: number[], b: number[]): number {
  assert.equal(a.length, b.length);
  return Math.max(...a.map((v, i) => Math.abs(v - b[i])));
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-circuit-archs-'));
  py('bench/gpt2_export.py', '--out', path.join(dir, 'gpt2'), '--hf-exact', '--layers', '2', '--d', '64', '--heads', '4', '--vocab', '100', '--ctx', '32', '--prompts', '4', '--tokens', '8', '--pairs', '8', '--pair-tokens', '8');
  py('reference/vit_tiny_export.py', '--out', path.join(dir, 'vit'));
  py('reference/bert_tiny_export.py', '--out', path.join(dir, 'bert'));
  py('reference/bert_tiny_export.py', '--out', path.join(dir, 'bertpre'), '--pre-ln');
  py('reference/circuit_exact.py', '--vit', path.join(dir, 'vit'));
  py('reference/circuit_exact.py', '--bert', path.join(dir, 'bert'));
  py('bench/gpt2_reference.py', 'circuit', path.join(dir, 'gpt2', 'gpt2.onnx'), path.join(dir, 'gpt2', 'pairs.npz'), '--heads', '4', '--edges', '12', '--exact', '--out', path.join(dir, 'gpt2', 'reference.json'));
});

after(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

describe('circuits on an HF-style GPT-2 export (Hugging Face’s exact lines)', () => {
  it('onnxruntime and the tfjs translator agree on the metric, the EAP-IG scores and the circuit', async () => {
    const model = path.join(dir, 'gpt2', 'gpt2.onnx');
    const data = path.join(dir, 'gpt2', 'pairs.npz');
    const ort = await circuit(model, data, { route: 'onnxruntime', edges: 12 });
    const tfjs = await circuit(model, data, { route: 'tfjs', edges: 12 });
    assert.match(ort.backend, /onnxruntime/);
    assert.match(tfjs.backend, /translator/);
    assert.equal(ort.r.layout, 'attn 0 (4 heads), mlp 0, attn 1 (4 heads), mlp 1');
    assert.equal(ort.r.totalEdges, 110);
    assert.match(ort.r.metric, /at position 7 of 8/);
    assert.ok(Math.abs(ort.r.circuit.metricClean - tfjs.r.circuit.metricClean) < 1e-5);
    assert.ok(Math.abs(ort.r.circuit.metricCorrupt - tfjs.r.circuit.metricCorrupt) < 1e-5);
    const a = ort.r.edges.map((e) => e.score);
    const b = tfjs.r.edges.map((e) => e.score);
    const scale = Math.max(...b.map(Math.abs));
    console.log(`gpt2 --hf-exact: EAP-IG onnxruntime vs tfjs max |Δ| ${maxDiff(a, b).toExponential(2)} (largest score ${scale.toExponential(2)})`);
    assert.ok(maxDiff(a, b) <= 1e-3 * scale);
    assert.ok(Math.abs((ort.r.circuit.metricCircuit ?? NaN) - (tfjs.r.circuit.metricCircuit ?? NaN)) < 1e-5);
  });

  it('EAP-IG, exact patching and the faithfulness of a 12-edge circuit equal plain PyTorch’s', async () => {
    const t = JSON.parse(fs.readFileSync(path.join(dir, 'gpt2', 'reference.json'), 'utf8')) as { edges: string[]; scores: number[]; exactScores: number[]; metricClean: number; faithfulness: number };
    const { r } = await circuit(path.join(dir, 'gpt2', 'gpt2.onnx'), path.join(dir, 'gpt2', 'pairs.npz'), { edges: 12, validate: true });
    assert.deepEqual(r.edges.map((e) => e.id), t.edges);
    const ds = maxDiff(r.edges.map((e) => e.score), t.scores);
    const dx = maxDiff(r.validation!.exactScores, t.exactScores);
    const scale = Math.max(...t.scores.map(Math.abs));
    console.log(`gpt2 --hf-exact vs PyTorch: EAP-IG max |Δ| ${ds.toExponential(2)} (largest ${scale.toExponential(2)}), exact patching ${dx.toExponential(2)}, faithfulness ${r.circuit.faithfulness} vs ${t.faithfulness}`);
    assert.ok(ds <= 1e-4 * scale && dx <= 1e-4 * Math.max(...t.exactScores.map(Math.abs)));
    assert.ok(Math.abs(r.circuit.metricClean - t.metricClean) < 1e-5);
    assert.ok(Math.abs((r.circuit.faithfulness ?? NaN) - t.faithfulness) < 1e-4);
  });

  it('metric=classes on a (batch, T, vocabulary) output is a typed error naming the option to use', async () => {
    await assert.rejects(
      circuit(path.join(dir, 'gpt2', 'gpt2.onnx'), path.join(dir, 'gpt2', 'pairs.npz'), { metric: 'classes' }),
      (e: unknown) => e instanceof JobInputError && /metric=classes.*sequence axis \(batch, 8, 100\); use metric=position/.test(e.message),
    );
  });
});

for (const arch of ['vit', 'bert'] as const) {
  const what = arch === 'vit' ? 'a timm-style ViT on image pairs' : 'a post-LN BERT-style encoder with a classification head';
  describe(`circuits on ${what}`, () => {
    const model = (): string => path.join(dir, arch, `${arch}.onnx`);
    const data = (): string => path.join(dir, arch, 'pairs.npz');
    const ref = (): TorchRef => JSON.parse(fs.readFileSync(path.join(dir, arch, 'exact.json'), 'utf8')) as TorchRef;

    it('exact patching and EAP equal PyTorch’s, edge by edge; the metric is between two classes', async () => {
      const t = ref();
      const { r, backend } = await circuit(model(), data(), { method: 'eap', validate: true });
      assert.match(backend, /onnxruntime/);
      assert.match(r.metric, /between two classes/);
      assert.equal(r.seqLen, arch === 'vit' ? 17 : 12);
      assert.deepEqual(r.edges.map((e) => e.id), t.edges, 'the same component graph, in graph order');
      assert.ok(Math.abs(r.circuit.metricClean - t.metricClean) < 1e-5 && Math.abs(r.circuit.metricCorrupt - t.metricCorrupt) < 1e-5);
      const v = r.validation!;
      const dx = maxDiff(v.exactScores, t.exactScores);
      const de = maxDiff(r.edges.map((e) => e.score), t.eapScores);
      const sx = Math.max(...t.exactScores.map(Math.abs));
      const se = Math.max(...t.eapScores.map(Math.abs));
      console.log(`${arch}: exact patching vs PyTorch max |Δ| ${dx.toExponential(2)} (largest ${sx.toExponential(2)}); EAP ${de.toExponential(2)} (largest ${se.toExponential(2)}); Spearman top-50 EAP ${v.spearmanTop.eap.toFixed(3)}, EAP-IG ${v.spearmanTop.eapIg.toFixed(3)}`);
      assert.ok(dx <= 1e-5 * Math.max(1, sx) && dx <= 1e-3 * sx);
      assert.ok(de <= 1e-3 * se);
      // with every edge kept the patched run is the clean run
      const full = await circuit(model(), data(), { method: 'eap', edges: r.totalEdges });
      assert.ok(Math.abs(full.r.circuit.metricCircuit - t.metricClean) < 1e-5);
    });

    it('the tfjs translator route and metric=position are typed errors naming what does not fit', async () => {
      await assert.rejects(
        circuit(model(), data(), { route: 'tfjs' }),
        (e: unknown) => e instanceof JobInputError && (arch === 'vit' ? /tfjs translator route takes token prompts.*\(1, 16, 16\)/ : /post-LN transformer.*use --route onnxruntime/).test(e.message),
      );
      await assert.rejects(
        circuit(model(), data(), { metric: 'position' }),
        (e: unknown) => e instanceof JobInputError && /metric=position.*no sequence axis; use metric=classes/.test(e.message),
      );
    });
  });
}

describe('circuits on a pre-LN token classifier (a (batch, classes) output)', () => {
  it('onnxruntime and the tfjs translator agree on the class metric, the EAP-IG scores and the circuit', async () => {
    const model = path.join(dir, 'bertpre', 'bert.onnx');
    const data = path.join(dir, 'bertpre', 'pairs.npz');
    const ort = await circuit(model, data, { route: 'onnxruntime', edges: 10 });
    const tfjs = await circuit(model, data, { route: 'tfjs', edges: 10 });
    for (const r of [ort.r, tfjs.r]) assert.match(r.metric, /between two classes \(answer − wrong\) of the classification output 'logits'/);
    assert.ok(Math.abs(ort.r.circuit.metricClean - tfjs.r.circuit.metricClean) < 1e-5);
    const a = ort.r.edges.map((e) => e.score);
    const b = tfjs.r.edges.map((e) => e.score);
    const scale = Math.max(...b.map(Math.abs));
    console.log(`pre-LN classifier: EAP-IG onnxruntime vs tfjs max |Δ| ${maxDiff(a, b).toExponential(2)} (largest ${scale.toExponential(2)})`);
    assert.ok(maxDiff(a, b) <= 1e-3 * scale);
    assert.ok(Math.abs((ort.r.circuit.faithfulness ?? NaN) - (tfjs.r.circuit.faithfulness ?? NaN)) < 1e-4);
    await assert.rejects(circuit(model, data, { route: 'tfjs', metric: 'position' }), (e: unknown) => e instanceof JobInputError && /metric=position.*no sequence axis/.test(e.message));
  });
});

describe('float input pairs', () => {
  const f32 = (shape: number[], v = 0.5) => ({ dtype: 'float32' as const, shape, data: new Float32Array(shape.reduce((a, b) => a * b, 1)).fill(v) });
  const ids = (n: number) => ({ dtype: 'int64' as const, shape: [n], data: new BigInt64Array(n) });
  const write = (name: string, arrays: Parameters<typeof encodeNpz>[0]): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, encodeNpz(arrays));
    return file;
  };

  it('reads (M, C, H, W) images with their per-pair shape; negative values are fine', async () => {
    const p = await readPromptPairs(write('img.npz', { clean: f32([3, 1, 4, 5], -0.25), corrupt: f32([3, 1, 4, 5]), answer: ids(3), wrong: ids(3) }));
    assert.equal(p.float, true);
    assert.deepEqual(p.sample, [1, 4, 5]);
    assert.equal(p.seqLen, 20);
    assert.equal(p.clean[0], -0.25);
  });

  it('refuses unequal shapes and a float/int mix with typed errors', async () => {
    await assert.rejects(
      readPromptPairs(write('shape.npz', { clean: f32([3, 1, 4, 5]), corrupt: f32([3, 1, 5, 4]), answer: ids(3), wrong: ids(3) })),
      (e: unknown) => e instanceof JobInputError && /equal shapes.*\(3, 1, 4, 5\).*\(3, 1, 5, 4\)/.test(e.message),
    );
    await assert.rejects(
      readPromptPairs(write('mix.npz', { clean: f32([3, 4]), corrupt: { dtype: 'int64', shape: [3, 4], data: new BigInt64Array(12) }, answer: ids(3), wrong: ids(3) })),
      (e: unknown) => e instanceof JobInputError && /both hold token ids.*float32 and int64/.test(e.message),
    );
  });
});
