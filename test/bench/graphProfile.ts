/**
 * Development aid for the graph view's load path: opens one harness graph (graphHarness.ts) in headless
 * Chromium, prints the view's timing marks relative to the graph's arrival, the JS heap after a GC, and
 * the top self-time functions of a CPU profile taken over the load (CDP Profiler).
 *
 * node --import tsx test/bench/graphProfile.ts <graphDir> <name> [--wait-complete]
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { chromium } from 'playwright-core';
import { startHarness } from './graphHarness';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount?: number;
}

async function main(): Promise<void> {
  const [dir, name] = process.argv.slice(2);
  const waitComplete = process.argv.includes('--wait-complete');
  const server = await startHarness(dir);
  const browser = await chromium.launch({ executablePath: process.env.CHROMIUM || '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
  const page = await browser.newPage({ viewport: { width: 1400, height: 850 } });
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Profiler.enable');
  await cdp.send('Profiler.setSamplingInterval', { interval: 1000 });
  await cdp.send('Profiler.start');
  await page.goto(`${server.url}/harness.html?graph=${encodeURIComponent(name)}&gzip=1`);
  await page.waitForFunction(`['ready', 'error'].includes(document.body.dataset.state)`, undefined, { timeout: 600_000, polling: 50 });
  if (waitComplete) await page.waitForFunction(`document.querySelector('#cy')?.getAttribute('data-complete') !== 'false'`, undefined, { timeout: 600_000, polling: 100 });
  const { profile } = (await cdp.send('Profiler.stop')) as { profile: { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[] } };
  const marks = await page.evaluate(`(() => { const m = window.__circuitscope.metrics, t0 = window.__bench.t0; const o = { fetchMs: window.__bench.fetchMs, timeoutMs: window.__bench.timeoutMs };
    for (const [k, v] of Object.entries(m)) o[k] = typeof v === "number" && !/Ms$|^(nodes|edges|renders|firstWindow)$/.test(k) ? Math.round(v - t0) : v; return o; })()`);
  console.log(marks);
  await cdp.send('HeapProfiler.collectGarbage');
  const heap = (await cdp.send('Runtime.getHeapUsage')) as { usedSize: number; totalSize: number };
  console.log(`heap used ${(heap.usedSize / 2 ** 20).toFixed(0)} MB, total ${(heap.totalSize / 2 ** 20).toFixed(0)} MB`);
  const self = new Map<string, number>();
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  profile.samples.forEach((id, i) => {
    const n = byId.get(id)!;
    const k = `${n.callFrame.functionName || '(anon)'} ${path.basename(n.callFrame.url)}:${n.callFrame.lineNumber}`;
    self.set(k, (self.get(k) ?? 0) + profile.timeDeltas[i] / 1000);
  });
  // Inclusive time per function name (a function counted once per sample even when recursive).
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const total = new Map<string, number>();
  profile.samples.forEach((id, i) => {
    const seen = new Set<string>();
    for (let cur: number | undefined = id; cur !== undefined; cur = parent.get(cur)) {
      const f = byId.get(cur)!.callFrame.functionName;
      if (!f || seen.has(f)) continue;
      seen.add(f);
      total.set(f, (total.get(f) ?? 0) + profile.timeDeltas[i] / 1000);
    }
  });
  const incl = [...total].filter(([, ms]) => ms > 40).sort((a, b) => b[1] - a[1]).slice(0, 45);
  console.log('inclusive:');
  for (const [k, ms] of incl) console.log(`${ms.toFixed(0).padStart(7)} ms  ${k}`);
  console.log('self:');
  const top = [...self].sort((a, b) => b[1] - a[1]).slice(0, 25);
  for (const [k, ms] of top) console.log(`${ms.toFixed(0).padStart(7)} ms  ${k}`);
  fs.writeFileSync('/tmp/p5-profile.cpuprofile', JSON.stringify(profile));
  await browser.close();
  await server.close();
}

void main().then(() => process.exit(0), (e: unknown) => { console.error(e); process.exit(1); });
