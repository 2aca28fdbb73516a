/**
 * firstWindow.ts: the first window chosen from the layout's arrays is what splitByRegion picks from all the
 * definitions (same definitions, same order), and the definitions built after the first frame, in slices or at
 * once, are buildElements' list — so the windowed view mounts and draws the same elements at the same places.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import cytoscape from 'cytoscape';
import type { ElementDefinition } from 'cytoscape';
import { loadModel } from '../../src/model/load';
import { paletteFromVars } from '../../src/webview/colors';
import { DeferredWindow, ViewDefinitions, firstWindow } from '../../src/webview/firstWindow';
import { buildElements, elementBuilder } from '../../src/webview/graphView';
import { layoutGraph, type LayoutResult } from '../../src/webview/layout';
import { buildLayoutRequest } from '../../src/webview/layoutRequest';
import { regionOf, splitByRegion, type Viewport } from '../../src/webview/progressive';
import { buildIndex, initialExpanded, visibleGraph, type VisibleGraph } from '../../src/webview/viewModel';
import { WindowedMount } from '../../src/webview/windowed';
import { benchGraph, syntheticOnnx } from '../bench/graphModels';

const W = 1000;
const H = 700;
const palette = paletteFromVars(() => '', 'dark');
const opts = { edgeLabels: false, bends: true };

interface Case {
  view: VisibleGraph;
  layout: LayoutResult;
  itemIndex: Map<string, number>;
  elements: ElementDefinition[];
}

/** Viewports: the top at zoom 1, the middle zoomed in, the whole drawing, and one beside the drawing (empty). */
function viewports(l: LayoutResult): Viewport[] {
  return [
    { zoom: 1, pan: { x: W / 2 - l.totalWidth / 2, y: 24 } },
    { zoom: 2, pan: { x: W / 2 - l.totalWidth, y: H / 2 - l.totalHeight } },
    { zoom: Math.min(W / l.totalWidth, H / l.totalHeight), pan: { x: 0, y: 0 } },
    { zoom: 1, pan: { x: -10 * l.totalWidth - 5000, y: 0 } },
  ];
}

