/**
 * The graph view's targets at 100,000 operators without name scopes (issue 17, "Scale"), checked against a
 * `npm run bench:graph` row: end-to-end first interactive ≤ 3 s, everything drawn ≤ 10 s, pan frames ≤ 16 ms
 * while loading, JS heap ≤ 400 MB, the extension host's event-loop delay < 50 ms; with competing jobs
 * running (`--competing 2`) the time and heap limits double, the host's loop-delay limit does not.
 */
export interface TargetInput {
  operators: number;
  /** Engine-side load (parse + serialize, in the engine process) when measured, else the in-process parse. */
  loadMs: number;
  /** From the first graph piece posted to the webview to its first interactive frame / everything drawn. */
  interactiveMs: number;
  completeMs: number;
  /** Mean animation-frame interval while panning during loading (60 Hz display: 16.7 ms is the floor). */
  panDuringMs: number;
  /** Main-thread work per pan frame while loading. */
  panDuringBusyMs: number;
  heapMb: number;
  /** Worst extension-host event-loop delay while the model loaded (undefined: not measured). */
  hostLagMaxMs?: number;
}

export interface TargetRow {
  target: string;
  limit: string;
  measured: string;
  met: boolean | undefined;
}

export function checkTargets(r: TargetInput, competing: number): TargetRow[] {
  const f = competing >= 2 ? 2 : 1;
  const row = (target: string, limit: number, unit: string, value: number | undefined, strict = false): TargetRow => ({
    target,
    limit: `${strict ? '<' : '≤'} ${limit} ${unit}`,
    measured: value === undefined ? 'not measured' : `${unit === 'ms' && value < 100 ? value.toFixed(1) : Math.round(value)} ${unit}`,
    met: value === undefined ? undefined : strict ? value < limit : value <= limit,
  });
  return [
    row('first interactive, end to end (load + webview)', 3000 * f, 'ms', r.loadMs + r.interactiveMs),
    row('everything drawn, end to end', 10000 * f, 'ms', r.loadMs + r.completeMs),
    // "Pan frames ≤ 16 ms (60 FPS)": frames keep the display's 60 Hz (a frame interval within 2% of 1000/60 ms)
    // and each frame's main-thread work fits in 16 ms.
    row('pan frame interval while loading (60 FPS)', Math.round(1000 / 60 * 1.02 * f * 10) / 10, 'ms', r.panDuringMs),
    row('main-thread work per pan frame while loading', 16 * f, 'ms', r.panDuringBusyMs),
    row('JS heap (after GC, everything drawn)', 400 * f, 'MB', r.heapMb),
    row('extension-host event-loop delay (max)', 50, 'ms', r.hostLagMaxMs, true),
  ];
}

export function targetsTable(r: TargetInput, competing: number): string {
  const lines = [
    `Targets at ${r.operators.toLocaleString('en-US')} operators${competing ? ` with ${competing} competing jobs (limits ×${competing >= 2 ? 2 : 1})` : ''}:`,
    '',
    '| target | limit | measured | met |',
    '|---|---:|---:|---|',
  ];
  for (const t of checkTargets(r, competing)) lines.push(`| ${t.target} | ${t.limit} | ${t.measured} | ${t.met === undefined ? '—' : t.met ? 'yes' : 'NO'} |`);
  return lines.join('\n');
}
