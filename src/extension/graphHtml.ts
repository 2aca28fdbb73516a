import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';

/**
 * The model graph webview's HTML: a nonce CSP (`default-src 'none'`), scripts and styles only from dist/
 * and media/, and `worker-src blob:` for the layout Web Worker (it starts from a blob: URL, because a
 * Worker cannot be created from the webview resource origin).
 */
export function graphHtml(webview: vscode.Webview, extensionUri: vscode.Uri): string {
  const nonce = randomBytes(16).toString('base64');
  const script = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'dist', 'webview.js'));
  const style = webview.asWebviewUri(vscode.Uri.joinPath(extensionUri, 'media', 'webview.css'));
  const csp = [
    "default-src 'none'",
    `style-src ${webview.cspSource}`,
    `img-src ${webview.cspSource} data:`,
    `script-src 'nonce-${nonce}'`,
    `font-src ${webview.cspSource}`,
    'worker-src blob:',
  ].join('; ');
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="${style.toString()}">
<title>Circuitscope</title></head>
<body><main id="app" aria-live="polite"></main>
<script nonce="${nonce}" src="${script.toString()}"></script></body></html>`;
}

export function graphWebviewOptions(extensionUri: vscode.Uri): vscode.WebviewOptions {
  return {
    enableScripts: true,
    localResourceRoots: [vscode.Uri.joinPath(extensionUri, 'dist'), vscode.Uri.joinPath(extensionUri, 'media')],
  };
}
