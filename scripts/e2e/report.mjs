#!/usr/bin/env node
// The standalone HTML report (`circuitscope report`) in headless Chromium with every network request refused:
// each tab (results, circuits, model graph coloured by the results, model summary) must render from the file
// alone. Screenshots of every view, in a light and a dark page.
//
// Usage: node report.mjs --report report.html [--report other.html] --out test-output/e2e/report
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const { values: opt } = parseArgs({
  options: {
    report: { type: 'string', multiple: true },
    out: { type: 'string', default: 'test-output/e2e/report' },
    timeout: { type: 'string', default: '60000' },
  },
});
if (!opt.report?.length) {
  console.error('--report is required');
  process.exit(2);
}
const TIMEOUT = Number(opt.timeout);
fs.mkdirSync(opt.out, { recursive: true });
const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
});
const summary = [];
let ok = true;
try {
  for (const file of opt.report) {
    const stem = path.basename(file, '.html');
    const data = JSON.parse(
      fs
        .readFileSync(file, 'utf8')
        .match(/<script type="application\/json" id="circuitscope-report">([\s\S]*?)<\/script>/)[1]
        .replace(/\\u003c/g, '<')
        .replace(/\\u003e/g, '>'),
    );
    for (const theme of ['light', 'dark']) {
      const ctx = await browser.newContext({ viewport: { width: 1400, height: 900 }, acceptDownloads: true });
      const page = await ctx.newPage();
      const problems = [];
      const requests = [];
      // Offline: anything but the file itself, data: and blob: is refused (and recorded as a failure).
      await ctx.route('**/*', (route) => {
        const u = route.request().url();
        if (u.startsWith('file:') || u.startsWith('data:') || u.startsWith('blob:')) return route.continue();
        requests.push(u);
        return route.abort();
      });
      page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
      page.on('console', (m) => {
        if (m.type() === 'error' || /Refused to|Content Security Policy/i.test(m.text())) problems.push(`console: ${m.text()}`);
      });
      const row = { report: stem, theme, runs: data.runs.length, tabs: {} };
      await page.goto(`${pathToFileURL(path.resolve(file)).href}?theme=${theme}`, { timeout: TIMEOUT });
      await page.waitForFunction(() => document.body.dataset.reportState === 'ready' && document.querySelector('#results [data-run-id]'), null, { timeout: TIMEOUT });
      const tabs = await page.locator('#report-tabs button').evaluateAll((bs) => bs.map((b) => b.dataset.tab));
      for (const tab of tabs) {
        await page.locator(`#report-tabs button[data-tab="${tab}"]`).click();
        if (tab === 'results') {
          // Every run: its tables and charts.
          const ids = data.runs.map((r) => r.id);
          const single = ids.length === 1;
          row.tabs.results = [];
          for (const id of ids) {
            const shown = await page.evaluate(([i, single]) => {
              const sel = document.querySelector('#results-run-select');
              if (!sel) return single;
              sel.value = i;
              sel.dispatchEvent(new Event('change', { bubbles: true }));
              return true;
            }, [id, single]);
            await page.waitForFunction((i) => !!document.querySelector(`#results [data-run-id="${i}"]`), id, { timeout: TIMEOUT });
            const c = await page.evaluate(() => ({ charts: document.querySelectorAll('#results figure.chart[data-chart] svg').length, tables: document.querySelectorAll('#results table[data-table]').length }));
            if (!shown || c.tables < 1) throw new Error(`${stem}: run ${id} shows ${c.charts} charts and ${c.tables} tables`);
            row.tabs.results.push({ id, ...c });
            await page.screenshot({ path: path.join(opt.out, `${stem}-${theme}-results-${id.replace(/^\d+-\d+-/, '')}.png`), fullPage: true });
          }
        } else if (tab === 'circuits') {
          await page.waitForFunction(() => (window.__circuitscopeCircuits?.cy?.nodes().length ?? 0) > 0, null, { timeout: TIMEOUT });
          row.tabs.circuits = await page.evaluate(() => ({ nodes: window.__circuitscopeCircuits.cy.nodes().length, edges: window.__circuitscopeCircuits.cy.edges().length }));
          await page.screenshot({ path: path.join(opt.out, `${stem}-${theme}-circuits.png`) });
        } else if (tab === 'graph') {
          await page.waitForFunction(() => document.querySelector('#pane-graph')?.dataset.state === 'ready' && (window.__circuitscope?.overlay?.coloured ?? 0) > 0, null, { timeout: TIMEOUT });
          row.tabs.graph = await page.evaluate(() => ({ nodes: Number(document.querySelector('#cy')?.dataset.nodes), overlay: window.__circuitscope.overlay }));
          await page.screenshot({ path: path.join(opt.out, `${stem}-${theme}-graph.png`) });
        } else {
          await page.screenshot({ path: path.join(opt.out, `${stem}-${theme}-${tab}.png`) });
          row.tabs[tab] = true;
        }
      }
      if (requests.length) problems.push(`network requests (refused): ${requests.slice(0, 5).join(', ')}`);
      row.problems = problems;
      if (problems.length) ok = false;
      summary.push(row);
      await ctx.close();
    }
  }
} catch (e) {
  ok = false;
  summary.push({ failure: String(e?.stack || e) });
} finally {
  await browser.close();
}
console.log(JSON.stringify({ ok, summary }, null, 2));
fs.writeFileSync(path.join(opt.out, 'report-result.json'), JSON.stringify({ ok, summary }, null, 2));
process.exit(ok ? 0 : 1);
