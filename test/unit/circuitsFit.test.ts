/**
 * Fit in the Circuits panel (src/webview/circuits/fitView.ts and the scene's fonts and packing): the smallest
 * label is never under 9 px on screen after Fit; a drawing that fits at that zoom is shown whole and centred,
 * a bigger one from its entry corner (top, left) — on the rule and on the real LIB, circuit and redundancy runs
 * in test/fixtures/envelopes at the side panel's sizes, narrow ones included.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { RunRecord, TypedEnvelope } from '../../src/shared/results';
import { fitCircuits, READABLE_TEXT_PX, readableZoom } from '../../src/webview/circuits/fitView';
import { COLUMN_GAP, layeredLayout, MIN_COLUMN_GAP, stageGap } from '../../src/webview/circuits/layout';
import { libGraph } from '../../src/webview/circuits/libGraph';
import { drawable, type DrawableRun } from '../../src/webview/circuits/model';
import { buildScene, defaultsFor, FIT_PADDING, MIN_FONT_PX } from '../../src/webview/circuits/scene';
import { circuitsColors } from '../../src/webview/circuits/style';
import { paletteFromVars } from '../../src/webview/colors';

const dir = path.join(__dirname, '..', 'fixtures', 'envelopes');
const run = (name: string): DrawableRun => {
  const envelope = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as TypedEnvelope;
  const d = drawable({ id: `run-${name}`, envelope, finishedAt: '2026-11-24T10:00:00.000Z' } satisfies RunRecord);
  assert.ok(d, name);
  return d;
};
const colors = circuitsColors(paletteFromVars((n) => ({ '--vscode-editor-background': '#1f1f1f', '--vscode-editor-foreground': '#cccccc' })[n] ?? '', 'dark'));

describe('fitCircuits', () => {
  it('the readable zoom puts the smallest label at 9 px', () => {
    assert.equal(readableZoom(9), 1);
    assert.equal(readableZoom(8) * 8, READABLE_TEXT_PX);
    assert.equal(readableZoom(12) * 12, READABLE_TEXT_PX);
    assert.equal(readableZoom(0), 1); // no label: no constraint beyond zoom 1
  });

  it('shows a drawing that fits at a readable zoom whole and centred (at most maxZoom)', () => {
    const b = { x1: -100, y1: -50, x2: 100, y2: 50 };
    const v = fitCircuits(b, 10, 600, 400, { padding: 16 });
    assert.equal(v.zoom, 2); // maxZoom: 568/200 and 368/100 would be larger
    assert.equal(v.pan.x, 300);
    assert.equal(v.pan.y, 200);
    const w = fitCircuits(b, 10, 300, 400, { padding: 16 });
    assert.equal(w.zoom, (300 - 32) / 200);
    // the centre of the drawing at the centre of the panel
    assert.equal(w.pan.x + 0 * w.zoom, 150);
  });

  it('a drawing too big at the readable zoom: that zoom, its top-left corner at the padding, centred where it fits', () => {
    const tall = { x1: 0, y1: 0, x2: 200, y2: 2000 };
    const v = fitCircuits(tall, 8, 280, 470, { padding: 16 });
    assert.equal(v.zoom, READABLE_TEXT_PX / 8);
    assert.equal(v.pan.y, 16); // top at the padding
    assert.equal(v.pan.x, 140 - 100 * v.zoom); // 225 px wide: fits the 248 px, centred
    const wide = { x1: -90, y1: -300, x2: 600, y2: 300 };
    const u = fitCircuits(wide, 9, 280, 470, { padding: 16 });
    assert.equal(u.zoom, 1);
    assert.equal(u.pan.x, 16 + 90); // left edge (the row names) at the padding
    assert.equal(u.pan.y, 16 + 300); // top at the padding
  });
});

describe('Circuits panel scenes at Fit', () => {
  const sizes: [number, number][] = [
    [180, 420],
    [280, 470],
    [360, 800],
    [900, 700],
  ];
  for (const name of ['lib', 'circuit', 'redundancy']) {
    it(`${name}: every label ≥ ${MIN_FONT_PX} px at zoom 1, and ≥ ${READABLE_TEXT_PX} px on screen after Fit`, () => {
      const d = run(name);
      for (const [w, h] of sizes) {
        const s = buildScene(d, defaultsFor(d), colors, w, h);
        const fonts = s.elements.filter((e) => e.group === 'nodes' && e.data.label).map((e) => Number(e.data.fs));
        assert.ok(fonts.length > 0);
        const minFont = Math.min(...fonts);
        assert.ok(minFont >= MIN_FONT_PX, `${name} ${w}×${h}: a ${minFont} px label`);
        const v = fitCircuits(s.bounds, minFont, w, h, { padding: FIT_PADDING });
        assert.ok(v.zoom * minFont >= READABLE_TEXT_PX - 1e-9, `${name} ${w}×${h}: ${v.zoom * minFont} px on screen`);
        // The entry corner is on screen: the drawing's top-left (or its centre where it fits) inside the panel.
        const left = s.bounds.x1 * v.zoom + v.pan.x;
        const top = s.bounds.y1 * v.zoom + v.pan.y;
        assert.ok(left >= FIT_PADDING - 1e-6 && left < w, `${name} ${w}×${h}: left edge at ${left}`);
        assert.ok(top >= FIT_PADDING - 1e-6 && top < h, `${name} ${w}×${h}: top edge at ${top}`);
      }
    });
  }

  it('redundancy groups are packed as wide as the panel shows at the readable zoom: a narrow panel scrolls down only', () => {
    const d = run('redundancy');
    for (const [w, h] of sizes) {
      const s = buildScene(d, defaultsFor(d), colors, w, h);
      const v = fitCircuits(s.bounds, MIN_FONT_PX, w, h, { padding: FIT_PADDING });
      const left = s.bounds.x1 * v.zoom + v.pan.x;
      const right = s.bounds.x2 * v.zoom + v.pan.x;
      assert.ok(left >= FIT_PADDING - 1e-6 && right <= w - FIT_PADDING + 1e-6, `${w}×${h}: drawn from ${left} to ${right} px`);
      assert.ok(v.zoom >= readableZoom(MIN_FONT_PX) - 1e-9);
    }
  });

  it('a LIB graph in a narrow side panel: its layers close up (not under 40 apart) so all of them fit the width at Fit', () => {
    const d = run('lib');
    assert.ok(d.kind === 'lib');
    const g = libGraph(d.result, defaultsFor(d));
    const items = g.nodes.map((n) => ({ id: n.id, column: n.column, order: n.order, w: n.w, h: n.h }));
    const wide = stageGap(items, g.columns.length, 'columns', 1400, 800, 1);
    assert.equal(wide, COLUMN_GAP);
    const narrow = stageGap(items, g.columns.length, 'columns', 340, 510, 1);
    assert.ok(narrow < COLUMN_GAP && narrow >= MIN_COLUMN_GAP, `gap ${narrow}`);
    const lay = layeredLayout(items, g.columns.length, 'columns', narrow);
    assert.ok(lay.bounds.x2 - lay.bounds.x1 <= 340 - 2 * FIT_PADDING, `${lay.bounds.x2 - lay.bounds.x1} wide at zoom 1`);
    assert.equal(stageGap(items, g.columns.length, 'columns', 60, 510, 1), MIN_COLUMN_GAP); // never closer
    // The scene the panel draws at 300 × 510: every layer inside the panel's width after Fit.
    const s = buildScene(d, defaultsFor(d), colors, 300, 510);
    assert.equal(s.orientation, 'columns');
    const fonts = s.elements.filter((e) => e.group === 'nodes' && e.data.label).map((e) => Number(e.data.fs));
    const v = fitCircuits(s.bounds, Math.min(...fonts), 300, 510, { padding: FIT_PADDING });
    assert.ok(s.bounds.x2 * v.zoom + v.pan.x <= 300 - FIT_PADDING + 1e-6, 'the last layer runs off the panel');
  });

  it('the example circuit in the side panel (300 × 477) fits whole at a readable zoom: rows close up, row names take their width', () => {
    const d = run('circuit');
    const s = buildScene(d, defaultsFor(d), colors, 300, 477);
    assert.equal(s.orientation, 'rows');
    // the smallest label: node labels and the port letters on edges (10 px, style.ts)
    const fonts = [...s.elements.filter((e) => e.group === 'nodes' && e.data.label).map((e) => Number(e.data.fs)), 10];
    const v = fitCircuits(s.bounds, Math.min(...fonts), 300, 477, { padding: FIT_PADDING });
    assert.ok(v.zoom * Math.min(...fonts) >= READABLE_TEXT_PX - 1e-9);
    const box = { x1: s.bounds.x1 * v.zoom + v.pan.x, y1: s.bounds.y1 * v.zoom + v.pan.y, x2: s.bounds.x2 * v.zoom + v.pan.x, y2: s.bounds.y2 * v.zoom + v.pan.y };
    assert.ok(box.x1 >= FIT_PADDING - 1e-6 && box.x2 <= 300 - FIT_PADDING + 1e-6 && box.y1 >= FIT_PADDING - 1e-6 && box.y2 <= 477 - FIT_PADDING + 1e-6, JSON.stringify(box));
  });
});
