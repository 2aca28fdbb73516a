/**
 * Per-platform .vsix packaging (scripts/package-vsix.mjs, scripts/packaging/): target parsing, the native
 * runtime a target needs, scanning module ids out of JavaScript, the generated ignore file as vsce applies it,
 * the entry rules a .vsix is checked against — and one real run for this machine's target, whose .vsix is
 * unpacked and its onnxruntime-node loaded from the packaged node_modules.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import { unzipSync } from 'fflate';
import {
  NATIVE_EXCLUDE,
  TARGETS,
  compareWithKeep,
  denyPatterns,
  detectLibc,
  escapeGlob,
  generateIgnoreFile,
  hostTarget,
  isDevelopmentBundle,
  isIgnored,
  manifestFileRefs,
  nativeRuntimeFor,
  packageDirOf,
  parseArgs,
  parseIgnoreRules,
  readmeLocalLinks,
  scanSpecifiers,
  verifyEntries,
  vsixEntryOf,
  vsixName,
} from '../../scripts/packaging/lib.mjs';
import { libcOfNativeDir, listZip, loadVsce, ortNative, walkRuntime } from '../../scripts/packaging/runtime.mjs';

const repo = path.join(__dirname, '..', '..');
const vsce = loadVsce(repo);
/** vsce's own minimatch, or a stand-in that fails the test that needs it when vsce is not installed. */
const match = vsce?.match ?? ((): boolean => assert.fail('@vscode/vsce is not installed'));
const noVsce = vsce ? false : '@vscode/vsce is not installed (npm ci installs it)';
const baseText = fs.readFileSync(path.join(repo, 'scripts', 'e2e', 'vscodeignore'), 'utf8');

/** The native folders onnxruntime-node 1.30.0 ships in its npm tarball. */
const ORT_DIRS = ['bin/napi-v6/darwin/arm64', 'bin/napi-v6/linux/arm64', 'bin/napi-v6/linux/x64', 'bin/napi-v6/win32/arm64', 'bin/napi-v6/win32/x64'];

/** What vsce keeps of `candidates` under an ignore file (vsce 3.x collectFiles, with its package.json/README rule). */
function vsceKeeps(ignoreText: string, candidates: string[]): string[] {
  const rules = parseIgnoreRules(ignoreText);
  rules.negate.push('package.json', 'README.md');
  return candidates.filter((f) => !isIgnored(rules, f, match));
}

/** A well-formed entry list for `target` (os/arch folder of onnxruntime-node). */
function goodEntries(os: string, arch: string): string[] {
  return [
    'extension.vsixmanifest',
    '[Content_Types].xml',
    'extension/package.json',
    'extension/readme.md',
    'extension/dist/extension.js',
    'extension/dist/worker.js',
    'extension/dist/webview.js',
    'extension/dist/results.js',
    'extension/dist/circuits.js',
    'extension/media/webview.css',
    'extension/docs/screenshot-graph-dark.png',
    'extension/node_modules/onnxruntime-node/package.json',
    'extension/node_modules/onnxruntime-node/dist/index.js',
    `extension/node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/onnxruntime_binding.node`,
    `extension/node_modules/onnxruntime-node/bin/napi-v6/${os}/${arch}/libonnxruntime.so.1`,
    'extension/node_modules/onnxruntime-common/package.json',
    'extension/node_modules/onnxruntime-common/dist/cjs/package.json',
    'extension/node_modules/@tensorflow/tfjs-backend-wasm/package.json',
    'extension/node_modules/@tensorflow/tfjs-backend-wasm/dist/tfjs-backend-wasm.wasm',
  ];
}

