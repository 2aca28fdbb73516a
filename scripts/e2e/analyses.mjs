#!/usr/bin/env node
// The analyses e2e flow in a real VS Code (code-server): every analysis is run from the command palette
// ("Circuitscope: Run Analysis…" → model → analysis → dataset → layers → options → Run) on an example
// checkpoint; the flow waits for the results panel and asserts on its tables and charts against the saved run
// file, opens the graph-shaped results in the side panel (LIB graph, attention circuit, neuron groups),
// colours the operator graph by a result, follows a click from the circuit view to the operator graph, and
// cancels a running analysis before running the next one successfully. Screenshots of every view.
//
// Usage: node analyses.mjs --url … --workspace <folder> --out test-output/e2e/dark --theme dark
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { circuitsFitChecks } from './circuitsFit.mjs';
import { openWorkbench } from './harness.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    workspace: { type: 'string' },
    out: { type: 'string', default: 'test-output/e2e' },
    theme: { type: 'string', default: 'dark' },
    timeout: { type: 'string', default: '180000' },
  },
});
if (!opt.url || !opt.workspace) {
  console.error('--url and --workspace are required');
  process.exit(2);
}
const TIMEOUT = Number(opt.timeout);
const wb = await openWorkbench({ url: opt.url, out: opt.out, theme: opt.theme, timeout: TIMEOUT, name: 'analyses' });
const { page, mark, shot, problems, webviewWhere, paletteCommand, quickInput } = wb;
const runsDir = path.join(opt.workspace, '.circuitscope', 'runs');

/** Waits for the quick input whose title matches `re`; returns its title. */
async function waitQuickTitle(re, timeout = TIMEOUT) {
  const h = await page.waitForFunction(
    (src) => {
      const w = document.querySelector('.quick-input-widget');
      if (!w || getComputedStyle(w).display === 'none') return null;
      const t = w.querySelector('.quick-input-title')?.textContent ?? '';
      return new RegExp(src).test(t) ? t : null;
    },
    re.source,
    { timeout, polling: 100 },
  );
  return h.jsonValue();
}

/** Filters the open quick pick with `text`, waits until the focused row contains `row`, accepts it. */
async function accept(text, row = text, timeout = TIMEOUT) {
  if (text) await page.keyboard.type(text);
  await page.waitForFunction((want) => (document.querySelector('.quick-input-widget .monaco-list-row.focused')?.textContent ?? '').includes(want), row, { timeout, polling: 100 });
  await page.keyboard.press('Enter');
}

/** How long one quick pick of Run Analysis may take to appear (each is a few hundred ms at most when healthy). */
const STEP_MS = 60_000;

/**
 * "Circuitscope: Run Analysis…" through every quick pick, with the defaults, once: a pick that does not come
 * within STEP_MS, or the command taking another model than `model`, fails the flow (no retries: a retry would
 * hide a real bug). Keyboard focus is settled first (see the harness's settleFocus).
 */
async function startAnalysis(analysis, model, data, pick = model) {
  const onModel = new RegExp(`Run Analysis on ${model.replace('.', '\\.')}`);
  await paletteCommand('Circuitscope: Run Analysis');
  const title = await waitQuickTitle(/Run Analysis — model|Run Analysis on /, STEP_MS);
  // With a model's graph editor active the command takes that model without asking.
  if (/— model/.test(title)) await accept(pick, pick, STEP_MS);
  else if (!onModel.test(title)) throw new Error(`Run Analysis took the model of the active editor ("${title}") instead of asking for ${model}`);
  await waitQuickTitle(onModel, STEP_MS);
  await accept(analysis, analysis, STEP_MS);
  await waitQuickTitle(new RegExp(`${analysis} — dataset`), STEP_MS);
  await accept(data, data, STEP_MS);
  const next = await waitQuickTitle(new RegExp(`${analysis} — (layers?|options)`), STEP_MS);
  if (/— layer/.test(next)) {
    // Nothing checked / "Automatic": the analysis picks its layers.
    await page.keyboard.press('Enter');
    await waitQuickTitle(new RegExp(`${analysis} — options`), STEP_MS);
  }
  await accept('', 'Run', STEP_MS);
}

/** The results panel's frame once it shows a finished run of `analysis`. */
async function resultsFor(analysis, notRun) {
  return webviewWhere(
    ([a, old]) => {
      const root = document.querySelector('#results');
      const shown = root?.querySelector(`[data-run-id][data-analysis="${a}"]`);
      return !!shown && document.body.dataset.state === 'ready' && shown.getAttribute('data-run-id') !== old;
    },
    [analysis, notRun ?? ''],
    `the results panel shows a new ${analysis} run`,
  );
}

