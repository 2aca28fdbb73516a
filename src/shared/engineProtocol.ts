/**
 * The host ↔ engine-worker protocol (extension host or CLI on one side, the `worker_threads` engine on the
 * other). Requests carry ids; every request ends in exactly one `result` message whose payload is
 * `{ ok: true, value }` or `{ ok: false, error }`, so an error crosses the boundary instead of leaving a
 * promise hanging. Progress messages are throttled by the worker.
 */

/** A job the engine can run; each member names its result type in {@link JobResult}. */
export type JobRequest =
  | { kind: 'loadGraph'; model: string }
  /**
   * The graph as gzipped UTF-8 JSON bytes (the wire form, graphWire.ts), in chunks of at most {@link CHUNK_BYTES}
   * that cross as separate messages: the host never holds one huge message (its deserialization would stall the
   * host's event loop), never decompresses or parses them, and forwards the chunks to the webview, which does.
   */
  | { kind: 'loadGraphBytes'; model: string }
  /** The model summary as text (what `circuitscope info` prints): the host never receives the whole IR for it. */
  | { kind: 'modelSummary'; model: string }
  | { kind: 'readTensor'; model: string; tensor: string; maxElements?: number }
  | { kind: 'capture'; model: string; data: DatasetRef; taps: string[]; batchSize?: number; out?: string; limit?: number }
  | { kind: 'estimate'; model: string; data: DatasetRef; taps: string[]; batchSize?: number; limit?: number }
  | ({ kind: 'analysis' } & import('./analysis').AnalysisRequest)
  /**
   * The extension's analysis: the envelope, and the run file's text (pretty JSON, as chunks) made in the engine, so
   * that the extension host saves a large result without serializing it on its own thread.
   */
  | ({ kind: 'analysisRun' } & import('./analysis').AnalysisRequest)
  | ({ kind: 'estimateAnalysis' } & import('./analysis').AnalysisRequest)
  /**
   * Engine self-tests (the crash-recovery tests): `crash` exits, `abort` calls process.abort() (a native
   * abort, as onnxruntime would — only in an engine process: in a worker it would take its host down),
   * `oom` fills the heap, `grow` holds `mb` MB of touched memory outside the heap (the RSS watch's case).
   */
  | { kind: 'selfTest'; mode: 'crash' | 'abort' | 'oom' | 'grow' | 'sleep' | 'echo'; ms?: number; mb?: number }
  /** The registry as plain data (names, descriptions, option specs) for quick picks. */
  | { kind: 'listAnalyses' }
  /** Values of a model an analysis layer can be (activations and linear outputs, in graph order). */
  | { kind: 'layerCandidates'; model: string }
  /**
   * Each model's architecture signature (src/model/graphSignature.ts), for offering only checkpoints of one
   * architecture as a series; a model that fails to load gets `signature: null` and the error's one line.
   */
  | { kind: 'graphSignatures'; models: string[] };

/** The largest piece of a chunked result (1 MiB): each message deserializes on the host in about a millisecond. */
export const CHUNK_BYTES = 1 << 20;

/** Splits bytes into owned pieces of at most {@link CHUNK_BYTES} (each with its own buffer, so it can be transferred). */
export function toChunks(bytes: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.byteLength; o += CHUNK_BYTES) out.push(bytes.slice(o, Math.min(bytes.byteLength, o + CHUNK_BYTES)));
  return out;
}

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
  /** Choices the data layer made for the user (e.g. images resized to the model's input). */
  warnings?: string[];
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
  /** `chunks`: the gzip stream's pieces, in order; `byteLength`: the JSON's size; `sentBytes`: the pieces' total. */
  loadGraphBytes: { chunks: Uint8Array[]; encoding: 'gzip'; byteLength: number; sentBytes: number; nodes: number };
  modelSummary: { text: string };
  readTensor: TensorPreview;
  capture: CaptureSummary;
  estimate: CostEstimate;
  analysis: import('./analysis').AnalysisEnvelope;
  analysisRun: { envelope: import('./analysis').AnalysisEnvelope; chunks: Uint8Array[]; byteLength: number };
  estimateAnalysis: CostEstimate;
  selfTest: { echoed: string };
  listAnalyses: import('./analysis').AnalysisInfo[];
  layerCandidates: import('./analysis').LayerCandidate[];
  graphSignatures: { model: string; signature: string | null; error?: string }[];
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
  /** Sent once when the engine starts (an engine process's pid, for the log and for diagnostics). */
  | { type: 'ready'; pid: number }
  /** An engine process's resident size in bytes, every half second (its host's memory watch off Linux). */
  | { type: 'memory'; rss: number }
  | { type: 'progress'; id: number; done: number; total: number; stage: string }
  /** One piece of a result's `chunks` (sent in order before the `result`, whose `chunks` then is empty). */
  | { type: 'chunk'; id: number; bytes: Uint8Array }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; message: string }
  | JobDone
  | { type: 'result'; id: number; ok: false; error: EngineErrorPayload };

/** A job's result as it crosses, tagged with its kind: the client checks it against the job it sent. */
export type JobDone = { [K in JobKind]: { type: 'result'; id: number; ok: true; kind: K; value: JobResult<K> } }[JobKind];

/** The result message of job `id` of kind `kind` (one place where TypeScript needs the kind and value paired). */
export function jobDone<K extends JobKind>(id: number, kind: K, value: JobResult<K>): JobDone {
  return { type: 'result', id, ok: true, kind, value } as JobDone;
}
