/**
 * Analysis results on the operator graph: which metrics a run offers, a value per graph element for the
 * chosen one, its legend, and the circuit edges to draw over the graph. Pure (no DOM): the graph view
 * (overlayView.ts) draws what this computes; test/unit/overlay.test.ts runs it on the real example models
 * and CLI envelopes.
 *
 * Results name things as the envelopes do: value (tensor) names, drawn on the value's producer, and node
 * names. Elements are keyed by their view element id (`n:<node id>` for an operator, `i:<value id>` for a
 * graph input without a producer), so a key is also the id of the item that draws it when all its blocks
 * are open. Values are the envelope's numbers unchanged; a missing or null number is `null` (undefined for
 * that run: the element is not coloured), never 0.
 */
import type { AnalysisName } from '../shared/analysis';
import type { ModelGraph } from '../shared/ir';
import {
  isSeries,
  type AttentionResult,
  type CircuitResult,
  type CollapseResult,
  type HashResult,
  type LibResult,
  type RedundancyResult,
  type RunRecord,
  type Series,
  type SparsityMetrics,
} from '../shared/results';
import { nodeElementId, representativeOf, type GraphIndex, type VisibleGraph } from './viewModel';

// ------------------------------------------------------------------------------------------------ types

/** A labelled number (or text) shown with an element or in the legend; `null` reads "undefined". */
export interface OverlayRow {
  label: string;
  value: number | string | null;
}

/** One element's value for the chosen metric. */
export interface OverlayEntry {
  /** View element id: `n:<node id>` or `i:<value id>`. */
  key: string;
  /** The metric exactly as the envelope has it; null when undefined for this run. */
  value: number | null;
  /** What the envelope calls this element (e.g. `layer /relu1/Relu_output_0`). */
  what: string;
  /** The entry's other numbers (per-head values, the layer's other metrics…). */
  rows: OverlayRow[];
}

/** An element the run points at without a value of the metric (a classifier head). */
export interface OverlayMark {
  key: string;
  what: string;
  rows: OverlayRow[];
}

/** An edge drawn over the graph: circuit edges (or LIB sections) between two elements, merged per pair. */
export interface OverlayEdge {
  source: string;
  target: string;
  kind: 'circuit' | 'section';
  /** Σ score and Σ |score| of the component edges merged here. */
  score: number;
  absScore: number;
  /** The component edges, strongest |score| first. */
  parts: { id: string; score: number }[];
}

export type OverlayScale = 'sequential' | 'diverging';

export interface OverlayLegend {
  analysis: AnalysisName;
  metric: string;
  /** `collapse · nc1` */
  title: string;
  /** What the metric is (from the envelope's definitions where it has them). */
  description?: string;
  /** Over every non-null value (not only the visible ones: colours stay put as blocks open and close). */
  min: number | null;
  max: number | null;
  /** Diverging around 0 when the values have both signs. */
  scale: OverlayScale;
  /** Logarithmic when every value is positive and they span more than two decades. */
  log: boolean;
  runId: string;
  model: string;
  finishedAt: string;
  data?: string;
  /** The run's headline numbers (hash: redundancy ratios and probe accuracies; circuit: faithfulness…). */
  rows: OverlayRow[];
  /** Things to say (which checkpoint of a series, names not found in this graph…). */
  notes: string[];
  edges?: { kind: 'circuit' | 'section'; label: string; count: number; maxAbs: number };
}

export interface Overlay {
  runId: string;
  analysis: AnalysisName;
  metric: string;
  entries: Map<string, OverlayEntry>;
  marks: Map<string, OverlayMark>;
  edges: OverlayEdge[];
  legend: OverlayLegend;
  /** Names the envelope uses that this graph does not have. */
  missing: string[];
}

export type OverlayOutcome = { ok: true; overlay: Overlay } | { ok: false; reason: string };

export interface OverlayMetric {
  key: string;
  label: string;
  description?: string;
}

/** One entry of the "Colour by" list. */
export interface OverlayOption {
  /** `<run id>::<metric>` */
  id: string;
  runId: string;
  analysis: AnalysisName;
  metric: string;
  /** `collapse · nc1` */
  label: string;
  /** Run time (and data file) to tell runs of the same analysis apart. */
  detail: string;
  /** Set when the run cannot be drawn on this graph (and why). */
  refused?: string;
}

export const optionId = (runId: string, metric: string): string => `${runId}::${metric}`;

// ------------------------------------------------------------------------------------------------ paths

