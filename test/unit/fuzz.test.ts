/**
 * Seeded fuzzing of the loaders: mutated example checkpoints and TF.js manifests (bit flips, truncations,
 * corrupted length fields, shuffled / edited JSON, huge declared shapes). Each case must end in a valid IR
 * or a ModelLoadError within 2 s — never another exception, a hang, or unbounded memory (the cases run in a
 * worker with a heap limit; the parent terminates it when a case overruns).
 *
 * FUZZ_SEED and FUZZ_CASES override the seed (default: fixed) and the count (default 600).
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import { Worker } from 'node:worker_threads';
import type { FuzzCase, FuzzReport } from './fuzzWorker';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const CASES = Number(process.env.FUZZ_CASES ?? 600);
const CASE_TIMEOUT_MS = 2000;

const repo = path.join(__dirname, '..', '..');

/** mulberry32: small, seeded, good enough to pick mutations. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Seed {
  name: string;
  kind: 'onnx' | 'tfjs';
  /** For tfjs: the manifest text and its shard files. */
  files: Record<string, Uint8Array>;
  open: string;
}

function seeds(): Seed[] {
  const out: Seed[] = [];
  const onnxFiles = [
    'test/fixtures/corpus/onnx/valid-mlp.onnx',
    'test/fixtures/corpus/onnx/valid-constant.onnx',
    'test/fixtures/corpus/onnx/valid-if.onnx',
    'examples/mlp/mlp.onnx',
    'examples/cnn/cnn.onnx',
    'examples/transformer/transformer.onnx',
    'examples/widths/mlp_w010.onnx',
  ];
  for (const rel of onnxFiles) {
    const abs = path.join(repo, rel);
    if (fs.existsSync(abs)) out.push({ name: rel, kind: 'onnx', files: { 'model.onnx': fs.readFileSync(abs) }, open: 'model.onnx' });
  }
  for (const rel of ['test/fixtures/corpus/tfjs/valid', 'examples/mlp-tfjs', 'examples/mlp-tfjs-functional']) {
    const dir = path.join(repo, rel);
    if (!fs.existsSync(path.join(dir, 'model.json'))) continue;
    const files: Record<string, Uint8Array> = {};
    for (const f of fs.readdirSync(dir)) files[f] = fs.readFileSync(path.join(dir, f));
    out.push({ name: rel, kind: 'tfjs', files, open: 'model.json' });
  }
  return out;
}

// ---------------------------------------------------------------- binary mutations
type Rand = () => number;
const pick = <T>(r: Rand, xs: readonly T[]): T => xs[Math.floor(r() * xs.length)];
const int = (r: Rand, n: number): number => Math.floor(r() * n);

function mutateBytes(r: Rand, src: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = Uint8Array.from(src);
  switch (int(r, 6)) {
    case 0: {
      const k = 1 + int(r, 8);
      for (let i = 0; i < k; i++) b[int(r, b.length)] ^= 1 << int(r, 8);
      return { bytes: b, what: `${k} bit flips` };
    }
    case 1: {
      const at = int(r, b.length);
      return { bytes: b.subarray(0, at), what: `truncated at ${at}` };
    }
    case 2: {
      // Corrupt a length field: find a length-delimited tag and replace its varint by a large one.
      for (let tries = 0; tries < 64; tries++) {
        const p = int(r, b.length - 6);
        if ((b[p] & 7) === 2 && b[p] >> 3 >= 1 && b[p] >> 3 <= 16) {
          const big = pick(r, [[0xff, 0xff, 0xff, 0xff, 0x0f], [0x80, 0x80, 0x80, 0x80, 0x40], [0xfe, 0xff, 0x7f]]);
          b.set(big, p + 1);
          return { bytes: b, what: `length field at ${p} set to ${big.join(',')}` };
        }
      }
      b[int(r, b.length)] = 0xff;
      return { bytes: b, what: 'one byte set to 0xff' };
    }
    case 3: {
      const p = int(r, b.length);
      const n = 1 + int(r, 10);
      b.fill(0xff, p, Math.min(b.length, p + n));
      return { bytes: b, what: `${n} bytes of 0xff at ${p}` };
    }
    case 4: {
      const p = int(r, b.length);
      const n = 1 + int(r, 16);
      const out = new Uint8Array(b.length - Math.min(n, b.length - p));
      out.set(b.subarray(0, p));
      out.set(b.subarray(p + n), p);
      return { bytes: out, what: `${n} bytes deleted at ${p}` };
    }
    default: {
      const p = int(r, b.length);
      const n = 1 + int(r, 64);
      const chunk = b.subarray(p, Math.min(b.length, p + n));
      const out = new Uint8Array(b.length + chunk.length);
      out.set(b.subarray(0, p));
      out.set(chunk, p);
      out.set(b.subarray(p), p + chunk.length);
      return { bytes: out, what: `${chunk.length} bytes duplicated at ${p}` };
    }
  }
}

