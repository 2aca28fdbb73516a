/**
 * Running an ONNX model over a dataset batch by batch with any intermediate values captured ("taps"), and
 * handing each batch's tensors to consumers that accumulate — the shared job runner every analysis stands
 * on. Activations of a whole dataset are never held in memory: consumers keep sums, Grams, codes.
 */
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import * as v8 from 'node:v8';
import * as vm from 'node:vm';
import { checkAgainstModelInput, openDataset, type Batch, type Dataset, type DatasetSpec } from '../model/datasets';
import type { LoadedModel, ModelGraph } from '../model/ir';
import { readFileWithSpare, TAP_SPARE_BYTES } from '../model/load';
import { resolveTaps, tapModelBytes } from '../model/runtime/onnxRewrite';
import { createOrtSession, ortVersion, type OrtInput, type OrtOutput, type OrtSession } from '../model/runtime/ort';
import { createTfjsSession } from '../model/runtime/tfjsModels';
import type { BackendChoice } from '../model/runtime/tfjs/backend';
import type { DatasetRef } from '../shared/engineProtocol';
import { JobInputError, throwIfAborted } from './errors';
import { checkDatasetTokens, embeddingVocabulary, isIntegerData } from './tokens';
import { loadCached } from './modelCache';

export interface JobContext {
  signal?: AbortSignal;
  /** Reports progress; the worker throttles what it forwards. */
  progress?: (done: number, total: number, stage: string) => void;
  log?: (message: string) => void;
  /**
   * A warning about the data that belongs in the result (e.g. an image folder resized to fit the model);
   * the analysis job adds each one, once, to the envelope's warnings.
   */
  note?: (message: string) => void;
}

export interface TapBatch {
  start: number;
  count: number;
  labels?: Int32Array;
  /** Every tap, by value name (a model output only when it was asked for as a tap: nothing else is computed). */
  tensors: Record<string, OrtOutput>;
}

/** A prepared ONNX session with taps, bound to one model and one dataset. */
export interface TapRunner {
  model: LoadedModel;
  dataset: Dataset;
  inputName: string;
  taps: string[];
  session: OrtSession;
  backend: string;
}

interface SessionEntry {
  key: string;
  session: Promise<OrtSession>;
}

/** Sessions cached per (model file, mtime, tap set); a few at most, released on eviction. */
const sessions: SessionEntry[] = [];
const MAX_SESSIONS = 3;

export async function sessionFor(model: LoadedModel, taps: readonly string[]): Promise<OrtSession & { backendName?: string }> {
  const graph = model.graph;
  const file = graph.file;
  const stat = await fs.stat(file);
  const key = `${file}\u0000${stat.mtimeMs}\u0000${[...new Set(taps)].sort().join('\u0000')}`;
  const hit = sessions.findIndex((s) => s.key === key);
  if (hit >= 0) {
    const [entry] = sessions.splice(hit, 1);
    sessions.unshift(entry);
    return entry.session;
  }
  const session = (async () => {
    if (graph.format !== 'onnx') return createTfjsSession(graph, taps, tfjsBackendSetting());
    const s = await createTapSession(model, taps);
    // The model's bytes (the file, read once) are garbage now; V8 frees an ArrayBuffer only with its next full
    // collection, which may come after a run has allocated its batches on top (measured on the 653 MB GPT-2:
    // RSS 1,414 MB after the estimate's calibration without this, 772 MB with it; process peak 1,535 → 1,424 MB).
    collectGarbage();
    return s;
  })();
  sessions.unshift({ key, session });
  session.catch(() => {
    const i = sessions.findIndex((s) => s.key === key);
    if (i >= 0) sessions.splice(i, 1);
  });
  while (sessions.length > MAX_SESSIONS) {
    const old = sessions.pop()!;
    void old.session.then((s) => s.release()).catch(() => {});
  }
  return session;
}

/**
 * An onnxruntime session whose outputs are exactly the taps, created from the bytes the loader read (taken
 * from the model, so the file is read once) or, when another session took them already, from a fresh read.
 * The bytes are edited in place for onnxruntime to parse (tap outputs appended, unneeded outputs and nodes
 * hidden; see {@link tapModelBytes}), restored, and dropped: after this only onnxruntime holds the weights.
 */
