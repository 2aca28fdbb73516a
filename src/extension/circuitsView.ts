import * as vscode from 'vscode';
import { assertNever, type CircuitsToHost, type HostToCircuits } from '../shared/protocol';
import { hasCircuitGraph } from '../shared/runs';
import { validateCircuitsMessage } from '../shared/validate';
import { graphWebviewOptions, webviewHtml } from './graphHtml';
import { saveExport, type Services } from './services';
import { WebviewChannel } from './webviewChannel';

/**
 * The side-panel circuits view (own activity-bar container): draws the LIB interaction graph, the attention
 * circuit or redundant-neuron groups of a run. Follows the newest drawable run unless a run was asked for;
 * clicks reveal elements in the model's operator graph. The view's state (its runs) waits for `ready`, only the
 * newest.
 */
export class CircuitsViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'circuitscope.circuits';
  private channel: WebviewChannel<CircuitsToHost, HostToCircuits> | undefined;
  private shown: string | undefined;

  static register(s: Services): CircuitsViewProvider {
    const p = new CircuitsViewProvider(s);
    s.context.subscriptions.push(
      vscode.window.registerWebviewViewProvider(CircuitsViewProvider.viewId, p, { webviewOptions: { retainContextWhenHidden: true } }),
      s.store.onDidChange(({ added }) => {
        if (added && hasCircuitGraph(added)) p.shown = added.id;
        p.push();
      }),
    );
    return p;
  }

  private constructor(private readonly s: Services) {}

  /** Draws `runId` and brings the view forward. */
  async show(runId: string): Promise<void> {
    this.shown = runId;
    await vscode.commands.executeCommand(`${CircuitsViewProvider.viewId}.focus`);
    this.push();
  }

  private push(): void {
    const runs = this.s.store.all().filter(hasCircuitGraph);
    const msg: HostToCircuits = runs.length ? { type: 'runs', runs, show: this.shown ?? runs.at(-1)!.id } : { type: 'clear' };
    this.channel?.post(msg);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    const uri = this.s.context.extensionUri;
    view.webview.options = graphWebviewOptions(uri);
    view.webview.html = webviewHtml(view.webview, uri, { script: 'circuits.js', style: 'circuits.css', title: 'Circuits' });
    const channel = new WebviewChannel<CircuitsToHost, HostToCircuits>(view.webview, {
      name: 'circuits view',
      output: this.s.output,
      validate: validateCircuitsMessage,
      coalesce: ['runs', 'clear'],
      onMessage: (m) => this.onMessage(m),
    });
    this.channel = channel;
    this.push();
    view.onDidDispose(() => {
      channel.dispose();
      if (this.channel === channel) this.channel = undefined;
    });
  }

  private async onMessage(m: Exclude<CircuitsToHost, { type: 'ready' }>): Promise<void> {
    switch (m.type) {
      case 'export':
        await saveExport(this.s, m, m.runId ?? this.shown);
        break;
      case 'reveal':
        await this.s.reveal(m.model, m.target);
        break;
      default:
        assertNever(m);
    }
  }
}
