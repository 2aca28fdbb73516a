#!/usr/bin/env node
// The engine-process e2e flow in a real VS Code (code-server): the engine runs in its own process, so whatever
// a job does to its address space or however it dies, the extension host stays whole.
//
//  1. Run Analysis on the PaddleOCR recognizer (ch_PP-OCRv4_rec_infer.onnx, collapse on a small image batch)
//     from the palette: it finishes or fails with a typed one-line error. (Before, the engine shared the
//     extension host's address space: after this job every spawn from the host failed with ENOMEM.)
//  2. The extension host can still spawn processes: VS Code's text search (ripgrep, spawned by the extension
//     host in a remote window) finds a file, and the engine log shows the engine process's pid.
//  3. kill -9 of the idle engine process (its pid from the extension's log) → a notification says the engine
//     stopped while idle → collapse on the MLP runs (a fresh engine process, a new pid in the log).
//  4. kill -9 of the engine process during a LIB run → the run's error notification and the results panel name
//     the job and the signal → collapse on the MLP runs again, in another fresh engine process.
//
// Usage: node engine.mjs --url … --workspace <folder> --logs <code-server user-data>/logs --out <dir>
import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { openWorkbench } from './harness.mjs';

const { values: opt } = parseArgs({
  options: {
    url: { type: 'string' },
    workspace: { type: 'string' },
    logs: { type: 'string' },
    out: { type: 'string', default: 'test-output/e2e/engine' },
    theme: { type: 'string', default: 'dark' },
    timeout: { type: 'string', default: '240000' },
  },
});
if (!opt.url || !opt.workspace || !opt.logs) {
  console.error('--url, --workspace and --logs are required');
  process.exit(2);
}
const TIMEOUT = Number(opt.timeout);
const wb = await openWorkbench({ url: opt.url, out: opt.out, theme: opt.theme, timeout: TIMEOUT, name: 'engine' });
const { page, mark, shot, problems, webviewWhere, paletteCommand } = wb;
const OCR = 'ch_PP-OCRv4_rec_infer.onnx';

/** The newest Circuitscope log of this code-server (one per extension host). */
function logText() {
  const found = [];
  const walk = (d) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'Circuitscope.log') found.push({ p, m: fs.statSync(p).mtimeMs });
    }
  };
  if (fs.existsSync(opt.logs)) walk(opt.logs);
  found.sort((a, b) => b.m - a.m);
  return found.length ? fs.readFileSync(found[0].p, 'utf8') : '';
}

/** Pids of every engine process the log says was started, in order. */
const startedPids = () => [...logText().matchAll(/engine process started \(pid (\d+)/g)].map((m) => Number(m[1]));

async function until(what, fn, timeout = TIMEOUT) {
  const deadline = Date.now() + timeout;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${what}`);
    await page.waitForTimeout(200);
  }
}

const alive = (pid) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** Waits for the quick input whose title matches `re`. */
async function waitQuickTitle(re) {
  await page.waitForFunction(
    (src) => {
      const w = document.querySelector('.quick-input-widget');
      if (!w || getComputedStyle(w).display === 'none') return false;
      return new RegExp(src).test(w.querySelector('.quick-input-title')?.textContent ?? '');
    },
    re.source,
    { timeout: TIMEOUT, polling: 100 },
  );
}

async function accept(text, row = text) {
  if (text) await page.keyboard.type(text);
  await page.waitForFunction((want) => (document.querySelector('.quick-input-widget .monaco-list-row.focused')?.textContent ?? '').includes(want), row, { timeout: TIMEOUT, polling: 100 });
  await page.keyboard.press('Enter');
}

/** "Circuitscope: Run Analysis…" with the defaults (once: a pick that does not come fails the flow). */
async function startAnalysis(analysis, model, data) {
  await paletteCommand('Circuitscope: Run Analysis');
  await waitQuickTitle(/Run Analysis — model/);
  await accept(model);
  await waitQuickTitle(new RegExp(`Run Analysis on ${model.replace(/\./g, '\\.')}`));
  await accept(analysis);
  await waitQuickTitle(new RegExp(`${analysis} — dataset`));
  await accept(data);
  await waitQuickTitle(new RegExp(`${analysis} — (layers?|options)`));
  if (await page.locator('.quick-input-title', { hasText: /— layer/ }).isVisible()) {
    await page.keyboard.press('Enter');
    await waitQuickTitle(new RegExp(`${analysis} — options`));
  }
  await accept('', 'Run');
}

const toast = (text) => page.locator('.notifications-toasts .notification-toast', { hasText: text }).first();
/** The message of the visible notification containing `text` ('' when none). */
const toastText = async (text) => {
  const t = toast(text);
  if (!(await t.isVisible().catch(() => false))) return '';
  return (await t.locator('.notification-list-item-message').first().innerText().catch(() => '')) || '';
};

/** A finished run of `analysis` shown by the results panel that was not shown before. */
async function resultsFor(analysis, notRun = '') {
  const f = await webviewWhere(
    ([a, old]) => {
      const shown = document.querySelector(`#results [data-run-id][data-analysis="${a}"]`);
      return !!shown && document.body.dataset.state === 'ready' && shown.getAttribute('data-run-id') !== old;
    },
    [analysis, notRun],
    `the results panel shows a new ${analysis} run`,
  );
  return f.evaluate((a) => document.querySelector(`#results [data-run-id][data-analysis="${a}"]`).getAttribute('data-run-id'), analysis);
}

