/**
 * `npm run bench:graph`: time to first interactive render of generated ONNX graphs (1k, 5k, 10k, 20k
 * operators) in headless Chromium, with the real webview bundle fed the IR through a mocked
 * `acquireVsCodeApi` (graphHarness.ts); plus the extension host's event-loop delay while the same models
 * load through the engine worker (graphHostLag.ts).
 *
 * Options: --sizes 1000,5000,10000,20000  --runs 3  --out test-output/bench  --renderer auto|canvas|webgl
 *          --netron DIR  (a Netron web build served from DIR — opened on the same files in the same run for
 *          a side-by-side ratio; nothing of Netron is part of this repository)
 *          --no-lag (skip the host event-loop section)
 *          --baseline DIR (a checkout of another commit with its dist/ built: its webview runs on the same
 *          graphs in the same run, interleaved with ours, and the table gives ours / baseline ratios)
 *          --competing N (N CPU-bound jobs run beside the benchmark; the targets' limits double from 2)
 *          --layout-only (only the layout section: ours vs dagre and elkjs in Node, graphLayout.ts)
 *          --no-layout (skip it)  --layout-timeout 240 (seconds per engine and graph)
 *
 * "Interactive" for Circuitscope: the webview's own mark after the first frame is drawn with the layout
 * applied and input handlers attached (body[data-state=ready]). For Netron: its graph page is shown
 * (body.default) with the SVG nodes in place, plus one animation frame. Circuitscope parses in the engine
 * worker, Netron in the page: the table gives Circuitscope's parse time separately and an end-to-end sum.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { chromium, type Browser, type CDPSession } from 'playwright-core';
import { loadModel } from '../../src/model/load';
import { encodeGraphWire, encodeGraphWireV1 } from '../../src/shared/graphWire';
import { startHarness } from './graphHarness';
import { hostLag, lagTable, type LagRow } from './graphHostLag';
import { layoutComparison, layoutTable, type LayoutRow } from './graphLayout';
import { benchGraph, syntheticOnnx } from './graphModels';
import { targetsTable } from './graphTargets';

const repo = path.join(__dirname, '..', '..');
const { values: opt } = parseArgs({
  options: {
    sizes: { type: 'string', default: '1000,5000,10000,20000' },
    runs: { type: 'string', default: '3' },
    out: { type: 'string', default: path.join(repo, 'test-output', 'bench') },
    renderer: { type: 'string', default: 'auto' },
    netron: { type: 'string' },
    'netron-timeout': { type: 'string', default: '600' },
    'no-lag': { type: 'boolean', default: false },
    'layout-only': { type: 'boolean', default: false },
    'no-layout': { type: 'boolean', default: false },
    'layout-timeout': { type: 'string', default: '240' },
    scoped: { type: 'boolean', default: true },
    'no-scoped': { type: 'boolean', default: false },
    competing: { type: 'string', default: '0' },
    baseline: { type: 'string' },
  },
});

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor(s.length / 2)] : NaN;
};

interface OurRun {
  interactiveMs: number;
  completeMs: number;
  layoutMs: number;
  renderer: string;
  layoutMode: string;
  nodes: number;
  edges: number;
  /** Mean interval of 10 animation frames that each pan the view (the display's 60 Hz makes 16.7 the floor). */
  panFrameMs: number;
  panDuringMs: number;
  /** Main-thread work per pan frame while loading: CDP's TaskDuration over the same 10 frames, divided by 10. */
  panDuringBusyMs: number;
  /** JS heap of the page once everything is drawn, after a forced GC (CDP Runtime.getHeapUsage), MB. */
  heapMb: number;
}

/**
 * Mean interval of 10 animation frames that each pan the view. Headless Chromium paces animation frames at
 * 60 Hz whatever the work (an empty frame measures 16.6–16.9 ms here), so this says whether frames keep the
 * display's rate; the work each frame costs is measured beside it (panBusy).
 */
