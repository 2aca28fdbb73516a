#!/usr/bin/env bash
# The whole test suite, as `npm test` runs it (and CI through .ci/run): system packages the tests need,
# build, types, lint, unit tests, integration tests on the real example checkpoints.
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/system-deps.sh

echo "== build"; node esbuild.mjs >/dev/null
echo "== typecheck"; npx --no-install tsc -b
echo "== function length (no function in src/ over 300 lines)"; node scripts/check-function-length.mjs src
echo "== lint"; npx --no-install eslint src test scripts
echo "== unit + integration tests"
node --import tsx --test --test-reporter=spec test/unit/*.test.ts test/integration/*.test.ts
echo "== e2e: the extension in a real VS Code (code-server) driven by Playwright in Debian's Chromium"
bash scripts/e2e/run.sh
