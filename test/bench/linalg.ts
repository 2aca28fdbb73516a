/**
 * Benchmark (not a test) of the float64 linear-algebra core against numpy/LAPACK measured in the same run.
 *
 *   node --import tsx test/bench/linalg.ts            # eigh n = 256, 512, 785, 1024, 2048
 *   LINALG_BENCH_SIZES=128,256 node --import tsx test/bench/linalg.ts
 *
 * eigh is timed through both of its paths: "wasm" (the WebAssembly kernel, what `eigh` uses from n = 16 where
 * WebAssembly exists) and "js" (the TypeScript fallback; skipped where its predicted time exceeds the limit).
 * numpy runs in a child `/usr/bin/python3` when it exists (skipped with a message otherwise), single-threaded
 * (OMP/OPENBLAS/MKL threads = 1) like our kernels. Ratios are ours (wasm for eigh) / numpy (higher = slower).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { eighWasmAvailable, eighWith } from '../../src/analysis/linalg/eigh';
import { syrkAccumulate } from '../../src/analysis/linalg/index';
import { mulberry32 } from '../../src/analysis/stats/random';

export interface LinalgBenchRow {
  name: string;
  /** What `eigh` / `syrkAccumulate` use by default (for eigh: the wasm kernel when available). */
  oursMs: number;
  /** eigh only: the TypeScript path, or null when skipped. */
  jsMs?: number | null;
  /** eigh only: the WebAssembly kernel, or null when unavailable. */
  wasmMs?: number | null;
  numpyMs: number | null;
  /** oursMs / numpyMs, or null when numpy did not run. */
  ratio: number | null;
}

const PYTHON = '/usr/bin/python3';
const SYRK_ROWS = 5000, SYRK_D = 785;

function randomSymmetric(n: number, seed: number): Float64Array {
  const u = mulberry32(seed);
  const next = (): number => u() - 0.5;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j <= i; j++) a[i * n + j] = a[j * n + i] = next();
  return a;
}

function timeMs(f: () => void, reps: number): number {
  let best = Infinity;
  for (let r = 0; r < reps; r++) {
    const t = performance.now();
    f();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/** numpy timings (ms, best of reps) for eigh at each size and for the syrk batch; null if python/numpy missing. */
function numpyTimings(sizes: number[], log: (line: string) => void): Map<string, number> | null {
  if (!existsSync(PYTHON)) {
    log(`numpy baseline skipped: ${PYTHON} not found`);
    return null;
  }
  const script = `
import json, sys, time
import numpy as np
sizes = json.loads(sys.argv[1]); out = {}
rng = np.random.default_rng(0)
def best(f, reps):
    t = float('inf')
    for _ in range(reps):
        s = time.perf_counter(); f(); t = min(t, time.perf_counter() - s)
    return t * 1e3
for n in sizes:
    a = rng.random((n, n)) - 0.5; a = np.tril(a) + np.tril(a, -1).T
    np.linalg.eigh(a)
    out['eigh %d' % n] = best(lambda: np.linalg.eigh(a), 3 if n < 1024 else 1)
x = rng.random((${SYRK_ROWS}, ${SYRK_D}), dtype=np.float32)
g = np.zeros((${SYRK_D}, ${SYRK_D}))
def syrk():
    xd = x.astype(np.float64); g.__iadd__(xd.T @ xd)
out['syrk'] = best(syrk, 3)
print(json.dumps(out))
`;
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(sizes)], { encoding: 'utf8', timeout: 600_000, env });
  if (r.status !== 0) {
    const why = (r.stderr || r.error?.message || '').trim().split('\n').pop();
    log(`numpy baseline skipped: python exited with ${r.status ?? r.signal}: ${why}`);
    return null;
  }
  return new Map(Object.entries(JSON.parse(r.stdout) as Record<string, number>));
}

/** Runs the benchmark, prints a table through `log`, and returns the rows. */
export async function runLinalgBench(
  options: { sizes?: number[]; log?: (line: string) => void; maxPredictedMs?: number } = {},
): Promise<LinalgBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const requested = options.sizes ?? [256, 512, 785, 1024, 2048];
  const maxPredicted = options.maxPredictedMs ?? 60_000;
  const ours = new Map<string, number>();
  const js = new Map<string, number | null>(), wasm = new Map<string, number | null>();
  const wasmOk = eighWasmAvailable();
  if (!wasmOk) log('eigh wasm kernel unavailable: timing the TypeScript path only');
  const sizes: number[] = [];
  let lastJs: { n: number; ms: number } | null = null;
  for (const n of requested) {
    const a = randomSymmetric(n, n);
    const reps = n < 1024 ? 3 : n < 2048 ? 2 : 1;
    if (wasmOk) eighWith('wasm', a, n); // untimed warm-up, as numpy's: compilation and tier-up of the kernel
    const wasmMs = wasmOk ? timeMs(() => eighWith('wasm', a, n), reps) : null;
    const predicted = lastJs === null ? 0 : lastJs.ms * (n / lastJs.n) ** 3;
    let jsMs: number | null = null;
    if (predicted > maxPredicted) {
      log(`eigh js n=${n} skipped: predicted ${(predicted / 1000).toFixed(0)} s > ${(maxPredicted / 1000).toFixed(0)} s`);
    } else {
      jsMs = timeMs(() => eighWith('js', a, n), n < 1024 ? 3 : 1);
      lastJs = { n, ms: jsMs };
    }
    js.set(`eigh ${n}`, jsMs);
    wasm.set(`eigh ${n}`, wasmMs);
    ours.set(`eigh ${n}`, wasmMs ?? jsMs ?? NaN);
    sizes.push(n);
    await Promise.resolve();
  }
  const x = new Float32Array(SYRK_ROWS * SYRK_D);
  for (let i = 0; i < x.length; i++) x[i] = ((i * 2654435761) >>> 0) / 4294967296;
  const g = new Float64Array(SYRK_D * SYRK_D);
  ours.set('syrk', timeMs(() => syrkAccumulate(g, x, SYRK_ROWS, SYRK_D), 3));

  const numpy = numpyTimings(sizes, log);
  const rows: LinalgBenchRow[] = [...ours].map(([key, oursMs]) => {
    const numpyMs = numpy?.get(key) ?? null;
    const name = key === 'syrk' ? `syrkAccumulate ${SYRK_ROWS}×${SYRK_D} f32` : `eigh n=${key.split(' ')[1]}`;
    const row: LinalgBenchRow = { name, oursMs, numpyMs, ratio: numpyMs === null ? null : oursMs / numpyMs };
    if (key !== 'syrk') {
      row.jsMs = js.get(key) ?? null;
      row.wasmMs = wasm.get(key) ?? null;
    }
    return row;
  });
  const ms = (v: number | null | undefined): string => (v === null || v === undefined ? '—' : v.toFixed(1));
  log('\n## linalg: float64 core vs numpy/LAPACK (same run, numpy single-threaded; best of 3, of 2 at n = 1024, one run at 2048)\n');
  log('| case | ours js ms | ours wasm ms | numpy ms | ours / numpy |\n|---|---:|---:|---:|---:|');
  for (const r of rows) {
    const ratioCell = r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`;
    const jsCell = r.name.startsWith('eigh') ? ms(r.jsMs) : ms(r.oursMs);
    log(`| ${r.name} | ${jsCell} | ${r.name.startsWith('eigh') ? ms(r.wasmMs) : '—'} | ${ms(r.numpyMs)} | ${ratioCell} |`);
  }
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const env = process.env.LINALG_BENCH_SIZES;
  runLinalgBench(env ? { sizes: env.split(',').map(Number) } : {}).catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