function newestRun(analysis) {
  const files = fs.existsSync(runsDir) ? fs.readdirSync(runsDir).filter((f) => f.endsWith('.json') && f.includes(`-${analysis}-`)) : [];
  files.sort();
  const f = files.at(-1);
  return f ? { id: f.replace(/\.json$/, ''), envelope: JSON.parse(fs.readFileSync(path.join(runsDir, f), 'utf8')) } : undefined;
}

const result = { theme: opt.theme, runs: {}, cells: [] };
let ok = false;
const previous = {};

async function runAndCheck(analysis, model, data, check, minCharts = 1, pick = model) {
  const t0 = Date.now();
  await startAnalysis(analysis, model, data, pick);
  const frame = await resultsFor(analysis, previous[analysis]);
  const shownId = await frame.evaluate((a) => document.querySelector(`#results [data-run-id][data-analysis="${a}"]`).getAttribute('data-run-id'), analysis);
  previous[analysis] = shownId;
  const saved = newestRun(analysis);
  if (!saved) throw new Error(`${analysis}: no saved run file in ${runsDir}`);
  if (saved.id !== shownId) throw new Error(`${analysis}: the panel shows run ${shownId}, the newest saved file is ${saved.id}`);
  const counts = await frame.evaluate(() => ({
    charts: [...document.querySelectorAll('#results figure.chart[data-chart] svg')].length,
    chartNames: [...document.querySelectorAll('#results figure.chart[data-chart]')].map((f) => f.getAttribute('data-chart')),
    tables: [...document.querySelectorAll('#results table[data-table]')].map((t) => t.getAttribute('data-table')),
    text: document.querySelector('#results')?.textContent ?? '',
  }));
  if (counts.charts < minCharts || counts.tables.length < 1) throw new Error(`${analysis}: expected charts and tables, found ${JSON.stringify({ charts: counts.chartNames, tables: counts.tables })}`);
  await check?.(frame, saved.envelope, counts);
  result.runs[analysis] = { id: shownId, seconds: (Date.now() - t0) / 1000, charts: counts.chartNames, tables: counts.tables };
  mark(`${analysis}Done`);
  await shot(`results-${analysis}`);
  return { frame, saved };
}

/** The value at dotted `path` of a saved run's `result`. */
function at(result, path) {
  return path.split('.').reduce((o, k) => (o == null ? undefined : o[k]), result);
}

/**
 * Reads the one cell of table `table` showing result field `path` (`td[data-field]`, see the results view's
 * tables) and compares it with the saved run: its full-precision `data-value` must equal the JSON number, and its
 * text must not be empty or the null mark. Returns what was read.
 */
async function expectCell(frame, analysis, table, path, saved) {
  const want = at(saved.result, path);
  if (typeof want !== 'number') throw new Error(`${analysis}: the saved run has no number at result.${path} (found ${JSON.stringify(want)})`);
  const cells = await frame.evaluate(
    ([t, f]) => [...document.querySelectorAll(`#results table[data-table="${t}"] [data-field="${f}"]`)].map((c) => ({ value: c.getAttribute('data-value'), text: c.textContent ?? '' })),
    [table, path],
  );
  if (cells.length !== 1) throw new Error(`${analysis}: expected one cell for result.${path} in table ${table}, found ${cells.length}`);
  const [cell] = cells;
  if (cell.value === null || Number(cell.value) !== want) throw new Error(`${analysis}: the panel's ${table} cell for result.${path} holds ${cell.value}, the saved run ${want}`);
  if (!cell.text.trim() || cell.text.trim() === '—') throw new Error(`${analysis}: the panel's ${table} cell for result.${path} shows no text`);
  return { path, value: want, text: cell.text };
}

/** The side panel's frame once it draws a graph of `kind` for run `id`. */
async function circuitsFor(kind, id) {
  return webviewWhere(
    ([k, i]) => {
      const root = document.querySelector('#circuits');
      const drawn = root?.querySelector(`[data-graph-kind="${k}"]`);
      const run = root?.querySelector('[data-run-id]')?.getAttribute('data-run-id');
      const c = window.__circuitscopeCircuits;
      return !!drawn && run === i && !!c?.cy && c.cy.nodes().length > 0 && document.body.dataset.state === 'ready';
    },
    [kind, id],
    `the circuits view draws the ${kind} graph of ${id}`,
  );
}

/**
 * The side panel's graph at Fit (as drawn, the Fit button, F): its smallest label ≥ 9 px on screen, labelled nodes in
 * view (issue 17: a tall LIB graph fitted the narrow panel at 5–6 px labels).
 */
async function assertCircuitsFit(cv, what) {
  const { measures, failed } = await circuitsFitChecks(cv, `the Circuits panel's ${what}`);
  (result.circuitsFit ??= {})[what] = measures;
  if (failed.length) throw new Error(failed.join('\n'));
}

