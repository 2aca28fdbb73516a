/**
 * The one page shell of every Circuitscope page: the three webviews (graph editor, results panel, circuits view,
 * src/extension/graphHtml.ts) and the standalone HTML report (src/cli/reportHtml.ts). A pure string builder: the
 * callers decide the CSP (a nonce and webview URIs there, hashes of inline text here) and what the head and body
 * carry; the document around them, and the app root every view mounts into, are written once.
 */

const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Text safe inside HTML/SVG text and double-quoted attributes. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"]/g, (c) => ENTITIES[c]);
}

export interface PageShell {
  /** Content-Security-Policy directives, in order (`default-src 'none'` first by convention). */
  csp: readonly string[];
  /** The document title (escaped here). */
  title: string;
  /** Markup in the head after the viewport meta: stylesheets, a generator meta (the caller escapes it). */
  head: string;
  /** Markup after the app root: the page's data and its scripts. */
  body: string;
  /** A class on `<body>` (the report's `report`). */
  bodyClass?: string;
}

/** The page: the CSP meta, the head, `<main id="app">` (the root the views mount into), then `body`. */
export function pageHtml(page: PageShell): string {
  const bodyOpen = page.bodyClass ? `<body class="${escapeHtml(page.bodyClass)}">` : '<body>';
  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="${page.csp.join('; ')}">
<meta name="viewport" content="width=device-width, initial-scale=1">
${page.head}
<title>${escapeHtml(page.title)}</title></head>
${bodyOpen}<main id="app" aria-live="polite"></main>
${page.body}</body></html>
`;
}
