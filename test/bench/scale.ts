/**
 * `npm run bench scale [-- options]`: a GPT-2-small-architecture model (scripts/bench/gpt2_export.py, exported by
 * Debian's python3-torch into a temporary folder, never committed) run side by side, one thread each, through
 * our CLI and through a plain PyTorch implementation of the same computation (scripts/bench/gpt2_reference.py):
 *
 * - `info`: `circuitscope info` vs python `onnx.load` + counting ops and parameters;
 * - `attention` on tokens × positions (default 32 × 128): the sparsity proxies;
 * - `circuit`: EAP-IG on prompt pairs (default 16 × 32, 5 steps, all edges) plus one patched forward measuring
 *   the top-n circuit's faithfulness (`--edges n` on both sides, so both do the same work).
 *
 * - `lib`: LIB with stochastic sources on its own, smaller GPT-2-style export (default 4 layers, d 256, 8 heads, vocab
 *   5000, ctx 256; 8 prompts × 32 tokens; node layers the residual stream: the embedding sum and each block's
 *   output — the unembedding section would cost one VJP per vocabulary entry and direction), run to completion;
 *   its own cost estimate against the measured job time and the process's peak RSS (issue 13: within ±30%).
 *
 * Each side is a child process: wall time from spawn to exit, peak RSS from /usr/bin/time (its max resident set
 * size; the CLI's engine is a worker thread of the same process). onnxruntime runs with `--threads 1`, torch with
 * torch.set_num_threads(1) and OMP_NUM_THREADS=1. Agreement: attention proxies max |Δ| over every head and proxy;
 * EAP-IG scores Spearman and max |Δ| / max |score| over all edges (and the worst single edge's relative Δ). The
 * issue's targets (issue 13) are printed with pass/fail: time ≤ 1.0× and peak RSS ≤ 1.3× PyTorch's, Spearman ≥ 0.99,
 * proxies within 2e-3; `info` no slower than onnx.load and its RSS ≤ file size + 300 MB.
 *
 * Options (after `--`): --layers 12 --d 768 --heads 12 --vocab 50257 --ctx 1024 (the model), --prompts 32
 * --tokens 128 (attention data), --pairs 16 --pair-tokens 32 --steps 5 --edges N (circuit; N defaults to 5% of
 * the edges, at least 50), --only info,attention,circuit (default: all three), --keep DIR (export there and keep it),
 * --timeout S (per child, default 7200); lib: --lib-layers 4 --lib-d 256 --lib-heads 8 --lib-vocab 5000 --lib-ctx 256
 * --lib-prompts 8 --lib-tokens 32 --lib-sources 1.
 * Quick check: npm run bench scale -- --layers 2 --d 128 --heads 4 --vocab 1000 --ctx 256 --only info,attention,circuit
 */
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { buildComponentGraph, spearman, type ComponentLayout } from '../../src/analysis/circuits';

const PYTHON = '/usr/bin/python3';
const TIME = '/usr/bin/time';
const repo = path.join(__dirname, '..', '..');
const CLI = path.join(repo, 'bin', 'circuitscope.js');
const REF = path.join(repo, 'scripts', 'bench', 'gpt2_reference.py');
const EXPORT = path.join(repo, 'scripts', 'bench', 'gpt2_export.py');
const ENV = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };

interface Measured {
  ms: number;
  rssMb: number;
  code: number | null;
  stderr: string;
}

/** Runs a command under /usr/bin/time, returning wall time (spawn → exit), peak RSS and stderr. */
function measure(cmd: string, args: string[], timeoutS: number): Promise<Measured> {
  const rssFile = path.join(os.tmpdir(), `cs-scale-rss-${process.pid}-${Date.now()}`);
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(TIME, ['-f', '%M', '-o', rssFile, cmd, ...args], { env: ENV, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.length > 200_000) stderr = stderr.slice(-100_000);
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      const ms = performance.now() - t0;
      let rssMb = NaN;
      try {
        const lines = fs.readFileSync(rssFile, 'utf8').trim().split('\n');
        rssMb = Number(lines[lines.length - 1]) / 1024;
        fs.rmSync(rssFile, { force: true });
      } catch {
        /* killed before time wrote it */
      }
      resolve({ ms, rssMb, code, stderr });
    });
  });
}

