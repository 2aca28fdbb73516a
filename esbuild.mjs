// Bundles the extension host, the engine worker and the CLI (node, cjs) and the webview (browser, iife).
// Types are checked separately by `tsc -b` (esbuild only strips them).
import * as esbuild from 'esbuild';
import fs from 'node:fs';

const watch = process.argv.includes('--watch');
const production = process.argv.includes('--production');

/** Native or optional runtimes are loaded from node_modules at run time, never bundled. */
const nodeExternal = [
  'vscode',
  'onnxruntime-node',
  '@tensorflow/tfjs-node',
  '@tensorflow/tfjs-node-gpu',
  '@tensorflow/tfjs-backend-wasm',
];

const nodeEntries = [
  { in: 'src/extension/extension.ts', out: 'extension' },
  { in: 'src/engine/worker.ts', out: 'worker' },
  { in: 'src/cli/main.ts', out: 'cli' },
].filter((e) => fs.existsSync(e.in));

const webEntries = [
  { in: 'src/webview/main.ts', out: 'webview' },
  { in: 'src/webview/results/main.ts', out: 'results' },
  { in: 'src/webview/circuits/main.ts', out: 'circuits' },
  { in: 'src/webview/report/main.ts', out: 'report' },
].filter((e) => fs.existsSync(e.in));

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info', legalComments: 'none' };

const builds = [
  {
    ...common,
    entryPoints: nodeEntries,
    outdir: 'dist',
    platform: 'node',
    format: 'cjs',
    target: 'node20',
    external: nodeExternal,
  },
];
/**
 * `import src from 'inline-worker:<name>'` bundles src/webview/<name>Worker.ts on its own and inlines it as
 * a string: the webview starts it from a blob: URL, because webview resources are served from another
 * origin than the webview document and a Worker cannot be created from a cross-origin URL.
 */
const inlineWorker = {
  name: 'inline-worker',
  setup(b) {
    b.onResolve({ filter: /^inline-worker:/ }, (args) => ({ path: args.path.slice('inline-worker:'.length), namespace: 'inline-worker' }));
    b.onLoad({ filter: /.*/, namespace: 'inline-worker' }, async (args) => {
      const entry = `src/webview/${args.path}Worker.ts`;
      const r = await esbuild.build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        format: 'iife',
        platform: 'browser',
        target: 'es2022',
        minify: true,
        metafile: true,
        legalComments: 'none',
      });
      return { contents: r.outputFiles[0].text, loader: 'text', watchFiles: Object.keys(r.metafile.inputs) };
    });
  },
};

if (webEntries.length) {
  builds.push({
    ...common,
    entryPoints: webEntries,
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'text' },
    plugins: [inlineWorker],
  });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
