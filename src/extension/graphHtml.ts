import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { pageHtml } from '../shared/html';

/**
 * A Circuitscope webview's HTML: a nonce CSP (`default-src 'none'`), scripts and styles only from dist/ and
 * media/, images from there or data:/blob: (chart exports), and `worker-src blob:` for the graph's layout Web
 * Worker (a Worker cannot be created from the webview resource origin, so it starts from a blob: URL).
 */
export function webviewHtml(webview: vscode.Webview, extensionUri: vscode.Uri, page: { script: string; style: string; title: string }): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', page.script));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', page.style));
  return pageHtml({
    csp: [
      "default-src 'none'",
      `style-src ${webview.cspSource}`,
      `img-src ${webview.cspSource} data: blob:`,
      `script-src 'nonce-${nonce}'`,
      `font-src ${webview.cspSource}`,
      'worker-src blob:',
    ],
    title: page.title,
    head: `<link rel="stylesheet" href="${style.toString()}">`,
    body: `<script nonce="${nonce}" src="${script.toString()}"></script>`,
  });
}

/** The model graph editor's page. */
export function graphHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  return webviewHtml(webview, extensionUri, { script: 'webview.js', style: 'webview.css', title: 'Circuitscope' });
}

export function graphWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}