const PAN_FRAME = `(async () => {
  const cy = window.__circuitscope.cy;
  const t0 = performance.now();
  for (let i = 0; i < 10; i++) { cy.panBy({ x: 7, y: 5 }); await new Promise((r) => requestAnimationFrame(() => r(0))); }
  return (performance.now() - t0) / 10;
})()`;

/** The page's main-thread task time so far (CDP Performance metric TaskDuration), seconds. */
async function taskSeconds(cdp: CDPSession): Promise<number> {
  const { metrics } = (await cdp.send('Performance.getMetrics')) as { metrics: { name: string; value: number }[] };
  return metrics.find((m) => m.name === 'TaskDuration')?.value ?? NaN;
}

async function runOurs(browser: Browser, base: string, name: string, renderer: string, dist = '/dist'): Promise<OurRun> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  const cdp = await page.context().newCDPSession(page);
  try {
    const q = renderer === 'auto' ? '' : `&renderer=${renderer}`;
    await page.goto(`${base}/harness.html?graph=${encodeURIComponent(name)}${q}&dist=${dist}${dist === '/dist' ? '&gzip=1' : ''}`);
    await page.waitForFunction(`['ready', 'error'].includes(document.body.dataset.state)`, undefined, { timeout: 600_000, polling: 50 });
    // While the rest mounts progressively: how long a pan frame takes (responsiveness during loading).
    await cdp.send('Performance.enable');
    const busy0 = await taskSeconds(cdp);
    const during = (await page.evaluate(PAN_FRAME)) as number;
    const duringBusy = ((await taskSeconds(cdp)) - busy0) * 100;
    await page.waitForFunction(`document.querySelector('#cy')?.getAttribute('data-complete') !== 'false'`, undefined, { timeout: 600_000, polling: 50 });
    const after = (await page.evaluate(PAN_FRAME)) as number;
    // Evaluated as strings: tsx would otherwise inject helpers the page does not have.
    const r = (await page.evaluate(`(() => {
      const c = window.__circuitscope, b = window.__bench, m = c.metrics;
      if (document.body.dataset.state !== 'ready') throw new Error('webview error: ' + document.body.innerText.slice(0, 300));
      return { interactiveMs: m.interactive - b.t0, completeMs: (m.complete ?? m.interactive) - b.t0, layoutMs: m.layoutMs, renderer: m.renderer,
               layoutMode: c.layoutMode, nodes: m.nodes, edges: m.edges };
    })()`)) as Omit<OurRun, 'panFrameMs' | 'panDuringMs' | 'panDuringBusyMs' | 'heapMb'>;
    await cdp.send('HeapProfiler.collectGarbage');
    const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number };
    return { ...r, panFrameMs: after, panDuringMs: during, panDuringBusyMs: duringBusy, heapMb: heap.usedSize / 2 ** 20 };
  } finally {
    await page.close();
  }
}

/** Netron replaces window.eval with a thrower, which Playwright's evaluate needs: keep the original. */
const KEEP_EVAL = `(() => { const ev = window.eval; Object.defineProperty(window, 'eval', { get: () => ev, set: () => {}, configurable: true }); })()`;

async function runNetron(browser: Browser, base: string, file: string, timeoutS: number): Promise<number | undefined> {
  // Netron's CSP forbids eval, which Playwright's string predicates need.
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 }, bypassCSP: true });
  await page.addInitScript(KEEP_EVAL);
  // Netron asks for cookie consent before opening anything.
  await page.context().addCookies([{ name: 'consent', value: String(Date.now()), url: base }]);
  try {
    await page.goto(`${base}/netron/index.html?url=${encodeURIComponent(`${base}/models/${file}`)}`);
    const ok = await page
      .waitForFunction(
        `document.body.classList.contains('default') && document.querySelectorAll('#canvas .node').length > 0`,
        undefined,
        { timeout: timeoutS * 1000, polling: 100 },
      )
      .then(
        () => true,
        () => false,
      );
    if (!ok) return undefined;
    return (await page.evaluate('new Promise((r) => requestAnimationFrame(() => r(performance.now())))')) as number;
  } finally {
    await page.close();
  }
}

