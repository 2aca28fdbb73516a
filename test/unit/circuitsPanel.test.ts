/**
 * The circuits side panel's pure logic (src/webview/circuits/*) on the real CLI envelopes in
 * test/fixtures/envelopes: which edges and nodes each control state shows, folding into supernodes, the
 * layered layout and group packing, click-through targets, the SVG export and the theme colours.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { CircuitResult, LibResult, RunRecord, TypedEnvelope } from '../../src/shared/results';
import { circuitDefaults, circuitGraph, rankedEdges } from '../../src/webview/circuits/circuitGraph';
import { foldGraph, foldSelection, unfold } from '../../src/webview/circuits/fold';
import { fmt, pct } from '../../src/webview/circuits/format';
import { foldedBySize, groupsDefaults, groupsGraph, groupsSliderRange } from '../../src/webview/circuits/groupsGraph';
import { bendSide, chooseOrientation, edgeBend, layeredLayout, overlaps, packGroups, type Box, type LayoutItem } from '../../src/webview/circuits/layout';
import { libDefaults, libGraph, libTopnMax, massCount, pairCandidates, selectLib } from '../../src/webview/circuits/libGraph';
import { drawable, modelBase, shortLayerName, type Controls, type VGraph } from '../../src/webview/circuits/model';
import { revealTarget } from '../../src/webview/circuits/reveal';
import { buildScene } from '../../src/webview/circuits/scene';
import { circuitsColors } from '../../src/webview/circuits/style';
import { sceneToSvg } from '../../src/webview/circuits/svg';
import { contrast, paletteFromVars, parseColor, type Palette, type Rgb } from '../../src/webview/colors';
import { expectClose } from '../helpers/expectClose';

const dir = path.join(__dirname, '..', 'fixtures', 'envelopes');
const envelope = (name: string): TypedEnvelope => JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as TypedEnvelope;
const record = (name: string): RunRecord => ({ id: `run-${name}`, envelope: envelope(name), finishedAt: '2026-11-24T10:00:00.000Z' });

const libRun = drawable(record('lib'));
const circuitRun = drawable(record('circuit'));
const groupsRun = drawable(record('redundancy'));
assert.ok(libRun?.kind === 'lib' && circuitRun?.kind === 'circuit' && groupsRun?.kind === 'groups');
const lib: LibResult = libRun.result;
const circuit: CircuitResult = circuitRun.result;
const groups = groupsRun.result;

const allExpanded = (r: LibResult): number[] => r.layers.map((_, i) => i);
const edgeKey = (e: { from?: string; to?: string; source?: string; target?: string }): string => `${e.from ?? e.source}->${e.to ?? e.target}`;
const totalWeight = (g: VGraph): number => g.edges.reduce((s, e) => s + e.weight, 0);
/** Sums compared with their parts: equal up to rounding (1e-9 absolute and relative). */
const close = (a: number, b: number, what: string): void => expectClose(a, b, { abs: 1e-9, rel: 1e-9 }, what);

function palette(kind: Palette['kind']): Palette {
  const vars: Record<string, Record<string, string>> = {
    dark: { '--vscode-editor-background': '#1f1f1f', '--vscode-editor-foreground': '#cccccc' },
    light: {
      '--vscode-editor-background': '#ffffff',
      '--vscode-editor-foreground': '#3b3b3b',
      '--vscode-descriptionForeground': '#3b3b3b',
      '--vscode-charts-blue': '#1a85ff',
      '--vscode-charts-red': '#e51400',
      '--vscode-charts-green': '#388a34',
      '--vscode-charts-orange': '#d18616',
      '--vscode-charts-purple': '#652d90',
    },
    'high-contrast': { '--vscode-editor-background': '#000000', '--vscode-editor-foreground': '#ffffff', '--vscode-contrastBorder': '#6fc3df' },
    'high-contrast-light': { '--vscode-editor-background': '#ffffff', '--vscode-editor-foreground': '#292929', '--vscode-contrastBorder': '#0f4a85' },
  };
  return paletteFromVars((n) => vars[kind][n] ?? '', kind);
}

