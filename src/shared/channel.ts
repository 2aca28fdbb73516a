/**
 * The host side of every host → webview channel, without vscode (the adapter is src/extension/webviewChannel.ts):
 * the webview says `ready` before anything reaches it (a page loads asynchronously and drops what arrives
 * before its listener), so messages wait in a queue until the gate opens; state messages (a run list) replace
 * their queued predecessors; a request carrying an `id` gets exactly one reply, `{ ok: true, value }` or
 * `{ ok: false, error }`, so an error crosses the boundary instead of leaving the page's promise hanging.
 */

/** The one answer to a request that carried `id`. */
export type Reply<T, E> = { id: number; ok: true; value: T } | { id: number; ok: false; error: E };

export interface GateOptions<Out extends { type: string }> {
  /** Message types that carry a whole state: a newer one replaces every queued message of these types. */
  coalesce?: readonly Out['type'][];
}

export class MessageGate<Out extends { type: string }> {
  private open = false;
  private readonly queue: Out[] = [];

  constructor(
    private readonly send: (msg: Out) => void,
    private readonly options: GateOptions<Out> = {},
  ) {}

  get isOpen(): boolean {
    return this.open;
  }

  /** Sends now when the gate is open, else queues (coalescing state messages). */
  post(msg: Out): void {
    if (this.open) {
      this.send(msg);
      return;
    }
    const state = this.options.coalesce ?? [];
    if (state.includes(msg.type)) {
      for (let i = this.queue.length - 1; i >= 0; i--) if (state.includes(this.queue[i].type)) this.queue.splice(i, 1);
    }
    this.queue.push(msg);
  }

  /**
   * Opens the gate: sends `first(queued)` (what the page needs before the queue, e.g. the current state when none
   * is queued), then the queue in order.
   */
  openGate(first?: (queued: readonly Out[]) => Out[]): void {
    const queued = this.queue.splice(0);
    this.open = true;
    for (const m of first?.(queued) ?? []) this.send(m);
    for (const m of queued) this.send(m);
  }

  /** The page was discarded (a hidden editor) and will say `ready` again: queue until then. */
  close(): void {
    this.open = false;
  }

  /** Queued messages (for tests and diagnostics). */
  pending(): readonly Out[] {
    return this.queue;
  }
}

/** Settles `work` into one reply for request `id` (`toError` turns any thrown value into the wire error). */
export async function settle<T, E>(id: number, work: Promise<T>, toError: (e: unknown) => E): Promise<Reply<T, E>> {
  try {
    return { id, ok: true, value: await work };
  } catch (e) {
    return { id, ok: false, error: toError(e) };
  }
}