const result = { theme: opt.theme };
let ok = false;
try {
  await wb.goto();
  await paletteCommand('View: Close All Editors');
  await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'mlp.onnx' }).first().waitFor({ state: 'visible', timeout: TIMEOUT });

  // 1. An analysis on the PaddleOCR recognizer: it finishes (results panel) or fails with a typed one-line error.
  await startAnalysis('collapse', OCR, 'ocr.npz');
  const runs = path.join(opt.workspace, '.circuitscope', 'runs');
  const outcome = await until('the recognizer run to finish or fail', async () => {
    const failed = await toastText(`collapse on ${OCR} failed`);
    if (failed) return { failed: failed.trim() };
    const saved = fs.existsSync(runs) ? fs.readdirSync(runs).filter((f) => f.includes('-collapse-ch_PP-OCRv4')) : [];
    return saved.length ? { finished: saved[0] } : undefined;
  });
  result.ocr = outcome;
  if (outcome.failed && /undefined|\[object Object\]|\n\s+at /.test(outcome.failed)) throw new Error(`the recognizer's error is not a clean one-line message: ${outcome.failed}`);
  mark('ocrAnalysisDone');
  await shot('ocr-analysis');
  const pidsAfterOcr = startedPids();
  if (!pidsAfterOcr.length) throw new Error('the Circuitscope log names no engine process (expected "engine process started (pid N, …)")');
  const enginePid = pidsAfterOcr.at(-1);
  if (!alive(enginePid)) throw new Error(`the engine process ${enginePid} is not running after the recognizer job`);
  result.enginePid = enginePid;
  // Recorded for the report: the engine's parent is the extension host; their address-space peaks, apart.
  const status = (pid) => (fs.existsSync(`/proc/${pid}/status`) ? fs.readFileSync(`/proc/${pid}/status`, 'utf8') : '');
  const field = (text, k) => new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(text)?.[1];
  const hostPid = Number(/^PPid:\s+(\d+)/m.exec(status(enginePid))?.[1] ?? 0);
  const gb = (kb) => (kb === undefined ? undefined : +(Number(kb) / 2 ** 20).toFixed(2));
  result.addressSpace = { extensionHost: { pid: hostPid, vmPeakGB: gb(field(status(hostPid), 'VmPeak')) }, engine: { pid: enginePid, vmPeakGB: gb(field(status(enginePid), 'VmPeak')) } };

  // 2. The extension host still spawns processes: text search runs ripgrep from the extension host.
  await paletteCommand('Search: Find in Files');
  const searchBox = page.locator('.search-view .search-widget textarea, .search-view .search-widget input').first();
  await searchBox.waitFor({ state: 'visible', timeout: TIMEOUT });
  await searchBox.fill('weightsManifest');
  await page.keyboard.press('Enter');
  await page.locator('.search-view .monaco-list-row', { hasText: 'model.json' }).first().waitFor({ state: 'visible', timeout: TIMEOUT });
  const searchMessage = (await page.locator('.search-view .messages').textContent().catch(() => '')) ?? '';
  if (/ENOMEM|spawn/i.test(searchMessage)) throw new Error(`search reported: ${searchMessage}`);
  result.searchAfterOcr = 'found weightsManifest in tfjs/model.json';
  mark('searchWorks');
  await shot('search-after-ocr');
  await page.keyboard.press('Escape');

  // 3. kill -9 of the idle engine: reported; the next analysis runs in a fresh engine process.
  process.kill(enginePid, 'SIGKILL');
  const idle = await until('the notification that the engine stopped while idle', () => toastText('while idle'));
  if (!new RegExp(`pid ${enginePid}.*killed by SIGKILL`).test(idle)) throw new Error(`the idle-crash notification does not name the pid and signal: ${idle}`);
  result.idleCrashNotice = idle.trim();
  mark('idleKillReported');
  await shot('engine-killed-while-idle');
  await startAnalysis('collapse', 'mlp.onnx', 'fmnist.npz');
  const run1 = await resultsFor('collapse');
  const pid2 = await until('a new engine process in the log', () => startedPids().find((p) => !pidsAfterOcr.includes(p)));
  result.afterIdleKill = { run: run1, enginePid: pid2 };
  mark('analysisAfterIdleKill');
  await shot('analysis-after-idle-kill');

  // 4. kill -9 during a LIB run: the run's error names the job and the signal; the next analysis runs.
  await startAnalysis('lib', 'mlp.onnx', 'fmnist.npz');
  await toast('lib on mlp.onnx').filter({ hasNotText: 'estimating' }).waitFor({ state: 'visible', timeout: TIMEOUT });
  const pidNow = startedPids().at(-1);
  process.kill(pidNow, 'SIGKILL');
  const failed = await until('the LIB run to report the killed engine', () => toastText('lib on mlp.onnx failed'));
  if (!/killed by SIGKILL while running analysis 'lib' on mlp\.onnx/.test(failed)) throw new Error(`the LIB failure does not name the signal and the job: ${failed}`);
  const panelError = await (
    await webviewWhere(() => /SIGKILL/.test(document.querySelector('#results-error')?.textContent ?? ''), null, 'the results panel reports the killed run')
  ).evaluate(() => document.querySelector('#results-error').textContent.trim());
  result.duringRunCrash = { notification: failed.trim(), panel: panelError, pid: pidNow };
  mark('runKillReported');
  await shot('engine-killed-during-lib');
  const before = startedPids();
  await startAnalysis('collapse', 'mlp.onnx', 'fmnist.npz');
  const run2 = await resultsFor('collapse', run1);
  const pid3 = await until('another engine process in the log', () => startedPids().find((p) => !before.includes(p)));
  result.afterRunKill = { run: run2, enginePid: pid3 };
  mark('analysisAfterRunKill');
  await shot('analysis-after-run-kill');

  // VS Code logs error notifications to the console, where the harness counts them as problems: the two this flow
  // provokes (the recognizer's typed error, the killed LIB run) are what it asserts on; anything else fails it.
  const provoked = [`console: Circuitscope: collapse on ${OCR} failed: ${outcome.failed?.replace(/^Circuitscope: collapse on \S+ failed: /, '') ?? ''}`, `console: Circuitscope: ${result.duringRunCrash.notification.replace(/^Circuitscope: /, '')}`];
  const unexpected = problems.filter((p) => !provoked.includes(p));
  result.provokedErrors = problems.length - unexpected.length;
  if (unexpected.length) throw new Error(`webview problems:\n${unexpected.join('\n')}`);
  ok = true;
} catch (e) {
  await wb.finish(false, result, e);
}
await wb.finish(ok, result);
