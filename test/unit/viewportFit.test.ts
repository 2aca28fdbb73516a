/**
 * The first view and Fit (src/webview/viewportFit.ts): the whole drawing while readable, else the entry
 * region at a readable zoom, with the inputs on screen.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fitViewport, READABLE_ZOOM, screenBox, ZOOM_FLOOR, zoomFloor, type ItemBoxes, type Viewport } from '../../src/webview/viewportFit';

function boxesOf(items: { x: number; y: number; w: number; h: number }[]): ItemBoxes & { bounds: { x1: number; y1: number; x2: number; y2: number } } {
  const b = { x1: Infinity, y1: Infinity, x2: -Infinity, y2: -Infinity };
  for (const it of items) {
    b.x1 = Math.min(b.x1, it.x - it.w / 2);
    b.x2 = Math.max(b.x2, it.x + it.w / 2);
    b.y1 = Math.min(b.y1, it.y - it.h / 2);
    b.y2 = Math.max(b.y2, it.y + it.h / 2);
  }
  return { x: items.map((i) => i.x), y: items.map((i) => i.y), width: items.map((i) => i.w), height: items.map((i) => i.h), bounds: b };
}

const inside = (boxes: ItemBoxes, i: number, v: Viewport, W: number, H: number): boolean => {
  const s = screenBox(boxes, i, v);
  return s.x1 >= -0.5 && s.y1 >= -0.5 && s.x2 <= W + 0.5 && s.y2 <= H + 0.5;
};

describe('fitViewport', () => {
  it('fits a small drawing whole, centred, at most maxZoom', () => {
    const b = boxesOf([{ x: 100, y: 20, w: 80, h: 28 }, { x: 100, y: 100, w: 80, h: 28 }]);
    const v = fitViewport(b, b.bounds, 800, 600);
    assert.equal(v.zoom, 1.25);
    assert.ok(inside(b, 0, v, 800, 600) && inside(b, 1, v, 800, 600));
    assert.ok(Math.abs(screenBox(b, 0, v).x1 + screenBox(b, 0, v).x2 - 800) < 1e-6, 'centred');
  });

  it('shows the top of a 440-operator chain at zoom 1 instead of a 0.03 hairline, the rest below', () => {
    const b = boxesOf(Array.from({ length: 440 }, (_, i) => ({ x: 60, y: 14 + 58 * i, w: 120, h: 28 })));
    const whole = Math.min((600 - 48) / (b.bounds.y2 - b.bounds.y1), 1.25);
    assert.ok(whole < 0.03);
    const v = fitViewport(b, b.bounds, 800, 600);
    assert.equal(v.zoom, 1);
    assert.ok(inside(b, 0, v, 800, 600), 'the input on screen');
    assert.equal(screenBox(b, 0, v).y1, 24);
    assert.ok(!inside(b, 439, v, 800, 600), 'the end is below, reached by scrolling');
    assert.ok(Math.abs(screenBox(b, 5, v).x1 + screenBox(b, 5, v).x2 - 800) < 1e-6, 'the column centred');
  });

  it('zooms out to fit the first screen`s width, never below the readable zoom', () => {
    // an entry row of 3 and, below, a row 1500 px wide, then a long tail
    const items = [{ x: 750, y: 14, w: 100, h: 28 }];
    for (let k = 0; k < 10; k++) items.push({ x: 75 + 150 * k, y: 100, w: 120, h: 28 });
    for (let k = 0; k < 300; k++) items.push({ x: 750, y: 200 + 58 * k, w: 120, h: 28 });
    const b = boxesOf(items);
    const v = fitViewport(b, b.bounds, 800, 600);
    assert.ok(v.zoom >= READABLE_ZOOM && v.zoom < 1, `zoom ${v.zoom}`);
    assert.ok(inside(b, 0, v, 800, 600));
    const drawn = items.filter((_, i) => inside(b, i, v, 800, 600)).length;
    assert.ok(drawn >= 8, `${drawn} items on screen`);
  });

  it('keeps the entry row on screen when the drawing is far wider than the view (off-centre inputs)', () => {
    // like blazepose: the input at the right, branches spreading 4000 px to the left
    const items = [{ x: 3800, y: 14, w: 100, h: 28 }];
    for (let k = 0; k < 40; k++) items.push({ x: 50 + 100 * k, y: 120 + 20 * (k % 3), w: 90, h: 28 });
    for (let k = 0; k < 300; k++) items.push({ x: 2000, y: 300 + 58 * k, w: 120, h: 28 });
    const b = boxesOf(items);
    const v = fitViewport(b, b.bounds, 800, 600);
    assert.equal(v.zoom, READABLE_ZOOM);
    assert.ok(inside(b, 0, v, 800, 600), 'the input on screen');
  });

  it('never goes below the readable zoom and always shows an entry item (random layouts)', () => {
    let seed = 3;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 300; t++) {
      const n = 1 + Math.floor(rnd() * 400);
      const spreadX = 50 + rnd() * 6000;
      const items = Array.from({ length: n }, (_, i) => ({ x: rnd() * spreadX, y: 14 + 58 * Math.floor(i / (1 + rnd() * 5)), w: 56 + rnd() * 200, h: 28 }));
      const b = boxesOf(items);
      const W = 400 + rnd() * 1200; // wider than any entry box at the largest zoom
      const H = 300 + rnd() * 800;
      const v = fitViewport(b, b.bounds, W, H);
      assert.ok(v.zoom >= READABLE_ZOOM - 1e-9 && v.zoom <= 1.25 + 1e-9, `zoom ${v.zoom}`);
      const topY = Math.min(...items.map((i) => i.y));
      const entry = items.map((it, i) => (it.y === topY ? i : -1)).filter((i) => i >= 0);
      assert.ok(entry.some((i) => inside(b, i, v, W, H)), `trial ${t}: no entry item on screen`);
    }
  });
});

describe('zoomFloor', () => {
  it('keeps cytoscape`s 0.02 floor for drawings that fit above it', () => {
    assert.equal(zoomFloor({ x1: 0, y1: 0, x2: 2000, y2: 8000 }, 800, 600), ZOOM_FLOOR);
  });

  it('lets a 100k-operator drawing be zoomed out until it is seen whole', () => {
    // The flat 100k chain of test/bench/graphModels.ts lays out as a column ≈ 1,000 units wide, 5.5 M tall.
    const bounds = { x1: 0, y1: 0, x2: 1000, y2: 5_500_000 };
    const floor = zoomFloor(bounds, 800, 600);
    const whole = (600 - 48) / 5_500_000;
    assert.ok(floor < ZOOM_FLOOR && floor <= whole, `floor ${floor}, whole-drawing zoom ${whole}`);
    // The whole drawing at the floor fits the viewport.
    assert.ok(5_500_000 * floor <= 600 && 1000 * floor <= 800);
  });
});
