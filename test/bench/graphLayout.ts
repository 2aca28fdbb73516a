/**
 * Layout time alone, in Node, for the graphs of `npm run bench:graph`: Circuitscope's layered layout
 * (src/webview/layout.ts) against dagre (@dagrejs/dagre) and ELK's layered algorithm (elkjs), on the same
 * layout problems — the visible graph of the synthetic ONNX models (flat: every operator drawn; scoped: every
 * group expanded, so the compounds are nested boxes), sized by the webview's own request builder
 * (src/webview/layoutRequest.ts, labels measured at 7 px a character instead of a canvas).
 *
 * Every (engine, graph) runs in its own child process with a wall-clock limit; an engine that runs past it at
 * one size is not tried at the larger ones. dagre and elkjs are not dependencies (this bench is what decided
 * against them): `npm install --no-save @dagrejs/dagre elkjs` before running it to compare again. Only the layout call is timed (building each library's input is
 * not). Options are the closest equivalents of ours: top to bottom, rank gap 30, node gap 18, edge gap 8;
 * ELK with `hierarchyHandling: INCLUDE_CHILDREN` (one layered problem across compound borders, as ours lifts
 * edges) and dagre with `compound: true`.
 *
 *     node --import tsx test/bench/graphLayout.ts [--sizes 1000,5000,10000,20000] [--runs 3] [--timeout 180]
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { loadModel } from '../../src/model/load';
import { DEFAULT_LAYOUT_OPTIONS, layoutGraph, type LayoutRequest } from '../../src/webview/layout';
import { buildLayoutRequest } from '../../src/webview/layoutRequest';
import { buildIndex, visibleGraph } from '../../src/webview/viewModel';
import { benchGraph, syntheticOnnx } from './graphModels';

export const LAYOUT_ENGINES = ['circuitscope', 'dagre', 'elkjs'] as const;
export type LayoutEngine = (typeof LAYOUT_ENGINES)[number];

export interface LayoutRow {
  graph: string;
  nodes: number;
  compounds: number;
  edges: number;
  /** Median ms per engine, or `> N s` when the run passed the limit, or `not run` after a smaller size did. */
  ms: Record<LayoutEngine, number | string>;
  /** Runs behind each median. */
  runs: Record<LayoutEngine, number>;
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