function segments(p: string): string[] {
  const out: string[] = [];
  for (const s of p.replace(/\\/g, '/').split('/')) {
    if (!s || s === '.') continue;
    if (s === '..') {
      if (out.length && out[out.length - 1] !== '..') out.pop();
      else out.push('..');
    } else out.push(s);
  }
  return out;
}

const isAbsolute = (p: string): boolean => p.startsWith('/') || p.startsWith('\\') || /^[A-Za-z]:[\\/]/.test(p);
const windowsish = (p: string): boolean => /^[A-Za-z]:/.test(p) || p.includes('\\');
export const baseName = (p: string): string => segments(p).pop() ?? p;

/**
 * Whether `model`, as an envelope names it (absolute, or relative to wherever the CLI ran), names `file`
 * (the absolute path the graph was loaded from). A relative path matches when it is a whole-segment suffix
 * of `file` (`examples/mlp/mlp.onnx` names `/work/examples/mlp/mlp.onnx`); leading `..` segments are dropped
 * (the CLI's working directory is unknown). Windows paths compare case-insensitively.
 */
export function samePath(model: string, file: string): boolean {
  const fold = windowsish(model) || windowsish(file);
  const norm = (xs: string[]): string[] => (fold ? xs.map((x) => x.toLowerCase()) : xs);
  const a = norm(segments(model));
  const b = norm(segments(file));
  if (isAbsolute(model)) return a.length === b.length && a.every((s, i) => s === b[i]);
  const rel = a.filter((s) => s !== '..');
  if (!rel.length || rel.length > b.length) return false;
  const off = b.length - rel.length;
  return rel.every((s, i) => s === b[off + i]);
}

/** The folder that holds `file`, as a path of the same kind. */
const dirOf = (file: string): string => {
  const s = file.replace(/\\/g, '/');
  const i = s.lastIndexOf('/');
  return i > 0 ? s.slice(0, i) : '/';
};

// ------------------------------------------------------------------------------------------------ names

/** Resolves the envelopes' names (value names, node names) to view element keys. */
export class NameResolver {
  private readonly nodeIds = new Set<string>();
  private readonly nodeByName = new Map<string, string>();
  private readonly valueByName = new Map<string, string>();
  private readonly inputs: Set<string>;

  constructor(private readonly graph: ModelGraph) {
    for (const n of graph.nodes) {
      this.nodeIds.add(n.id);
      if (n.name && !this.nodeByName.has(n.name)) this.nodeByName.set(n.name, n.id);
    }
    for (const v of Object.values(graph.values)) if (v.name && !this.valueByName.has(v.name)) this.valueByName.set(v.name, v.id);
    this.inputs = new Set(graph.inputs);
  }

  /** A node id from a node id or name. */
  nodeId(name: string): string | undefined {
    if (this.nodeIds.has(name)) return name;
    return this.nodeByName.get(name);
  }

  /** A value id from a value id or name. */
  valueId(name: string): string | undefined {
    if (this.graph.values[name]) return name;
    return this.valueByName.get(name);
  }

  /** The element drawing a value: its producer, or the graph input itself. */
  valueKey(name: string): string | undefined {
    const id = this.valueId(name);
    if (id === undefined) return undefined;
    const v = this.graph.values[id];
    if (v.producer !== undefined) return nodeElementId(v.producer);
    if (this.inputs.has(id)) return `i:${id}`;
    return undefined;
  }

  nodeKey(name: string): string | undefined {
    const id = this.nodeId(name);
    return id === undefined ? undefined : nodeElementId(id);
  }

  /** An element from a node (preferred) or a value. */
  key(t: { node?: string; value?: string }): string | undefined {
    return (t.node !== undefined ? this.nodeKey(t.node) : undefined) ?? (t.value !== undefined ? this.valueKey(t.value) : undefined);
  }
}

// ------------------------------------------------------------------------------------------------ metrics