async function createTapSession(model: LoadedModel, taps: readonly string[]): Promise<OrtSession> {
  const file = model.graph.file;
  const own = model.takeBytes?.() ?? (await readFileWithSpare(file, TAP_SPARE_BYTES));
  const tapped = tapModelBytes(file, own, taps.length ? taps : model.graph.outputs, (n) => model.valueInfo?.(n));
  try {
    const p = process.env.CIRCUITSCOPE_ORT_PROVIDER;
    return await createOrtSession(tapped.bytes, {
      provider: p === 'cuda' || p === 'cpu' ? p : 'auto',
      externalDataDir: path.dirname(file),
      file,
    });
  } finally {
    tapped.restore();
  }
}

/**
 * Memory one batch adds to the process, per captured byte of the batch: the JS copy of the taps, onnxruntime's
 * own output buffers and the forward pass's intermediates (scores, masks, an MLP's hidden layer), which grow with
 * the batch as the taps do. Measured on the GPT-2-small export (attention probabilities of 12 layers × 12 heads,
 * T 128: 9.4 MB a prompt; --threads 1, 2026-12): a batch of 32 (302 MB of taps) raised the process from 772 MB
 * after the session to a 1,565 MB peak, 2.6× the taps; taken as 3.
 */
export const BATCH_GROWTH_PER_TAP_BYTE = 3;

/**
 * The process's RSS peak (bytes) reached since `maxRssKb` (an earlier `process.resourceUsage().maxRSS`) — e.g.
 * while a session was created — or 0 when the peak did not rise since (an earlier job's peak is not this one's).
 */
export function sessionPeakSince(maxRssKb: number): number {
  const now = process.resourceUsage().maxRSS;
  return now > maxRssKb ? now * 1024 : 0;
}

let gc: (() => void) | null | undefined = null;

/** A full garbage collection now, where the runtime allows it (`--expose-gc` set at run time); else nothing. */
export function collectGarbage(): void {
  if (gc === null) {
    try {
      v8.setFlagsFromString('--expose-gc');
      gc = vm.runInNewContext('gc') as () => void;
    } catch {
      gc = undefined;
    }
  }
  gc?.();
}

/** Releases every cached session (cancellation, worker shutdown). */
export async function releaseSessions(): Promise<void> {
  const all = sessions.splice(0);
  await Promise.all(all.map((s) => s.session.then((x) => x.release()).catch(() => {})));
}

/** The tfjs backend to use (CIRCUITSCOPE_BACKEND or the extension's setting passed through it; default auto). */
export function tfjsBackendSetting(): BackendChoice | 'auto' {
  const v = process.env.CIRCUITSCOPE_BACKEND;
  return v === 'tfjs-node-gpu' || v === 'tfjs-node' || v === 'wasm' || v === 'cpu' ? v : 'auto';
}

/**
 * Opens a dataset from a path or an inline spec; a `.json` path is read as a dataset spec file. With the
 * model input, an image folder is fitted to it where its spec does not say (see {@link openDataset}).
 */
export async function openDatasetRef(ref: DatasetRef, signal?: AbortSignal, modelInput?: { name: string; shape: readonly (number | string | null)[] }): Promise<Dataset> {
  if (typeof ref === 'string') return openDataset(ref, { signal, modelInput, maxBytes: budgetBytes() });
  return openDataset(ref as unknown as DatasetSpec, { signal, modelInput, maxBytes: budgetBytes() });
}

/** The memory budget (CIRCUITSCOPE_BUDGET_MB, which the extension sets from circuitscope.memoryBudgetMB) in bytes, for data decoded at open. */
function budgetBytes(): number | undefined {
  const mb = Number(process.env.CIRCUITSCOPE_BUDGET_MB);
  return Number.isFinite(mb) && mb > 0 ? mb * 2 ** 20 : undefined;
}

function singleInput(graph: ModelGraph): string {
  if (graph.inputs.length !== 1) {
    throw new JobInputError(
      `expected a model with one input, found ${graph.inputs.length} (${graph.inputs.map((i) => `'${i}'`).join(', ') || 'none'}); multi-input models are not supported by capture yet: export the model with one input (an attention mask or token types built inside it, or fixed as constants — e.g. torch.onnx.export with only input_ids)`,
      graph.file,
    );
  }
  return graph.inputs[0];
}