function check(m: Measured, what: string): void {
  if (m.code !== 0) {
    const tail = m.stderr.trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${what} exited with ${m.code === null ? 'a signal (timeout?)' : m.code}: ${tail}`);
  }
}

interface Row {
  name: string;
  /** Why the job did not complete (the row then has no measurements to compare). */
  error?: string;
  ours: Measured;
  ref: Measured;
  agreement: string;
  checks: { label: string; ok: boolean }[];
  note?: string;
}

const fmtS = (ms: number): string => (ms / 1000).toFixed(1);
const fmtMb = (mb: number): string => (Number.isFinite(mb) ? mb.toFixed(0) : '—');

const UNIT_MS: Record<string, number> = { s: 1000, min: 60_000, h: 3_600_000 };

/** The CLI's estimate as numbers (`estimate: peak ≈ N MB|GB, ≈ T s|min|h, …`; src/shared/cost.ts formats it). */
function parseEstimate(stderr: string): { mb: number; ms: number } | undefined {
  const m = /estimate: peak ≈ ([\d.]+) (MB|GB), ≈ ([\d.]+) (s|min|h)\b/.exec(stderr);
  return m ? { mb: Number(m[1]) * (m[2] === 'GB' ? 1024 : 1), ms: Number(m[3]) * UNIT_MS[m[4]] } : undefined;
}

/** The CLI's own cost estimate, from its stderr (`estimate: peak ≈ N MB, ≈ S s, …`). */
function estimateOf(stderr: string): string | undefined {
  const m = /estimate: peak ≈ (\d+) MB, ≈ ([\d.]+) s/.exec(stderr);
  return m ? `estimate ${m[1]} MB, ${m[2]} s` : undefined;
}

async function benchInfo(model: string, timeout: number): Promise<Row> {
  const size = fs.statSync(model).size / 2 ** 20;
  const ref = await measure(PYTHON, [REF, 'info', model], timeout);
  check(ref, 'python onnx.load + counting');
  const ours = await measure(process.execPath, [CLI, 'info', model], timeout);
  check(ours, 'circuitscope info');
  return {
    name: 'info',
    ours,
    ref,
    agreement: '',
    checks: [
      { label: `time ≤ 1.0× (${(ours.ms / ref.ms).toFixed(2)}×)`, ok: ours.ms <= ref.ms },
      { label: `RSS ≤ file + 300 MB (${fmtMb(ours.rssMb)} ≤ ${fmtMb(size + 300)} MiB)`, ok: ours.rssMb <= size + 300 },
    ],
  };
}

async function benchAttention(dir: string, model: string, heads: number, timeout: number): Promise<Row> {
  const data = path.join(dir, 'tokens.npz');
  const refOut = path.join(dir, 'ref_attention.json');
  const ourOut = path.join(dir, 'cli_attention.json');
  const ref = await measure(PYTHON, [REF, 'attention', model, data, '--heads', String(heads), '--out', refOut], timeout);
  check(ref, 'PyTorch attention');
  const ours = await measure(process.execPath, [CLI, 'run', 'attention', model, '--data', data, '--threads', '1', '--yes', '--json', '--out', ourOut], timeout);
  check(ours, 'circuitscope run attention');
  type Head = Record<string, number>;
  const a = (JSON.parse(fs.readFileSync(ourOut, 'utf8')) as { result: { heads: Head[] } }).result.heads;
  const r = (JSON.parse(fs.readFileSync(refOut, 'utf8')) as { heads: Head[] }).heads;
  if (a.length !== r.length) throw new Error(`attention: the CLI reports ${a.length} heads, PyTorch ${r.length}`);
  let maxD = 0;
  let worst = '';
  r.forEach((h, i) => {
    if (a[i].layer !== h.layer || a[i].head !== h.head) throw new Error(`attention: head ${i} is L${a[i].layer}H${a[i].head} in the CLI's result, L${h.layer}H${h.head} in PyTorch's`);
    for (const [k, v] of Object.entries(h)) {
      if (k === 'layer' || k === 'head') continue;
      if (typeof a[i][k] !== 'number') throw new Error(`attention: the CLI's result has no '${k}' for L${h.layer}H${h.head}`);
      const d = Math.abs(a[i][k] - v);
      if (d > maxD || !Number.isFinite(d)) {
        maxD = d;
        worst = `${k} L${h.layer}H${h.head}`;
      }
    }
  });
  return {
    name: 'attention',
    ours,
    ref,
    agreement: `proxies max |Δ| ${maxD.toExponential(1)} (${worst}; ${r.length} heads)`,
    checks: [
      { label: `time ≤ 1.0× (${(ours.ms / ref.ms).toFixed(2)}×)`, ok: ours.ms <= ref.ms },
      { label: `RSS ≤ 1.3× (${(ours.rssMb / ref.rssMb).toFixed(2)}×)`, ok: ours.rssMb <= 1.3 * ref.rssMb },
      { label: 'proxies within 2e-3', ok: maxD <= 2e-3 },
    ],
    note: estimateOf(ours.stderr),
  };
}

