/**
 * The results panel's pure logic (src/webview/results: format, ticks, csv, sections/model) on the real CLI
 * envelopes in test/fixtures/envelopes: table values are the envelope's numbers, undefined metrics are "—",
 * series follow checkpoints, CSV round-trips, log ticks are sensible.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type {
  AttentionResult,
  CircuitResult,
  CollapseResult,
  HashResult,
  LibResult,
  RedundancyResult,
  RunRecord,
  Series,
  TypedEnvelope,
} from '../../src/shared/results';
import { parseCsv, tableCsv, csvField } from '../../src/webview/results/csv';
import { baseName, exportFileName, fmtFull, fmtMs, fmtNum, fmtTick, fmtTimings, modelStem, NULL_TEXT, slug } from '../../src/webview/results/format';
import { chartsOf, runLabel, runView, tablesOf, type RunView } from '../../src/webview/results/model';
import { collapseLayerRows, COLLAPSE_FIELDS, edgesByScore, sortedSpectrum, sortSeries } from '../../src/webview/results/sections';
import type { Cell, HeatmapSpec, LineChartSpec, MatrixPanelsSpec, TableSpec } from '../../src/webview/results/spec';
import { linearAxis, log2Axis, logAxis, position, spansDecades } from '../../src/webview/results/ticks';

const dir = path.join(__dirname, '..', 'fixtures', 'envelopes');
const NAMES = ['collapse', 'collapse-series', 'hash', 'hash-widths', 'redundancy', 'lib', 'attention', 'circuit'] as const;
type Name = (typeof NAMES)[number];

const cache = new Map<Name, string>();
function envelope(name: Name): TypedEnvelope {
  if (!cache.has(name)) cache.set(name, fs.readFileSync(path.join(dir, `${name}.json`), 'utf8'));
  return JSON.parse(cache.get(name)!) as TypedEnvelope;
}

function run(name: Name, env: TypedEnvelope = envelope(name)): RunRecord {
  return { id: `run-${name}`, envelope: env, finishedAt: '2026-11-24T09:03:07.000Z', data: 'examples/data/fmnist.npz', savedTo: `/tmp/${name}.json` };
}

function table(v: RunView, slugName: string): TableSpec {
  const t = tablesOf(v).find((x) => x.slug === slugName);
  assert.ok(t, `table ${slugName} in ${v.analysis}: ${tablesOf(v).map((x) => x.slug).join(', ')}`);
  return t;
}

function chart<K extends 'line' | 'heatmap' | 'matrices'>(v: RunView, slugName: string, kind: K): Extract<LineChartSpec | HeatmapSpec | MatrixPanelsSpec, { kind: K }> {
  const c = chartsOf(v).find((x) => x.slug === slugName);
  assert.ok(c, `chart ${slugName} in ${v.analysis}: ${chartsOf(v).map((x) => x.slug).join(', ')}`);
  assert.equal(c.kind, kind);
  return c as Extract<LineChartSpec | HeatmapSpec | MatrixPanelsSpec, { kind: K }>;
}

/** The value cell of a key–value table row. */
function kv(t: TableSpec, field: string): Cell | undefined {
  return t.rows.find((r) => r[0].v === field)?.[1];
}

function col(t: TableSpec, key: string): number {
  const j = t.columns.findIndex((c) => c.key === key);
  assert.ok(j >= 0, `column ${key} in ${t.slug}`);
  return j;
}

function assertNumberCell(c: Cell | undefined, expected: number | null | undefined, what: string): void {
  assert.ok(c, `${what}: no cell`);
  if (expected === null || expected === undefined) {
    assert.equal(c.v, null, what);
    assert.equal(c.text, NULL_TEXT, what);
    assert.match(c.title ?? '', /undefined for this run/, what);
  } else {
    assert.equal(c.v, expected, what);
    assert.equal(c.text, fmtNum(expected), what);
  }
}

// ------------------------------------------------------------------------------------------------ format

