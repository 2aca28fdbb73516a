// The pure parts of per-platform .vsix packaging (scripts/package-vsix.mjs): target parsing, the generated
// vsce ignore file, scanning module specifiers out of JavaScript, the rules a produced .vsix is checked
// against. No file system or process access here (callers pass text, file lists and a glob matcher), so
// test/unit/packaging.test.ts can test every rule on synthetic input.

/**
 * The vsce targets Circuitscope can be packaged for, with the onnxruntime-node binary folder each needs
 * (`bin/napi-v*\/<os>/<arch>/`, the folder onnxruntime-node's binding.js loads from `process.platform` and
 * `process.arch`) and the C library that binary must be linked against.
 */
export const TARGETS = Object.freeze({
  'linux-x64': { os: 'linux', arch: 'x64', libc: 'glibc' },
  'linux-arm64': { os: 'linux', arch: 'arm64', libc: 'glibc' },
  'linux-armhf': { os: 'linux', arch: 'arm', libc: 'glibc' },
  'alpine-x64': { os: 'linux', arch: 'x64', libc: 'musl' },
  'alpine-arm64': { os: 'linux', arch: 'arm64', libc: 'musl' },
  'darwin-x64': { os: 'darwin', arch: 'x64' },
  'darwin-arm64': { os: 'darwin', arch: 'arm64' },
  'win32-x64': { os: 'win32', arch: 'x64' },
  'win32-arm64': { os: 'win32', arch: 'arm64' },
});

export const USAGE = `usage: node scripts/package-vsix.mjs [--target <t>]… [--all] [--out <dir>] [--no-build]

  --target <t>   a vsce target (repeatable, or comma-separated): ${Object.keys(TARGETS).join(', ')}
                 default: this machine's, <platform>-<arch> (alpine-<arch> on musl Linux)
  --all          every target; one whose native runtime is missing is reported and skipped
  --out <dir>    where the .vsix files go (default: out/vsix/)
  --no-build     package the bundles already in dist/ (default: node esbuild.mjs --production first)
  --allow-dev-build
                 package dist/ as it is even if it is a development build (tests only; implies --no-build)`;

/** The vsce target of a machine: `${platform}-${arch}`, alpine-* on musl Linux, linux-armhf for 32-bit arm. */
export function hostTarget(platform, arch, isMusl = false) {
  if (platform === 'linux' && isMusl) return `alpine-${arch}`;
  if (platform === 'linux' && arch === 'arm') return 'linux-armhf';
  return `${platform}-${arch}`;
}

/**
 * Parses the command line (without `node script`).
 * @returns {{ targets: string[], all: boolean, out: string, build: boolean, allowDev: boolean, help: boolean }}
 * @throws Error with a message naming the bad argument
 */
export function parseArgs(argv, host) {
  const opts = { targets: [], all: false, out: 'out/vsix', build: true, allowDev: false, help: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const value = () => {
      const eq = a.indexOf('=');
      if (eq >= 0) return a.slice(eq + 1);
      const v = argv[++i];
      if (v === undefined || v.startsWith('--')) throw new Error(`${a} needs a value`);
      return v;
    };
    const name = a.includes('=') ? a.slice(0, a.indexOf('=')) : a;
    if (name === '--target' || name === '-t') opts.targets.push(...value().split(',').filter(Boolean));
    else if (name === '--out' || name === '-o') opts.out = value();
    else if (a === '--all') opts.all = true;
    else if (a === '--no-build') opts.build = false;
    else if (a === '--allow-dev-build') Object.assign(opts, { allowDev: true, build: false });
    else if (a === '--help' || a === '-h') opts.help = true;
    else throw new Error(`unknown argument '${a}'`);
  }
  if (opts.all && opts.targets.length) throw new Error('--all and --target exclude each other');
  if (opts.all) opts.targets = Object.keys(TARGETS);
  if (!opts.targets.length) opts.targets = [host];
  opts.targets = [...new Set(opts.targets)];
  for (const t of opts.targets) {
    if (!TARGETS[t]) {
      throw new Error(`unknown target '${t}'${t === host ? ' (this machine)' : ''}: expected one of ${Object.keys(TARGETS).join(', ')}`);
    }
  }
  return opts;
}

/** The .vsix file name for a target (vsce's own default naming plus the target). */
export function vsixName(name, target, version) {
  return `${name}-${target}-${version}.vsix`;
}