describe('packaging: targets and arguments', () => {
  it('defaults to the host target, takes repeated and comma-separated targets, and --all', () => {
    assert.deepEqual(parseArgs([], 'linux-x64').targets, ['linux-x64']);
    const o = parseArgs(['--target', 'win32-x64,darwin-arm64', '-t', 'linux-arm64', '--target=win32-x64', '--out', 'x', '--no-build'], 'linux-x64');
    assert.deepEqual(o.targets, ['win32-x64', 'darwin-arm64', 'linux-arm64']);
    assert.equal(o.out, 'x');
    assert.equal(o.build, false);
    assert.deepEqual(parseArgs(['--all'], 'linux-x64').targets, Object.keys(TARGETS));
    assert.equal(parseArgs([], 'linux-x64').build, true);
    assert.equal(parseArgs([], 'linux-x64').out, 'out/vsix');
    const dev = parseArgs(['--allow-dev-build'], 'linux-x64');
    assert.equal(dev.allowDev, true);
    assert.equal(dev.build, false);
  });

  it('refuses unknown targets and arguments, a missing value, and --all with --target', () => {
    assert.throws(() => parseArgs(['--target', 'linux-ia32'], 'linux-x64'), /unknown target 'linux-ia32'.*expected one of linux-x64/);
    assert.throws(() => parseArgs([], 'sunos-x64'), /unknown target 'sunos-x64' \(this machine\)/);
    assert.throws(() => parseArgs(['--frobnicate'], 'linux-x64'), /unknown argument '--frobnicate'/);
    assert.throws(() => parseArgs(['--out'], 'linux-x64'), /--out needs a value/);
    assert.throws(() => parseArgs(['--target', '--all'], 'linux-x64'), /--target needs a value/);
    assert.throws(() => parseArgs(['--all', '--target', 'linux-x64'], 'linux-x64'), /exclude each other/);
  });

  it('names the host target as vsce does', () => {
    assert.equal(hostTarget('linux', 'x64'), 'linux-x64');
    assert.equal(hostTarget('linux', 'x64', true), 'alpine-x64');
    assert.equal(hostTarget('linux', 'arm'), 'linux-armhf');
    assert.equal(hostTarget('darwin', 'arm64'), 'darwin-arm64');
    assert.equal(hostTarget('win32', 'x64'), 'win32-x64');
    assert.equal(vsixName('circuitscope', 'linux-x64', '0.1.0'), 'circuitscope-linux-x64-0.1.0.vsix');
  });
});