const COLLAPSE_METRICS: OverlayMetric[] = [
  { key: 'nc1', label: 'nc1', description: 'NC1 = Tr(Σ_W Σ_B†)/C: within-class variability against between-class (lower: more collapsed)' },
  { key: 'nc1TraceRatio', label: 'nc1TraceRatio', description: 'Tr Σ_W / Tr Σ_B (no inverse)' },
  { key: 'cdnv', label: 'cdnv', description: 'class-distance normalised variance' },
  { key: 'equinormMeans', label: 'equinormMeans', description: 'std/mean of the centred class-mean norms (0: equinorm)' },
  { key: 'equiangularityMeans', label: 'equiangularityMeans', description: 'std of the class-mean cosines (0: equiangular)' },
  { key: 'etfDistanceMeans', label: 'etfDistanceMeans', description: 'distance of the class-mean Gram to a simplex ETF' },
  { key: 'nccAccuracyTrain', label: 'nccAccuracyTrain', description: 'nearest-class-mean accuracy on the train split' },
];
const HASH_METRICS: OverlayMetric[] = [
  { key: 'units', label: 'units', description: 'units (code bits) of each coded activation' },
  { key: 'unitShare', label: 'share of code', description: "the layer's units / all coded units" },
];
const REDUNDANCY_METRICS: OverlayMetric[] = [
  { key: 'clones', label: 'clones', description: 'width / critical width: how many times the layer repeats its information' },
  { key: 'criticalWidth', label: 'criticalWidth', description: 'smallest random chunk of units whose R² ≥ 0.95' },
];
const LIB_METRICS: OverlayMetric[] = [
  { key: 'effectiveFeatures', label: 'effectiveFeatures', description: 'directions with Λ > 1e-3·Λmax (constant direction excluded)' },
  { key: 'rank', label: 'rank', description: 'directions kept in the layer’s interaction basis' },
  { key: 'lambdaMax', label: 'Λ max', description: 'largest Λ of the layer (constant direction excluded)' },
];
const ATTENTION_METRICS: (keyof SparsityMetrics)[] = ['fractionAbove', 'fractionAboveInvT', 'keysFor90', 'keysFor99', 'entropyKeys', 'sinkMass', 'connectivity'];
const CIRCUIT_METRICS: OverlayMetric[] = [
  { key: 'score', label: 'Σ|score| in circuit', description: 'Σ |edge score| of the circuit’s edges touching the operator' },
  { key: 'scoreAll', label: 'Σ|score| all edges', description: 'Σ |edge score| of every scored edge touching the operator' },
];

/** The metrics a run can colour the graph by, the default first. */
export function runMetrics(run: RunRecord): OverlayMetric[] {
  const e = run.envelope;
  switch (e.analysis) {
    case 'collapse':
      return COLLAPSE_METRICS;
    case 'hash':
      return HASH_METRICS;
    case 'redundancy':
      return REDUNDANCY_METRICS;
    case 'lib':
      return LIB_METRICS;
    case 'attention': {
      const r = e.result;
      const rows: SparsityMetrics[] = [...(r.layers ?? []), ...(r.heads ?? [])];
      return ATTENTION_METRICS.filter((k) => rows.some((l) => l[k] !== undefined)).map((k) => ({ key: k, label: k, description: r.definitions?.[k] }));
    }
    case 'circuit':
      return CIRCUIT_METRICS;
  }
}

// ------------------------------------------------------------------------------------------------ binding

type Row<R> = R & { model?: string; checkpoint?: number | null };

interface Bound<R> {
  view: Row<R>;
  notes: string[];
}

/**
 * Which result of a run applies to this graph. A plain run applies when its model path names the graph's
 * file (or, for results opened from another machine, has the same file name and every name it uses exists
 * here: checked by the caller through `missing`). A series (checkpoints, widths) applies through the row
 * whose model is this file; a file in the series' folder that is no row gets the last row, said in a note.
 */
function bind<R>(graph: ModelGraph, model: string, result: R | Series<R>): Bound<R> | { reason: string; lenient?: Bound<R> } {
  if (!isSeries(result)) {
    if (samePath(model, graph.file)) return { view: result as Row<R>, notes: [] };
    const lenient = baseName(model) === baseName(graph.file) ? { view: result as Row<R>, notes: [`recorded on ${model}; drawn here because the file name and every name it uses match this graph`] } : undefined;
    return { reason: `this run is for ${model}, not this graph (${graph.file})`, lenient };
  }
  const rows = result.series;
  if (!rows.length) return { reason: `the series run on ${model} has no rows` };
  const i = rows.findIndex((r) => samePath(`${model.replace(/[\\/]+$/, '')}/${r.model}`, graph.file) || samePath(r.model, graph.file));
  const describeRow = (k: number): string => `${rows[k].model}${rows[k].checkpoint !== null && rows[k].checkpoint !== undefined ? ` (checkpoint ${rows[k].checkpoint})` : ''}`;
  if (i >= 0) return { view: rows[i] as Row<R>, notes: [`series of ${rows.length} models: row ${i + 1}, ${describeRow(i)} — this graph`] };
  const last = rows.length - 1;
  if (samePath(model, dirOf(graph.file))) return { view: rows[last] as Row<R>, notes: [`series of ${rows.length} models: showing the last checkpoint, ${describeRow(last)}; this graph is not one of the series`] };
  return { reason: `this run is a series over ${model} (${rows.length} models); this graph (${graph.file}) is none of them` };
}

// ------------------------------------------------------------------------------------------------ compute