/** The C library an ELF binary was linked against, from the version tags and loader names it contains. */
export function detectLibc(bytes) {
  if (!bytes || bytes.length < 4 || bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) return 'not-elf';
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  if (text.includes('ld-musl-') || text.includes('libc.musl-')) return 'musl';
  if (text.includes('GLIBC_')) return 'glibc';
  return 'unknown';
}

/**
 * The native runtime a target needs: the onnxruntime-node folder(s) holding its binary, from the list of
 * folders that exist (`bin/napi-v6/linux/x64`, …, relative to the package). `libcOf(dir)` says what the
 * folder's binding was linked against (Linux only). Returns the folders to keep or why the target is refused.
 * @returns {{ ok: true, dirs: string[] } | { ok: false, expected: string, reason: string }}
 */
export function nativeRuntimeFor(target, available, libcOf = () => undefined) {
  const t = TARGETS[target];
  if (!t) return { ok: false, expected: '', reason: `unknown target '${target}'` };
  const expected = `bin/napi-v*/${t.os}/${t.arch}/onnxruntime_binding.node`;
  const dirs = available.filter((d) => new RegExp(`^bin/napi-v\\d+/${t.os}/${t.arch}$`).test(d));
  if (!dirs.length) {
    const have = available.map((d) => d.replace(/^bin\/napi-v\d+\//, '')).join(', ') || 'none';
    return { ok: false, expected, reason: `no ${t.os}/${t.arch} binary (it has: ${have})` };
  }
  if (t.libc) {
    const wrong = dirs.filter((d) => {
      const libc = libcOf(d);
      return libc && libc !== 'unknown' && libc !== t.libc;
    });
    if (wrong.length) {
      return {
        ok: false,
        expected: `${expected} linked against ${t.libc}`,
        reason: `only a ${libcOf(wrong[0])} build of ${t.os}/${t.arch} (${wrong[0]}/onnxruntime_binding.node links ${libcOf(wrong[0])}), no ${t.libc} build`,
      };
    }
  }
  return { ok: true, dirs };
}

/** Files inside a target's native folder that are not shipped: provider libraries downloaded per machine. */
export const NATIVE_EXCLUDE = /(^|\/)libonnxruntime_providers_(cuda|tensorrt)[^/]*$/;

// --- scanning JavaScript for the modules it loads ------------------------------------------------------

const LITERAL = String.raw`(?:"([^"\\\n]*)"|'([^'\\\n]*)'|\x60([^\x60\\$\n]*)\x60)`;
const REQUIRE_RE = new RegExp(String.raw`(?:^|[^\w$.])(?:__)?require(?:\.resolve)?\s*\(\s*` + LITERAL + String.raw`\s*[,)]`, 'g');
const IMPORT_CALL_RE = new RegExp(String.raw`(?:^|[^\w$.])import\s*\(\s*` + LITERAL + String.raw`\s*[,)]`, 'g');
const IMPORT_FROM_RE = new RegExp(String.raw`(?:^|[\n;}])\s*(?:import|export)\b[^;'"\x60]*?\bfrom\s*` + LITERAL, 'g');
const BARE_IMPORT_RE = new RegExp(String.raw`(?:^|[\n;}])\s*import\s*` + LITERAL, 'g');
const ANY_REQUIRE_RE = /(?:^|[^\w$.])(?:__)?require(?:\.resolve)?\s*\(\s*([^\s)])/g;

/**
 * The module specifiers a JavaScript source loads with a string literal (`require('x')`, esbuild's
 * `__require("x")`, `require.resolve('x')`, `import('x')`, `import … from 'x'`), and how many `require(…)`
 * calls take a computed argument (those cannot be followed; their targets need an explicit rule).
 * @returns {{ specifiers: string[], dynamic: number }}
 */
export function scanSpecifiers(source) {
  const found = new Set();
  for (const re of [REQUIRE_RE, IMPORT_CALL_RE, IMPORT_FROM_RE, BARE_IMPORT_RE]) {
    re.lastIndex = 0;
    for (let m; (m = re.exec(source)); ) if (!inLineComment(source, m.index)) found.add(m[1] ?? m[2] ?? m[3]);
  }
  let dynamic = 0;
  ANY_REQUIRE_RE.lastIndex = 0;
  for (let m; (m = ANY_REQUIRE_RE.exec(source)); ) {
    if (inLineComment(source, m.index)) continue;
    const rest = source.slice(m.index + m[0].length - 1, m.index + m[0].length + 300);
    if (!new RegExp('^' + LITERAL + String.raw`\s*[,)]`).test(rest)) dynamic++;
  }
  return { specifiers: [...found].filter((s) => s.length > 0), dynamic };
}

/** Whether `index` lies on a line that starts a comment (`// var x = require('x')`, ` * require('y')`). */
function inLineComment(source, index) {
  const lineStart = source.lastIndexOf('\n', index) + 1;
  if (index - lineStart > 400) return false;
  return /^\s*(\/\/|\/\*|\*)/.test(source.slice(lineStart, index + 1));
}

/**
 * The package folder a repo-relative path lies in: `node_modules/protobufjs/node_modules/long/index.js` →
 * `node_modules/protobufjs/node_modules/long`; undefined outside node_modules.
 */
export function packageDirOf(rel) {
  const parts = rel.split('/');
  let end = -1;
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i] !== 'node_modules') continue;
    end = parts[i + 1]?.startsWith('@') ? i + 3 : i + 2;
    i = end - 1;
  }
  return end > 0 && end <= parts.length ? parts.slice(0, end).join('/') : undefined;
}