/** The model graph webview of the current editor once it is ready (confirming a large model if asked). */
async function graphFrame() {
  const f = await wb.webviewFrame(['ready', 'confirm']);
  if ((await f.evaluate(() => document.body.dataset.state)) === 'confirm') {
    await f.locator('#confirm-load').click();
    return wb.webviewFrame(['ready']);
  }
  return f;
}

try {
  await wb.goto();
  // The graph flow left editors open (code-server restores them): start from none, so no model is active.
  await paletteCommand('View: Close All Editors');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mlp.onnx' }).first().waitFor({ state: 'visible', timeout: TIMEOUT });

  // 1. Neural collapse on the MLP; then its NC1 per layer coloured onto the operator graph.
  const collapse = await runAndCheck('collapse', 'mlp.onnx', 'fmnist.npz', async (f, env) => {
    result.cells.push(await expectCell(f, 'collapse', 'metrics', 'nc1', env));
  });
  await collapse.frame.locator('[data-action="show-on-model"]').first().click();
  let g = await graphFrame();
  await g.waitForFunction(() => (window.__circuitscope?.overlay?.coloured ?? 0) > 0, null, { timeout: TIMEOUT, polling: 100 });
  result.overlay = await g.evaluate(() => ({ ...window.__circuitscope.overlay, legend: document.querySelector('#overlay-legend')?.textContent?.trim() }));
  mark('overlayShown');
  await shot('model-coloured-by-collapse');

  // 1b. Neural collapse over a checkpoint series (a folder of epochs): NC metrics over checkpoints, log axis.
  //     (From the results tab: with a model's graph editor active, Run Analysis takes that model without asking.)
  const resultsTab = page.locator('.tabs-container .tab', { hasText: 'Circuitscope Results' }).first();
  await resultsTab.click();
  await page.waitForFunction(() => [...document.querySelectorAll('.tabs-container .tab.active')].some((t) => t.textContent.includes('Circuitscope Results')), null, { timeout: TIMEOUT, polling: 100 });
  await runAndCheck('collapse', 'series', 'fmnist.npz', async (f, env) => {
    if (env.result.series?.length !== 4) throw new Error(`collapse series: expected 4 rows in the saved run, found ${env.result.series?.length}`);
    const x = await f.evaluate(() => [...document.querySelectorAll('#results figure.chart[data-chart] svg')].map((s) => s.textContent).join(' '));
    if (!/200/.test(x)) throw new Error('collapse series: the chart has no checkpoint-200 tick');
  }, 1, 'series of 4');
  result.runs['collapse-series'] = result.runs.collapse;

  // 2. Hash codes and 3. redundancy (with neuron groups in the side panel).
  await runAndCheck('hash', 'mlp.onnx', 'fmnist.npz', async (f, env, c) => {
    result.cells.push(await expectCell(f, 'hash', 'metrics', 'codeBits', env));
    if (!c.chartNames.includes('redundancy-by-sample-size')) throw new Error(`hash: no sample-size chart (sampleSizes defaults to 'auto'), found ${JSON.stringify(c.chartNames)}`);
  }); // one model: the phase chart's sample-size axis (the width axis needs a sweep or a checkpoint series)
  const red = await runAndCheck('redundancy', 'mlp.onnx', 'fmnist.npz', async (f, env) => {
    result.cells.push(await expectCell(f, 'redundancy', 'summary', 'criticalWidth', env));
  });
  await red.frame.locator('[data-action="show-circuit"]').first().click();
  const groupsView = await circuitsFor('groups', red.saved.id);
  mark('groupsDrawn');
  await shot('side-panel-neuron-groups');
  await assertCircuitsFit(groupsView, 'neuron groups');

  // 4. LIB: results, then its interaction graph in the side panel.
  const lib = await runAndCheck('lib', 'mlp.onnx', 'fmnist.npz', async (f, env) => {
    result.cells.push(await expectCell(f, 'lib', 'edges', 'edgesFor90', env));
  });
  await lib.frame.locator('[data-action="show-circuit"]').first().click();
  const libView = await circuitsFor('lib', lib.saved.id);
  result.libGraph = await libView.evaluate(() => ({ nodes: window.__circuitscopeCircuits.cy.nodes().length, edges: window.__circuitscopeCircuits.cy.edges().length }));
  mark('libGraphDrawn');
  await shot('side-panel-lib');
  await assertCircuitsFit(libView, 'LIB graph');

  // 5. Cancel a running analysis (LIB again), then 6. run attention successfully.
  await startAnalysis('lib', 'mlp.onnx', 'fmnist.npz');
  // The run's own notification (not the cost estimate's, which comes first and also has a Cancel).
  const toast = page.locator('.notifications-toasts .notification-toast', { hasText: 'lib on mlp.onnx' }).filter({ hasNotText: 'estimating' }).first();
  await toast.waitFor({ state: 'visible', timeout: TIMEOUT });
  await toast.hover();
  await toast.locator('.monaco-button', { hasText: 'Cancel' }).first().click();
  await webviewWhere(() => /cancel/i.test(document.querySelector('#results-error')?.textContent ?? ''), null, 'the results panel reports the cancelled run');
  mark('cancelled');
  await shot('cancelled');
  result.cancelled = true;

  await runAndCheck('attention', 'transformer.onnx', 'induction.npz', async (f, env) => {
    const heat = await f.locator('#results figure.chart[data-chart] svg').count();
    if (!heat) throw new Error('attention: no heatmap');
    if (env.result.heads.length !== 8) throw new Error(`attention: expected 8 heads in the saved run, found ${env.result.heads.length}`);
  });

  // 7. Circuit discovery: results, the circuit in the side panel, click-through to the operator graph.
  const circuit = await runAndCheck('circuit', 'transformer.onnx', 'induction.npz', async (f, env) => {
    result.cells.push(await expectCell(f, 'circuit', 'summary', 'circuit.faithfulness', env));
  });
  await circuit.frame.locator('[data-action="show-circuit"]').first().click();
  const cv = await circuitsFor('circuit', circuit.saved.id);
  result.circuitGraph = await cv.evaluate(() => ({ nodes: window.__circuitscopeCircuits.cy.nodes().length, edges: window.__circuitscopeCircuits.cy.edges().length }));
  await shot('side-panel-circuit');
  await assertCircuitsFit(cv, 'circuit');
  const head = circuit.saved.envelope.result.circuit.heads[0];
  // The head's layer from its id (a<layer>.h<head>), checked against the run's node; the export names each
  // block's attention Softmax /blocks.<layer>/attn/Softmax (examples/make_examples.py).
  const headLayer = Number(/^a(\d+)\.h\d+$/.exec(head)?.[1]);
  const headNode = circuit.saved.envelope.result.nodes.find((n) => n.id === head);
  if (!Number.isInteger(headLayer) || headNode?.layer !== headLayer) throw new Error(`circuit: head ${head} is not a<layer>.h<head> of layer ${headNode?.layer}`);
  const expected = `n:/blocks.${headLayer}/attn/Softmax`;
  const pos = await cv.evaluate((id) => {
    const cy = window.__circuitscopeCircuits.cy;
    const n = cy.getElementById(id);
    if (n.empty()) throw new Error(`no node ${id} in the circuit view`);
    let bb = n.renderedBoundingBox();
    // Fit shows the circuit's entry region at a readable zoom: a head beyond it is brought into view as a user
    // would, by panning (the same translation a drag makes).
    if (bb.x1 < 0 || bb.y1 < 0 || bb.x2 > cy.width() || bb.y2 > cy.height()) {
      cy.panBy({ x: cy.width() / 2 - (bb.x1 + bb.x2) / 2, y: cy.height() / 2 - (bb.y1 + bb.y2) / 2 });
      bb = n.renderedBoundingBox();
    }
    const box = cy.container().getBoundingClientRect();
    return { x: box.left + (bb.x1 + bb.x2) / 2, y: box.top + (bb.y1 + bb.y2) / 2 };
  }, head);
  await cv.locator('body').click({ position: pos });
  g = await wb.webviewWhere(
    (want) => !!document.querySelector('#cy') && document.body.dataset.state === 'ready' && window.__circuitscope?.cy?.$('node:selected').length === 1 && window.__circuitscope.cy.$('node:selected').id() === want,
    expected,
    `the operator graph selects ${expected} (the Softmax of clicked head ${head})`,
  );
  result.revealed = await g.evaluate(() => {
    const n = window.__circuitscope.cy.$('node:selected');
    return { selected: n.id(), label: n.data('label'), status: document.querySelector('#graph-status')?.textContent };
  });
  if (!/^Softmax/.test(result.revealed.label ?? '')) throw new Error(`circuit: the selected node ${result.revealed.selected} is labelled ${JSON.stringify(result.revealed.label)}, not a Softmax`);
  if (!(result.revealed.status ?? '').includes(head)) throw new Error(`circuit: the graph's status line does not name the clicked head ${head}: ${result.revealed.status}`);
  mark('revealed');
  await shot('reveal-from-circuit');

  if (problems.length) throw new Error(`webview problems:\n${problems.join('\n')}`);
  ok = true;
} catch (e) {
  await wb.finish(false, result, e);
}
await wb.finish(ok, result);
