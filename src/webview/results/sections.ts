/**
 * The tables and charts of each analysis, built from its envelope (the DESIGN.md result contract, typed in
 * src/shared/results.ts). Every number placed in a cell or a chart point is the envelope's own number; the
 * text is only its rounding (format.ts). Pure (no DOM): the unit tests check these against the real CLI
 * envelopes in test/fixtures/envelopes.
 */
import type {
  AttentionResult,
  CircuitResult,
  CollapseResult,
  HashResult,
  LibLayerResult,
  LibResult,
  RedundancyResult,
  Series,
  SparsityMetrics,
  AuthorsSource,
  CollapseAuthors,
  LibAuthors,
  RedundancyAuthors,
} from '../../shared/results';
import { fmtNum, slug } from './format';
import { bool, fieldCell, list, num, str, styleOf, type Cell, type Column, type Item, type LineChartSpec, type LineSeries, type RefLine, type Section, type TableSpec } from './spec';
import { spansDecades } from './ticks';

// ------------------------------------------------------------------------------------------------ shared

/** A field of a result object by name (the contract's field lists drive the tables). */
function field(obj: object, f: string): unknown {
  return (obj as Record<string, unknown>)[f];
}

function numField(obj: object, f: string): number | null | undefined {
  const v = field(obj, f);
  return typeof v === 'number' ? v : v === undefined ? undefined : null;
}

/** Short meanings of fields that have no entry in the run's `variants`. */
const DESCRIPTIONS: Record<string, string> = {
  classes: 'number of classes',
  samples: 'number of samples analysed (train split)',
  dim: 'feature dimension',
  accuracyTrain: 'network accuracy on the train split',
  accuracyTest: 'network accuracy on the test split',
  networkAccuracyTrain: 'network accuracy on the train split',
  networkAccuracyTest: 'network accuracy on the test split',
  features: 'the value analysed (the classifier’s input)',
  head: 'the classifier layer whose weights enter the W metrics',
  units: 'coded units (every channel × position of a convolution is one)',
  distinctTrain: 'distinct codes on the train split',
  distinctTest: 'distinct codes on the test split',
  width: 'live units of the layer (constant units dropped)',
  layerWidth: 'all units of the layer',
  droppedConstantUnits: 'units constant over train ∪ test, dropped before everything',
  clones: 'width / criticalWidth',
};

/** The `variants` entry describing a field: the field itself, else its stem without split/kind suffixes. */
export function variantFor(field: string, variants: Record<string, string> | undefined): string | undefined {
  if (!variants) return DESCRIPTIONS[field];
  let k = field;
  for (let i = 0; i < 4; i++) {
    if (variants[k]) return variants[k];
    const next = k.replace(/(Train|Test|Means|Weights|Raw|Accuracy|Std)$/, '');
    if (next === k || !next) break;
    k = next;
  }
  return DESCRIPTIONS[field];
}

function kvTable(slugName: string, title: string, rows: [string, Cell, string?][], note?: string): TableSpec {
  return {
    kind: 'table',
    slug: slugName,
    title,
    note,
    kv: true,
    columns: [
      { key: 'field', label: 'Field' },
      { key: 'value', label: 'Value', numeric: true },
    ],
    rows: rows.map(([field, cell, desc]) => [
      { v: field, text: field, title: desc, cls: 'code' },
      desc && cell.title === undefined ? { ...cell, title: desc } : cell,
    ]),
  };
}

/** Rows of named numeric fields of `obj` (optional fields left out when absent, null kept as "—"). */
function fieldRows(obj: object, fields: readonly string[], variants: Record<string, string> | undefined, optional: ReadonlySet<string> = new Set()): [string, Cell, string?][] {
  const rec = obj as Record<string, unknown>;
  const rows: [string, Cell, string?][] = [];
  for (const f of fields) {
    const v = rec[f];
    if (v === undefined && optional.has(f)) continue;
    const desc = variantFor(f, variants);
    rows.push([f, fieldCell(f, num(typeof v === 'number' ? v : null, desc)), desc]);
  }
  return rows;
}

// ------------------------------------------------------------------------------------------------ authors

/** The section title and note shared by every analysis's "Authors' conventions" (ANALYSES.md §6). */
function authorsSection(a: AuthorsSource, items: Item[]): Section {
  return {
    title: 'Authors’ conventions',
    badge: a.repository,
    note: `The same quantities as the papers’ own code computes them (${a.repository} @ ${a.commit.slice(0, 7)}), beside ours; our conventions stay the headline numbers above. Hover a value for the file and function it follows.`,
    items,
  };
}

/** One row per field: ours, the authors', and what the authors' reading follows. */
function authorsRows(pairs: [string, number | null | undefined, number | null | undefined, string | undefined, string | undefined][]): Cell[][] {
  return pairs.map(([f, ours, theirs, oursDesc, follows]) => [str(f, undefined, 'code'), num(ours ?? null, oursDesc), num(theirs ?? null, follows), str(follows ?? '')]);
}

const AUTHORS_COLUMNS: Column[] = [
  { key: 'field', label: 'field' },
  { key: 'ours', label: 'ours', numeric: true, title: 'our convention (the headline number)' },
  { key: 'authors', label: 'authors’', numeric: true, title: 'the authors’ convention' },
  { key: 'follows', label: 'follows', title: 'the authors’ file and function' },
];

export function collapseAuthorsSection(r: CollapseResult, a: CollapseAuthors): Section {
  const v = r.variants;
  const pairs: [string, number | null | undefined, number | null | undefined, string | undefined, string | undefined][] = [
    ['nccMismatchTrain', r.nccMismatchTrain, a.nccMismatchTrain, variantFor('nccMismatchTrain', v), a.follows.nccMismatch],
    ...(a.nccMismatchTest !== undefined ? [['nccMismatchTest', r.nccMismatchTest, a.nccMismatchTest, variantFor('nccMismatchTest', v), a.follows.nccMismatch] as [string, number | null | undefined, number | null | undefined, string | undefined, string | undefined]] : []),
    ['equiangularityMeans', r.equiangularityMeans, a.equiangularityMeans, variantFor('equiangularityMeans', v), a.follows.equiangularity],
    ['equiangularityWeights', r.equiangularityWeights, a.equiangularityWeights, variantFor('equiangularityWeights', v), a.follows.equiangularity],
  ];
  const table: TableSpec = {
    kind: 'table',
    slug: 'authors',
    title: `Ours and ${a.repository}`,
    note: 'NCC mismatch: the classifier without its bias (argmax W h). Equiangularity: the population variance of the cosines over the C(C−1)/2 unordered pairs (ours: the n−1 standard deviation over the C(C−1) ordered pairs).',
    columns: AUTHORS_COLUMNS,
    rows: authorsRows(pairs),
  };
  return authorsSection(a, [table]);
}

