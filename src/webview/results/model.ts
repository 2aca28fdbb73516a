/**
 * What the results panel shows for one run: the header fields, the warnings, and the analysis' sections
 * (sections.ts). Pure (no DOM), so the unit tests read exactly what the panel renders.
 */
import { assertNever } from '../../shared/protocol';
import { isSeries, type RunRecord, type TypedEnvelope } from '../../shared/results';
import { baseName, fmtDateTime, fmtShortTime, fmtTimings } from './format';
import {
  attentionSections,
  circuitSections,
  collapseSections,
  collapseSeriesSections,
  hashSections,
  hashSeriesSections,
  libSections,
  redundancySections,
  redundancySeriesSections,
} from './sections';
import type { ChartSpec, Section, TableSpec } from './spec';

export type { Cell, ChartSpec, Column, HeatmapSpec, Item, LineChartSpec, LineSeries, MatrixPanelsSpec, Section, TableSpec } from './spec';

export interface HeaderField {
  key: string;
  label: string;
  value: string;
  title?: string;
}

export interface RunView {
  id: string;
  analysis: TypedEnvelope['analysis'];
  title: string;
  isSeries: boolean;
  fields: HeaderField[];
  warnings: string[];
  sections: Section[];
  /** "Open in side panel": the run has a graph for the circuits view (lib, circuit, redundancy with groups). */
  showCircuit: boolean;
  /** The chart whose current metric "Show on model" sends (the first visible line, or the heatmap's metric). */
  metricChart?: string;
}

/** The run switcher's label: `analysis · model file name · time`. */
export function runLabel(run: RunRecord, today?: Date): string {
  return `${run.envelope.analysis} · ${baseName(run.envelope.model)} · ${fmtShortTime(run.finishedAt, today)}`;
}

function optionsText(options: Record<string, unknown>): string {
  return Object.entries(options)
    .map(([k, v]) => `${k}=${Array.isArray(v) ? v.join(',') : typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`)
    .join(' ');
}

export function headerFields(run: RunRecord): HeaderField[] {
  const e = run.envelope;
  const out: HeaderField[] = [
    { key: 'analysis', label: 'Analysis', value: e.analysis },
    { key: 'model', label: 'Model', value: e.model },
    { key: 'backend', label: 'Backend', value: e.backend },
  ];
  if (e.layer !== undefined) {
    const layers = Array.isArray(e.layer) ? e.layer : [e.layer];
    out.push({ key: 'layer', label: layers.length === 1 ? 'Layer' : 'Layers', value: layers.join(', ') });
  }
  if (run.data) out.push({ key: 'data', label: 'Dataset', value: run.data });
  out.push({ key: 'finishedAt', label: 'Finished', value: fmtDateTime(run.finishedAt), title: run.finishedAt });
  if (Object.keys(e.timings).length) out.push({ key: 'timings', label: 'Timings', value: fmtTimings(e.timings) });
  if (Object.keys(e.options).length) out.push({ key: 'options', label: 'Options', value: optionsText(e.options) });
  if (run.savedTo) out.push({ key: 'savedTo', label: 'Saved to', value: run.savedTo });
  return out;
}

function sectionsOf(e: TypedEnvelope): { sections: Section[]; series: boolean; showCircuit: boolean; metricChart?: string } {
  switch (e.analysis) {
    case 'collapse':
      return isSeries(e.result) ? { sections: collapseSeriesSections(e.result), series: true, showCircuit: false } : { sections: collapseSections(e.result), series: false, showCircuit: false, metricChart: 'nc-over-layers' };
    case 'hash':
      return isSeries(e.result) ? { sections: hashSeriesSections(e.result), series: true, showCircuit: false } : { sections: hashSections(e.result), series: false, showCircuit: false };
    case 'redundancy':
      return isSeries(e.result) ? { sections: redundancySeriesSections(e.result), series: true, showCircuit: false } : { sections: redundancySections(e.result), series: false, showCircuit: e.result.groups !== undefined };
    case 'lib':
      return { sections: libSections(e.result), series: false, showCircuit: true };
    case 'attention':
      return { sections: attentionSections(e.result), series: false, showCircuit: false, metricChart: 'head-sparsity' };
    case 'circuit':
      return { sections: circuitSections(e.result), series: false, showCircuit: true };
    default:
      return assertNever(e, 'analysis');
  }
}

export function runView(run: RunRecord): RunView {
  const e = run.envelope;
  const s = sectionsOf(e);
  return {
    id: run.id,
    analysis: e.analysis,
    title: `${e.analysis} · ${baseName(e.model)}${s.series ? ` (${(e.result as { models: number }).models} models)` : ''}`,
    isSeries: s.series,
    fields: headerFields(run),
    warnings: e.warnings ?? [],
    sections: s.sections,
    showCircuit: s.showCircuit,
    metricChart: s.metricChart,
  };
}

export function tablesOf(v: RunView): TableSpec[] {
  return v.sections.flatMap((s) => s.items.filter((i): i is TableSpec => i.kind === 'table'));
}

export function chartsOf(v: RunView): ChartSpec[] {
  return v.sections.flatMap((s) => s.items.filter((i): i is ChartSpec => i.kind !== 'table'));
}
