/**
 * `circuitscope report <model> --data … --out report.html`: runs the analyses that fit the model and the
 * data (or those named by --analyses), then writes one standalone HTML file with the same views as the
 * extension (results tables and charts, circuit graphs, the operator graph coloured by the results).
 * `--from run.json…` adds saved runs (from `run … --out` or the extension's results folder) without running.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { analysisRunner } from '../engine/analyses';
import { EngineError } from '../engine/errors';
import { isSpecPath, openNpz, readDatasetSpec } from '../model/datasets';
import { summarize } from '../shared/summary';
import { ANALYSIS_NAMES, type AnalysisName } from '../shared/analysis';
import { formatDuration } from '../shared/cost';
import type { RunRecord, TypedEnvelope } from '../shared/results';
import { makeRunRecord, parseRunFile, RunFileError } from '../shared/runs';
import { checkWritableFolder, writeFileAtomicSync } from '../engine/atomicWrite';
import { reportHtml, type ReportData } from './reportHtml';
import { BUDGET_FLAGS, checkBudget, engineForCli, progressPrinter, reportEngineError, UsageError, withInterrupt } from './run';

/** Above this many operators the report leaves the operator graph out (the file would be too large to open). */
const MAX_GRAPH_NODES = 50_000;

/**
 * The analyses a dataset supports, from its arrays: labelled inputs (x, y) → collapse, hash, redundancy,
 * lib; token prompts → attention; prompt pairs → circuit. A dataset spec (`.json`) is read for its data
 * file and the array names it gives.
 */
export async function analysesForData(data: string): Promise<AnalysisName[]> {
  let file = data;
  let input: string | undefined;
  let labels: string | undefined;
  if (isSpecPath(data)) {
    const spec = await readDatasetSpec(data);
    if (spec.format === 'jsonl') return ['attention'];
    if (spec.format !== 'npz') return ['collapse', 'hash', 'redundancy', 'lib'];
    ({ path: file, input, labels } = spec);
  } else if (!/\.npz$/i.test(data)) return ['collapse', 'hash', 'redundancy', 'lib'];
  const npz = await openNpz(file);
  const out: AnalysisName[] = [];
  const x = input ?? (npz.has('x') ? 'x' : undefined);
  if (x !== undefined && x !== 'tokens' && npz.has(x) && npz.has(labels ?? 'y')) out.push('collapse', 'hash', 'redundancy', 'lib');
  if (x === 'tokens' || (input === undefined && npz.has('tokens'))) out.push('attention');
  if (npz.has('clean') && npz.has('corrupt') && npz.has('answer') && npz.has('wrong')) out.push('circuit');
  if (!out.length) {
    throw new UsageError(
      `${file} holds ${npz.arrays.map((a) => a.name).join(', ') || 'no arrays'}: expected ${x ?? 'x'} and ${labels ?? 'y'} (labelled inputs), tokens (prompts) or clean/corrupt/answer/wrong (prompt pairs); or name the analyses with --analyses`,
    );
  }
  return out;
}

/** `--set lib.graphMass=0.8` → options per analysis (validated by the engine against the option specs). */
function parseSets(sets: string[]): Partial<Record<AnalysisName, Record<string, string>>> {
  const out: Partial<Record<AnalysisName, Record<string, string>>> = {};
  for (const s of sets) {
    const m = /^([a-z]+)\.([A-Za-z0-9]+)=(.*)$/.exec(s);
    if (!m || !(ANALYSIS_NAMES as readonly string[]).includes(m[1])) throw new UsageError(`--set expects <analysis>.<option>=<value> (e.g. lib.graphMass=0.8), found '${s}'`);
    (out[m[1] as AnalysisName] ??= {})[m[2]] = m[3];
  }
  return out;
}

function assetsDir(): string {
  // dist/cli.js → the package root; under tsx (tests) src/cli → the repo root.
  for (const root of [path.join(__dirname, '..'), path.join(__dirname, '..', '..')]) {
    if (fs.existsSync(path.join(root, 'dist', 'report.js')) && fs.existsSync(path.join(root, 'media'))) return root;
  }
  throw new Error(`the report's page (dist/report.js) is missing beside ${__dirname}: run 'npm run build' first`);
}