export function redundancyAuthorsSection(r: RedundancyResult, a: RedundancyAuthors): Section {
  const v = r.variants;
  const summary: TableSpec = {
    kind: 'table',
    slug: 'authors-summary',
    title: `Ours and ${a.repository}`,
    note: `Their grid W // 2^i over all ${a.width} units (ours: 1, 2, 4, … over the ${r.width} live units); their residual correlation averages all pairs of units, pairs inside the chunk included.`,
    columns: AUTHORS_COLUMNS,
    rows: authorsRows([
      ['width', r.width, a.width, DESCRIPTIONS.width, 'all units of the layer (analysis_repr.py width_tot)'],
      ['criticalWidth', r.criticalWidth, a.criticalWidth, variantFor('criticalWidth', v), a.follows.criticalWidth],
      ['clones', r.clones, a.clones, DESCRIPTIONS.clones, a.follows.criticalWidth],
    ]),
  };
  const chunks: TableSpec = {
    kind: 'table',
    slug: 'authors-chunks',
    title: 'Chunks on the authors’ grid',
    note: a.draws,
    sortable: true,
    columns: [
      { key: 'size', label: 'size', numeric: true, title: a.follows.chunks },
      { key: 'accuracyTrain', label: 'accuracyTrain', numeric: true, title: a.follows.accuracy },
      { key: 'accuracyTest', label: 'accuracyTest', numeric: true, title: a.follows.accuracy },
      { key: 'r2', label: 'r2', numeric: true, title: a.follows.r2 },
      { key: 'residualCorrelation', label: 'residualCorrelation', numeric: true, title: a.follows.residualCorrelation },
    ],
    rows: a.chunks.map((c) => [num(c.size), num(c.accuracyTrain), num(c.accuracyTest), num(c.r2), num(c.residualCorrelation)]),
  };
  return authorsSection(a, [summary, chunks]);
}

export function libAuthorsSection(r: LibResult, a: LibAuthors): Section {
  const table: TableSpec = {
    kind: 'table',
    slug: 'authors',
    title: `Λ of the constant direction: ours and ${a.repository}`,
    note: 'rib carries the appended 1 through the activation (the next layer’s 1 is act(1)), so its constant direction has a Jacobian to the previous layer’s; every other Λ, basis vector and edge is the same in both.',
    columns: [
      { key: 'layer', label: 'layer' },
      { key: 'ours', label: 'Λ₀ ours', numeric: true, csvLabel: 'lambda0Ours', title: 'ours: the constant has no Jacobian to earlier layers' },
      { key: 'authors', label: 'Λ₀ rib', numeric: true, csvLabel: 'lambda0Rib', title: a.follows.lambda0 },
      { key: 'reason', label: 'note' },
    ],
    rows: a.layers.map((l) => {
      const ours = r.layers.find((x) => x.name === l.name);
      return [str(l.name, undefined, 'code'), num(ours?.folded ? ours.lambdas[0] : null), num(l.lambda0, a.follows.lambda0), str(l.reason ?? '')];
    }),
  };
  return authorsSection(a, [table]);
}

function metricColumns(fields: readonly string[], variants: Record<string, string> | undefined): Column[] {
  return fields.map((f) => ({ key: f, label: f, title: variantFor(f, variants), numeric: true }));
}

/** Series rows in checkpoint order (stable; rows without a checkpoint keep their place after the numbered ones). */
export function sortSeries<R extends { checkpoint: number | null }>(series: readonly R[]): R[] {
  return series
    .map((r, i) => ({ r, i }))
    .sort((a, b) => {
      const ca = a.r.checkpoint;
      const cb = b.r.checkpoint;
      if (ca === null && cb === null) return a.i - b.i;
      if (ca === null) return 1;
      if (cb === null) return -1;
      return ca - cb || a.i - b.i;
    })
    .map((x) => x.r);
}

/** The x of each series row: the checkpoint number when every row has a positive one, else 1, 2, 3… */
function seriesX<R extends { checkpoint: number | null; model: string }>(rows: readonly R[]): { xs: number[]; label: string; scale: 'log' | 'category'; categories?: string[] } {
  if (rows.length && rows.every((r) => r.checkpoint !== null && r.checkpoint > 0)) return { xs: rows.map((r) => r.checkpoint as number), label: 'checkpoint', scale: 'log' };
  return { xs: rows.map((_, i) => i), label: 'model', scale: 'category', categories: rows.map((r) => r.model) };
}

/**
 * Line series for `fields` over the series rows. A metric that is null for every row is left out (and
 * reported in `undefinedFields`): a line of gaps tells nothing.
 */
function metricLines<R extends object>(rows: readonly R[], xs: number[], labels: string[], fields: readonly string[], variants: Record<string, string> | undefined, visible: ReadonlySet<string> | undefined): { series: LineSeries[]; undefinedFields: string[] } {
  const series: LineSeries[] = [];
  const undefinedFields: string[] = [];
  // Colour slots go to the initially visible lines first, so that those six get distinct colours.
  const ordered = visible ? [...fields.filter((f) => visible.has(f)), ...fields.filter((f) => !visible.has(f))] : [...fields];
  const slotOf = new Map<string, number>();
  for (const f of fields) {
    const ys = rows.map((r) => field(r, f));
    if (ys.every((y) => y === undefined)) continue;
    if (ys.every((y) => typeof y !== 'number')) {
      undefinedFields.push(f);
      continue;
    }
    series.push({
      key: f,
      label: f,
      title: variantFor(f, variants),
      points: ys.map((y, j) => ({ x: xs[j], y: typeof y === 'number' ? y : null, label: labels[j] })),
      ...styleOf(0),
      hidden: visible ? !visible.has(f) : undefined,
    });
  }
  for (const f of ordered) if (series.some((x) => x.key === f)) slotOf.set(f, slotOf.size);
  for (const x of series) Object.assign(x, styleOf(slotOf.get(x.key) ?? 0));
  return { series, undefinedFields };
}

function yScaleFor(series: readonly LineSeries[]): 'linear' | 'log' {
  return spansDecades(series.filter((s) => !s.hidden).flatMap((s) => s.points.map((p) => p.y))) ? 'log' : 'linear';
}

