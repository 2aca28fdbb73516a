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

  /**
   * Waits until the extension's contributions are registered in the workbench (its activity-bar container is
   * drawn): before that, the explorer's context menu lacks its entries and the palette its commands. Both come
   * from the same extension-point pass, so after this a menu or the palette shows them the first time.
   */
  async function contributionsReady() {
    await page.locator('.activitybar .action-item .action-label[aria-label^="Circuitscope"]').first().waitFor({ state: 'attached', timeout: TIMEOUT });
  }

  /**
   * Waits until keyboard focus has settled. Focusing a webview (a panel revealed with focus, a view's `.focus`
   * command, the editor group getting the focus back when a focused notification closes) is asynchronous: the
   * workbench focuses the outer iframe at once and, ≈ 50 ms later, posts `focus` to the webview's host page,
   * which then focuses its content frame. A quick pick opened in between is closed by that late focus (VS Code
   * issue 75209). Settled: the focused element is not a webview, or the webview's host page has focused its
   * content frame (after which a late `focus` is a no-op). Throws when it does not settle within 15 s.
   */
  async function settleFocus() {
    const deadline = Date.now() + 15_000;
    let seen = '';
    while (Date.now() < deadline) {
      const outer = await page.evaluateHandle(() => document.activeElement);
      const isWebview = await outer.evaluate((e) => !!e && e.matches('iframe.webview'));
      if (!isWebview) return;
      const host = await outer.asElement()?.contentFrame();
      seen = host ? await host.evaluate(() => document.activeElement?.id || document.activeElement?.tagName || '').catch(() => '') : '(no frame)';
      if (seen === 'active-frame') return;
      await page.waitForTimeout(50);
    }
    throw new Error(`keyboard focus did not settle within 15 s: a webview holds the focus and its host page focused ${seen || 'nothing'}, not its content frame`);
  }

  /**
   * Right-click a file in the explorer and run a context-menu command, once: a menu without the command or a
   * command that opens no tab fails the flow (no retries: a retry would hide a real bug).
   */
  async function contextCommand(fileLabel, command, tabLabel) {
    await contributionsReady();
    const row = page.locator('.explorer-folders-view .monaco-list-row', { hasText: fileLabel }).first();
    await row.waitFor({ state: 'visible', timeout: TIMEOUT });
    const item = page.locator('.context-view .monaco-menu .action-item', { hasText: command }).first();
    const menu = page.locator('.context-view .monaco-menu').first();
    await settleFocus();
    await row.click({ button: 'right' });
    await menu.waitFor({ state: 'visible', timeout: TIMEOUT });
    const shown = await item.waitFor({ state: 'visible', timeout: 10_000 }).then(() => true, () => false);
    if (!shown) {
      const items = await menu.locator('.action-item').allInnerTexts().catch(() => []);
      throw new Error(`the explorer context menu of ${fileLabel} has no "${command}" (it shows: ${items.map((t) => t.trim()).filter(Boolean).join(' | ')})`);
    }
    // Run it from the keyboard once the hover has focused it: a mouse click that comes soon after the menu opened
    // is swallowed by the menu (e2e run 9: the item highlighted, the menu still open, nothing run).
    await item.hover();
    await page.waitForFunction((want) => (document.querySelector('.context-view .monaco-menu .action-item.focused')?.textContent ?? '').includes(want), command, { timeout: 10_000, polling: 50 });
    await page.keyboard.press('Enter');
    if (tabLabel) await page.locator('.tabs-container .tab.active', { hasText: tabLabel }).first().waitFor({ state: 'visible', timeout: TIMEOUT });
  }

  const quickInput = page.locator('.quick-input-widget');
  /** Runs a command from the palette by its title, once (a palette without it fails the flow). */
  async function paletteCommand(title) {
    await contributionsReady();
    await settleFocus();
    await page.keyboard.press('F1');
    await quickInput.waitFor({ state: 'visible', timeout: TIMEOUT });
    await page.keyboard.type(title);
    // Typing filters the list: wait until the focused row is the command, then run it.
    const found = await page
      .waitForFunction((want) => (document.querySelector('.quick-input-widget .monaco-list-row.focused')?.textContent ?? '').includes(want), title, { timeout: 10_000, polling: 100 })
      .then(() => true, () => false);
    if (!found) {
      const rows = await quickInput.locator('.monaco-list-row').allInnerTexts().catch(() => []);
      throw new Error(`the command palette has no "${title}" (it lists: ${rows.slice(0, 5).join(' | ') || 'nothing'})`);
    }
    await page.keyboard.press('Enter');
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

  return { page, ctx, t, mark, shot, problems, webviewWhere, webviewFrame, contextCommand, settleFocus, paletteCommand, quickInput, goto, finish, TIMEOUT };
}
