import * as vscode from 'vscode';
import { EngineError } from '../engine/errors';
import type { EngineClient } from '../engine/client';
import { assertNever, type HostToWebview, type WebviewError, type WebviewToHost } from '../shared/protocol';
import { getEngine } from './engine';
import { graphHtml, graphWebviewOptions } from './graphHtml';

/**
 * One document per model file: it owns the parsed IR (or the load error). Parsing runs in the engine
 * worker (`loadGraph`), never on the extension host thread; every editor of the document shares the result.
 */
class ModelDocument implements vscode.CustomDocument {
  private graph: Promise<{ bytes: Uint8Array; nodes: number }> | undefined;
  private readonly abort = new AbortController();
  /** Set once the user agreed to load a file above `circuitscope.largeModelBytes`. */
  confirmed = false;

  constructor(
    readonly uri: vscode.Uri,
    private readonly engine: EngineClient,
  ) {}

  /** The IR as UTF-8 JSON bytes (parsed by the webview): the host never holds or re-serializes the graph. */
  load(): Promise<{ bytes: Uint8Array; nodes: number }> {
    this.graph ??= this.engine.run({ kind: 'loadGraphBytes', model: this.uri.fsPath }, { signal: this.abort.signal });
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

/** Read-only custom editor for `*.onnx` (default) and TF.js `model.json` (via "Reopen With…"). */
export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  static readonly viewTypes = ['circuitscope.modelGraph', 'circuitscope.modelGraphJson'] as const;

  static register(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): void {
    const provider = new ModelEditorProvider(context, output);
    for (const viewType of ModelEditorProvider.viewTypes) {
      context.subscriptions.push(
        vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: true }),
      );
    }
  }

  constructor(
    private readonly context: vscode.ExtensionContext,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri, getEngine(this.context, this.output));
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    const extensionUri = this.context.extensionUri;
    webview.options = graphWebviewOptions(extensionUri);
    webview.html = graphHtml(webview, extensionUri);
    const file = document.uri.fsPath;
    const post = (msg: HostToWebview): void => {
      void webview.postMessage(msg);
    };
    const sendGraph = (): void => {
      const t0 = Date.now();
      document.load().then(
        (graph) => {
          this.output.info(`${file}: ${graph.nodes} operators parsed in the engine worker (${Date.now() - t0} ms)`);
          // A copy per post: the document's bytes stay valid for other editors of the same file.
          post({ type: 'graphBytes', bytes: graph.bytes.slice() });
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
    const sub = webview.onDidReceiveMessage((msg: WebviewToHost) => {
      switch (msg.type) {
        case 'ready':
          void start();
          break;
        case 'confirmLoad':
          document.confirmed = true;
          post({ type: 'loading', file });
          sendGraph();
          break;
        case 'readTensor':
          getEngine(this.context, this.output)
            .run({ kind: 'readTensor', model: file, tensor: msg.tensor, maxElements: msg.maxElements })
            .then(
              (value) => post({ type: 'tensor', id: msg.id, ok: true, value }),
              (e: unknown) => post({ type: 'tensor', id: msg.id, ok: false, error: toWebviewError(e) }),
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
        default:
          assertNever(msg);
      }
    });
    panel.onDidDispose(() => sub.dispose());
  }
}
