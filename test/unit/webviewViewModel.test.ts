/**
 * What the graph view shows (src/webview/viewModel.ts), the viewer's shape inference (shapes.ts), keyboard
 * navigation (nav.ts), progressive mounting's split (progressive.ts), heatmap geometry (grid.ts) and the
 * theme palette's contrast (colors.ts) — pure logic, on the example checkpoints where it matters.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/load';
import type { ModelGraph } from '../../src/shared/ir';
import { contrast, paletteFromVars, parseColor, type Rgb } from '../../src/webview/colors';
import { heatmapGrid } from '../../src/webview/grid';
import { nextInDirection } from '../../src/webview/nav';
import { regionOf, splitByRegion } from '../../src/webview/progressive';
import { broadcast, inferShapes } from '../../src/webview/shapes';
import { buildIndex, collapseGroup, groupsToReveal, initialExpanded, search, visibleGraph } from '../../src/webview/viewModel';

const examples = path.join(__dirname, '..', '..', 'examples');
const graphOf = async (rel: string): Promise<ModelGraph> => (await loadModel(path.join(examples, rel))).graph;

describe('visibleGraph', () => {
  it("labels edges from the values' own shapes: the page's inference runs only for a value that has none", async () => {
    for (const rel of ['transformer/transformer.onnx', 'cnn/cnn.onnx']) {
      const graph = await graphOf(rel);
      const index = buildIndex(graph);
      const all = new Set(index.groups.keys());
      const want = visibleGraph(index, all).edges.map((e) => e.label);
      // The same labels from a fresh index whose inference throws when read: every value the edges carry has a
      // shape after loading (the engine infers them), so none may fall back to the page's pass.
      const fresh = buildIndex(graph);
      Object.defineProperty(fresh, 'shapes', { get: () => assert.fail(`${rel}: an edge label read the page's shape inference`) });
      const edges = visibleGraph(fresh, all).edges;
      assert.ok(edges.every((e) => graph.values[e.value]?.shape), `${rel}: a drawn value without a shape`);
      assert.deepEqual(edges.map((e) => e.label), want);
      assert.ok(want.filter(Boolean).length > 5, `${rel}: labels ${JSON.stringify(want)}`);
    }
  });

  it('starts the transformer collapsed to its repeated blocks, marked as repeats', async () => {
    const index = buildIndex(await graphOf('transformer/transformer.onnx'));
    const expanded = initialExpanded(index);
    const v = visibleGraph(index, expanded);
    const groups = v.items.filter((i) => i.kind === 'group');
    assert.deepEqual(groups.map((g) => g.ref).sort(), ['blocks.0', 'blocks.1']);
    for (const g of groups) assert.deepEqual({ ...g.repeat, index: 0 }, { key: g.repeat!.key, index: 0, count: 2 });
    assert.ok(v.items.length < 15, `${v.items.length} items`);
    // Edges join representatives only and carry no self loops.
    const ids = new Set(v.items.map((i) => i.id));
    for (const e of v.edges) {
      assert.ok(ids.has(e.source) && ids.has(e.target));
      assert.notEqual(e.source, e.target);
    }
  });

  it('expanding a block draws it as a box around its children; collapsing forgets the inside', async () => {
    const index = buildIndex(await graphOf('transformer/transformer.onnx'));
    const expanded = initialExpanded(index);
    expanded.add('blocks.0');
    expanded.add('blocks.0/attn');
    let v = visibleGraph(index, expanded);
    const box = v.compounds.find((c) => c.ref === 'blocks.0');
    assert.ok(box);
    assert.ok(v.compounds.some((c) => c.ref === 'blocks.0/attn' && c.parent === box.id));
    assert.ok(v.items.some((i) => i.kind === 'op' && i.parent === box.id));
    collapseGroup(index, expanded, 'blocks.0');
    assert.ok(!expanded.has('blocks.0/attn'));
    v = visibleGraph(index, expanded);
    assert.ok(v.items.some((i) => i.id === 'g:blocks.0'));
  });

  it('keeps every operator of a model without scopes (mlp: one-node groups are transparent)', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const index = buildIndex(g);
    const v = visibleGraph(index, initialExpanded(index));
    assert.equal(v.items.filter((i) => i.kind === 'op').length, g.nodes.length);
    assert.equal(v.compounds.length, 0);
    assert.equal(v.items.filter((i) => i.kind === 'input').length, g.inputs.length);
  });

  it('search ranks exact op types first and reveal opens the enclosing blocks', async () => {
    const index = buildIndex(await graphOf('transformer/transformer.onnx'));
    const r = search(index, 'softmax');
    assert.ok(r.total >= 2);
    assert.equal(index.nodeById.get(r.hits[0].id)?.opType, 'Softmax');
    assert.deepEqual(groupsToReveal(index, r.hits[0].id), ['blocks.0', 'blocks.0/attn']);
    assert.equal(search(index, '   ').total, 0);
  });
});

describe('inferShapes', () => {
  it('fills the CNN example end to end (no value_info in the file)', async () => {
    const g = await graphOf('cnn/cnn.onnx');
    const shapes = inferShapes(g);
    const byOp = (op: string): string => g.nodes.find((n) => n.opType === op)!.outputs[0];
    assert.deepEqual(shapes.get(byOp('Conv'))?.shape, ['batch', 8, 28, 28]);
    assert.deepEqual(shapes.get(byOp('MaxPool'))?.shape, ['batch', 8, 14, 14]);
    assert.deepEqual(shapes.get(byOp('Flatten'))?.shape, ['batch', 784]);
    assert.equal(shapes.get(byOp('Conv'))?.dtype, 'float32');
  });

  it('broadcasts like numpy', () => {
    assert.deepEqual(broadcast([2, 1, 4], [3, 1]), [2, 3, 4]);
    assert.deepEqual(broadcast(['batch', 4], [4]), ['batch', 4]);
    assert.equal(broadcast([2, 3], [4, 3]), undefined);
  });
});

describe('nextInDirection', () => {
  const pts = [
    { id: 'a', x: 0, y: 0 },
    { id: 'b', x: 0, y: 50 },
    { id: 'c', x: 100, y: 50 },
    { id: 'd', x: -80, y: 52 },
  ];
  it('prefers graph neighbours vertically and stays in the layer sideways', () => {
    assert.equal(nextInDirection(pts[1], 'up', { up: [pts[0]], down: [] }, pts), 'a');
    assert.equal(nextInDirection(pts[1], 'right', { up: [], down: [] }, pts), 'c');
    assert.equal(nextInDirection(pts[1], 'left', { up: [], down: [] }, pts), 'd');
    assert.equal(nextInDirection(pts[0], 'up', { up: [], down: [] }, pts), undefined);
  });
});

describe('progressive mounting', () => {
  it('mounts the viewport region first, with the far ends of its edges', () => {
    const node = (id: string, x: number, y: number) => ({ group: 'nodes' as const, data: { id, w: 40, h: 20 }, position: { x, y } });
    const els = [
      { group: 'nodes' as const, data: { id: 'box' } },
      node('a', 0, 0),
      node('b', 0, 5000),
      node('c', 0, 9000),
      { group: 'edges' as const, data: { id: 'e1', source: 'a', target: 'b' } },
      { group: 'edges' as const, data: { id: 'e2', source: 'b', target: 'c' } },
    ];
    const s = splitByRegion(els, { x1: -100, y1: -100, x2: 100, y2: 100 });
    assert.deepEqual(s.first.map((e) => e.data.id).sort(), ['a', 'b', 'box', 'e1']);
    assert.deepEqual(s.restNodes.map((e) => e.data.id), ['c']);
    assert.deepEqual(s.restEdges.map((e) => e.data.id), ['e2']);
  });

  it('regionOf: the model box a viewport shows, grown by margin screens', () => {
    const v = { zoom: 2, pan: { x: -200, y: 100 } };
    assert.deepEqual(regionOf(v, 800, 600, 0), { x1: 100, y1: -50, x2: 500, y2: 250 });
    assert.deepEqual(regionOf(v, 800, 600, 1), { x1: -300, y1: -350, x2: 900, y2: 550 });
  });
});

describe('heatmapGrid', () => {
  it('shows whole rows of what was read, vectors as squares', () => {
    assert.deepEqual(heatmapGrid([128, 784], 16384), { rows: 20, cols: 256, totalRows: 128, rowStride: 784 });
    assert.deepEqual(heatmapGrid([64], 64), { rows: 8, cols: 8, totalRows: 8, rowStride: 8 });
    assert.equal(heatmapGrid([2, 100000], 100).rows, 0);
  });
});

describe('palette', () => {
  const dark: Record<string, string> = {
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-charts-red': '#f14c4c',
  };
  const light: Record<string, string> = {
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#3b3b3b',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-purple': '#652d90',
    '--vscode-charts-red': '#e51400',
  };
  const hc: Record<string, string> = { '--vscode-editor-background': '#000000', '--vscode-editor-foreground': '#ffffff', '--vscode-contrastBorder': '#6fc3df' };
  for (const [name, vars, kind] of [
    ['Dark Modern', dark, 'dark'],
    ['Light Modern', light, 'light'],
    ['High Contrast', hc, 'high-contrast'],
  ] as const) {
    it(`keeps node labels readable on every fill (${name}, WCAG ≥ 4.5)`, () => {
      const p = paletteFromVars((n) => (vars as Record<string, string>)[n] ?? '', kind);
      const rgb = (hex: string): Rgb => parseColor(hex)!.slice(0, 3) as Rgb;
      for (const [cat, fill] of Object.entries(p.fill)) {
        const c = contrast(rgb(p.foreground), rgb(fill));
        assert.ok(c >= 4.5, `${cat}: contrast ${c.toFixed(2)}`);
      }
      // Secondary text (9 px edge labels) on the background: ≥ 4.5 everywhere, full contrast in high contrast.
      const m = contrast(rgb(p.muted), rgb(p.background));
      assert.ok(m >= 4.5, `muted text: contrast ${m.toFixed(2)}`);
      if (kind === 'high-contrast') assert.equal(p.muted, p.foreground);
    });
  }
});
