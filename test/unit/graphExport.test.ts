/**
 * Export of the operator graph (src/webview/graphSvg.ts) on the example models laid out as the view lays them out,
 * the PNG size cap, where the host's save dialog opens (src/extension/exportFolder.ts), and the export messages'
 * checks at the host boundary (src/shared/validate.ts).
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { exportFolder, safeExportName } from '../../src/extension/exportFolder';
import { loadModel } from '../../src/model/load';
import type { ModelGraph } from '../../src/shared/ir';
import { validateGraphMessage } from '../../src/shared/validate';
import { paletteFromVars } from '../../src/webview/colors';
import { escapeHtml } from '../../src/shared/html';
import { exitPoint, graphSvg, MAX_PNG_PIXELS, MAX_PNG_SIDE, pngScale, type GraphSvgInput, type ItemPaint } from '../../src/webview/graphSvg';
import { buildElements } from '../../src/webview/graphView';
import { layoutGraph } from '../../src/webview/layout';
import { buildLayoutRequest } from '../../src/webview/layoutRequest';
import { buildIndex, initialExpanded, isCollapsible, visibleGraph } from '../../src/webview/viewModel';

const repo = path.join(__dirname, '..', '..');
const graphOf = async (rel: string): Promise<ModelGraph> => (await loadModel(path.join(repo, 'examples', rel))).graph;
const palette = paletteFromVars(() => '', 'dark');

/** Tags nest and close, attribute values and text hold no raw `<` or `&` (what an SVG viewer's XML parser needs). */
function assertWellFormed(xml: string): void {
  const stack: string[] = [];
  const tag = /<(\/?)([A-Za-z][\w:-]*)((?:\s+[\w:-]+="[^"<]*")*)\s*(\/?)>/g;
  let last = 0;
  for (let m = tag.exec(xml); m; m = tag.exec(xml)) {
    const between = xml.slice(last, m.index);
    assert.ok(!/[<>]|&(?!(amp|lt|gt|quot|apos);)/.test(between), `raw markup in text: ${JSON.stringify(between.slice(0, 80))}`);
    for (const v of m[3].matchAll(/="([^"]*)"/g)) assert.ok(!/&(?!(amp|lt|gt|quot|apos);)/.test(v[1]), `raw & in an attribute: ${v[1]}`);
    if (m[1]) assert.equal(stack.pop(), m[2], `</${m[2]}> closes another element`);
    else if (!m[4]) stack.push(m[2]);
    last = m.index + m[0].length;
  }
  assert.equal(xml.slice(last).trim(), '', 'nothing after the root element');
  assert.deepEqual(stack, [], 'every element closed');
}

/** The view's pipeline for a graph with `open` blocks: visible graph → layout request (fixed-width font) → layout. */
function laidOut(g: ModelGraph, open: 'initial' | 'all'): Omit<GraphSvgInput, 'region' | 'scale' | 'title'> {
  const index = buildIndex(g);
  const expanded = open === 'all' ? new Set(g.hierarchy.filter(isCollapsible).map((h) => h.id)) : initialExpanded(index);
  const view = visibleGraph(index, expanded);
  const { req, itemIndex } = buildLayoutRequest(view, 'monospace', (t) => t.length * 7);
  return { view, layout: layoutGraph(req), itemIndex, palette, edgeLabels: true, bends: true };
}

const count = (s: string, re: RegExp): number => s.match(re)?.length ?? 0;

describe('graphSvg', () => {
  it('draws every operator, block and edge of the whole transformer graph, at 1 px per layout unit', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const base = laidOut(g, 'all');
    const { layout, view } = base;
    const out = graphSvg({ ...base, region: { x1: -16, y1: -16, x2: layout.totalWidth + 16, y2: layout.totalHeight + 16 }, scale: 1, title: 'transformer.onnx — <graph> & co' });
    assertWellFormed(out.svg);
    assert.equal(out.width, Math.ceil(layout.totalWidth + 32));
    assert.equal(out.height, Math.ceil(layout.totalHeight + 32));
    assert.ok(view.compounds.length > 0, 'the expanded transformer has block boxes');
    assert.equal(out.items, view.items.length);
    assert.equal(out.edges, view.edges.length);
    assert.equal(count(out.svg, /<rect class="node /g), view.items.length);
    assert.equal(count(out.svg, /<rect class="compound"/g), view.compounds.length);
    assert.equal(count(out.svg, /<polyline /g), view.edges.length);
    assert.equal(count(out.svg, /<polygon /g), view.edges.length, 'one arrowhead per edge');
    assert.match(out.svg, /<title>transformer\.onnx — &lt;graph&gt; &amp; co<\/title>/);
    // Every operator's type is written (its label's first line).
    for (const it of view.items) if (it.kind === 'op') assert.ok(out.svg.includes(`>${escapeHtml(it.label)}<`), `label ${it.label}`);
    assert.equal(count(out.svg, /class="edge-label"/g), view.edges.filter((e) => e.label).length);
  });

  it('draws only what meets the region of a view, scaled by its zoom', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const base = laidOut(g, 'all');
    const whole = base.view.items.length;
    const region = { x1: 0, y1: 0, x2: 300, y2: 200 };
    const out = graphSvg({ ...base, region, scale: 1.5, title: 'view' });
    assertWellFormed(out.svg);
    assert.equal(out.width, 450);
    assert.equal(out.height, 300);
    assert.ok(out.items > 0 && out.items < whole, `${out.items} of ${whole} items in the region`);
    // Every drawn item meets the region.
    for (const m of out.svg.matchAll(/<rect class="node [^"]*" data-id="[^"]*" x="([-\d.]+)" y="([-\d.]+)" width="([\d.]+)" height="([\d.]+)"/g)) {
      const [x, y, w, h] = m.slice(1).map(Number);
      assert.ok(x <= region.x2 && x + w >= region.x1 && y <= region.y2 && y + h >= region.y1, `item at ${x},${y} is outside the region`);
    }
    assert.ok(count(out.svg, /<rect class="node /g) === out.items && out.items > 0, 'every drawn item checked');
    assert.match(out.svg, /transform="translate\(0 0\) scale\(1\.5\) translate\(0 0\)"/);
  });

  it('puts edge labels where the view placed them (edgeLabels.ts): none overlapping, none left at a crowded middle', async () => {
    const g = await graphOf('transformer/transformer.onnx');
    const base = laidOut(g, 'all');
    const measure = (t: string): number => t.length * 5.2;
    const elements = buildElements(base.view, base.layout, { itemIndex: new Map(base.itemIndex) }, palette, { edgeLabels: true, bends: true, measure });
    const lo = new Map(elements.filter((d) => d.group === 'edges').map((d) => [String(d.data.id), typeof d.data.lo === 'number' ? d.data.lo : -1]));
    const labelOffsets = Float64Array.from(base.view.edges, (e) => lo.get(e.id)!);
    const region = { x1: -16, y1: -16, x2: base.layout.totalWidth + 16, y2: base.layout.totalHeight + 16 };
    const boxes = (svg: string): { x1: number; y1: number; x2: number; y2: number; t: string }[] =>
      [...svg.matchAll(/<text x="([-\d.]+)" y="([-\d.]+)" class="edge-label"[^>]*>([^<]*)<\/text>/g)].map((m) => {
        const [x, y] = [Number(m[1]), Number(m[2]) - 3];
        const w = measure(m[3].replace(/&amp;/g, '&')) + 4;
        return { x1: x - w / 2, y1: y - 6, x2: x + w / 2, y2: y + 6, t: m[3] };
      });
    const overlapping = (bs: ReturnType<typeof boxes>): string[] => {
      const out: string[] = [];
      for (let a = 0; a < bs.length; a++)
        for (let b = a + 1; b < bs.length; b++)
          if (bs[a].x1 < bs[b].x2 - 0.5 && bs[b].x1 < bs[a].x2 - 0.5 && bs[a].y1 < bs[b].y2 - 0.5 && bs[b].y1 < bs[a].y2 - 0.5) out.push(`${bs[a].t} / ${bs[b].t}`);
      return out;
    };
    const placed = graphSvg({ ...base, region, scale: 1, title: 't', labelOffsets });
    const got = boxes(placed.svg);
    assert.equal(got.length, [...labelOffsets].filter((d) => d >= 0).length, 'one label per label the view drew');
    assert.ok(got.length > 0);
    assert.deepEqual(overlapping(got), []);
    // At their edges' middles (the old placement) some of the same labels pile up.
    assert.ok(overlapping(boxes(graphSvg({ ...base, region, scale: 1, title: 't' }).svg)).length > 0, 'the transformer has crowded middles');
  });

  it('ends every edge on its target box (arrow tip on the border)', async () => {
    const g = await graphOf('cnn/cnn.onnx');
    const base = laidOut(g, 'initial');
    const out = graphSvg({ ...base, region: { x1: -16, y1: -16, x2: base.layout.totalWidth + 16, y2: base.layout.totalHeight + 16 }, scale: 1, title: 'cnn' });
    const tips = [...out.svg.matchAll(/<polygon points="([-\d.]+),([-\d.]+) /g)].map((m) => [Number(m[1]), Number(m[2])]);
    assert.equal(tips.length, base.view.edges.length);
    base.view.edges.forEach((e, k) => {
      const i = base.itemIndex.get(e.target)!;
      const { x, y, width: w, height: h } = { x: base.layout.x[i], y: base.layout.y[i], width: base.layout.width[i], height: base.layout.height[i] };
      const [tx, ty] = tips[k];
      const onBorder = (Math.abs(Math.abs(tx - x) - w / 2) < 0.02 && Math.abs(ty - y) <= h / 2 + 0.02) || (Math.abs(Math.abs(ty - y) - h / 2) < 0.02 && Math.abs(tx - x) <= w / 2 + 0.02);
      assert.ok(onBorder, `edge ${e.id}: tip ${tx},${ty} not on the border of ${e.target} (${x}±${w / 2}, ${y}±${h / 2})`);
    });
  });

  it('draws the overlay (colours, undefined values, marks, badges, circuit edges) and the legend band above the graph', async () => {
    const g = await graphOf('mlp/mlp.onnx');
    const base = laidOut(g, 'initial');
    const ops = base.view.items.filter((i) => i.kind === 'op');
    const paint = new Map<string, ItemPaint>([
      [ops[0].id, { fill: '#123456', stroke: '#abcdef' }],
      [ops[1].id, { undefinedValue: true, mark: true }],
      [ops[2].id, { fill: '#222222', stroke: '#ff0000', badge: 3 }],
    ]);
    const region = { x1: -16, y1: -16, x2: base.layout.totalWidth + 16, y2: base.layout.totalHeight + 16 };
    const plain = graphSvg({ ...base, region, scale: 1, title: 'mlp' });
    const out = graphSvg({
      ...base,
      region,
      scale: 1,
      title: 'mlp',
      paint,
      overlayEdges: [{ source: ops[0].id, target: ops[2].id, width: 5, color: '#ff00ff' }],
      legend: { title: 'collapse · nc1', ramp: ['#000000', '#ffffff'], min: '0.51', mid: '', max: '0.96', lines: ['mlp.onnx · fmnist.npz', 'a < b & c'] },
    });
    assertWellFormed(out.svg);
    assert.ok(out.height > plain.height, 'the legend band adds height');
    assert.equal(out.width, plain.width);
    assert.match(out.svg, /fill="#123456" stroke="#abcdef" stroke-width="4"/);
    assert.match(out.svg, /stroke-dasharray="2 2"/, 'undefined value: dotted border');
    assert.match(out.svg, /stroke-dasharray="5 3"/, 'mark: dashed outline');
    assert.match(out.svg, /<circle [^>]*\/>\n<text [^>]*>3<\/text>/, 'badge with its count');
    assert.equal(count(out.svg, /class="ov-edge"/g), 1);
    assert.match(out.svg, /stroke="#ff00ff" stroke-width="5"/);
    assert.match(out.svg, />collapse · nc1</);
    assert.match(out.svg, />a &lt; b &amp; c</);
    assert.match(out.svg, /<stop offset="0" stop-color="#000000"\/><stop offset="1" stop-color="#ffffff"\/>/);
    // With an overlay, operators without a value drop their category colour for the neutral look.
    assert.ok(out.svg.includes(`fill="${palette.fill.other}" stroke="${palette.stroke.shape}"`));
  });
});

describe('exitPoint', () => {
  it('leaves a box on its border towards the target', () => {
    assert.deepEqual(exitPoint({ x: 0, y: 0, w: 20, h: 10 }, 0, 100), [0, 5]);
    assert.deepEqual(exitPoint({ x: 0, y: 0, w: 20, h: 10 }, -100, 0), [-10, 0]);
    assert.deepEqual(exitPoint({ x: 0, y: 0, w: 20, h: 10 }, 20, 20), [5, 5]);
    assert.deepEqual(exitPoint({ x: 0, y: 0, w: 20, h: 10 }, 2, 1), [2, 1], 'a target inside the box');
  });
});

describe('pngScale', () => {
  it('keeps the wanted ratio for a view-sized drawing', () => {
    assert.deepEqual(pngScale(1200, 800, 2), { scale: 2, capped: false, pixelWidth: 2400, pixelHeight: 1600 });
  });

  it('caps a long graph at the canvas side limit and says so', () => {
    const r = pngScale(900, 60_000, 2);
    assert.equal(r.capped, true);
    assert.ok(r.pixelHeight <= MAX_PNG_SIDE, `${r.pixelHeight} px high`);
    assert.equal(r.pixelWidth, Math.floor(900 * r.scale));
  });

  it('caps a big square drawing by its pixel count', () => {
    const r = pngScale(12_000, 12_000, 2);
    assert.equal(r.capped, true);
    assert.ok(r.pixelWidth * r.pixelHeight <= MAX_PNG_PIXELS);
    assert.ok(r.pixelWidth <= MAX_PNG_SIDE);
  });
});

describe('exportFolder', () => {
  it('opens in the workspace folder holding the model, the innermost of nested roots', () => {
    assert.equal(exportFolder(['/ws', '/ws/models'], '/ws/models/ocr/rec.onnx'), '/ws/models');
    assert.equal(exportFolder(['/a', '/ws'], '/ws/examples/mlp/mlp.onnx'), '/ws');
  });

  it('never in the runs folder: a model outside the workspace gets the first workspace folder', () => {
    assert.equal(exportFolder(['/ws'], '/elsewhere/model.onnx'), '/ws');
    assert.equal(exportFolder(['/ws'], undefined), '/ws');
    assert.equal(exportFolder(['/ws'], '/wsx/model.onnx'), '/ws', 'a sibling with a common prefix is outside');
  });

  it('without a workspace, the model’s folder (or nothing to suggest)', () => {
    assert.equal(exportFolder([], '/m/ocr/rec.onnx'), '/m/ocr');
    assert.equal(exportFolder([], undefined), undefined);
  });

  it('suggests a safe name with the export’s extension', () => {
    assert.equal(safeExportName('rec-view.png', 'png'), 'rec-view.png');
    assert.equal(safeExportName('../../etc/pass wd', 'svg'), 'pass_wd.svg');
    assert.equal(safeExportName('..\\..\\x.svg', 'svg'), 'x.svg');
    assert.equal(safeExportName('', 'png'), 'export.png');
  });
});

describe('graph export messages at the host boundary', () => {
  it('accepts an SVG text and PNG bytes with an id', () => {
    assert.ok(validateGraphMessage({ type: 'saveExport', id: 3, format: 'svg', fileName: 'rec-view.svg', content: '<svg/>' }).ok);
    assert.ok(validateGraphMessage({ type: 'saveExport', id: 4, format: 'png', fileName: 'rec-graph.png', content: new Uint8Array(8) }).ok);
    assert.ok(validateGraphMessage({ type: 'copyText', text: '/blocks/Conv', what: 'operator name' }).ok);
  });

  it('refuses other formats, a missing id and content that is neither text nor bytes', () => {
    const bad = [
      { type: 'saveExport', id: 1, format: 'json', fileName: 'x.json', content: '{}' },
      { type: 'saveExport', format: 'svg', fileName: 'x.svg', content: '<svg/>' },
      { type: 'saveExport', id: 1, format: 'png', fileName: 'x.png', content: [1, 2] },
      { type: 'copyText', text: 7, what: 'operator name' },
    ];
    for (const m of bad) {
      const r = validateGraphMessage(m);
      assert.equal(r.ok, false, JSON.stringify(m));
    }
  });
});
