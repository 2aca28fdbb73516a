// What the e2e flows share: a fresh headless Chromium on code-server, screenshots, timing marks, webview
// frames found by their own state, explorer context commands and the command palette, and the problems
// (page errors, CSP violations from our webviews) that fail a run.
import fs from 'node:fs';
import path from 'node:path';
import { chromium } from 'playwright-core';

export async function openWorkbench({ url, out, theme, timeout, name }) {
  const TIMEOUT = timeout;
  fs.mkdirSync(out, { recursive: true });
  const t = { start: Date.now() };
  const tag = `[e2e ${name} ${theme}]`;
  const mark = (k) => {
    t[k] = Date.now() - t.start;
    console.log(`${tag} +${t[k]}ms ${k}`);
  };
  let shotNo = 0;
  const tmpRoot = process.env.TMPDIR || '/tmp';
  const profile = fs.mkdtempSync(path.join(tmpRoot, 'e2e-chromium-'));
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    env: { ...process.env, HOME: profile, XDG_CONFIG_HOME: path.join(profile, '.config'), XDG_CACHE_HOME: path.join(profile, '.cache') },
    viewport: { width: 1500, height: 900 },
    acceptDownloads: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const problems = [];
  page.on('pageerror', (e) => problems.push(`pageerror: ${e}`));
  page.on('console', (m) => {
    const text = m.text();
    // Content-Security-Policy violations or errors from our webviews fail the run.
    if (/Refused to|Content Security Policy/i.test(text) && /webview|vscode-resource|blob:|circuitscope/i.test(text + m.location()?.url)) problems.push(`csp: ${text}`);
    if (m.type() === 'error' && /circuitscope|webview\.js|results\.js|circuits\.js/i.test(`${text} ${m.location()?.url ?? ''}`)) problems.push(`console: ${text}`);
  });

  const shot = async (label) => {
    const file = path.join(out, `${String(++shotNo).padStart(2, '0')}-${label}.png`);
    await page.screenshot({ path: file });
    console.log(`${tag} screenshot ${file}`);
    return file;
  };

  /**
   * The inner frame of a visible webview (outer iframe.webview → inner iframe#active-frame) for which
   * `test(arg)`, evaluated inside it, is true.
   */
  async function webviewWhere(test, arg, what) {
    const deadline = Date.now() + TIMEOUT;
    while (Date.now() < deadline) {
      for (const outer of await page.locator('iframe.webview.ready').all()) {
        // Retained hidden webviews stay in the DOM with their size: only visible ones count.
        if (!(await outer.isVisible().catch(() => false))) continue;
        const box = await outer.boundingBox().catch(() => null);
        if (!box || box.width < 50 || box.height < 50) continue;
        const of = await (await outer.elementHandle())?.contentFrame();
        const innerEl = of && (await of.$('iframe#active-frame'));
        const inner = innerEl && (await innerEl.contentFrame());
        if (!inner) continue;
        const yes = await inner.evaluate(test, arg).catch(() => false);
        if (yes) return inner;
      }
      await page.waitForTimeout(150);
    }
    throw new Error(`no visible webview where ${what} within ${TIMEOUT} ms`);
  }

  /** The graph editor webview in one of `states` (body[data-state]). */
  const webviewFrame = (states) =>
    webviewWhere((s) => !!document.querySelector('#cy') && s.includes(document.body?.dataset.state), states, `the graph is ${states.join('|')}`);

  /** Right-click a file in the explorer and run a context-menu command, retrying the known flakiness. */
  async function contextCommand(fileLabel, command, tabLabel) {
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: fileLabel }).first();
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    const item = page.locator('.context-view .monaco-menu .action-item', { hasText: command }).first();
    const menu = page.locator('.context-view .monaco-menu').first();
    const tab = page.locator('.tabs-container .tab.active', { hasText: tabLabel });
    for (let attempt = 1; ; attempt++) {
      if (attempt > 15) throw new Error(`could not run "${command}" on ${fileLabel} from the explorer context menu`);
      await row.click({ button: 'right' });
      await menu.waitFor({ state: 'visible', timeout: 5000 }).catch(() => {});
      // The first menu after load often lacks the extension's entries (contributions not registered yet).
      const shown = await item.waitFor({ state: 'visible', timeout: 1500 }).then(() => true, () => false);
      if (shown) {
        await item.hover();
        await item.click();
        if (!tabLabel) return attempt;
        const opened = await tab.first().waitFor({ state: 'visible', timeout: 4000 }).then(() => true, () => false);
        if (opened) return attempt;
      }
      await page.keyboard.press('Escape');
      await page.waitForTimeout(500);
    }
  }

  const quickInput = page.locator('.quick-input-widget');
  /** Runs a command from the palette by its title (retried: the extension's commands register after activation). */
  async function paletteCommand(title) {
    for (let attempt = 1; ; attempt++) {
      if (attempt > 10) throw new Error(`the command palette has no "${title}"`);
      await page.keyboard.press('F1');
      await quickInput.waitFor({ state: 'visible', timeout: TIMEOUT });
      await page.keyboard.type(title);
      const row = quickInput.locator('.monaco-list-row', { hasText: title }).first();
      if (await row.waitFor({ state: 'visible', timeout: 3000 }).then(() => true, () => false)) {
        await page.keyboard.press('Enter');
        return;
      }
      await page.keyboard.press('Escape');
      await page.waitForTimeout(700);
    }
  }

  /** Waits for a quick pick titled like `titlePattern`, filters it with `text` and accepts the row containing `rowText`. */
  async function quickPick(titlePattern, text, rowText = text) {
    const title = quickInput.locator('.quick-input-title');
    await page.waitForFunction(
      (src) => {
        const w = document.querySelector('.quick-input-widget');
        const t = w?.querySelector('.quick-input-title')?.textContent ?? '';
        return w && getComputedStyle(w).display !== 'none' && new RegExp(src).test(t) && !w.querySelector('.quick-input-progress:not([aria-hidden="true"]) .active');
      },
      titlePattern.source,
      { timeout: TIMEOUT, polling: 100 },
    );
    if (text) await page.keyboard.type(text);
    const row = quickInput.locator('.monaco-list-row', { hasText: rowText }).first();
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    // Filtering re-renders the list: wait until the focused row is the one we want.
    await page.waitForFunction(
      (want) => (document.querySelector('.quick-input-widget .monaco-list-row.focused')?.textContent ?? '').includes(want),
      rowText,
      { timeout: TIMEOUT, polling: 100 },
    ).catch(async () => row.click());
    if (await title.isVisible()) await page.keyboard.press('Enter');
  }

  async function goto() {
    await page.goto(url, { waitUntil: 'domcontentloaded', timeout: TIMEOUT });
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: TIMEOUT });
    mark('workbench');
  }

  async function close() {
    await ctx.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }

  /** Ends the flow: the failure screenshot or the problems, result.json, the exit code. */
  async function finish(ok, result, error) {
    if (error) {
      result.failure = String(error?.stack || error);
      const failShot = path.join(out, 'failure.png');
      await page.screenshot({ path: failShot }).catch(() => {});
      console.error(`${tag} FAILED: ${error?.message || error}\n${tag} failure screenshot: ${failShot}`);
    }
    await close();
    result.problems = problems.slice(0, 20);
    const summary = { ok, timingsMs: t, result };
    console.log(JSON.stringify(summary, null, 2));
    fs.writeFileSync(path.join(out, `${name}-result.json`), JSON.stringify(summary, null, 2));
    process.exit(ok ? 0 : 1);
  }

  return { page, ctx, t, mark, shot, problems, webviewWhere, webviewFrame, contextCommand, paletteCommand, quickPick, quickInput, goto, finish, TIMEOUT };
}