describe('results format', () => {
  it('rounds for display and keeps the full value for tooltips and CSV', () => {
    assert.equal(fmtNum(0.512256397792042), '0.5123');
    assert.equal(fmtNum(5000), '5000');
    assert.equal(fmtNum(0.0002), '2e-4');
    assert.equal(fmtNum(-11.054584503173828), '-11.05');
    assert.equal(fmtNum(1234567.8), '1.235e6');
    assert.equal(fmtNum(0.855), '0.855');
    assert.equal(fmtNum(0), '0');
    assert.equal(fmtNum(null), '—');
    assert.equal(fmtNum(undefined), '—');
    assert.equal(fmtFull(0.1 + 0.2), '0.30000000000000004');
    assert.equal(fmtFull(null), '');
    assert.equal(fmtTick(0.30000000000000004), '0.3');
    assert.equal(fmtTick(1e-6), '1e-6');
    assert.equal(fmtTick(100000), '1e5');
  });

  it('names exported files analysis-model-what.ext', () => {
    assert.equal(exportFileName('collapse', 'examples/mlp/mlp.onnx', 'nc-over-layers', 'svg'), 'collapse-mlp-nc-over-layers.svg');
    assert.equal(exportFileName('lib', 'C:\\models\\net\\model.json', 'spectrum-/relu1/Relu_output_0', 'png'), 'lib-net-spectrum-relu1-relu-output-0.png');
    assert.equal(slug('/relu1/Relu_output_0'), 'relu1-relu-output-0');
    assert.equal(slug('ncOverLayers'), 'nc-over-layers');
    assert.equal(slug('Λ'), 'x');
    assert.equal(modelStem('examples/mlp/series'), 'series');
    assert.equal(modelStem('examples/tfjs/model.json'), 'tfjs');
    assert.equal(baseName('examples/mlp/mlp.onnx'), 'mlp.onnx');
  });

  it('writes timings in their order', () => {
    assert.equal(fmtTimings({ loadMs: 322.5, runMs: 32.25, totalMs: 7943.7 }), 'load 323 ms · run 32 ms · total 7.94 s');
    assert.equal(fmtMs(125_000), '2 min 5 s');
  });
});

// ------------------------------------------------------------------------------------------------ ticks

describe('results ticks', () => {
  it('log ticks for 1…200 are 1-2-5 and end on the data', () => {
    const a = logAxis(1, 200);
    assert.deepEqual(a.ticks, [1, 2, 5, 10, 20, 50, 100, 200]);
    assert.deepEqual(a.domain, [1, 200]);
  });

  it('log ticks thin out to powers of ten over many decades and stay clean', () => {
    const a = logAxis(3.2e-7, 140);
    assert.ok(a.domain[0] <= 3.2e-7 && a.domain[1] >= 140);
    assert.ok(a.ticks.length >= 3 && a.ticks.length <= 10, String(a.ticks));
    for (const t of a.ticks) assert.equal(Math.log10(t) % 1 === 0 || Number.isInteger(Math.round(Math.log10(t))), true);
    for (const t of a.ticks) assert.ok(fmtTick(t).length <= 6, fmtTick(t));
    const narrow = logAxis(0.3, 0.45);
    assert.deepEqual(narrow.ticks, [0.3, 0.4, 0.5]);
    assert.throws(() => logAxis(0, 10), RangeError);
  });

  it('log2 ticks are powers of two covering the chunk sizes', () => {
    assert.deepEqual(log2Axis(1, 127).ticks, [1, 2, 4, 8, 16, 32, 64, 128]);
    assert.deepEqual(log2Axis(1, 127).domain, [1, 128]);
    assert.ok(log2Axis(1, 1 << 20).ticks.length <= 11);
  });

  it('linear ticks are nice, cover the data and carry no float noise', () => {
    const a = linearAxis(0.2261, 0.9591);
    assert.ok(a.domain[0] <= 0.2261 && a.domain[1] >= 0.9591);
    assert.ok(a.ticks.length >= 4 && a.ticks.length <= 10);
    for (const t of a.ticks) assert.ok(String(t).length <= 5, String(t));
    assert.deepEqual(linearAxis(5, 5).ticks.length > 1, true);
    assert.deepEqual(linearAxis(-11.05, 11).ticks.includes(0), true);
  });

  it('positions are monotonic and log positions undefined at ≤ 0', () => {
    const a = logAxis(1, 200);
    assert.equal(position(a, 1), 0);
    assert.equal(position(a, 200), 1);
    assert.ok(position(a, 10) > position(a, 5));
    assert.ok(Number.isNaN(position(a, 0)));
  });

  it('spansDecades: NC1 falling over checkpoints yes, accuracies no, zero never', () => {
    assert.equal(spansDecades([3.2, 0.05]), true);
    assert.equal(spansDecades([0.5, 0.99, null]), false);
    assert.equal(spansDecades([0, 10, 1000]), false);
  });
});

// ------------------------------------------------------------------------------------------------ csv