// --- the ignore file -----------------------------------------------------------------------------------

/**
 * An ignore file's rules as vsce reads them: comment and blank lines dropped, and every pattern without a
 * `*` in its last segment also applied to what lies under it (`src` → `src`, `src/**`).
 * @returns {{ ignore: string[], negate: string[] }} negate without the leading `!`
 */
export function parseIgnoreRules(text) {
  const lines = ruleLines(text);
  const all = [...lines, ...lines.flatMap((l) => expandRule(l).slice(1))];
  return {
    ignore: all.filter((i) => !i.startsWith('!')),
    negate: all.filter((i) => i.startsWith('!')).map((i) => i.slice(1)),
  };
}

/** An ignore file's pattern lines (comments and blank lines dropped, trimmed). */
function ruleLines(text) {
  return text
    .split(/[\n\r]/)
    .map((s) => s.trim())
    .filter((s) => s && !s.startsWith('#'));
}

/** A pattern as vsce applies it: itself, plus `pattern/**` when its last segment has no `*`. */
function expandRule(p) {
  return /(^|\/)[^/]*\*[^/]*$/.test(p) ? [p] : [p, p.endsWith('/') ? `${p}**` : `${p}/**`];
}

/** Whether vsce would leave `file` out under `rules`: matched by an ignore pattern and by no negation. */
export function isIgnored(rules, file, match) {
  return rules.ignore.some((p) => match(file, p)) && !rules.negate.some((p) => match(file, p));
}

/**
 * Ignore patterns that leave out every file of `candidates` (what vsce collects, repo-relative) except
 * `keep`, with no negation: a folder holding no kept file becomes one `folder/**`, files of one extension in
 * a folder that keeps none of that extension one `folder/*.ext`, the rest are listed one by one. Sorted by
 * how many candidates each covers, most first: vsce stops at the first ignore pattern a file matches but
 * tries every negation on every ignored file, so a long negation list (`**` then `!kept`) costs minutes.
 * @returns {{ pattern: string, covers: number }[]}
 */
export function denyPatterns(keep, candidates) {
  const kept = new Set(keep);
  const root = { dirs: new Map(), files: [], kept: 0, total: 0 };
  for (const f of new Set(candidates)) {
    const parts = f.split('/');
    let node = root;
    const isKept = kept.has(f);
    node.total++;
    if (isKept) node.kept++;
    for (const part of parts.slice(0, -1)) {
      if (!node.dirs.has(part)) node.dirs.set(part, { dirs: new Map(), files: [], kept: 0, total: 0 });
      node = node.dirs.get(part);
      node.total++;
      if (isKept) node.kept++;
    }
    node.files.push({ name: parts[parts.length - 1], kept: isKept });
  }
  const out = [];
  const visit = (node, prefix) => {
    for (const [name, child] of node.dirs) {
      const p = prefix + escapeGlob(name);
      if (child.kept === 0) out.push({ pattern: `${p}/**`, covers: child.total });
      else visit(child, `${p}/`);
    }
    const dropped = node.files.filter((f) => !f.kept);
    const byExt = new Map();
    for (const f of dropped) {
      const ext = extensionOf(f.name);
      if (ext) byExt.set(ext, [...(byExt.get(ext) ?? []), f.name]);
    }
    const covered = new Set();
    for (const [ext, names] of byExt) {
      if (names.length < 2 || node.files.some((f) => f.kept && f.name.endsWith(ext))) continue;
      out.push({ pattern: `${prefix}*${escapeGlob(ext)}`, covers: names.length });
      for (const n of names) covered.add(n);
    }
    for (const f of dropped) if (!covered.has(f.name)) out.push({ pattern: prefix + escapeGlob(f.name), covers: 1 });
  };
  visit(root, '');
  return out.sort((x, y) => y.covers - x.covers || (x.pattern < y.pattern ? -1 : 1));
}

