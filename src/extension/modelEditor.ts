import * as vscode from 'vscode';
import { EngineError } from '../engine/engineError';
import type { EngineClient } from '../engine/client';
import type { JobResult } from '../shared/engineProtocol';
import { assertNever, type HostToWebview, type WebviewError, type WebviewToHost } from '../shared/protocol';
import { validateGraphMessage } from '../shared/validate';
import * as path from 'node:path';
import type { RevealTarget } from '../shared/results';
import { getEngine } from './engine';
import { saveExportFile } from './services';
import { graphHtml, graphWebviewOptions } from './graphHtml';
import type { RunStore } from './runStore';
import { isTfjsModelFile } from './tfjsModels';
import { WebviewChannel } from './webviewChannel';

type GraphBytes = JobResult<'loadGraphBytes'>;

/**
 * A live graph editor. Its channel opens once the page has the graph (overlays and reveals need it): the handshake
 * (`loading`, `confirmLarge`, the graph's pieces, an error) is sent directly after `ready`.
 */
interface LivePanel {
  panel: vscode.WebviewPanel;
  channel: WebviewChannel<WebviewToHost, HostToWebview>;
}

/**
 * One document per model file: it owns the parsed IR (or the load error). Parsing runs in the engine
 * worker (`loadGraph`), never on the extension host thread; every editor of the document shares the result.
 */
class ModelDocument implements vscode.CustomDocument {
  private graph: Promise<GraphBytes> | undefined;
  private readonly abort = new AbortController();
  /** Set once the user agreed to load a file above `circuitscope.largeModelBytes`. */
  confirmed = false;

  constructor(
    readonly uri: vscode.Uri,
    /** The window's engine now (a settings change replaces it). */
    private readonly engine: () => EngineClient,
  ) {}

  /**
   * The IR as UTF-8 JSON pieces (parsed by the webview): the host never parses or re-serializes the graph. A failed
   * load is not kept: after an engine crash, the editor's next load runs again in the new engine process.
   */
  load(): Promise<GraphBytes> {
    this.graph ??= this.engine()
      .run({ kind: 'loadGraphBytes', model: this.uri.fsPath }, { signal: this.abort.signal })
      .catch((e: unknown) => {
        this.graph = undefined;
        throw e;
      });
    return this.graph;
  }

  dispose(): void {
    this.abort.abort();
    this.graph = undefined;
  }
}

export function toWebviewError(e: unknown): WebviewError {
  if (e instanceof EngineError && e.payload.name === 'ModelLoadError') {
    return { name: 'ModelLoadError', code: e.payload.code ?? 'corrupt', file: e.payload.file ?? '', detail: e.payload.detail ?? e.message };
  }
  if (e instanceof Error) return { name: e.name || 'Error', message: e.message };
  return { name: 'Error', message: String(e) };
}

/**
 * Read-only custom editor for `*.onnx` (default) and TF.js models of any file name (offered for every `*.json`
 * under "Open With…" with priority `option`, so ordinary JSON still opens as text; a JSON that is not a model
 * gets the loader's typed error saying what it looks like).
 */