async function benchCircuit(dir: string, model: string, heads: number, steps: number, edges: number, timeout: number): Promise<Row> {
  const data = path.join(dir, 'pairs.npz');
  const refOut = path.join(dir, 'ref_circuit.json');
  const ourOut = path.join(dir, 'cli_circuit.json');
  const ref = await measure(PYTHON, [REF, 'circuit', model, data, '--heads', String(heads), '--steps', String(steps), '--edges', String(edges), '--out', refOut], timeout);
  check(ref, 'PyTorch EAP-IG');
  const ours = await measure(
    process.execPath,
    [CLI, 'run', 'circuit', model, '--data', data, '--method', 'eap-ig', '--steps', String(steps), '--edges', String(edges), '--maxEdges', '100000000', '--threads', '1', '--yes', '--json', '--out', ourOut],
    timeout,
  );
  check(ours, 'circuitscope run circuit');
  const res = (JSON.parse(fs.readFileSync(ourOut, 'utf8')) as {
    result: { edges: { id: string; score: number }[]; totalEdges: number; circuit: { faithfulness: number | null; edgeCount: number } };
  }).result;
  const r = JSON.parse(fs.readFileSync(refOut, 'utf8')) as { edges: string[]; scores: number[]; faithfulness: number | null; circuitEdges: number };
  if (res.totalEdges !== r.edges.length || res.edges.length !== r.edges.length) {
    throw new Error(`circuit: the CLI has ${res.totalEdges} edges (${res.edges.length} listed), PyTorch ${r.edges.length}`);
  }
  const byId = new Map(res.edges.map((e) => [e.id, e.score]));
  const ours_ = r.edges.map((id) => {
    const s = byId.get(id);
    if (s === undefined) throw new Error(`circuit: edge '${id}' is missing from the CLI's result`);
    return s;
  });
  const rho = spearman(ours_, r.scores);
  let maxAbs = 0;
  let maxD = 0;
  let maxRelEdge = 0;
  r.scores.forEach((v, i) => {
    maxAbs = Math.max(maxAbs, Math.abs(v));
    const d = Math.abs(ours_[i] - v);
    maxD = Math.max(maxD, d);
  });
  // the worst single edge's relative difference, over edges whose score is at least 1e-3 of the largest
  r.scores.forEach((v, i) => {
    if (Math.abs(v) >= 1e-3 * maxAbs) maxRelEdge = Math.max(maxRelEdge, Math.abs(ours_[i] - v) / Math.abs(v));
  });
  const f = (x: number | null): string => (x === null ? '—' : x.toFixed(4));
  return {
    name: `circuit (EAP-IG, ${steps} steps, ${r.edges.length} edges)`,
    ours,
    ref,
    agreement: `Spearman ${rho.toFixed(4)}; max |Δ| / max |score| ${(maxD / maxAbs).toExponential(1)}; worst edge (|score| ≥ 1e-3 max) rel. Δ ${maxRelEdge.toExponential(1)}; top-${edges} faithfulness ${f(res.circuit.faithfulness)} (${res.circuit.edgeCount} edges) vs ${f(r.faithfulness)} (${r.circuitEdges})`,
    checks: [
      { label: `time ≤ 1.0× (${(ours.ms / ref.ms).toFixed(2)}×)`, ok: ours.ms <= ref.ms },
      { label: `RSS ≤ 1.3× (${(ours.rssMb / ref.rssMb).toFixed(2)}×)`, ok: ours.rssMb <= 1.3 * ref.rssMb },
      { label: 'Spearman ≥ 0.99', ok: rho >= 0.99 },
    ],
    note: estimateOf(ours.stderr),
  };
}

