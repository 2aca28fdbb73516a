// The file-system half of per-platform packaging: which node_modules files the built bundles load at run
// time, which native folders onnxruntime-node has, what vsce would collect, and what a .vsix holds.
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { createRequire, isBuiltin } from 'node:module';
import path from 'node:path';
import { unzipSync } from 'fflate';
import { NATIVE_EXCLUDE, detectLibc, packageDirOf, scanSpecifiers } from './lib.mjs';

/**
 * vsce as the repository has it: its command line script, its version, and its own minimatch with the
 * options it applies ignore files with (undefined when @vscode/vsce is not installed).
 * @returns {{ pj: string, bin: string, version: string, match: (file: string, pattern: string) => boolean } | undefined}
 */
export function loadVsce(root) {
  let pj;
  try {
    pj = createRequire(path.join(root, 'package.json')).resolve('@vscode/vsce/package.json');
  } catch {
    return undefined;
  }
  const r = createRequire(pj);
  const { minimatch } = r('minimatch');
  return { pj, bin: path.join(path.dirname(pj), 'vsce'), version: r('./package.json').version, match: (f, p) => minimatch(f, p, { dot: true }) };
}

/** Loaded by the editor, never from node_modules. */
const HOST_MODULES = new Set(['vscode']);

/**
 * Optional runtimes the bundles load with a guarded require (src/model/runtime/tfjs/backend.ts) when a user
 * installed them: native, built for the machine they were installed on, and not dependencies — never packaged,
 * even when this node_modules has them.
 */
export const OPTIONAL_RUNTIMES = ['@tensorflow/tfjs-node', '@tensorflow/tfjs-node-gpu'];

/**
 * Files a package needs beyond what its JavaScript requires with literal ids (paths relative to the
 * package, `{os}`/`{arch}` filled in per target): onnxruntime-node's binding is required with a computed path
 * (bin/napi-v6/${process.platform}/${process.arch}/…) and tfjs-backend-wasm reads its .wasm files from disk.
 */
export const PACKAGE_ASSETS = {
  'onnxruntime-node': (native) => native,
  '@tensorflow/tfjs-backend-wasm': () => ['dist/*.wasm'],
};

const LICENSE_RE = /^(licen[cs]e|notice|third[-_ ]?party[-_ ]?notices?|copying)(\.(md|txt))?$/i;

