import * as vscode from 'vscode';
import { assertNever, type HostToResults, type ResultsToHost } from '../shared/protocol';
import { validateResultsMessage } from '../shared/validate';
import { graphWebviewOptions, webviewHtml } from './graphHtml';
import { ensureModel, saveExport, type Services } from './services';
import { WebviewChannel } from './webviewChannel';

/**
 * The results panel: one editor-area webview listing this window's runs (tables, charts, exports). Opened on
 * a run when an analysis finishes or a saved run is opened; messages wait until the webview says `ready` (only
 * the newest run list), then the current runs come first.
 */
export class ResultsPanel implements vscode.Disposable {
  static readonly viewType = 'circuitscope.results';
  private static current: ResultsPanel | undefined;
  private readonly subs: vscode.Disposable[] = [];
  private readonly channel: WebviewChannel<ResultsToHost, HostToResults>;

  /** The panel (created on first use), revealed; `focus` is the run to show. */
  static show(s: Services, focus?: string, preserveFocus = false): ResultsPanel {
    const p = ResultsPanel.current ?? new ResultsPanel(s);
    p.panel.reveal(undefined, preserveFocus);
    p.post({ type: 'runs', runs: [...s.store.all()], focus });
    return p;
  }

  /** Progress of a running analysis, when the panel is open. */
  static progress(msg: HostToResults): void {
    ResultsPanel.current?.post(msg);
  }

  private readonly panel: vscode.WebviewPanel;

  private constructor(private readonly s: Services) {
    const uri = s.context.extensionUri;
    this.panel = vscode.window.createWebviewPanel(ResultsPanel.viewType, 'Circuitscope Results', { viewColumn: vscode.ViewColumn.Beside, preserveFocus: true }, {
      ...graphWebviewOptions(uri),
      retainContextWhenHidden: true,
    });
    this.panel.iconPath = vscode.Uri.joinPath(uri, 'media', 'circuitscope.svg');
    this.panel.webview.html = webviewHtml(this.panel.webview, uri, { script: 'results.js', style: 'results.css', title: 'Circuitscope Results' });
    ResultsPanel.current = this;
    this.channel = new WebviewChannel<ResultsToHost, HostToResults>(this.panel.webview, {
      name: 'results panel',
      output: s.output,
      validate: validateResultsMessage,
      coalesce: ['runs'],
      onReady: (queued) => (queued.some((q) => q.type === 'runs') ? [] : [{ type: 'runs', runs: [...s.store.all()] }]),
      onMessage: (m) => this.onMessage(m),
    });
    this.subs.push(
      this.channel,
      s.store.onDidChange(({ added }) => {
        if (!added) this.post({ type: 'runs', runs: [...s.store.all()] });
      }),
    );
    this.panel.onDidDispose(() => this.dispose());
  }

  dispose(): void {
    if (ResultsPanel.current === this) ResultsPanel.current = undefined;
    for (const d of this.subs.splice(0)) d.dispose();
  }

  post(msg: HostToResults): void {
    this.channel.post(msg);
  }

  private async onMessage(m: Exclude<ResultsToHost, { type: 'ready' }>): Promise<void> {
    const s = this.s;
    switch (m.type) {
      case 'export': {
        const file = await saveExport(s, m, m.runId ?? s.store.all().at(-1)?.id);
        if (file) this.post({ type: 'exported', file });
        break;
      }
      case 'showOnModel': {
        const model = await ensureModel(s, m.runId);
        if (model) await s.showOverlay(model, m.runId, m.metric);
        break;
      }
      case 'showCircuit':
        await s.showCircuit(m.runId);
        break;
      case 'reveal':
        await s.reveal(m.model, m.target);
        break;
      default:
        assertNever(m);
    }
  }
}
