import eslint from '@eslint/js';
import tseslint from 'typescript-eslint';

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
    // The science is pure: no editor, runtime, DOM or node imports under src/analysis.
    files: ['src/analysis/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['vscode', 'onnxruntime-*', '@tensorflow/*', 'node:*', 'fs', 'path', 'worker_threads', 'child_process'],
              message: 'src/analysis is pure: it takes typed arrays and returns plain objects.',
            },
            {
              group: ['**/model/**', '**/engine/**', '**/extension/**', '**/cli/**', '**/webview/**'],
              message: 'src/analysis must not depend on the runtime layers.',
            },
          ],
        },
      ],
    },
  },
  {
    // The webview sees only the shared protocol types.
    files: ['src/webview/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['vscode', 'node:*', '**/model/**', '**/engine/**', '**/extension/**', '**/cli/**', 'onnxruntime-*'],
              message: 'the webview sees only src/shared.',
            },
          ],
        },
      ],
    },
  },
);
