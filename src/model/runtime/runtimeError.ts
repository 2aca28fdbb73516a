/**
 * Errors raised by a model runtime (onnxruntime-node, tfjs) while creating a session or running a batch,
 * turned into one typed, one-line {@link ModelRuntimeError} that names the model file and, when the runtime's
 * message says it, the node. Runtime messages are cleaned first: ANSI colour codes, onnxruntime's log prefix
 * (`[E:onnxruntime:, sequential_executor.cc:514 ExecuteKernel]`), its source paths
 * (`/onnxruntime_src/onnxruntime/core/…/gemm_helper.h:13 onnxruntime::GemmHelper::GemmHelper(…)`) and line
 * breaks are removed, so what is left is the runtime's own explanation.
 */

export type RuntimeName = 'onnxruntime' | 'tfjs';

export type ModelRuntimeErrorCode =
  /** The runtime refused the model when creating a session (invalid graph, unsupported op, bad weights). */
  | 'session'
  /** A batch failed inside the runtime (shape mismatch at a node, out of memory, …). */
  | 'run';

export class ModelRuntimeError extends Error {
  override readonly name = 'ModelRuntimeError';
  constructor(
    readonly code: ModelRuntimeErrorCode,
    readonly runtime: RuntimeName,
    /** The model file the runtime was running. */
    readonly file: string,
    /** The runtime's explanation, cleaned to one line. */
    readonly detail: string,
    /** The node (ONNX node name, TF.js layer or op) the runtime named, when it did. */
    readonly node?: string,
  ) {
    super(`${file}: ${runtime} ${code === 'session' ? 'could not load the model' : 'failed running the model'}${node ? ` at node '${node}'` : ''}: ${detail}`);
  }
}

// eslint-disable-next-line no-control-regex
const ANSI = /\u001b\[[0-9;?]*[ -/]*[@-~]/g;
/** onnxruntime's log line prefix: `2026-12-06 20:45:25.123 [E:onnxruntime:, inference_session.cc:1234 Method]`. */
const ORT_LOG_PREFIX = /(?:\d{4}-\d{2}-\d{2}[ T][\d:.]+\s*)?\[[EWIVF]:onnxruntime:[^\]]*\]\s*/g;
/** onnxruntime's `[ONNXRuntimeError] : 1 : FAIL :` status prefix. */
const ORT_STATUS = /\[ONNXRuntimeError\]\s*:\s*\d+\s*:\s*[A-Z_]+\s*:\s*/g;
/**
 * A source location — a path (`/onnxruntime_src/…/gemm_helper.h:13`) or a bare C/C++ file name
 * (`matmul_helper.h:59`, release builds) — and the function named after it: a signature with its argument list
 * (`onnxruntime::GemmHelper::GemmHelper(const TensorShape&, …)`) or one identifier (`Compute`).
 */
const SOURCE_PATH =
  /(?:(?:\/[\w.+-]+)*\/)?[\w.+-]+\.(?:h|hh|hpp|c|cc|cpp|cxx|cu|inc):\d+(?:\s+(?:[\w:~<>,*&]+(?: [\w:~<>,*&]+)*\([^()]*(?:\([^()]*\)[^()]*)*\)|[\w:~<>]+))?\s*/g;

/** One clean line from a runtime's message (see the module comment); at most 600 characters. */
export function cleanRuntimeMessage(message: string): string {
  let s = message.replace(ANSI, '').replace(ORT_LOG_PREFIX, '').replace(ORT_STATUS, '').replace(SOURCE_PATH, '');
  // JS stack frames, should a runtime have put one into its message.
  s = s
    .split(/\r?\n/)
    .filter((l) => !/^\s*at\s/.test(l))
    .join(' ');
  s = s.replace(/\s+/g, ' ').trim();
  // JavaScript's renderings of values a runtime quoted without formatting them.
  s = s.replace(/\[object Object\]/g, 'an object').replace(/\bnull\/undefined\b/g, 'null').replace(/\bundefined\b/g, 'nothing');
  if (!s) s = 'no message from the runtime';
  return s.length > 600 ? `${s.slice(0, 600)}…` : s;
}

/** The node an onnxruntime message names: `Node (name) Op (…)`, `node. Name:'name'`, `Name:'name'`. */
export function ortNodeOf(message: string): string | undefined {
  const m =
    /\bNode \(([^)]+)\)/.exec(message) ??
    /\bnode\.\s*Name:\s*'([^']*)'/i.exec(message) ??
    /\bName:\s*'([^']+)'/.exec(message) ??
    /\bnode '([^']+)'/i.exec(message);
  return m?.[1] || undefined;
}

/** Drops the node reference once it is carried separately, so the message does not say it twice. */
function withoutOrtNode(detail: string): string {
  return detail
    .replace(/^Non-zero status code returned while running (\S+) node\.\s*Name:\s*'[^']*'\s*Status Message:\s*/i, '$1: ')
    .replace(/\bNode \([^)]+\)\s*/, '')
    .trim();
}

/**
 * A JavaScript engine error raised inside a runtime (`Cannot read properties of undefined`, `Invalid typed
 * array length: 128000000000`) says nothing to the user as it stands: say what it means instead.
 */
function internalText(e: unknown): string | undefined {
  if (!(e instanceof TypeError || e instanceof RangeError || e instanceof ReferenceError)) return undefined;
  // onnxruntime-common raises TypeError/RangeError for bad feeds too, with useful messages: only the engine's own pass.
  if (!/Cannot (read|set) propert|is not a function|is not iterable|is not defined|Invalid typed array length|Array buffer allocation failed|Invalid array length|Maximum call stack/.test(e.message)) return undefined;
  if (/Invalid typed array length|Array buffer allocation failed|Invalid array length/.test(e.message)) {
    return 'a tensor the model declares is too large to allocate (check its layer sizes and input shape)';
  }
  return `the runtime stopped on a model configuration it cannot interpret (an internal ${e.name}); the model file is probably malformed`;
}

/** Wraps anything onnxruntime threw. Already-typed errors pass through. */
export function ortError(e: unknown, code: ModelRuntimeErrorCode, file: string): Error {
  if (e instanceof ModelRuntimeError) return e;
  const internal = internalText(e);
  if (internal) return new ModelRuntimeError(code, 'onnxruntime', file, internal);
  const raw = e instanceof Error ? e.message : String(e);
  const clean = cleanRuntimeMessage(raw);
  const node = ortNodeOf(clean);
  return new ModelRuntimeError(code, 'onnxruntime', file, node ? withoutOrtNode(clean) || clean : clean, node);
}

/**
 * Wraps anything tfjs threw. tfjs-layers names the layer in some messages (`Layer fc1 …`, `layer "fc1"`);
 * tfjs-converter names the node (`node 'x'`, `the node x`).
 */
export function tfjsError(e: unknown, code: ModelRuntimeErrorCode, file: string, isTyped?: (e: unknown) => boolean): Error {
  if (e instanceof ModelRuntimeError || (isTyped && isTyped(e))) return e as Error;
  const internal = internalText(e);
  if (internal) return new ModelRuntimeError(code, 'tfjs', file, internal);
  const raw = e instanceof Error ? e.message : String(e);
  const clean = cleanRuntimeMessage(raw);
  const m = /\b[Ll]ayer ['"]?([\w/.-]+?)['"]?[ :,]/.exec(clean) ?? /\bnode ['"]?([\w/.-]+)['"]?/i.exec(clean);
  return new ModelRuntimeError(code, 'tfjs', file, clean, m?.[1]);
}
