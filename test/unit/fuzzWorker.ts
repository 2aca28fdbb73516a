/**
 * Runs fuzz cases for fuzz.test.ts in a child process (so a hang, a crash or a memory blow-up is caught by the
 * parent, which watches this process's RSS and kills it). Each case is written into a fresh folder and opened
 * with the loader of its kind; the outcome is one message: it loaded and satisfies the loader's invariants
 * (`ok`), it was refused with a typed error (`typed`), or anything else (`bad`: an untyped error, a typed error
 * whose message is not one clean line, or a loaded result that breaks an invariant — a hostile input
 * accepted).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readPromptPairs } from '../../src/engine/analyses/circuit';
import { JobInputError } from '../../src/engine/errors';
import { type Dataset, DatasetError, openDataset, readDatasetSpec } from '../../src/model/datasets';
import { shapeSize } from '../../src/model/datasets/ndarray';
import { ModelLoadError } from '../../src/model/errors';
import { topologicalOrder } from '../../src/model/graphOrder';
import { loadModel } from '../../src/model/load';
import { validateGraph } from '../../src/model/validate';
import type { FuzzKind } from './fuzzSeeds';

export interface FuzzCase {
  id: number;
  kind: FuzzKind;
  /** Files to write into a fresh folder: relative path → bytes. */
  files: Record<string, Uint8Array>;
  /** Which of them to open. */
  open: string;
  what: string;
}

export type FuzzReport =
  | { id: number; kind: 'start' }
  | { id: number; kind: 'ok'; ms: number; maxRssKb: number }
  | { id: number; kind: 'typed'; code: string; ms: number; maxRssKb: number }
  | { id: number; kind: 'bad'; error: string; ms: number; maxRssKb: number };

class Broken extends Error {}

const check = (ok: boolean, what: string): void => {
  if (!ok) throw new Broken(what);
};

const isDims = (s: unknown): boolean => Array.isArray(s) && s.every((d) => Number.isSafeInteger(d) && d >= 0);

async function checkModel(file: string, kind: FuzzKind): Promise<void> {
  const m = await loadModel(file);
  const problems = validateGraph(m.graph);
  check(problems.length === 0, `loaded an invalid IR: ${problems[0]}`);
  if (kind === 'onnx' || kind === 'tfjs-layers') check(topologicalOrder(m.graph).stuck.length === 0, 'loaded a cyclic graph');
  for (const t of Object.values(m.graph.tensors)) {
    check(isDims(t.shape) && Number.isSafeInteger(t.elements) && t.elements === shapeSize(t.shape), `tensor '${t.name}' has shape [${t.shape}] but ${t.elements} elements`);
  }
  for (const name of Object.keys(m.graph.tensors).slice(0, 8)) {
    const t = await m.readTensor(name);
    check(t.data.length === t.info.elements, `tensor '${name}' read ${t.data.length} values, its shape holds ${t.info.elements}`);
  }
}

/** The dataset invariants: a positive count, integer shapes, batches of exactly count × sample values, integer labels, finite floats. */
async function checkDataset(ds: Dataset, kind: FuzzKind, allowNonFinite: boolean): Promise<void> {
  const { count, sampleShape, dtype } = ds.inputs;
  check(Number.isSafeInteger(count) && count > 0, `loaded ${count} samples`);
  check(isDims(sampleShape), `loaded a sample shape [${sampleShape}]`);
  const n = Math.min(count, 4);
  const b = await ds.read(0, n);
  check(b.count === n && b.x.length === n * shapeSize(sampleShape), `a batch of ${n} holds ${b.x.length} values for sample shape [${sampleShape}]`);
  check(b.shape.join() === [n, ...sampleShape].join(), `a batch has shape [${b.shape}], expected [${[n, ...sampleShape]}]`);
  if ((dtype === 'float32' || dtype === 'float64') && !allowNonFinite) {
    for (const v of b.x as Float32Array) check(Number.isFinite(v), 'a float batch holds NaN or ±Inf');
  }
  if (kind === 'tokens') check(dtype === 'int64' || dtype === 'int32', `token data loaded as ${dtype}`);
  if (ds.labels) {
    const per = shapeSize(ds.labelShape ?? []);
    check(ds.labels.length === count * per, `${ds.labels.length} labels for ${count} samples`);
  }
  if (ds.test) await checkDataset(ds.test, kind, allowNonFinite);
}