describe('circuits panel: runs it can draw', () => {
  it('draws lib, circuit and redundancy-with-groups runs, nothing else', () => {
    for (const name of ['collapse', 'collapse-series', 'hash', 'hash-widths', 'attention']) assert.equal(drawable(record(name)), undefined, name);
    const noGroups = record('redundancy');
    const e = noGroups.envelope as TypedEnvelope & { analysis: 'redundancy' };
    const { groups: _g, ...rest } = e.result as typeof groups;
    assert.equal(drawable({ ...noGroups, envelope: { ...e, result: rest } }), undefined);
  });

  it('names layers and models briefly', () => {
    assert.equal(shortLayerName('/relu1/Relu_output_0'), 'relu1');
    assert.equal(shortLayerName('/blocks.0/mlp/fc_out/Add_output_0'), 'blocks.0/mlp/fc_out');
    assert.equal(shortLayerName('logits'), 'logits');
    assert.equal(modelBase('examples/mlp/mlp.onnx'), 'mlp.onnx');
    assert.equal(modelBase('C:\\m\\nsfw\\model.json'), 'nsfw/model.json');
  });
});

describe('circuits panel: LIB interaction graph', () => {
  it('node ids index the layer’s lambdas in basis order (checked against result.graph)', () => {
    for (const l of lib.graph.layers) {
      for (const n of l.nodes) {
        assert.equal(n.id, `${n.layer}:${n.index}`);
        assert.equal(lib.layers[n.layer].name, l.name);
        assert.equal(n.lambda, lib.layers[n.layer].lambdas[n.index]);
        assert.equal(n.constant, !!lib.layers[n.layer].folded && n.index === 0);
      }
    }
    // Edge weights are E[to-rank row][from-rank column] of the full matrices.
    const idx = new Map(lib.layers.map((l, i) => [l.name, i]));
    for (const e of lib.graph.edges) {
      const [lo, j] = e.from.split(':').map(Number);
      const [hi, i] = e.to.split(':').map(Number);
      const m = lib.edges.find((x) => idx.get(x.from) === lo && idx.get(x.to) === hi)!;
      assert.equal(m.weights[i * m.cols + j], e.weight);
    }
  });

  it('the default view is exactly the engine’s prepared graph', () => {
    const c = libDefaults(lib);
    assert.equal(c.value, lib.graph.threshold.massFraction);
    const g = libGraph(lib, c);
    assert.deepEqual(
      g.edges.map((e) => [edgeKey(e), e.weight]).sort(),
      lib.graph.edges.map((e) => [edgeKey(e), e.weight]).sort(),
    );
    // Nodes: the prepared nodes, plus each folded layer's constant direction (drawn, marked), plus one
    // overflow supernode per layer holding every other direction.
    const directions = g.nodes.filter((n) => n.kind === 'direction').map((n) => n.id).sort();
    assert.deepEqual(directions, lib.graph.layers.flatMap((l) => l.nodes.map((n) => n.id)).sort());
    const constants = g.nodes.filter((n) => n.kind === 'constant').map((n) => n.id);
    assert.deepEqual(constants.sort(), lib.layers.flatMap((l, i) => (l.folded ? [`${i}:0`] : [])).sort());
    for (const [li, l] of lib.layers.entries()) {
      const shown = lib.graph.layers[li].nodes.length;
      const rest = l.lambdas.length - (l.folded ? 1 : 0) - shown;
      const over = g.nodes.find((n) => n.id === `more:${li}`);
      if (!rest) {
        assert.equal(over, undefined);
        continue;
      }
      assert.ok(over, `layer ${li} has an overflow supernode`);
      assert.equal(over.members!.length, rest);
      assert.equal(over.label, `+${rest}`);
      const shownIds = new Set(lib.graph.layers[li].nodes.map((n) => n.index));
      let sum = 0;
      for (let i = l.folded ? 1 : 0; i < l.lambdas.length; i++) if (!shownIds.has(i)) sum += l.lambdas[i];
      close(over.lambda!, sum, `layer ${li} overflow ΣΛ`);
      assert.ok(over.info[0].includes(`+${rest} directions`) && over.info[0].includes('ΣΛ'));
    }
    // Columns follow nodeLayers.names.
    assert.deepEqual(
      g.columns.map((c2) => c2.label),
      lib.nodeLayers.names.map(shortLayerName),
    );
    // Within a column: constant first, then by Λ.
    for (let col = 0; col < g.columns.length; col++) {
      const ns = g.nodes.filter((n) => n.column === col && (n.kind === 'direction' || n.kind === 'constant')).sort((a, b) => a.order - b.order);
      if (ns[0].kind === 'constant') ns.shift();
      for (let k = 1; k < ns.length; k++) assert.ok(ns[k - 1].lambda! >= ns[k].lambda!);
    }
  });

  it('the mass count is the engine’s for90 / for99, constant direction excluded', () => {
    const idx = new Map(lib.layers.map((l, i) => [l.name, i]));
    let s90 = 0;
    let s99 = 0;
    for (const e of lib.edges) {
      const { cand, total } = pairCandidates(e, !!lib.layers[idx.get(e.to)!].folded, !!lib.layers[idx.get(e.from)!].folded);
      assert.ok(cand.every((x) => x.i > 0 || !lib.layers[idx.get(e.to)!].folded));
      assert.ok(cand.every((x) => x.j > 0 || !lib.layers[idx.get(e.from)!].folded));
      close(total, e.mass!, `${e.from} → ${e.to} mass`);
      assert.equal(massCount(cand, total, 0.9), e.for90);
      assert.equal(massCount(cand, total, 0.99), e.for99);
      s90 += massCount(cand, total, 0.9);
      s99 += massCount(cand, total, 0.99);
    }
    assert.equal(s90, lib.edgesFor90);
    assert.equal(s99, lib.edgesFor99);
  });

  it('picks the smallest edge set holding the share (caps lifted), never a constant edge', () => {
    for (const share of [0.3, 0.5, 0.8, 0.9]) {
      const sel = selectLib(lib, { mode: 'mass', value: share, expanded: allExpanded(lib), constantEdges: false });
      for (const p of sel.pairs) {
        assert.ok(p.picked.length <= lib.graph.threshold.maxEdgesPerPair);
        if (p.picked.length === lib.graph.threshold.maxEdgesPerPair) continue;
        assert.ok(p.held >= share * p.total, `holds ${p.held / p.total} < ${share}`);
        const withoutSmallest = p.held - p.picked.at(-1)!.v;
        assert.ok(withoutSmallest < share * p.total, 'one edge fewer would still hold the share');
        for (const x of p.picked) {
          assert.ok(!(lib.layers[p.from].folded && x.j === 0) && !(lib.layers[p.to].folded && x.i === 0));
        }
        // The strongest ones: every picked edge is at least as strong as any edge left out.
        const { cand } = pairCandidates(lib.edges.find((e) => e.from === lib.layers[p.from].name)!, !!lib.layers[p.to].folded, !!lib.layers[p.from].folded);
        assert.ok(p.picked.at(-1)!.v >= cand[p.picked.length]?.v);
      }
    }
  });

  it('a larger share shows a superset of edges', () => {
    let prev = new Set<string>();
    for (const share of [0.1, 0.4, 0.7, 0.9, 0.95]) {
      const g = libGraph(lib, { ...libDefaults(lib), value: share, expanded: allExpanded(lib) });
      const now = new Set(g.edges.map((e) => e.id));
      for (const id of prev) assert.ok(now.has(id), `${id} dropped at ${share}`);
      assert.ok(now.size >= prev.size);
      prev = now;
    }
  });

  it('top-n shows the n strongest edges of each pair', () => {
    for (const n of [1, 5, 40]) {
      const sel = selectLib(lib, { mode: 'topn', value: n, expanded: allExpanded(lib), constantEdges: false });
      for (const p of sel.pairs) {
        const e = lib.edges.find((x) => x.from === lib.layers[p.from].name)!;
        const { cand } = pairCandidates(e, !!lib.layers[p.to].folded, !!lib.layers[p.from].folded);
        assert.deepEqual(p.picked, cand.slice(0, n));
      }
    }
    assert.ok(libTopnMax(lib) >= 60 && libTopnMax(lib) <= 600);
    // Even in top-n mode a capped layer shows at most maxNodesPerLayer directions.
    const capped = selectLib(lib, { mode: 'topn', value: 200, expanded: [], constantEdges: false });
    for (const s of capped.nodes) assert.ok(s.size <= lib.graph.threshold.maxNodesPerLayer);
  });

  it('expanding a layer’s supernode lifts its cap: all its directions, no supernode', () => {
    const g = libGraph(lib, { ...libDefaults(lib), expanded: [0] });
    assert.equal(g.nodes.find((n) => n.id === 'more:0'), undefined);
    assert.equal(g.nodes.filter((n) => n.column === 0 && n.kind === 'direction').length, lib.layers[0].lambdas.length - 1);
    assert.ok(g.columns[0].expanded);
    assert.ok(g.nodes.find((n) => n.id === 'more:1'));
  });

  it('constant edges are extra, marked, from the constant direction, and leave the rest alone', () => {
    const plain = libGraph(lib, libDefaults(lib));
    const withConst = libGraph(lib, { ...libDefaults(lib), constantEdges: true });
    const extra = withConst.edges.filter((e) => e.constant);
    assert.ok(extra.length > 0);
    for (const e of extra) assert.match(e.source, /^\d+:0$/);
    assert.deepEqual(
      withConst.edges.filter((e) => !e.constant).map((e) => e.id),
      plain.edges.map((e) => e.id),
    );
    assert.equal(withConst.status, plain.status);
  });

  it('hover numbers are the result’s own', () => {
    const g = libGraph(lib, libDefaults(lib));
    const n = g.nodes.find((x) => x.id === '1:2')!;
    assert.ok(n.info.join(' ').includes(`Λ = ${fmt(lib.layers[1].lambdas[2])}`));
    assert.ok(n.info.join(' ').includes(`rank ${n.rank} of ${lib.layers[1].lambdas.length - 1}`));
    const top = lib.graph.edges[0];
    const e = g.edges.find((x) => x.id === edgeKey(top))!;
    assert.ok(e.info[0].startsWith(`E = ${fmt(top.weight)}`));
    assert.ok(g.summary.join(' ').includes(`${lib.edgesFor90} edges hold 90%`));
  });
});

