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

const webEntries = [{ in: 'src/webview/main.ts', out: 'webview' }].filter((e) => fs.existsSync(e.in));

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
if (webEntries.length) {
  builds.push({
    ...common,
    entryPoints: webEntries,
    outdir: 'dist',
    platform: 'browser',
    format: 'iife',
    target: 'es2022',
    loader: { '.css': 'text' },
  });
}

if (watch) {
  for (const b of builds) await (await esbuild.context(b)).watch();
} else {
  await Promise.all(builds.map((b) => esbuild.build(b)));
}