const num = (v: unknown): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/** One row per result field, labelled by its name (non-finite → null); `optional` fields only when present. */
function fieldRows<T extends object>(r: T, keys: readonly (keyof T & string)[], optional: readonly (keyof T & string)[] = []): OverlayRow[] {
  const o = r as Record<string, unknown>;
  return [...keys, ...optional.filter((k) => o[k] !== undefined)].map((k) => ({ label: k, value: num(o[k]) }));
}

class Builder {
  readonly entries = new Map<string, OverlayEntry>();
  readonly marks = new Map<string, OverlayMark>();
  readonly edges: OverlayEdge[] = [];
  readonly missing: string[] = [];
  readonly notes: string[] = [];
  readonly rows: OverlayRow[] = [];

  constructor(readonly names: NameResolver) {}

  miss(what: string): void {
    if (!this.missing.includes(what)) this.missing.push(what);
  }

  /** Adds a value; a second value for the same element keeps the first and lists the other in its rows. */
  entry(key: string | undefined, name: string, value: number | null, what: string, rows: OverlayRow[]): void {
    if (key === undefined) {
      this.miss(name);
      return;
    }
    const prev = this.entries.get(key);
    if (prev) {
      prev.rows.push({ label: what, value });
      return;
    }
    this.entries.set(key, { key, value, what, rows });
  }

  mark(key: string | undefined, name: string, what: string, rows: OverlayRow[]): void {
    if (key === undefined) {
      this.miss(name);
      return;
    }
    if (!this.entries.has(key)) this.marks.set(key, { key, what, rows });
  }
}

function collapseOverlay(b: Builder, r: Row<CollapseResult>, metric: string): void {
  const m = metric as keyof CollapseResult['layers'][number];
  const layerRows = (l: Record<string, unknown>): OverlayRow[] => [
    { label: 'dim', value: num(l.dim) },
    ...COLLAPSE_METRICS.map((x) => ({ label: x.key, value: num(l[x.key]) })),
    ...fieldRows(l, ['maxAngleMeans'], ['nccAccuracyTest']),
  ];
  const seen = new Set<string>();
  for (const l of r.layers ?? []) {
    seen.add(l.layer);
    b.entry(b.names.valueKey(l.layer), l.layer, num(l[m]), `hidden layer ${l.layer}${l.layer === r.features ? ' (the features the classifier reads)' : ''}`, layerRows({ ...l }));
  }
  // The analysed features carry the headline metrics; layerwise runs list them among the layers too.
  if (r.features && !seen.has(r.features)) {
    const headline = { ...r } as unknown as Record<string, unknown>;
    b.entry(b.names.valueKey(r.features), r.features, num(headline[metric]), `features ${r.features} (the classifier's input)`, layerRows(headline));
  }
  if (r.head) {
    b.mark(b.names.nodeKey(r.head.node), r.head.node, `classifier head (${r.head.opType}, ${r.head.classes} classes)`, [
      { label: 'weight', value: r.head.weight },
      ...fieldRows(r, ['equinormWeights', 'equiangularityWeights', 'maxAngleWeights', 'etfDistanceWeights', 'selfDuality', 'selfDualityEtf', 'nccMismatchTrain'], ['nccMismatchTest']),
    ]);
  }
  b.rows.push(
    { label: 'classes', value: r.classes },
    { label: 'samples', value: r.samples },
    ...fieldRows(r, ['accuracyTrain'], ['accuracyTest']),
  );
}

function hashOverlay(b: Builder, r: Row<HashResult>, metric: string): void {
  const total = r.units;
  for (const a of r.activations ?? []) {
    const share = total > 0 ? a.units / total : null;
    const key = b.names.nodeKey(a.node) ?? b.names.valueKey(a.layer);
    b.entry(key, a.node, metric === 'unitShare' ? share : num(a.units), `coded activation ${a.node} (${a.op})`, [
      { label: 'layer', value: a.layer },
      { label: 'units', value: a.units },
      { label: 'share of code', value: share },
      { label: 'piecewise linear', value: a.piecewiseLinear ? 'yes' : 'no' },
    ]);
  }
  b.rows.push(
    { label: 'code bits', value: `${r.codeBits} of ${r.codeBitsRaw}` },
    ...fieldRows(r, ['redundancyRatioTrain', 'redundancyRatioTest', 'kmeansAccuracyTrain', 'kmeansAccuracyTest', 'knnAccuracy', 'logisticAccuracy', 'networkAccuracyTest']),
  );
}