describe('circuits panel: folding', () => {
  it('folds directions of one layer: edges sum E per neighbour, total mass unchanged, unfold restores', () => {
    const c = libDefaults(lib);
    const base = libGraph(lib, c);
    const pick = ['1:1', '1:2', '1:3'];
    const { folds, made } = foldSelection(base, [], pick);
    assert.equal(made, 1);
    const folded = foldGraph(base, folds);
    const sn = folded.nodes.find((n) => n.kind === 'fold')!;
    assert.deepEqual([...sn.members!].sort(), pick);
    assert.equal(sn.column, base.nodes.find((n) => n.id === '1:1')!.column);
    for (const id of pick) assert.equal(folded.nodes.find((n) => n.id === id), undefined);
    close(totalWeight(folded), totalWeight(base), 'total weight kept by the fold');
    close(sn.lambda!, pick.reduce((s, id) => s + lib.layers[1].lambdas[Number(id.split(':')[1])], 0), 'supernode Λ = ΣΛ of its members');
    // Every neighbour's edge to the supernode carries the sum of its edges to the members.
    const byNeighbour = new Map<string, number>();
    for (const e of base.edges) {
      if (pick.includes(e.target)) byNeighbour.set(`${e.source}>`, (byNeighbour.get(`${e.source}>`) ?? 0) + e.weight);
      if (pick.includes(e.source)) byNeighbour.set(`>${e.target}`, (byNeighbour.get(`>${e.target}`) ?? 0) + e.weight);
    }
    const got = new Map<string, number>();
    for (const e of folded.edges) {
      if (e.target === sn.id) got.set(`${e.source}>`, e.weight);
      if (e.source === sn.id) got.set(`>${e.target}`, e.weight);
    }
    assert.equal(got.size, byNeighbour.size);
    for (const [k, v] of byNeighbour) close(got.get(k)!, v, `edge ${k} of the supernode`);
    assert.deepEqual(foldGraph(base, unfold(folds, [sn.id])), base);
    assert.deepEqual(unfold(folds, []), []);
  });

  it('a selection across layers folds each layer on its own; folds merge; constant and supernodes stay out', () => {
    const base = libGraph(lib, libDefaults(lib));
    const first = foldSelection(base, [], ['0:1', '0:2', '2:1', '2:2', '2:3', '3:0', '0:0', 'more:0']);
    assert.equal(first.made, 2);
    assert.deepEqual(first.folds.map((f) => [...f.members].sort()), [['0:1', '0:2'], ['2:1', '2:2', '2:3']]);
    // Folding the first supernode with another direction merges them.
    const again = foldSelection(base, first.folds, [first.folds[0].id, '0:3']);
    assert.equal(again.folds.length, 2);
    assert.deepEqual([...again.folds.find((f) => f.members.includes('0:3'))!.members].sort(), ['0:1', '0:2', '0:3']);
    assert.equal(foldSelection(base, [], ['0:1']).made, 0);
    const g = foldGraph(base, again.folds);
    close(totalWeight(g), totalWeight(base), 'total weight kept by the folds');
    assert.equal(new Set(g.nodes.map((n) => n.id)).size, g.nodes.length);
    assert.equal(new Set(g.edges.map((e) => e.id)).size, g.edges.length);
  });

  it('folds keep their members when a threshold hides some (fewer than two shown: not drawn)', () => {
    const base = libGraph(lib, libDefaults(lib));
    const { folds } = foldSelection(base, [], ['0:1', '0:24']);
    const fewer = libGraph(lib, { ...libDefaults(lib), mode: 'topn', value: 1 });
    const g = foldGraph(fewer, folds);
    const present = ['0:1', '0:24'].filter((id) => fewer.nodes.some((n) => n.id === id));
    assert.equal(g.nodes.some((n) => n.kind === 'fold'), present.length >= 2);
  });
});

