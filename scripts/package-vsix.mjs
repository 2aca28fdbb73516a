#!/usr/bin/env node
// Per-platform .vsix files: `vsce package --target <t>` for each target, each carrying only its platform's
// onnxruntime-node binary and exactly the node_modules files the bundles load at run time.
//
//   node scripts/package-vsix.mjs [--target <t>]… [--all] [--out <dir>] [--no-build]   (npm run package:vsix)
//
// 1. refuses a target whose onnxruntime-node binary is not in node_modules (--all: reports it, goes on);
// 2. builds the production bundles once (node esbuild.mjs --production) unless --no-build;
// 3. keeps dist/*.js, media/, the files the README shows and the manifest names, and what the bundles load at
//    run time: their literal require()/import ids followed file by file through node_modules, with each
//    reached package's package.json files and licence, plus onnxruntime-node's native folder for the target
//    and tfjs-backend-wasm's .wasm files (both loaded by computed paths) — all less the base rules of
//    scripts/e2e/vscodeignore;
// 4. writes <out>/<name>-<target>.vscodeignore, which leaves out every other file vsce would collect, runs
//    vsce with it, and checks the .vsix entry for entry (scripts/packaging/lib.mjs verifyEntries, and against
//    the kept list); prints sizes and counts. A .vsix that fails its checks is deleted and the exit status is 1.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  USAGE,
  compareWithKeep,
  formatBytes,
  generateIgnoreFile,
  hostTarget,
  isDevelopmentBundle,
  isIgnored,
  manifestFileRefs,
  nativeRuntimeFor,
  parseArgs,
  parseIgnoreRules,
  readmeLocalLinks,
  verifyEntries,
  vsixName,
} from './packaging/lib.mjs';
import { libcOfNativeDir, listZip, loadVsce, ortNative, productionDirs, vsceCandidates, walkRuntime } from './packaging/runtime.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const BASE_IGNORE = path.join(ROOT, 'scripts', 'e2e', 'vscodeignore');

const log = (s) => console.log(s);
const fail = (s) => {
  console.error(`package-vsix: ${s}`);
  process.exit(1);
};

const isMusl = () => process.platform === 'linux' && !process.report?.getReport().header.glibcVersionRuntime;

/** Every file under a repo folder (repo-relative). */
function walkDir(rel) {
  const abs = path.join(ROOT, rel);
  if (!fs.existsSync(abs)) return [];
  return fs.readdirSync(abs, { withFileTypes: true }).flatMap((e) => {
    const r = `${rel}/${e.name}`;
    return e.isDirectory() ? walkDir(r) : e.isFile() ? [r] : [];
  });
}

/**
 * The repository's own files in the package: the bundles, media/, files the README shows and the manifest
 * names, package.json and the README — less whatever the base rules leave out.
 */
function ownFiles(pkg, rules, match) {
  const dist = fs.readdirSync(path.join(ROOT, 'dist')).filter((f) => f.endsWith('.js')).map((f) => `dist/${f}`);
  const readme = fs.readFileSync(path.join(ROOT, 'README.md'), 'utf8');
  const wanted = [...dist, ...walkDir('media'), ...readmeLocalLinks(readme), ...manifestFileRefs(pkg)];
  const rootExtras = fs.readdirSync(ROOT).filter((f) => /^(license|licence|changelog)(\.(md|txt))?$/i.test(f));
  const files = new Set();
  const dropped = [];
  for (const f of [...new Set([...wanted, ...rootExtras])]) {
    if (!fs.existsSync(path.join(ROOT, f))) continue;
    if (isIgnored(rules, f, match)) dropped.push(f);
    else files.add(f);
  }
  files.add('package.json');
  files.add('README.md');
  return { files: [...files].sort(), dropped, bundles: dist.filter((f) => files.has(f)) };
}