interface LibRow {
  name: string;
  error?: string;
  est: { mb: number; ms: number };
  jobMs: number;
  wallMs: number;
  rssMb: number;
  vjps: number;
  backend: string;
  checks: { label: string; ok: boolean }[];
}

/** LIB with stochastic sources on its own GPT-2-style export, run to completion; its estimate vs the measured run. */
async function benchLib(dir: string, cfg: Record<string, number>, timeout: number): Promise<LibRow> {
  const libDir = path.join(dir, 'lib');
  fs.mkdirSync(libDir, { recursive: true });
  const exp = await measure(
    PYTHON,
    [EXPORT, '--out', libDir, '--layers', String(cfg.layers), '--d', String(cfg.d), '--heads', String(cfg.heads), '--vocab', String(cfg.vocab), '--ctx', String(cfg.ctx), '--prompts', String(cfg.prompts), '--tokens', String(cfg.tokens), '--pairs', '1', '--pair-tokens', '4'],
    timeout,
  );
  check(exp, 'the lib export (scripts/bench/gpt2_export.py)');
  const model = path.join(libDir, 'gpt2.onnx');
  const layers = ['/Add_output_0', ...Array.from({ length: cfg.layers }, (_, i) => `/h.${i}/Add_1_output_0`)];
  const out = path.join(libDir, 'cli_lib.json');
  const ours = await measure(
    process.execPath,
    [CLI, 'run', 'lib', model, '--data', path.join(libDir, 'tokens.npz'), '--layer', layers.join(','), '--stochasticSources', String(cfg.sources), '--threads', '1', '--yes', '--json', '--out', out],
    timeout,
  );
  check(ours, 'circuitscope run lib');
  const est = parseEstimate(ours.stderr);
  if (!est) throw new Error('lib: the CLI printed no estimate line');
  const env = JSON.parse(fs.readFileSync(out, 'utf8')) as { backend: string; timings: { totalMs: number }; result: { jacobians: { vjps: number; backend?: string } } };
  const jobMs = env.timings.totalMs;
  const tr = est.ms / jobMs, mr = est.mb / ours.rssMb;
  return {
    name: `lib (${cfg.layers} layers, d ${cfg.d}, vocab ${cfg.vocab}; ${cfg.prompts} × ${cfg.tokens} tokens, ${cfg.sources} stochastic source${cfg.sources === 1 ? '' : 's'})`,
    est,
    jobMs,
    wallMs: ours.ms,
    rssMb: ours.rssMb,
    vjps: env.result.jacobians.vjps,
    backend: env.result.jacobians.backend ?? env.backend,
    checks: [
      { label: `time estimate within ±30% (${tr.toFixed(2)}×)`, ok: tr >= 0.7 && tr <= 1.3 },
      { label: `peak RSS estimate within ±30% (${mr.toFixed(2)}×)`, ok: mr >= 0.7 && mr <= 1.3 },
    ],
  };
}

