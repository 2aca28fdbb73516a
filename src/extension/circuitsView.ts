import * as vscode from 'vscode';
import { assertNever, type CircuitsToHost, type HostToCircuits } from '../shared/protocol';
import { hasCircuitGraph } from '../shared/runs';
import { runFileToRestore } from './circuitsRestore';
import { validateCircuitsMessage } from '../shared/validate';
import { graphWebviewOptions, webviewHtml } from './graphHtml';
import { saveExport, type Services } from './services';
import { WebviewChannel } from './webviewChannel';

/**
 * The side-panel circuits view (own activity-bar container): draws the LIB interaction graph, the attention
 * circuit or redundant-neuron groups of a run. Follows the newest drawable run unless a run was asked for;
 * clicks reveal elements in the model's operator graph. The view's state (its runs) waits for `ready`, only the
 * newest. After a window reload (an empty run store) it reopens the run it showed last from its saved file, or
 * the newest saved run it can draw (circuitsRestore.ts).
 */
const SHOWN_FILE = 'circuitscope.circuits.shownFile';

export class CircuitsViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'circuitscope.circuits';
  private channel: WebviewChannel<CircuitsToHost, HostToCircuits> | undefined;
  private shown: string | undefined;
  private restoring = false;

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
    if (!runs.length && this.restoring) return; // "No graph to show" only once nothing saved could be restored
    const show = this.shown ?? runs.at(-1)?.id;
    const msg: HostToCircuits = runs.length ? { type: 'runs', runs, show: show! } : { type: 'clear' };
    this.channel?.post(msg);
    const file = runs.find((r) => r.id === show)?.savedTo;
    if (file && this.s.context.workspaceState.get(SHOWN_FILE) !== file) void this.s.context.workspaceState.update(SHOWN_FILE, file);
  }

  /** An empty store (a reloaded window): reopens the saved run shown last, else the newest drawable one. */
  private async restore(): Promise<void> {
    if (this.restoring || this.s.store.all().some(hasCircuitGraph)) return;
    this.restoring = true;
    try {
      const saved = new Map((await this.s.store.savedFiles()).map((f) => [f.uri.fsPath, f.uri]));
      const read = async (f: string): Promise<string> => new TextDecoder().decode(await vscode.workspace.fs.readFile(saved.get(f)!));
      const file = await runFileToRestore(this.s.context.workspaceState.get<string>(SHOWN_FILE), [...saved.keys()], read);
      // opening fires the store's change: the run becomes the one shown
      if (file && !this.s.store.all().some(hasCircuitGraph)) await this.s.store.open(saved.get(file)!);
    } catch (e) {
      this.s.output.warn(`circuits view: could not reopen a saved run: ${e instanceof Error ? e.message : String(e)}`);
    } finally {
      this.restoring = false;
      this.push();
    }
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
    void this.restore();
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
