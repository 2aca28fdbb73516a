/**
 * What every analysis run returns (the result contract of DESIGN.md: CLI `--json` and the webviews both read
 * it) and how analyses describe their options (the CLI builds its flags from this; the VS Code quick picks
 * will too).
 */

export const ANALYSIS_NAMES = ['collapse', 'hash', 'redundancy', 'lib', 'attention', 'circuit'] as const;
export type AnalysisName = (typeof ANALYSIS_NAMES)[number];

export interface OptionSpec {
  name: string;
  type: 'number' | 'integer' | 'string' | 'boolean' | 'strings';
  description: string;
  default?: number | string | boolean | string[];
  choices?: string[];
}

/** An analysis as a UI offers it (the engine's registry, as plain data). */
export interface AnalysisInfo {
  name: AnalysisName;
  description: string;
  needsData: boolean;
  layers: { mode: 'none' | 'one' | 'many'; description: string };
  dataHint: string;
  options: OptionSpec[];
}

/** A value the user may pick as an analysis layer (from {@link AnalysisInfo.layers}). */
export interface LayerCandidate {
  /** The value (tensor) name, as `--layer` takes it. */
  value: string;
  /** The producing node's name (or id) and op. */
  node: string;
  op: string;
  shape?: (number | string | null)[];
}

/** `{ analysis, model, backend, layer?, options, result, timings }` — field names are the contract. */
export interface AnalysisEnvelope<R = unknown> {
  analysis: AnalysisName;
  model: string;
  backend: string;
  layer?: string | string[];
  options: Record<string, unknown>;
  result: R;
  timings: Record<string, number>;
  /** Things the user should know (undefined metrics and why, dropped classes, labels of variants…). */
  warnings?: string[];
}

/** An analysis request as it crosses to the engine. */
export interface AnalysisRequest {
  analysis: AnalysisName;
  model: string;
  /** A checkpoint series (e.g. epochs) or a set of models (e.g. widths): the analysis runs on each. */
  models?: string[];
  data?: import('./engineProtocol').DatasetRef;
  layers?: string[];
  options?: Record<string, unknown>;
  batchSize?: number;
  limit?: number;
}
