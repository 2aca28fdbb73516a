import * as vscode from 'vscode';
import { MessageGate, settle, type GateOptions, type Reply } from '../shared/channel';
import type { Validated } from '../shared/validate';

export interface ChannelOptions<In extends { type: string }, Out extends { type: string }> extends GateOptions<Out> {
  /** Names the webview in log lines ("results panel"). */
  name: string;
  output: vscode.LogOutputChannel;
  /** The runtime check of every incoming message (src/shared/validate.ts): what fails it is logged and dropped. */
  validate: (raw: unknown) => Validated<In>;
  /** Every valid message but `ready`; a rejection is logged and shown as an error notification. */
  onMessage: (msg: Exclude<In, { type: 'ready' }>) => void | Promise<void>;
  /**
   * On `ready`: what to send before the queue (the current state when none is queued). Absent with `manualOpen`:
   * called each time the page says ready, and the owner opens the gate itself (see {@link WebviewChannel.open}).
   */
  onReady?: (queued: readonly Out[]) => Out[] | void;
  /**
   * The owner opens the gate (the graph editor: after the graph has been sent, so an overlay never reaches a page
   * without a graph); until then {@link WebviewChannel.postNow} sends the handshake's own messages.
   */
  manualOpen?: boolean;
}

/**
 * One typed host ↔ webview channel (used by the graph editor, the results panel and the circuits view): the
 * `ready` handshake, a queue until then, validation of what the page sends, and request/reply with ok/err.
 */
export class WebviewChannel<In extends { type: string }, Out extends { type: string }> implements vscode.Disposable {
  private readonly gate: MessageGate<Out>;
  private readonly sub: vscode.Disposable;

  constructor(
    private readonly webview: vscode.Webview,
    private readonly options: ChannelOptions<In, Out>,
  ) {
    this.gate = new MessageGate<Out>((m) => this.postNow(m), options);
    this.sub = webview.onDidReceiveMessage((raw: unknown) => this.receive(raw));
  }

  get isOpen(): boolean {
    return this.gate.isOpen;
  }

  /** Sends once the page is ready (queued before). */
  post(msg: Out): void {
    this.gate.post(msg);
  }

  /** Sends at once (the handshake's own messages, after `ready`). */
  postNow(msg: Out): void {
    void this.webview.postMessage(msg);
  }

  /** Opens the gate of a `manualOpen` channel: `first(queued)`, then the queue. */
  open(first?: (queued: readonly Out[]) => Out[]): void {
    this.gate.openGate(first);
  }

  /** The page was discarded (a hidden editor without retained context): queue until it says ready again. */
  reset(): void {
    this.gate.close();
  }

  /** Answers a request: one reply message made by `wrap` from `{ id, ok, value } | { id, ok: false, error }`. */
  reply<T, E>(id: number, work: Promise<T>, toError: (e: unknown) => E, wrap: (r: Reply<T, E>) => Out): void {
    void settle(id, work, toError).then((r) => this.postNow(wrap(r)));
  }

  dispose(): void {
    this.sub.dispose();
  }

  private receive(raw: unknown): void {
    const { name, output } = this.options;
    const checked = this.options.validate(raw);
    if (!checked.ok) {
      output.warn(`${name}: dropped a message that does not follow the protocol: ${checked.reason}`);
      return;
    }
    const msg = checked.message;
    if (msg.type === 'ready') {
      const first = this.options.onReady;
      if (this.options.manualOpen) first?.([]);
      else this.gate.openGate(first ? (q) => first(q) ?? [] : undefined);
      return;
    }
    Promise.resolve()
      .then(() => this.options.onMessage(msg as Exclude<In, { type: 'ready' }>))
      .catch((e: unknown) => {
        const text = e instanceof Error ? e.message : String(e);
        output.error(`${name}: ${text}`);
        void vscode.window.showErrorMessage(`Circuitscope: ${text}`);
      });
  }
}
