/**
 * Runs fuzz cases for fuzz.test.ts inside a worker (so a hang or a memory blow-up is caught by the parent,
 * which terminates this worker). Reports one message per case.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parentPort, workerData } from 'node:worker_threads';
import { ModelLoadError } from '../../src/model/errors';
import { loadModel } from '../../src/model/load';
import { validateGraph } from '../../src/model/validate';

export interface FuzzCase {
  id: number;
  /** Files to write into a fresh folder: relative path → bytes. */
  files: Record<string, Uint8Array>;
  /** Which of them to load. */
  open: string;
  what: string;
}

export type FuzzReport =
  | { id: number; kind: 'start' }
  | { id: number; kind: 'ok'; nodes: number; ms: number }
  | { id: number; kind: 'typed'; code: string; ms: number }
  | { id: number; kind: 'bad'; error: string; ms: number };

const { dir } = workerData as { dir: string };

async function runCase(c: FuzzCase): Promise<FuzzReport> {
  const caseDir = path.join(dir, `case-${c.id}`);
  fs.mkdirSync(caseDir, { recursive: true });
  for (const [rel, bytes] of Object.entries(c.files)) {
    fs.mkdirSync(path.dirname(path.join(caseDir, rel)), { recursive: true });
    fs.writeFileSync(path.join(caseDir, rel), bytes);
  }
  const t0 = performance.now();
  try {
    const m = await loadModel(path.join(caseDir, c.open));
    const problems = validateGraph(m.graph);
    if (problems.length) return { id: c.id, kind: 'bad', error: `loaded an invalid IR: ${problems[0]}`, ms: performance.now() - t0 };
    for (const name of Object.keys(m.graph.tensors).slice(0, 8)) await m.readTensor(name);
    return { id: c.id, kind: 'ok', nodes: m.graph.nodes.length, ms: performance.now() - t0 };
  } catch (e) {
    const ms = performance.now() - t0;
    if (e instanceof ModelLoadError) return { id: c.id, kind: 'typed', code: e.code, ms };
    return { id: c.id, kind: 'bad', error: e instanceof Error ? (e.stack ?? e.message) : String(e), ms };
  } finally {
    fs.rmSync(caseDir, { recursive: true, force: true });
  }
}

parentPort!.on('message', (c: FuzzCase) => {
  parentPort!.postMessage({ id: c.id, kind: 'start' } satisfies FuzzReport);
  void runCase(c).then((r) => parentPort!.postMessage(r));
});