describe('results CSV', () => {
  it('quotes commas, quotes, newlines and edge spaces, and round-trips them', () => {
    const tricky = ['a,b', 'say "hi"', 'line1\nline2', 'cr\r\nlf', ' lead', 'trail ', '', 'Λ — ü', '=1+1'];
    const t: TableSpec = {
      kind: 'table',
      slug: 't',
      title: 'T',
      columns: [
        { key: 's', label: 'text, "quoted"' },
        { key: 'n', label: 'n' },
      ],
      rows: tricky.map((s, i) => [
        { v: s, text: s },
        { v: i === 0 ? null : 0.1 + 0.2 * i, text: '' },
      ]),
    };
    const text = tableCsv(t);
    assert.ok(text.endsWith('\r\n'));
    const back = parseCsv(text);
    assert.equal(back.length, tricky.length + 1);
    assert.deepEqual(back[0], ['text, "quoted"', 'n']);
    tricky.forEach((s, i) => {
      assert.equal(back[i + 1][0], s);
      assert.equal(back[i + 1][1], i === 0 ? '' : String(0.1 + 0.2 * i));
      if (i) assert.equal(Number(back[i + 1][1]), 0.1 + 0.2 * i);
    });
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a"b'), '"a""b"');
    assert.equal(csvField(true), 'true');
  });

  it('every table of every fixture exports every row at full precision', () => {
    for (const name of NAMES) {
      const v = runView(run(name));
      for (const t of tablesOf(v)) {
        const rows = parseCsv(tableCsv(t));
        assert.equal(rows.length, t.rows.length + 1, `${name}/${t.slug}`);
        for (const r of rows) assert.equal(r.length, t.columns.length, `${name}/${t.slug}`);
        t.rows.forEach((r, i) =>
          r.forEach((c, j) => {
            if (typeof c.v === 'number' && c.csv === undefined) assert.equal(Number(rows[i + 1][j]), c.v, `${name}/${t.slug}[${i}][${j}]`);
            if (c.v === null) assert.equal(rows[i + 1][j], '', `${name}/${t.slug}[${i}][${j}]`);
          }),
        );
      }
    }
  });
});

// ------------------------------------------------------------------------------------------------ every fixture

describe('results views of every fixture', () => {
  it('cells show the envelope numbers rounded, never NaN; null only as "—" with a tooltip', () => {
    for (const name of NAMES) {
      const v = runView(run(name));
      assert.ok(v.sections.length > 0, name);
      for (const t of tablesOf(v)) {
        for (const r of t.rows) {
          assert.equal(r.length, t.columns.length, `${name}/${t.slug}`);
          for (const c of r) {
            assert.ok(!/NaN|Infinity/.test(c.text), `${name}/${t.slug}: ${c.text}`);
            if (typeof c.v === 'number') assert.equal(c.text, fmtNum(c.v), `${name}/${t.slug}`);
            if (c.v === null) {
              assert.equal(c.text, NULL_TEXT);
              assert.match(c.title ?? '', /undefined for this run \(see the run’s warnings\)/);
            }
          }
        }
      }
      const slugs = [...tablesOf(v).map((t) => `t:${t.slug}`), ...chartsOf(v).map((c) => `c:${c.slug}`)];
      assert.equal(new Set(slugs).size, slugs.length, `unique slugs in ${name}: ${slugs.join(', ')}`);
    }
  });

  it('header: analysis, model, backend, layers, dataset, time, timings, saved path; label for the switcher', () => {
    const v = runView(run('hash'));
    const f = Object.fromEntries(v.fields.map((x) => [x.key, x.value]));
    assert.equal(f.analysis, 'hash');
    assert.equal(f.model, 'examples/mlp/mlp.onnx');
    assert.match(f.backend, /^onnxruntime-node/);
    assert.equal(f.layer, '/relu1/Relu_output_0, /relu2/Relu_output_0');
    assert.equal(f.data, 'examples/data/fmnist.npz');
    assert.match(f.finishedAt, /^2026-11-2\d \d\d:\d\d:07$/);
    assert.match(f.timings, /^load 408 ms · run 21 ms · analysis 3\.18 s · total 3\.61 s$/);
    assert.equal(f.savedTo, '/tmp/hash.json');
    assert.match(runLabel(run('collapse')), /^collapse · mlp\.onnx · (\d{4}-\d\d-\d\d )?\d\d:\d\d:07$/);
    assert.match(runLabel(run('collapse'), new Date('2026-11-24T09:03:07.000Z')), /^collapse · mlp\.onnx · \d\d:\d\d:07$|^collapse · mlp\.onnx · 2026-11-2\d \d\d:\d\d:07$/);
  });

  it('"Open in side panel" for lib, circuit and redundancy with groups only; warnings carried', () => {
    const expect: Record<Name, boolean> = { collapse: false, 'collapse-series': false, hash: false, 'hash-widths': false, redundancy: true, lib: true, attention: false, circuit: true };
    for (const name of NAMES) assert.equal(runView(run(name)).showCircuit, expect[name], name);
    const e = envelope('redundancy');
    const r = e.result as RedundancyResult;
    delete r.groups;
    assert.equal(runView(run('redundancy', e)).showCircuit, false);
    assert.deepEqual(runView(run('circuit')).warnings, envelope('circuit').warnings);
  });
});