/** Loads the model (cached), opens the dataset, checks shapes and taps, and prepares the session. */
export async function prepareTaps(modelFile: string, data: DatasetRef, taps: readonly string[], ctx: JobContext = {}): Promise<TapRunner> {
  const model = await loadCached(modelFile);
  const graph = model.graph;
  const inputName = singleInput(graph);
  const input = graph.values[inputName];
  const dataset = await openDatasetRef(data, ctx.signal, input.shape ? { name: inputName, shape: input.shape } : undefined);
  for (const n of dataset.notes) ctx.log?.(`data: ${n}`);
  for (const w of dataset.warnings) ctx.note?.(w);
  checkAgainstModelInput(dataset, input.shape ?? [], input.dtype ?? 'float32', inputName);
  // Integer data feeding an embedding table: every id checked against its rows before the model runs (Gather
  // would wrap a negative id to the end of the table, and fail on one past it with the runtime's message).
  const vocab = isIntegerData(dataset) ? embeddingVocabulary(graph, inputName) : undefined;
  if (vocab) await checkDatasetTokens(dataset, dataset.inputs.count, vocab, ctx.signal);
  const unique = resolveTaps(graph, taps);
  throwIfAborted(ctx.signal);
  const session = await sessionFor(model, unique);
  const backend =
    session.backendName ??
    `onnxruntime-node ${ortVersion()} (${session.provider} execution provider${session.fallbackReason ? `; ${session.fallbackReason}` : ''})`;
  return { model, dataset, inputName, taps: unique, session, backend };
}

function toOrtInput(batch: Batch, file: string): OrtInput {
  const x = batch.x;
  if (x instanceof Float32Array) return { dtype: 'float32', data: x, dims: batch.shape };
  if (x instanceof BigInt64Array) return { dtype: 'int64', data: x, dims: batch.shape };
  if (x instanceof Int32Array) return { dtype: 'int32', data: x, dims: batch.shape };
  throw new JobInputError(`expected float32 or int64 batches, found ${x.constructor.name}; declare "dtype" in the dataset spec`, file);
}

/**
 * Runs the prepared session over the dataset, calling `onBatch` with each batch's tensors, in order.
 * Honours cancellation between batches. Returns the number of samples processed.
 */
export async function forEachBatch(
  runner: TapRunner,
  batchSize: number,
  onBatch: (b: TapBatch) => void | Promise<void>,
  ctx: JobContext = {},
  range: { start?: number; end?: number } = {},
): Promise<{ samples: number; batches: number; runMs: number }> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new JobInputError(`batch size must be a positive integer, found ${batchSize}`);
  const start = range.start ?? 0;
  const end = Math.min(range.end ?? runner.dataset.inputs.count, runner.dataset.inputs.count);
  const total = Math.max(0, end - start);
  let samples = 0;
  let batches = 0;
  let runMs = 0;
  // only the taps: an output nobody asked for (a language model's logits) is neither computed nor copied
  const fetches = runner.taps.length ? runner.taps : [...runner.session.outputNames];
  ctx.progress?.(0, total, 'running');
  for await (const batch of runner.dataset.batches(batchSize, { signal: ctx.signal, start, end })) {
    throwIfAborted(ctx.signal);
    const t0 = performance.now();
    const tensors = await runner.session.run({ [runner.inputName]: toOrtInput(batch, runner.dataset.file) }, fetches);
    runMs += performance.now() - t0;
    await onBatch({ start: batch.start, count: batch.count, labels: batch.labels, tensors });
    samples += batch.count;
    batches++;
    ctx.progress?.(samples, total, 'running');
  }
  return { samples, batches, runMs };
}

/** Resolves an output path for capture: must be a .npz in an existing folder. */
export async function checkOutPath(out: string): Promise<string> {
  const abs = path.resolve(out);
  if (!abs.endsWith('.npz')) throw new JobInputError(`expected an output path ending in .npz, found '${out}'`);
  try {
    const st = await fs.stat(path.dirname(abs));
    if (!st.isDirectory()) throw new Error('not a directory');
  } catch {
    throw new JobInputError(`the output folder ${path.dirname(abs)} does not exist`);
  }
  return abs;
}
