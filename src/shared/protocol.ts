/**
 * The one protocol file: every host ↔ webview message is a member of these discriminated unions. Both sides
 * import this file; dispatch with `switch (msg.type)` and {@link assertNever}. The webview says `ready`
 * before the host posts anything; requests carry an `id` and get one {@link Reply} (channel.ts; the host side is
 * src/extension/webviewChannel.ts).
 */
import type { Reply } from './channel';
import type { TensorPreview } from './engineProtocol';
import type { SerializedModelLoadError } from './errors';
import type { ModelGraph } from './ir';
import type { RevealTarget, RunRecord } from './results';
import type { ModelSummary } from './summary';

/** An error as it crosses to the webview: the loader's typed error, or a plain message. */
export type WebviewError = SerializedModelLoadError | { name: string; message: string };

export type WebviewToHost =
  | { type: 'ready' }
  | { type: 'openSource' }
  /** The user confirmed loading a file above `circuitscope.largeModelBytes`. */
  | { type: 'confirmLoad' }
  /** Request a weight tensor preview; answered by exactly one `tensor` message with the same id. */
  | { type: 'readTensor'; id: number; tensor: string; maxElements: number }
  /** Render timings (ms since the graph message arrived), logged by the host for diagnostics. */
  | { type: 'rendered'; nodes: number; edges: number; renderer: 'webgl' | 'canvas'; layoutMs: number; totalMs: number }
  /**
   * An export of the operator graph (graph/export.ts: SVG text, or PNG bytes rasterised in the page): the host asks
   * where to save it (the workspace by default), writes it and says where; answered by exactly one `saved` message
   * with the same id.
   */
  | { type: 'saveExport'; id: number; format: 'svg' | 'png'; fileName: string; content: string | Uint8Array }
  /** Put text on the clipboard (a node's name; `what` names it in the confirmation). */
  | { type: 'copyText'; text: string; what: string };

export type HostToWebview =
  | { type: 'loading'; file: string; bytes?: number }
  /** The file is above `circuitscope.largeModelBytes`: nothing is parsed until the webview says `confirmLoad`. */
  | { type: 'confirmLarge'; file: string; bytes: number; limit: number }
  | { type: 'graph'; graph: ModelGraph }
  /**
   * The same IR as UTF-8 JSON bytes, one piece (`index` of `count`) per message, in order; the webview joins and
   * parses them after the last. VS Code passes typed arrays to webviews without JSON-serializing them on the
   * extension host thread (a 20k-node IR as an object is a ~0.3 s stall there), and small pieces keep every
   * message cheap on the host (test/bench/graphHostLag.ts).
   */
  /** `encoding: 'gzip'`: the pieces join into a gzip stream of that JSON (what the engine sends: ~8x fewer bytes). */
  | { type: 'graphChunk'; bytes: Uint8Array; index: number; count: number; encoding?: 'gzip' }
  | { type: 'summary'; summary: ModelSummary }
  /** The one reply to `readTensor` with the same id: the preview, or the error. */
  | ({ type: 'tensor' } & Reply<TensorPreview, WebviewError>)
  | { type: 'error'; error: WebviewError }
  /**
   * Analysis runs on this model, for "colour by metric" and the circuit drawn over the graph (overlay.ts);
   * `active` picks the run and metric to show now (absent: keep the user's choice). Sent again when runs change.
   */
  | { type: 'overlay'; runs: RunRecord[]; active?: { runId: string; metric?: string } }
  /** Select, reveal (expanding its blocks) and centre an operator-graph element. */
  | { type: 'reveal'; target: RevealTarget }
  /** The one reply to `saveExport` with the same id: the file written (null: the user dismissed the dialog), or the error. */
  | ({ type: 'saved' } & Reply<{ file: string | null }, WebviewError>)
  /** Export the graph (the graph's context menu: the command runs in the host, the drawing is made in the page). */
  | { type: 'exportGraph'; format: 'svg' | 'png'; scope: 'view' | 'graph' };

// ------------------------------------------------------------------------------------------ results panel

/** An export the host writes to a file the user picks (text for json/csv/svg, bytes for png). */
export interface ExportRequest {
  type: 'export';
  format: 'json' | 'csv' | 'svg' | 'png';
  /** Suggested file name, e.g. `collapse-mlp-nc-over-layers.svg`. */
  fileName: string;
  content: string | Uint8Array;
  /** The run the content comes from: the save dialog opens in the folder that run was saved to. */
  runId?: string;
}

export type ResultsToHost =
  | { type: 'ready' }
  | ExportRequest
  /** Colour the model's operator graph by `metric` of run `runId` (opens the model if needed). */
  | { type: 'showOnModel'; runId: string; metric?: string }
  /** Draw the run's circuit / interaction graph in the side panel. */
  | { type: 'showCircuit'; runId: string }
  | { type: 'reveal'; model: string; target: RevealTarget };

export type HostToResults =
  /** Every run shown by this panel (the newest last); `focus` is the run to show first. */
  | { type: 'runs'; runs: RunRecord[]; focus?: string }
  /** An analysis in progress for this panel (shown until its run arrives, or the error). */
  | { type: 'progress'; analysis: string; model: string; message: string; fraction?: number }
  | { type: 'runError'; analysis: string; model: string; message: string; cancelled: boolean }
  | { type: 'exported'; file: string };

// ------------------------------------------------------------------------------------------ circuits side panel

export type CircuitsToHost =
  | { type: 'ready' }
  | ExportRequest
  /** Click-through: show this element in the model's operator graph. */
  | { type: 'reveal'; model: string; target: RevealTarget };

export type HostToCircuits =
  /** The runs that have a graph to draw (lib, circuit, redundancy with groups); `show` is the one to draw. */
  | { type: 'runs'; runs: RunRecord[]; show?: string }
  | { type: 'clear' };

export function assertNever(x: never, what = 'message'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
