/**
 * The host ↔ engine-worker protocol (extension host or CLI on one side, the `worker_threads` engine on the
 * other). Requests carry ids; every request ends in exactly one `result` message whose payload is
 * `{ ok: true, value }` or `{ ok: false, error }`, so an error crosses the boundary instead of leaving a
 * promise hanging. Progress messages are throttled by the worker.
 */

/** A job the engine can run; each member names its result type in {@link JobResult}. */
export type JobRequest =
  | { kind: 'loadGraph'; model: string }
  /** The graph as UTF-8 JSON bytes in a transferred buffer: the host forwards them without (de)serializing. */
  | { kind: 'loadGraphBytes'; model: string }
  | { kind: 'readTensor'; model: string; tensor: string; maxElements?: number }
  | { kind: 'capture'; model: string; data: DatasetRef; taps: string[]; batchSize?: number; out?: string; limit?: number }
  | { kind: 'estimate'; model: string; data: DatasetRef; taps: string[]; batchSize?: number; limit?: number }
  | ({ kind: 'analysis' } & import('./analysis').AnalysisRequest)
  | ({ kind: 'estimateAnalysis' } & import('./analysis').AnalysisRequest)
  | { kind: 'selfTest'; mode: 'crash' | 'oom' | 'sleep' | 'echo'; ms?: number }
  /** The registry as plain data (names, descriptions, option specs) for quick picks. */
  | { kind: 'listAnalyses' }
  /** Values of a model an analysis layer can be (activations and linear outputs, in graph order). */
  | { kind: 'layerCandidates'; model: string };

/** A dataset: a path (npz/npy/csv/jsonl/image folder or a dataset-spec .json) or an inline spec object. */
export type DatasetRef = string | { [key: string]: unknown };

export interface TensorPreview {
  name: string;
  dtype: string;
  shape: number[];
  elements: number;
  /** The first values (up to maxElements), as numbers (int64 converted; strings omitted). */
  values: number[];
  /** Statistics over all values (numeric tensors only). */
  stats?: { min: number; max: number; mean: number; std: number; histogram: { edges: number[]; counts: number[] } };
}

export interface CaptureSummary {
  model: string;
  dataset: string;
  samples: number;
  batches: number;
  batchSize: number;
  taps: { name: string; dtype: string; sampleShape: number[]; mean: number; std: number; min: number; max: number }[];
  out?: string;
  backend: string;
  timings: { totalMs: number; runMs: number; loadMs: number };
}

export interface CostEstimate {
  samples: number;
  batchSize: number;
  /** Bytes of captured activations per batch. */
  activationBytesPerBatch: number;
  /** Expected peak memory of the job in bytes (model + one batch in flight + accumulators). */
  peakBytes: number;
  /** Expected wall time in ms, from timing a calibration batch. */
  expectedMs: number;
  /** Forward passes (and VJPs where relevant) the job will run. */
  forwardPasses: number;
  vjps: number;
  notes: string[];
}

export interface JobResultMap {
  loadGraph: import('./ir').ModelGraph;
  loadGraphBytes: { bytes: Uint8Array; nodes: number };
  readTensor: TensorPreview;
  capture: CaptureSummary;
  estimate: CostEstimate;
  analysis: import('./analysis').AnalysisEnvelope;
  estimateAnalysis: CostEstimate;
  selfTest: { echoed: string };
  listAnalyses: import('./analysis').AnalysisInfo[];
  layerCandidates: import('./analysis').LayerCandidate[];
}

export type JobKind = JobRequest['kind'];
export type JobResult<K extends JobKind> = JobResultMap[K];

export interface EngineErrorPayload {
  /** 'ModelLoadError' | 'DatasetError' | 'ModelRuntimeError' | 'TapError' | 'Cancelled' | 'EngineCrashed' | 'BudgetExceeded' | 'InternalError' … */
  name: string;
  message: string;
  code?: string;
  file?: string;
  detail?: string;
}

export type HostToWorker = { type: 'run'; id: number; job: JobRequest } | { type: 'cancel'; id: number };

export type WorkerToHost =
  | { type: 'progress'; id: number; done: number; total: number; stage: string }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | { type: 'result'; id: number; ok: true; value: unknown }
  | { type: 'result'; id: number; ok: false; error: EngineErrorPayload };