/** A line chart of metrics over the models of a series (one line per field; y log when it spans decades unless `y` is given). */
function seriesChart<R extends object & { model: string }>(
  rows: readonly R[],
  x: { xs: number[]; label: string; scale: 'log' | 'category'; categories?: string[] },
  spec: { slug: string; title: string; fields: readonly string[]; variants: Record<string, string> | undefined; visible?: ReadonlySet<string>; y?: LineChartSpec['y'] },
): LineChartSpec {
  const { series, undefinedFields } = metricLines(rows, x.xs, rows.map((r) => r.model), spec.fields, spec.variants, spec.visible);
  return {
    kind: 'line',
    slug: spec.slug,
    title: spec.title,
    note: undefinedNote(undefinedFields),
    x: { label: x.label, scale: x.scale, categories: x.categories },
    y: spec.y ?? { label: 'value', scale: yScaleFor(series) },
    series,
  };
}

function undefinedNote(fields: string[]): string | undefined {
  return fields.length ? `Not drawn (undefined for every model of this run): ${fields.join(', ')}.` : undefined;
}

// ------------------------------------------------------------------------------------------------ collapse

export const COLLAPSE_FIELDS = [
  'classes',
  'samples',
  'dim',
  'accuracyTrain',
  'accuracyTest',
  'nc1',
  'nc1TraceRatio',
  'cdnv',
  'equinormMeans',
  'equinormWeights',
  'equiangularityMeans',
  'equiangularityWeights',
  'maxAngleMeans',
  'maxAngleWeights',
  'etfDistanceMeans',
  'etfDistanceWeights',
  'selfDuality',
  'selfDualityEtf',
  'nccMismatchTrain',
  'nccMismatchTest',
  'nccAccuracyTrain',
  'nccAccuracyTest',
] as const;
const COLLAPSE_OPTIONAL = new Set(['accuracyTest', 'nccMismatchTest', 'nccAccuracyTrain', 'nccAccuracyTest']);

/** The classifier-free metrics drawn over layers (the order of the legend). */
export const COLLAPSE_LAYER_FIELDS = ['nc1', 'nc1TraceRatio', 'cdnv', 'equinormMeans', 'equiangularityMeans', 'maxAngleMeans', 'etfDistanceMeans', 'nccAccuracyTrain', 'nccAccuracyTest'] as const;
const COLLAPSE_LAYER_HIDDEN = new Set(['maxAngleMeans']);
const COLLAPSE_SERIES_VISIBLE = new Set(['nc1', 'nc1TraceRatio', 'cdnv', 'etfDistanceMeans', 'selfDuality', 'nccMismatchTrain', 'accuracyTest']);

/**
 * The x slots of "NC metrics over layers": every hidden layer in graph order, then the features layer
 * (its metrics are the run's top-level ones) unless it is already the last of them.
 */
export function collapseLayerRows(r: CollapseResult): { layer: string; values: Record<string, number | null> }[] {
  const rows = r.layers.map((l) => ({ layer: l.layer, values: Object.fromEntries(COLLAPSE_LAYER_FIELDS.map((f) => [f, field(l, f) ?? null])) as Record<string, number | null> }));
  if (!r.layers.some((l) => l.layer === r.features)) {
    const top = r as unknown as Record<string, unknown>;
    rows.push({ layer: r.features, values: Object.fromEntries(COLLAPSE_LAYER_FIELDS.map((f) => [f, typeof top[f] === 'number' ? (top[f] as number) : null])) });
  }
  return rows;
}

export function collapseSections(r: CollapseResult): Section[] {
  const v = r.variants;
  const head = r.head ? `${r.head.node} (${r.head.opType}, ${r.head.weight}${r.head.bias ? ` + ${r.head.bias}` : ''})` : null;
  const metrics = kvTable('metrics', 'Collapse metrics', [
    ['features', str(r.features, undefined, 'code'), DESCRIPTIONS.features],
    ['head', str(head, undefined, 'code'), DESCRIPTIONS.head],
    ...fieldRows(r, COLLAPSE_FIELDS, v, COLLAPSE_OPTIONAL),
  ]);
  const sections: Section[] = [{ title: 'Metrics', items: [metrics] }];
  const rows = collapseLayerRows(r);
  if (r.layers.length) {
    const xs = rows.map((_, i) => i);
    const labels = rows.map((x) => x.layer);
    const fields = COLLAPSE_LAYER_FIELDS.filter((f) => rows.some((x) => x.values[f] !== null && x.values[f] !== undefined));
    const colourOrder = [...fields.filter((f) => !COLLAPSE_LAYER_HIDDEN.has(f)), ...fields.filter((f) => COLLAPSE_LAYER_HIDDEN.has(f))];
    const series: LineSeries[] = fields.map((f) => ({
      key: f,
      label: f,
      title: variantFor(f, v),
      points: rows.map((x, j) => ({ x: xs[j], y: x.values[f] ?? null, label: labels[j] })),
      ...styleOf(colourOrder.indexOf(f)),
      hidden: COLLAPSE_LAYER_HIDDEN.has(f) || undefined,
    }));
    const chart: LineChartSpec = {
      kind: 'line',
      slug: 'nc-over-layers',
      title: 'NC metrics over layers',
      note: `Classifier-free metrics of every hidden layer in graph order${r.layers.some((l) => l.layer === r.features) ? '' : ', then the features layer'}.`,
      x: { label: 'layer', scale: 'category', categories: labels },
      y: { label: 'value', scale: 'linear' },
      series,
      metricLegend: true,
    };
    chart.y.scale = yScaleFor(series);
    const layerFields = ['dim', ...COLLAPSE_LAYER_FIELDS] as const;
    const table: TableSpec = {
      kind: 'table',
      slug: 'layers',
      title: 'Metrics per layer',
      sortable: true,
      columns: [{ key: 'layer', label: 'layer' }, ...metricColumns(layerFields, v)],
      rows: r.layers.map((l) => [str(l.layer, undefined, 'code'), ...layerFields.map((f) => num(numField(l, f), undefined))]),
    };
    sections.push({ title: 'Over layers', items: [chart, table] });
  }
  if (r.authors) sections.push(collapseAuthorsSection(r, r.authors));
  return sections;
}

export function collapseSeriesSections(s: Series<CollapseResult>): Section[] {
  const rows = sortSeries(s.series);
  const v = s.variants;
  const x = seriesX(rows);
  const fields = COLLAPSE_FIELDS.filter((f) => !['classes', 'samples', 'dim'].includes(f));
  const chart = seriesChart(rows, x, { slug: 'metrics-over-checkpoints', title: 'Collapse metrics over checkpoints', fields, variants: v, visible: COLLAPSE_SERIES_VISIBLE });
  const cols = COLLAPSE_FIELDS.filter((f) => !COLLAPSE_OPTIONAL.has(f) || rows.some((r) => field(r, f) !== undefined));
  const table: TableSpec = {
    kind: 'table',
    slug: 'series',
    title: 'Metrics per checkpoint',
    sortable: true,
    columns: [{ key: 'model', label: 'model' }, { key: 'checkpoint', label: 'checkpoint', numeric: true }, ...metricColumns(cols, v)],
    rows: rows.map((r) => [str(r.model, undefined, 'code'), num(r.checkpoint), ...cols.map((f) => num(numField(r, f)))]),
  };
  return [{ title: 'Over checkpoints', items: [chart, table] }];
}