/** The layout problem the webview would send its layout worker for a synthetic model. */
async function layoutProblem(size: number, scoped: boolean): Promise<LayoutRequest> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'layout-bench-'));
  try {
    const file = path.join(dir, 'm.onnx');
    fs.writeFileSync(file, syntheticOnnx(size, scoped));
    const m = await loadModel(file);
    const index = buildIndex(benchGraph(m.graph, scoped));
    const v = visibleGraph(index, new Set(index.groups.keys()));
    return buildLayoutRequest(v, 'sans-serif', (text) => text.length * 7).req;
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const itemId = (i: number): string => `n${i}`;

/** The npm package of each third-party engine (not dependencies: install them with --no-save to compare). */
const PACKAGE: Partial<Record<LayoutEngine, string>> = { dagre: '@dagrejs/dagre', elkjs: 'elkjs' };

function installed(engine: LayoutEngine): boolean {
  const id = PACKAGE[engine];
  if (!id) return true;
  try {
    require.resolve(id);
    return true;
  } catch {
    return false;
  }
}

/** The slice of dagre's API used here (the package is optional, so its types are not imported). */
interface DagreGraph {
  setGraph(o: Record<string, unknown>): void;
  setDefaultEdgeLabel(f: () => object): void;
  setNode(id: string, o: object): void;
  setParent(child: string, parent: string): void;
  setEdge(v: string, w: string, label: object, name: string): void;
}
interface Dagre {
  graphlib: { Graph: new (o: { compound: boolean; multigraph: boolean }) => DagreGraph };
  layout(g: DagreGraph): void;
}

async function timeDagre(req: LayoutRequest): Promise<number> {
  const id = PACKAGE.dagre!;
  const mod = (await import(id)) as { default?: Dagre } & Dagre;
  const dagre = mod.default ?? mod;
  const g = new dagre.graphlib.Graph({ compound: true, multigraph: true });
  const o = DEFAULT_LAYOUT_OPTIONS;
  g.setGraph({ rankdir: 'TB', ranksep: o.rankSep, nodesep: o.nodeSep, edgesep: o.edgeSep });
  g.setDefaultEdgeLabel(() => ({}));
  for (let i = 0; i < req.n; i++) g.setNode(itemId(i), req.isCompound[i] ? {} : { width: req.width[i], height: req.height[i] });
  for (let i = 0; i < req.n; i++) if (req.parent[i] >= 0) g.setParent(itemId(i), itemId(req.parent[i]));
  for (let e = 0; e < req.edgeSource.length; e++) g.setEdge(itemId(req.edgeSource[e]), itemId(req.edgeTarget[e]), {}, `e${e}`);
  const t0 = performance.now();
  dagre.layout(g);
  return performance.now() - t0;
}

interface ElkNode {
  id: string;
  width?: number;
  height?: number;
  children?: ElkNode[];
  edges?: { id: string; sources: string[]; targets: string[] }[];
  layoutOptions?: Record<string, string>;
}

async function timeElk(req: LayoutRequest): Promise<number> {
  const id = `${PACKAGE.elkjs!}/lib/elk.bundled.js`;
  const mod = (await import(id)) as { default: new () => { layout(g: ElkNode): Promise<unknown> } };
  const ELK = mod.default;
  const o = DEFAULT_LAYOUT_OPTIONS;
  const root: ElkNode = {
    id: 'root',
    layoutOptions: {
      'elk.algorithm': 'layered',
      'elk.direction': 'DOWN',
      'elk.hierarchyHandling': 'INCLUDE_CHILDREN',
      'elk.spacing.nodeNode': String(o.nodeSep),
      'elk.layered.spacing.nodeNodeBetweenLayers': String(o.rankSep),
      'elk.spacing.edgeEdge': String(o.edgeSep),
      'elk.padding': `[top=${o.padding + o.labelHeight},left=${o.padding},bottom=${o.padding},right=${o.padding}]`,
    },
    children: [],
    edges: [],
  };
  const nodes: ElkNode[] = [];
  for (let i = 0; i < req.n; i++) nodes.push(req.isCompound[i] ? { id: itemId(i), children: [] } : { id: itemId(i), width: req.width[i], height: req.height[i] });
  for (let i = 0; i < req.n; i++) (req.parent[i] >= 0 ? nodes[req.parent[i]] : root).children!.push(nodes[i]);
  for (let e = 0; e < req.edgeSource.length; e++) root.edges!.push({ id: `e${e}`, sources: [itemId(req.edgeSource[e])], targets: [itemId(req.edgeTarget[e])] });
  const elk = new ELK();
  const t0 = performance.now();
  await elk.layout(root);
  return performance.now() - t0;
}

async function timeOnce(engine: LayoutEngine, req: LayoutRequest): Promise<number> {
  if (engine === 'dagre') return timeDagre(req);
  if (engine === 'elkjs') return timeElk(req);
  const t0 = performance.now();
  layoutGraph(req);
  return performance.now() - t0;
}

/**
 * Child side: one engine on one graph, `runs` times, or fewer once the runs so far took a third of the limit
 * (so that a slow engine still finishes one run); prints {"ms": [...]} as its last line.
 */
async function child(engine: LayoutEngine, size: number, scoped: boolean, runs: number, budgetMs: number): Promise<void> {
  const req = await layoutProblem(size, scoped);
  const ms: number[] = [];
  for (let r = 0; r < runs && ms.reduce((a, b) => a + b, 0) < budgetMs / 3; r++) ms.push(await timeOnce(engine, req));
  console.log(JSON.stringify({ ms }));
}

/** Parent side: the table over sizes × {flat, scoped} × engines. */
export async function layoutComparison(sizes: number[], runs: number, timeoutS: number, log: (line: string) => void = console.log): Promise<LayoutRow[]> {
  const rows: LayoutRow[] = [];
  for (const scoped of [false, true]) {
    const gaveUp = new Set<LayoutEngine>();
    for (const size of sizes) {
      const req = await layoutProblem(size, scoped);
      let compounds = 0;
      for (let i = 0; i < req.n; i++) compounds += req.isCompound[i];
      const row: LayoutRow = { graph: `synthetic-${size}${scoped ? '-scoped (all expanded)' : ''}`, nodes: req.n - compounds, compounds, edges: req.edgeSource.length, ms: {} as LayoutRow['ms'], runs: { circuitscope: 0, dagre: 0, elkjs: 0 } };
      for (const engine of LAYOUT_ENGINES) {
        if (!installed(engine)) {
          row.ms[engine] = `not installed (npm install --no-save ${PACKAGE[engine]})`;
          continue;
        }
        if (gaveUp.has(engine)) {
          row.ms[engine] = 'not run';
          continue;
        }
        // dagre recurses per node: the default V8 stack (~1 MB) overflows at 5k nodes, so every child gets 7 MB
        // (under the usual 8 MB thread limit).
        const r = spawnSync(process.execPath, ['--stack-size=7000', '--import', 'tsx', __filename, '--engine', engine, '--size', String(size), '--scoped', scoped ? '1' : '0', '--runs', String(runs), '--timeout', String(timeoutS)], {
          encoding: 'utf8',
          timeout: timeoutS * 1000,
          maxBuffer: 1 << 24,
        });
        if (r.error || r.status !== 0) {
          const timedOut = (r.error as NodeJS.ErrnoException | undefined)?.code === 'ETIMEDOUT' || r.signal === 'SIGTERM';
          row.ms[engine] = timedOut ? `> ${timeoutS} s` : `failed: ${(r.stderr || String(r.error) || `signal ${r.signal}`).trim().split('\n').at(-1)}`;
          gaveUp.add(engine);
          continue;
        }
        const last = r.stdout.trim().split('\n').at(-1)!;
        const ms = (JSON.parse(last) as { ms: number[] }).ms;
        row.ms[engine] = Math.round(median(ms));
        row.runs[engine] = ms.length;
      }
      rows.push(row);
      log(JSON.stringify(row));
    }
  }
  return rows;
}

export function layoutTable(rows: LayoutRow[], runs: number): string {
  const cell = (v: number | string, ours: number | string): string => (typeof v === 'number' && typeof ours === 'number' ? `${v} (${(v / ours).toFixed(1)}×)` : String(v));
  const out = [
    `layout ms, median of up to ${runs} runs (fewer where the runs took a third of the limit; × = ratio to Circuitscope's in the same run)`,
    '',
    '| graph | nodes | compounds | edges | Circuitscope | dagre | elkjs |',
    '|---|---:|---:|---:|---:|---:|---:|',
  ];
  const runsOf = (r: LayoutRow, e: LayoutEngine): string => (r.runs[e] && r.runs[e] !== runs ? ` [${r.runs[e]} run${r.runs[e] > 1 ? 's' : ''}]` : '');
  for (const r of rows) {
    out.push(`| ${r.graph} | ${r.nodes} | ${r.compounds} | ${r.edges} | ${r.ms.circuitscope}${runsOf(r, 'circuitscope')} | ${cell(r.ms.dagre, r.ms.circuitscope)}${runsOf(r, 'dagre')} | ${cell(r.ms.elkjs, r.ms.circuitscope)}${runsOf(r, 'elkjs')} |`);
  }
  return out.join('\n');
}

if (require.main === module) {
  const { values: opt } = parseArgs({
    options: {
      engine: { type: 'string' },
      size: { type: 'string' },
      scoped: { type: 'string', default: '0' },
      sizes: { type: 'string', default: '1000,5000,10000,20000' },
      runs: { type: 'string', default: '3' },
      timeout: { type: 'string', default: '180' },
    },
  });
  const runs = Number(opt.runs);
  const main = opt.engine
    ? child(opt.engine as LayoutEngine, Number(opt.size), opt.scoped === '1', runs, Number(opt.timeout) * 1000)
    : layoutComparison(opt.sizes.split(',').map(Number), runs, Number(opt.timeout)).then((rows) => console.log(`\n${layoutTable(rows, runs)}`));
  main.then(
    () => process.exit(0),
    (e: unknown) => {
      console.error(e instanceof Error ? e.message : String(e));
      process.exit(1);
    },
  );
}
