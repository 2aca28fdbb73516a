/**
 * LIB's autodiff Jacobians on both routes (issue 13): the onnxruntime gradient graphs (default) and the tfjs
 * translator give the same Λ, ranks and edges (LIB and PCA) — on the example MLP with every section forced to
 * autodiff, on the example transformer, and on a small GPT-2-style export made at test time by
 * scripts/bench/gpt2_export.py; the route is named per section and in `backend`; a section whose gradient graph
 * does not build (an op without a VJP rule) falls back to the translator with a warning, and is refused when
 * `route: onnxruntime` is asked for.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { estimateLib, runLib } from '../../src/engine/analyses/lib';
import { supportedGradientOps } from '../../src/model/autodiff';
import { encodeModelProto } from '../../src/model/formats/onnx';
import { writeNpz } from '../../src/model/datasets/writer';
import type { AnalysisEnvelope } from '../../src/shared/analysis';
import type { LibResult } from '../../src/shared/results';
import { repo } from '../helpers/engine';
import { rng, tinyModel } from '../helpers/onnxTiny';

const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
const fmnist = path.join(repo, 'examples', 'data', 'fmnist.npz');
const transformer = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
const induction = path.join(repo, 'examples', 'transformer', 'induction.npz');

function lib(model: string, data: string, options: Record<string, unknown>, extra: { limit?: number; layers?: string[] } = {}): Promise<AnalysisEnvelope<LibResult>> {
  return runLib({ analysis: 'lib', model, data, options, ...extra }, {});
}

function relFrobenius(a: readonly number[], b: readonly number[]): number {
  assert.equal(a.length, b.length);
  let num = 0, den = 0;
  for (let i = 0; i < a.length; i++) {
    num += (a[i] - b[i]) ** 2;
    den += b[i] ** 2;
  }
  return Math.sqrt(num / Math.max(den, 1e-300));
}

/** Same ranks, Λ within `tol` (relative to the layer's largest non-constant Λ), edges within `tol` (relative Frobenius). */
function assertSame(a: LibResult, b: LibResult, tol: number, what: string): void {
  for (const [la, lb] of [[a.layers, b.layers], [a.pca?.layers ?? [], b.pca?.layers ?? []]] as const) {
    assert.equal(la.length, lb.length);
    la.forEach((l, i) => {
      assert.equal(l.rank, lb[i].rank, `${what}: ${l.name} rank`);
      const scale = Math.max(...lb[i].lambdas.slice(1).map(Math.abs), 1e-30);
      l.lambdas.forEach((v, j) => assert.ok(Math.abs(v - lb[i].lambdas[j]) <= tol * scale, `${what}: ${l.name} Λ[${j}] ${v} vs ${lb[i].lambdas[j]}`));
    });
  }
  for (const [ea, eb] of [[a.edges, b.edges], [a.pca?.edges ?? [], b.pca?.edges ?? []]] as const) {
    assert.equal(ea.length, eb.length);
    ea.forEach((e, i) => {
      const err = relFrobenius(e.weights, eb[i].weights);
      assert.ok(err <= tol, `${what}: edges ${e.from} → ${e.to} relative error ${err}`);
    });
  }
  assert.equal(a.edgesFor90, b.edgesFor90, `${what}: edgesFor90`);
}

function assertRoutes(env: AnalysisEnvelope<LibResult>, route: 'onnxruntime' | 'tfjs'): void {
  const r = env.result;
  for (const s of r.sections) if (s.method === 'autodiff') assert.equal(s.route, route, `${s.from} → ${s.to}`);
  const words = route === 'onnxruntime' ? /onnxruntime \w+ \(gradients as ONNX graphs\)/ : /tfjs \w+ \(ONNX → tfjs translator\)/;
  assert.match(r.jacobians.backend ?? '', words);
  assert.match(env.backend, words);
}

describe('lib: onnxruntime gradient graphs vs the tfjs translator', () => {
  it('the example MLP, every section by autodiff: same Λ, ranks and edges (LIB and PCA)', async () => {
    const opts = { jacobians: 'autodiff', ablation: false, checkInvariants: true };
    const ort = await lib(mlp, fmnist, { ...opts, route: 'auto' }, { limit: 256 });
    const tfjs = await lib(mlp, fmnist, { ...opts, route: 'tfjs' }, { limit: 256 });
    assertRoutes(ort, 'onnxruntime');
    assertRoutes(tfjs, 'tfjs');
    assert.equal(ort.result.jacobians.vjps, tfjs.result.jacobians.vjps);
    assertSame(ort.result, tfjs.result, 1e-5, 'mlp');
    for (const inv of ort.result.invariants!) assert.ok(inv.jacobian <= 1e-6 && inv.gram <= 1e-6, `${inv.layer}: invariants ${inv.jacobian}, ${inv.gram}`);
  });

  it('the example MLP: onnxruntime M′ and edges equal the closed form (≤ 1e-6 relative)', async () => {
    const env = await lib(mlp, fmnist, { crossCheck: true, pca: false, ablation: false }, { limit: 256 });
    assert.ok(env.result.sections.every((s) => s.route === 'onnxruntime'));
    for (const c of env.result.crossCheck!) {
      assert.ok(c.mPrime <= 1e-6, `${c.from} → ${c.to}: M′ ${c.mPrime}`);
      assert.ok(c.edges <= 1e-6, `${c.from} → ${c.to}: edges ${c.edges}`);
    }
  });

  it('the example transformer (stochastic sources and exact per position): same Λ and edges', async () => {
    for (const [opts, limit] of [[{ stochasticSources: 1 }, 8], [{ stochasticSources: 0, pca: false }, 2]] as const) {
      const ort = await lib(transformer, induction, { ...opts, route: 'onnxruntime' }, { limit });
      const tfjs = await lib(transformer, induction, { ...opts, route: 'tfjs' }, { limit });
      assertRoutes(ort, 'onnxruntime');
      assertRoutes(tfjs, 'tfjs');
      assert.equal(ort.result.jacobians.vjps, tfjs.result.jacobians.vjps);
      assertSame(ort.result, tfjs.result, 1e-4, `transformer ${JSON.stringify(opts)}`);
    }
  });

  it('stacking cotangents on the batch axis changes nothing (1 vs 7 per call)', async () => {
    const layers = ['/blocks.1/Add_1_output_0', 'logits'];
    const one = await lib(transformer, induction, { stochasticSources: 2, vjpStack: 1 }, { limit: 4, layers });
    const seven = await lib(transformer, induction, { stochasticSources: 2, vjpStack: 7 }, { limit: 4, layers });
    assertSame(one.result, seven.result, 1e-9, 'stack 1 vs 7');
  });
});

