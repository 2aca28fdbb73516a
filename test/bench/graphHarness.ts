/**
 * A stand-alone page that runs the real webview bundle (dist/webview.js + media/webview.css) outside VS Code:
 * `acquireVsCodeApi` is mocked, the IR is fetched from this server and posted as the host would, and
 * theme variables are set like VS Code's Dark Modern / Light Modern. Used by the render benchmark and for
 * looking at the view while developing (`node --import tsx test/bench/graphHarness.ts --serve`).
 */
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';

const repo = path.join(__dirname, '..', '..');

const THEMES: Record<string, { cls: string; vars: Record<string, string> }> = {
  dark: {
    cls: 'vscode-dark',
    vars: {
      'editor-background': '#1f1f1f',
      'editor-foreground': '#cccccc',
      foreground: '#cccccc',
      descriptionForeground: '#9d9d9d',
      focusBorder: '#0078d4',
      'panel-border': '#2b2b2b',
      'charts-blue': '#3794ff',
      'charts-red': '#f14c4c',
      'charts-green': '#89d185',
      'charts-yellow': '#cca700',
      'charts-orange': '#d18616',
      'charts-purple': '#b180d7',
      'charts-foreground': '#cccccc',
      'charts-lines': '#cccccc80',
      'sideBar-background': '#181818',
      'sideBar-foreground': '#cccccc',
      'editorWidget-background': '#202020',
      'editorWidget-border': '#313131',
      'widget-shadow': '#0000005c',
      'badge-background': '#616161',
      'badge-foreground': '#f8f8f8',
      'textLink-foreground': '#4daafc',
      'textLink-activeForeground': '#4daafc',
      'textPreformat-foreground': '#d0d0d0',
      'button-background': '#0078d4',
      'button-foreground': '#ffffff',
      'button-secondaryBackground': '#313131',
      'button-secondaryForeground': '#cccccc',
      'button-secondaryHoverBackground': '#3c3c3c',
      'input-background': '#313131',
      'input-border': '#3c3c3c',
      'input-foreground': '#cccccc',
      'input-placeholderForeground': '#989898',
      'errorForeground': '#f85149',
      'inputValidation-errorBackground': '#5a1d1d',
      'inputValidation-errorBorder': '#be1100',
      'editor-findMatchHighlightBorder': '#d18616',
      'list-activeSelectionBackground': '#04395e',
      'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      'font-size': '13px',
      'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    },
  },
  light: {
    cls: 'vscode-light',
    vars: {
      'editor-background': '#ffffff',
      'editor-foreground': '#3b3b3b',
      foreground: '#3b3b3b',
      descriptionForeground: '#3b3b3b',
      focusBorder: '#005fb8',
      'panel-border': '#e5e5e5',
      'charts-blue': '#1a85ff',
      'charts-red': '#e51400',
      'charts-green': '#388a34',
      'charts-yellow': '#bf8803',
      'charts-orange': '#d18616',
      'charts-purple': '#652d90',
      'charts-foreground': '#616161',
      'charts-lines': '#61616180',
      'sideBar-background': '#f8f8f8',
      'sideBar-foreground': '#3b3b3b',
      'editorWidget-background': '#f8f8f8',
      'editorWidget-border': '#e5e5e5',
      'widget-shadow': '#00000029',
      'badge-background': '#cccccc',
      'badge-foreground': '#3b3b3b',
      'textLink-foreground': '#005fb8',
      'textLink-activeForeground': '#005fb8',
      'textPreformat-foreground': '#3b3b3b',
      'button-background': '#005fb8',
      'button-foreground': '#ffffff',
      'button-secondaryBackground': '#e5e5e5',
      'button-secondaryForeground': '#3b3b3b',
      'input-background': '#ffffff',
      'input-border': '#cecece',
      'input-foreground': '#3b3b3b',
      'errorForeground': '#f85149',
      'inputValidation-errorBackground': '#f2dede',
      'inputValidation-errorBorder': '#be1100',
      'list-activeSelectionBackground': '#e8e8e8',
      'font-family': 'system-ui, "Ubuntu", "Droid Sans", sans-serif',
      'font-size': '13px',
      'editor-font-family': '"Droid Sans Mono", "monospace", monospace',
    },
  },
};

/** `dist`: where the page loads webview.js from (`/dist`, or `/base/dist` for a baseline build served there). */
export function harnessHtml(theme: string, dist = '/dist'): string {
  const t = THEMES[theme] ?? THEMES.dark;
  const vars = Object.entries(t.vars)
    .map(([k, v]) => `--vscode-${k}: ${v};`)
    .join(' ');
  return `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">
<style>html { ${vars} }</style>
<link rel="stylesheet" href="/media/webview.css"></head>
<body class="${t.cls}"><main id="app"></main>
<script>
(() => {
  const params = new URLSearchParams(location.search);
  const graph = params.get('graph');
  window.__bench = { posted: [], t0: undefined, fetchMs: undefined };
  window.acquireVsCodeApi = () => ({
    postMessage(msg) {
      window.__bench.posted.push(msg);
      if (msg.type === 'ready' && graph) {
        const f0 = performance.now();
        // As the extension posts it (modelEditor.ts): the IR's JSON bytes in 1 MiB pieces, gzipped as the engine
        // sends them (gzip=1; a --baseline build from before the gzip wire gets plain JSON), decoded by the webview.
        // The compression here happens before the clock starts: in the editor it is the engine's work (its parse
        // time), the decompression is the page's and is timed.
        const gzip = params.get('gzip') === '1';
        fetch('/graphs/' + encodeURIComponent(graph) + '.json').then((r) => r.arrayBuffer())
          .then((buf) => gzip ? new Response(new Blob([buf]).stream().pipeThrough(new CompressionStream('gzip'))).arrayBuffer() : buf)
          .then((buf) => {
          window.__bench.fetchMs = performance.now() - f0;
          window.__bench.t0 = performance.now();
          setTimeout(() => { window.__bench.timeoutMs = performance.now() - window.__bench.t0; }, 0);
          const piece = 1 << 20, count = Math.max(1, Math.ceil(buf.byteLength / piece));
          for (let i = 0; i < count; i++) {
            window.postMessage({ type: 'graphChunk', bytes: new Uint8Array(buf.slice(i * piece, (i + 1) * piece)), index: i, count, ...(gzip ? { encoding: 'gzip' } : {}) }, '*');
          }
        });
      }
      if (msg.type === 'readTensor') {
        const n = 64;
        const values = Array.from({ length: n }, (_, i) => Math.sin(i));
        window.postMessage({ type: 'tensor', id: msg.id, ok: true, value: { name: msg.tensor, dtype: 'float32', shape: [8, 8], elements: n, values,
          stats: { min: -1, max: 1, mean: 0, std: 0.7, histogram: { edges: [-1, -0.5, 0, 0.5, 1], counts: [16, 16, 16, 16] } } } }, '*');
      }
    },
    getState() { return undefined; },
    setState() {},
  });
})();
</script>
<script src="${dist}/webview.js"></script></body></html>`;
}

export interface HarnessServer {
  url: string;
  close(): Promise<void>;
}

/** Serves the harness, dist/, media/, graphs from `graphDir` (name.json) and optionally static trees. */
export function startHarness(graphDir: string, statics: Record<string, string> = {}): Promise<HarnessServer> {
  const types: Record<string, string> = {
    '.js': 'text/javascript',
    '.mjs': 'text/javascript',
    '.css': 'text/css',
    '.json': 'application/json',
    '.html': 'text/html',
    '.png': 'image/png',
    '.ico': 'image/x-icon',
    '.onnx': 'application/octet-stream',
  };
  const serveFile = (res: http.ServerResponse, file: string): void => {
    fs.stat(file, (err, st) => {
      if (err || !st.isFile()) {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'content-length': st.size, 'cache-control': 'no-store' });
      fs.createReadStream(file).pipe(res);
    });
  };
  const server = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const p = decodeURIComponent(u.pathname);
    if (p === '/' || p === '/harness.html') {
      const dist = u.searchParams.get('dist') === '/base/dist' ? '/base/dist' : '/dist';
      res.writeHead(200, { 'content-type': 'text/html' }).end(harnessHtml(u.searchParams.get('theme') ?? 'dark', dist));
      return;
    }
    const safe = (root: string, rel: string): string | undefined => {
      const f = path.resolve(root, `.${rel}`);
      return f.startsWith(path.resolve(root)) ? f : undefined;
    };
    for (const [prefix, root] of Object.entries({ '/dist/': path.join(repo, 'dist'), '/media/': path.join(repo, 'media'), '/graphs/': graphDir, ...statics })) {
      if (p.startsWith(prefix)) {
        const f = safe(root, `/${p.slice(prefix.length)}`);
        if (f) serveFile(res, f);
        else res.writeHead(403).end();
        return;
      }
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const addr = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${addr.port}`, close: () => new Promise<void>((r) => server.close(() => r())) });
    });
  });
}

if (require.main === module && process.argv.includes('--serve')) {
  const dir = process.argv[process.argv.indexOf('--serve') + 1] ?? path.join(repo, 'test-output', 'bench', 'graphs');
  void startHarness(dir).then((s) => console.log(`harness at ${s.url}/harness.html?graph=<name>&theme=dark|light`));
}
