#!/usr/bin/env node
// The e2e flow in a real VS Code (code-server) driven by playwright-core in Debian's headless Chromium.
// Every wait is on the DOM or the webview's own state (body[data-state], #cy[data-*]), never a bare sleep.
//
//  1. right-click transformer.onnx → "Inspect Model" → the graph renders (collapsed blocks)
//  2. click the block blocks.0 → it expands
//  3. click an operator inside → the inspector shows its shapes and a weight heatmap read by the engine
//  4. arrow key → the selection moves; search "Softmax" + Enter → the node is revealed and inspected
//  5. right-click corrupt.onnx → "Inspect Model" → the loader's typed error shows
//  6. click mlp.onnx → it opens in the graph editor by default; being above circuitscope.largeModelBytes it
//     asks first → "Load anyway" → the graph
//  7. right-click tfjs/model.json → "Inspect Model" → the TF.js graph renders
//
// Usage: node flow.mjs --url http://127.0.0.1:PORT/?folder=… --out test-output/e2e/dark --theme dark
// Exit 0 on success; on failure a failure screenshot is written to --out.
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openWorkbench } from './harness.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    out: { type: 'string', default: 'test-output/e2e' },
    theme: { type: 'string', default: 'dark' },
    timeout: { type: 'string', default: '90000' },
  },
});
if (!opt.url) {
  console.error('--url is required');
  process.exit(2);
}
const TIMEOUT = Number(opt.timeout);
const wb = await openWorkbench({ url: opt.url, out: opt.out, theme: opt.theme, timeout: TIMEOUT, name: 'graph' });
const { page, mark, problems, webviewFrame, contextCommand } = wb;
const shot = (_page, label) => wb.shot(label);

/** Screen position (relative to #cy) of a graph element; pans it into view first. */
async function elementPoint(frame, id, where = 'center') {
  return frame.evaluate(
    ([id, where]) => {
      const cy = window.__circuitscope.cy;
      const e = cy.getElementById(id);
      if (e.empty()) throw new Error(`no element ${id}`);
      const ext = cy.extent();
      const bb0 = e.boundingBox();
      if (bb0.x1 < ext.x1 || bb0.x2 > ext.x2 || bb0.y1 < ext.y1 || bb0.y1 + 20 > ext.y2) cy.center(e);
      const bb = e.renderedBoundingBox({ includeLabels: false });
      return { x: (bb.x1 + bb.x2) / 2, y: where === 'top' ? bb.y1 + 8 : (bb.y1 + bb.y2) / 2 };
    },
    [id, where],
  );
}

async function waitGraph(frame, predicate, arg) {
  await frame.waitForFunction(predicate, arg, { timeout: TIMEOUT, polling: 100 });
}