// ------------------------------------------------------------------------------------------------ collapse

describe('results: collapse', () => {
  it('the metrics table has every contract field with the envelope value and its variant as tooltip', () => {
    const e = envelope('collapse');
    const r = e.result as CollapseResult;
    const t = table(runView(run('collapse', e)), 'metrics');
    for (const f of COLLAPSE_FIELDS) assertNumberCell(kv(t, f), (r as unknown as Record<string, number>)[f], f);
    assert.match(kv(t, 'nc1')!.title!, /Papyan/);
    assert.equal(t.rows.find((x) => x[0].v === 'equinormMeans')![0].title, r.variants.equinorm);
    assert.equal(kv(t, 'features')!.v, '/relu2/Relu_output_0');
  });

  it('null metrics are "—", CSV empty, chart gaps; absent optional fields are left out', () => {
    const e = envelope('collapse');
    const r = e.result as CollapseResult;
    r.nc1 = null;
    r.layers[0].cdnv = null;
    delete r.accuracyTest;
    const v = runView(run('collapse', e));
    const t = table(v, 'metrics');
    assertNumberCell(kv(t, 'nc1'), null, 'nc1');
    assert.equal(kv(t, 'accuracyTest'), undefined);
    const row = parseCsv(tableCsv(t)).find((x) => x[0] === 'nc1');
    assert.deepEqual(row, ['nc1', '']);
    const c = chart(v, 'nc-over-layers', 'line');
    assert.equal(c.series.find((s) => s.key === 'cdnv')!.points[0].y, null);
  });

  it('"NC metrics over layers": layers in order, then the features layer unless already last', () => {
    const e = envelope('collapse');
    const r = e.result as CollapseResult;
    const c = chart(runView(run('collapse', e)), 'nc-over-layers', 'line');
    assert.deepEqual(c.x.categories, ['/relu1/Relu_output_0', '/relu2/Relu_output_0']);
    assert.equal(c.x.scale, 'category');
    const nc1 = c.series.find((s) => s.key === 'nc1')!;
    assert.deepEqual(
      nc1.points.map((p) => p.y),
      r.layers.map((l) => l.nc1),
    );
    assert.deepEqual(
      c.series.map((s) => s.key),
      ['nc1', 'nc1TraceRatio', 'cdnv', 'equinormMeans', 'equiangularityMeans', 'maxAngleMeans', 'etfDistanceMeans', 'nccAccuracyTrain', 'nccAccuracyTest'],
    );
    // Only the first hidden layer analysed: the features layer follows with the top-level metrics.
    r.layers = r.layers.slice(0, 1);
    const rows = collapseLayerRows(r);
    assert.deepEqual(
      rows.map((x) => x.layer),
      ['/relu1/Relu_output_0', '/relu2/Relu_output_0'],
    );
    assert.equal(rows[1].values.nc1, r.nc1);
    assert.equal(rows[1].values.nccAccuracyTest, r.nccAccuracyTest);
  });

  it('series: rows and chart follow the checkpoints (log x), whatever the envelope order', () => {
    const e = envelope('collapse-series');
    const s = e.result as Series<CollapseResult>;
    const shuffled = [s.series[4], s.series[0], s.series[8], s.series[2], s.series[6], s.series[1], s.series[7], s.series[3], s.series[5]];
    s.series = shuffled;
    const v = runView(run('collapse-series', e));
    assert.equal(v.isSeries, true);
    const t = table(v, 'series');
    assert.deepEqual(
      t.rows.map((r) => r[col(t, 'checkpoint')].v),
      [1, 2, 4, 8, 16, 32, 64, 128, 200],
    );
    const c = chart(v, 'metrics-over-checkpoints', 'line');
    assert.equal(c.x.scale, 'log');
    const nc1 = c.series.find((x) => x.key === 'nc1')!;
    assert.deepEqual(
      nc1.points.map((p) => p.x),
      [1, 2, 4, 8, 16, 32, 64, 128, 200],
    );
    assert.deepEqual(
      nc1.points.map((p) => p.y),
      sortSeries(shuffled).map((r) => r.nc1),
    );
    assert.ok(!nc1.hidden);
    assert.ok(c.series.find((x) => x.key === 'equinormWeights')!.hidden, 'secondary metrics start hidden (toggleable)');
    // The visible lines get distinct colour/style pairs.
    const visible = c.series.filter((x) => !x.hidden).map((x) => `${x.color}/${x.dash}`);
    assert.equal(new Set(visible).size, visible.length);
    assert.equal(c.y.scale, 'log', 'NC1 from 3.2 to 0.5 with mismatch 0.06: values span decades');
  });

  it('series without checkpoint numbers fall back to model order', () => {
    const e = envelope('collapse-series');
    const s = e.result as Series<CollapseResult>;
    s.series[3].checkpoint = null;
    const v = runView(run('collapse-series', e));
    const c = chart(v, 'metrics-over-checkpoints', 'line');
    assert.equal(c.x.scale, 'category');
    assert.equal(c.x.categories![c.x.categories!.length - 1], 'epoch_008.onnx');
    assert.equal(table(v, 'series').rows[8][col(table(v, 'series'), 'checkpoint')].text, NULL_TEXT);
  });
});