async function openCase(file: string, c: FuzzCase): Promise<void> {
  switch (c.kind) {
    case 'onnx':
    case 'tfjs-layers':
    case 'tfjs-graph':
      return checkModel(file, c.kind);
    case 'spec': {
      const spec = await readDatasetSpec(file);
      return checkDataset(await openDataset(spec, { specFile: file }), c.kind, spec.allowNonFinite === true);
    }
    case 'pairs': {
      const p = await readPromptPairs(file);
      check(p.count > 0 && p.clean.length === p.count * p.seqLen && p.corrupt.length === p.clean.length, 'prompt pairs of inconsistent sizes');
      check(p.answer.length === p.count && p.wrong.length === p.count, 'answer/wrong lengths differ from the pair count');
      // float pairs (images) may hold any finite value; token ids and class ids are never negative
      for (const a of p.float ? [p.answer, p.wrong] : [p.clean, p.corrupt, p.answer, p.wrong]) for (const v of a) check(v >= 0, 'a negative token id was accepted');
      if (p.float) for (const a of [p.clean, p.corrupt]) for (const v of a) check(Number.isFinite(v), 'a non-finite input value was accepted');
      return;
    }
    default:
      return checkDataset(await openDataset(file), c.kind, false);
  }
}

/** A typed error's message must be one line naming a file, without `undefined`, `[object Object]` or a stack. */
function messageProblem(e: Error & { file?: string }): string | undefined {
  const m = e.message;
  if (/\n/.test(m)) return 'a multi-line message';
  if (/\bundefined\b|\[object Object\]|\bat .*:\d+:\d+\)?$/.test(m.slice((e.file ?? '').length))) return 'undefined, [object Object] or a stack in the message';
  if (!e.file) return 'no file named';
  return undefined;
}

async function runCase(c: FuzzCase, dir: string): Promise<FuzzReport> {
  const caseDir = path.join(dir, `case-${c.id}`);
  fs.mkdirSync(caseDir, { recursive: true });
  for (const [rel, bytes] of Object.entries(c.files)) {
    fs.mkdirSync(path.dirname(path.join(caseDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(caseDir, rel), bytes);
  }
  const t0 = performance.now();
  const done = (r: { kind: 'ok' } | { kind: 'typed'; code: string } | { kind: 'bad'; error: string }): FuzzReport =>
    ({ id: c.id, ...r, ms: performance.now() - t0, maxRssKb: process.resourceUsage().maxRSS }) as FuzzReport;
  try {
    await openCase(path.join(caseDir, c.open), c);
    return done({ kind: 'ok' });
  } catch (e) {
    if (e instanceof Broken) return done({ kind: 'bad', error: `hostile input accepted: ${e.message}` });
    if (e instanceof ModelLoadError || e instanceof DatasetError || (c.kind === 'pairs' && e instanceof JobInputError)) {
      const problem = messageProblem(e);
      return problem ? done({ kind: 'bad', error: `typed error with ${problem}: ${e.message}` }) : done({ kind: 'typed', code: `${e.name}:${(e as { code?: string }).code ?? '-'}` });
    }
    return done({ kind: 'bad', error: `untyped error: ${e instanceof Error ? `${e.name}: ${e.message}\n${e.stack ?? ''}` : String(e)}` });
  } finally {
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
}

if (process.send) {
  const dir = process.env.FUZZ_DIR as string;
  process.on('message', (c: FuzzCase) => {
    process.send!({ id: c.id, kind: 'start' } satisfies FuzzReport);
    void runCase(c, dir).then((r) => process.send!(r));
  });
  process.send({ id: -1, kind: 'start' } satisfies FuzzReport);
}
