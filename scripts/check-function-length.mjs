#!/usr/bin/env node
// Fails when a function in the given folders is longer than the limit (lines from its first to its last
// line, the signature and closing brace included), and lists the longest functions found.
//
//   node scripts/check-function-length.mjs [--max 300] [--top 15] [--report-only] [dir or file ...]   (default: src)
//
// Every function-like node counts on its own (declarations, methods, accessors, constructors, arrow
// functions and function expressions), so an inner function's lines count for it and for the function
// that holds it: a 900-line closure made of 40 small inner functions is still a 900-line function.
// --report-only lists without failing (to survey a folder that is not held to the limit yet).
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import ts from 'typescript';

const args = process.argv.slice(2);
let max = 300;
let top = 15;
let reportOnly = false;
const dirs = [];
for (let i = 0; i < args.length; i++) {
  const a = args[i];
  if (a === '--max') max = Number(args[++i]);
  else if (a === '--top') top = Number(args[++i]);
  else if (a === '--report-only') reportOnly = true;
  else if (a.startsWith('--')) {
    console.error(`check-function-length: unknown option ${a} (expected --max N, --top N, --report-only)`);
    process.exit(2);
  } else dirs.push(a);
}
if (!Number.isInteger(max) || max < 1 || !Number.isInteger(top) || top < 0) {
  console.error(`check-function-length: --max and --top take whole numbers, found max=${max} top=${top}`);
  process.exit(2);
}
if (!dirs.length) dirs.push('src');

function* tsFiles(dir) {
  if (!statSync(dir).isDirectory()) {
    yield dir;
    return;
  }
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) yield* tsFiles(p);
    else if (/\.tsx?$/.test(name) && !name.endsWith('.d.ts')) yield p;
  }
}

function nameOf(node, sf) {
  if (node.name && ts.isIdentifier(node.name)) return node.name.text;
  if (node.name) return node.name.getText(sf);
  if (ts.isConstructorDeclaration(node)) return 'constructor';
  // An anonymous function: name it after what it is assigned to or passed to.
  const p = node.parent;
  if (p && ts.isVariableDeclaration(p) && ts.isIdentifier(p.name)) return p.name.text;
  if (p && ts.isPropertyAssignment(p)) return p.name.getText(sf);
  if (p && ts.isCallExpression(p)) return `(callback of ${p.expression.getText(sf).slice(0, 40)})`;
  return '(anonymous)';
}

const found = [];
for (const dir of dirs) {
  for (const file of tsFiles(dir)) {
    const text = readFileSync(file, 'utf8');
    const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, file.endsWith('x') ? ts.ScriptKind.TSX : ts.ScriptKind.TS);
    const visit = (node) => {
      if (ts.isFunctionLike(node) && node.body) {
        const start = sf.getLineAndCharacterOfPosition(node.getStart(sf)).line;
        const end = sf.getLineAndCharacterOfPosition(node.getEnd()).line;
        found.push({ file: relative(process.cwd(), file), line: start + 1, lines: end - start + 1, name: nameOf(node, sf) });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
}

found.sort((a, b) => b.lines - a.lines);
const over = found.filter((f) => f.lines > max);
console.log(`Longest functions in ${dirs.join(', ')} (${found.length} functions; limit ${max} lines):`);
for (const f of found.slice(0, top)) console.log(`${String(f.lines).padStart(6)}  ${f.file}:${f.line}  ${f.name}${f.lines > max ? '  <-- over the limit' : ''}`);
if (over.length) {
  const msg = `check-function-length: ${over.length} function(s) over ${max} lines: ${over.map((f) => `${f.file}:${f.line} ${f.name} (${f.lines})`).join(', ')}`;
  if (reportOnly) console.log(msg);
  else {
    console.error(msg);
    process.exit(1);
  }
}
