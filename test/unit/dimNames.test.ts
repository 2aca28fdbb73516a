/**
 * How symbolic dims are written in the graph's labels (src/webview/dimNames.ts): "?" only for unknown dims,
 * short names as they are, long ones by an alias no other name shares, exporters' expressions written with
 * those aliases — on rules and on the third-party models and examples whose shapes name their dims.
 */
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { loadModel } from '../../src/model/load';
import type { Dim } from '../../src/shared/ir';
import { DimNames, MAX_EXPR, plainLabel, symbolicNames } from '../../src/webview/dimNames';
import { buildIndex, edgeTooltip, shapeLabel, storedShapeLabel, visibleGraph, type GraphIndex } from '../../src/webview/viewModel';

const root = path.join(__dirname, '..', '..');
const ocr = (f: string): string => path.join(root, 'node_modules', '@gutenye', 'ocr-models', 'assets', f);

describe('DimNames', () => {
  it('writes numbers as they are, null as "?", short names as they are and long names by their last word and number', () => {
    const d = new DimNames(['batch', 'p2o.DynamicDimension.0', 'p2o.DynamicDimension.1', 'unk__12345', 'N']);
    assert.equal(d.label([null, 3, 'batch', 'N']), '?×3×batch×N');
    assert.equal(d.label(['p2o.DynamicDimension.0', 3, 48, 'p2o.DynamicDimension.1']), 'D0×3×48×D1');
    assert.equal(d.format('unk__12345'), 'u12345');
    assert.equal(d.label([]), 'scalar');
    assert.equal(d.label(undefined), '');
    assert.deepEqual(d.legend(), [
      ['D0', 'p2o.DynamicDimension.0'],
      ['D1', 'p2o.DynamicDimension.1'],
      ['u12345', 'unk__12345'],
    ]);
  });

  it('never gives two names one alias, nor an alias equal to a name shown as it is (whatever comes first)', () => {
    const names = ['a.DynamicDimension.0', 'b.DynamicDimension.0', 'c.Dim.0', 'x.DynamicDimension.0', 'y.DynamicDimension.0', 'z.DynamicDimension.0', 'D0', 'DD0', 'unk__1', 'unk__1x'];
    const d = new DimNames(names);
    const written = names.map((n) => d.format(n));
    assert.equal(new Set(written).size, names.length, JSON.stringify(written));
    assert.equal(d.format('D0'), 'D0');
    assert.equal(d.format('DD0'), 'DD0');
    for (const w of written) assert.match(w, /^[A-Za-z]\w*$/);
    // Every alias is in the legend, once, and reads back to its name.
    const legend = new Map(d.legend());
    for (const n of names) if (d.format(n) !== n) assert.equal(legend.get(d.format(n)), n);
    // A short name first met after the aliases were made, equal to one of them, gets an alias of its own.
    const late = new DimNames(['p2o.DynamicDimension.0']);
    assert.equal(late.format('p2o.DynamicDimension.0'), 'D0');
    assert.notEqual(late.format('D0'), 'D0');
    assert.equal(new Map(late.legend()).get(late.format('D0')), 'D0');
  });

  it('writes expressions over names with their aliases and floor division as //', () => {
    const d = new DimNames(['p2o.DynamicDimension.1', 'floor((p2o.DynamicDimension.1+1)/2)', '2*floor((p2o.DynamicDimension.1+31)/32)', 'batch*sequence']);
    assert.equal(d.format('floor((p2o.DynamicDimension.1+1)/2)'), '(D1+1)//2');
    assert.equal(d.format('2*floor((p2o.DynamicDimension.1+31)/32)'), '2*((D1+31)//32)');
    assert.equal(d.format('floor(seq/4)'), 'seq//4');
    assert.equal(d.format('floor(2*seq/4)'), '2*seq//4'); // (2*seq)//4: * and / bind left to right
    // a + b/c is not (a+b)//c, nor is a/b*c a//(b*c): those keep floor, as brackets
    assert.equal(d.format('floor(seq+N/4)'), '⌊seq+N/4⌋');
    assert.equal(d.format('floor(seq/4*N)'), '⌊seq/4*N⌋');
    assert.equal(d.format('ceil(seq/4)'), '⌈seq/4⌉');
    assert.equal(d.format('floor(floor(seq/2)/2)'), '(seq//2)//2');
    assert.equal(d.format('batch*sequence'), 'batch*sequence');
    // Only the names get aliases: an expression written out is not in the legend.
    assert.deepEqual(d.legend(), [['D1', 'p2o.DynamicDimension.1']]);
  });

  it('gives an expression longer than the limit, a number as a name and unparseable text an alias of their own', () => {
    const long = 'floor((p2o.DynamicDimension.1+31)/64)*floor((p2o.DynamicDimension.2+31)/64)';
    const d = new DimNames([long, '7', 'a[0]']);
    const w = [d.format(long), d.format('7'), d.format('a[0]')];
    assert.deepEqual(w, ['e1', 'e2', 'e3']);
    assert.ok(w.every((x) => x.length <= MAX_EXPR));
    const legend = new Map(d.legend());
    assert.equal(legend.get('e1'), '((D1+31)//64)*((D2+31)//64)'); // written with the names' aliases, listed too
    assert.equal(legend.get('D1'), 'p2o.DynamicDimension.1');
    assert.equal(legend.get('e2'), '7');
    assert.equal(legend.get('e3'), 'a[0]');
  });
});