describe('packaging: native runtime per target', () => {
  it('keeps only the target folder of onnxruntime-node', () => {
    assert.deepEqual(nativeRuntimeFor('linux-x64', ORT_DIRS), { ok: true, dirs: ['bin/napi-v6/linux/x64'] });
    assert.deepEqual(nativeRuntimeFor('win32-arm64', ORT_DIRS), { ok: true, dirs: ['bin/napi-v6/win32/arm64'] });
    assert.deepEqual(nativeRuntimeFor('darwin-arm64', ORT_DIRS), { ok: true, dirs: ['bin/napi-v6/darwin/arm64'] });
  });

  it('refuses a target whose binary is missing, saying what was expected and what is there', () => {
    const r = nativeRuntimeFor('darwin-x64', ORT_DIRS);
    assert.ok(!r.ok);
    assert.equal(r.expected, 'bin/napi-v*/darwin/x64/onnxruntime_binding.node');
    assert.match(r.reason, /no darwin\/x64 binary \(it has: darwin\/arm64, linux\/arm64, linux\/x64, win32\/arm64, win32\/x64\)/);
    assert.equal(nativeRuntimeFor('linux-armhf', ORT_DIRS).ok, false);
    assert.match((nativeRuntimeFor('linux-x64', []) as { reason: string }).reason, /it has: none/);
  });

  it('refuses Alpine when the only Linux binary links glibc, and takes a musl one', () => {
    const glibc = nativeRuntimeFor('alpine-x64', ORT_DIRS, () => 'glibc');
    assert.ok(!glibc.ok);
    assert.match(glibc.reason, /only a glibc build of linux\/x64 .* no musl build/);
    assert.match(glibc.expected, /linked against musl$/);
    assert.deepEqual(nativeRuntimeFor('alpine-x64', ORT_DIRS, () => 'musl'), { ok: true, dirs: ['bin/napi-v6/linux/x64'] });
    assert.equal(nativeRuntimeFor('linux-x64', ORT_DIRS, () => 'musl').ok, false);
    // Unknown linkage is not held against a target.
    assert.equal(nativeRuntimeFor('linux-x64', ORT_DIRS, () => 'unknown').ok, true);
  });

  it('leaves out the CUDA/TensorRT provider libraries onnxruntime-node downloads per machine', () => {
    assert.ok(NATIVE_EXCLUDE.test('bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so'));
    assert.ok(NATIVE_EXCLUDE.test('libonnxruntime_providers_tensorrt.so'));
    assert.ok(!NATIVE_EXCLUDE.test('bin/napi-v6/linux/x64/libonnxruntime.so.1'));
    assert.ok(!NATIVE_EXCLUDE.test('bin/napi-v6/linux/x64/onnxruntime_binding.node'));
  });

  it('tells glibc from musl ELF binaries', () => {
    const elf = (s: string): Buffer => Buffer.concat([Buffer.from([0x7f, 0x45, 0x4c, 0x46]), Buffer.from(s, 'latin1')]);
    assert.equal(detectLibc(elf('\0libc.so.6\0GLIBC_2.14\0')), 'glibc');
    assert.equal(detectLibc(elf('\0/lib/ld-musl-x86_64.so.1\0')), 'musl');
    assert.equal(detectLibc(elf('\0nothing\0')), 'unknown');
    assert.equal(detectLibc(Buffer.from('MZ\x90\0')), 'not-elf');
  });

  it('reads what this node_modules has (onnxruntime-node folders and their linkage)', () => {
    const ort = ortNative(repo);
    assert.ok(ort.version, 'onnxruntime-node is installed');
    assert.ok(ort.dirs.length > 0);
    for (const d of ort.dirs) assert.match(d, /^bin\/napi-v\d+\/(linux|darwin|win32)\/[a-z0-9]+$/);
    for (const d of ort.dirs.filter((x) => x.includes('/linux/'))) assert.equal(libcOfNativeDir(repo, d), 'glibc', d);
  });
});

