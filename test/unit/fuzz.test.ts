/**
 * Seeded fuzzing of every input kind a user brings: ONNX, TF.js layers and graph models, npy, npz, csv, jsonl,
 * image folders, dataset specs, token and prompt-pair data (seeds in fuzzSeeds.ts). Mutations: bit flips,
 * truncations, corrupted length fields, deleted / duplicated bytes, edited and shuffled JSON (hostile values,
 * deep nesting), edited CSV/JSONL lines, PNG headers declaring other sizes (CRC fixed, so the header check and
 * not the CRC check is exercised), .npy headers with other shapes and dtypes.
 *
 * Each case runs in a child process (fuzzWorker.ts) and must end, within CASE_TIMEOUT_MS, in a loaded input
 * that satisfies the loader's invariants or a typed error with a clean one-line message — never an untyped
 * error (a crash), a hang, or a peak RSS above 2 GB (the parent polls the child's RSS and kills it past the
 * limit; the child also reports its peak after each case). The unmutated seeds must all load.
 *
 * FUZZ_SEED and FUZZ_CASES override the seed (default: fixed, printed) and the number of mutated cases
 * (default 2400); FUZZ_KIND=npz (etc.) keeps one kind.
 */
import { crc32 } from 'node:zlib';
import assert from 'node:assert/strict';
import { fork, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { it } from 'node:test';
import protobuf from 'protobufjs';
import { ONNX_SCHEMA } from '../../src/model/formats/onnxSchema';
import { mulberry32 } from '../helpers/random';
import { fuzzSeeds, type Mutation, type Seed } from './fuzzSeeds';
import type { FuzzCase, FuzzReport } from './fuzzWorker';

const SEED = Number(process.env.FUZZ_SEED ?? 20261124);
const CASES = Number(process.env.FUZZ_CASES ?? 2400);
const KIND = process.env.FUZZ_KIND;
// Generous against a loaded 2-core CI machine (the slowest case takes ≈ 0.1–0.6 s); a hang never ends.
const CASE_TIMEOUT_MS = 5000;
const RSS_LIMIT_KB = 2 * 1024 * 1024;

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

const deep = (n: number): J => {
  let v: J = [];
  for (let i = 0; i < n; i++) v = [v];
  return v;
};
const WEIRD: J[] = [null, 0, -1, 1e300, 1e308, -1e15, 2 ** 53 + 2, 1e9, 0.5, 'x', '', [], {}, true, [1e15, 1e15], ['a'], [[[[]]]], deep(300), '../../escape.bin', '/etc/passwd', 'float128', { class_name: 'Zeros', config: 1e308 }];

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

// ---------------------------------------------------------------- text (CSV / JSONL) mutations
const LINES = ['', ' ', '1,2', 'nan,inf,-inf', '1e400,2,3', '-5,-6,-7', '"a,b",c,"', '[-1, 2, 3]', '[1.5, 2, 3]', '[1e300]', '[]', '{}', '{"tokens": "abc"}',
  '{"tokens": [1, 2], "label": 1e12}', `${'['.repeat(5000)}${']'.repeat(5000)}`, '\u0000\u0000', '\ufeffa,b,c', '[9007199254740993, 2, 3]', 'x'.repeat(5000), '1,,3', ';;;', '\t\t'];

function mutateText(r: Rand, text: string): { bytes: Uint8Array; what: string } {
  const enc = (s: string): Uint8Array => new TextEncoder().encode(s);
  const lines = text.split('\n');
  switch (int(r, 5)) {
    case 0: {
      const at = int(r, lines.length);
      const l = pick(r, LINES);
      lines[at] = l;
      return { bytes: enc(lines.join('\n')), what: `line ${at + 1} = ${JSON.stringify(l.slice(0, 20))}` };
    }
    case 1: {
      const at = int(r, lines.length + 1);
      const l = pick(r, LINES);
      lines.splice(at, 0, l);
      return { bytes: enc(lines.join('\n')), what: `inserted ${JSON.stringify(l.slice(0, 20))} at line ${at + 1}` };
    }
    case 2: {
      const at = int(r, lines.length);
      lines.splice(at, 1);
      return { bytes: enc(lines.join(pick(r, ['\n', '\r\n']))), what: `deleted line ${at + 1}` };
    }
    case 3: {
      const at = int(r, text.length);
      return { bytes: enc(text.slice(0, at)), what: `text truncated at ${at}` };
    }
    default: {
      const chars = [...text];
      const k = 1 + int(r, 6);
      for (let i = 0; i < k; i++) chars[int(r, chars.length)] = pick(r, ['"', ',', '\t', '[', ']', '{', '-', 'e', '9', '.', '\n', '\u0000']);
      return { bytes: enc(chars.join('')), what: `${k} characters replaced` };
    }
  }
}

// ---------------------------------------------------------------- PNG header and .npy header mutations
function mutatePng(r: Rand, src: Uint8Array): { bytes: Uint8Array; what: string } {
  const b = Uint8Array.from(src);
  const dv = new DataView(b.buffer);
  const sizes = [0, 1, 3, 65_535, 20_000, 100_000, 2 ** 31 - 1, 2 ** 32 - 1];
  const field = pick(r, ['width', 'height', 'both', 'depth', 'colour'] as const);
  let what: string;
  if (field === 'depth' || field === 'colour') {
    const v = pick(r, [0, 1, 2, 3, 4, 6, 7, 8, 16, 255]);
    b[field === 'depth' ? 24 : 25] = v;
    what = `IHDR bit ${field} = ${v}`;
  } else {
    const w = field === 'height' ? dv.getUint32(16) : pick(r, sizes);
    const h = field === 'width' ? dv.getUint32(20) : pick(r, sizes);
    dv.setUint32(16, w);
    dv.setUint32(20, h);
    what = `IHDR declares ${w}×${h}`;
  }
  dv.setUint32(29, crc32(b.subarray(12, 29)));
  return { bytes: b, what: `${what} (CRC fixed)` };
}

function mutateNpy(r: Rand, src: Uint8Array): { bytes: Uint8Array; what: string } {
  const hlen = src[8] | (src[9] << 8);
  const header = new TextDecoder('latin1').decode(src.subarray(10, 10 + hlen));
  const body = src.subarray(10 + hlen);
  const edits: [RegExp, string][] = [
    [/'shape': \([^)]*\)/, pick(r, ["'shape': (1000000000000,)", "'shape': (-1, 3)", "'shape': ()", "'shape': (0, 5)", "'shape': (128000, 1000000)", "'shape': (2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12)", "'shape': (1.5,)", "'shape': (99999999999999999999,)", "'shape': (3, None)"])],
    [/'descr': '[^']*'/, pick(r, ["'descr': '<f2'", "'descr': '|O'", "'descr': '<U8'", "'descr': '>f8'", "'descr': '<c8'", "'descr': 'garbage'", "'descr': '<i8'", "'descr': '|b1'"])],
    [/'fortran_order': \w+/, pick(r, ["'fortran_order': True", "'fortran_order': 1", "'fortran_order': None"])],
  ];
  const [re, v] = pick(r, edits);
  let h = header.replace(re, v).replace(/\s*\n$/, '');
  h = h.padEnd(Math.ceil((10 + h.length + 1) / 64) * 64 - 11, ' ') + '\n';
  const out = new Uint8Array(10 + h.length + body.length);
  out.set(src.subarray(0, 8));
  out[8] = h.length & 0xff;
  out[9] = h.length >> 8;
  out.set(new TextEncoder().encode(h), 10);
  out.set(body, 10 + h.length);
  return { bytes: out, what: `header ${v}` };
}

