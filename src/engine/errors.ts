/**
 * Errors as they cross the worker boundary: every thrown value becomes an {@link EngineErrorPayload}, and the
 * client turns it back into an {@link EngineError} carrying the original name, code and file.
 */
import { isDatasetError } from '../model/datasets';
import { ModelLoadError } from '../model/errors';
import { GraphPatternError } from '../model/patterns';
import { TapError } from '../model/runtime/onnxRewrite';
import { cleanRuntimeMessage, ModelRuntimeError } from '../model/runtime/runtimeError';
import { TranslatorError } from '../model/runtime/tfjs/errors';
import type { EngineErrorPayload } from '../shared/engineProtocol';
import { OutputWriteError } from './atomicWrite';

export { EngineError } from './engineError';

/** Thrown when a job was cancelled (by the user or because its worker was stopped). */
export class CancelledError extends Error {
  override readonly name = 'Cancelled';
  constructor(message = 'the job was cancelled') {
    super(message);
  }
}

/** A job whose cost estimate exceeds the configured budget. */
export class BudgetExceededError extends Error {
  override readonly name = 'BudgetExceeded';
}

/** An input the job cannot use (wrong option, missing label array, unsupported model kind…). */
export class JobInputError extends Error {
  override readonly name = 'JobInputError';
  constructor(
    message: string,
    readonly file?: string,
  ) {
    super(message);
  }
}

export function toPayload(e: unknown): EngineErrorPayload {
  if (e instanceof ModelLoadError) return { name: e.name, message: e.message, code: e.code, file: e.file, detail: e.detail };
  if (isDatasetError(e)) return { name: 'DatasetError', message: e.message, code: e.code, file: e.file, detail: e.detail };
  if (e instanceof TapError) return { name: e.name, message: e.message, file: e.file, detail: e.detail };
  if (e instanceof JobInputError) return { name: e.name, message: e.message, file: e.file };
  if (e instanceof GraphPatternError) return { name: e.name, message: e.message, file: e.file };
  if (e instanceof ModelRuntimeError) {
    return { name: e.name, message: e.message, code: e.code, file: e.file, detail: e.node ? `node '${e.node}': ${e.detail}` : e.detail };
  }
  if (e instanceof TranslatorError) return { name: e.name, message: e.message, code: e.code, detail: e.detail };
  if (e instanceof CancelledError || (e instanceof Error && e.name === 'AbortError')) return { name: 'Cancelled', message: 'the job was cancelled' };
  if (e instanceof BudgetExceededError) return { name: e.name, message: e.message };
  if (e instanceof OutputWriteError) return { name: e.name, message: e.message, code: 'io', file: e.file };
  // Anything else is a bug or an error nobody typed: one clean line, never a stack (it is for developers, and
  // the user sees it in the CLI's --json and the extension's messages).
  if (e instanceof Error) return { name: 'InternalError', code: 'internal', message: `internal error (${e.name}): ${cleanRuntimeMessage(e.message)}` };
  return { name: 'InternalError', code: 'internal', message: `internal error: ${cleanRuntimeMessage(safeString(e))}` };
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

function safeString(v: unknown): string {
  if (typeof v === 'string') return v;
  try {
    return JSON.stringify(v) ?? String(v);
  } catch {
    return Object.prototype.toString.call(v);
  }
}