// ------------------------------------------------------------------------------------------------ hash

export const HASH_FIELDS = [
  'units',
  'codeBitsRaw',
  'codeBits',
  'distinctTrain',
  'distinctTest',
  'redundancyRatioTrain',
  'redundancyRatioTest',
  'kmeansAccuracyTrain',
  'kmeansAccuracyTest',
  'knnAccuracy',
  'logisticAccuracy',
  'networkAccuracyTrain',
  'networkAccuracyTest',
] as const;
/** The phase chart's lines (Hash codes paper: redundancy ratio and probe accuracies against width). */
export const HASH_PHASE_FIELDS = ['redundancyRatioTrain', 'redundancyRatioTest', 'knnAccuracy', 'logisticAccuracy', 'kmeansAccuracyTrain', 'kmeansAccuracyTest', 'networkAccuracyTest', 'networkAccuracyTrain'] as const;

function bySampleSizeChart(lines: { key: string; label: string; rows: NonNullable<HashResult['bySampleSize']> }[]): LineChartSpec {
  const series: LineSeries[] = lines.map((l, i) => ({
    key: l.key,
    label: l.label,
    points: l.rows.map((b) => ({ x: b.samples, y: b.redundancyRatio, label: `${b.distinct} distinct codes` })),
    ...styleOf(i),
  }));
  return {
    kind: 'line',
    slug: 'redundancy-by-sample-size',
    title: 'Redundancy ratio by sample size',
    note: 'Train redundancy ratio on the first n samples.',
    x: { label: 'samples', scale: 'log' },
    y: { label: 'redundancy ratio (train)', scale: 'linear' },
    series,
  };
}

function bySampleSizeTable(rows: { model?: string; b: NonNullable<HashResult['bySampleSize']>[number] }[]): TableSpec {
  const withModel = rows.some((r) => r.model !== undefined);
  return {
    kind: 'table',
    slug: 'by-sample-size',
    title: 'Redundancy by sample size',
    sortable: true,
    columns: [...(withModel ? [{ key: 'model', label: 'model' }] : []), { key: 'samples', label: 'samples', numeric: true }, { key: 'distinct', label: 'distinct', numeric: true }, { key: 'redundancyRatio', label: 'redundancyRatio', numeric: true }],
    rows: rows.map((r) => [...(withModel ? [str(r.model ?? null, undefined, 'code')] : []), num(r.b.samples), num(r.b.distinct), num(r.b.redundancyRatio)]),
  };
}

export function hashSections(r: HashResult): Section[] {
  const v = r.variants;
  const metrics = kvTable('metrics', 'Hash-code metrics', [['layers', list(r.layers), 'the coded values, in code order'], ...fieldRows(r, HASH_FIELDS, v)]);
  const acts: TableSpec = {
    kind: 'table',
    slug: 'activations',
    title: 'Coded activations',
    columns: [
      { key: 'layer', label: 'layer' },
      { key: 'node', label: 'node' },
      { key: 'op', label: 'op' },
      { key: 'units', label: 'units', numeric: true },
      { key: 'piecewiseLinear', label: 'piecewise linear', title: 'whether the activation is piecewise linear (the code is then its linear region)' },
    ],
    rows: r.activations.map((a) => [str(a.layer, undefined, 'code'), str(a.node, undefined, 'code'), str(a.op), num(a.units), bool(a.piecewiseLinear)]),
  };
  const sections: Section[] = [{ title: 'Metrics', items: [metrics, acts] }];
  if (r.bySampleSize?.length) sections.push({ title: 'By sample size', items: [bySampleSizeChart([{ key: 'redundancyRatio', label: 'redundancyRatio (train)', rows: r.bySampleSize }]), bySampleSizeTable(r.bySampleSize.map((b) => ({ b })))] });
  return sections;
}

export function hashSeriesSections(s: Series<HashResult>): Section[] {
  const rows = sortSeries(s.series);
  const v = s.variants;
  // The phase chart's x is the width (units); a checkpoint series of one width falls back to checkpoints.
  const units = rows.map((r) => r.units);
  const distinctUnits = new Set(units).size === units.length && units.every((u) => u > 0);
  const x = distinctUnits ? { xs: units, label: 'units (coded width)', scale: 'log' as const, categories: undefined } : seriesX(rows);
  const chart = seriesChart(rows, x, {
    slug: 'phase',
    title: 'Phase chart',
    fields: HASH_PHASE_FIELDS,
    variants: v,
    visible: new Set(HASH_PHASE_FIELDS.filter((f) => f !== 'networkAccuracyTrain')),
    // Ratios and accuracies in [0, 1]: linear, as in the paper's phase plots (the log y toggle is there).
    y: { label: 'ratio / accuracy', scale: 'linear' },
  });
  const table: TableSpec = {
    kind: 'table',
    slug: 'series',
    title: 'Metrics per model',
    sortable: true,
    columns: [{ key: 'model', label: 'model' }, { key: 'checkpoint', label: 'checkpoint', numeric: true }, ...metricColumns(HASH_FIELDS, v)],
    rows: rows.map((r) => [str(r.model, undefined, 'code'), num(r.checkpoint), ...HASH_FIELDS.map((f) => num(r[f]))]),
  };
  const sections: Section[] = [{ title: 'Over models', items: [chart, table] }];
  const withSizes = rows.filter((r) => r.bySampleSize?.length);
  if (withSizes.length) {
    sections.push({
      title: 'By sample size',
      items: [
        bySampleSizeChart(withSizes.map((r) => ({ key: r.model, label: r.model, rows: r.bySampleSize! }))),
        bySampleSizeTable(withSizes.flatMap((r) => r.bySampleSize!.map((b) => ({ model: r.model, b })))),
      ],
    });
  }
  return sections;
}

// ------------------------------------------------------------------------------------------------ redundancy