describe('plainLabel (a stored shape written without the graph-wide table)', () => {
  it('equals the table\'s label wherever it gives one, whatever names the rest of the graph holds', () => {
    // Short names that look like aliases (D0, e1, u12345) beside the long names whose aliases they would be.
    const shapes: Dim[][] = [
      ['p2o.DynamicDimension.0', 3, 'D0'],
      ['D0', 'e1', null, 7],
      ['unk__12345', 'u12345', 'batch*sequence'],
      ['batch', 'sequence', 16],
      [1, 8, 16],
      ['N', 'floor((p2o.DynamicDimension.1+1)/2)', 'D1', '12', 'a very long name'],
      [],
    ];
    for (const order of [shapes, [...shapes].reverse()]) {
      const d = new DimNames(symbolicNames(order.map((shape) => ({ shape }))));
      let plain = 0;
      for (const shape of order) {
        const p = plainLabel(shape);
        if (p === undefined) continue;
        plain++;
        assert.equal(p, d.label(shape), JSON.stringify(shape));
      }
      // The numeric, short-named and rank-0 shapes are written directly; long names and expressions are not.
      assert.equal(plain, 4);
    }
    assert.equal(plainLabel(undefined), '');
    assert.equal(plainLabel(['p2o.DynamicDimension.0']), undefined);
    assert.equal(plainLabel(['batch*sequence']), undefined);
  });

  it('visibleGraph writes terminals of numbers and short names (batch×1×28×28) without building the table, and the same text as shapeLabel', async () => {
    const { graph } = await loadModel(path.join(root, 'examples', 'mlp', 'mlp.onnx'));
    const index = buildIndex(graph);
    const plain = buildIndex(graph);
    // Reading the table (or the consumers' lists) while building the view fails the test.
    for (const key of ['dims', 'consumers'] as const) {
      Object.defineProperty(plain, key, {
        get(): never {
          throw new Error(`visibleGraph read index.${key}`);
        },
      });
    }
    const expected = visibleGraph(index, new Set());
    const view = visibleGraph(plain as GraphIndex, new Set());
    const terminals = view.items.filter((i) => i.kind === 'input' || i.kind === 'output');
    assert.ok(terminals.length >= 2);
    assert.ok(terminals.some((t) => t.detail?.includes('batch')));
    for (const t of terminals) {
      assert.ok(t.detail && /^\w+(×\w+)*$/.test(t.detail), `${t.ref}: ${t.detail}`);
      assert.equal(t.detail, shapeLabel(index, graph.values[t.ref]?.shape));
    }
    assert.deepEqual(view.items, expected.items);
    // The consumers' lists, built when first read: every node reading a value, in order, once each.
    const consumers = new Map<string, number[]>();
    graph.nodes.forEach((n, i) => new Set(n.inputs.filter(Boolean)).forEach((v) => consumers.set(v, [...(consumers.get(v) ?? []), i])));
    assert.deepEqual(index.consumers, consumers);
  });

  it('PaddleOCR rec: every stored shape reads the same through storedShapeLabel as through the table', async () => {
    const { graph } = await loadModel(ocr('ch_PP-OCRv4_rec_infer.onnx'));
    const index = buildIndex(graph);
    let named = 0;
    for (const v of Object.values(graph.values)) {
      if (!v.shape) continue;
      if (v.shape.some((d) => typeof d === 'string')) named++;
      assert.equal(storedShapeLabel(index, v.shape), index.dims.label(v.shape), `${v.name}: ${JSON.stringify(v.shape)}`);
    }
    assert.ok(named > 0);
  });
});

