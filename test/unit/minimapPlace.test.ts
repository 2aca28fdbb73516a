/** Where the minimap goes (src/webview/minimap.ts freeCorner): a corner where it hides no node, or nowhere. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { freeCorner } from '../../src/webview/minimap';
import { screenBox, type ItemBoxes } from '../../src/webview/viewportFit';

const boxes = (items: [number, number, number, number][], firstItem = 0): ItemBoxes => ({
  x: items.map((i) => i[0]),
  y: items.map((i) => i[1]),
  width: items.map((i) => i[2]),
  height: items.map((i) => i[3]),
  firstItem,
});
const id = { zoom: 1, pan: { x: 0, y: 0 } };
const size = { w: 200, h: 140 };

describe('freeCorner', () => {
  it('keeps the bottom-right corner while nothing is drawn there', () => {
    assert.equal(freeCorner(boxes([[400, 50, 100, 28], [400, 500, 100, 28]]), id, 800, 600, size), 'bottom-right');
  });

  it('moves to the next free corner when a node lies under the bottom-right one', () => {
    assert.equal(freeCorner(boxes([[700, 520, 100, 28]]), id, 800, 600, size), 'top-right');
    assert.equal(freeCorner(boxes([[700, 520, 100, 28], [700, 60, 100, 28]]), id, 800, 600, size), 'top-left');
    assert.equal(freeCorner(boxes([[700, 520, 100, 28], [700, 60, 100, 28], [90, 60, 100, 28]]), id, 800, 600, size), 'bottom-left');
  });

  it('is hidden when every corner would cover a node, or the view is too small for it', () => {
    const all = boxes([[700, 520, 100, 28], [700, 60, 100, 28], [90, 60, 100, 28], [90, 520, 100, 28]]);
    assert.equal(freeCorner(all, id, 800, 600, size), undefined);
    assert.equal(freeCorner(boxes([]), id, 210, 600, size), undefined);
  });

  it('avoids compound titles but not their empty inside (compounds come before firstItem), and follows the viewport', () => {
    const b = boxes([[400, 300, 800, 600], [700, 520, 100, 28]], 1);
    assert.equal(freeCorner(b, id, 800, 600, size), 'top-right');
    // the compound's title strip sits in the top-left corner
    const c = boxes([[400, 300, 800, 600], [700, 520, 100, 28], [700, 60, 100, 28]], 1);
    assert.equal(freeCorner(c, id, 800, 600, size), 'bottom-left');
    // panned left by 300 px, the node sits mid-screen
    assert.equal(freeCorner(b, { zoom: 1, pan: { x: -300, y: 0 } }, 800, 600, size), 'bottom-right');
  });

  it('never returns a corner whose box overlaps a node (random scenes)', () => {
    let seed = 11;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    let hidden = 0;
    for (let t = 0; t < 500; t++) {
      const items: [number, number, number, number][] = Array.from({ length: Math.floor(rnd() * 12) }, () => [rnd() * 900, rnd() * 700, 56 + rnd() * 150, 28]);
      const b = boxes(items);
      const v = { zoom: 0.6 + rnd(), pan: { x: -rnd() * 100, y: -rnd() * 100 } };
      const c = freeCorner(b, v, 800, 600, size, 10, 0);
      if (c === undefined) {
        hidden++;
        continue;
      }
      const x1 = c.endsWith('left') ? 10 : 800 - 10 - 200;
      const y1 = c.startsWith('top') ? 10 : 600 - 10 - 140;
      for (let i = 0; i < items.length; i++) {
        const s = screenBox(b, i, v);
        assert.ok(s.x2 <= x1 || s.x1 >= x1 + 200 || s.y2 <= y1 || s.y1 >= y1 + 140, `trial ${t}: ${c} covers item ${i}`);
      }
    }
    assert.ok(hidden > 0 && hidden < 500, `${hidden} scenes without a free corner`);
  });
});