export function redundancySections(r: RedundancyResult): Section[] {
  const v = r.variants;
  const critical = r.criticalWidths ? Object.entries(r.criticalWidths).map(([k, w]) => [`criticalWidth (R² ≥ ${k})`, num(w), variantFor('criticalWidth', v)] as [string, Cell, string?]) : [];
  const summary = kvTable('summary', 'Summary', [
    ['layer', str(r.layer, undefined, 'code'), 'the analysed layer'],
    ...fieldRows(r, ['width', 'layerWidth', 'droppedConstantUnits', 'criticalWidth', 'clones'], v, new Set(['layerWidth'])),
    ...critical,
    ...fieldRows(r, ['networkAccuracyTrain', 'networkAccuracyTest'], v),
    ...(r.groups ? [['groups (our extension)', num(r.groups.count), r.groups.label] as [string, Cell, string?]] : []),
  ]);
  const chunks = r.chunks;
  const pts = (f: 'accuracyTrain' | 'accuracyTest' | 'r2' | 'residualCorrelation', std?: 'accuracyTestStd' | 'r2Std') =>
    chunks.map((c) => {
      const y = c[f];
      const sd = std ? c[std] : undefined;
      return { x: c.size, y, lo: y !== null && typeof sd === 'number' ? y - sd : null, hi: y !== null && typeof sd === 'number' ? y + sd : null };
    });
  const hasStd = (k: 'accuracyTestStd' | 'r2Std'): boolean => chunks.some((c) => typeof c[k] === 'number');
  const series: LineSeries[] = [
    { key: 'accuracyTrain', label: 'accuracyTrain', title: variantFor('accuracy', v), points: pts('accuracyTrain'), ...styleOf(0) },
    { key: 'accuracyTest', label: hasStd('accuracyTestStd') ? 'accuracyTest ± std' : 'accuracyTest', title: variantFor('accuracy', v), points: pts('accuracyTest', 'accuracyTestStd'), ...styleOf(1), band: hasStd('accuracyTestStd') },
    { key: 'r2', label: hasStd('r2Std') ? 'R² ± std' : 'R²', title: variantFor('r2', v), points: pts('r2', 'r2Std'), ...styleOf(2), band: hasStd('r2Std') },
    { key: 'residualCorrelation', label: 'residualCorrelation', title: variantFor('residualCorrelation', v), points: pts('residualCorrelation'), ...styleOf(3) },
  ];
  const refs: RefLine[] = [{ axis: 'y', value: 0.95, label: 'R² = 0.95' }];
  if (r.criticalWidth !== null) refs.push({ axis: 'x', value: r.criticalWidth, label: `critical width ${r.criticalWidth}` });
  const chart: LineChartSpec = {
    kind: 'line',
    slug: 'redundancy-curves',
    title: 'Redundancy curves',
    note: `Random chunks of w live units out of ${r.width}. Critical width = smallest chunk with mean R² ≥ 0.95${r.criticalWidth === null ? ' (not reached)' : ''}.`,
    x: { label: 'chunk size (units)', scale: 'log2' },
    y: { label: 'accuracy / R² / |corr|', scale: 'linear' },
    series,
    refs,
  };
  const table: TableSpec = {
    kind: 'table',
    slug: 'chunks',
    title: 'Chunks',
    sortable: true,
    columns: metricColumns(['size', 'accuracyTrain', 'accuracyTest', 'accuracyTestStd', 'r2', 'r2Std', 'residualCorrelation'], v),
    rows: chunks.map((c) => [num(c.size), num(c.accuracyTrain), num(c.accuracyTest), num(c.accuracyTestStd), num(c.r2), num(c.r2Std), num(c.residualCorrelation)]),
  };
  const sections: Section[] = [
    { title: 'Summary', items: [summary] },
    { title: 'Redundancy curves', items: [chart, table] },
  ];
  if (r.groups) sections.push(groupsSection(r.groups));
  if (r.authors) sections.push(redundancyAuthorsSection(r, r.authors));
  return sections;
}

/** The neuron groups, labelled as our extension (not part of Doimo et al.'s method). */
export function groupsSection(g: NonNullable<RedundancyResult['groups']>): Section {
  const members: number[][] = g.sizes.map(() => []);
  g.assignment.forEach((grp, unit) => {
    if (grp >= 0 && grp < members.length) members[grp].push(unit);
  });
  const table: TableSpec = {
    kind: 'table',
    slug: 'groups',
    title: 'Neuron groups (our extension)',
    limit: 50,
    note: `${g.method}; cut at ${g.threshold}.`,
    sortable: true,
    columns: [
      { key: 'group', label: 'group', numeric: true },
      { key: 'size', label: 'size', numeric: true },
      { key: 'cohesion', label: 'cohesion', numeric: true, title: 'mean |corr| between the group’s units' },
      { key: 'units', label: 'units', title: 'unit indices in the layer' },
    ],
    rows: g.sizes.map((size, i) => [num(i), num(size), num(g.cohesion[i] ?? null), list(members[i])]),
  };
  return { title: 'Neuron groups', badge: 'our extension', note: g.label, items: [table] };
}

export function redundancySeriesSections(s: Series<RedundancyResult>): Section[] {
  const rows = sortSeries(s.series);
  const v = s.variants;
  const x = seriesX(rows);
  const chart = seriesChart(rows, x, { slug: 'clones-over-checkpoints', title: 'Clones and critical width over checkpoints', fields: ['clones', 'criticalWidth'], variants: v });
  const fields = ['width', 'droppedConstantUnits', 'criticalWidth', 'clones', 'networkAccuracyTrain', 'networkAccuracyTest'] as const;
  const table: TableSpec = {
    kind: 'table',
    slug: 'series',
    title: 'Per checkpoint',
    sortable: true,
    columns: [{ key: 'model', label: 'model' }, { key: 'checkpoint', label: 'checkpoint', numeric: true }, { key: 'layer', label: 'layer' }, ...metricColumns(fields, v)],
    rows: rows.map((r) => [str(r.model, undefined, 'code'), num(r.checkpoint), str(r.layer, undefined, 'code'), ...fields.map((f) => num(r[f]))]),
  };
  return [{ title: 'Over checkpoints', items: [chart, table] }];
}

// ------------------------------------------------------------------------------------------------ lib

/**
 * A layer's Λ sorted descending, for the spectrum. `lambdas` are stored in basis order with the constant
 * direction first when the bias was folded; that direction is not a feature, so it is left out here (and
 * returned separately for the caption).
 */
export function sortedSpectrum(l: LibLayerResult): { values: number[]; constant: number | null } {
  const folded = l.folded === true && l.lambdas.length > 0;
  const values = (folded ? l.lambdas.slice(1) : l.lambdas.slice()).sort((a, b) => b - a);
  return { values, constant: folded ? l.lambdas[0] : null };
}