describe('circuits panel: attention circuit', () => {
  it('circuit only shows exactly circuit.edges, members emphasised and the rest faded', () => {
    const g = circuitGraph(circuit, circuitDefaults(circuit));
    assert.deepEqual(g.edges.map((e) => e.id).sort(), [...circuit.circuit.edges].sort());
    for (const e of g.edges) assert.ok(e.inCircuit);
    const members = new Set(circuit.circuit.nodes);
    assert.equal(g.nodes.length, circuit.nodes.length);
    for (const n of g.nodes) assert.equal(!!n.faded, !members.has(n.id), n.id);
    const head = g.summary.join('\n');
    for (const v of [circuit.circuit.faithfulness!, circuit.circuit.metricClean, circuit.circuit.metricCorrupt, circuit.circuit.metricCircuit]) assert.ok(head.includes(fmt(v)), fmt(v));
    assert.ok(head.includes(`${circuit.circuit.edgeCount}/${circuit.totalEdges} edges`));
  });

  it('top-n shows the n strongest by |score| with their sign, port and rank', () => {
    const ranked = rankedEdges(circuit);
    for (let k = 1; k < ranked.length; k++) assert.ok(Math.abs(ranked[k - 1].edge.score) >= Math.abs(ranked[k].edge.score));
    for (const n of [1, 7, 25, circuit.edges.length]) {
      const g = circuitGraph(circuit, { ...circuitDefaults(circuit), mode: 'topn', value: n });
      assert.deepEqual(
        g.edges.map((e) => e.id),
        ranked.slice(0, n).map((x) => x.edge.id),
      );
      for (const e of g.edges) {
        const src = circuit.edges.find((x) => x.id === e.id)!;
        assert.equal(e.score, src.score);
        assert.equal(e.weight, Math.abs(src.score));
        assert.equal(e.port, src.port);
        assert.equal(e.inCircuit, src.inCircuit);
      }
    }
  });

  it('stages run input → heads and MLP per layer → logits, heads in head order', () => {
    const g = circuitGraph(circuit, circuitDefaults(circuit));
    assert.deepEqual(
      g.columns.map((c) => c.label),
      ['input', 'attn 0', 'mlp 0', 'attn 1', 'mlp 1', 'logits'],
    );
    const col = (id: string): number => g.nodes.find((n) => n.id === id)!.column;
    for (const e of circuit.edges) assert.ok(col(e.from) < col(e.to), `${e.id} runs backwards`);
  });

  it('folding heads of a layer sums |score| per (neighbour, port) and keeps the signed sum', () => {
    const c: Controls = { ...circuitDefaults(circuit), mode: 'topn', value: circuit.edges.length };
    const base = circuitGraph(circuit, c);
    const heads = ['a1.h0', 'a1.h1', 'a1.h2', 'a1.h3'];
    const { folds } = foldSelection(base, [], heads);
    const g = foldGraph(base, folds);
    const sn = g.nodes.find((n) => n.kind === 'fold')!;
    assert.equal(sn.label, 'a1.h0,1,2,3');
    assert.ok(sn.inCircuit && !sn.faded);
    close(totalWeight(g), totalWeight(base), 'total weight kept by the folds');
    const into = g.edges.find((e) => e.source === 'input' && e.target === sn.id && e.port === 'v')!;
    const parts = circuit.edges.filter((e) => e.from === 'input' && heads.includes(e.to) && e.port === 'v');
    close(into.weight, parts.reduce((s, e) => s + Math.abs(e.score), 0), 'folded edge weight = Σ|score|');
    close(into.score!, parts.reduce((s, e) => s + e.score, 0), 'folded edge score = Σscore');
    assert.equal(into.count, 4);
    assert.ok(into.inCircuit);
    const target = revealTarget(circuitRun, sn);
    assert.deepEqual(target, { ...circuit.nodes.find((n) => n.id === 'a1.h0')!.graph, label: 'a1.h0, a1.h1, a1.h2, a1.h3 (folded)' });
  });
});