let ok = false;
const result = { theme: opt.theme };
try {
  await wb.goto();

  // 1. Inspect Model on a real checkpoint.
  await contextCommand('transformer.onnx', 'Inspect Model', 'transformer.onnx');
  mark('inspectCommand');
  let wv = await webviewFrame(['ready']);
  await waitGraph(wv, () => Number(document.querySelector('#cy')?.dataset.nodes) > 3);
  const first = await wv.evaluate(() => {
    const c = window.__circuitscope;
    return { nodes: c.cy.nodes().length, groups: c.cy.nodes('.group').map((n) => n.id()), renderer: c.metrics.renderer, layout: c.layoutMode, title: document.querySelector('#inspector-title')?.textContent };
  });
  result.firstView = first;
  if (!first.groups.includes('g:blocks.0')) throw new Error(`expected the collapsed block g:blocks.0, found ${JSON.stringify(first.groups)}`);
  if (first.layout !== 'worker') throw new Error(`layout did not run in the Web Worker (mode ${first.layout}): CSP worker-src?`);
  mark('graphRendered');
  await shot(page, 'graph');

  // 2. Expand a block by clicking it on the canvas.
  let p = await elementPoint(wv, 'g:blocks.0');
  await wv.locator('#cy').click({ position: p });
  await waitGraph(wv, () => document.body.dataset.state === 'ready' && (document.querySelector('#cy')?.dataset.expanded ?? '').split('|').includes('blocks.0'));
  const isParent = await wv.evaluate(() => window.__circuitscope.cy.getElementById('g:blocks.0').isParent());
  if (!isParent) throw new Error('blocks.0 did not open into a box');
  await wv.locator('#inspector-toggle').waitFor({ state: 'visible', timeout: TIMEOUT });
  mark('groupExpanded');
  await shot(page, 'expanded');

  // 3. Click an operator inside the block: the inspector shows shapes and a weight heatmap.
  const target = await wv.evaluate(() => {
    const kids = window.__circuitscope.cy.getElementById('g:blocks.0').children('.op');
    const ln = kids.filter((n) => n.data('label') === 'LayerNormalization');
    return (ln.nonempty() ? ln : kids).first().id();
  });
  p = await elementPoint(wv, target);
  await wv.locator('#cy').click({ position: p });
  await wv.locator('#inspector-title[data-op]').waitFor({ state: 'visible', timeout: TIMEOUT });
  const shapes = wv.locator('#inspector-inputs td.shape');
  await shapes.first().waitFor({ state: 'visible', timeout: TIMEOUT });
  const shapeTexts = await shapes.allTextContents();
  result.inspected = { node: target, op: await wv.locator('#inspector-title').textContent(), shapes: shapeTexts };
  if (!shapeTexts.some((s) => /\[[^\]]*\d/.test(s))) throw new Error(`inspector shows no concrete input shape: ${JSON.stringify(shapeTexts)}`);
  await wv.locator('#inspector canvas.heatmap').first().waitFor({ state: 'visible', timeout: TIMEOUT });
  await wv.locator('#inspector canvas.histogram').first().waitFor({ state: 'visible', timeout: TIMEOUT });
  mark('inspectorShapes');
  await shot(page, 'inspector');

  // 4. Keyboard navigation and search.
  await wv.locator('#cy').focus();
  const before = await wv.evaluate(() => window.__circuitscope.cy.$('node:selected').id());
  await page.keyboard.press('ArrowDown');
  await waitGraph(wv, (b) => window.__circuitscope.cy.$('node:selected').id() !== b, before);
  result.keyboardMovedTo = await wv.evaluate(() => window.__circuitscope.cy.$('node:selected').id());
  await page.keyboard.press('/');
  await page.keyboard.type('Softmax');
  await wv.locator('#search-results .hit').first().waitFor({ state: 'visible', timeout: TIMEOUT });
  await page.keyboard.press('Enter');
  await waitGraph(wv, () => document.body.dataset.state === 'ready' && document.querySelector('#inspector-title')?.textContent === 'Softmax');
  result.searchRevealed = await wv.evaluate(() => window.__circuitscope.cy.$('node:selected').id());
  mark('searchRevealed');
  await shot(page, 'search');

  // 5. A corrupt file: the loader's typed error, not a blank panel.
  await contextCommand('corrupt.onnx', 'Inspect Model', 'corrupt.onnx');
  wv = await webviewFrame(['error']);
  const err = (await wv.locator('#load-error').textContent()) ?? '';
  result.error = err.replace(/\s+/g, ' ').trim();
  if (!/\[truncated\]|\[corrupt\]/.test(err) || !/corrupt\.onnx/.test(err)) throw new Error(`unexpected error panel: ${result.error}`);
  mark('errorShown');
  await shot(page, 'error');

  // 6. The graph editor is the default editor for *.onnx; mlp.onnx is above circuitscope.largeModelBytes
  //    (set by run.sh), so it asks before loading.
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mlp.onnx' }).first().click();
  await page.locator('.tabs-container .tab.active', { hasText: 'mlp.onnx' }).waitFor({ state: 'visible', timeout: TIMEOUT });
  wv = await webviewFrame(['confirm']);
  result.confirm = ((await wv.locator('#confirm-large').textContent()) ?? '').replace(/\s+/g, ' ').trim();
  await shot(page, 'confirm-large');
  await wv.locator('#confirm-load').click();
  wv = await webviewFrame(['ready']);
  result.mlpNodes = Number(await wv.evaluate(() => document.querySelector('#cy')?.dataset.nodes));
  if (!(result.mlpNodes >= 6)) throw new Error(`mlp.onnx drew ${result.mlpNodes} nodes`);
  mark('defaultEditor');
  await shot(page, 'mlp-default-editor');

  // 7. A TF.js model.json through the explorer context menu.
  // One click on the folder, then its file must be listed (nothing was written into the workspace before: no explorer
  // refresh can undo the click — see expandFolder in export.mjs).
  const folder = page.locator('.explorer-folders-view .monaco-list-row[aria-level="1"]', { hasText: /^\s*tfjs\s*$/ }).first();
  await folder.waitFor({ state: 'visible', timeout: TIMEOUT });
  if ((await folder.getAttribute('aria-expanded')) !== 'true') await folder.click();
  const listed = await page.locator('.explorer-folders-view .monaco-list-row[aria-level="2"]', { hasText: /^\s*model\.json\s*$/ }).first().waitFor({ state: 'visible', timeout: 15_000 }).then(() => true, () => false);
  if (!listed) throw new Error(`the explorer does not list tfjs/model.json 15 s after one click on tfjs (aria-expanded=${await folder.getAttribute('aria-expanded')})`);
  await contextCommand('model.json', 'Inspect Model', 'model.json');
  wv = await webviewFrame(['ready']);
  result.tfjs = await wv.evaluate(() => ({ nodes: Number(document.querySelector('#cy')?.dataset.nodes), format: document.querySelector('#inspector .kv td')?.textContent }));
  // Every TF.js model may be model.json: its tab names the folder (the extension's customLabels pattern).
  result.tfjsTab = (await page.locator('.tabs-container .tab.active').first().innerText()).trim();
  if (!result.tfjsTab.includes('tfjs/model.json')) throw new Error(`the TF.js tab reads "${result.tfjsTab}", not tfjs/model.json`);
  if (!(result.tfjs.nodes >= 4) || !/tfjs/.test(result.tfjs.format ?? '')) throw new Error(`model.json view: ${JSON.stringify(result.tfjs)}`);
  mark('tfjs');
  await shot(page, 'tfjs');

  if (problems.length) throw new Error(`webview problems:\n${problems.join('\n')}`);
  ok = true;
} catch (e) {
  await wb.finish(false, result, e);
}
await wb.finish(ok, result);
