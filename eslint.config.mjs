import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

/*
 * The layering (DESIGN.md "Dependency direction"), enforced per folder: analysis ← model/engine ← extension, cli;
 * shared is the protocol and result contract everybody reads; the webview sees only shared. The engine runs in
 * its own process, so the extension reaches it only through src/engine/client.ts and never loads a runtime.
 */
const RUNTIMES = ['onnxruntime-*', '@tensorflow/*', 'protobufjs', 'fflate', 'pngjs', 'jpeg-js'];
const NODE = ['node:*', 'fs', 'fs/*', 'path', 'os', 'crypto', 'worker_threads', 'child_process', 'zlib', 'util', 'buffer'];
// A layer's folder and its index; src/shared/analysis.ts is not src/analysis, so shared paths are let through.
const layers = (...names) => [...names.flatMap((n) => [`**/${n}/**`, `**/${n}`]), '!**/shared/*'];
const restrict = (patterns, dynamic) => ({
  '@typescript-eslint/no-restricted-imports': ['error', { patterns }],
  // import('…') as an expression or a type is not an import declaration: the same rule for those, as a regex.
  ...(dynamic && {
    'no-restricted-syntax': [
      'error',
      { selector: `ImportExpression[source.value=${dynamic.regex}]`, message: dynamic.message },
      { selector: `TSImportType[argument.literal.value=${dynamic.regex}]`, message: dynamic.message },
    ],
  }),
});

export default tseslint.config(
  {
    ignores: ['dist/**', 'out/**', 'node_modules/**', '.e2e/**', 'test-output/**', 'src/model/formats/onnxSchema.ts', '**/*.mjs', '**/*.js', '**/*.py'],
  },
  eslint.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['**/*.ts'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        { allowForKnownSafeCalls: [{ from: 'package', package: 'node:test', name: ['describe', 'it', 'test', 'suite'] }] },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
      'no-constant-condition': ['error', { checkLoops: false }],
    },
  },
  {
    // The science is pure: no editor, runtime, DOM or node imports under src/analysis; the result contract of
    // src/shared is read as types only (erased at build time), so no shared code runs inside an analysis.
    files: ['src/analysis/**/*.ts'],
    rules: restrict([
      { group: ['vscode', ...RUNTIMES, ...NODE], message: 'src/analysis is pure: it takes typed arrays and returns plain objects.' },
      { group: layers('model', 'engine', 'extension', 'cli', 'webview'), message: 'src/analysis must not depend on the runtime layers.' },
      { group: ['**/shared/**', '**/shared'], allowTypeImports: true, message: 'src/analysis reads src/shared as types only (import type).' },
    ]),
  },
  {
    // The protocol and the result contract: plain data and pure helpers, read by every other layer.
    files: ['src/shared/**/*.ts'],
    rules: restrict([
      { group: ['vscode', ...RUNTIMES, ...NODE], message: 'src/shared is plain data and pure functions: no editor, runtime or node imports.' },
      {
        // As a path: './analysis' here is src/shared/analysis.ts, '../analysis' is the layer.
        regex: '^(\\.\\./)+(analysis|model|engine|extension|cli|webview)(/|$)',
        message: 'src/shared imports nothing outside src/shared (every layer reads it).',
      },
    ]),
  },
  {
    // Loading and execution run in the engine process, headless from the CLI too: never the editor.
    files: ['src/model/**/*.ts'],
    rules: restrict([
      { group: ['vscode'], message: 'src/model runs in the engine process and the CLI: no vscode.' },
      { group: layers('engine', 'extension', 'cli', 'webview'), message: 'src/model depends only on src/analysis and src/shared.' },
    ], { regex: '/^vscode$|^(\\.\\.\\/)+(engine|extension|cli|webview)(\\/|$)/', message: 'src/model depends only on src/analysis and src/shared (no vscode).' }),
  },
  {
    files: ['src/engine/**/*.ts'],
    rules: restrict([
      { group: ['vscode'], message: 'src/engine runs in its own process and under the CLI: no vscode.' },
      { group: layers('extension', 'cli', 'webview'), message: 'src/engine must not depend on the extension, the CLI or the webview.' },
    ], { regex: '/^vscode$|^(\\.\\.\\/)+(extension|cli|webview)(\\/|$)/', message: 'src/engine must not depend on vscode, the extension, the CLI or the webview.' }),
  },
  {
    // The extension host is glue: the engine (models, runtimes, analyses) runs in its own process.
    files: ['src/extension/**/*.ts'],
    rules: restrict([
      { group: RUNTIMES, message: 'runtimes load in the engine process, never in the extension host (DESIGN.md).' },
      { group: layers('model', 'analysis'), message: 'the extension talks to the engine (src/engine/client.ts) and reads src/shared; it never imports src/model or src/analysis.' },
      { group: layers('cli', 'webview'), message: 'the extension must not import the CLI or the webview bundle.' },
    ], { regex: '/^(onnxruntime-|@tensorflow\\/)|^(\\.\\.\\/)+(model|analysis|cli|webview)(\\/|$)/', message: 'the extension reaches models and runtimes only through the engine process.' }),
  },
  {
    files: ['src/cli/**/*.ts'],
    rules: restrict([
      { group: ['vscode'], message: 'the CLI runs headless: no vscode.' },
      { group: layers('extension', 'webview'), message: 'the CLI must not import the extension or the webview bundle.' },
    ]),
  },
  {
    // The webview is browser code: it sees only src/shared (its own files and browser libraries aside).
    files: ['src/webview/**/*.ts'],
    rules: restrict([
      { group: ['vscode', ...RUNTIMES, ...NODE], message: 'the webview is browser code: no editor, runtime or node imports.' },
      // '../model' alone is allowed: the webview's own results/model.ts and circuits/model.ts.
      { group: ['**/model/**', ...layers('analysis', 'engine', 'extension', 'cli')], message: 'the webview sees only src/shared.' },
    ]),
  },
);
