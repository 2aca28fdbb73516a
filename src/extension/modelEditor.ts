import * as vscode from 'vscode';
import { ModelLoadError } from '../model/errors';
import type { LoadedModel } from '../model/ir';
import { loadModel } from '../model/load';
import { summarize } from '../model/summary';
import { assertNever, type HostToWebview, type WebviewToHost } from '../shared/protocol';
import { webviewHtml, webviewOptions } from './webviewHtml';

/** One document per model file: it owns the parsed IR (or the load error). */
class ModelDocument implements vscode.CustomDocument {
  private loading: Promise<LoadedModel> | undefined;
  constructor(readonly uri: vscode.Uri) {}
  load(): Promise<LoadedModel> {
    this.loading ??= loadModel(this.uri.fsPath);
    return this.loading;
  }
  dispose(): void {
    this.loading = undefined;
  }
}

/** Read-only custom editor for `*.onnx` (default) and TF.js `model.json` (via "Reopen With…"). */
export class ModelEditorProvider implements vscode.CustomReadonlyEditorProvider<ModelDocument> {
  static readonly viewTypes = ['circuitscope.modelGraph', 'circuitscope.modelGraphJson'] as const;

  static register(context: vscode.ExtensionContext, output: vscode.LogOutputChannel): void {
    const provider = new ModelEditorProvider(context.extensionUri, output);
    for (const viewType of ModelEditorProvider.viewTypes) {
      context.subscriptions.push(
        vscode.window.registerCustomEditorProvider(viewType, provider, { supportsMultipleEditorsPerDocument: true }),
      );
    }
  }

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly output: vscode.LogOutputChannel,
  ) {}

  openCustomDocument(uri: vscode.Uri): ModelDocument {
    return new ModelDocument(uri);
  }

  resolveCustomEditor(document: ModelDocument, panel: vscode.WebviewPanel): void {
    const webview = panel.webview;
    webview.options = webviewOptions(this.extensionUri);
    webview.html = webviewHtml(webview, this.extensionUri, 'Circuitscope', 'webview');
    const post = (msg: HostToWebview): void => {
      void webview.postMessage(msg);
    };
    const sub = webview.onDidReceiveMessage((msg: WebviewToHost) => {
      switch (msg.type) {
        case 'ready':
          post({ type: 'loading', file: document.uri.fsPath });
          document.load().then(
            (model) => post({ type: 'summary', summary: summarize(model.graph) }),
            (e: unknown) => {
              this.output.error(`${document.uri.fsPath}: ${e instanceof Error ? e.message : String(e)}`);
              post({
                type: 'error',
                error: e instanceof ModelLoadError ? e.toJSON() : { name: 'Error', message: e instanceof Error ? e.message : String(e) },
              });
            },
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