describe('circuits panel: redundant-neuron groups', () => {
  it('every unit once: live units in their group’s box, constant units apart', () => {
    const g = groupsGraph(groups, groupsDefaults(groups));
    const units = g.nodes.filter((n) => n.kind === 'unit');
    assert.equal(units.length, groups.groups.assignment.length);
    assert.equal(new Set(units.map((u) => u.id)).size, units.length);
    for (const u of units) {
      const a = groups.groups.assignment[u.unit!];
      assert.equal(u.group, a);
      assert.equal(u.parent, a === -1 ? 'grp:const' : `grp:${a}`);
    }
    const boxes = g.nodes.filter((n) => n.kind === 'group' && n.group! >= 0);
    assert.equal(boxes.length, groups.groups.count);
    for (const b of boxes) {
      assert.equal(units.filter((u) => u.parent === b.id).length, groups.groups.sizes[b.group!]);
      assert.ok(b.info[0].includes(`cohesion ${fmt(groups.groups.cohesion[b.group!])}`));
    }
    assert.equal(units.filter((u) => u.parent === 'grp:const').length, groups.droppedConstantUnits);
  });

  it('folds groups into supernodes (slider: groups of at least n units)', () => {
    const { min, max } = groupsSliderRange(groups);
    assert.equal(min, 2);
    assert.equal(max, Math.max(...groups.groups.sizes) + 1);
    assert.deepEqual(foldedBySize(groups, max), []);
    const big = foldedBySize(groups, 9);
    assert.deepEqual(big, groups.groups.sizes.flatMap((s, k) => (s >= 9 ? [k] : [])));
    const g = groupsGraph(groups, { ...groupsDefaults(groups), folded: big });
    for (const k of big) {
      const sn = g.nodes.find((n) => n.id === `gf:${k}`)!;
      assert.equal(sn.members!.length, groups.groups.sizes[k]);
      assert.equal(g.nodes.find((n) => n.id === `grp:${k}`), undefined);
    }
    const units = g.nodes.filter((n) => n.kind === 'unit').length;
    const hidden = big.reduce((s, k) => s + groups.groups.sizes[k], 0);
    assert.equal(units + hidden, groups.groups.assignment.length);
  });
});