describe('first window of a windowed graph (4,500 operators, flat and scoped)', () => {
  let dir: string;
  const cases: Record<string, Case> = {};

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'cs-first-'));
    for (const scoped of [false, true]) {
      const file = path.join(dir, `s${scoped}.onnx`);
      writeFileSync(file, syntheticOnnx(4500, scoped));
      const index = buildIndex(benchGraph((await loadModel(file)).graph, scoped));
      // Scoped: every block open, so compounds and edges between blocks are drawn.
      const expanded = scoped ? new Set(index.graph.hierarchy.map((g) => g.id)) : initialExpanded(index);
      const view = visibleGraph(index, expanded);
      const { req, itemIndex } = buildLayoutRequest(view, 'monospace', (t) => t.length * 7);
      const layout = layoutGraph(req);
      cases[scoped ? 'scoped' : 'flat'] = { view, layout, itemIndex, elements: buildElements(view, layout, { itemIndex }, palette, opts) };
    }
  });

  after(() => rmSync(dir, { recursive: true, force: true }));

  for (const name of ['flat', 'scoped']) {
    it(`${name}: the first window's definitions are splitByRegion's first part, in order, for four viewports`, () => {
      const c = cases[name];
      if (name === 'scoped') assert.ok(c.view.compounds.length > 10, `${c.view.compounds.length} compounds drawn`);
      assert.ok(c.view.items.length > 4000, `${c.view.items.length} items drawn`);
      const sizes: number[] = [];
      for (const v of viewports(c.layout)) {
        const region = regionOf(v, W, H, 1);
        const defs = new ViewDefinitions(elementBuilder(c.view, c.layout, { itemIndex: c.itemIndex }, palette, opts), c.view, firstWindow(c.view, c.layout, c.itemIndex, region));
        assert.deepStrictEqual(defs.first, splitByRegion(c.elements, region, false).first);
        sizes.push(defs.first.length);
      }
      // The viewports differ: a few hundred elements at the top, all of them when fitted, the compounds alone beside.
      assert.ok(sizes[0] > 20 && sizes[0] < c.elements.length / 4, `first window at the top: ${sizes[0]} of ${c.elements.length}`);
      assert.equal(sizes[2], c.elements.length);
      assert.equal(sizes[3], c.view.compounds.length);
    });

    for (const sliced of [true, false]) {
      it(`${name}: built ${sliced ? 'in slices' : 'at once (flush)'}, the definitions are buildElements' list and the window mounts the same elements`, async () => {
        const c = cases[name];
        const v = viewports(c.layout)[0];
        const region = regionOf(v, W, H, 1);
        const mountOf = (first: ElementDefinition[], all: () => ElementDefinition[]): { cy: cytoscape.Core; win: WindowedMount } => {
          const cy = cytoscape({ headless: true, elements: first });
          cy.viewport(v);
          return { cy, win: new WindowedMount(cy, all(), () => ({ width: W, height: H }), () => {}, () => {}, () => {}) };
        };
        // cytoscape writes to the definitions it is given: each side gets its own.
        const before = buildElements(c.view, c.layout, { itemIndex: c.itemIndex }, palette, opts);
        const pristine = buildElements(c.view, c.layout, { itemIndex: c.itemIndex }, palette, opts);
        // Before: every definition, splitByRegion, the window mounted.
        const old = mountOf(splitByRegion(before, region, false).first, () => before);
        old.win.flush();
        // Now: the first window's definitions, the rest deferred.
        const defs = new ViewDefinitions(elementBuilder(c.view, c.layout, { itemIndex: c.itemIndex }, palette, opts), c.view, firstWindow(c.view, c.layout, c.itemIndex, region));
        const cy = cytoscape({ headless: true, elements: defs.first });
        cy.viewport(v);
        let readyCalls = 0;
        let listed: ElementDefinition[] = [];
        let win: WindowedMount | undefined;
        const d = new DeferredWindow(
          defs,
          (elements) => {
            readyCalls++;
            listed = elements;
            // As render.ts: the mount reads the node indices and edge ends firstWindow found (no id map).
            win = new WindowedMount(cy, elements, () => ({ width: W, height: H }), () => {}, () => {}, () => {}, () => false, () => {}, 30, defs.index);
            return win;
          },
          () => false,
          1,
        );
        assert.ok(defs.index, 'the layout lists the items after the compounds, in order');
        assert.equal(d.done, false);
        assert.equal(d.mounted, defs.first.length);
        if (sliced) {
          d.start();
          const t0 = Date.now();
          while (!readyCalls && Date.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 5));
        }
        d.flush();
        d.flush();
        assert.equal(readyCalls, 1);
        assert.equal(d.done, true);
        const drawn = (k: cytoscape.Core): unknown[] => k.elements().map((e) => [e.id(), JSON.stringify(e.data()), e.isNode() ? [e.position('x'), e.position('y')] : null]).sort();
        assert.deepStrictEqual(drawn(cy), drawn(old.cy));
        // The list: buildElements' order; the first window's definitions are the ones mounted first (cytoscape
        // has written to those), every other one equals buildElements' (test above: the first ones do too).
        assert.equal(listed.length, pristine.length);
        const firstSet = new Set(defs.first);
        const rebuilt = listed.map((e, k) => (firstSet.has(e) ? pristine[k] : e));
        assert.equal(listed.filter((e) => firstSet.has(e)).length, defs.first.length);
        assert.deepStrictEqual(listed.filter((e) => firstSet.has(e)), defs.first);
        assert.deepStrictEqual(rebuilt, pristine);
        // Panned down three screens, both windows mount the same next elements.
        const down = { zoom: v.zoom, pan: { x: v.pan.x, y: v.pan.y - 3 * H } };
        for (const k of [cy, old.cy]) k.viewport(down);
        d.flush();
        old.win.flush();
        const a = drawn(cy);
        assert.ok(a.length > defs.first.length, `${a.length} elements mounted, ${defs.first.length} in the first window`);
        assert.deepStrictEqual(a, drawn(old.cy));
        win?.cancel();
        old.win.cancel();
        cy.destroy();
        old.cy.destroy();
      });
    }
  }

  it('ensure() before the build is done finishes it and mounts the node asked for; cancel() stops the slices', async () => {
    const c = cases.flat;
    const v = viewports(c.layout)[0];
    const region = regionOf(v, W, H, 1);
    const build = (): ViewDefinitions => new ViewDefinitions(elementBuilder(c.view, c.layout, { itemIndex: c.itemIndex }, palette, opts), c.view, firstWindow(c.view, c.layout, c.itemIndex, region));
    const cy = cytoscape({ headless: true, elements: build().first });
    cy.viewport(v);
    const far = c.view.items[c.view.items.length - 1].id;
    assert.ok(cy.getElementById(far).empty(), 'the last operator is outside the first window');
    const d = new DeferredWindow(build(), (elements) => new WindowedMount(cy, elements, () => ({ width: W, height: H }), () => {}, () => {}, () => {}));
    d.ensure([far]);
    assert.ok(cy.getElementById(far).nonempty(), 'ensure mounted it');
    d.cancel();
    let called = false;
    const e = new DeferredWindow(build(), (elements) => {
      called = true;
      return new WindowedMount(cy, elements, () => ({ width: W, height: H }), () => {}, () => {}, () => {});
    });
    e.start();
    e.cancel();
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(called, false);
    // A user who never stops panning: the slices wait, then go on after maxWait (200 ms here).
    let readyAt = 0;
    const t0 = performance.now();
    const f = new DeferredWindow(
      build(),
      (elements) => {
        readyAt = performance.now();
        return new WindowedMount(cy, elements, () => ({ width: W, height: H }), () => {}, () => {}, () => {});
      },
      () => true,
      8,
      200,
    );
    f.start();
    while (!readyAt && performance.now() - t0 < 60_000) await new Promise((r) => setTimeout(r, 10));
    assert.ok(readyAt - t0 >= 200, `ready after ${Math.round(readyAt - t0)} ms`);
    f.cancel();
    cy.destroy();
  });
});
