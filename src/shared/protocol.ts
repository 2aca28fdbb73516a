/**
 * The one protocol file: every host ↔ webview message is a member of these discriminated unions. Both sides
 * import this file; dispatch with `switch (msg.type)` and {@link assertNever}. The webview says `ready`
 * before the host posts anything.
 */
import type { SerializedModelLoadError } from './errors';
import type { ModelSummaryView } from './views';

export type WebviewToHost = { type: 'ready' } | { type: 'openSource' };

export type HostToWebview =
  | { type: 'loading'; file: string }
  | { type: 'summary'; summary: ModelSummaryView }
  | { type: 'error'; error: SerializedModelLoadError | { name: 'Error'; message: string } };

export function assertNever(x: never, what = 'message'): never {
  throw new Error(`unexpected ${what}: ${JSON.stringify(x)}`);
}