// ------------------------------------------------------------------------------------------------ hash

describe('results: hash', () => {
  it('single model: every metric as in the envelope', () => {
    const e = envelope('hash');
    const r = e.result as HashResult;
    const v = runView(run('hash', e));
    const t = table(v, 'metrics');
    for (const f of ['units', 'codeBitsRaw', 'codeBits', 'redundancyRatioTrain', 'redundancyRatioTest', 'kmeansAccuracyTrain', 'kmeansAccuracyTest', 'knnAccuracy', 'logisticAccuracy', 'networkAccuracyTrain', 'networkAccuracyTest'] as const) {
      assertNumberCell(kv(t, f), r[f], f);
    }
    assert.match(kv(t, 'knnAccuracy')!.title!, /9-NN/);
    assert.equal(table(v, 'activations').rows.length, 2);
  });

  it('width sweep: the phase chart over units (log), undefined probes left out and named', () => {
    const e = envelope('hash-widths');
    const s = e.result as Series<HashResult>;
    const v = runView(run('hash-widths', e));
    const c = chart(v, 'phase', 'line');
    assert.equal(c.x.scale, 'log');
    assert.match(c.x.label, /units/);
    const knn = c.series.find((x) => x.key === 'knnAccuracy')!;
    assert.deepEqual(
      knn.points.map((p) => [p.x, p.y]),
      s.series.map((r) => [r.units, r.knnAccuracy]),
    );
    assert.equal(c.series.find((x) => x.key === 'kmeansAccuracyTrain'), undefined);
    assert.match(c.note!, /kmeansAccuracyTrain/);
    assert.match(c.note!, /logisticAccuracy/);
    const t = table(v, 'series');
    assertNumberCell(t.rows[0][col(t, 'kmeansAccuracyTrain')], null, 'kmeans null');
    assertNumberCell(t.rows[8][col(t, 'redundancyRatioTrain')], 0.0238, 'w100 redundancy');
  });

  it('bySampleSize gives a chart and a table when present', () => {
    const e = envelope('hash');
    (e.result as HashResult).bySampleSize = [
      { samples: 100, distinct: 100, redundancyRatio: 0 },
      { samples: 1000, distinct: 998, redundancyRatio: 0.002 },
      { samples: 5000, distinct: 4999, redundancyRatio: 0.0002 },
    ];
    const v = runView(run('hash', e));
    const c = chart(v, 'redundancy-by-sample-size', 'line');
    assert.deepEqual(
      c.series[0].points.map((p) => p.y),
      [0, 0.002, 0.0002],
    );
    assert.equal(table(v, 'by-sample-size').rows.length, 3);
  });
});

// ------------------------------------------------------------------------------------------------ redundancy

