/**
 * Runtime checks of webview → host messages, one per message kind, typed from the unions in protocol.ts: a
 * webview is a page the host does not control (a compromised or stale page, a bug), so the host validates each
 * message at the boundary and drops — with a log line — what does not match the protocol, instead of casting.
 * Every union member must have a checker here (the mapped types below fail to compile otherwise). Pure: no
 * vscode, no node.
 */
import type { CircuitsToHost, ExportRequest, ResultsToHost, WebviewToHost } from './protocol';

type Fields = Record<string, unknown>;
/** A field check: undefined when fine, else what is wrong. */
type Check = (v: unknown) => string | undefined;
/** The checks of one message kind: every field but `type`; `?` in the name marks an optional one. */
type Spec = Record<string, Check>;
type Specs<M extends { type: string }> = { [K in M['type']]: Spec };

export type Validated<M> = { ok: true; message: M } | { ok: false; reason: string };

const MAX_STRING = 4096;
/** An export's content may be a whole chart or table. */
const MAX_EXPORT = 256 * 2 ** 20;

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (v instanceof Uint8Array) return `${v.byteLength} bytes`;
  if (typeof v === 'string') return v.length > 40 ? `a string of ${v.length} characters` : JSON.stringify(v);
  if (typeof v === 'number') return String(v);
  return typeof v;
}

const str =
  (max = MAX_STRING): Check =>
  (v) =>
    typeof v !== 'string' ? `expected a string, found ${describe(v)}` : v.length > max ? `expected at most ${max} characters, found ${v.length}` : undefined;
const nonEmpty: Check = (v) => str()(v) ?? (v === '' ? 'expected a non-empty string' : undefined);
const int =
  (min: number, max: number): Check =>
  (v) =>
    typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max ? undefined : `expected an integer in [${min}, ${max}], found ${describe(v)}`;
const finite: Check = (v) => (typeof v === 'number' && Number.isFinite(v) && v >= 0 ? undefined : `expected a non-negative number, found ${describe(v)}`);
const oneOf =
  (...choices: string[]): Check =>
  (v) =>
    typeof v === 'string' && choices.includes(v) ? undefined : `expected one of ${choices.join(', ')}, found ${describe(v)}`;
const revealTarget: Check = (v) => {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return `expected an object { value?, node?, label? }, found ${describe(v)}`;
  const t = v as Fields;
  for (const k of ['value', 'node', 'label']) {
    const bad = t[k] === undefined ? undefined : str()(t[k]);
    if (bad) return `${k}: ${bad}`;
  }
  if (t.value === undefined && t.node === undefined) return 'expected a value or a node name';
  return undefined;
};
const exportContent: Check = (v) =>
  typeof v === 'string' || v instanceof Uint8Array
    ? (typeof v === 'string' ? v.length : v.byteLength) > MAX_EXPORT
      ? `expected at most ${MAX_EXPORT} bytes`
      : undefined
    : `expected text or bytes, found ${describe(v)}`;

const exportSpec: Record<Exclude<keyof ExportRequest, 'type' | 'runId'> | 'runId?', Check> = {
  format: oneOf('json', 'csv', 'svg', 'png'),
  fileName: str(255),
  content: exportContent,
  'runId?': str(),
};

const GRAPH: Specs<WebviewToHost> = {
  ready: {},
  openSource: {},
  confirmLoad: {},
  readTensor: { id: int(0, Number.MAX_SAFE_INTEGER), tensor: nonEmpty, maxElements: int(0, 1_000_000) },
  rendered: { nodes: int(0, 1e9), edges: int(0, 1e9), renderer: oneOf('webgl', 'canvas'), layoutMs: finite, totalMs: finite },
  saveExport: { id: int(0, Number.MAX_SAFE_INTEGER), format: oneOf('svg', 'png'), fileName: str(255), content: exportContent },
  copyText: { text: str(), what: str(64) },
};

const RESULTS: Specs<ResultsToHost> = {
  ready: {},
  export: exportSpec,
  showOnModel: { runId: nonEmpty, 'metric?': str() },
  showCircuit: { runId: nonEmpty },
  reveal: { model: nonEmpty, target: revealTarget },
};

const CIRCUITS: Specs<CircuitsToHost> = {
  ready: {},
  export: exportSpec,
  reveal: { model: nonEmpty, target: revealTarget },
};

function validate<M extends { type: string }>(specs: Specs<M>, raw: unknown): Validated<M> {
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) return { ok: false, reason: `expected a message object, found ${describe(raw)}` };
  const m = raw as Fields;
  if (m.type === undefined) return { ok: false, reason: `expected a message with a "type", found one with keys ${Object.keys(m).slice(0, 8).join(', ') || '(none)'}` };
  if (typeof m.type !== 'string' || !Object.prototype.hasOwnProperty.call(specs, m.type)) {
    return { ok: false, reason: `unknown message type ${describe(m.type)} (known: ${Object.keys(specs).join(', ')})` };
  }
  const spec = (specs as Record<string, Spec>)[m.type];
  for (const [key, check] of Object.entries(spec)) {
    const optional = key.endsWith('?');
    const name = optional ? key.slice(0, -1) : key;
    const v = m[name];
    if (v === undefined) {
      if (optional) continue;
      return { ok: false, reason: `'${m.type}' message: missing ${name}` };
    }
    const bad = check(v);
    if (bad) return { ok: false, reason: `'${m.type}' message: ${name}: ${bad}` };
  }
  return { ok: true, message: raw as M };
}

/** Checks a message from the operator-graph editor's webview. */
export const validateGraphMessage = (raw: unknown): Validated<WebviewToHost> => validate(GRAPH, raw);
/** Checks a message from the results panel. */
export const validateResultsMessage = (raw: unknown): Validated<ResultsToHost> => validate(RESULTS, raw);
/** Checks a message from the circuits side panel. */
export const validateCircuitsMessage = (raw: unknown): Validated<CircuitsToHost> => validate(CIRCUITS, raw);