export function libSections(r: LibResult): Section[] {
  const pca = r.pca;
  const pcaLayer = (name: string): LibLayerResult | undefined => pca?.layers.find((l) => l.name === name);
  const layersTable: TableSpec = {
    kind: 'table',
    slug: 'layers',
    title: 'Node layers',
    note: r.nodeLayers.how,
    sortable: true,
    columns: [
      { key: 'name', label: 'layer' },
      { key: 'dim', label: 'dim', numeric: true },
      { key: 'rank', label: 'rank LIB', numeric: true, csvLabel: 'rankLib', title: 'kept LIB directions (constant direction included when folded)' },
      ...(pca ? [{ key: 'rankPca', label: 'rank PCA', numeric: true, csvLabel: 'rankPca' }] : []),
      { key: 'effectiveFeatures', label: 'effective LIB', numeric: true, csvLabel: 'effectiveFeaturesLib', title: 'directions with Λ > 1e-3·Λmax, constant direction excluded' },
      ...(pca ? [{ key: 'effectiveFeaturesPca', label: 'effective PCA', numeric: true, csvLabel: 'effectiveFeaturesPca' }] : []),
      { key: 'folded', label: 'bias folded', title: 'a constant direction was added for the bias (first in basis order)' },
    ],
    rows: r.layers.map((l) => {
      const p = pcaLayer(l.name);
      return [str(l.name, undefined, 'code'), num(l.dim), num(l.rank), ...(pca ? [num(p?.rank ?? null)] : []), num(l.effectiveFeatures), ...(pca ? [num(p?.effectiveFeatures ?? null)] : []), bool(l.folded ?? false)];
    }),
  };

  const spectra: LineChartSpec[] = r.layers.map((l) => {
    const lib = sortedSpectrum(l);
    const p = pcaLayer(l.name);
    const pc = p ? sortedSpectrum(p) : undefined;
    const toPts = (vals: number[]) => vals.map((y, i) => ({ x: i + 1, y: y > 0 ? y : null }));
    const series: LineSeries[] = [{ key: 'lib', label: 'LIB Λ', points: toPts(lib.values), ...styleOf(0) }];
    if (pc) series.push({ key: 'pca', label: 'PCA eigenvalues', points: toPts(pc.values), ...styleOf(1), dash: 'dash' });
    const nonPositive = [...lib.values, ...(pc?.values ?? [])].filter((y) => !(y > 0)).length;
    const maxRank = Math.max(lib.values.length, pc?.values.length ?? 0);
    const notes = ['Sorted in descending order (the run stores Λ in basis order).'];
    if (lib.constant !== null) notes.push(`Constant (bias) direction left out (LIB Λ = ${fmtNum(lib.constant)}${pc?.constant != null ? `, PCA ${fmtNum(pc.constant)}` : ''}).`);
    if (pc && pc.values.length === lib.values.length && pc.values.every((y, i) => Math.abs(y - lib.values[i]) <= 1e-9 * Math.abs(y))) notes.push('LIB and PCA spectra coincide here.');
    if (nonPositive) notes.push(`${nonPositive} value(s) ≤ 0 not drawn on the log axis.`);
    return {
      kind: 'line',
      slug: `spectrum-${slug(l.name)}`,
      title: `Λ spectrum — ${l.name}`,
      note: notes.join(' '),
      x: { label: 'rank index', scale: maxRank > 50 ? 'log' : 'linear' },
      y: { label: 'Λ', scale: 'log' },
      series,
    };
  });

  const pcaEdges = (from: string, to: string) => pca?.edges.find((e) => e.from === from && e.to === to);
  const edgeRows: Cell[][] = r.edges.map((e) => {
    const p = pcaEdges(e.from, e.to);
    return [str(e.from, undefined, 'code'), str(e.to, undefined, 'code'), str(`${e.rows}×${e.cols}`, 'rank of `to` × rank of `from`'), num(e.mass ?? null), ...(pca ? [num(p?.mass ?? null)] : []), num(e.for90 ?? null), ...(pca ? [num(p?.for90 ?? null)] : []), num(e.for99 ?? null), ...(pca ? [num(p?.for99 ?? null)] : [])];
  });
  const total: Cell[] = [str('all layer pairs'), str(''), str(''), str(''), ...(pca ? [str('')] : []), fieldCell('edgesFor90', num(r.edgesFor90)), ...(pca ? [fieldCell('pca.edgesFor90', num(pca.edgesFor90))] : []), fieldCell('edgesFor99', num(r.edgesFor99)), ...(pca ? [fieldCell('pca.edgesFor99', num(pca.edgesFor99))] : [])];
  const edgesTable: TableSpec = {
    kind: 'table',
    slug: 'edges',
    title: 'Edges per layer pair',
    note: 'for90/for99: the fewest edges holding 90%/99% of the edge mass (constant node excluded); the last row is over all pairs.',
    columns: [
      { key: 'from', label: 'from' },
      { key: 'to', label: 'to' },
      { key: 'shape', label: 'rows×cols' },
      { key: 'mass', label: 'mass LIB', numeric: true, csvLabel: 'massLib' },
      ...(pca ? [{ key: 'massPca', label: 'mass PCA', numeric: true, csvLabel: 'massPca' }] : []),
      { key: 'for90', label: 'for90 LIB', numeric: true, csvLabel: 'for90Lib' },
      ...(pca ? [{ key: 'for90Pca', label: 'for90 PCA', numeric: true, csvLabel: 'for90Pca' }] : []),
      { key: 'for99', label: 'for99 LIB', numeric: true, csvLabel: 'for99Lib' },
      ...(pca ? [{ key: 'for99Pca', label: 'for99 PCA', numeric: true, csvLabel: 'for99Pca' }] : []),
    ],
    rows: [...edgeRows, total],
    marked: [edgeRows.length],
  };

  const sections: Section[] = [
    { title: 'Node layers', items: [layersTable] },
    { title: 'Λ spectra', note: pca ? 'LIB Λ against the PCA eigenvalues of the same layer (the baseline).' : undefined, items: spectra },
    { title: 'Edges', items: [edgesTable] },
  ];

  if (r.ablation?.length || pca?.ablation?.length) {
    const names = [...new Set([...(r.ablation ?? []), ...(pca?.ablation ?? [])].map((a) => a.layer))];
    const charts: LineChartSpec[] = names.map((name) => {
      const series: LineSeries[] = [];
      const lib = (r.ablation ?? []).filter((a) => a.layer === name);
      const pc = (pca?.ablation ?? []).filter((a) => a.layer === name);
      if (lib.length) series.push({ key: 'lib', label: 'LIB', points: lib.map((a) => ({ x: a.kept, y: a.accuracy })), ...styleOf(0) });
      if (pc.length) series.push({ key: 'pca', label: 'PCA', points: pc.map((a) => ({ x: a.kept, y: a.accuracy })), ...styleOf(1), dash: 'dash' });
      // kept runs 0, 1, 2, 4, … up to the rank (hundreds for PCA): a log x axis, with "nothing kept" (not
      // drawable there) as a reference line.
      const zero = [...new Set([...lib, ...pc].filter((a) => a.kept === 0).map((a) => a.accuracy))];
      const refs: RefLine[] = zero.map((acc) => ({ axis: 'y', value: acc, label: `0 kept: ${fmtNum(acc)}` }));
      const positive = [...lib, ...pc].some((a) => a.kept > 0);
      return {
        kind: 'line',
        slug: `ablation-${slug(name)}`,
        title: `Ablation — ${name}`,
        note: 'Accuracy when only the strongest k directions of this layer are kept.',
        x: { label: 'directions kept', scale: positive ? 'log' : 'linear' },
        y: { label: 'accuracy', scale: 'linear' },
        series,
        refs,
      };
    });
    const table: TableSpec = {
      kind: 'table',
      slug: 'ablation',
      title: 'Ablation',
      sortable: true,
      limit: 40,
      columns: [
        { key: 'layer', label: 'layer' },
        { key: 'method', label: 'basis' },
        { key: 'kept', label: 'kept', numeric: true },
        { key: 'accuracy', label: 'accuracy', numeric: true },
      ],
      rows: [...(r.ablation ?? []).map((a) => ({ ...a, m: 'LIB' })), ...(pca?.ablation ?? []).map((a) => ({ ...a, m: 'PCA' }))].map((a) => [str(a.layer, undefined, 'code'), str(a.m), num(a.kept), num(a.accuracy)]),
    };
    sections.push({ title: 'Ablation', items: [...charts, table] });
  }
  if (r.authors) sections.push(libAuthorsSection(r, r.authors));
  return sections;
}

