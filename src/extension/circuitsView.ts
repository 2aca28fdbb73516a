import * as vscode from 'vscode';

/**
 * The side-panel circuits view. Circuit graphs come from the analyses (LIB, attention circuits), which are
 * not part of this build yet; until then the view says so plainly.
 */
export class CircuitsViewProvider implements vscode.WebviewViewProvider {
  static readonly viewId = 'circuitscope.circuits';

  static register(context: vscode.ExtensionContext): void {
    context.subscriptions.push(vscode.window.registerWebviewViewProvider(CircuitsViewProvider.viewId, new CircuitsViewProvider()));
  }

  resolveWebviewView(view: vscode.WebviewView): void {
    view.webview.options = { enableScripts: false, localResourceRoots: [] };
    view.webview.html = `<!DOCTYPE html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline';">
<style>body{color:var(--vscode-foreground);font-family:var(--vscode-font-family);font-size:var(--vscode-font-size)}</style></head>
<body><p>No circuit to show. Circuit graphs (LIB interaction graphs, attention circuits) appear here once an analysis has produced one; analyses are not part of this build yet.</p></body></html>`;
  }
}
