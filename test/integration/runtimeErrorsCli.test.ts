/**
 * A model that onnxruntime accepts but fails to run (x [batch, k] · W [5, 3] fed k = 4): the CLI reports one
 * typed line naming the model and the node, and `--json` carries the same without a stack.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import protobuf from 'protobufjs';
import { writeNpz } from '../../src/model/datasets';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';

const repo = path.join(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'circuitscope.js');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-rtcli-'));
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

function cli(...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: tmp, encoding: 'utf8', timeout: 120_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

describe('runtime errors through the CLI', () => {
  const model = path.join(tmp, 'late.onnx');
  const data = path.join(tmp, 'x.npz');
  before(async () => {
    if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repo });
    const M = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
    const vi = (name: string, dims: string[]): object => ({ name, type: { tensor_type: { elem_type: 1, shape: { dim: dims.map((d) => ({ dim_param: d })) } } } });
    fs.writeFileSync(
      model,
      M.encode(
        M.fromObject({
          ir_version: 8,
          opset_import: [{ domain: '', version: 13 }],
          graph: {
            name: 'g',
            node: [{ name: '/fc/MatMul', op_type: 'MatMul', input: ['x', 'W'], output: ['y'] }],
            initializer: [{ name: 'W', data_type: 1, dims: [5, 3], float_data: new Array(15).fill(0.5) }],
            input: [vi('x', ['batch', 'k'])],
            output: [vi('y', ['batch', 'n'])],
          },
        }),
      ).finish(),
    );
    await writeNpz(data, { x: { dtype: 'float32', shape: [3, 4], data: new Float32Array(12) } });
  });

  it('prints one line naming the model and the node', () => {
    const r = cli('run', 'capture', model, '--data', data, '--layers', 'y', '--out', path.join(tmp, 'a.npz'));
    assert.equal(r.status, 1, r.stderr);
    const line = r.stderr.trim().split('\n').filter((l) => l.startsWith('error'));
    assert.equal(line.length, 1, r.stderr);
    assert.match(line[0], new RegExp(`^error \\[run\\]: ${model.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}: onnxruntime failed running the model at node '/fc/MatMul': `));
    assert.ok(!r.stderr.includes('\u001b'), `ANSI codes on stderr: ${r.stderr}`);
    assert.doesNotMatch(r.stderr, /onnxruntime_src|\n\s+at |undefined|\[object Object\]/, r.stderr);
  });

  it('--json carries the typed error without a stack', () => {
    const r = cli('run', 'capture', model, '--data', data, '--layers', 'y', '--json');
    assert.equal(r.status, 1, r.stderr);
    const { error } = JSON.parse(r.stdout) as { error: { name: string; code: string; file: string; message: string; detail: string } };
    assert.equal(error.name, 'ModelRuntimeError');
    assert.equal(error.code, 'run');
    assert.equal(error.file, model);
    assert.match(error.detail, /^node '\/fc\/MatMul': /);
    assert.doesNotMatch(JSON.stringify(error), /\\n|\s+at .*:\d+:\d+|onnxruntime_src/);
  });
});