// ---------------------------------------------------------------- JSON mutations
type J = null | boolean | number | string | J[] | { [k: string]: J };

function paths(j: J, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (out.length > 5000) return out;
  if (Array.isArray(j)) j.forEach((v, i) => { out.push([...prefix, i]); paths(v, [...prefix, i], out); });
  else if (j && typeof j === 'object') for (const k of Object.keys(j)) { out.push([...prefix, k]); paths(j[k], [...prefix, k], out); }
  return out;
}

function parentOf(j: J, p: (string | number)[]): { parent: J[] | Record<string, J>; key: string | number } {
  let cur: J = j;
  for (const k of p.slice(0, -1)) cur = (cur as Record<string, J>)[k as string];
  return { parent: cur as Record<string, J>, key: p[p.length - 1] };
}

function shuffleKeys(r: Rand, j: J): J {
  if (Array.isArray(j)) return j.map((v) => shuffleKeys(r, v));
  if (j && typeof j === 'object') {
    const keys = Object.keys(j);
    for (let i = keys.length - 1; i > 0; i--) {
      const k = int(r, i + 1);
      [keys[i], keys[k]] = [keys[k], keys[i]];
    }
    return Object.fromEntries(keys.map((k) => [k, shuffleKeys(r, j[k])]));
  }
  return j;
}

const WEIRD: J[] = [null, 0, -1, 1e300, -1e15, 2 ** 53 + 2, 'x', '', [], {}, true, [1e15, 1e15], ['a'], [[[[]]]], '../../escape.bin', 'float128'];

function mutateJson(r: Rand, text: string): { bytes: Uint8Array; what: string } {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const j = JSON.parse(text) as J;
  const ps = paths(j);
  switch (int(r, 6)) {
    case 0:
      return { bytes: enc(JSON.stringify(shuffleKeys(r, j))), what: 'keys shuffled' };
    case 1: {
      const p = pick(r, ps);
      const { parent, key } = parentOf(j, p);
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete parent[key];
      return { bytes: enc(JSON.stringify(j)), what: `deleted ${p.join('.')}` };
    }
    case 2: {
      const p = pick(r, ps);
      const v = pick(r, WEIRD);
      const { parent, key } = parentOf(j, p);
      (parent as Record<string, J>)[key as string] = v;
      return { bytes: enc(JSON.stringify(j)), what: `${p.join('.')} = ${JSON.stringify(v)}` };
    }
    case 3: {
      // huge or negative declared shapes on weights
      const shapes = ps.filter((p) => p[p.length - 1] === 'shape' || p[p.length - 1] === 'batch_input_shape');
      const p = shapes.length ? pick(r, shapes) : pick(r, ps);
      const v = pick(r, [[1e13, 1e13], [-4, 3], [2 ** 60], [0.5, 2], [3e9, 3e9, 3e9], []] as J[]);
      const { parent, key } = parentOf(j, p);
      (parent as Record<string, J>)[key as string] = v;
      return { bytes: enc(JSON.stringify(j)), what: `${p.join('.')} = ${JSON.stringify(v)}` };
    }
    case 4: {
      const at = int(r, text.length);
      return { bytes: enc(text.slice(0, at)), what: `text truncated at ${at}` };
    }
    default: {
      const chars = [...text];
      const k = 1 + int(r, 6);
      for (let i = 0; i < k; i++) chars[int(r, chars.length)] = pick(r, ['"', '{', ']', ',', '9', '\u0000', 'e', '-']);
      return { bytes: enc(chars.join('')), what: `${k} characters replaced` };
    }
  }
}