// ---------------------------------------------------------------- ONNX semantic mutations
const ModelProto = protobuf.Root.fromJSON(ONNX_SCHEMA).lookupType('onnx.ModelProto');
interface PNode { name?: string; input: string[]; output: string[]; op_type?: string }
interface PTensor { name?: string; dims: unknown[]; data_type?: number; data_location?: number; external_data: { key: string; value: string }[] }
interface PGraph { node: PNode[]; initializer: PTensor[]; input: { name?: string; type?: { tensor_type?: { elem_type?: number; shape?: { dim: { dim_value?: unknown }[] } } } }[]; output: { name?: string }[] }

/** Decoded, edited and re-encoded: graph-level hostility that byte edits rarely produce (cycles, escapes, huge shapes). */
function mutateOnnx(r: Rand, src: Uint8Array): { bytes: Uint8Array; what: string } {
  const m = ModelProto.decode(src) as unknown as { graph: PGraph };
  const g = m.graph;
  const nodes = g.node;
  const n = nodes.length ? pick(r, nodes) : undefined;
  const t = g.initializer.length ? pick(r, g.initializer) : undefined;
  let what: string;
  switch (int(r, 9)) {
    case 0: {
      // A cycle: a node reads the output of itself or of a later node.
      const i = int(r, nodes.length);
      const later = nodes[i + int(r, nodes.length - i)];
      if (!later?.output[0] || !nodes[i]) return mutateBytes(r, src);
      nodes[i].input.push(later.output[0]);
      what = `node ${i} reads '${later.output[0]}'`;
      break;
    }
    case 1:
      if (!t) return mutateBytes(r, src);
      t.dims = pick(r, [[2 ** 31, 2 ** 31], [-3, 4], [1e12], [0, 5], [2 ** 53]] as unknown[][]);
      what = `initializer '${t.name}' dims ${JSON.stringify(t.dims)}`;
      break;
    case 2: {
      if (!t) return mutateBytes(r, src);
      t.data_location = 1;
      const loc = pick(r, ['../../outside.bin', '/etc/passwd', 'missing.bin', 'model.onnx', '', 'a/../../b.bin']);
      t.external_data = [{ key: 'location', value: loc }];
      if (r() < 0.5) t.external_data.push({ key: 'offset', value: pick(r, ['-4', '1e30', 'x', '0', '99999999999']) });
      if (r() < 0.5) t.external_data.push({ key: 'length', value: pick(r, ['-1', '0', '4', 'NaN', '18446744073709551615']) });
      what = `initializer '${t.name}' external ${JSON.stringify(t.external_data)}`;
      break;
    }
    case 3:
      if (!n) return mutateBytes(r, src);
      n.input.push(pick(r, ['ghost', '', n.output[0] ?? 'x']));
      what = `node '${n.name}' reads ${JSON.stringify(n.input.at(-1))}`;
      break;
    case 4: {
      if (nodes.length < 2) return mutateBytes(r, src);
      const [a, b] = [pick(r, nodes), pick(r, nodes)];
      b.output = [...a.output];
      what = `node '${b.name}' writes the outputs of '${a.name}'`;
      break;
    }
    case 5: {
      const inp = g.input.length ? pick(r, g.input) : undefined;
      const tt = inp?.type?.tensor_type;
      if (!tt) return mutateBytes(r, src);
      if (r() < 0.5) tt.elem_type = pick(r, [0, 17, 99, -1]);
      else if (tt.shape) tt.shape.dim = [{ dim_value: pick(r, [2 ** 50, -7, 0]) }, ...tt.shape.dim];
      what = `graph input '${inp?.name}' type edited`;
      break;
    }
    case 6:
      g.output = r() < 0.5 ? [] : [{ name: 'nowhere' }];
      what = `graph outputs ${JSON.stringify(g.output)}`;
      break;
    case 7:
      if (!n) return mutateBytes(r, src);
      n.op_type = pick(r, ['', 'NoSuchOp', 'If', 'Loop', 'Scan']);
      what = `node '${n.name}' op_type '${n.op_type}'`;
      break;
    default:
      if (!t) return mutateBytes(r, src);
      t.data_type = pick(r, [0, 8, 16, 99, 13]);
      what = `initializer '${t.name}' data_type ${t.data_type}`;
  }
  let bytes: Uint8Array;
  try {
    bytes = ModelProto.encode(m as unknown as protobuf.Message).finish();
  } catch {
    return mutateBytes(r, src);
  }
  return { bytes, what };
}

