/**
 * Benchmark (not a test): LIB on the example MLP over its 5000 training samples, ours next to the independent
 * numpy reference (scripts/reference/lib_mlp.py --time) measured in the same run.
 *
 *   node --import tsx test/bench/lib.ts
 *
 * Rows: LIB alone (load → bases → edges, no PCA, no ablation) and the PCA baseline's extra cost. Ours is timed
 * in-process twice (cold: the first run in this process, JIT and session creation included; warm: a second run);
 * numpy's time is measured inside the script from loading the ONNX and npz files on (interpreter start excluded).
 * Ratios are ours / numpy (above 1 = slower than numpy). numpy runs single-threaded (OMP/OPENBLAS threads = 1),
 * as our float64 kernels do.
 */
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { runLib } from '../../src/engine/analyses/lib';

const PYTHON = '/usr/bin/python3';
const repo = path.join(__dirname, '..', '..');
const model = path.join(repo, 'examples', 'mlp', 'mlp.onnx');
const data = path.join(repo, 'examples', 'data', 'fmnist.npz');

export interface LibBenchRow {
  name: string;
  oursColdMs: number;
  oursWarmMs: number;
  numpyMs: number | null;
  /** oursWarmMs / numpyMs. */
  ratio: number | null;
}

interface NumpyTimings {
  forwardMs: number;
  libBasisMs: number;
  libEdgesMs: number;
  libTotalMs: number;
  pcaMs: number;
}

function numpyTimings(log: (line: string) => void): NumpyTimings | null {
  if (!existsSync(PYTHON)) {
    log(`numpy baseline skipped: ${PYTHON} not found`);
    return null;
  }
  const env = { ...process.env, OMP_NUM_THREADS: '1', OPENBLAS_NUM_THREADS: '1', MKL_NUM_THREADS: '1' };
  const r = spawnSync(PYTHON, [path.join(repo, 'scripts', 'reference', 'lib_mlp.py'), '--time'], { encoding: 'utf8', timeout: 900_000, env });
  if (r.status !== 0) {
    log(`numpy baseline skipped: python exited with ${r.status ?? r.signal}: ${(r.stderr || r.error?.message || '').trim().split('\n').pop()}`);
    return null;
  }
  return JSON.parse(r.stdout.trim().split('\n').pop()!) as NumpyTimings;
}

async function ours(options: Record<string, unknown>): Promise<{ ms: number; timings: Record<string, number> }> {
  const t0 = performance.now();
  const env = await runLib({ analysis: 'lib', model, data, options }, {});
  return { ms: performance.now() - t0, timings: env.timings };
}

/** Runs the benchmark, prints a table through `log`, and returns the rows. */
export async function runLibBench(options: { log?: (line: string) => void; withPca?: boolean } = {}): Promise<LibBenchRow[]> {
  const log = options.log ?? ((line: string) => console.log(line));
  const libOnly = { pca: false, ablation: false };
  const cold = await ours(libOnly);
  const warm = await ours(libOnly);
  const rows: LibBenchRow[] = [];
  const numpy = numpyTimings(log);
  rows.push({ name: 'LIB (load, moments, bases, edges)', oursColdMs: cold.ms, oursWarmMs: warm.ms, numpyMs: numpy?.libTotalMs ?? null, ratio: numpy ? warm.ms / numpy.libTotalMs : null });
  if (options.withPca ?? true) {
    const withPca = await ours({ pca: true, ablation: false });
    const extra = withPca.ms - warm.ms;
    rows.push({ name: 'PCA baseline, extra (bases, edges)', oursColdMs: extra, oursWarmMs: extra, numpyMs: numpy?.pcaMs ?? null, ratio: numpy ? extra / numpy.pcaMs : null });
  }
  log('\n## lib: the example MLP over 5000 samples, ours vs the numpy reference (same run)\n');
  log('| case | ours cold ms | ours warm ms | numpy ms | ours / numpy |\n|---|---:|---:|---:|---:|');
  for (const r of rows) {
    log(`| ${r.name} | ${r.oursColdMs.toFixed(0)} | ${r.oursWarmMs.toFixed(0)} | ${r.numpyMs === null ? '—' : r.numpyMs.toFixed(0)} | ${r.ratio === null ? '—' : `${r.ratio.toFixed(2)}×`} |`);
  }
  const t = warm.timings;
  log(`\nours (warm) by stage: ${Object.entries(t).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')} ms`);
  if (numpy) log(`numpy by stage: forward+load ${numpy.forwardMs.toFixed(0)}, bases ${numpy.libBasisMs.toFixed(0)}, edges ${numpy.libEdgesMs.toFixed(0)} ms`);
  return rows;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runLibBench().catch((e: unknown) => {
    console.error(e);
    process.exitCode = 1;
  });
}