/** The extension a `folder/*.ext` pattern would use: `.map`, `.d.ts`, `.js` (none for dotfiles and bare names). */
function extensionOf(name) {
  const m = /(\.d\.[cm]?ts|\.[^./]+)$/.exec(name);
  return m && m.index > 0 ? m[1] : undefined;
}

/** `p` as a glob that matches only itself (minimatch: a backslash takes the next character literally). */
export function escapeGlob(p) {
  return p.replace(/[*?[\]{}()\\]/g, (c) => `\\${c}`);
}

/**
 * The ignore file vsce packages one target with, leaving out every candidate but `keep` (see denyPatterns),
 * followed by the base rules' ignore patterns (scripts/e2e/vscodeignore) that match no kept file, which also
 * cover files that appear after the list was made. The base rules' negations are copied as comments only: in
 * vsce a negation wins over every ignore pattern, so `!node_modules/**\/LICENSE*.md` would pull in the
 * licences of packages that are not shipped.
 */
export function generateIgnoreFile({ target, baseText, keep, candidates, match, note = [] }) {
  const baseLines = ruleLines(baseText);
  const safe = baseLines.filter((l) => !l.startsWith('!') && !keep.some((f) => expandRule(l).some((p) => match(f, p))));
  const skipped = baseLines.filter((l) => !safe.includes(l));
  return [
    `# GENERATED by scripts/package-vsix.mjs for ${target}; do not edit (it is rewritten on every run).`,
    '# Every file vsce would collect is listed out but the ones the runtime needs; then the base rules',
    '# (scripts/e2e/vscodeignore) that match no kept file.',
    ...note.map((n) => `# ${n}`),
    ...denyPatterns(keep, candidates).map((p) => p.pattern),
    '# base rules',
    ...safe,
    ...skipped.map((l) => `# (base rule not copied: ${l.startsWith('!') ? 'a negation' : 'it matches a kept file'}) ${l}`),
    '',
  ].join('\n');
}

// --- checking a produced .vsix -------------------------------------------------------------------------

/** Entries every Circuitscope .vsix must hold (paths inside the zip). */
export const REQUIRED_ENTRIES = [
  'extension.vsixmanifest',
  'extension/package.json',
  'extension/readme.md',
  'extension/dist/extension.js',
  'extension/dist/worker.js',
  'extension/dist/webview.js',
  'extension/dist/results.js',
  'extension/dist/circuits.js',
  'extension/docs/screenshot-graph-dark.png',
  'extension/node_modules/onnxruntime-node/package.json',
  'extension/node_modules/onnxruntime-node/dist/index.js',
  'extension/node_modules/onnxruntime-common/package.json',
  'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
];