function redundancyOverlay(b: Builder, r: Row<RedundancyResult>, metric: string): void {
  const value = metric === 'criticalWidth' ? num(r.criticalWidth) : num(r.clones);
  const rows: OverlayRow[] = [
    { label: 'width (live units)', value: r.width },
    ...(r.layerWidth !== undefined ? [{ label: 'layer width', value: r.layerWidth }] : []),
    { label: 'constant units dropped', value: r.droppedConstantUnits },
    { label: 'criticalWidth', value: num(r.criticalWidth) },
    ...Object.entries(r.criticalWidths ?? {}).map(([t, w]) => ({ label: `criticalWidth at R² ≥ ${t}`, value: num(w) })),
    { label: 'clones', value: num(r.clones) },
  ];
  if (r.groups) rows.push({ label: 'neuron groups (our extension)', value: r.groups.count });
  b.entry(b.names.valueKey(r.layer), r.layer, value, `layer ${r.layer}`, rows);
  if (r.head) b.mark(b.names.nodeKey(r.head.node), r.head.node, `classifier head (${r.head.classes} classes)`, [{ label: 'weight', value: r.head.weight }]);
  b.rows.push({ label: 'networkAccuracyTest', value: num(r.networkAccuracyTest) });
  if (r.groups) b.rows.push({ label: 'neuron groups', value: r.groups.count });
}

function lambdaMax(l: LibResult['layers'][number]): number | null {
  // With a folded bias the first Λ is the constant direction, which effectiveFeatures excludes too.
  const xs = l.folded ? l.lambdas.slice(1) : l.lambdas;
  let best: number | null = null;
  for (const x of xs) if (Number.isFinite(x) && (best === null || x > best)) best = x;
  return best;
}

function libOverlay(b: Builder, r: LibResult, metric: string): void {
  for (const l of r.layers ?? []) {
    const value = metric === 'rank' ? num(l.rank) : metric === 'lambdaMax' ? lambdaMax(l) : num(l.effectiveFeatures);
    b.entry(b.names.valueKey(l.name), l.name, value, `node layer ${l.name}`, [
      { label: 'dim', value: l.dim },
      { label: 'rank', value: l.rank },
      { label: 'effectiveFeatures', value: l.effectiveFeatures },
      { label: 'Λ max', value: lambdaMax(l) },
      ...(l.folded ? [{ label: 'bias folded', value: 'yes (first Λ: constant direction)' }] : []),
    ]);
  }
  // Sections between consecutive node layers, drawn as edges weighted by their interaction mass.
  for (const e of r.edges ?? []) {
    const s = b.names.valueKey(e.from);
    const t = b.names.valueKey(e.to);
    if (s === undefined || t === undefined || s === t) continue;
    const mass = num(e.mass);
    b.edges.push({ source: s, target: t, kind: 'section', score: mass ?? 0, absScore: Math.abs(mass ?? 0), parts: [{ id: `${e.from} → ${e.to}${e.for90 !== undefined ? ` (edges for 90%: ${e.for90})` : ''}`, score: mass ?? 0 }] });
  }
  b.rows.push({ label: 'edgesFor90', value: r.edgesFor90 }, { label: 'edgesFor99', value: r.edgesFor99 }, { label: 'samples', value: r.samples });
}

function attentionOverlay(b: Builder, r: AttentionResult, metric: string): void {
  const m = metric as keyof SparsityMetrics;
  for (const blk of r.blocks ?? []) {
    const layer = r.layers.find((l) => l.layer === blk.layer);
    const heads = r.heads.filter((x) => x.layer === blk.layer).sort((a, c) => a.head - c.head);
    const key = b.names.nodeKey(blk.softmax) ?? b.names.valueKey(blk.probs);
    b.entry(key, blk.softmax, num(layer?.[m]), `attention layer ${blk.layer} (${blk.name}), mean over ${blk.heads} heads`, [
      ...heads.map((x) => ({ label: `head ${x.head}`, value: num(x[m]) })),
      ...ATTENTION_METRICS.filter((k) => k !== m && layer?.[k] !== undefined).map((k) => ({ label: `${k} (layer mean)`, value: num(layer?.[k]) })),
      ...(blk.gated ? [{ label: 'gated', value: 'yes' }] : []),
    ]);
  }
  b.rows.push({ label: `${metric} (all heads)`, value: num(r.global?.[m]) }, { label: 'prompts', value: r.prompts }, { label: 'sequence length', value: r.seqLen });
}