function mutate(r: Rand, how: Mutation, bytes: Uint8Array): { bytes: Uint8Array; what: string } {
  switch (how) {
    case 'binary':
      return mutateBytes(r, bytes);
    case 'json':
      return mutateJson(r, new TextDecoder().decode(bytes));
    case 'text':
      return mutateText(r, new TextDecoder().decode(bytes));
    case 'png':
      return r() < 0.7 ? mutatePng(r, bytes) : mutateBytes(r, bytes);
    case 'npy':
      return r() < 0.7 ? mutateNpy(r, bytes) : mutateBytes(r, bytes);
    case 'onnx':
      return mutateOnnx(r, bytes);
  }
}

function makeCases(): { cases: FuzzCase[]; controls: number } {
  const r = mulberry32(SEED); // small, seeded, good enough to pick mutations
  const seeds: Seed[] = fuzzSeeds().filter((s) => !KIND || s.kind === KIND);
  assert.ok(seeds.length > 0, `no fuzz seeds${KIND ? ` of kind ${KIND}` : ''}`);
  // The unmutated seeds first: every one must load (a broken seed would make its mutations meaningless).
  const cases: FuzzCase[] = seeds.map((s, id) => ({ id, kind: s.kind, files: s.files, open: s.open, what: `${s.name}: unmutated` }));
  for (let k = 0; k < CASES; k++) {
    const s = seeds[k % seeds.length];
    const target = pick(r, s.mutable);
    const m = mutate(r, target.how, s.files[target.file]);
    cases.push({ id: cases.length, kind: s.kind, files: { ...s.files, [target.file]: m.bytes }, open: s.open, what: `${s.name}: ${target.file}: ${m.what}` });
  }
  return { cases, controls: seeds.length };
}

/** Resident set size of a live process in kB (Linux /proc), or 0 where it cannot be read. */
function rssKb(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : 0;
  } catch {
    return 0;
  }
}

