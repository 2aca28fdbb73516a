/**
 * What the results panel draws, as plain data: tables (cells keep the envelope's value next to its text) and
 * chart specifications (line charts, heatmaps, small-multiple matrices). sections.ts builds them from an
 * envelope; view.ts renders them; csv.ts and the unit tests read them. Pure (no DOM).
 */
import type { ScaleKind } from './ticks';
import { fmtFull, fmtNum, NULL_TEXT, NULL_TITLE } from './format';

/** One table cell: the value from the envelope, the text shown, the tooltip, and what the CSV exports. */
export interface Cell {
  v: number | string | boolean | null;
  text: string;
  title?: string;
  /** CSV value when it differs from `v` (e.g. a list written out). */
  csv?: string | number | boolean | null;
  /** Extra class for the cell (`num`, `null`, `mark`, `code`). */
  cls?: string;
  /**
   * The result field this cell shows, as a dotted path into the run's `result` (`nc1`, `circuit.faithfulness`):
   * written as `data-field` so a test reads that one cell and compares it with the saved run.
   */
  field?: string;
}

export interface Column {
  key: string;
  label: string;
  title?: string;
  numeric?: boolean;
  /** Header text in the CSV when it differs from the label. */
  csvLabel?: string;
}

export interface TableSpec {
  kind: 'table';
  /** Stable, unique within the run: `table[data-table="<slug>"]` and the CSV file name. */
  slug: string;
  title: string;
  note?: string;
  columns: Column[];
  rows: Cell[][];
  /** A key–value table: the first column is a row header, no sorting. */
  kv?: boolean;
  sortable?: boolean;
  /** Rows shown before a "Show all" button (the CSV always has every row). */
  limit?: number;
  /** Rows to mark (index into `rows`), e.g. edges in the circuit. */
  marked?: number[];
}

export interface LinePoint {
  x: number;
  y: number | null;
  /** Band around y (e.g. ± one standard deviation), drawn when the series has `band`. */
  lo?: number | null;
  hi?: number | null;
  /** What x is, for the tooltip (a model or layer name). */
  label?: string;
}

export interface LineSeries {
  key: string;
  label: string;
  /** Tooltip of the legend entry (the metric's definition). */
  title?: string;
  points: LinePoint[];
  /** Colour slot (0…5: blue, orange, green, red, purple, yellow); the line style cycles after six. */
  color: number;
  dash?: 'solid' | 'dash' | 'dot';
  /** Starts hidden (the legend toggles it). */
  hidden?: boolean;
  band?: boolean;
}

export interface RefLine {
  axis: 'x' | 'y';
  value: number;
  label: string;
}

export interface LineChartSpec {
  kind: 'line';
  slug: string;
  title: string;
  note?: string;
  x: { label: string; scale: ScaleKind; categories?: string[] };
  y: { label: string; scale: 'linear' | 'log' };
  series: LineSeries[];
  refs?: RefLine[];
  /** The legend's entries are metrics that can colour the model ("Show on model" uses the first visible). */
  metricLegend?: boolean;
}

export interface HeatmapMetric {
  key: string;
  label: string;
  title?: string;
  /** values[row][col]; null = undefined for this head. */
  values: (number | null)[][];
}

export interface HeatmapSpec {
  kind: 'heatmap';
  slug: string;
  title: string;
  note?: string;
  rowLabel: string;
  colLabel: string;
  rows: string[];
  cols: string[];
  metrics: HeatmapMetric[];
  /** The metric shown first. */
  initial: string;
}

export interface MatrixPanel {
  title: string;
  cells: { row: number; col: number; value: number }[];
}

export interface MatrixPanelsSpec {
  kind: 'matrices';
  slug: string;
  title: string;
  note?: string;
  /** Rows and columns per panel. */
  size: number;
  /** Label of each row/column index (e.g. token ids). */
  labels: string[];
  rowLabel: string;
  colLabel: string;
  valueLabel: string;
  /** Colour scale: [0, max]. */
  max: number;
  panels: MatrixPanel[];
}

export type ChartSpec = LineChartSpec | HeatmapSpec | MatrixPanelsSpec;
export type Item = TableSpec | ChartSpec;

export interface Section {
  title: string;
  note?: string;
  /** A label shown next to the title (e.g. "our extension"). */
  badge?: string;
  items: Item[];
}

// ------------------------------------------------------------------------------------------------ cells

/** A numeric cell: the value, 4 significant digits, the full value as tooltip; null → "—" with a tooltip. */
export function num(v: number | null | undefined, desc?: string): Cell {
  if (v === null || v === undefined) return { v: null, text: NULL_TEXT, title: desc ? `${NULL_TITLE}\n${desc}` : NULL_TITLE, cls: 'num null' };
  const full = fmtFull(v);
  const text = fmtNum(v);
  return { v, text, title: desc ? `${full}\n${desc}` : text === full ? undefined : full, cls: 'num' };
}

export function str(s: string | null | undefined, title?: string, cls?: string): Cell {
  if (s === null || s === undefined) return { v: null, text: NULL_TEXT, title: NULL_TITLE, cls: 'null' };
  return { v: s, text: s, title, cls };
}

export function bool(b: boolean | null | undefined, yes = 'yes', no = 'no'): Cell {
  if (b === null || b === undefined) return { v: null, text: NULL_TEXT, title: NULL_TITLE, cls: 'null' };
  return { v: b, text: b ? yes : no, cls: 'mark' };
}

/** `cell` marked as showing the result field `path` (see {@link Cell.field}). */
export function fieldCell(path: string, cell: Cell): Cell {
  return { ...cell, field: path };
}

/** A cell listing values ("a, b, c"), exported to CSV as one field. */
export function list(xs: readonly (string | number)[], max = 12): Cell {
  const all = xs.join(', ');
  const text = xs.length > max ? `${xs.slice(0, max).join(', ')}, … (${xs.length})` : all;
  return { v: all, text, title: xs.length > max ? all : undefined, csv: all, cls: 'code' };
}

/** The colour slot and line style of the i-th series: six theme colours, then dashed, then dotted. */
export function styleOf(i: number): { color: number; dash: 'solid' | 'dash' | 'dot' } {
  const cycle = Math.floor(i / 6) % 3;
  return { color: i % 6, dash: cycle === 0 ? 'solid' : cycle === 1 ? 'dash' : 'dot' };
}