// ------------------------------------------------------------------------------------------------ attention

export const SPARSITY_FIELDS = ['connectivity', 'fractionAbove', 'fractionAboveInvT', 'keysFor90', 'keysFor99', 'entropyKeys', 'sinkMass'] as const;
type SparsityField = (typeof SPARSITY_FIELDS)[number];

/** The sparsity fields this run has (connectivity only for gated models; keysFor99 and fractionAboveInvT when computed). */
export function sparsityFields(r: AttentionResult): SparsityField[] {
  const all: SparsityMetrics[] = [...r.heads, ...r.layers, r.global];
  return SPARSITY_FIELDS.filter((f) => all.some((s) => s[f] !== undefined && (f !== 'connectivity' || s[f] !== null)));
}

export function attentionSections(r: AttentionResult): Section[] {
  const fields = sparsityFields(r);
  const defs = r.definitions;
  const layerIds = [...new Set(r.heads.map((h) => h.layer))].sort((a, b) => a - b);
  const headIds = [...new Set(r.heads.map((h) => h.head))].sort((a, b) => a - b);
  const heatmapFields = fields.filter((f) => f !== 'fractionAboveInvT');
  const heatmap = {
    kind: 'heatmap' as const,
    slug: 'head-sparsity',
    title: 'Per-head sparsity',
    note: r.input?.kind === 'samples' ? `${r.prompts} samples of shape (${r.input.sampleShape.join(', ')}); ${r.seqLen} key positions.` : `${r.prompts} prompts of ${r.seqLen} tokens.`,
    rowLabel: 'layer',
    colLabel: 'head',
    rows: layerIds.map((l) => `L${l}`),
    cols: headIds.map((h) => `H${h}`),
    metrics: [...heatmapFields, ...(fields.includes('fractionAboveInvT') ? ['fractionAboveInvT' as const] : [])].map((f) => ({
      key: f,
      label: f,
      title: defs[f],
      values: layerIds.map((l) => headIds.map((h) => r.heads.find((x) => x.layer === l && x.head === h)?.[f] ?? null)),
    })),
    initial: fields.includes('connectivity') ? 'connectivity' : 'fractionAbove',
  };
  const cols = fields.map((f) => ({ key: f, label: f, title: defs[f], numeric: true }));
  const layersTable: TableSpec = {
    kind: 'table',
    slug: 'layers',
    title: 'Per layer',
    note: defs.perLayer,
    columns: [{ key: 'layer', label: 'layer' }, { key: 'heads', label: 'heads', numeric: true }, ...cols],
    rows: [...r.layers.map((l) => [num(l.layer), num(l.heads), ...fields.map((f) => num(l[f]))]), [str('global'), num(r.heads.length), ...fields.map((f) => num(r.global[f]))]],
    marked: [r.layers.length],
  };
  const headsTable: TableSpec = {
    kind: 'table',
    slug: 'heads',
    title: 'Per head',
    sortable: true,
    columns: [{ key: 'layer', label: 'layer', numeric: true }, { key: 'head', label: 'head', numeric: true }, ...cols],
    rows: r.heads.map((h) => [num(h.layer), num(h.head), ...fields.map((f) => num(h[f]))]),
  };
  const blocksTable: TableSpec = {
    kind: 'table',
    slug: 'blocks',
    title: 'Attention blocks in the graph',
    columns: [
      { key: 'layer', label: 'layer', numeric: true },
      { key: 'name', label: 'name' },
      { key: 'softmax', label: 'softmax node' },
      { key: 'probs', label: 'probabilities' },
      { key: 'heads', label: 'heads', numeric: true },
      { key: 'gated', label: 'gated' },
      { key: 'positions', label: 'queries × keys', title: 'the attention’s query and key positions (positions = the key axis)' },
      { key: 'pairs', label: 'pairs', title: defs.pairs ?? 'causal: keys ≤ query; all: every key' },
      { key: 'maskedKeys', label: 'masked keys', title: 'keys per sample the model gave weight exactly 0 (a mask), averaged', numeric: true },
    ],
    rows: r.blocks.map((b) => [
      num(b.layer),
      str(b.name, undefined, 'code'),
      str(b.softmax, undefined, 'code'),
      str(b.probs, undefined, 'code'),
      num(b.heads),
      bool(b.gated),
      str(b.queries !== undefined && b.keys !== undefined ? `${b.queries} × ${b.keys}` : `${r.seqLen} × ${r.seqLen}`),
      str(b.pairs ?? 'causal'),
      num(b.maskedKeys ?? 0),
    ]),
  };
  const sections: Section[] = [
    { title: 'Sparsity', items: [heatmap, layersTable, headsTable] },
    { title: 'Blocks', items: [blocksTable] },
  ];
  const tg = r.tokenGraph;
  if (tg) {
    let max = 0;
    for (const h of tg.heads) for (const e of h.edges) max = Math.max(max, e.weight);
    sections.push({
      title: 'Token-level attention',
      items: [
        {
          kind: 'matrices',
          slug: `token-attention-prompt-${tg.prompt}`,
          title: `Attention on prompt #${tg.prompt}`,
          note: tg.positions === 'keys' ? `One matrix per head, weights ≥ ${tg.threshold} drawn; rows are queries, columns keys (positions of the key axis).` : `One matrix per head, weights ≥ ${tg.threshold} drawn; hover a cell for its positions and token ids.`,
          size: tg.tokens.length,
          labels: tg.tokens.map(String),
          rowLabel: 'query',
          colLabel: 'key',
          valueLabel: 'attention weight',
          max: max > 0 ? max : 1,
          // Edges run from key to query (each query row sums to ≤ 1 over its keys).
          panels: tg.heads.map((h) => ({ title: `L${h.layer} H${h.head}`, cells: h.edges.map((e) => ({ row: e.to, col: e.from, value: e.weight })) })),
        },
      ],
    });
  }
  return sections;
}