describe('packaging: module ids in JavaScript', () => {
  it('finds literal require, __require, require.resolve, import() and import/export from', () => {
    const src = [
      'var a = require("onnxruntime-node"), b = __require(\'@tensorflow/tfjs-backend-wasm\');',
      "const p = require.resolve('onnxruntime-node/package.json');",
      'x = require(`./binding`);',
      "import y from './esm.js'; export { z } from \"./z.js\";",
      "import './side-effect.js';",
      'await import("./lazy.mjs");',
      'obj.require("not-a-module"); myrequire("nor-this");',
    ].join('\n');
    const { specifiers, dynamic } = scanSpecifiers(src);
    assert.deepEqual(
      [...specifiers].sort(),
      ['./binding', './esm.js', './lazy.mjs', './side-effect.js', './z.js', '@tensorflow/tfjs-backend-wasm', 'onnxruntime-node', 'onnxruntime-node/package.json'].sort(),
    );
    assert.equal(dynamic, 0);
  });

  it('counts computed requires and skips commented-out ones', () => {
    const src = [
      'exports.binding = require(`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`);',
      'const m = require(name);',
      '// var xor4096 = require(\'xor4096\');',
      " * require('in-a-doc-comment')",
      'var w = "require(\\"worker_threads\\")";',
    ].join('\n');
    const { specifiers, dynamic } = scanSpecifiers(src);
    assert.deepEqual(specifiers, []);
    assert.equal(dynamic, 3);
  });

  it('finds the package folder of a path, scoped and nested ones included', () => {
    assert.equal(packageDirOf('node_modules/onnxruntime-node/dist/index.js'), 'node_modules/onnxruntime-node');
    assert.equal(packageDirOf('node_modules/@tensorflow/tfjs-core/dist/tf-core.node.js'), 'node_modules/@tensorflow/tfjs-core');
    assert.equal(packageDirOf('node_modules/protobufjs/node_modules/long/index.js'), 'node_modules/protobufjs/node_modules/long');
    assert.equal(packageDirOf('extension/node_modules/@tensorflow/tfjs-backend-wasm/package.json'), 'extension/node_modules/@tensorflow/tfjs-backend-wasm');
    assert.equal(packageDirOf('dist/worker.js'), undefined);
  });

  it('finds the files the README shows and the manifest names', () => {
    assert.deepEqual(readmeLocalLinks('![shot](docs/a.png) [web](https://x.y/z.png) [here](#usage) [ex](./examples/README.md#top)'), ['docs/a.png', 'examples/README.md']);
    const pkg = {
      main: './dist/extension.js',
      contributes: { viewsContainers: { activitybar: [{ id: 'x', icon: 'media/x.svg' }] }, commands: [{ command: 'c', icon: '$(beaker)' }] },
    };
    assert.deepEqual(manifestFileRefs(pkg), ['dist/extension.js', 'media/x.svg']);
    const real = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { main: string };
    for (const f of manifestFileRefs(real)) assert.ok(f.startsWith('dist/') || fs.existsSync(path.join(repo, f)), `${f} exists`);
  });

  it('tells development bundles (source map link) from production ones', () => {
    assert.equal(isDevelopmentBundle('"use strict";var a=1;\n//# sourceMappingURL=worker.js.map\n'), true);
    assert.equal(isDevelopmentBundle('"use strict";var a=1;\n'), false);
  });
});