function circuitOverlay(b: Builder, r: CircuitResult, metric: string): void {
  const keyOf = new Map<string, string>();
  const compsAt = new Map<string, string[]>();
  for (const c of r.nodes ?? []) {
    const key = c.graph ? b.names.key(c.graph) : undefined;
    if (key === undefined) {
      b.miss(c.graph ? `${c.id} (${c.graph.node ?? c.graph.value})` : `${c.id} (no operator-graph element)`);
      continue;
    }
    keyOf.set(c.id, key);
    compsAt.set(key, [...(compsAt.get(key) ?? []), c.id]);
  }
  const all = metric === 'scoreAll';
  const sums = new Map<string, number>();
  const touching = new Map<string, { id: string; score: number; inCircuit: boolean }[]>();
  for (const e of r.edges ?? []) {
    const s = keyOf.get(e.from);
    const t = keyOf.get(e.to);
    for (const k of new Set([s, t])) {
      if (k === undefined) continue;
      touching.set(k, [...(touching.get(k) ?? []), { id: e.id, score: e.score, inCircuit: e.inCircuit }]);
      if (e.inCircuit || all) sums.set(k, (sums.get(k) ?? 0) + Math.abs(e.score));
    }
  }
  for (const [key, sum] of sums) {
    const comps = compsAt.get(key) ?? [];
    const edges = (touching.get(key) ?? []).filter((e) => e.inCircuit || all).sort((x, y) => Math.abs(y.score) - Math.abs(x.score));
    b.entry(key, key, sum, `circuit component${comps.length > 1 ? 's' : ''} ${comps.join(', ')}`, [
      { label: 'in circuit', value: comps.filter((c) => r.circuit.nodes.includes(c)).join(', ') || 'no' },
      ...edges.slice(0, 12).map((e) => ({ label: `${e.inCircuit ? '' : '(outside) '}${e.id}`, value: e.score })),
      ...(edges.length > 12 ? [{ label: 'more edges', value: edges.length - 12 }] : []),
    ]);
  }
  // The circuit over the operator graph: its edges between the operators of their endpoints, merged per pair.
  const merged = new Map<string, OverlayEdge>();
  for (const e of r.edges ?? []) {
    if (!e.inCircuit) continue;
    const s = keyOf.get(e.from);
    const t = keyOf.get(e.to);
    if (s === undefined || t === undefined || s === t) continue;
    const k = `${s}\u0000${t}`;
    let m = merged.get(k);
    if (!m) merged.set(k, (m = { source: s, target: t, kind: 'circuit', score: 0, absScore: 0, parts: [] }));
    m.score += e.score;
    m.absScore += Math.abs(e.score);
    m.parts.push({ id: e.id, score: e.score });
  }
  for (const m of merged.values()) {
    m.parts.sort((x, y) => Math.abs(y.score) - Math.abs(x.score));
    b.edges.push(m);
  }
  b.rows.push(
    { label: 'method', value: r.method },
    { label: 'metric', value: r.metric },
    { label: 'circuit edges', value: `${r.circuit.edgeCount} of ${r.totalEdges}` },
    { label: 'faithfulness', value: num(r.circuit.faithfulness) },
    { label: 'metric clean / corrupt / circuit', value: `${fmtNumber(r.circuit.metricClean)} / ${fmtNumber(r.circuit.metricCorrupt)} / ${fmtNumber(r.circuit.metricCircuit)}` },
  );
}

/** Legend range and scale over the non-null values. */
export function legendScale(values: Iterable<number | null>): { min: number | null; max: number | null; scale: OverlayScale; log: boolean } {
  let min: number | null = null;
  let max: number | null = null;
  for (const v of values) {
    if (v === null || !Number.isFinite(v)) continue;
    min = min === null ? v : Math.min(min, v);
    max = max === null ? v : Math.max(max, v);
  }
  if (min === null || max === null) return { min, max, scale: 'sequential', log: false };
  const scale: OverlayScale = min < 0 && max > 0 ? 'diverging' : 'sequential';
  const log = scale === 'sequential' && min > 0 && max / min > 100;
  return { min, max, scale, log };
}

/**
 * A run's values on this graph for one metric (the run's default metric when `metric` is absent or not
 * one of the run's). Refused, with the reason, when the run is for another model.
 */