describe('circuits panel: layout', () => {
  const boxesOf = (items: LayoutItem[], pos: Map<string, { x: number; y: number }>): Box[] =>
    items.map((n) => ({ x1: pos.get(n.id)!.x - n.w / 2, y1: pos.get(n.id)!.y - n.h / 2, x2: pos.get(n.id)!.x + n.w / 2, y2: pos.get(n.id)!.y + n.h / 2 }));

  for (const [name, g] of [
    ['lib', libGraph(lib, { ...libDefaults(lib), expanded: [1] })],
    ['circuit', circuitGraph(circuit, circuitDefaults(circuit))],
  ] as const) {
    for (const o of ['columns', 'rows'] as const) {
      it(`${name} in ${o}: deterministic, no overlaps, one column per layer in order`, () => {
        const items = g.nodes.map((n) => ({ id: n.id, column: n.column, order: n.order, w: n.w, h: n.h }));
        const a = layeredLayout(items, g.columns.length, o);
        const b = layeredLayout([...items].reverse(), g.columns.length, o);
        assert.deepEqual([...a.positions].sort(), [...b.positions].sort());
        const boxes = boxesOf(items, a.positions);
        for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlaps(boxes[i], boxes[j]), `${items[i].id} overlaps ${items[j].id}`);
        const main = (id: string): number => (o === 'columns' ? a.positions.get(id)!.x : a.positions.get(id)!.y);
        for (const x of items) for (const y of items) if (x.column < y.column) assert.ok(main(x.id) < main(y.id));
        assert.equal(a.headers.length, g.columns.length);
      });
    }
  }

  it('edges that skip stages bow away from the stream’s axis; ports spread apart', () => {
    assert.equal(edgeBend(1, undefined), 0);
    assert.equal(edgeBend(1, 'q'), -edgeBend(1, 'v'));
    assert.ok(edgeBend(3, undefined) > edgeBend(2, undefined));
    // Columns: travelling +x, positive distances go +y (cytoscape's n = (−dy, dx)).
    assert.equal(bendSide('columns', { x: 0, y: 10 }, { x: 100, y: 30 }), 1);
    assert.equal(bendSide('columns', { x: 0, y: -10 }, { x: 100, y: -30 }), -1);
    // Rows: travelling +y, positive distances go −x.
    assert.equal(bendSide('rows', { x: 10, y: 0 }, { x: 30, y: 100 }), -1);
    assert.equal(bendSide('rows', { x: -10, y: 0 }, { x: -30, y: 100 }), 1);
  });

  it('a tall side panel gets columns for LIB; a wide one rows', () => {
    const g = libGraph(lib, libDefaults(lib));
    const items = g.nodes.map((n) => ({ id: n.id, column: n.column, order: n.order, w: n.w, h: n.h }));
    assert.equal(chooseOrientation(items, g.columns.length, 360, 800), 'columns');
    assert.equal(chooseOrientation(items, g.columns.length, 1400, 500), 'rows');
  });

  it('packs group boxes without overlaps, units inside their box', () => {
    for (const [w, h] of [
      [360, 800],
      [900, 700],
    ]) {
      const s = buildScene(groupsRun, groupsDefaults(groups), circuitsColors(palette('dark')), w, h);
      const inputs = s.graph.nodes.filter((n) => !n.parent);
      const packed = packGroups(
        inputs.map((n) => ({ id: n.id, w: n.w, h: n.h, children: s.graph.nodes.filter((u) => u.parent === n.id).map((u) => ({ id: u.id, w: u.w, h: u.h })) })),
        w,
        h,
      );
      const boxes = [...packed.boxes.values()];
      for (let i = 0; i < boxes.length; i++) for (let j = i + 1; j < boxes.length; j++) assert.ok(!overlaps(boxes[i], boxes[j]));
      for (const u of s.graph.nodes.filter((n) => n.parent)) {
        const p = packed.positions.get(u.id)!;
        const b = packed.boxes.get(u.parent!)!;
        assert.ok(p.x - u.w / 2 >= b.x1 && p.x + u.w / 2 <= b.x2 && p.y - u.h / 2 >= b.y1 && p.y + u.h / 2 <= b.y2);
      }
      assert.ok(packed.bounds.x2 <= Math.max(...boxes.map((b) => b.x2)) + 1e-9);
    }
  });
});