describe('packaging: what the bundles load at run time', () => {
  it('follows literal ids file by file, with package.json files, licences, per-target assets, and no optional runtime', () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-walk-'));
    const write = (rel: string, text: string): void => {
      fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
      fs.writeFileSync(path.join(root, rel), text);
    };
    try {
      write('dist/worker.js', 'require("node:fs");require("vscode");const o=require("onnxruntime-node");try{require("@tensorflow/tfjs-node")}catch{}try{require("not-installed")}catch{}');
      write('node_modules/onnxruntime-node/package.json', '{"name":"onnxruntime-node","version":"1.0.0","main":"dist/index.js"}');
      write('node_modules/onnxruntime-node/README.md', '');
      write('node_modules/onnxruntime-node/LICENSE', '');
      write('node_modules/onnxruntime-node/dist/index.js', 'module.exports=require("./binding");require("common")');
      write('node_modules/onnxruntime-node/dist/binding.js', 'module.exports=require(`../bin/napi-v6/${process.platform}/${process.arch}/onnxruntime_binding.node`)');
      write('node_modules/onnxruntime-node/dist/unused.js', '');
      write('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node', '');
      write('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1', '');
      write('node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so', '');
      write('node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime_binding.node', '');
      write('node_modules/common/package.json', '{"name":"common","version":"1.0.0","type":"module","exports":{"require":"./dist/cjs/index.js"}}');
      write('node_modules/common/dist/cjs/package.json', '{"type":"commonjs"}');
      write('node_modules/common/dist/cjs/index.js', 'exports.a=1');
      write('node_modules/common/dist/esm/index.js', 'export const a=1');
      write('node_modules/@tensorflow/tfjs-node/package.json', '{"name":"@tensorflow/tfjs-node","version":"4.22.0"}');
      write('node_modules/@tensorflow/tfjs-node/index.js', '');
      const rt = walkRuntime(root, ['dist/worker.js'], ['bin/napi-v6/linux/x64']);
      assert.deepEqual(rt.files, [
        'dist/worker.js',
        'node_modules/common/dist/cjs/index.js',
        'node_modules/common/dist/cjs/package.json',
        'node_modules/common/package.json',
        'node_modules/onnxruntime-node/LICENSE',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
        'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
        'node_modules/onnxruntime-node/dist/binding.js',
        'node_modules/onnxruntime-node/dist/index.js',
        'node_modules/onnxruntime-node/package.json',
      ]);
      assert.deepEqual([...rt.packages.keys()].sort(), ['node_modules/common', 'node_modules/onnxruntime-node']);
      assert.equal(rt.packages.get('node_modules/common')?.requiredBy, 'node_modules/onnxruntime-node/dist/index.js');
      assert.deepEqual(rt.unresolved, [{ spec: 'not-installed', from: 'dist/worker.js' }]);
      assert.deepEqual(rt.optionalPresent, ['@tensorflow/tfjs-node']);
      assert.deepEqual(rt.dynamic, [{ file: 'node_modules/onnxruntime-node/dist/binding.js', count: 1 }]);
      assert.deepEqual(rt.nativeLeftOut, ['bin/napi-v6/linux/x64/libonnxruntime_providers_cuda.so']);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

describe('packaging: the generated ignore file, as vsce applies it', { skip: noVsce }, () => {
  it('the base rules keep the README screenshot and drop sources, maps, the CLI bundle and dependency docs', () => {
    const rules = parseIgnoreRules(baseText);
    const out = (f: string): boolean => isIgnored(rules, f, match);
    assert.equal(out('docs/screenshot-graph-dark.png'), false);
    assert.equal(out('docs/ops.md'), true);
    assert.equal(out('dist/worker.js'), false);
    assert.equal(out('dist/cli.js'), true);
    assert.equal(out('dist/worker.js.map'), true);
    assert.equal(out('src/extension/extension.ts'), true);
    assert.equal(out('examples/mlp/mlp.onnx'), true);
    assert.equal(out('node_modules/onnxruntime-node/README.md'), true);
    assert.equal(out('node_modules/onnxruntime-node/dist/index.d.ts'), true);
    assert.equal(out('node_modules/node-fetch/LICENSE.md'), false);
    // No platform rule is left in the base: the script picks the binaries.
    assert.equal(out('node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/onnxruntime_binding.node'), false);
  });

  it('expands patterns without a * in the last segment as vsce does', () => {
    const r = parseIgnoreRules('# c\nsrc\nout/\n**/*.map\n!keep\n');
    assert.deepEqual(r.ignore, ['src', 'out/', '**/*.map', 'src/**', 'out/**']);
    assert.deepEqual(r.negate, ['keep', 'keep/**']);
  });

  it('leaves out everything but the kept files, with folder and extension patterns and no negation', () => {
    const candidates = [
      'package.json',
      'README.md',
      'esbuild.mjs',
      '.gitignore',
      'src/a.ts',
      'src/deep/b.ts',
      'dist/extension.js',
      'dist/extension.js.map',
      'dist/worker.js',
      'dist/worker.js.map',
      'dist/cli.js',
      'docs/screenshot-graph-dark.png',
      'docs/ops.md',
      'media/webview.css',
      'node_modules/onnxruntime-node/package.json',
      'node_modules/onnxruntime-node/README.md',
      'node_modules/onnxruntime-node/dist/index.js',
      'node_modules/onnxruntime-node/dist/index.d.ts',
      'node_modules/onnxruntime-node/dist/backend.d.ts',
      'node_modules/onnxruntime-node/dist/index.js.map',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/arm64/onnxruntime_binding.node',
      'node_modules/onnxruntime-node/bin/napi-v6/win32/x64/onnxruntime.dll',
      'node_modules/@tensorflow/tfjs-layers/dist/tf-layers.node.js',
      'node_modules/weird[1]/odd{x}.js',
    ];
    const keep = [
      'package.json',
      'README.md',
      'dist/extension.js',
      'dist/worker.js',
      'docs/screenshot-graph-dark.png',
      'media/webview.css',
      'node_modules/onnxruntime-node/package.json',
      'node_modules/onnxruntime-node/dist/index.js',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node',
      'node_modules/onnxruntime-node/bin/napi-v6/linux/x64/libonnxruntime.so.1',
    ];
    const patterns = denyPatterns(keep, candidates).map((p) => p.pattern);
    assert.ok(patterns.includes('src/**'));
    assert.ok(patterns.includes('node_modules/onnxruntime-node/bin/napi-v6/win32/**'));
    assert.ok(patterns.includes('node_modules/onnxruntime-node/dist/*.d.ts'));
    assert.ok(patterns.includes('dist/*.map'));
    assert.ok(patterns.includes('dist/cli.js'));
    assert.ok(patterns.includes('node_modules/weird\\[1\\]/**'));
    assert.ok(!patterns.some((p) => p.startsWith('!')));
    const covers = denyPatterns(keep, candidates).map((p) => p.covers);
    assert.deepEqual(covers, [...covers].sort((a, b) => b - a), 'the widest patterns first (vsce stops at the first match)');
    const text = generateIgnoreFile({ target: 'linux-x64', baseText, keep, candidates, match });
    assert.deepEqual(vsceKeeps(text, candidates).sort(), [...keep].sort());
    // Files that appear later are still covered by the copied base rules where they apply.
    assert.deepEqual(vsceKeeps(text, ['dist/results.js.map', 'src/new.ts', 'examples/x.onnx']), []);
  });

  it('copies no base negation and no base rule that matches a kept file', () => {
    const keep = ['docs/screenshot-graph-dark.png', 'dist/worker.js', 'package.json', 'README.md'];
    const text = generateIgnoreFile({ target: 'linux-x64', baseText, keep, candidates: keep, match });
    const active = text.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.ok(!active.some((l) => l.startsWith('!')), 'no negation');
    assert.ok(!active.includes('docs/**'), 'docs/** would drop the screenshot');
    assert.ok(active.includes('src/**') && active.includes('**/*.map') && active.includes('dist/cli.js'));
    assert.match(text, /# \(base rule not copied: a negation\) !docs\/screenshot-graph-dark\.png/);
    assert.match(text, /# \(base rule not copied: it matches a kept file\) docs\/\*\*/);
    assert.deepEqual(vsceKeeps(text, keep).sort(), [...keep].sort());
  });

  it('escapes glob characters in paths', () => {
    assert.equal(escapeGlob('a/b[1]/c{2}/*?.js'), 'a/b\\[1\\]/c\\{2\\}/\\*\\?.js');
    assert.equal(match('a/b[1]/x.js', `${escapeGlob('a/b[1]')}/**`), true);
    assert.equal(match('a/b1/x.js', `${escapeGlob('a/b[1]')}/**`), false);
  });
});

describe('packaging: the entries of a .vsix', () => {
  it('accepts a well-formed package for its target', () => {
    const v = verifyEntries(goodEntries('linux', 'x64'), 'linux-x64', { manifest: '<Identity TargetPlatform="linux-x64" />' });
    assert.deepEqual(v.errors, []);
    assert.equal(v.counts.native, 2);
    assert.equal(v.counts.dist, 5);
    assert.equal(v.counts.packages, 3);
  });

  it("rejects another platform's binaries and a missing binding", () => {
    const other = [...goodEntries('linux', 'x64'), 'extension/node_modules/onnxruntime-node/bin/napi-v6/darwin/arm64/libonnxruntime.1.dylib'];
    assert.match(verifyEntries(other, 'linux-x64').errors.join('\n'), /another platform's native binary: .*darwin\/arm64/);
    const wrongArch = verifyEntries(goodEntries('linux', 'arm64'), 'linux-x64').errors.join('\n');
    assert.match(wrongArch, /missing extension\/node_modules\/onnxruntime-node\/bin\/napi-v\*\/linux\/x64\/onnxruntime_binding\.node/);
    assert.match(wrongArch, /another platform's native binary: .*linux\/arm64/);
    const stray = [...goodEntries('win32', 'x64'), 'extension/node_modules/@tensorflow/tfjs-node/lib/napi-v8/tfjs_binding.node'];
    assert.match(verifyEntries(stray, 'win32-x64').errors.join('\n'), /a native binary outside onnxruntime-node's win32\/x64 folder: .*tfjs_binding\.node/);
  });

  it('rejects sources, tests, examples, maps, types, the CLI bundle, dev dependencies and missing runtime files', () => {
    const bad = [
      ...goodEntries('linux', 'x64').filter((e) => !e.endsWith('dist/webview.js') && !e.endsWith('screenshot-graph-dark.png')),
      'extension/src/extension/extension.ts',
      'extension/test/unit/x.test.ts',
      'extension/examples/mlp/mlp.onnx',
      'extension/dist/worker.js.map',
      'extension/dist/cli.js',
      'extension/dist/report.js',
      'extension/node_modules/onnxruntime-node/dist/index.d.ts',
      'extension/node_modules/onnxruntime-node/README.md',
      'extension/node_modules/esbuild/package.json',
      'extension/node_modules/pngjs/test/x.js',
    ];
    const errors = verifyEntries(bad, 'linux-x64', { devDependencies: ['esbuild', 'typescript'], manifest: '<Identity TargetPlatform="win32-x64" />' }).errors.join('\n');
    for (const re of [
      /missing extension\/dist\/webview\.js/,
      /missing extension\/docs\/screenshot-graph-dark\.png/,
      /sources, tests, examples or tooling: extension\/src\//,
      /sources, tests, examples or tooling: extension\/test\//,
      /sources, tests, examples or tooling: extension\/examples\//,
      /source map .*worker\.js\.map/,
      /the CLI bundle/,
      /the HTML report page/,
      /TypeScript sources or declarations: .*index\.d\.ts/,
      /README or changelog: .*onnxruntime-node\/README\.md/,
      /a devDependency is packaged: esbuild/,
      /tests or examples of a dependency: .*pngjs\/test/,
      /does not declare TargetPlatform="linux-x64"/,
    ]) {
      assert.match(errors, re);
    }
  });

  it('compares a package with the files it was meant to hold (vsce renames the README)', () => {
    assert.equal(vsixEntryOf('README.md'), 'extension/readme.md');
    assert.equal(vsixEntryOf('LICENSE'), 'extension/LICENSE.txt');
    assert.equal(vsixEntryOf('dist/worker.js'), 'extension/dist/worker.js');
    const d = compareWithKeep(['extension.vsixmanifest', '[Content_Types].xml', 'extension/readme.md', 'extension/dist/x.js', 'extension/media/new.css'], ['README.md', 'dist/x.js', 'dist/y.js']);
    assert.deepEqual(d, { missing: ['extension/dist/y.js'], extra: ['extension/media/new.css'] });
  });
});

const isMusl = process.platform === 'linux' && !(process.report?.getReport() as { header?: { glibcVersionRuntime?: string } }).header?.glibcVersionRuntime;
const host = hostTarget(process.platform, process.arch, isMusl);

/** Why the real run cannot happen here, or false. */
function realRunSkip(): string | false {
  if (!vsce) return '@vscode/vsce is not installed (npm ci installs it)';
  if (!TARGETS[host]) return `this machine (${host}) is not a vsce target`;
  const ort = ortNative(repo);
  const r = nativeRuntimeFor(host, ort.dirs, (d) => libcOfNativeDir(repo, d));
  return r.ok ? false : `onnxruntime-node has no binary for this machine (${host}): ${r.reason}`;
}

describe('packaging: a real run for this machine', () => {
  const skip = realRunSkip();
  it('packages this target with only its native runtime, and the packaged onnxruntime-node loads', { skip, timeout: 600_000 }, async () => {
    if (!fs.existsSync(path.join(repo, 'dist', 'worker.js')) || !fs.existsSync(path.join(repo, 'dist', 'webview.js'))) {
      execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repo });
    }
    const out = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-vsix-'));
    try {
      // --allow-dev-build: the suite builds dist/ in development mode; the entries are what is checked here.
      const r = spawnSync(process.execPath, ['scripts/package-vsix.mjs', '--allow-dev-build', '--out', out], { cwd: repo, encoding: 'utf8', timeout: 540_000 });
      assert.equal(r.status, 0, `${r.stdout}\n${r.stderr}`);
      const pkg = JSON.parse(fs.readFileSync(path.join(repo, 'package.json'), 'utf8')) as { name: string; version: string; devDependencies: Record<string, string> };
      const file = path.join(out, vsixName(pkg.name, host, pkg.version));
      assert.ok(fs.existsSync(file), `${file} was written`);
      assert.ok(fs.existsSync(path.join(out, `${pkg.name}-${host}.vscodeignore`)), 'the generated ignore file is kept beside it');
      assert.match(r.stdout, new RegExp(`${host}\\s+\\d`), 'the summary lists the target');

      const { entries, texts } = listZip(file, (n) => n === 'extension.vsixmanifest');
      const names = entries.map((e) => e.name);
      const v = verifyEntries(names, host, { devDependencies: Object.keys(pkg.devDependencies), manifest: texts['extension.vsixmanifest'] });
      assert.deepEqual(v.errors, []);
      const packages = new Set(names.map((e) => packageDirOf(e)).filter((d): d is string => !!d));
      for (const p of ['onnxruntime-node', 'onnxruntime-common', '@tensorflow/tfjs-backend-wasm']) assert.ok(packages.has(`extension/node_modules/${p}`), p);
      // Install-time dependencies of onnxruntime-node, and the libraries the bundles already contain, stay out.
      for (const p of ['adm-zip', 'global-agent', 'protobufjs', 'fflate', '@tensorflow/tfjs-layers', '@tensorflow/tfjs-converter']) {
        assert.ok(!packages.has(`extension/node_modules/${p}`), p);
      }
      assert.ok(names.length < 200, `${names.length} entries`);

      // Unpack it and load onnxruntime-node from the packaged node_modules only.
      const dir = path.join(out, 'unpacked');
      for (const [name, data] of Object.entries(unzipSync(fs.readFileSync(file)))) {
        if (name.endsWith('/')) continue;
        fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
        fs.writeFileSync(path.join(dir, name), data);
      }
      const ext = path.join(dir, 'extension');
      const probe = [
        `const ort = require(${JSON.stringify(path.join(ext, 'node_modules', 'onnxruntime-node'))});`,
        `ort.InferenceSession.create(${JSON.stringify(path.join(repo, 'examples', 'mlp', 'mlp.onnx'))})`,
        '  .then((s) => console.log(JSON.stringify({ inputs: s.inputNames, outputs: s.outputNames })))',
        '  .catch((e) => { console.error(e); process.exit(1); });',
      ].join('\n');
      const p = spawnSync(process.execPath, ['-e', probe], { cwd: dir, encoding: 'utf8', timeout: 60_000 });
      assert.equal(p.status, 0, p.stderr);
      assert.deepEqual(JSON.parse(p.stdout), { inputs: ['x'], outputs: ['logits'] });
      const resolved = spawnSync(process.execPath, ['-p', `require.resolve('onnxruntime-node')`], { cwd: path.join(ext, 'dist'), encoding: 'utf8' });
      assert.equal(resolved.stdout.trim(), path.join(ext, 'node_modules', 'onnxruntime-node', 'dist', 'index.js'), 'the packaged copy is the one found');
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});
