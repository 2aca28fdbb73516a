/**
 * Benchmark (not a test) of the float64 linear-algebra core against numpy/LAPACK measured in the same run.
 *
 *   node --import tsx test/bench/linalg.ts            # eigh n = 256, 512, 1024 (+ 2048 if predicted < 60 s)
 *   LINALG_BENCH_SIZES=128,256 node --import tsx test/bench/linalg.ts
 *
 * numpy runs in a child `/usr/bin/python3` when it exists (skipped with a message otherwise). Ratios are
 * ours / numpy (higher = slower than numpy).
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { eigh, syrkAccumulate } from '../../src/analysis/linalg/index';

export interface LinalgBenchRow {
  name: string;
  oursMs: number;
  numpyMs: number | null;
  /** oursMs / numpyMs, or null when numpy did not run. */
  ratio: number | null;
}

const PYTHON = '/usr/bin/python3';
const SYRK_ROWS = 5000, SYRK_D = 785;

function randomSymmetric(n: number, seed: number): Float64Array {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 4294967296 - 0.5;
  };
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
  const r = spawnSync(PYTHON, ['-c', script, JSON.stringify(sizes)], { encoding: 'utf8', timeout: 600_000 });
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
  const requested = options.sizes ?? [256, 512, 1024, 2048];
  const maxPredicted = options.maxPredictedMs ?? 60_000;
  const ours = new Map<string, number>();
  const sizes: number[] = [];
  let last: { n: number; ms: number } | null = null;
  for (const n of requested) {
    const predicted = last === null ? 0 : last.ms * (n / last.n) ** 3;
    if (predicted > maxPredicted) {
      log(`eigh n=${n} skipped: predicted ${(predicted / 1000).toFixed(0)} s > ${(maxPredicted / 1000).toFixed(0)} s`);
      continue;
    }
    const a = randomSymmetric(n, n);
    const ms = timeMs(() => eigh(a, n), n < 1024 ? 3 : 1);
    ours.set(`eigh ${n}`, ms);
    sizes.push(n);
    last = { n, ms };
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
    return { name, oursMs, numpyMs, ratio: numpyMs === null ? null : oursMs / numpyMs };
  });
  log('\n## linalg: float64 core vs numpy/LAPACK (same run; best of 3, one run where n ≥ 1024)\n');
  log('| case | ours ms | numpy ms | ours / numpy |\n|---|---:|---:|---:|');
  for (const r of rows) {
    const numpyCell = r.numpyMs === null ? '—' : r.numpyMs.toFixed(1);
    const ratioCell = r.ratio === null ? '—' : `${r.ratio.toFixed(1)}×`;
    log(`| ${r.name} | ${r.oursMs.toFixed(1)} | ${numpyCell} | ${ratioCell} |`);
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
