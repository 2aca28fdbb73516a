#!/usr/bin/env node
'use strict';
const path = require('node:path');
const fs = require('node:fs');
const cli = path.join(__dirname, '..', 'dist', 'cli.js');
if (!fs.existsSync(cli)) {
  process.stderr.write('circuitscope: dist/cli.js is missing — run `npm run build` first\n');
  // exitCode, not exit(): the message reaches a piped stderr whole before the process ends.
  process.exitCode = 2;
} else {
  // Exits only after stdout and stderr have drained (a piped `--json` arrives whole).
  require(cli).runAsProgram(process.argv.slice(2));
}
