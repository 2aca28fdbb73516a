/**
 * The one protocol file: every host ↔ webview message is a member of these discriminated unions. Both sides
 * import this file; dispatch with `switch (msg.type)` and {@link assertNever}. The webview says `ready`
 * before the host posts anything.
 */
import type { TensorPreview } from './engineProtocol';
import type { SerializedModelLoadError } from './errors';
import type { ModelGraph } from './ir';
import type { ModelSummaryView } from './views';

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
  | { type: 'rendered'; nodes: number; edges: number; renderer: 'webgl' | 'canvas'; layoutMs: number; totalMs: number };

export type HostToWebview =
  | { type: 'loading'; file: string; bytes?: number }
  /** The file is above `circuitscope.largeModelBytes`: nothing is parsed until the webview says `confirmLoad`. */
  | { type: 'confirmLarge'; file: string; bytes: number; limit: number }
  | { type: 'graph'; graph: ModelGraph }
  /**
   * The same IR as UTF-8 JSON bytes. VS Code passes typed arrays to webviews without JSON-serializing them
   * on the extension host thread, which for a 20k-node IR is a ~0.3 s stall (test/bench/graphHostLag.ts).
   */
  | { type: 'graphBytes'; bytes: Uint8Array }
  | { type: 'summary'; summary: ModelSummaryView }
  | { type: 'tensor'; id: number; ok: true; value: TensorPreview }
  | { type: 'tensor'; id: number; ok: false; error: WebviewError }
  | { type: 'error'; error: WebviewError };

export function assertNever(x: never, what = 'message'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
