/** Edge label placement (src/webview/edgeLabels.ts): labels along their edges, clear of nodes, titles and each other. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { edgeLabelOffsets, placeEdgeLabels, type EdgeLabelInput, type LabelBox } from '../../src/webview/edgeLabels';

const overlap = (a: LabelBox, b: LabelBox): boolean => a.x1 < b.x2 && a.x2 > b.x1 && a.y1 < b.y2 && a.y2 > b.y1;

/** The label's box for an offset along a straight edge between two boxes (for checking). */
function labelBox(e: EdgeLabelInput, d: number): LabelBox {
  const [sx, sy, tx, ty] = [e.points[0], e.points[1], e.points[e.points.length - 2], e.points[e.points.length - 1]];
  const dx = tx - sx;
  const dy = ty - sy;
  const s = Math.min(dx ? e.source.hw / Math.abs(dx) : Infinity, dy ? e.source.hh / Math.abs(dy) : Infinity);
  const len = Math.hypot(dx, dy);
  const x = sx + dx * s + (dx / len) * d;
  const y = sy + dy * s + (dy / len) * d;
  return { x1: x - e.w / 2, y1: y - e.h / 2, x2: x + e.w / 2, y2: y + e.h / 2 };
}

const node = (x: number, y: number, w = 80, h = 28): LabelBox => ({ x1: x - w / 2, y1: y - h / 2, x2: x + w / 2, y2: y + h / 2 });
const edge = (sx: number, sy: number, tx: number, ty: number, w = 60): EdgeLabelInput => ({ points: [sx, sy, tx, ty], source: { hw: 40, hh: 14 }, target: { hw: 40, hh: 14 }, w, h: 12 });

describe('placeEdgeLabels', () => {
  it('labels a lone edge at its middle (between the label half height and the arrow head)', () => {
    const e = edge(0, 0, 0, 100);
    const [d] = placeEdgeLabels([e], [node(0, 0), node(0, 100)]);
    // free length 72: the middle of [6 + 1 + 2, 72 − 7 − 6]
    assert.equal(d, 34);
  });

  it('spreads the labels of edges joining one node instead of piling them up, never overlapping', () => {
    // three branches from one row into one Add: their midpoints crowd together
    const edges = [edge(-90, 0, 0, 80, 64), edge(0, 0, 0, 80, 64), edge(90, 0, 0, 80, 64)];
    const nodes = [node(-90, 0), node(0, 0), node(90, 0), node(0, 80)];
    const d = placeEdgeLabels(edges, nodes);
    const boxes = [...d].map((x, i) => (x >= 0 ? labelBox(edges[i], x) : undefined)).filter((b): b is LabelBox => !!b);
    assert.ok(boxes.length >= 2, `${boxes.length} labels placed`);
    for (let i = 0; i < boxes.length; i++) {
      for (const n of nodes) assert.ok(!overlap(boxes[i], n), `label ${i} on a node`);
      for (let j = 0; j < i; j++) assert.ok(!overlap(boxes[i], boxes[j]), `labels ${i} and ${j} overlap`);
    }
    assert.ok(d[0] !== d[1] || d[0] < 0 || d[1] < 0, 'the middle spot is taken once');
  });

  it('moves a label off a block title and leaves it out when no spot is free', () => {
    const e = edge(0, 0, 0, 120);
    const title = { x1: -60, y1: 45, x2: 60, y2: 65 };
    const [d] = placeEdgeLabels([e], [node(0, 0), node(0, 120), title]);
    assert.ok(d >= 0 && !overlap(labelBox(e, d), title), `offset ${d}`);
    const [none] = placeEdgeLabels([e], [node(0, 0), node(0, 120), { x1: -60, y1: 10, x2: 60, y2: 110 }]);
    assert.equal(none, -1);
  });

  it('never overlaps nodes or other labels (random layered graphs)', () => {
    let seed = 5;
    const rnd = (): number => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let t = 0; t < 100; t++) {
      const rows = 3 + Math.floor(rnd() * 5);
      const pts: [number, number][] = [];
      for (let r = 0; r < rows; r++) for (let k = Math.floor(1 + rnd() * 4); k > 0; k--) pts.push([k * 110 + rnd() * 20, r * 76]);
      const nodes = pts.map(([x, y]) => node(x, y));
      const edges: EdgeLabelInput[] = [];
      for (let a = 0; a < pts.length; a++) for (let b = 0; b < pts.length; b++) if (pts[b][1] === pts[a][1] + 76 && rnd() < 0.6) edges.push(edge(pts[a][0], pts[a][1], pts[b][0], pts[b][1], 40 + rnd() * 40));
      const d = placeEdgeLabels(edges, nodes);
      const placed: LabelBox[] = [];
      d.forEach((x, i) => {
        if (x < 0) return;
        const b = labelBox(edges[i], x);
        for (const n of nodes) assert.ok(!overlap(b, n), `trial ${t}: label on a node`);
        for (const p of placed) assert.ok(!overlap(b, p), `trial ${t}: labels overlap`);
        placed.push(b);
      });
      assert.ok(placed.length > 0 || edges.length === 0);
    }
  });
});

describe('edgeLabelOffsets', () => {
  it('reads a layout: compound titles are obstacles, edges without text get none', () => {
    // a compound (index 0) whose layout box starts at y 40, titled top-left; items 1 (above) and 2 (inside)
    const layout = { x: [0, 0, 0], y: [140, 0, 120], width: [200, 80, 80], height: [200, 28, 28], bendStart: [0, 0, 0], bends: [] };
    const d = edgeLabelOffsets(layout, 1, ['block.0   ⟳ 1/2'], [[1, 2], [1, 2]], ['1×16×24', undefined], (t) => t.length * 5.2);
    assert.equal(d[1], -1);
    const y = 14 + d[0];
    assert.ok(d[0] >= 0 && (y + 6 <= 40 - 16 || y - 6 >= 40 + 4), `label centred at y ${y}, the title band is 24..44`);
  });
});