/** A label's "?" count must equal its shape's null dims: a named dim is never written as "?". */
function assertNoQuestionForNamedDims(file: string, graph: Awaited<ReturnType<typeof loadModel>>['graph']): { labels: string[]; legend: [string, string][] } {
  const index = buildIndex(graph);
  const view = visibleGraph(index, new Set(graph.hierarchy.map((g) => g.id)));
  const labels: string[] = [];
  for (const e of view.edges) {
    const shape: Dim[] | undefined = index.shapes.get(e.value)?.shape;
    const nulls = shape?.filter((d) => d === null).length ?? 0;
    assert.equal(e.label.split('?').length - 1, nulls, `${file}: edge ${e.value} ${JSON.stringify(shape)} → ${e.label}`);
    labels.push(e.label);
  }
  for (const it of view.items) if (it.kind === 'input' || it.kind === 'output') assert.ok(!it.detail?.includes('?') || graph.values[it.ref]?.shape?.includes(null), `${file}: ${it.ref} → ${it.detail}`);
  return { labels, legend: index.dims.legend() };
}

describe('shape labels on real models', () => {
  it('PaddleOCR rec: the input edge reads D0×3×48×D1 and the legend names the dims', async () => {
    const { graph } = await loadModel(ocr('ch_PP-OCRv4_rec_infer.onnx'));
    const { labels, legend } = assertNoQuestionForNamedDims('rec', graph);
    assert.ok(labels.includes('D0×3×48×D1'), labels.slice(0, 5).join(' '));
    assert.ok(labels.includes('D0×16×24×(D1+1)//2'), labels.slice(0, 5).join(' '));
    assert.deepEqual(legend.slice(0, 2), [
      ['D0', 'p2o.DynamicDimension.0'],
      ['D1', 'p2o.DynamicDimension.1'],
    ]);
    const index = buildIndex(graph);
    const input = visibleGraph(index, new Set()).items.find((i) => i.kind === 'input');
    assert.equal(input?.detail, 'D0×3×48×D1');
    // The edge's tooltip: the value, its label, and its shape with the file's own names.
    assert.equal(edgeTooltip(index, input!.ref), 'x\nD0×3×48×D1\n[p2o.DynamicDimension.0, 3, 48, p2o.DynamicDimension.1]');
    assert.equal(edgeTooltip(index, input!.ref, 3).split('\n')[0], 'x (and 2 more values)');
  });

  it('PaddleOCR det and cls, the examples and the TF.js models: "?" only for unknown dims', async () => {
    const files = [
      ocr('ch_PP-OCRv4_det_infer.onnx'),
      ocr('ch_ppocr_mobile_v2.0_cls_infer.onnx'),
      path.join(root, 'examples', 'transformer', 'transformer.onnx'),
      path.join(root, 'examples', 'gpt2', 'gpt2_addmm.onnx'),
      path.join(root, 'examples', 'mlp-tfjs', 'model.json'),
      path.join(root, 'node_modules', '@vladmandic', 'human-models', 'models', 'emotion.json'),
    ];
    for (const f of files) {
      const { graph } = await loadModel(f);
      const { labels } = assertNoQuestionForNamedDims(path.basename(f), graph);
      assert.ok(labels.length > 0, f);
      // Every label stays short enough to sit beside an edge.
      for (const l of labels) assert.ok(l.length <= 4 * (MAX_EXPR + 1), `${f}: ${l}`);
    }
  });
});