async function main() {
  const host = hostTarget(process.platform, process.arch, isMusl());
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2), host);
  } catch (e) {
    console.error(`package-vsix: ${e.message}\n\n${USAGE}`);
    process.exit(2);
  }
  if (opts.help) return log(USAGE);

  const vsce = loadVsce(ROOT);
  if (!vsce) fail('@vscode/vsce is not installed (npm ci installs it: it is a devDependency)');
  const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
  const out = path.resolve(ROOT, opts.out);
  const baseText = fs.readFileSync(BASE_IGNORE, 'utf8');
  const rules = parseIgnoreRules(baseText);

  // Which targets have their native runtime here: refuse before building anything.
  const ort = ortNative(ROOT);
  if (!ort.version) fail(`onnxruntime-node is not installed (expected ${path.relative(ROOT, ort.pkg)}/package.json): run npm ci`);
  const plan = [];
  const refused = [];
  for (const t of opts.targets) {
    const r = nativeRuntimeFor(t, ort.dirs, (d) => libcOfNativeDir(ROOT, d));
    if (r.ok) plan.push({ target: t, native: r.dirs });
    else refused.push(`${t}: onnxruntime-node ${ort.version} has ${r.reason}; expected node_modules/onnxruntime-node/${r.expected}`);
  }
  if (refused.length && !opts.all) fail(`cannot package ${refused.length === 1 ? 'this target' : 'these targets'}:\n  ${refused.join('\n  ')}`);
  for (const r of refused) log(`skipped ${r}`);
  if (!plan.length) fail('no target can be packaged');

  const t0 = performance.now();
  let buildMs = 0;
  if (opts.build) {
    log('building production bundles (node esbuild.mjs --production)');
    const b = spawnSync(process.execPath, ['esbuild.mjs', '--production'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
    if (b.status !== 0) fail('node esbuild.mjs --production failed');
    buildMs = performance.now() - t0;
  }
  for (const f of ['dist/extension.js', 'dist/worker.js', 'dist/webview.js']) {
    if (!fs.existsSync(path.join(ROOT, f))) fail(`${f} is missing: build first (node esbuild.mjs --production) or drop --no-build`);
  }

  const prodList = productionDirs(ROOT);
  const prodDirs = new Set(prodList);
  const devDependencies = Object.keys(pkg.devDependencies ?? {});
  fs.mkdirSync(out, { recursive: true });
  const results = [];
  let failed = false;

  for (const { target, native } of plan) {
    const tStart = performance.now();
    // Looked at afresh for each target: others may write to dist/ and media/ while a long --all run goes on.
    const own = ownFiles(pkg, rules, vsce.match);
    if (!opts.allowDev) {
      const dev = own.bundles.filter((f) => isDevelopmentBundle(fs.readFileSync(path.join(ROOT, f), 'utf8')));
      if (dev.length) {
        fail(`${dev.join(', ')}: a development build (it links a source map)${opts.build ? ': was dist/ rebuilt while packaging?' : ': run without --no-build, or node esbuild.mjs --production first'}`);
      }
    }
    const candidateSet = new Set(await vsceCandidates(ROOT, vsce.pj, prodList));
    const rt = walkRuntime(ROOT, own.bundles, native);
    // Runtime files a base rule leaves out (normally none: the walk reaches code, package.json files,
    // licences and assets, which the base rules do not name).
    const runtimeDropped = rt.files.filter((f) => f.startsWith('node_modules/') && isIgnored(rules, f, vsce.match));
    const keep = [...new Set([...own.files, ...rt.files.filter((f) => !runtimeDropped.includes(f))])].sort();

    const problems = [];
    for (const [dir, p] of rt.packages) {
      if (!prodDirs.has(dir)) problems.push(`${p.name} (${dir}, required by ${p.requiredBy}) is not a production dependency: vsce would not pack it`);
    }
    const deps = new Set(Object.keys(pkg.dependencies ?? {}));
    for (const u of rt.unresolved) {
      if (deps.has(u.spec)) problems.push(`dependency ${u.spec} (required by ${u.from}) is not installed`);
    }
    if (problems.length) {
      console.error(`package-vsix: ${target}:\n  ${problems.join('\n  ')}`);
      failed = true;
      continue;
    }

    const unseen = keep.filter((f) => !candidateSet.has(f));
    if (unseen.length) {
      console.error(`package-vsix: ${target}: vsce would not see these files:\n  ${unseen.join('\n  ')}`);
      failed = true;
      continue;
    }
    const notes = [
      `onnxruntime-node ${ort.version}: ${native.join(', ')}`,
      ...rt.nativeLeftOut.map((f) => `left out (downloaded per machine, not portable): onnxruntime-node/${f}`),
    ];
    const ignoreFile = path.join(out, `${pkg.name}-${target}.vscodeignore`);
    // With --out inside the repository the ignore file itself is one of the files vsce collects.
    const ignoreRel = path.relative(ROOT, ignoreFile).split(path.sep).join('/');
    if (!ignoreRel.startsWith('../') && !path.isAbsolute(ignoreRel)) candidateSet.add(ignoreRel);
    fs.writeFileSync(ignoreFile, generateIgnoreFile({ target, baseText, keep, candidates: [...candidateSet], match: vsce.match, note: notes }));
    const vsix = path.join(out, vsixName(pkg.name, target, pkg.version));

    log(`packaging ${target} → ${path.relative(ROOT, vsix)} (${keep.length} files)`);
    const tVsce = performance.now();
    const p = spawnSync(
      process.execPath,
      [
        vsce.bin,
        'package',
        '--target',
        target,
        '--allow-missing-repository',
        '--skip-license',
        '--no-rewrite-relative-links',
        '--ignoreFile',
        ignoreFile,
        '-o',
        vsix,
      ],
      { cwd: ROOT, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 },
    );
    const vsceMs = performance.now() - tVsce;
    if (p.status !== 0) {
      console.error(`${p.stdout}\n${p.stderr}`.trim().split('\n').slice(-30).join('\n'));
      console.error(`package-vsix: vsce package --target ${target} failed (exit ${p.status})`);
      failed = true;
      continue;
    }

    const { entries, texts } = listZip(vsix, (n) => n === 'extension.vsixmanifest' || /^extension\/dist\/[^/]+\.js$/.test(n));
    const names = entries.map((e) => e.name);
    const v = verifyEntries(names, target, { devDependencies, manifest: texts['extension.vsixmanifest'] });
    const diff = compareWithKeep(names, keep);
    const errors = [
      ...v.errors,
      ...diff.missing.map((e) => `kept but not packaged: ${e}`),
      ...diff.extra.map((e) => `packaged but not kept (did the tree change while packaging?): ${e}`),
      ...Object.entries(texts)
        .filter(([n, text]) => !opts.allowDev && n.startsWith('extension/dist/') && isDevelopmentBundle(text))
        .map(([n]) => `a development build (dist/ was rebuilt while packaging?): ${n}`),
    ];
    const size = fs.statSync(vsix).size;
    const unpacked = entries.reduce((s, e) => s + e.size, 0);
    results.push({ target, size, unpacked, counts: v.counts, packages: rt.packages.size, vsceMs, totalMs: performance.now() - tStart, errors });
    log(
      `  ${formatBytes(size)} (${formatBytes(unpacked)} unpacked), ${v.counts.total} entries: ${v.counts.dist} in dist/, ` +
        `${v.counts.nodeModules} in node_modules/ (${rt.packages.size} packages, ${v.counts.native} native files); ` +
        `vsce ${(vsceMs / 1000).toFixed(1)} s`,
    );
    if (errors.length) {
      failed = true;
      fs.rmSync(vsix);
      console.error(`package-vsix: ${target}: the .vsix failed its checks (deleted):\n  ${errors.join('\n  ')}`);
    }
    if (target === plan[0].target) {
      const opt = [...new Set(rt.unresolved.map((u) => u.spec))];
      if (opt.length) log(`  not installed, loaded only if present (guarded requires): ${opt.join(', ')}`);
      if (rt.optionalPresent.length) log(`  installed here but optional and built for this machine, not packaged: ${rt.optionalPresent.join(', ')}`);
      const dyn = rt.dynamic.map((d) => `${d.file} (${d.count})`);
      if (dyn.length) log(`  require() with a computed id, not followed (their files come from the package rules): ${dyn.join(', ')}`);
      if (own.dropped.length || runtimeDropped.length) log(`  left out by the base rules: ${[...own.dropped, ...runtimeDropped].join(', ')}`);
    }
  }

  log('');
  log(`target          size        unpacked    entries  node_modules  native  vsce`);
  for (const r of results) {
    log(
      `${r.target.padEnd(15)} ${formatBytes(r.size).padEnd(11)} ${formatBytes(r.unpacked).padEnd(11)} ${String(r.counts.total).padEnd(8)} ` +
        `${String(r.counts.nodeModules).padEnd(13)} ${String(r.counts.native).padEnd(7)} ${(r.vsceMs / 1000).toFixed(1)} s${r.errors.length ? '  FAILED CHECKS' : ''}`,
    );
  }
  for (const r of refused) log(`${r.split(':')[0].padEnd(15)} skipped: ${r.slice(r.indexOf(':') + 2)}`);
  log(`${opts.build ? `build ${(buildMs / 1000).toFixed(1)} s, ` : ''}total ${((performance.now() - t0) / 1000).toFixed(1)} s; .vsix files in ${path.relative(ROOT, out) || '.'}/`);
  if (failed) process.exit(1);
}

await main();
