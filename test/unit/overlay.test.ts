/**
 * Analysis results on the operator graph (src/webview/overlay.ts, overlayColors.ts): the real CLI envelopes
 * of test/fixtures/envelopes on the example models they were made on, loaded with the node-side loader.
 * Values must be the envelope's numbers, unchanged, on the elements the envelope names.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/load';
import type { ModelGraph } from '../../src/shared/ir';
import type { AttentionResult, CircuitResult, CollapseResult, RunRecord, Series, TypedEnvelope } from '../../src/shared/results';
import { contrast, paletteFromVars, parseColor, type Rgb } from '../../src/webview/colors';
import { computeOverlay, legendScale, NameResolver, overlayOptions, runMetrics, samePath, scalePosition, visibleOverlay, type Overlay } from '../../src/webview/overlay';
import { nodePaint, overlayColors } from '../../src/webview/overlayColors';
import { buildIndex, initialExpanded, representativeOf, visibleGraph } from '../../src/webview/viewModel';

const repo = path.join(__dirname, '..', '..');
const graphs = new Map<string, Promise<ModelGraph>>();
const graphOf = (rel: string): Promise<ModelGraph> => {
  let g = graphs.get(rel);
  if (!g) graphs.set(rel, (g = loadModel(path.join(repo, 'examples', rel)).then((m) => m.graph)));
  return g;
};
const envelope = (name: string): TypedEnvelope => JSON.parse(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'envelopes', `${name}.json`), 'utf8')) as TypedEnvelope;
const run = (name: string, patch?: (e: TypedEnvelope) => void): RunRecord => {
  const e = envelope(name);
  patch?.(e);
  return { id: `run-${name}`, envelope: e, finishedAt: '2026-11-24T03:15:02.000Z', data: 'examples/data/fmnist.npz' };
};
const overlayOf = (graph: ModelGraph, r: RunRecord, metric?: string): Overlay => {
  const out = computeOverlay(graph, r, metric);
  assert.ok(out.ok, out.ok ? '' : out.reason);
  return out.overlay;
};
const values = (ov: Overlay): Record<string, number | null> => Object.fromEntries([...ov.entries.values()].map((e) => [e.key, e.value]));

describe('samePath', () => {
  it('matches relative envelope paths as whole-segment suffixes, absolute ones exactly', () => {
    assert.ok(samePath('examples/mlp/mlp.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(samePath('./mlp.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(samePath('../mlp/mlp.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(samePath('/work/main/examples/mlp/mlp.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(samePath('C:\\Models\\MLP.onnx', 'c:/models/mlp.onnx'));
    assert.ok(!samePath('lp/mlp.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(!samePath('/other/examples/mlp/mlp.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(!samePath('examples/transformer/transformer.onnx', '/work/main/examples/mlp/mlp.onnx'));
    assert.ok(!samePath('', '/work/main/examples/mlp/mlp.onnx'));
  });
});

describe('computeOverlay: collapse', () => {
  it('colours exactly the producers of layers[].layer with the fixture’s numbers, and marks the head', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const r = run('collapse');
    const result = r.envelope.result as CollapseResult;
    for (const m of runMetrics(r)) {
      const ov = overlayOf(g, r, m.key);
      assert.equal(ov.metric, m.key);
      const expected = Object.fromEntries(result.layers.map((l) => [`n:${g.values[l.layer].producer}`, l[m.key as keyof (typeof result.layers)[number]] as number]));
      assert.deepEqual(values(ov), expected, m.key);
    }
    const ov = overlayOf(g, r);
    assert.equal(ov.metric, 'nc1');
    assert.deepEqual(values(ov), { 'n:/relu1/Relu': 0.9591491162718835, 'n:/relu2/Relu': 0.512256397792042 });
    assert.deepEqual([...ov.marks.keys()], ['n:/fc3/Gemm']);
    assert.equal(ov.legend.title, 'collapse · nc1');
    assert.equal(ov.legend.min, 0.512256397792042);
    assert.equal(ov.legend.max, 0.9591491162718835);
    assert.equal(ov.legend.scale, 'sequential');
    assert.equal(ov.legend.log, false);
    assert.equal(ov.legend.model, 'examples/mlp/mlp.onnx');
    assert.deepEqual(ov.missing, []);
  });

  it('refuses a run on another model with a note naming both', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const out = computeOverlay(g, run('collapse'));
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /examples\/mlp\/mlp\.onnx.*not this graph.*transformer\.onnx/);
    const opts = overlayOptions(g, [run('collapse'), run('attention')]);
    assert.ok(opts.find((o) => o.analysis === 'collapse')!.refused);
    assert.equal(opts.filter((o) => o.analysis === 'collapse').length, 1, 'a refused run is listed once');
    assert.ok(opts.filter((o) => o.analysis === 'attention').every((o) => !o.refused));
  });

  it('accepts the same file recorded elsewhere only when every name it uses is here', async () => {
    const elsewhere = (e: TypedEnvelope): void => void (e.model = '/home/ci/checkout/examples/mlp/mlp.onnx');
    const ov = overlayOf(await graphOf('mlp/mlp.onnx'), run('collapse', elsewhere));
    assert.ok(ov.legend.notes.some((n) => /recorded on \/home\/ci/.test(n)));
    const renamed = (e: TypedEnvelope): void => {
      elsewhere(e);
      (e.result as CollapseResult).layers[0].layer = '/nowhere_output_0';
    };
    const out = computeOverlay(await graphOf('mlp/mlp.onnx'), run('collapse', renamed));
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /\/nowhere_output_0/);
  });

  it('leaves null values uncoloured (never 0) and says so', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const ov = overlayOf(
      g,
      run('collapse', (e) => void ((e.result as CollapseResult).layers[0].nc1 = null)),
    );
    assert.deepEqual(values(ov), { 'n:/relu1/Relu': null, 'n:/relu2/Relu': 0.512256397792042 });
    assert.equal(ov.legend.min, 0.512256397792042);
    const index = buildIndex(g);
    const expanded = initialExpanded(index);
    const vis = visibleOverlay(index, expanded, visibleGraph(index, expanded), ov);
    assert.equal(vis.items.get('n:/relu1/Relu')!.t, null);
    assert.equal(vis.items.get('n:/relu1/Relu')!.value, null);
    assert.equal(vis.items.get('n:/relu2/Relu')!.t, 1);
    assert.equal([...vis.items.values()].filter((v) => v.t !== null).length, 1);
  });

  it('uses the series row of the graph, and the last checkpoint for another file of the series folder', async () => {
    const r = run('collapse-series');
    const rows = (r.envelope.result as Series<CollapseResult>).series;
    const last = overlayOf(await graphOf('mlp/series/epoch_200.onnx'), r);
    assert.deepEqual(values(last), { 'n:/relu2/Relu': rows[8].nc1 });
    assert.ok(last.legend.notes.some((n) => /row 9, epoch_200\.onnx/.test(n)));
    const early = overlayOf(await graphOf('mlp/series/epoch_004.onnx'), r, 'cdnv');
    assert.deepEqual(values(early), { 'n:/relu2/Relu': rows[2].cdnv });
    const other = { ...(await graphOf('mlp/series/epoch_200.onnx')), file: path.join(repo, 'examples/mlp/series/epoch_300.onnx') };
    const fallback = overlayOf(other, r);
    assert.deepEqual(values(fallback), { 'n:/relu2/Relu': rows[8].nc1 });
    assert.ok(fallback.legend.notes.some((n) => /last checkpoint, epoch_200\.onnx/.test(n)));
    const out = computeOverlay(await graphOf('mlp/mlp.onnx'), r);
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /series over examples\/mlp\/series/);
  });
});

describe('computeOverlay: hash, redundancy, lib', () => {
  it('hash: the coded activations with their units; the legend carries the run’s ratios and probes', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const ov = overlayOf(g, run('hash'));
    assert.deepEqual(values(ov), { 'n:/relu1/Relu': 128, 'n:/relu2/Relu': 128 });
    assert.deepEqual(values(overlayOf(g, run('hash'), 'unitShare')), { 'n:/relu1/Relu': 0.5, 'n:/relu2/Relu': 0.5 });
    const rows = Object.fromEntries(ov.legend.rows.map((r) => [r.label, r.value]));
    assert.equal(rows.redundancyRatioTrain, 0.0002);
    assert.equal(rows.redundancyRatioTest, 0);
    assert.equal(rows.knnAccuracy, 0.847);
    assert.equal(rows.logisticAccuracy, 0.842);
    assert.equal(rows['code bits'], '246 of 256');
  });

  it('hash over widths: the row of the width model opened', async () => {
    const ov = overlayOf(await graphOf('widths/mlp_w010.onnx'), run('hash-widths'));
    assert.deepEqual(values(ov), { 'n:/relu1/Relu': 10 });
    assert.ok(ov.legend.notes.some((n) => /mlp_w010\.onnx/.test(n)));
  });

  it('redundancy: the layer’s producer by clones or critical width, groups in its rows', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const ov = overlayOf(g, run('redundancy'));
    assert.deepEqual(values(ov), { 'n:/relu2/Relu': 3.96875 });
    assert.deepEqual(values(overlayOf(g, run('redundancy'), 'criticalWidth')), { 'n:/relu2/Relu': 32 });
    const rows = ov.entries.get('n:/relu2/Relu')!.rows;
    assert.equal(rows.find((r) => /groups/.test(r.label))?.value, 33);
    assert.deepEqual([...ov.marks.keys()], ['n:/fc3/Gemm']);
  });

  it('lib: every node layer’s producer by effective features, rank or Λ max, sections as edges', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const r = run('lib');
    const ov = overlayOf(g, r);
    assert.deepEqual(values(ov), { 'n:/flatten/Flatten': 26, 'n:/relu1/Relu': 14, 'n:/relu2/Relu': 9, 'n:/fc3/Gemm': 10 });
    assert.deepEqual(values(overlayOf(g, r, 'rank')), { 'n:/flatten/Flatten': 85, 'n:/relu1/Relu': 63, 'n:/relu2/Relu': 11, 'n:/fc3/Gemm': 10 });
    const lam = values(overlayOf(g, r, 'lambdaMax'));
    const lib = (r.envelope.result as { layers: { lambdas: number[]; folded?: boolean }[] }).layers;
    assert.equal(lam['n:/fc3/Gemm'], Math.max(...lib[3].lambdas));
    assert.equal(lam['n:/relu1/Relu'], Math.max(...lib[1].lambdas.slice(1)), 'the folded constant direction is excluded');
    assert.equal(ov.edges.length, 3);
    assert.deepEqual(
      ov.edges.map((e) => [e.source, e.target, e.kind]),
      [
        ['n:/flatten/Flatten', 'n:/relu1/Relu', 'section'],
        ['n:/relu1/Relu', 'n:/relu2/Relu', 'section'],
        ['n:/relu2/Relu', 'n:/fc3/Gemm', 'section'],
      ],
    );
    assert.equal(ov.edges[0].absScore, 321.4155940205726);
  });
});

describe('computeOverlay: attention and circuits', () => {
  it('attention: the two Softmax nodes by the layer means, per-head values in their rows', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const r = run('attention');
    const res = r.envelope.result as AttentionResult;
    const keys = runMetrics(r).map((m) => m.key);
    assert.deepEqual(keys, ['fractionAbove', 'fractionAboveInvT', 'keysFor90', 'keysFor99', 'entropyKeys', 'sinkMass'], 'connectivity only for gated models');
    for (const k of keys) {
      const ov = overlayOf(g, r, k);
      assert.deepEqual(values(ov), {
        'n:/blocks.0/attn/Softmax': res.layers[0][k as 'fractionAbove'],
        'n:/blocks.1/attn/Softmax': res.layers[1][k as 'fractionAbove'],
      });
      const heads = ov.entries.get('n:/blocks.1/attn/Softmax')!.rows.filter((x) => x.label.startsWith('head '));
      assert.deepEqual(
        heads.map((x) => x.value),
        res.heads.filter((x) => x.layer === 1).map((x) => x[k as 'fractionAbove']),
      );
    }
    assert.equal(overlayOf(g, r).legend.description, res.definitions.fractionAbove);
  });

  it('circuit: Σ|score| per operator, edges merged per operator pair and listed', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const r = run('circuit');
    const res = r.envelope.result as CircuitResult;
    const ov = overlayOf(g, r);
    // Independent expectation: component → operator via `graph`, Σ|score| of in-circuit edges touching it.
    const opOf = (id: string): string => {
      const n = res.nodes.find((x) => x.id === id)!;
      return `n:${n.graph!.node ?? g.values[n.graph!.value!].producer}`;
    };
    const expected: Record<string, number> = {};
    for (const e of res.edges.filter((x) => x.inCircuit)) {
      for (const k of new Set([opOf(e.from), opOf(e.to)])) expected[k] = (expected[k] ?? 0) + Math.abs(e.score);
    }
    assert.deepEqual(values(ov), expected);
    assert.deepEqual(Object.keys(expected).sort(), ['n:/Add', 'n:/blocks.1/attn/Softmax', 'n:/blocks.1/mlp/fc_out/Add', 'n:/unembed/MatMul']);
    const edge = (s: string, t: string) => ov.edges.find((e) => e.source === s && e.target === t);
    assert.equal(ov.edges.length, 4);
    const v = edge('n:/Add', 'n:/blocks.1/attn/Softmax')!;
    assert.deepEqual(v.parts.map((p) => p.id).sort(), ['input->a1.h0<v>', 'input->a1.h1<v>', 'input->a1.h2<v>', 'input->a1.h3<v>']);
    const inV = res.edges.filter((e) => e.inCircuit && e.from === 'input');
    assert.equal(v.absScore, inV.reduce((s, e) => s + Math.abs(e.score), 0));
    assert.equal(v.score, inV.reduce((s, e) => s + e.score, 0));
    assert.equal(edge('n:/blocks.1/attn/Softmax', 'n:/unembed/MatMul')!.parts.length, 4);
    assert.equal(edge('n:/blocks.1/attn/Softmax', 'n:/blocks.1/mlp/fc_out/Add')!.parts[0].score, -3.1473467350006104);
    assert.equal(edge('n:/blocks.1/mlp/fc_out/Add', 'n:/unembed/MatMul')!.parts[0].score, -5.144595146179199);
    assert.equal(ov.legend.edges?.count, 4);
    assert.equal(ov.legend.rows.find((x) => x.label === 'faithfulness')?.value, 0.8750331074481067);
    // Every scored edge (not only the circuit's) for the second metric; the drawn edges stay the circuit's.
    const all = overlayOf(g, r, 'scoreAll');
    assert.ok(all.entries.size > ov.entries.size);
    assert.equal(all.edges.length, 4);
  });

  it('collapsed blocks aggregate what they hide; circuit edges join the drawn items', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const index = buildIndex(g);
    const expanded = initialExpanded(index);
    const att = overlayOf(g, run('attention'));
    let vis = visibleOverlay(index, expanded, visibleGraph(index, expanded), att);
    assert.deepEqual([...vis.items.keys()].sort(), ['g:blocks.0', 'g:blocks.1']);
    assert.equal(vis.items.get('g:blocks.1')!.coloured, 1);
    assert.equal(vis.items.get('g:blocks.1')!.value, att.entries.get('n:/blocks.1/attn/Softmax')!.value);
    assert.ok(vis.items.get('g:blocks.1')!.aggregate);

    const circ = overlayOf(g, run('circuit'));
    vis = visibleOverlay(index, expanded, visibleGraph(index, expanded), circ);
    // blocks.1 hides the Softmax and the MLP output: their edge vanishes, the others merge.
    assert.deepEqual(vis.edges.map((e) => [e.source, e.target, e.parts.length]).sort(), [
      ['g:blocks.1', 'n:/unembed/MatMul', 5],
      ['n:/Add', 'g:blocks.1', 4],
    ]);
    assert.equal(vis.items.get('g:blocks.1')!.coloured, 2);
    const hidden = [circ.entries.get('n:/blocks.1/attn/Softmax')!.value!, circ.entries.get('n:/blocks.1/mlp/fc_out/Add')!.value!];
    assert.equal(vis.items.get('g:blocks.1')!.value, Math.max(...hidden));

    const open = new Set([...expanded, 'blocks.1', 'blocks.1/attn', 'blocks.1/mlp']);
    vis = visibleOverlay(index, open, visibleGraph(index, open), circ);
    assert.equal(vis.edges.length, 4);
    assert.ok(vis.items.has('n:/blocks.1/attn/Softmax'));
    assert.ok(!vis.items.get('n:/blocks.1/attn/Softmax')!.aggregate);
  });
});

describe('overlay helpers', () => {
  it('representativeOf agrees with visibleGraph for every node', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const index = buildIndex(g);
    for (const expanded of [initialExpanded(index), new Set(['blocks.0']), new Set(['blocks.0', 'blocks.0/attn', 'blocks.1'])]) {
      const ids = new Set(visibleGraph(index, expanded).items.map((i) => i.id));
      for (const n of g.nodes) assert.ok(ids.has(representativeOf(index, expanded, n.id)!), n.id);
    }
    assert.equal(representativeOf(index, new Set(), 'nope'), undefined);
  });

  it('resolves value names to producers, node names to nodes, graph inputs to their terminal', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const names = new NameResolver(g);
    assert.equal(names.valueKey('logits'), 'n:/unembed/MatMul');
    assert.equal(names.nodeKey('/blocks.0/attn/Softmax'), 'n:/blocks.0/attn/Softmax');
    assert.equal(names.valueKey(g.inputs[0]), `i:${g.inputs[0]}`);
    assert.equal(names.key({ node: 'missing', value: '/Add_output_0' }), 'n:/Add');
    assert.equal(names.key({ node: 'missing' }), undefined);
  });

  it('legend scales: sequential, diverging around 0, log over more than two decades', () => {
    assert.deepEqual(legendScale([1, 2, null, 3]), { min: 1, max: 3, scale: 'sequential', log: false });
    assert.deepEqual(legendScale([-1, 2]), { min: -1, max: 2, scale: 'diverging', log: false });
    assert.deepEqual(legendScale([0.01, 5]), { min: 0.01, max: 5, scale: 'sequential', log: true });
    assert.deepEqual(legendScale([null]), { min: null, max: null, scale: 'sequential', log: false });
    assert.equal(scalePosition({ min: -1, max: 2, scale: 'diverging', log: false }, 0), 0.5);
    assert.equal(scalePosition({ min: -1, max: 2, scale: 'diverging', log: false }, 2), 1);
    assert.equal(scalePosition({ min: -1, max: 2, scale: 'diverging', log: false }, -1), 0.25);
    assert.equal(scalePosition({ min: 1, max: 3, scale: 'sequential', log: false }, 2), 0.5);
    assert.ok(Math.abs(scalePosition({ min: 0.01, max: 1, scale: 'sequential', log: true }, 0.1) - 0.5) < 1e-12);
    assert.equal(scalePosition({ min: 4, max: 4, scale: 'sequential', log: false }, 4), 1);
  });

  it('option labels name the analysis and metric', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const opts = overlayOptions(g, [run('collapse'), run('hash'), run('redundancy')]);
    assert.deepEqual(
      opts.map((o) => o.label),
      ['collapse · nc1', 'collapse · nc1TraceRatio', 'collapse · cdnv', 'collapse · equinormMeans', 'collapse · equiangularityMeans', 'collapse · etfDistanceMeans', 'collapse · nccAccuracyTrain', 'hash · units', 'hash · share of code', 'redundancy · clones', 'redundancy · criticalWidth'],
    );
    assert.ok(opts.every((o) => !o.refused && o.id === `${o.runId}::${o.metric}`));
  });

  it('node colours keep the label readable in dark, light and high-contrast themes', () => {
    const light: Record<string, string> = {
      '--vscode-editor-background': '#ffffff',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-yellow': '#bf8803',
      '--vscode-charts-purple': '#652d90',
    };
    const hc: Record<string, string> = { '--vscode-editor-background': '#000000', '--vscode-editor-foreground': '#ffffff', '--vscode-contrastBorder': '#6fc3df' };
    for (const [kind, vars] of [['dark', {}], ['light', light], ['high-contrast', hc]] as const) {
      const p = paletteFromVars((n) => (vars as Record<string, string>)[n] ?? '', kind);
      const c = overlayColors(p);
      const fg = parseColor(p.foreground)!.slice(0, 3) as Rgb;
      for (const scale of ['sequential', 'diverging'] as const) {
        for (let t = 0; t <= 1; t += 0.125) {
          const { fill, stroke } = nodePaint(p, c, scale, t);
          assert.ok(contrast(parseColor(fill)!.slice(0, 3) as Rgb, fg) >= 4.5, `${kind} ${scale} ${t}: ${fill} on ${p.foreground}`);
          assert.match(stroke, /^#[0-9a-f]{6}$/);
        }
      }
      // The ends of the sequential ramp differ (the scale reads at a glance).
      assert.notEqual(nodePaint(p, c, 'sequential', 0).stroke, nodePaint(p, c, 'sequential', 1).stroke);
    }
  });
});