async function netronBoot(browser: Browser, base: string): Promise<number> {
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 }, bypassCSP: true });
  await page.addInitScript(KEEP_EVAL);
  await page.context().addCookies([{ name: 'consent', value: String(Date.now()), url: base }]);
  try {
    await page.goto(`${base}/netron/index.html`);
    await page.waitForFunction(`document.body.classList.contains('welcome')`, undefined, { timeout: 60_000 });
    return (await page.evaluate('performance.now()')) as number;
  } finally {
    await page.close();
  }
}

/** Layout time alone, ours against dagre and elkjs on the same graphs (graphLayout.ts). */
async function layoutSection(sizes: number[], runs: number): Promise<LayoutRow[]> {
  console.log('\n## Layout alone, in Node: Circuitscope vs dagre and elkjs (graphLayout.ts)\n');
  const rows = await layoutComparison(sizes, runs, Number(opt['layout-timeout']));
  console.log(`\n${layoutTable(rows, runs)}`);
  return rows;
}

async function main(): Promise<void> {
  if (opt['layout-only']) {
    fs.mkdirSync(opt.out, { recursive: true });
    const rows = await layoutSection(opt.sizes.split(',').map(Number), Number(opt.runs));
    fs.writeFileSync(path.join(opt.out, 'graph-layout-bench.json'), JSON.stringify({ rows }, null, 2));
    return;
  }
  if (!fs.existsSync(path.join(repo, 'dist', 'webview.js'))) throw new Error('dist/webview.js is missing: run npm run build first');
  const sizes = opt.sizes.split(',').map(Number);
  const runs = Number(opt.runs);
  const modelDir = path.join(opt.out, 'models');
  const graphDir = path.join(opt.out, 'graphs');
  fs.mkdirSync(modelDir, { recursive: true });
  fs.mkdirSync(graphDir, { recursive: true });

  // A baseline checkout that has graphWireV1.ts decodes version 2 itself: it gets the same file as ours (like
  // for like); an older one gets version 1, the only wire it reads.
  const baseReadsV2 = !!opt.baseline && fs.existsSync(path.join(path.resolve(opt.baseline), 'src', 'shared', 'graphWireV1.ts'));
  const baseSuffix = baseReadsV2 ? '' : '.v1';
  const cases: { name: string; file: string; parseMs: number; nodes: number; bytes: number }[] = [];
  for (const n of sizes) {
    for (const scoped of opt['no-scoped'] ? [false] : [false, true]) {
      const name = `synthetic-${n}${scoped ? '-scoped' : ''}`;
      const file = path.join(modelDir, `${name}.onnx`);
      fs.writeFileSync(file, syntheticOnnx(n, scoped));
      const t0 = performance.now();
      const m = await loadModel(file);
      const parseMs = performance.now() - t0;
      // What the engine sends the page (graphWire.ts); version 1 for a --baseline build that predates version 2.
      const g = benchGraph(m.graph, scoped);
      fs.writeFileSync(path.join(graphDir, `${name}.json`), encodeGraphWire(g));
      if (opt.baseline && !baseReadsV2) fs.writeFileSync(path.join(graphDir, `${name}.v1.json`), encodeGraphWireV1(g));
      cases.push({ name, file, parseMs, nodes: m.graph.nodes.length, bytes: fs.statSync(file).size });
    }
  }

  // Competing jobs: CPU-bound processes beside the benchmark, stopped when it ends.
  const competing = Number(opt.competing);
  const jobs: ChildProcess[] = [];
  for (let i = 0; i < competing; i++) jobs.push(spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' }));
  process.on('exit', () => jobs.forEach((j) => j.kill()));
  const statics: Record<string, string> = { '/models/': modelDir };
  if (opt.netron) statics['/netron/'] = path.resolve(opt.netron);
  if (opt.baseline) {
    const baseDist = path.join(path.resolve(opt.baseline), 'dist');
    if (!fs.existsSync(path.join(baseDist, 'webview.js'))) throw new Error(`--baseline: expected ${baseDist}/webview.js (build that checkout first), found none`);
    statics['/base/dist/'] = baseDist;
  }
  const server = await startHarness(graphDir, statics);
  const browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'],
  });
  const version = browser.version();
  const rows: Record<string, unknown>[] = [];
  let boot = NaN;
  if (opt.netron) boot = median([await netronBoot(browser, server.url), await netronBoot(browser, server.url)]);
  for (const c of cases) {
    const ours: OurRun[] = [];
    const based: OurRun[] = [];
    for (let r = 0; r < runs; r++) {
      ours.push(await runOurs(browser, server.url, c.name, opt.renderer));
      if (opt.baseline) based.push(await runOurs(browser, server.url, `${c.name}${baseSuffix}`, opt.renderer, '/base/dist'));
    }
    const best = ours[0];
    const interactive = median(ours.map((o) => o.interactiveMs));
    const row: Record<string, unknown> = {
      model: c.name,
      operators: c.nodes,
      drawnNodes: best.nodes,
      drawnEdges: best.edges,
      renderer: best.renderer,
      layoutMode: best.layoutMode,
      parseMs: Math.round(c.parseMs),
      layoutMs: Math.round(median(ours.map((o) => o.layoutMs))),
      interactiveMs: Math.round(interactive),
      completeMs: Math.round(median(ours.map((o) => o.completeMs))),
      endToEndMs: Math.round(c.parseMs + interactive),
      panDuringMs: Math.round(median(ours.map((o) => o.panDuringMs)) * 10) / 10,
      panDuringBusyMs: Math.round(median(ours.map((o) => o.panDuringBusyMs)) * 10) / 10,
      panFrameMs: Math.round(median(ours.map((o) => o.panFrameMs)) * 10) / 10,
      heapMb: Math.round(median(ours.map((o) => o.heapMb))),
    };
    if (based.length) {
      const ratio = (f: (o: OurRun) => number): number => Math.round((median(ours.map(f)) / median(based.map(f))) * 100) / 100;
      row.baseline = {
        interactiveMs: Math.round(median(based.map((o) => o.interactiveMs))),
        completeMs: Math.round(median(based.map((o) => o.completeMs))),
        panDuringMs: Math.round(median(based.map((o) => o.panDuringMs))),
        heapMb: Math.round(median(based.map((o) => o.heapMb))),
      };
      row.vsBaseline = { interactive: ratio((o) => o.interactiveMs), complete: ratio((o) => o.completeMs), panDuring: ratio((o) => o.panDuringMs), heap: ratio((o) => o.heapMb) };
    }
    if (opt.netron && !c.name.endsWith('-scoped')) {
      const nets: number[] = [];
      let timedOut = false;
      for (let r = 0; r < Math.min(runs, c.nodes > 5000 ? 1 : runs); r++) {
        const ms = await runNetron(browser, server.url, path.basename(c.file), Number(opt['netron-timeout']));
        if (ms === undefined) {
          timedOut = true;
          break;
        }
        nets.push(ms);
      }
      row.netronMs = timedOut ? `> ${opt['netron-timeout']} s` : Math.round(median(nets));
      row.netronModelMs = timedOut ? undefined : Math.round(median(nets) - boot);
      if (!timedOut) row.ratio = Math.round((median(nets) - boot) / (c.parseMs + interactive) * 10) / 10;
    }
    rows.push(row);
    console.log(JSON.stringify(row));
  }
  await browser.close();
  await server.close();

  console.log(`\n## Time to first interactive render (Chromium ${version}, headless, --disable-gpu; median of ${runs})\n`);
  console.log(
    '| model | operators | drawn nodes / edges | renderer | parse (worker) ms | layout ms | IR → interactive ms | everything drawn ms | end-to-end ms | pan frame ms: interval while loading (work) / after | JS heap MB |' +
      (opt.netron ? ' Netron ms (minus app boot) | Netron / ours |' : ''),
  );
  console.log('|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|' + (opt.netron ? '---:|---:|' : ''));
  for (const r of rows) {
    const net = opt.netron ? ` ${r.netronMs === undefined ? '—' : typeof r.netronMs === 'string' ? r.netronMs : `${r.netronMs} (${r.netronModelMs})`} | ${r.ratio ?? '—'} |` : '';
    console.log(
      `| ${r.model} | ${r.operators} | ${r.drawnNodes} / ${r.drawnEdges} | ${r.renderer} (${r.layoutMode}) | ${r.parseMs} | ${r.layoutMs} | ${r.interactiveMs} | ${r.completeMs} | ${r.endToEndMs} | ${r.panDuringMs} (${r.panDuringBusyMs}) / ${r.panFrameMs} | ${r.heapMb} |${net}`,
    );
  }
  if (opt.baseline) {
    console.log(`\n## Against the baseline build in ${opt.baseline} (same graphs, runs interleaved; ours / baseline)\n`);
    console.log('| model | IR → interactive ms (base → ours, ratio) | everything drawn ms | pan frame while loading ms | JS heap MB |');
    console.log('|---|---|---|---|---|');
    for (const r of rows) {
      const b = r.baseline as Record<string, number> | undefined;
      const v = r.vsBaseline as Record<string, number> | undefined;
      if (!b || !v) continue;
      console.log(
        `| ${r.model} | ${b.interactiveMs} → ${r.interactiveMs} (${v.interactive}) | ${b.completeMs} → ${r.completeMs} (${v.complete}) | ${b.panDuringMs} → ${r.panDuringMs} (${v.panDuring}) | ${b.heapMb} → ${r.heapMb} (${v.heap}) |`,
      );
    }
  }
  if (opt.netron) console.log(`\nNetron app boot (welcome page): ${Math.round(boot)} ms; Netron parses in the page, so its time is compared with Circuitscope's end-to-end (parse + render).`);

  let lag: LagRow[] = [];
  if (!opt['no-lag']) {
    const big = cases.filter((c) => !c.name.endsWith('-scoped')).slice(-1).map((c) => c.file);
    const ocr = path.join(repo, 'node_modules', '@gutenye', 'ocr-models', 'assets', 'ch_PP-OCRv4_rec_infer.onnx');
    const lagRows = await hostLag([...big, ...(fs.existsSync(ocr) ? [ocr] : [])]);
    console.log('\n## Extension-host event loop while a model loads (monitorEventLoopDelay, 5 ms resolution)\n');
    console.log(lagTable(lagRows));
    lag = lagRows;
  }
  const big = rows.filter((r) => !String(r.model).endsWith('-scoped')).slice(-1)[0];
  if (big) {
    const file = cases.find((c) => c.name === big.model)!.file;
    const engineRow = (lag as LagRow[]).find((l) => l.model === path.basename(file) && l.mode.startsWith('engine process'));
    console.log(`\n${targetsTable(
      {
        operators: Number(big.operators),
        loadMs: engineRow?.ms ?? Number(big.parseMs),
        interactiveMs: Number(big.interactiveMs),
        completeMs: Number(big.completeMs),
        panDuringMs: Number(big.panDuringMs),
        panDuringBusyMs: Number(big.panDuringBusyMs),
        heapMb: Number(big.heapMb),
        hostLagMaxMs: engineRow?.lagMax,
      },
      competing,
    )}`);
    console.log(`\nLoad: ${engineRow ? 'the engine process (parse + JSON bytes, as the editor loads)' : 'loadModel in this process (--no-lag: the engine process was not measured)'}; the issue's targets are for 100,000 operators on a quiet machine.`);
  }
  const layouts = opt['no-layout'] ? [] : await layoutSection(sizes, runs);
  fs.writeFileSync(path.join(opt.out, 'graph-bench.json'), JSON.stringify({ chromium: version, rows, lag, layouts }, null, 2));
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    console.error(e);
    process.exit(1);
  },
);