describe('results: redundancy', () => {
  it('curves over chunk size (log2) with ±std bands, the critical width and R² = 0.95 marked', () => {
    const e = envelope('redundancy');
    const r = e.result as RedundancyResult;
    const v = runView(run('redundancy', e));
    const c = chart(v, 'redundancy-curves', 'line');
    assert.equal(c.x.scale, 'log2');
    const test = c.series.find((s) => s.key === 'accuracyTest')!;
    assert.ok(test.band);
    r.chunks.forEach((ch, i) => {
      assert.equal(test.points[i].x, ch.size);
      assert.equal(test.points[i].y, ch.accuracyTest);
      assert.equal(test.points[i].lo, ch.accuracyTest! - ch.accuracyTestStd!);
      assert.equal(test.points[i].hi, ch.accuracyTest! + ch.accuracyTestStd!);
    });
    const resid = c.series.find((s) => s.key === 'residualCorrelation')!;
    assert.equal(resid.points[resid.points.length - 1].y, null, 'undefined at full width: a gap, not 0');
    assert.deepEqual(c.refs, [
      { axis: 'y', value: 0.95, label: 'R² = 0.95' },
      { axis: 'x', value: 32, label: 'critical width 32' },
    ]);
    const sum = table(v, 'summary');
    assertNumberCell(kv(sum, 'clones'), 3.96875, 'clones');
    assertNumberCell(kv(sum, 'criticalWidth'), 32, 'criticalWidth');
    assertNumberCell(kv(sum, 'droppedConstantUnits'), 1, 'dropped');
    assertNumberCell(kv(sum, 'width'), 127, 'width');
    assertNumberCell(table(v, 'chunks').rows[7][6], null, 'residualCorrelation at 127');
  });

  it('the groups are labelled as our extension, sizes and members agree with the assignment', () => {
    const e = envelope('redundancy');
    const g = (e.result as RedundancyResult).groups!;
    const v = runView(run('redundancy', e));
    const sec = v.sections.find((s) => s.items.some((i) => i.slug === 'groups'))!;
    assert.equal(sec.badge, 'our extension');
    assert.equal(sec.note, g.label);
    const t = table(v, 'groups');
    assert.match(t.title, /our extension/);
    assert.equal(t.rows.length, g.count);
    t.rows.forEach((row, i) => {
      assertNumberCell(row[1], g.sizes[i], `size ${i}`);
      assertNumberCell(row[2], g.cohesion[i], `cohesion ${i}`);
      const members = String(row[3].csv).split(', ').map(Number);
      assert.equal(members.length, g.sizes[i]);
      for (const u of members) assert.equal(g.assignment[u], i);
    });
  });

  it('series: clones and critical width over checkpoints', () => {
    const e = envelope('redundancy');
    const one = e.result as RedundancyResult;
    const series: Series<RedundancyResult> = {
      models: 3,
      series: [
        { ...one, model: 'e8.onnx', checkpoint: 8, clones: 2.5, criticalWidth: 50 },
        { ...one, model: 'e1.onnx', checkpoint: 1, clones: null, criticalWidth: null },
        { ...one, model: 'e64.onnx', checkpoint: 64 },
      ],
    };
    const v = runView(run('redundancy', { ...e, result: series } as TypedEnvelope));
    const c = chart(v, 'clones-over-checkpoints', 'line');
    assert.equal(c.x.scale, 'log');
    assert.deepEqual(
      c.series.find((s) => s.key === 'clones')!.points.map((p) => [p.x, p.y]),
      [
        [1, null],
        [8, 2.5],
        [64, 3.96875],
      ],
    );
    assert.equal(table(v, 'series').rows[0][col(table(v, 'series'), 'clones')].text, NULL_TEXT);
  });
});

// ------------------------------------------------------------------------------------------------ lib

describe('results: lib', () => {
  it('spectra are sorted descending, the folded constant direction left out and named', () => {
    const e = envelope('lib');
    const r = e.result as LibResult;
    const v = runView(run('lib', e));
    for (const l of r.layers) {
      const c = chart(v, `spectrum-${slug(l.name)}`, 'line');
      assert.equal(c.y.scale, 'log');
      const lib = c.series.find((s) => s.key === 'lib')!;
      const expect = (l.folded ? l.lambdas.slice(1) : l.lambdas).slice().sort((a, b) => b - a);
      assert.deepEqual(
        lib.points.map((p) => p.y),
        expect,
      );
      assert.deepEqual(
        lib.points.map((p) => p.x),
        expect.map((_, i) => i + 1),
      );
      assert.match(c.note!, /descending/);
      if (l.folded) assert.match(c.note!, new RegExp(`Λ = ${fmtNum(l.lambdas[0]).replace('.', '\\.')}`));
      assert.ok(c.series.some((s) => s.key === 'pca'), 'PCA baseline drawn');
    }
    const { values, constant } = sortedSpectrum(r.layers[0]);
    assert.equal(constant, r.layers[0].lambdas[0]);
    assert.equal(values.length, r.layers[0].rank - 1);
  });

  it('layer and edge tables compare LIB with PCA; totals are edgesFor90/99', () => {
    const e = envelope('lib');
    const r = e.result as LibResult;
    const v = runView(run('lib', e));
    const layers = table(v, 'layers');
    r.layers.forEach((l, i) => {
      assertNumberCell(layers.rows[i][col(layers, 'rank')], l.rank, 'rank');
      assertNumberCell(layers.rows[i][col(layers, 'rankPca')], r.pca!.layers[i].rank, 'rank PCA');
      assertNumberCell(layers.rows[i][col(layers, 'effectiveFeatures')], l.effectiveFeatures, 'effective');
      assertNumberCell(layers.rows[i][col(layers, 'effectiveFeaturesPca')], r.pca!.layers[i].effectiveFeatures, 'effective PCA');
    });
    const edges = table(v, 'edges');
    assert.equal(edges.rows.length, r.edges.length + 1);
    r.edges.forEach((ed, i) => {
      assertNumberCell(edges.rows[i][col(edges, 'mass')], ed.mass, 'mass');
      assertNumberCell(edges.rows[i][col(edges, 'for90')], ed.for90, 'for90');
      assertNumberCell(edges.rows[i][col(edges, 'for99Pca')], r.pca!.edges[i].for99, 'for99 PCA');
    });
    const total = edges.rows[r.edges.length];
    assertNumberCell(total[col(edges, 'for90')], r.edgesFor90, 'edgesFor90');
    assertNumberCell(total[col(edges, 'for99')], r.edgesFor99, 'edgesFor99');
    assertNumberCell(total[col(edges, 'for90Pca')], r.pca!.edgesFor90, 'PCA edgesFor90');
    assertNumberCell(total[col(edges, 'for99Pca')], r.pca!.edgesFor99, 'PCA edgesFor99');
    assert.deepEqual(edges.marked, [r.edges.length]);
  });

  it('ablation curves per layer, LIB and PCA, nothing kept as a reference line', () => {
    const e = envelope('lib');
    const r = e.result as LibResult;
    const v = runView(run('lib', e));
    const c = chart(v, `ablation-${slug('/relu1/Relu_output_0')}`, 'line');
    const lib = r.ablation!.filter((a) => a.layer === '/relu1/Relu_output_0');
    assert.deepEqual(
      c.series.find((s) => s.key === 'lib')!.points.map((p) => [p.x, p.y]),
      lib.map((a) => [a.kept, a.accuracy]),
    );
    assert.ok(c.series.some((s) => s.key === 'pca'));
    assert.equal(c.x.scale, 'log');
    assert.deepEqual(c.refs, [{ axis: 'y', value: 0.1, label: '0 kept: 0.1' }]);
    assert.equal(table(v, 'ablation').rows.length, r.ablation!.length + r.pca!.ablation!.length);
  });
});