export async function runReport(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    options: {
      data: { type: 'string' },
      out: { type: 'string', default: 'circuitscope-report.html' },
      analyses: { type: 'string' },
      from: { type: 'string', multiple: true },
      set: { type: 'string', multiple: true },
      'batch-size': { type: 'string' },
      limit: { type: 'string' },
      title: { type: 'string' },
      ...BUDGET_FLAGS,
      threads: { type: 'string' },
    },
    allowPositionals: true,
  });
  if (positionals.length > 1) throw new UsageError(`report takes one model, found ${positionals.length}`);
  const model = positionals[0] ? path.resolve(positionals[0]) : undefined;
  const from = values.from ?? [];
  if (!model && !from.length) throw new UsageError('report needs a model (with --data) or saved runs (--from run.json…)');
  if (model && !values.data && !from.length) throw new UsageError('report needs --data <file.npz | folder | spec.json> to run analyses (or --from run.json… for saved runs)');
  const sets = parseSets(values.set ?? []);
  const int = (s: string | undefined, name: string): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isInteger(n) || n < 1) throw new UsageError(`${name} must be a positive integer, found '${s}'`);
    return n;
  };
  const batchSize = int(values['batch-size'], '--batch-size');
  const limit = int(values.limit, '--limit');

  const runs: RunRecord[] = [];
  const notes: string[] = [];
  const taken = (): Set<string> => new Set(runs.map((r) => r.id));
  for (const f of from) {
    const file = path.resolve(f);
    try {
      runs.push(makeRunRecord(parseRunFile(fs.readFileSync(file, 'utf8'), file), fs.statSync(file).mtime, taken(), { savedTo: file }));
    } catch (e) {
      if (e instanceof RunFileError) throw new UsageError(e.message);
      throw new UsageError(`--from ${file}: ${(e as Error).message}`);
    }
  }

  const out = path.resolve(values.out);
  try {
    checkWritableFolder(out);
  } catch (e) {
    return reportEngineError(e, false);
  }
  const engine = engineForCli(values);
  try {
    let names: AnalysisName[] = [];
    if (model && values.data) {
      const data = path.resolve(values.data);
      if (values.analyses) {
        names = values.analyses.split(',').map((s) => s.trim()).filter(Boolean) as AnalysisName[];
        for (const n of names) analysisRunner(n); // unknown names: a usage error listing the known ones
      } else names = await analysesForData(data);
      process.stderr.write(`report: ${names.join(', ')} on ${path.basename(model)} with ${path.basename(data)}\n`);
      // Every analysis's cost first: a report is refused whole rather than cut short by one job over budget.
      let withinBudget = true;
      for (const name of names) {
        try {
          const job = { kind: 'estimateAnalysis' as const, analysis: name, model, data, options: sets[name] ?? {}, batchSize, limit };
          if (!(await checkBudget(engine, job, values, 1, name))) withinBudget = false;
        } catch (e) {
          // An analysis that cannot estimate cannot run either: its run below says why, in the report's notes.
          if (!(e instanceof EngineError)) throw e;
          if (e.name === 'Cancelled') return 130;
        }
      }
      if (!withinBudget) return 1;
      for (const name of names) {
        const t0 = Date.now();
        try {
          const env = await withInterrupt((signal) =>
            engine.run({ kind: 'analysis', analysis: name, model, data, options: sets[name] ?? {}, batchSize, limit }, { signal, onProgress: progressPrinter(name) }),
          );
          runs.push(makeRunRecord(env as TypedEnvelope, new Date(), taken(), { data }));
          process.stderr.write(`report: ${name} done in ${formatDuration(Date.now() - t0)}\n`);
        } catch (e) {
          const code = reportEngineError(e, false);
          if (code === 130) return 130;
          notes.push(`${name} did not run: ${(e as Error).message}`);
        }
      }
    }
    let root: string;
    try {
      root = assetsDir();
    } catch (e) {
      process.stderr.write(`error [build]: ${(e as Error).message}\n`);
      return 1;
    }
    const reportModel = model ?? runs[0]?.envelope.model;
    const data: ReportData = {
      title: values.title ?? `Circuitscope report — ${reportModel ? path.basename(reportModel) : 'saved runs'}`,
      generatedAt: new Date().toISOString(),
      tool: `circuitscope ${JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).version as string}`,
      runs,
      notes,
    };
    if (reportModel && fs.existsSync(reportModel) && fs.statSync(reportModel).isFile()) {
      data.model = reportModel;
      const graph = await engine.run({ kind: 'loadGraph', model: reportModel });
      data.summary = summarize(graph);
      if (graph.nodes.length <= MAX_GRAPH_NODES) data.graph = graph;
      else notes.push(`the operator graph (${graph.nodes.length} operators) is left out of the report: above ${MAX_GRAPH_NODES}`);
    } else if (reportModel) {
      notes.push(`the model ${reportModel} is not on this machine: the report has no operator graph`);
    }
    if (!runs.length) notes.push('no analysis produced a result');
    const html = reportHtml(data, {
      script: fs.readFileSync(path.join(root, 'dist', 'report.js'), 'utf8'),
      styles: ['webview.css', 'results.css', 'circuits.css', 'report.css'].map((f) => fs.readFileSync(path.join(root, 'media', f), 'utf8')),
    });
    try {
      writeFileAtomicSync(out, html);
    } catch (e) {
      return reportEngineError(e, false);
    }
    process.stdout.write(`report: ${runs.length} run(s)${names.length ? ` (${runs.map((r) => r.envelope.analysis).join(', ')})` : ''} → ${out} (${(html.length / 2 ** 20).toFixed(1)} MB)\n`);
    for (const n of notes) process.stdout.write(`  note: ${n}\n`);
    return runs.length ? 0 : 1;
  } finally {
    engine.dispose();
  }
}


