/**
 * The onnxruntime-node adapter: the only file that imports it. Sessions are created from bytes (rewritten
 * graphs), with the CUDA execution provider when it is installed and CPU otherwise.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as ort from 'onnxruntime-node';
import { ortError } from './runtimeError';

export type OrtProvider = 'cuda' | 'cpu';

export interface OrtSession {
  provider: OrtProvider;
  /** Why a preferred provider was not used (e.g. CUDA EP not installed). */
  fallbackReason?: string;
  inputNames: readonly string[];
  outputNames: readonly string[];
  run(feeds: Record<string, OrtInput>, fetches?: readonly string[]): Promise<Record<string, OrtOutput>>;
  release(): Promise<void>;
}

export type OrtInput =
  | { dtype: 'float32'; data: Float32Array; dims: number[] }
  | { dtype: 'float64'; data: Float64Array; dims: number[] } | { dtype: 'int64'; data: BigInt64Array; dims: number[] } | { dtype: 'int32'; data: Int32Array; dims: number[] } | { dtype: 'bool'; data: Uint8Array; dims: number[] };

export interface OrtOutput {
  dtype: string;
  dims: number[];
  data: Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array | Uint16Array | Int16Array | Uint32Array | BigUint64Array | string[];
}

export interface OrtOptions {
  /**
   * onnxruntime's graph optimisation level (default 'all'). The circuit analysis' large generated graphs use
   * 'extended' (every fusion, no layout transforms): on its GPT-2-small gradient graph session creation took
   * 3.7 s instead of 4.9 s with the same run time (1.2–1.7 s per pass, load 8 on 2 cores).
   */
  optimization?: 'basic' | 'extended' | 'all';
  /** 'auto' tries CUDA first, then CPU. */
  provider?: 'auto' | OrtProvider;
  /** Intra-op threads (default: CIRCUITSCOPE_THREADS, set by the CLI's --threads, else onnxruntime's own choice). */
  threads?: number;
  /**
   * The folder external data `location`s are relative to: the model file's folder. A session created from
   * bytes otherwise resolves them against the process's working directory — a model run from elsewhere fails,
   * or silently reads a same-named file there.
   */
  externalDataDir?: string;
  /** The model file the bytes came from, named in errors (default: an internal kernel graph). */
  file?: string;
}

/** CIRCUITSCOPE_THREADS as a positive integer, else undefined (onnxruntime's own choice). */
function threadsSetting(): number | undefined {
  const n = Number(process.env.CIRCUITSCOPE_THREADS);
  return Number.isInteger(n) && n >= 1 ? n : undefined;
}

export function ortVersion(): string {
  return ort.env.versions.node ?? ort.env.versions.common ?? 'unknown';
}

async function create(bytes: Uint8Array, provider: OrtProvider, opts: OrtOptions): Promise<ort.InferenceSession> {
  const threads = opts.threads ?? threadsSetting();
  // onnxruntime's own logger writes ANSI-coloured lines to stderr for errors we report ourselves, typed and
  // naming the model (runtimeError.ts): keep it to fatal messages.
  ort.env.logLevel = 'fatal';
  return ort.InferenceSession.create(bytes, {
    logSeverityLevel: 4,
    executionProviders: [provider],
    graphOptimizationLevel: opts.optimization ?? 'all',
    // enableCpuMemArena / enableMemPattern stay onnxruntime's defaults (on). Measured on the GPT-2-small export
    // (attention, 32 × 128 tokens, --threads 1, 2026-12, load 18–20 on 2 cores): arena off lowered a batch-32
    // run's peak from 1,565 to ≤ 1,426 MB (the session's creation peak) at 38.3 s against 32.9 s; memory
    // pattern off changed neither peak (1,424 MB at the default batch) nor time beyond the noise.
    ...(threads ? { intraOpNumThreads: threads, interOpNumThreads: 1 } : {}),
    // onnxruntime's session config key `session.model_external_initializers_file_folder_path` (kOrtSessionOptions-
    // ModelExternalInitializersFileFolderPath): onnxruntime reads the files itself. Measured (2026-12, 196 MB of
    // weights, onnxruntime-node 1.30): session created in 0.3–0.5 s at 322 MB peak RSS, against 1.1 s and 519 MB
    // for the binding's `externalData` option (every file's bytes through JS) and 0.95 s / 519 MB for the same
    // model inline. Rewriting `location` to absolute paths is refused by onnxruntime ("Absolute path not allowed").
    // It still refuses locations that climb out of this folder.
    ...(opts.externalDataDir ? { extra: { session: { model_external_initializers_file_folder_path: opts.externalDataDir } } } : {}),
  });
}