/** `pattern` (one `*` at most per segment) → the files under `dir` it matches, relative to `dir`. */
function globFiles(dir, pattern) {
  const parts = pattern.split('/');
  let cur = [''];
  for (const [i, part] of parts.entries()) {
    const re = new RegExp('^' + part.split('*').map((s) => s.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[^/]*') + '$');
    const next = [];
    for (const c of cur) {
      const abs = path.join(dir, c);
      if (!fs.existsSync(abs) || !fs.statSync(abs).isDirectory()) continue;
      for (const e of fs.readdirSync(abs, { withFileTypes: true })) {
        if (!re.test(e.name)) continue;
        const rel = c ? `${c}/${e.name}` : e.name;
        if (i === parts.length - 1 ? e.isFile() : e.isDirectory()) next.push(rel);
      }
    }
    cur = next;
  }
  return cur.sort();
}

/** Every file under `dir` (relative, `/`-separated). */
function filesUnder(dir, base = '') {
  const out = [];
  for (const e of fs.readdirSync(path.join(dir, base), { withFileTypes: true })) {
    const rel = base ? `${base}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...filesUnder(dir, rel));
    else if (e.isFile()) out.push(rel);
  }
  return out;
}

/** onnxruntime-node's native folders (`bin/napi-v6/linux/x64`, …) that hold a binding, and its version. */
export function ortNative(root) {
  const pkg = path.join(root, 'node_modules', 'onnxruntime-node');
  if (!fs.existsSync(path.join(pkg, 'package.json'))) return { pkg, version: undefined, dirs: [] };
  const version = JSON.parse(fs.readFileSync(path.join(pkg, 'package.json'), 'utf8')).version;
  const dirs = globFiles(pkg, 'bin/napi-v*/*/*/onnxruntime_binding.node').map((f) => path.posix.dirname(f));
  return { pkg, version, dirs };
}

/** What a native folder's binding was linked against (glibc/musl), for Linux folders. */
export function libcOfNativeDir(root, dir) {
  if (!/\/linux\//.test(dir)) return undefined;
  const file = path.join(root, 'node_modules', 'onnxruntime-node', dir, 'onnxruntime_binding.node');
  return detectLibc(fs.readFileSync(file));
}

/**
 * Follows the module ids the entry bundles load from node_modules, file by file: every literal
 * `require()`/`import` in a reached file is resolved the way Node resolves it from that file. Reached
 * packages bring their package.json files (Node reads `main`, `exports` and `type` from them), their
 * licence files and their PACKAGE_ASSETS.
 * @param root the repository
 * @param entries repo-relative bundles (dist/extension.js, …)
 * @param native onnxruntime-node native folders to keep (relative to the package)
 * @param optional ids that are not followed (OPTIONAL_RUNTIMES); those installed here are listed in `optionalPresent`
 * @returns {{ files: string[], packages: Map<string, { name: string, version: string, requiredBy: string }>, unresolved: { spec: string, from: string }[], dynamic: { file: string, count: number }[], nativeLeftOut: string[], optionalPresent: string[] }}
 */
export function walkRuntime(root, entries, native, optional = OPTIONAL_RUNTIMES) {
  const files = new Set();
  const packages = new Map();
  const unresolved = [];
  const dynamic = [];
  const optionalPresent = new Set();
  const seen = new Set();
  const queue = entries.map((e) => path.join(root, e));
  const rel = (abs) => path.relative(root, abs).split(path.sep).join('/');
  // Node resolves to real paths: with node_modules a link (a git worktree sharing one install), map them back.
  const nm = path.join(root, 'node_modules');
  const nmReal = fs.existsSync(nm) ? fs.realpathSync(nm) : nm;
  const underRoot = (abs) => (nmReal !== nm && abs.startsWith(nmReal + path.sep) ? path.join(nm, path.relative(nmReal, abs)) : abs);

  const addPackage = (pkgRel, requiredBy) => {
    if (packages.has(pkgRel)) return;
    const abs = path.join(root, pkgRel);
    const pj = JSON.parse(fs.readFileSync(path.join(abs, 'package.json'), 'utf8'));
    packages.set(pkgRel, { name: pj.name, version: pj.version, requiredBy });
    files.add(`${pkgRel}/package.json`);
    for (const f of fs.readdirSync(abs)) if (LICENSE_RE.test(f) && fs.statSync(path.join(abs, f)).isFile()) files.add(`${pkgRel}/${f}`);
    const assets = PACKAGE_ASSETS[pj.name];
    if (assets) {
      for (const pattern of assets(native.map((d) => `${d}/*`))) {
        for (const f of globFiles(abs, pattern)) {
          if (NATIVE_EXCLUDE.test(f)) continue;
          files.add(`${pkgRel}/${f}`);
        }
      }
    }
  };

  while (queue.length) {
    const file = queue.shift();
    if (seen.has(file)) continue;
    seen.add(file);
    const r = rel(file);
    files.add(r);
    const pkgRel = packageDirOf(r);
    if (pkgRel) {
      // Every package.json between the file and its package root (e.g. onnxruntime-common/dist/cjs/package.json
      // says {"type": "commonjs"} under a "type": "module" package).
      for (let d = path.dirname(file); rel(d).length >= pkgRel.length; d = path.dirname(d)) {
        if (fs.existsSync(path.join(d, 'package.json'))) files.add(rel(path.join(d, 'package.json')));
      }
    }
    if (!/\.(c|m)?js$/.test(file)) continue;
    const { specifiers, dynamic: n } = scanSpecifiers(fs.readFileSync(file, 'utf8'));
    if (n) dynamic.push({ file: r, count: n });
    const req = createRequire(file);
    for (const spec of specifiers) {
      if (isBuiltin(spec) || HOST_MODULES.has(spec)) continue;
      let resolved;
      try {
        resolved = req.resolve(spec);
      } catch {
        unresolved.push({ spec, from: r });
        continue;
      }
      if (optional.some((o) => spec === o || spec.startsWith(`${o}/`))) {
        optionalPresent.add(spec);
        continue;
      }
      if (isBuiltin(resolved)) continue;
      resolved = underRoot(resolved);
      const target = rel(resolved);
      const targetPkg = packageDirOf(target);
      if (targetPkg && targetPkg !== pkgRel) addPackage(targetPkg, r);
      queue.push(resolved);
    }
  }
  return { files: [...files].sort(), packages, unresolved, dynamic, nativeLeftOut: nativeLeftOut(root, native), optionalPresent: [...optionalPresent] };
}

function nativeLeftOut(root, native) {
  const pkg = path.join(root, 'node_modules', 'onnxruntime-node');
  return native.flatMap((d) => filesUnder(path.join(pkg, d)).filter((f) => NATIVE_EXCLUDE.test(f)).map((f) => `${d}/${f}`));
}

/** The package folders vsce packages from (`npm list --production`, as vsce runs it), repo-relative. */
export function productionDirs(root) {
  const out = execFileSync('npm', ['list', '--production', '--parseable', '--depth=99999', '--loglevel=error'], {
    cwd: root,
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    shell: process.platform === 'win32',
  });
  return out
    .split(/\r?\n/)
    .filter(Boolean)
    .map((d) => path.relative(root, d).split(path.sep).join('/'))
    .filter(Boolean);
}

/**
 * The files vsce collects before it applies an ignore file, found the way vsce finds them (its own glob
 * package, the same options): everything under the repository but node_modules/, and every file of each
 * production dependency's folder but its nested node_modules/. Repo-relative, sorted.
 */
export async function vsceCandidates(root, vscePackageJson, prodDirs) {
  const { glob } = createRequire(vscePackageJson)('glob');
  const lists = await Promise.all(
    ['', ...prodDirs].map(async (dep) => {
      const files = await glob('**', { cwd: path.join(root, dep), nodir: true, follow: false, dot: true, ignore: 'node_modules/**' });
      return files.map((f) => (dep ? `${dep}/${f}` : f).split(path.sep).join('/'));
    }),
  );
  return [...new Set(lists.flat())].filter((f) => !/\r$/m.test(f)).sort();
}

/**
 * The entries of a zip file (names, sizes), read without inflating them, and the text of the entries
 * `read(name)` picks.
 */
export function listZip(file, read = () => false) {
  const entries = [];
  const texts = {};
  const out = unzipSync(fs.readFileSync(file), {
    filter: (f) => {
      entries.push({ name: f.name, size: f.originalSize, compressed: f.size });
      return read(f.name);
    },
  });
  for (const [k, v] of Object.entries(out)) texts[k] = Buffer.from(v).toString('utf8');
  return { entries, texts };
}
