/**
 * What the CLI hands back arrives whole, and only what it should run runs:
 * - a multi-megabyte `--json` result piped (an OS pipe) into a JSON parser in another process arrives whole
 *   (it was cut at 64 KB when the CLI exited before stdout drained);
 * - `--out` files are written whole or not at all: a cancelled capture and a refused write leave no file and
 *   no temporary behind;
 * - the time budget: a job estimated above `--time-budget-min` is refused with the estimate and what to
 *   change, and runs with `--yes`;
 * - external data is read from the model's folder, not the working directory: run from another folder with a
 *   decoy `w.bin` (other weights) in the cwd, the numbers are the inline model's; a data file that is a
 *   symlink out of the model's folder is refused, for ONNX and TF.js.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as ort from 'onnxruntime-node';
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';
import { openNpz } from '../../src/model/datasets';

const repo = path.join(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'circuitscope.js');
const mlp = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
const cnn = path.join(repo, 'examples', 'cnn', 'cnn.onnx');
const fmnist = path.join(repo, 'examples', 'data', 'fmnist.npz');
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-cli-out-'));

function cli(args: string[], cwd = repo): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 300_000, maxBuffer: 64 * 2 ** 20 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

const sh = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/** mlp.onnx with every initializer moved to `w.bin` beside it (offsets in order), written into `dir`. */
function externalMlp(dir: string): string {
  const M = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
  const m = M.toObject(M.decode(fs.readFileSync(mlp)), { bytes: Array, longs: Number, defaults: false }) as {
    graph: { initializer: { raw_data?: number[]; data_location?: number; external_data?: { key: string; value: string }[] }[] };
  };
  const chunks: Buffer[] = [];
  let offset = 0;
  for (const t of m.graph.initializer) {
    assert.ok(t.raw_data?.length, 'the example stores its weights as raw_data');
    const bytes = Buffer.from(t.raw_data);
    t.data_location = 1;
    t.external_data = [
      { key: 'location', value: 'w.bin' },
      { key: 'offset', value: String(offset) },
      { key: 'length', value: String(bytes.length) },
    ];
    delete t.raw_data;
    chunks.push(bytes);
    offset += bytes.length;
  }
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat(chunks));
  const file = path.join(dir, 'mlp_ext.onnx');
  fs.writeFileSync(file, M.encode(M.fromObject(m)).finish());
  assert.ok(fs.statSync(file).size < 10_000, 'the weights are outside the .onnx');
  return file;
}