/** Entries no .vsix may hold: sources, tests, examples, tooling, maps, types, TypeScript. */
export const FORBIDDEN_ENTRIES = [
  [/^extension\/(src|test|examples|scripts|out|test-output|\.e2e|\.ci|\.vscode|bin)\//, 'sources, tests, examples or tooling'],
  [/^extension\/dist\/cli\.js$/, 'the CLI bundle (not used by the extension)'],
  [/^extension\/dist\/report\.js$/, 'the HTML report page (the CLI inlines it; not used by the extension)'],
  [/\.map$/, 'a source map in a production package'],
  [/\.(d\.[cm]?ts|[cm]?ts|tsx|tsbuildinfo)$/, 'TypeScript sources or declarations'],
  [/^extension\/node_modules\/.*\/(test|tests|__tests__|example|examples)\//, 'tests or examples of a dependency'],
  [/^extension\/node_modules\/.*\/(README|CHANGELOG|HISTORY)(\.[a-z]+)?$/i, 'a dependency README or changelog'],
  [/\.vsix$/, 'another .vsix'],
];

/**
 * Checks a .vsix's entry list for `target`: the required entries, the target's onnxruntime binding and no
 * other platform's native binaries, none of the forbidden entries, no package of `devDependencies`.
 * @returns {{ errors: string[], counts: { total: number, nodeModules: number, native: number, dist: number, packages: number } }}
 */
export function verifyEntries(entries, target, { devDependencies = [], manifest } = {}) {
  const t = TARGETS[target];
  const errors = [];
  const set = new Set(entries);
  for (const r of REQUIRED_ENTRIES) if (!set.has(r)) errors.push(`missing ${r}`);
  const bin = /^extension\/node_modules\/onnxruntime-node\/bin\/napi-v\d+\/([^/]+)\/([^/]+)\/(.+)$/;
  const native = entries.filter((e) => bin.test(e));
  const own = native.filter((e) => {
    const [, os, arch] = bin.exec(e);
    return os === t.os && arch === t.arch;
  });
  if (!own.some((e) => e.endsWith('/onnxruntime_binding.node'))) {
    errors.push(`missing extension/node_modules/onnxruntime-node/bin/napi-v*/${t.os}/${t.arch}/onnxruntime_binding.node`);
  }
  for (const e of native) if (!own.includes(e)) errors.push(`another platform's native binary: ${e}`);
  for (const e of entries) {
    if (!e.startsWith('extension/node_modules/onnxruntime-node/bin/') && /\.(node|so(\.\d+)*|dylib|dll)$/.test(e)) {
      errors.push(`a native binary outside onnxruntime-node's ${t.os}/${t.arch} folder: ${e}`);
    }
    const bad = FORBIDDEN_ENTRIES.find(([re]) => re.test(e));
    if (bad) errors.push(`${bad[1]}: ${e}`);
  }
  const packages = new Set(entries.map((e) => packageDirOf(e)).filter(Boolean));
  for (const dev of devDependencies) {
    if (packages.has(`extension/node_modules/${dev}`)) errors.push(`a devDependency is packaged: ${dev}`);
  }
  if (manifest !== undefined && !new RegExp(`TargetPlatform="${target}"`).test(manifest)) {
    errors.push(`extension.vsixmanifest does not declare TargetPlatform="${target}"`);
  }
  return {
    errors,
    counts: {
      total: entries.length,
      nodeModules: entries.filter((e) => e.startsWith('extension/node_modules/')).length,
      native: own.length,
      dist: entries.filter((e) => e.startsWith('extension/dist/')).length,
      packages: packages.size,
    },
  };
}

/** Whether a bundle is a development build: esbuild ends those with a source map link (esbuild.mjs: `sourcemap: !production`). */
export function isDevelopmentBundle(text) {
  return /\/\/# sourceMappingURL=\S+\s*$/.test(text.slice(-500));
}

export function formatBytes(n) {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(2)} MiB`;
}

/** The .vsix entry vsce writes a repo-relative file to (it renames the root README and CHANGELOG, and gives LICENSE a .txt). */
export function vsixEntryOf(file) {
  if (/^readme\.md$/i.test(file)) return 'extension/readme.md';
  if (/^changelog\.md$/i.test(file)) return 'extension/changelog.md';
  if (/^licen[cs]e$/i.test(file)) return `extension/${file}.txt`;
  return `extension/${file}`;
}

/**
 * A .vsix's entries against the files it was meant to hold: `missing` were kept but are not in it, `extra`
 * are in it but were not kept (vsce's own extension.vsixmanifest and [Content_Types].xml aside).
 */
export function compareWithKeep(entries, keep) {
  const expected = new Set(keep.map(vsixEntryOf));
  const have = new Set(entries);
  return {
    missing: [...expected].filter((e) => !have.has(e)).sort(),
    extra: entries.filter((e) => !expected.has(e) && e !== 'extension.vsixmanifest' && e !== '[Content_Types].xml').sort(),
  };
}

/** Relative files a README links or shows (`![alt](docs/x.png)`, `[text](media/y.svg)`), without anchors. */
export function readmeLocalLinks(markdown) {
  const out = new Set();
  for (const m of markdown.matchAll(/!?\[[^\]]*\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) {
    const target = m[1].split('#')[0];
    if (!target || /^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('/')) continue;
    out.add(target.replace(/^\.\//, ''));
  }
  return [...out];
}

/** Files the manifest names (`main`, `icon`, and every `icon`/`light`/`dark`/`path` under `contributes`). */
export function manifestFileRefs(pkg) {
  const out = new Set();
  const isFile = (v) => /^(\.\/)?[\w@.-]+(\/[\w@.-]+)*\.[a-z0-9]+$/i.test(v);
  const visit = (v, key) => {
    if (typeof v === 'string') {
      if (['main', 'icon', 'light', 'dark', 'path'].includes(key) && isFile(v)) out.add(v.replace(/^\.\//, ''));
    } else if (Array.isArray(v)) {
      for (const x of v) visit(x, key);
    } else if (v && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) visit(x, k);
    }
  };
  visit({ main: pkg.main, icon: pkg.icon, contributes: pkg.contributes });
  return [...out].sort();
}