export function computeOverlay(graph: ModelGraph, run: RunRecord, metric?: string, names = new NameResolver(graph)): OverlayOutcome {
  const e = run.envelope;
  const metrics = runMetrics(run);
  if (!metrics.length) return { ok: false, reason: `this ${e.analysis} run has no metric to colour by` };
  const chosen = metrics.find((m) => m.key === metric) ?? metrics[0];
  const notes: string[] = [];
  if (metric !== undefined && metric !== chosen.key) notes.push(`${e.analysis} has no metric "${metric}"; showing ${chosen.label}`);
  const b = new Builder(names);
  const attempt = (apply: (bound: Bound<unknown>) => void, bound: Bound<unknown> | { reason: string; lenient?: Bound<unknown> }): OverlayOutcome | undefined => {
    if ('reason' in bound) {
      if (!bound.lenient) return { ok: false, reason: bound.reason };
      apply(bound.lenient);
      if (b.missing.length || (!b.entries.size && !b.marks.size)) return { ok: false, reason: `${bound.reason}: ${b.missing.length ? `${b.missing.length} name(s) it uses are not in this graph (${b.missing.slice(0, 3).join(', ')})` : 'nothing it names is here'}` };
      notes.push(...bound.lenient.notes);
      return undefined;
    }
    apply(bound);
    notes.push(...bound.notes);
    return undefined;
  };
  let refused: OverlayOutcome | undefined;
  switch (e.analysis) {
    case 'collapse':
      refused = attempt((x) => collapseOverlay(b, x.view as Row<CollapseResult>, chosen.key), bind(graph, run.modelFile ?? e.model, e.result));
      break;
    case 'hash':
      refused = attempt((x) => hashOverlay(b, x.view as Row<HashResult>, chosen.key), bind(graph, run.modelFile ?? e.model, e.result));
      break;
    case 'redundancy':
      refused = attempt((x) => redundancyOverlay(b, x.view as Row<RedundancyResult>, chosen.key), bind(graph, run.modelFile ?? e.model, e.result));
      break;
    case 'lib':
      refused = attempt((x) => libOverlay(b, x.view as LibResult, chosen.key), bind(graph, run.modelFile ?? e.model, e.result));
      break;
    case 'attention':
      refused = attempt((x) => attentionOverlay(b, x.view as AttentionResult, chosen.key), bind(graph, run.modelFile ?? e.model, e.result));
      break;
    case 'circuit':
      refused = attempt((x) => circuitOverlay(b, x.view as CircuitResult, chosen.key), bind(graph, run.modelFile ?? e.model, e.result));
      break;
  }
  if (refused) return refused;
  if (b.missing.length) notes.push(`not in this graph: ${b.missing.join(', ')}`);
  const range = legendScale([...b.entries.values()].map((x) => x.value));
  if (range.min === null && b.entries.size) notes.push(`${chosen.label} is undefined for every element of this run`);
  if (!b.entries.size && !b.marks.size) notes.push('nothing this run names is in this graph');
  const edgeKind = b.edges[0]?.kind;
  const legend: OverlayLegend = {
    analysis: e.analysis,
    metric: chosen.key,
    title: `${e.analysis} · ${chosen.label}`,
    description: chosen.description,
    ...range,
    runId: run.id,
    model: e.model,
    finishedAt: run.finishedAt,
    data: run.data,
    rows: b.rows,
    notes: [...notes, ...b.notes],
    edges: edgeKind
      ? {
          kind: edgeKind,
          label: edgeKind === 'circuit' ? 'circuit edge, width ∝ Σ|score|' : 'LIB section, width ∝ interaction mass',
          count: b.edges.length,
          maxAbs: Math.max(...b.edges.map((x) => x.absScore)),
        }
      : undefined,
  };
  return { ok: true, overlay: { runId: run.id, analysis: e.analysis, metric: chosen.key, entries: b.entries, marks: b.marks, edges: b.edges, legend, missing: b.missing } };
}

/** Every run × metric for the "Colour by" list; runs that cannot be drawn here carry the reason. */
export function overlayOptions(graph: ModelGraph, runs: readonly RunRecord[], names = new NameResolver(graph)): OverlayOption[] {
  const out: OverlayOption[] = [];
  const perAnalysis = new Map<string, number>();
  for (const r of runs) perAnalysis.set(r.envelope.analysis, (perAnalysis.get(r.envelope.analysis) ?? 0) + 1);
  for (const run of runs) {
    const a = run.envelope.analysis;
    const when = run.finishedAt.replace('T', ' ').slice(0, 16);
    const detail = perAnalysis.get(a)! > 1 ? `${when}${run.data ? ` · ${baseName(run.data)}` : ''}` : when;
    const probe = computeOverlay(graph, run, undefined, names);
    const refused = probe.ok ? undefined : probe.reason;
    for (const m of runMetrics(run)) {
      out.push({ id: optionId(run.id, m.key), runId: run.id, analysis: a, metric: m.key, label: `${a} · ${m.label}`, detail, refused });
      if (refused) break;
    }
  }
  return out;
}

// ------------------------------------------------------------------------------------------------ the view