it(`fuzz: ${CASES} mutated inputs of every kind end in a valid load or a typed error, within ${CASE_TIMEOUT_MS} ms and 2 GB (seed ${SEED})`, { timeout: 600_000 }, async () => {
  console.log(`fuzz seed ${SEED} (rerun: FUZZ_SEED=${SEED} FUZZ_CASES=${CASES} node --import tsx --test test/unit/fuzz.test.ts)`);
  const { cases, controls } = makeCases();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-fuzz-'));
  const failures: string[] = [];
  const counts = { ok: 0, typed: 0, crashes: 0, hangs: 0, blowups: 0, accepted: 0 };
  const codes: Record<string, number> = {};
  const perKind: Record<string, { ok: number; typed: number }> = {};
  let slowest = 0;
  let peakKb = 0;
  const t0 = performance.now();
  try {
    let next = 0;
    while (next < cases.length) {
      // One child runs cases until one fails hard (hang / crash / blow-up); then a fresh child continues.
      next = await new Promise<number>((resolve) => {
        const child: ChildProcess = fork(path.join(__dirname, 'fuzzWorker.ts'), [], {
          execArgv: ['--import', 'tsx', '--max-old-space-size=1536'],
          env: { ...process.env, FUZZ_DIR: dir },
          serialization: 'advanced',
          stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
        });
        let stderr = '';
        child.stderr!.on('data', (d: Buffer) => void (stderr = (stderr + d.toString()).slice(-2000)));
        let current = next;
        let timer: NodeJS.Timeout | undefined;
        let done = false;
        const watch = setInterval(() => {
          const kb = rssKb(child.pid!);
          peakKb = Math.max(peakKb, kb);
          if (kb > RSS_LIMIT_KB) {
            counts.blowups++;
            failures.push(`case ${current} (${cases[current]?.what}) grew past 2 GB (RSS ${kb} kB)`);
            finish(current + 1);
          }
        }, 20);
        const finish = (resumeAt: number): void => {
          if (done) return;
          done = true;
          clearTimeout(timer);
          clearInterval(watch);
          child.kill('SIGKILL');
          resolve(resumeAt);
        };
        const send = (): void => {
          if (current >= cases.length) return finish(current);
          child.send(cases[current]);
        };
        child.on('message', (m: FuzzReport) => {
          if (m.kind === 'start') {
            if (m.id < 0) return send();
            timer = setTimeout(() => {
              counts.hangs++;
              failures.push(`case ${m.id} (${cases[m.id].what}) did not finish within ${CASE_TIMEOUT_MS} ms`);
              finish(m.id + 1);
            }, CASE_TIMEOUT_MS);
            return;
          }
          clearTimeout(timer);
          slowest = Math.max(slowest, m.ms);
          peakKb = Math.max(peakKb, m.maxRssKb);
          const c = cases[m.id];
          const k = (perKind[c.kind] ??= { ok: 0, typed: 0 });
          if (m.kind === 'bad') {
            if (m.error.startsWith('hostile input accepted')) counts.accepted++;
            else counts.crashes++;
            failures.push(`case ${m.id} (${c.what}): ${m.error}`);
          } else {
            counts[m.kind]++;
            k[m.kind]++;
            if (m.kind === 'typed') codes[m.code] = (codes[m.code] ?? 0) + 1;
            if (m.id < controls && m.kind !== 'ok') failures.push(`seed ${c.what} does not load: ${m.code}`);
          }
          if (m.maxRssKb > RSS_LIMIT_KB) {
            counts.blowups++;
            failures.push(`case ${m.id} (${c.what}) peaked at ${m.maxRssKb} kB RSS`);
            return finish(m.id + 1);
          }
          current = m.id + 1;
          send();
        });
        child.on('exit', (code, signal) => {
          if (done) return;
          counts.crashes++;
          failures.push(`case ${current} (${cases[current]?.what}) killed the child (exit ${code ?? signal}): ${stderr.trim().split('\n').slice(-3).join(' | ')}`);
          finish(current + 1);
        });
      });
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
  const s = ((performance.now() - t0) / 1000).toFixed(1);
  console.log(
    `fuzz: ${cases.length} cases (${controls} seeds + ${cases.length - controls} mutated) in ${s} s: ${counts.ok} loaded, ${counts.typed} typed errors; ` +
      `${counts.crashes} crashes, ${counts.hangs} hangs, ${counts.blowups} above 2 GB, ${counts.accepted} hostile inputs accepted; slowest ${slowest.toFixed(0)} ms, peak RSS ${(peakKb / 1024).toFixed(0)} MB`,
  );
  console.log(`fuzz per kind: ${JSON.stringify(perKind)}`);
  console.log(`fuzz error codes: ${JSON.stringify(codes)}`);
  assert.deepEqual(failures.slice(0, 20), []);
});