// ------------------------------------------------------------------------------------------------ attention

describe('results: attention', () => {
  it('the per-head heatmap holds each head’s value (rows = layers, cols = heads) for every metric', () => {
    const e = envelope('attention');
    const r = e.result as AttentionResult;
    const v = runView(run('attention', e));
    const hm = chart(v, 'head-sparsity', 'heatmap');
    assert.deepEqual(hm.rows, ['L0', 'L1']);
    assert.deepEqual(hm.cols, ['H0', 'H1', 'H2', 'H3']);
    assert.equal(hm.initial, 'fractionAbove');
    assert.deepEqual(
      hm.metrics.map((m) => m.key),
      ['fractionAbove', 'keysFor90', 'keysFor99', 'entropyKeys', 'sinkMass', 'fractionAboveInvT'],
    );
    for (const m of hm.metrics) {
      assert.equal(m.title, r.definitions[m.key]);
      for (const h of r.heads) assert.equal(m.values[h.layer][h.head], h[m.key as 'fractionAbove']);
    }
    assert.equal(v.metricChart, 'head-sparsity');
  });

  it('gated models start on connectivity; a missing head is null', () => {
    const e = envelope('attention');
    const r = e.result as AttentionResult;
    // A saved run is JSON, where a NaN arrives as null: the view must show it as missing, not as 0.
    r.heads.forEach((h, i) => ((h as { connectivity?: number | null }).connectivity = i === 3 ? null : 0.1 * i));
    r.heads.splice(5, 1);
    const hm = chart(runView(run('attention', e)), 'head-sparsity', 'heatmap');
    assert.equal(hm.initial, 'connectivity');
    const conn = hm.metrics.find((m) => m.key === 'connectivity')!;
    assert.equal(conn.values[0][3], null);
    assert.equal(conn.values[0][2], 0.2);
    assert.equal(conn.values[1][1], null);
  });

  it('layer table with the global row; token graph as one matrix per head (row = query, col = key)', () => {
    const e = envelope('attention');
    const r = e.result as AttentionResult;
    const v = runView(run('attention', e));
    const t = table(v, 'layers');
    assert.equal(t.rows.length, r.layers.length + 1);
    const g = t.rows[r.layers.length];
    assert.equal(g[0].v, 'global');
    assertNumberCell(g[col(t, 'sinkMass')], r.global.sinkMass, 'global sinkMass');
    assertNumberCell(t.rows[1][col(t, 'entropyKeys')], r.layers[1].entropyKeys, 'layer 1 entropy');
    assert.equal(t.columns.find((c) => c.key === 'keysFor90')!.title, r.definitions.keysFor90);
    const m = chart(v, 'token-attention-prompt-0', 'matrices');
    assert.equal(m.size, r.tokenGraph!.tokens.length);
    assert.equal(m.panels.length, r.tokenGraph!.heads.length);
    const e0 = r.tokenGraph!.heads[0].edges[1];
    assert.deepEqual(m.panels[0].cells[1], { row: e0.to, col: e0.from, value: e0.weight });
    assert.equal(m.labels[0], String(r.tokenGraph!.tokens[0]));
  });
});