function edgeCount(layers: number, heads: number): number {
  const layout: ComponentLayout[] = [];
  for (let l = 0; l < layers; l++) layout.push({ kind: 'attn', layer: l, heads }, { kind: 'mlp', layer: l });
  return buildComponentGraph(layout).edges.length;
}

function printLib(r: LibRow): void {
  console.log(`\n## scale: ${r.name}, estimate vs measured (run to completion, one onnxruntime thread)\n`);
  console.log('| job | estimate s | job s (timings.totalMs) | process wall s | estimate MiB | peak RSS MiB | VJPs | Jacobians | targets |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---|---|');
  if (r.error) {
    console.log(`| lib | — | — | — | — | — | — | — | FAIL: ${r.error.replace(/\|/g, '/')} |`);
    return;
  }
  const targets = r.checks.map((c) => `${c.ok ? 'pass' : 'FAIL'}: ${c.label}`).join('; ');
  console.log(`| lib | ${fmtS(r.est.ms)} | ${fmtS(r.jobMs)} | ${fmtS(r.wallMs)} | ${fmtMb(r.est.mb)} | ${fmtMb(r.rssMb)} | ${r.vjps} | ${r.backend} | ${targets} |`);
}

export async function benchScale(argv: string[] = []): Promise<void> {
  const { values: o } = parseArgs({
    args: argv,
    options: {
      layers: { type: 'string', default: '12' },
      d: { type: 'string', default: '768' },
      heads: { type: 'string', default: '12' },
      vocab: { type: 'string', default: '50257' },
      ctx: { type: 'string', default: '1024' },
      prompts: { type: 'string', default: '32' },
      tokens: { type: 'string', default: '128' },
      pairs: { type: 'string', default: '16' },
      'pair-tokens': { type: 'string', default: '32' },
      steps: { type: 'string', default: '5' },
      edges: { type: 'string' },
      only: { type: 'string', default: 'info,attention,circuit,lib' },
      'lib-layers': { type: 'string', default: '4' },
      'lib-d': { type: 'string', default: '256' },
      'lib-heads': { type: 'string', default: '8' },
      'lib-vocab': { type: 'string', default: '5000' },
      'lib-ctx': { type: 'string', default: '256' },
      'lib-prompts': { type: 'string', default: '8' },
      'lib-tokens': { type: 'string', default: '32' },
      'lib-sources': { type: 'string', default: '1' },
      keep: { type: 'string' },
      timeout: { type: 'string', default: '7200' },
    },
    strict: true,
  });
  const int = (name: keyof typeof o): number => {
    const n = Number(o[name]);
    if (!Number.isInteger(n) || n < 1) throw new Error(`--${name} must be a positive integer, found '${String(o[name])}'`);
    return n;
  };
  const only = new Set((o.only as string).split(',').map((s) => s.trim()));
  for (const s of only) if (!['info', 'attention', 'circuit', 'lib'].includes(s)) throw new Error(`--only takes info, attention, circuit, lib; found '${s}'`);
  if (!fs.existsSync(PYTHON) || !fs.existsSync(TIME)) throw new Error(`the scale bench needs ${PYTHON} (torch, onnx) and ${TIME}`);
  if (!fs.existsSync(path.join(repo, 'dist', 'cli.js'))) throw new Error('dist/cli.js is missing: run `npm run build` first');
  const [layers, heads] = [int('layers'), int('heads')];
  const total = edgeCount(layers, heads);
  const edges = o.edges === undefined ? Math.min(total, Math.max(50, Math.round(total / 20))) : int('edges');
  const timeout = int('timeout');
  const dir = o.keep ? path.resolve(o.keep as string) : fs.mkdtempSync(path.join(os.tmpdir(), 'cs-scale-'));
  fs.mkdirSync(dir, { recursive: true });
  const config = `${layers} layers, d ${o.d}, ${heads} heads, vocab ${o.vocab}, ctx ${o.ctx}`;
  try {
    let libRow: LibRow | undefined;
    if (only.has('lib')) {
      const cfg = Object.fromEntries(['layers', 'd', 'heads', 'vocab', 'ctx', 'prompts', 'tokens', 'sources'].map((k) => [k, int(`lib-${k}` as keyof typeof o)]));
      try {
        libRow = await benchLib(dir, cfg, timeout);
      } catch (e) {
        libRow = { name: 'lib', error: e instanceof Error ? e.message : String(e) } as LibRow;
      }
      only.delete('lib');
    }
    const exp = only.size ? await measure(
      PYTHON,
      [EXPORT, '--out', dir, ...['layers', 'd', 'heads', 'vocab', 'ctx', 'prompts', 'tokens', 'pairs', 'pair-tokens'].flatMap((k) => [`--${k}`, String(o[k as keyof typeof o])])],
      timeout,
    ) : undefined;
    if (libRow) printLib(libRow);
    if (!exp) return;
    check(exp, 'the export (scripts/bench/gpt2_export.py)');
    const model = path.join(dir, 'gpt2.onnx');
    const mb = fs.statSync(model).size / 1e6;
    console.log(`\n## scale: GPT-2-architecture export (${config}; ${mb.toFixed(0)} MB, exported in ${fmtS(exp.ms)} s), CLI vs plain PyTorch, one thread each\n`);
    const rows: Row[] = [];
    const attempt = async (name: string, job: () => Promise<Row>): Promise<void> => {
      try {
        rows.push(await job());
      } catch (e) {
        rows.push({ name, error: e instanceof Error ? e.message : String(e) } as Row);
      }
    };
    if (only.has('info')) await attempt('info', () => benchInfo(model, timeout));
    if (only.has('attention')) await attempt('attention', () => benchAttention(dir, model, heads, timeout));
    if (only.has('circuit')) await attempt('circuit (EAP-IG)', () => benchCircuit(dir, model, heads, int('steps'), edges, timeout));
    const data = [
      only.has('attention') ? `attention ${o.prompts} × ${o.tokens} tokens` : '',
      only.has('circuit') ? `circuit ${o.pairs} pairs × ${o['pair-tokens']} tokens, top-${edges} faithfulness` : '',
    ].filter(Boolean);
    if (data.length) console.log(`data: ${data.join('; ')}\n`);
    console.log('| job | CLI s | PyTorch s | time ratio | CLI peak RSS MiB | PyTorch peak RSS MiB | RSS ratio | agreement | targets |');
    console.log('|---|---:|---:|---:|---:|---:|---:|---|---|');
    for (const r of rows) {
      if (r.error) {
        console.log(`| ${r.name} | — | — | — | — | — | — | — | FAIL: ${r.error.replace(/\|/g, '/')} |`);
        continue;
      }
      const targets = r.checks.map((c) => `${c.ok ? 'pass' : 'FAIL'}: ${c.label}`).join('; ');
      console.log(
        `| ${r.name} | ${fmtS(r.ours.ms)} | ${fmtS(r.ref.ms)} | ${(r.ours.ms / r.ref.ms).toFixed(2)}× | ${fmtMb(r.ours.rssMb)} | ${fmtMb(r.ref.rssMb)} | ${(r.ours.rssMb / r.ref.rssMb).toFixed(2)}× | ${r.agreement} | ${targets} |`,
      );
    }
    const notes = rows.filter((r) => r.note).map((r) => `${r.name}: CLI ${r.note}`);
    if (notes.length) console.log(`\n${notes.join('\n')}`);
    console.log('\n(PyTorch rows: scripts/bench/gpt2_reference.py; info\'s baseline is python onnx.load + counting ops and parameters; times include process start and model loading on both sides)');
  } finally {
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  benchScale(process.argv.slice(2)).catch((e: unknown) => {
    console.error(e instanceof Error ? e.message : e);
    process.exitCode = 1;
  });
}
