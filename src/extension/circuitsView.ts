import * as vscode from 'vscode';
import { assertNever, type CircuitsToHost, type HostToCircuits } from '../shared/protocol';
import { hasCircuitGraph } from '../shared/runs';
import { validateCircuitsMessage } from '../shared/validate';
import { graphWebviewOptions, webviewHtml } from './graphHtml';
import { saveExport, type Services } from './services';

/**
 * The side-panel circuits view (own activity-bar container): draws the LIB interaction graph, the attention
 * circuit or redundant-neuron groups of a run. Follows the newest drawable run unless a run was asked for;
 * clicks reveal elements in the model's operator graph.
 */
export class CircuitsViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'circuitscope.circuits';
  private view: vscode.WebviewView | undefined;
  private ready = false;
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
    if (!this.view || !this.ready) return;
    const runs = this.s.store.all().filter(hasCircuitGraph);
    const msg: HostToCircuits = runs.length ? { type: 'runs', runs, show: this.shown ?? runs.at(-1)!.id } : { type: 'clear' };
    void this.view.webview.postMessage(msg);
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    const uri = this.s.context.extensionUri;
    this.view = view;
    this.ready = false;
    view.webview.options = graphWebviewOptions(uri);
    view.webview.html = webviewHtml(view.webview, uri, { script: 'circuits.js', style: 'circuits.css', title: 'Circuits' });
    const sub = view.webview.onDidReceiveMessage((raw: unknown) => {
      const checked = validateCircuitsMessage(raw);
      if (checked.ok) void this.onMessage(checked.message);
      else this.s.output.warn(`circuits view: dropped a message that does not follow the protocol: ${checked.reason}`);
    });
    view.onDidDispose(() => {
      sub.dispose();
      if (this.view === view) this.view = undefined;
    });
  }

  private async onMessage(m: CircuitsToHost): Promise<void> {
    try {
      switch (m.type) {
        case 'ready':
          this.ready = true;
          this.push();
          break;
        case 'export': {
          await saveExport(this.s, m, m.runId ?? this.shown);
          break;
        }
        case 'reveal':
          await this.s.reveal(m.model, m.target);
          break;
        default:
          assertNever(m);
      }
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      this.s.output.error(`circuits view: ${msg}`);
      void vscode.window.showErrorMessage(`Circuitscope: ${msg}`);
    }
  }
}