describe('CLI output and budgets', () => {
  before(() => {
    execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repo, stdio: 'ignore' });
  });
  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  it('a multi-megabyte --json result piped into another process arrives whole', () => {
    const out = path.join(tmp, 'lib.json');
    // An OS pipe between two processes, as `… --json | jq` makes: the reader parses what arrives.
    const reader = `let n=0,s='';process.stdin.setEncoding('utf8');process.stdin.on('data',(d)=>{s+=d;n+=Buffer.byteLength(d)});process.stdin.on('end',()=>{const j=JSON.parse(s);process.stdout.write(JSON.stringify({bytes:n,analysis:j.analysis,layers:j.result.layers.length}))})`;
    const cmd = `${sh(process.execPath)} ${sh(bin)} run lib ${sh(mlp)} --data ${sh(fmnist)} --json --out ${sh(out)} | ${sh(process.execPath)} -e ${sh(reader)}`;
    const r = spawnSync('bash', ['-o', 'pipefail', '-c', cmd], { cwd: repo, encoding: 'utf8', timeout: 300_000 });
    assert.equal(r.status, 0, r.stderr);
    const got = JSON.parse(r.stdout) as { bytes: number; analysis: string; layers: number };
    const whole = fs.statSync(out).size;
    assert.ok(whole > 2 ** 20, `the result is ${whole} bytes: more than 1 MB`);
    assert.equal(got.bytes, whole, 'the pipe carried every byte the --out file holds');
    assert.equal(got.analysis, 'lib');
    assert.ok(got.layers > 0);
    assert.deepEqual(fs.readdirSync(tmp), ['lib.json'], 'no temporary left beside the --out file');
  });

  it('a cancelled capture leaves no --out file and no temporary', async () => {
    const dir = path.join(tmp, 'cancelled');
    fs.mkdirSync(dir);
    const out = path.join(dir, 'acts.npz');
    const child = spawn(process.execPath, [bin, 'run', 'capture', cnn, '--data', fmnist, '--layers', '/conv1/Conv_output_0,/conv2/Conv_output_0,logits', '--batch-size', '16', '--out', out], {
      cwd: repo,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    const code = await new Promise<number | null>((resolve) => {
      child.stderr.setEncoding('utf8');
      child.stderr.on('data', (d: string) => {
        stderr += d;
        // The first progress line means batches are being written: cancel then, as Ctrl-C does.
        if (/capture: .*\d+\/\d+/.test(stderr) && !child.killed) child.kill('SIGINT');
      });
      child.on('exit', (c) => resolve(c));
    });
    assert.equal(code, 130, stderr);
    assert.match(stderr, /cancelling/);
    assert.deepEqual(fs.readdirSync(dir), [], 'nothing written where the capture would have gone');
  });

  it('a write that cannot happen is a typed error, before the job runs, with nothing left behind', () => {
    const blocked = path.join(tmp, 'blocked.json');
    fs.mkdirSync(blocked);
    fs.writeFileSync(path.join(blocked, 'keep'), 'x');
    const r = cli(['run', 'collapse', mlp, '--data', fmnist, '--limit', '200', '--out', blocked]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error \[io\]: could not write .*blocked\.json: a folder of that name is in the way \(nothing was written there\)$/m);
    assert.doesNotMatch(r.stderr, /estimate:/, 'refused before estimating or running');
    const report = cli(['report', mlp, '--data', fmnist, '--out', path.join(tmp, 'no-such-folder', 'r.html')]);
    assert.equal(report.status, 1, report.stderr);
    assert.match(report.stderr, /error \[io\]: could not write .*r\.html: the folder .*no-such-folder does not exist/);
    assert.deepEqual(fs.readdirSync(blocked), ['keep']);
  });

  it('refuses a job over the time budget with the estimate and what to change; --yes runs it', () => {
    const args = ['run', 'hash', mlp, '--data', fmnist, '--limit', '300', '--time-budget-min', '0.00001'];
    const r = cli(args);
    assert.equal(r.status, 1, r.stderr);
    assert.equal(r.stdout, '');
    assert.match(r.stderr, /^estimate: peak ≈ \d+ MB, ≈ \d+(\.\d)? (s|min|h), \d+ forward passes.*\(budgets 4096 MB, 0\.0 s\)/m);
    assert.match(
      r.stderr,
      /^error \[budget\]: the estimated time ≈ .* exceeds the time budget of 0\.0 s; run on fewer samples \(--limit N; the estimate covers 300\), try another --batch-size, or cheaper options \(fewer --probes, .*\); raise --time-budget-min, or pass --yes to run anyway$/m,
    );
    const json = cli([...args, '--json']);
    assert.equal(json.status, 1);
    assert.match((JSON.parse(json.stdout) as { error: { code: string; message: string } }).error.message, /^the estimated time ≈ .* exceeds the time budget/);
    const yes = cli([...args, '--yes', '--json']);
    assert.equal(yes.status, 0, yes.stderr);
    assert.equal((JSON.parse(yes.stdout) as { analysis: string }).analysis, 'hash');
    const report = cli(['report', mlp, '--data', fmnist, '--analyses', 'collapse', '--limit', '300', '--time-budget-min', '0.00001', '--out', path.join(tmp, 'r.html')]);
    assert.equal(report.status, 1, report.stderr);
    assert.match(report.stderr, /^estimate for collapse: /m);
    assert.match(report.stderr, /exceeds the time budget/);
    assert.equal(fs.existsSync(path.join(tmp, 'r.html')), false);
  });

  it('reads external data from the model folder, not from a decoy w.bin in the working directory', async () => {
    const modelDir = path.join(tmp, 'ext-model');
    const ext = externalMlp(modelDir);
    const cwd = path.join(tmp, 'elsewhere');
    fs.mkdirSync(cwd);
    // the decoy: same size, other weights (all 0.5)
    fs.writeFileSync(path.join(cwd, 'w.bin'), Buffer.from(new Float32Array(fs.statSync(path.join(modelDir, 'w.bin')).size / 4).fill(0.5).buffer));
    const out = path.join(tmp, 'ext-logits.npz');
    const r = cli(['run', 'capture', ext, '--data', fmnist, '--layers', 'logits', '--limit', '64', '--out', out], cwd);
    assert.equal(r.status, 0, r.stderr);
    const got = (await (await openNpz(out)).read('logits')).data as Float32Array;
    const x = (await (await openNpz(fmnist)).readRows('x', 0, 64)).data as Float32Array;
    const s = await ort.InferenceSession.create(mlp);
    const ref = (await s.run({ x: new ort.Tensor('float32', x, [64, 1, 28, 28]) })).logits.data as Float32Array;
    await s.release();
    assert.equal(got.length, ref.length);
    for (let i = 0; i < ref.length; i++) assert.ok(Math.abs(got[i] - ref[i]) <= 1e-5 * (1 + Math.abs(ref[i])), `logit ${i}: ${got[i]} vs ${ref[i]}`);
    // and without the decoy, from a folder holding no w.bin at all
    fs.rmSync(path.join(cwd, 'w.bin'));
    assert.equal(cli(['run', 'capture', ext, '--data', fmnist, '--layers', 'logits', '--limit', '8'], cwd).status, 0);
  });

  it('refuses ONNX external data and TF.js shards that are symlinks out of the model folder', () => {
    const outside = path.join(tmp, 'outside');
    fs.mkdirSync(outside);
    const onnxDir = path.join(tmp, 'onnx-link');
    const ext = externalMlp(onnxDir);
    fs.renameSync(path.join(onnxDir, 'w.bin'), path.join(outside, 'w.bin'));
    fs.symlinkSync(path.join(outside, 'w.bin'), path.join(onnxDir, 'w.bin'));
    const r = cli(['info', ext]);
    assert.equal(r.status, 1, r.stderr);
    assert.match(r.stderr, /^error \[path-escape\]: .*mlp_ext\.onnx: initializer '.*': the data path 'w\.bin' is a link to .*outside\/w\.bin, outside the model's folder .* \(refused\)$/m);
    // TF.js: the shard lies in a linked sub-folder ('shards/…' → outside)
    const tfjsDir = path.join(tmp, 'tfjs-link');
    fs.mkdirSync(tfjsDir);
    const json = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'mlp-tfjs', 'model.json'), 'utf8')) as { weightsManifest: { paths: string[] }[] };
    json.weightsManifest[0].paths = ['shards/group1-shard1of1.bin'];
    fs.writeFileSync(path.join(tfjsDir, 'model.json'), JSON.stringify(json));
    fs.copyFileSync(path.join(repo, 'examples', 'mlp-tfjs', 'group1-shard1of1.bin'), path.join(outside, 'group1-shard1of1.bin'));
    fs.symlinkSync(outside, path.join(tfjsDir, 'shards'));
    const t = cli(['info', path.join(tfjsDir, 'model.json')]);
    assert.equal(t.status, 1, t.stderr);
    assert.match(t.stderr, /^error \[path-escape\]: .*the shard 'shards\/group1-shard1of1\.bin' is a link to .*outside.*, outside the model's folder \(refused\)$/m);
    // the same files inside the folder load
    fs.rmSync(path.join(tfjsDir, 'shards'));
    fs.mkdirSync(path.join(tfjsDir, 'shards'));
    fs.copyFileSync(path.join(outside, 'group1-shard1of1.bin'), path.join(tfjsDir, 'shards', 'group1-shard1of1.bin'));
    assert.equal(cli(['info', path.join(tfjsDir, 'model.json')]).status, 0);
  });
});
