/**
 * Analysis runs as files: every run the UI makes is saved as its CLI-compatible JSON envelope, and any
 * envelope (from the UI, `circuitscope run … --out`, or another machine) can be opened again. Pure: no
 * vscode, no node — used by the extension host, the CLI's report and the tests.
 */
import { ANALYSIS_NAMES, type AnalysisEnvelope, type AnalysisName } from './analysis';
import type { RunRecord, TypedEnvelope } from './results';

export class RunFileError extends Error {
  constructor(
    readonly file: string,
    readonly detail: string,
  ) {
    super(`${file}: ${detail}`);
    this.name = 'RunFileError';
  }
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return `an array of ${v.length}`;
  if (typeof v === 'object') return `an object with keys ${Object.keys(v as object).slice(0, 8).join(', ') || '(none)'}`;
  return `${typeof v} ${JSON.stringify(v)?.slice(0, 40)}`;
}

/**
 * Checks that `value` is an analysis envelope `{ analysis, model, backend, options, result, timings }` as the
 * CLI writes it.
 * @throws RunFileError naming the file, what was expected and what was found.
 */
export function checkEnvelope(value: unknown, file: string): TypedEnvelope {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new RunFileError(file, `expected a Circuitscope result (a JSON object with analysis, model, result), found ${describe(value)}`);
  }
  const e = value as Partial<AnalysisEnvelope> & { error?: unknown };
  if (e.error !== undefined && e.result === undefined) {
    const err = e.error as { message?: string };
    throw new RunFileError(file, `this file records a failed run, not a result: ${err?.message ?? JSON.stringify(e.error)}`);
  }
  if (typeof e.analysis !== 'string') throw new RunFileError(file, `expected a Circuitscope result with an "analysis" field, found ${describe(value)}`);
  if (!(ANALYSIS_NAMES as readonly string[]).includes(e.analysis)) {
    throw new RunFileError(file, `unknown analysis '${e.analysis}' (known: ${ANALYSIS_NAMES.join(', ')})`);
  }
  if (typeof e.model !== 'string') throw new RunFileError(file, `"model" must be the checkpoint's path, found ${describe(e.model)}`);
  if (typeof e.result !== 'object' || e.result === null) throw new RunFileError(file, `"result" must be an object, found ${describe(e.result)}`);
  const series = (e.result as { series?: unknown }).series;
  if (series !== undefined) {
    if (!Array.isArray(series)) throw new RunFileError(file, `"result.series" must be an array of checkpoint rows, found ${describe(series)}`);
    // Each row names a checkpoint file inside the series folder: a bare file name, never a path that could lead out.
    series.forEach((row: unknown, i) => {
      const m = (row as { model?: unknown } | null)?.model;
      if (typeof m !== 'string' || m === '' || m === '.' || m === '..' || /[\\/]/.test(m)) {
        throw new RunFileError(file, `"result.series[${i}].model" must be a checkpoint's file name inside the series folder, found ${describe(m)}`);
      }
    });
  }
  return {
    analysis: e.analysis as AnalysisName,
    model: e.model,
    backend: typeof e.backend === 'string' ? e.backend : 'unknown',
    ...(e.layer !== undefined ? { layer: e.layer } : {}),
    options: typeof e.options === 'object' && e.options !== null ? e.options : {},
    result: e.result,
    timings: typeof e.timings === 'object' && e.timings !== null ? e.timings : {},
    ...(Array.isArray(e.warnings) ? { warnings: e.warnings } : {}),
  } as TypedEnvelope;
}

/** Parses a saved envelope. @throws RunFileError for invalid JSON or a non-envelope. */
export function parseRunFile(text: string, file: string): TypedEnvelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new RunFileError(file, `not valid JSON (${(e as Error).message})`);
  }
  return checkEnvelope(value, file);
}

function stem(model: string): string {
  const base = model.split(/[\\/]/).filter(Boolean).pop() ?? 'model';
  const s = base === 'model.json' ? (model.split(/[\\/]/).filter(Boolean).at(-2) ?? 'model') : base.replace(/\.(onnx|json)$/i, '');
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').slice(0, 60) || 'model';
}

/** `20261124-031502-collapse-mlp`: sortable by time, readable, safe on every file system. */
export function runId(analysis: string, model: string, when: Date): string {
  const p = (n: number, w = 2): string => String(n).padStart(w, '0');
  const t = `${when.getFullYear()}${p(when.getMonth() + 1)}${p(when.getDate())}-${p(when.getHours())}${p(when.getMinutes())}${p(when.getSeconds())}`;
  return `${t}-${analysis}-${stem(model)}`;
}

/** A record for an envelope (a unique id given the ids already taken). */
export function makeRunRecord(envelope: TypedEnvelope, when: Date, taken: ReadonlySet<string>, extra: Partial<RunRecord> = {}): RunRecord {
  const base = runId(envelope.analysis, envelope.model, when);
  let id = base;
  for (let k = 2; taken.has(id); k++) id = `${base}-${k}`;
  return { id, envelope, finishedAt: when.toISOString(), ...extra };
}

/** Whether a run can be drawn in the circuits side panel. */
export function hasCircuitGraph(r: RunRecord): boolean {
  const e = r.envelope;
  if (e.analysis === 'lib' || e.analysis === 'circuit') return true;
  if (e.analysis === 'redundancy') return !('series' in e.result) && e.result.groups !== undefined;
  return false;
}