// ------------------------------------------------------------------------------------------------ circuit

describe('results: circuit', () => {
  it('summary, size search with the target, edges by |score| with the circuit marked', () => {
    const e = envelope('circuit');
    const r = e.result as CircuitResult;
    const v = runView(run('circuit', e));
    const sum = table(v, 'summary');
    assertNumberCell(kv(sum, 'faithfulness'), r.circuit.faithfulness, 'faithfulness');
    assertNumberCell(kv(sum, 'metricClean'), r.circuit.metricClean, 'clean');
    assertNumberCell(kv(sum, 'metricCorrupt'), r.circuit.metricCorrupt, 'corrupt');
    assertNumberCell(kv(sum, 'edgeCount'), r.circuit.edgeCount, 'edgeCount');
    assertNumberCell(kv(sum, 'totalEdges'), r.totalEdges, 'totalEdges');
    assertNumberCell(kv(sum, 'fraction'), r.circuit.fraction, 'fraction');
    assert.equal(kv(sum, 'heads')!.csv, r.circuit.heads.join(', '));
    assert.equal(kv(sum, 'reachedTarget')!.v, true);

    const c = chart(v, 'size-search', 'line');
    assert.equal(c.x.scale, 'log');
    assert.deepEqual(
      c.series[0].points.map((p) => [p.x, p.y]),
      r.sizeSearch.map((s) => [s.n, s.faithfulness]),
    );
    assert.deepEqual(c.refs![0], { axis: 'y', value: 0.8, label: 'target 0.8' });
    assert.deepEqual(c.refs![1], { axis: 'x', value: 11, label: 'circuit (n = 11)' });

    const t = table(v, 'edges');
    assert.equal(t.rows.length, r.edges.length);
    const abs = t.rows.map((row) => row[col(t, 'absScore')].v as number);
    for (let i = 1; i < abs.length; i++) assert.ok(abs[i - 1] >= abs[i]);
    assert.deepEqual(
      t.rows.map((row) => row[col(t, 'score')].v),
      edgesByScore(r).map((x) => x.score),
    );
    assert.equal(t.marked!.length, r.circuit.edgeCount);
    for (const i of t.marked!) assert.ok(r.circuit.edges.includes(t.rows[i][col(t, 'id')].v as string));
    assert.equal(t.limit, 100);
    assert.equal(t.sortable, true);
  });

  it('validation Spearman when present', () => {
    const e = envelope('circuit');
    (e.result as CircuitResult).validation = { exactScores: [], top: 20, spearmanTop: { eap: 0.81, eapIg: 0.93 }, spearmanAll: { eap: 0.64, eapIg: 0.77 }, forwardPasses: 0, exactMs: 0, ms: 0 };
    const t = table(runView(run('circuit', e)), 'validation');
    assertNumberCell(t.rows[0][col(t, 'eapIg')], 0.93, 'top eapIg');
    assertNumberCell(t.rows[1][col(t, 'eap')], 0.64, 'all eap');
  });
});

// ------------------------------------------------------------------------------------------------ data-field cells

describe('cells marked with the result field they show (data-field, read by the e2e)', () => {
  const at = (o: unknown, p: string): unknown => p.split('.').reduce<unknown>((x, k) => (x === null || typeof x !== 'object' ? undefined : (x as Record<string, unknown>)[k]), o);
  it('every marked cell holds the number at its path in the run’s result', () => {
    let marked = 0;
    for (const name of NAMES) {
      const env = envelope(name);
      for (const t of tablesOf(runView(run(name, env)))) {
        for (const r of t.rows) {
          for (const c of r) {
            if (c.field === undefined) continue;
            marked++;
            const want = at(env.result, c.field);
            assert.equal(c.v, typeof want === 'number' ? want : null, `${name}/${t.slug}: ${c.field}`);
          }
        }
      }
    }
    assert.ok(marked >= 40, `expected at least 40 marked cells over the fixtures, found ${marked}`);
  });
  it('the headline numbers the e2e reads are each in exactly one cell of their table', () => {
    const cases: [Name, string, string][] = [
      ['collapse', 'metrics', 'nc1'],
      ['hash', 'metrics', 'codeBits'],
      ['redundancy', 'summary', 'criticalWidth'],
      ['lib', 'edges', 'edgesFor90'],
      ['circuit', 'summary', 'circuit.faithfulness'],
    ];
    for (const [name, slug, f] of cases) {
      const env = envelope(name);
      const cells = table(runView(run(name, env)), slug).rows.flat().filter((c) => c.field === f);
      assert.equal(cells.length, 1, `${name}/${slug}: cells for ${f}`);
      assert.equal(cells[0].v, at(env.result, f), `${name}/${slug}: ${f}`);
    }
  });
});