describe('circuits panel: scene', () => {
  const colors = circuitsColors(palette('dark'));

  it('edge width and opacity grow with E; every drawn node has a position', () => {
    const s = buildScene(libRun, libDefaults(lib), colors, 360, 800);
    const edges = s.elements.filter((e) => e.group === 'edges');
    assert.equal(edges.length, lib.graph.edges.length);
    const sorted = [...edges].sort((a, b) => (a.data.weight as number) - (b.data.weight as number));
    for (let k = 1; k < sorted.length; k++) {
      assert.ok((sorted[k].data.width as number) >= (sorted[k - 1].data.width as number));
      assert.ok((sorted[k].data.op as number) >= (sorted[k - 1].data.op as number));
    }
    assert.equal(sorted.at(-1)!.data.width, 6);
    for (const n of s.elements.filter((e) => e.group === 'nodes')) assert.ok(n.position, n.data.id as string);
    assert.equal(s.orientation, 'columns');
  });

  it('pinned nodes keep their positions across threshold changes', () => {
    const c: Controls = { ...libDefaults(lib), pinned: { '1:1': { x: 1234, y: -56 } } };
    for (const value of [0.5, 0.9, 0.99]) {
      const s = buildScene(libRun, { ...c, value }, colors, 360, 800);
      const el = s.elements.find((e) => e.data.id === '1:1')!;
      assert.deepEqual(el.position, { x: 1234, y: -56 });
      assert.match(el.classes as string, /\bpinned\b/);
    }
  });

  it('circuit edges are coloured by sign, dashed-faded outside the circuit, ports kept', () => {
    const s = buildScene(circuitRun, { ...circuitDefaults(circuit), mode: 'topn', value: 40 }, colors, 360, 800);
    for (const e of s.elements.filter((x) => x.group === 'edges')) {
      const src = circuit.edges.find((x) => x.id === e.data.id)!;
      assert.equal(e.data.color, src.score >= 0 ? colors.positive : colors.negative);
      assert.equal(/\bfaded\b/.test(String(e.classes ?? '')), !src.inCircuit);
      assert.equal(e.data.port, src.port);
    }
  });
});