/** Where `v` sits on the legend's scale, 0…1 (diverging: 0.5 at zero). */
export function scalePosition(legend: Pick<OverlayLegend, 'min' | 'max' | 'scale' | 'log'>, v: number): number {
  const { min, max } = legend;
  if (min === null || max === null || !Number.isFinite(v)) return 0;
  const clamp = (x: number): number => Math.max(0, Math.min(1, x));
  if (legend.scale === 'diverging') {
    const m = Math.max(Math.abs(min), Math.abs(max));
    return m > 0 ? clamp(0.5 + v / (2 * m)) : 0.5;
  }
  if (max === min) return 1;
  if (legend.log && v > 0) return clamp((Math.log(v) - Math.log(min)) / (Math.log(max) - Math.log(min)));
  return clamp((v - min) / (max - min));
}

/** What a drawn item shows: its own value, or for a collapsed block the strongest of those it hides. */
export interface VisibleValue {
  /** The value drawn (for a block: the member value with the largest |value|); null: nothing to colour. */
  value: number | null;
  /** Position on the legend's scale; null when not coloured. */
  t: number | null;
  /** Entries standing behind this item (one for an operator; all hidden ones for a block). */
  members: OverlayEntry[];
  marks: OverlayMark[];
  /** Members with a value (the badge on a collapsed block). */
  coloured: number;
  /** True when the item is a collapsed block standing for its members. */
  aggregate: boolean;
}

export interface VisibleOverlayEdge extends OverlayEdge {
  /** Element ids of the drawn endpoints (representatives) — several overlay edges may merge into one. */
  id: string;
}

/** The item that draws a key with these blocks open. */
export function drawnBy(index: GraphIndex, expanded: ReadonlySet<string>, key: string): string | undefined {
  if (key.startsWith('n:')) return representativeOf(index, expanded, key.slice(2));
  return key;
}

/**
 * The overlay on the items drawn now: values per item (collapsed blocks aggregate the max |value| of the
 * elements they hide, and count them), and the overlay edges between drawn items (merged again where
 * several land on the same pair; dropped where both ends hide in one block).
 */
export function visibleOverlay(index: GraphIndex, expanded: ReadonlySet<string>, view: VisibleGraph, ov: Overlay): { items: Map<string, VisibleValue>; edges: VisibleOverlayEdge[] } {
  const drawn = new Set(view.items.map((i) => i.id));
  const items = new Map<string, VisibleValue>();
  const slot = (id: string): VisibleValue => {
    let s = items.get(id);
    if (!s) items.set(id, (s = { value: null, t: null, members: [], marks: [], coloured: 0, aggregate: id.startsWith('g:') }));
    return s;
  };
  for (const e of ov.entries.values()) {
    const id = drawnBy(index, expanded, e.key);
    if (id === undefined || !drawn.has(id)) continue;
    const s = slot(id);
    s.members.push(e);
    if (e.value !== null) {
      s.coloured++;
      if (s.value === null || Math.abs(e.value) > Math.abs(s.value)) s.value = e.value;
    }
  }
  for (const m of ov.marks.values()) {
    const id = drawnBy(index, expanded, m.key);
    if (id !== undefined && drawn.has(id)) slot(id).marks.push(m);
  }
  for (const s of items.values()) s.t = s.value === null ? null : scalePosition(ov.legend, s.value);
  const merged = new Map<string, VisibleOverlayEdge>();
  for (const e of ov.edges) {
    const s = drawnBy(index, expanded, e.source);
    const t = drawnBy(index, expanded, e.target);
    if (s === undefined || t === undefined || s === t || !drawn.has(s) || !drawn.has(t)) continue;
    const k = `${s}\u0000${t}`;
    const m = merged.get(k);
    if (m) {
      m.score += e.score;
      m.absScore += e.absScore;
      m.parts.push(...e.parts);
    } else merged.set(k, { ...e, id: `ov:${merged.size}`, source: s, target: t, parts: [...e.parts] });
  }
  for (const m of merged.values()) m.parts.sort((x, y) => Math.abs(y.score) - Math.abs(x.score));
  return { items, edges: [...merged.values()] };
}

// ------------------------------------------------------------------------------------------------ text

/** Numbers as the overlay shows them: 4 significant digits, exponent outside [1e-3, 1e4); integers as is. */
export function fmtNumber(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Number.isInteger(v) && Math.abs(v) < 1e9) return String(v);
  const a = Math.abs(v);
  if (a >= 1e4 || a < 1e-3) return v.toExponential(3);
  return v.toPrecision(4).replace(/\.?0+$/, '');
}

export function fmtRow(v: number | string | null): string {
  if (v === null) return 'undefined';
  return typeof v === 'number' ? fmtNumber(v) : v;
}