export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  static readonly viewTypes = ['circuitscope.modelGraph', 'circuitscope.modelGraphJson'] as const;

  private readonly live = new Map<string, Set<LivePanel>>();
  /** Models whose overlay the user cleared: runs are still sent, none is made active. */
  private readonly cleared = new Set<string>();

  static register(context: vscode.ExtensionContext, output: vscode.LogOutputChannel, store: RunStore): ModelEditorProvider {
    const provider = new ModelEditorProvider(context, output, store);
    for (const viewType of ModelEditorProvider.viewTypes) {
      context.subscriptions.push(
        vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: true }),
      );
    }
    context.subscriptions.push(store.onDidChange(() => provider.refreshOverlays()));
    return provider;
  }

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
    private readonly store: RunStore,
  ) {}

  /** Opens (or focuses) the model's graph editor and colours it by `metric` of run `runId`. */
  async showOverlay(model: string, runId: string, metric?: string): Promise<void> {
    this.cleared.delete(path.resolve(model));
    const panel = await this.open(model);
    this.send(panel, { type: 'overlay', runs: this.store.forModel(model), active: { runId, metric } });
  }

  /** Opens (or focuses) the model's graph editor and reveals an element. */
  async reveal(model: string, target: RevealTarget): Promise<void> {
    const panel = await this.open(model);
    this.send(panel, { type: 'reveal', target });
  }

  /** Removes every run's colours from the open graph editors (the runs stay in the "Colour by" list). */
  clearOverlays(): void {
    for (const [file, panels] of this.live) {
      this.cleared.add(file);
      for (const p of panels) this.send(p, { type: 'overlay', runs: this.store.forModel(file), active: { runId: '' } });
    }
  }

  /** Asks the active graph editor to export its view or its whole graph (the page draws, then sends `saveExport`). */
  requestExport(format: 'svg' | 'png', scope: 'view' | 'graph'): boolean {
    for (const panels of this.live.values()) {
      for (const p of panels) {
        if (!p.panel.active) continue;
        this.send(p, { type: 'exportGraph', format, scope });
        return true;
      }
    }
    return false;
  }

  private refreshOverlays(): void {
    for (const [file, panels] of this.live) for (const p of panels) this.send(p, { type: 'overlay', runs: this.store.forModel(file) });
  }

  private send(p: LivePanel, msg: HostToWebview): void {
    p.channel.post(msg);
  }

  private async open(model: string): Promise<LivePanel> {
    const file = path.resolve(model);
    const existing = this.live.get(file);
    if (existing?.size) {
      const p = [...existing][0];
      p.panel.reveal(undefined, false);
      return p;
    }
    const viewType = (await isTfjsModelFile(vscode.Uri.file(file))) ? 'circuitscope.modelGraphJson' : 'circuitscope.modelGraph';
    const appeared = new Promise<LivePanel>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters.delete(file);
        reject(new Error(`the graph editor of ${file} did not open within 30 s`));
      }, 30_000);
      this.waiters.set(file, (p) => {
        clearTimeout(timer);
        resolve(p);
      });
    });
    await vscode.commands.executeCommand('vscode.openWith', vscode.Uri.file(file), viewType);
    return appeared;
  }

  private readonly waiters = new Map<string, (p: LivePanel) => void>();

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri, () => getEngine(this.context, this.output));
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    const extensionUri = this.context.extensionUri;
    webview.options = graphWebviewOptions(extensionUri);
    webview.html = graphHtml(webview, extensionUri);
    const file = document.uri.fsPath;
    const channel = new WebviewChannel<WebviewToHost, HostToWebview>(webview, {
      name: `graph editor of ${file}`,
      output: this.output,
      validate: validateGraphMessage,
      manualOpen: true,
      onReady: () => void start(),
      onMessage: (msg) => onMessage(msg),
    });
    const post = (msg: HostToWebview): void => channel.postNow(msg);
    const live: LivePanel = { panel, channel };
    const set = this.live.get(file) ?? this.live.set(file, new Set()).get(file)!;
    set.add(live);
    this.waiters.get(file)?.(live);
    this.waiters.delete(file);
    const sendGraph = (): void => {
      const t0 = Date.now();
      document.load().then(
        async (graph) => {
          this.output.info(`${file}: ${graph.nodes} operators parsed in the engine process (${graph.byteLength} bytes of JSON, ${graph.sentBytes} gzipped, ${Date.now() - t0} ms)`);
          // One piece per message, a turn of the event loop between them; a copy per post (VS Code sends a typed
          // array's whole buffer), so the document's pieces stay valid for other editors of the same file.
          for (let i = 0; i < graph.chunks.length; i++) {
            post({ type: 'graphChunk', bytes: graph.chunks[i].slice(), index: i, count: graph.chunks.length, encoding: graph.encoding });
            await new Promise((r) => setImmediate(r));
          }
          // The page has the graph: the runs on this model first (unless an overlay is queued), then the queue.
          const runs = this.store.forModel(file);
          channel.open((queued) =>
            runs.length && !queued.some((m) => m.type === 'overlay') ? [{ type: 'overlay', runs, ...(this.cleared.has(file) ? { active: { runId: '' } } : {}) }] : [],
          );
        },
        (e: unknown) => {
          this.output.error(`${file}: ${e instanceof Error ? e.message : String(e)}`);
          post({ type: 'error', error: toWebviewError(e) });
        },
      );
    };
    const start = async (): Promise<void> => {
      let bytes: number | undefined;
      try {
        bytes = (await vscode.workspace.fs.stat(document.uri)).size;
      } catch {
        // The loader reports a missing file with its typed error.
      }
      post({ type: 'loading', file, bytes });
      const limit = vscode.workspace.getConfiguration('circuitscope').get<number>('largeModelBytes', 256 * 1024 * 1024);
      if (bytes !== undefined && bytes > limit && !document.confirmed) post({ type: 'confirmLarge', file, bytes, limit });
      else sendGraph();
    };
    const onMessage = (msg: Exclude<WebviewToHost, { type: 'ready' }>): void => {
      switch (msg.type) {
        case 'confirmLoad':
          document.confirmed = true;
          post({ type: 'loading', file });
          sendGraph();
          break;
        case 'readTensor':
          // One reply per request, the preview or the error (the inspector's promise never hangs).
          channel.reply(
            msg.id,
            getEngine(this.context, this.output).run({ kind: 'readTensor', model: file, tensor: msg.tensor, maxElements: msg.maxElements }),
            toWebviewError,
            (r) => ({ type: 'tensor', ...r }),
          );
          break;
        case 'rendered':
          this.output.info(
            `${file}: drew ${msg.nodes} nodes and ${msg.edges} edges (${msg.renderer}) in ${msg.totalMs} ms, layout ${msg.layoutMs} ms`,
          );
          break;
        case 'openSource':
          void vscode.commands.executeCommand('vscode.openWith', document.uri, 'default');
          break;
        case 'saveExport':
          // One reply per request: the file written (null when the dialog was dismissed), or the error.
          channel.reply(
            msg.id,
            saveExportFile(this.output, msg, file).then((saved) => ({ file: saved ?? null })),
            toWebviewError,
            (r) => ({ type: 'saved', ...r }),
          );
          break;
        case 'copyText':
          void vscode.env.clipboard.writeText(msg.text).then(
            () => vscode.window.setStatusBarMessage(`Circuitscope: copied the ${msg.what} ${msg.text}`, 4000),
            (e: unknown) => void vscode.window.showWarningMessage(`Circuitscope: could not copy the ${msg.what} ${msg.text}: ${e instanceof Error ? e.message : String(e)}`),
          );
          break;
        default:
          assertNever(msg);
      }
    };
    // A hidden editor's page is discarded (no retainContextWhenHidden: large graphs stay cheap); when shown
    // again it reloads and says `ready`, so messages wait in the queue until the graph is there again.
    const viewState = panel.onDidChangeViewState(() => {
      if (!panel.visible) channel.reset();
    });
    panel.onDidDispose(() => {
      viewState.dispose();
      channel.dispose();
      set.delete(live);
      if (!set.size) this.live.delete(file);
    });
  }
}
