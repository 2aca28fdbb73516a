/**
 * Export of a windowed graph (above WINDOW_MIN drawn nodes, src/webview/windowed.ts): cytoscape holds only the
 * elements near the viewport and the far layer draws the rest, so the export (src/webview/graph/export.ts) must
 * draw from the visible graph and its layout. A flat synthetic graph of 4,500 operators goes through the view's
 * pipeline (visible graph → layout → element definitions → first-view split → WindowedMount on a headless
 * cytoscape); the whole-graph SVG must have every node and edge, the view SVG every node in view — those
 * cytoscape holds and those only the far layer draws.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import cytoscape, { type Core } from 'cytoscape';
import { loadModel } from '../../src/model/load';
import { paletteFromVars } from '../../src/webview/colors';
import { farInView } from '../../src/webview/farLayer';
import { exportSvg, type DrawnGraph, type ScreenView } from '../../src/webview/graph/export';
import { buildElements } from '../../src/webview/graphView';
import { layoutGraph } from '../../src/webview/layout';
import { buildLayoutRequest } from '../../src/webview/layoutRequest';
import { regionOf, splitByRegion } from '../../src/webview/progressive';
import { buildIndex, initialExpanded, visibleGraph } from '../../src/webview/viewModel';
import { WINDOW_MIN, WindowedMount } from '../../src/webview/windowed';
import { benchGraph, syntheticOnnx } from '../bench/graphModels';

const W = 1000;
const H = 700;
const palette = paletteFromVars(() => '', 'dark');
const idsIn = (svg: string): Set<string> => new Set([...svg.matchAll(/<rect class="node [^"]*" data-id="([^"]*)"/g)].map((m) => m[1]));

describe('export of a windowed graph (4,500 operators)', () => {
  let dir: string;
  let drawn: DrawnGraph;
  let cy: Core;
  let win: WindowedMount;
  let nodeIds: string[];

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cs-export-'));
    const file = path.join(dir, 'flat4500.onnx');
    writeFileSync(file, syntheticOnnx(4500, false));
    // Flat: the repeated blocks the loader finds are dropped, so every operator is drawn (test/bench/graphModels.ts).
    const graph = benchGraph((await loadModel(file)).graph, false);
    const index = buildIndex(graph);
    const view = visibleGraph(index, initialExpanded(index));
    const { req, itemIndex } = buildLayoutRequest(view, 'monospace', (t) => t.length * 7);
    const layout = layoutGraph(req);
    const elements = buildElements(view, layout, { itemIndex }, palette, { edgeLabels: false, bends: false });
    drawn = { view, layout, itemIndex, palette, index, elementDefs: elements };
    nodeIds = view.items.map((it) => it.id);
    // render.ts: the first viewport (the top of the drawing at zoom 1), its region mounted, the rest windowed.
    const first = { zoom: 1, pan: { x: W / 2 - layout.totalWidth / 2, y: 24 } };
    const split = splitByRegion(elements, regionOf(first, W, H, 1), false);
    cy = cytoscape({ headless: true, elements: split.first });
    cy.viewport(first);
    win = new WindowedMount(cy, elements, () => ({ width: W, height: H }), () => {}, () => {}, () => {});
    win.flush();
  });

  after(() => {
    win.cancel();
    cy.destroy();
    rmSync(dir, { recursive: true, force: true });
  });

  it('is windowed: cytoscape holds a small part of the graph', () => {
    assert.ok(nodeIds.length > WINDOW_MIN, `${nodeIds.length} drawn nodes, above ${WINDOW_MIN}`);
    const held = cy.nodes().filter((n) => !n.isParent()).length;
    assert.ok(held < nodeIds.length / 4, `cytoscape holds ${held} of ${nodeIds.length} nodes`);
  });

  it('the whole-graph SVG has every node and edge, not only those cytoscape holds', () => {
    const screen: ScreenView = { zoom: cy.zoom(), pan: cy.pan(), width: W, height: H };
    const out = exportSvg(drawn, 'graph', screen);
    assert.equal(out.items, nodeIds.length);
    assert.equal(out.edges, drawn.view!.edges.length);
    const ids = idsIn(out.svg);
    assert.equal(ids.size, nodeIds.length);
    for (const id of nodeIds) assert.ok(ids.has(id), `node ${id} missing from the whole-graph SVG`);
    assert.equal(out.svg.match(/<polyline /g)?.length, drawn.view!.edges.length);
  });

  it('the view SVG has every node in view, those drawn only by the far layer included', () => {
    // Scrolled far down, zoomed out: before the window catches up (no slice ran), the far layer draws this view.
    const layout = drawn.layout!;
    const v = { zoom: 0.25, pan: { x: W / 2 - (layout.totalWidth / 2) * 0.25, y: -(layout.totalHeight / 2) * 0.25 } };
    cy.viewport(v);
    const far = farInView(win.grid, win.isMounted, v, W, H);
    assert.ok(far.length > 50, `the far layer draws ${far.length} nodes here`);
    const out = exportSvg(drawn, 'view', { ...v, width: W, height: H });
    const ids = idsIn(out.svg);
    const defs = win.nodeDefs;
    for (const i of far) assert.ok(ids.has(String(defs[i].data.id)), `far-layer node ${String(defs[i].data.id)} missing from the view SVG`);
    // Every node whose box meets the screen is in it (mounted or not), and nothing far outside it.
    const inView = win.grid.query(regionOf(v, W, H, 0)).map((i) => String(defs[i].data.id));
    assert.deepEqual([...ids].sort(), inView.sort());
    assert.equal(out.width, W);
    assert.equal(out.height, H);
    // Once the window is mounted there, the same view exports the same nodes.
    win.flush();
    assert.equal(farInView(win.grid, win.isMounted, v, W, H).length, 0);
    assert.deepEqual([...idsIn(exportSvg(drawn, 'view', { ...v, width: W, height: H }).svg)].sort(), [...ids].sort());
  });
});