/**
 * Whether onnxruntime-node's CUDA execution provider library is installed (it is downloaded only when the
 * package is installed with ONNXRUNTIME_NODE_INSTALL=cuda12 on a networked machine). Checking the file first
 * avoids onnxruntime's own error log on every session when it is absent.
 */
export function cudaProviderInstalled(): boolean {
  if (process.platform !== 'linux' && process.platform !== 'win32') return false;
  try {
    const pkg = path.dirname(require.resolve('onnxruntime-node/package.json'));
    const dir = path.join(pkg, 'bin', 'napi-v6', process.platform, process.arch);
    return fs.readdirSync(dir).some((f) => /onnxruntime_providers_cuda\.(so|dll)/.test(f));
  } catch {
    return false;
  }
}

/** Creates a session; with provider 'auto', falls back from CUDA to CPU and records why. */
export async function createOrtSession(bytes: Uint8Array, opts: OrtOptions = {}): Promise<OrtSession> {
  const file = opts.file ?? 'an onnxruntime kernel graph';
  try {
    return await createOrtSessionUnwrapped(bytes, opts, file);
  } catch (e) {
    throw ortError(e, 'session', file);
  }
}

async function createOrtSessionUnwrapped(bytes: Uint8Array, opts: OrtOptions, file: string): Promise<OrtSession> {
  const want = opts.provider ?? 'auto';
  let session: ort.InferenceSession;
  let provider: OrtProvider = 'cpu';
  let fallbackReason: string | undefined;
  if (want === 'auto' && !cudaProviderInstalled()) {
    fallbackReason = 'CUDA execution provider not installed';
    session = await create(bytes, 'cpu', opts);
  } else if (want === 'cuda' || want === 'auto') {
    try {
      session = await create(bytes, 'cuda', opts);
      provider = 'cuda';
    } catch (e) {
      if (want === 'cuda') throw new Error(`onnxruntime CUDA execution provider unavailable: ${e instanceof Error ? e.message : String(e)}`);
      fallbackReason = `CUDA execution provider unavailable (${(e instanceof Error ? e.message : String(e)).split('\n')[0]})`;
      session = await create(bytes, 'cpu', opts);
    }
  } else {
    session = await create(bytes, 'cpu', opts);
  }
  return {
    provider,
    fallbackReason,
    inputNames: session.inputNames,
    outputNames: session.outputNames,
    async run(feeds, fetches) {
      const inputs: Record<string, ort.Tensor> = {};
      for (const [k, v] of Object.entries(feeds)) inputs[k] = new ort.Tensor(v.dtype, v.data, v.dims);
      let out: ort.InferenceSession.ReturnType;
      try {
        out = fetches ? await session.run(inputs, fetches as string[]) : await session.run(inputs);
      } catch (e) {
        throw ortError(e, 'run', file);
      }
      const res: Record<string, OrtOutput> = {};
      for (const [k, t] of Object.entries(out)) {
        res[k] = { dtype: t.type, dims: [...t.dims], data: t.data as OrtOutput['data'] };
        t.dispose?.();
      }
      return res;
    },
    async release() {
      await session.release();
    },
  };
}