function makeCases(): FuzzCase[] {
  const r = rng(SEED);
  const ss = seeds();
  assert.ok(ss.length > 0, 'no fuzz seeds found');
  const cases: FuzzCase[] = [];
  for (let id = 0; id < CASES; id++) {
    const s = ss[id % ss.length];
    const files = { ...s.files };
    let what: string;
    if (s.kind === 'onnx') {
      const m = mutateBytes(r, s.files[s.open]);
      files[s.open] = m.bytes;
      what = m.what;
    } else if (r() < 0.8) {
      const m = mutateJson(r, new TextDecoder().decode(s.files[s.open]));
      files[s.open] = m.bytes;
      what = m.what;
    } else {
      const shard = pick(r, Object.keys(files).filter((f) => f !== s.open));
      const m = mutateBytes(r, files[shard]);
      files[shard] = m.bytes;
      what = `shard ${shard}: ${m.what}`;
    }
    cases.push({ id, files, open: s.open, what: `${s.name}: ${what}` });
  }
  return cases;
}

it(`fuzz: ${CASES} mutated checkpoints end in a valid IR or a typed error within ${CASE_TIMEOUT_MS} ms (seed ${SEED})`, { timeout: 600_000 }, async () => {
  const cases = makeCases();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-fuzz-'));
  const failures: string[] = [];
  const outcomes = { ok: 0, typed: 0 } as Record<string, number>;
  const codes: Record<string, number> = {};
  let slowest = 0;
  try {
    let next = 0;
    while (next < cases.length) {
      // One worker runs cases until one fails hard (hang / crash / OOM); then a fresh worker continues.
      next = await new Promise<number>((resolve) => {
        // Workers do not inherit tsx's loader: register its require hook inside the worker first.
        const entry = path.join(__dirname, 'fuzzWorker.ts');
        const worker = new Worker(`require('tsx/cjs'); require(${JSON.stringify(entry)});`, {
          eval: true,
          workerData: { dir },
          resourceLimits: { maxOldGenerationSizeMb: 768 },
        });
        let current = next;
        let timer: NodeJS.Timeout | undefined;
        let done = false;
        const finish = (resumeAt: number): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          void worker.terminate().then(() => resolve(resumeAt));
        };
        const send = (): void => {
          if (current >= cases.length) return finish(current);
          worker.postMessage(cases[current]);
        };
        worker.on('message', (m: FuzzReport) => {
          if (m.kind === 'start') {
            timer = setTimeout(() => {
              failures.push(`case ${m.id} (${cases[m.id].what}) did not finish within ${CASE_TIMEOUT_MS} ms`);
              finish(m.id + 1);
            }, CASE_TIMEOUT_MS + 500);
            return;
          }
          clearTimeout(timer);
          slowest = Math.max(slowest, m.ms);
          if (m.ms > CASE_TIMEOUT_MS) failures.push(`case ${m.id} (${cases[m.id].what}) took ${m.ms.toFixed(0)} ms`);
          if (m.kind === 'bad') failures.push(`case ${m.id} (${cases[m.id].what}): ${m.error}`);
          else {
            outcomes[m.kind] = (outcomes[m.kind] ?? 0) + 1;
            if (m.kind === 'typed') codes[m.code] = (codes[m.code] ?? 0) + 1;
          }
          current = m.id + 1;
          send();
        });
        worker.on('error', (e) => {
          failures.push(`case ${current} (${cases[current]?.what}) crashed the worker: ${e.message}`);
          finish(current + 1);
        });
        worker.on('exit', () => finish(current + 1));
        send();
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  console.log(`fuzz: ${cases.length} cases, ${outcomes.ok ?? 0} loaded, ${outcomes.typed ?? 0} typed errors ${JSON.stringify(codes)}, slowest ${slowest.toFixed(0)} ms`);
  assert.deepEqual(failures.slice(0, 20), []);
});