describe('circuits panel: click-through', () => {
  it('LIB node → its layer value; circuit node → its graph element; unit → the layer', () => {
    const g = libGraph(lib, libDefaults(lib));
    assert.deepEqual(revealTarget(libRun, g.nodes.find((n) => n.id === '2:3')!), { value: lib.layers[2].name, label: `LIB direction 3 of ${lib.layers[2].name}` });
    assert.equal(revealTarget(libRun, g.nodes.find((n) => n.kind === 'overflow')!), undefined);
    const cg = circuitGraph(circuit, circuitDefaults(circuit));
    const h = circuit.nodes.find((n) => n.id === 'a0.h2')!;
    assert.deepEqual(revealTarget(circuitRun, cg.nodes.find((n) => n.id === 'a0.h2')!), { ...h.graph, label: 'a0.h2' });
    const gg = groupsGraph(groups, groupsDefaults(groups));
    const u = gg.nodes.find((n) => n.kind === 'unit' && n.unit === 2)!;
    assert.deepEqual(revealTarget(groupsRun, u), { value: groups.layer, label: `unit 2 (group ${groups.groups.assignment[2]})` });
    const cu = gg.nodes.find((n) => n.kind === 'unit' && n.group === -1)!;
    assert.deepEqual(revealTarget(groupsRun, cu), { value: groups.layer, label: `unit ${cu.unit} (constant)` });
  });
});

describe('circuits panel: SVG export, numbers, colours', () => {
  it('writes an SVG of the scene, text escaped', () => {
    const svg = sceneToSvg({
      background: '#1f1f1f',
      foreground: '#cccccc',
      fontFamily: 'a "font"',
      title: 'a < b & c',
      nodes: [
        { x: 0, y: 0, w: 20, h: 20, shape: 'ellipse', fill: '#111111', stroke: '#222222', strokeWidth: 1, label: '3', fontSize: 9, labelAt: 'center', color: '#cccccc', ring: '#ff0000' },
        { x: 100, y: 0, w: 40, h: 20, shape: 'round-rectangle', fill: '#111111', stroke: '#222222', strokeWidth: 1, label: 'a<b>', fontSize: 9, labelAt: 'center', color: '#cccccc' },
        { x: 50, y: -40, w: 0, h: 0, shape: 'rectangle', fill: 'none', stroke: 'none', strokeWidth: 0, label: 'relu1', fontSize: 11, labelAt: 'text-center', color: '#999999' },
      ],
      edges: [{ sx: 10, sy: 0, tx: 80, ty: 0, cx: 45, cy: 20, color: '#3794ff', width: 2, opacity: 0.5, arrow: true, label: 'q' }],
    });
    assert.ok(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"'));
    assert.ok(svg.trimEnd().endsWith('</svg>'));
    assert.ok(svg.includes('a &lt; b &amp; c') && svg.includes('a&lt;b&gt;') && svg.includes('a &quot;font&quot;'));
    assert.equal((svg.match(/<ellipse /g) ?? []).length, 2);
    assert.ok(svg.includes('Q45,20 80,0'));
    assert.ok(svg.includes('>relu1</text>'));
  });

  it('formats numbers without inventing precision', () => {
    assert.equal(fmt(10.999573707580566), '11.00');
    assert.equal(fmt(0.8), '0.8');
    assert.equal(fmt(-11.054584503173828), '−11.05');
    assert.equal(fmt(114.28932936539839), '114.3');
    assert.equal(fmt(5000), '5000');
    assert.equal(fmt(1.5e-7), '1.5e-7');
    assert.equal(fmt(2.345678e-5), '2.346e-5');
    assert.equal(fmt(null), '—');
    assert.equal(pct(0.9), '90%');
    assert.equal(pct(0.9017), '90.2%');
    assert.equal(pct(1), '100%');
  });

  it('node labels stay readable on every node fill, in every theme kind', () => {
    const rgb = (css: string): Rgb => {
      const c = parseColor(css)!;
      return [c[0], c[1], c[2]];
    };
    for (const kind of ['dark', 'light', 'high-contrast', 'high-contrast-light'] as const) {
      const c = circuitsColors(palette(kind));
      for (const [k, fill] of Object.entries(c.fill)) {
        assert.ok(contrast(rgb(c.foreground), rgb(fill)) >= 4.5, `${kind} ${k}: ${c.foreground} on ${fill}`);
      }
      for (const v of [0, 0.5, 1]) assert.ok(contrast(rgb(c.header), rgb(c.groupFill(v))) >= 3, `${kind} group label on cohesion ${v}`);
      assert.notEqual(c.positive, c.negative);
    }
  });
});

