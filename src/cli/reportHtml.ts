/**
 * The standalone HTML report: one file, no network. The page's data (runs, the operator graph) travel as JSON
 * in a `<script type="application/json">`; the views are the extension's own webview bundles, inlined; the
 * CSP allows exactly the inline scripts and styles of this file (by hash) and nothing remote.
 */
import { createHash } from 'node:crypto';
import { escapeHtml, pageHtml } from '../shared/html';
import type { ReportData } from '../shared/results';

export type { ReportData };


export interface ReportAssets {
  /** dist/report.js */
  script: string;
  /** media/*.css in order. */
  styles: string[];
}

const sha256 = (text: string): string => `'sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}'`;

/** JSON safe inside a <script> element: no `</script`, no `<!--`, no U+2028/9 surprises. */
export function scriptSafeJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/>/g, '\\u003e')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function reportHtml(data: ReportData, assets: ReportAssets): string {
  // A script's text must not close its element early; bundles from esbuild never contain `</script` except in strings.
  const script = assets.script.replace(/<\/script/gi, '<\\/script');
  const style = assets.styles.join('\n');
  return pageHtml({
    csp: [
      "default-src 'none'",
      `script-src ${sha256(script)}`,
      `style-src ${sha256(style)}`,
      'img-src data: blob:',
      'worker-src blob:',
      "connect-src 'none'",
      "base-uri 'none'",
      "form-action 'none'",
    ],
    title: data.title,
    head: `<meta name="generator" content="${escapeHtml(data.tool)}">\n<style>${style}</style>`,
    bodyClass: 'report',
    body: `<script type="application/json" id="circuitscope-report">${scriptSafeJson(data)}</script>\n<script>${script}</script>`,
  });
}