// ------------------------------------------------------------------------------------------------ circuit

/** Edges by |score|, largest first (ties keep the run's order). */
export function edgesByScore(r: CircuitResult): CircuitResult['edges'] {
  return r.edges
    .map((e, i) => ({ e, i }))
    .sort((a, b) => Math.abs(b.e.score) - Math.abs(a.e.score) || a.i - b.i)
    .map((x) => x.e);
}

export function circuitSections(r: CircuitResult): Section[] {
  const c = r.circuit;
  const summary = kvTable('summary', 'Summary', [
    ['method', str(r.method), undefined],
    ['metric', str(r.metric), undefined],
    ['pairs', num(r.pairs), 'clean/corrupted prompt pairs'],
    ['seqLen', num(r.seqLen), 'tokens per prompt'],
    ['faithfulness', fieldCell('circuit.faithfulness', num(c.faithfulness)), '(metricCircuit − metricCorrupt) / (metricClean − metricCorrupt), measured by patching every edge outside the circuit'],
    ['target', fieldCell('circuit.target', num(c.target)), 'the faithfulness the smallest circuit must reach'],
    ['reachedTarget', bool(c.reachedTarget), undefined],
    ['metricClean', fieldCell('circuit.metricClean', num(c.metricClean)), undefined],
    ['metricCorrupt', fieldCell('circuit.metricCorrupt', num(c.metricCorrupt)), undefined],
    ['metricCircuit', num(c.metricCircuit), undefined],
    ['edgeCount', num(c.edgeCount), 'edges in the circuit'],
    ['totalEdges', num(r.totalEdges), 'edges of the full component graph'],
    ['fraction', num(c.fraction), 'edgeCount / totalEdges'],
    ['heads', list(c.heads), 'attention heads in the circuit'],
    ['nodes', list(c.nodes), 'components in the circuit'],
    ['passes.forward', num(r.passes.forward), 'forward passes run'],
    ['passes.backward', num(r.passes.backward), 'backward passes run'],
  ]);
  const chosen = r.sizeSearch.find((s) => s.edges === c.edgeCount && s.faithfulness === c.faithfulness);
  const refs: RefLine[] = [{ axis: 'y', value: c.target, label: `target ${fmtNum(c.target)}` }];
  if (chosen) refs.push({ axis: 'x', value: chosen.n, label: `circuit (n = ${chosen.n})` });
  const chart: LineChartSpec = {
    kind: 'line',
    slug: 'size-search',
    title: 'Size search',
    note: 'Measured faithfulness of the top-n edges by |score| (pruned to edges connected to the logits).',
    x: { label: 'n (top edges by |score|)', scale: r.sizeSearch.every((s) => s.n > 0) ? 'log' : 'linear' },
    y: { label: 'faithfulness', scale: 'linear' },
    series: [{ key: 'faithfulness', label: 'faithfulness', points: r.sizeSearch.map((s) => ({ x: s.n, y: s.faithfulness, label: `${s.edges} edges` })), ...styleOf(0) }],
    refs,
  };
  const searchTable: TableSpec = {
    kind: 'table',
    slug: 'size-search',
    title: 'Size search',
    columns: [
      { key: 'n', label: 'n', numeric: true },
      { key: 'edges', label: 'edges', numeric: true },
      { key: 'faithfulness', label: 'faithfulness', numeric: true },
    ],
    rows: r.sizeSearch.map((s) => [num(s.n), num(s.edges), num(s.faithfulness)]),
  };
  const sorted = edgesByScore(r);
  const edgesTable: TableSpec = {
    kind: 'table',
    slug: 'edges',
    title: `Edges by |score| (${r.listedEdges} of ${r.totalEdges} listed)`,
    sortable: true,
    limit: 100,
    columns: [
      { key: 'rank', label: '#', numeric: true },
      { key: 'id', label: 'edge' },
      { key: 'from', label: 'from' },
      { key: 'to', label: 'to' },
      { key: 'port', label: 'port' },
      { key: 'score', label: 'score', numeric: true },
      { key: 'absScore', label: '|score|', numeric: true },
      { key: 'inCircuit', label: 'in circuit' },
    ],
    rows: sorted.map((e, i) => [num(i + 1), str(e.id, undefined, 'code'), str(e.from, undefined, 'code'), str(e.to, undefined, 'code'), e.port === undefined ? str('') : str(e.port), num(e.score), num(Math.abs(e.score)), bool(e.inCircuit, '✓', '')]),
    marked: sorted.flatMap((e, i) => (e.inCircuit ? [i] : [])),
  };
  const sections: Section[] = [
    { title: 'Summary', items: [summary] },
    { title: 'Size search', items: [chart, searchTable] },
    { title: 'Edges', items: [edgesTable] },
  ];
  if (r.validation) {
    const val = r.validation;
    sections.push({
      title: 'Validation',
      note: 'Spearman correlation of the edge scores with activation patching.',
      items: [
        {
          kind: 'table',
          slug: 'validation',
          title: 'Validation (Spearman)',
          columns: [
            { key: 'edges', label: 'edges' },
            { key: 'eap', label: 'EAP', numeric: true },
            { key: 'eapIg', label: 'EAP-IG', numeric: true },
          ],
          rows: [
            [str(`top ${val.top}`), num(val.spearmanTop.eap), num(val.spearmanTop.eapIg)],
            [str('all'), num(val.spearmanAll.eap), num(val.spearmanAll.eapIg)],
          ],
        },
      ],
    });
  }
  return sections;
}