describe('lib on a GPT-2-style export (2 layers, d 64, made by gpt2_export.py)', () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-lib-gpt2-'));
    execFileSync('/usr/bin/python3', [path.join(repo, 'scripts', 'bench', 'gpt2_export.py'), '--out', dir, '--layers', '2', '--d', '64', '--heads', '4', '--vocab', '100', '--ctx', '32', '--prompts', '8', '--tokens', '16', '--pairs', '2', '--pair-tokens', '8'], {
      env: { ...process.env, OMP_NUM_THREADS: '1' },
      stdio: 'ignore',
    });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('both routes give the same Λ and edges; the estimate counts the VJPs the run makes', async () => {
    const model = path.join(dir, 'gpt2.onnx');
    const data = path.join(dir, 'tokens.npz');
    const ort = await lib(model, data, { stochasticSources: 1 }, { limit: 4 });
    const tfjs = await lib(model, data, { stochasticSources: 1, route: 'tfjs' }, { limit: 4 });
    assert.deepEqual(ort.result.nodeLayers.names, ['/Add_output_0', '/h.0/Add_1_output_0', '/h.1/Add_1_output_0', 'logits']);
    assertRoutes(ort, 'onnxruntime');
    assertRoutes(tfjs, 'tfjs');
    assertSame(ort.result, tfjs.result, 1e-4, 'gpt2');
    const est = await estimateLib({ analysis: 'lib', model, data, options: { stochasticSources: 1 }, limit: 4 }, {});
    // The estimate takes each next layer's width as its number of directions (an upper bound on its rank).
    const ran = ort.result.jacobians.vjps;
    assert.ok(est.vjps >= ran && est.vjps <= 1.05 * ran, `estimated ${est.vjps} VJPs, the run made ${ran}`);
    assert.ok(est.notes.some((n) => /^calibrated /.test(n)), est.notes.join('; '));
    assert.ok(est.expectedMs > 0 && est.peakBytes > 0);
  });
});

describe('lib: a section whose gradient graph does not build', () => {
  let dir: string;
  let model: string;
  let data: string;
  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-lib-atan-'));
    // x → MatMul → Atan → MatMul → y: Atan has no VJP rule in the ONNX autodiff (the translator differentiates it).
    assert.ok(!supportedGradientOps().includes('Atan'), 'Atan gained a VJP rule: pick another op the translator differentiates and the autodiff does not');
    const proto = tinyModel(
      {
        opset: 17,
        inputs: { x: ['batch', 6] },
        inits: { w1: { shape: [6, 5] }, w2: { shape: [5, 3] } },
        nodes: [
          { op: 'MatMul', inputs: ['x', 'w1'], outputs: ['h'] },
          { op: 'Atan', inputs: ['h'], outputs: ['s'] },
          { op: 'MatMul', inputs: ['s', 'w2'], outputs: ['y'] },
        ],
        output: 'y',
      },
      'float32',
      rng(3),
    );
    model = path.join(dir, 'atan.onnx');
    fs.writeFileSync(model, encodeModelProto(proto));
    const r = rng(4);
    data = path.join(dir, 'x.npz');
    await writeNpz(data, { x: { dtype: 'float32', shape: [64, 6], data: Float32Array.from({ length: 64 * 6 }, () => 2 * r() - 1) } });
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('falls back to the translator for that section, says so, and gives the translator-only numbers', async () => {
    const mixed = await lib(model, data, { jacobians: 'autodiff', ablation: false });
    const tfjs = await lib(model, data, { jacobians: 'autodiff', ablation: false, route: 'tfjs' });
    assert.deepEqual(mixed.result.sections.map((s) => s.route), ['tfjs', 'onnxruntime']);
    assert.ok((mixed.warnings ?? []).some((w) => /x' → 's': the onnxruntime gradient graph does not build .*Atan.*tfjs translator/.test(w)), (mixed.warnings ?? []).join('; '));
    assert.match(mixed.result.jacobians.backend!, /tfjs .* and onnxruntime|onnxruntime .* and tfjs/);
    assertSame(mixed.result, tfjs.result, 1e-5, 'atan');
    await assert.rejects(lib(model, data, { jacobians: 'autodiff', ablation: false, route: 'onnxruntime' }), (e: Error) => e.name === 'JobInputError' && /does not build.*Atan/.test(e.message));
  });
});
