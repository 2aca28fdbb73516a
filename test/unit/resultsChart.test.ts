/**
 * The results panel's SVG drawings (src/webview/results/chart.ts) and chart theme (chartTheme.ts), drawn in
 * plain Node from the real envelopes: standalone SVG (xmlns, background, concrete colours, no style
 * attributes for the CSP), exact values in the hover targets, readable colours in dark, light and high
 * contrast.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { describe, it } from 'node:test';
import type { RunRecord, TypedEnvelope } from '../../src/shared/results';
import { contrast, parseColor, type Rgb } from '../../src/webview/colors';
import { canLog, drawHeatmap, drawLineChart, drawMatrices, initialHidden, lineAxes, serialise, toSvgString, type SvgNode } from '../../src/webview/results/chart';
import { chartThemeFromVars, scaleColor, type ChartTheme, type ThemeKind } from '../../src/webview/results/chartTheme';
import { fmtFull, fmtNum } from '../../src/webview/results/format';
import { chartsOf, runView } from '../../src/webview/results/model';
import type { HeatmapSpec, LineChartSpec } from '../../src/webview/results/spec';

const dir = path.join(__dirname, '..', 'fixtures', 'envelopes');
const NAMES = ['collapse', 'collapse-series', 'hash', 'hash-widths', 'redundancy', 'lib', 'attention', 'circuit'];

function run(name: string): RunRecord {
  const envelope = JSON.parse(fs.readFileSync(path.join(dir, `${name}.json`), 'utf8')) as TypedEnvelope;
  return { id: name, envelope, finishedAt: '2026-11-24T09:00:00Z' };
}

const THEMES: Record<ThemeKind, Record<string, string>> = {
  dark: {
    '--vscode-editor-background': '#1f1f1f',
    '--vscode-editor-foreground': '#cccccc',
    '--vscode-descriptionForeground': '#9d9d9d',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
    '--vscode-font-family': 'system-ui, "Segoe UI", sans-serif',
    '--vscode-font-size': '13px',
  },
  light: {
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#3b3b3b',
    '--vscode-descriptionForeground': '#717171',
    '--vscode-charts-blue': '#1a85ff',
    '--vscode-charts-red': '#e51400',
    '--vscode-charts-green': '#388a34',
    '--vscode-charts-yellow': '#bf8803',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#652d90',
  },
  'high-contrast': {
    '--vscode-editor-background': '#000000',
    '--vscode-editor-foreground': '#ffffff',
    '--vscode-descriptionForeground': '#ffffffb3',
    '--vscode-contrastBorder': '#6fc3df',
    '--vscode-charts-blue': '#3794ff',
    '--vscode-charts-red': '#f14c4c',
    '--vscode-charts-green': '#89d185',
    '--vscode-charts-yellow': '#cca700',
    '--vscode-charts-orange': '#d18616',
    '--vscode-charts-purple': '#b180d7',
  },
  'high-contrast-light': {
    '--vscode-editor-background': '#ffffff',
    '--vscode-editor-foreground': '#292929',
    '--vscode-descriptionForeground': '#292929b3',
    '--vscode-contrastBorder': '#0f4a85',
    '--vscode-charts-blue': '#0f4a85',
    '--vscode-charts-red': '#b5200d',
    '--vscode-charts-green': '#374e06',
    '--vscode-charts-yellow': '#895503',
    '--vscode-charts-orange': '#895503',
    '--vscode-charts-purple': '#652d90',
  },
};

const theme = (kind: ThemeKind): ChartTheme => chartThemeFromVars((n) => THEMES[kind][n] ?? '', kind);
const rgb = (hex: string): Rgb => {
  const c = parseColor(hex)!;
  return [c[0], c[1], c[2]];
};

function walk(n: SvgNode, f: (n: SvgNode) => void): void {
  f(n);
  for (const c of n.children ?? []) if (typeof c !== 'string') walk(c, f);
}

describe('results chart theme', () => {
  for (const kind of Object.keys(THEMES) as ThemeKind[]) {
    it(`${kind}: series and text readable on the background; heatmap text picks the readable colour`, () => {
      const t = theme(kind);
      const bg = rgb(t.background);
      for (const s of t.series) assert.ok(contrast(rgb(s), bg) >= 3, `${kind} series ${s} on ${t.background}`);
      assert.ok(contrast(rgb(t.muted), bg) >= 4.5, `${kind} muted ${t.muted}`);
      assert.ok(contrast(rgb(t.foreground), bg) >= 4.5);
      assert.equal(new Set(t.series).size, 6, 'six distinct series colours');
      for (let i = 0; i <= 10; i++) {
        const c = scaleColor(t, i / 10);
        assert.ok(contrast(rgb(c.text), rgb(c.fill)) >= 4.5, `${kind} heatmap text at ${i / 10}: ${c.text} on ${c.fill}`);
      }
    });
  }

  it('falls back to VS Code’s defaults when variables are missing', () => {
    const t = chartThemeFromVars(() => '', 'dark');
    assert.equal(t.background, '#1f1f1f');
    assert.equal(t.series[0], '#3794ff');
    assert.equal(t.fontSize, 13);
  });
});

describe('results SVG drawings', () => {
  it('every chart of every fixture is a standalone SVG with concrete colours and no style attributes', () => {
    for (const name of NAMES) {
      for (const spec of chartsOf(runView(run(name)))) {
        for (const kind of ['dark', 'light'] as const) {
          const t = theme(kind);
          const d =
            spec.kind === 'line' ? drawLineChart(spec, t, { hidden: initialHidden(spec) }) : spec.kind === 'heatmap' ? drawHeatmap(spec, spec.initial, t) : drawMatrices(spec, t);
          const text = toSvgString(d.svg);
          const what = `${name}/${spec.slug}/${kind}`;
          assert.match(text, /^<\?xml version="1\.0" encoding="UTF-8"\?>\n<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg" /, what);
          assert.match(text, new RegExp(`<rect x="0" y="0" width="${d.width}" height="${d.height}" fill="${t.background}"/>`), what);
          assert.ok(text.includes(`font-family="${t.fontFamily.replace(/"/g, '&quot;')}"`), what);
          assert.ok(!/\sstyle=/.test(text), `${what}: style attribute`);
          assert.ok(!/NaN|Infinity|undefined|var\(--/.test(text), `${what}: ${/NaN|Infinity|undefined|var\(--/.exec(text)?.[0]}`);
          walk(d.svg, (n) => {
            for (const k of ['fill', 'stroke'] as const) {
              const v = n.attrs[k];
              if (v !== undefined && v !== 'none') assert.match(String(v), /^#[0-9a-f]{6}$/, `${what}: ${n.tag} ${k}=${v}`);
            }
          });
          assert.ok(d.hits.length > 0, what);
          assert.ok(d.width > 0 && d.height > 0);
        }
      }
    }
  });

  it('line chart: one hover target per drawn point with the exact value; hidden lines drop out', () => {
    const v = runView(run('collapse-series'));
    const spec = chartsOf(v).find((c) => c.slug === 'metrics-over-checkpoints') as LineChartSpec;
    const hidden = initialHidden(spec);
    const d = drawLineChart(spec, theme('dark'), { hidden });
    const visible = spec.series.filter((s) => !hidden.has(s.key));
    assert.equal(d.hits.length, visible.reduce((n, s) => n + s.points.filter((p) => p.y !== null).length, 0));
    const nc1 = spec.series.find((s) => s.key === 'nc1')!;
    const hit = d.hits.find((h) => h.series === 'nc1' && h.text.includes('checkpoint = 1 '))!;
    assert.ok(hit.text.includes(`= ${fmtFull(nc1.points[0].y)}`), hit.text);
    // Log x: checkpoint 1 at the left edge of the plot, 200 at the right.
    const xs = d.hits.filter((h) => h.series === 'nc1').map((h) => h.x);
    for (let i = 1; i < xs.length; i++) assert.ok(xs[i] > xs[i - 1]);
    // Every legend entry is there, the hidden ones marked as not pressed.
    const text = serialise(d.svg);
    for (const s of spec.series) assert.ok(text.includes(`data-series="${s.key}"`), s.key);
    assert.equal((text.match(/aria-pressed="false"/g) ?? []).length, hidden.size);
    const none = drawLineChart(spec, theme('dark'), { hidden: new Set(spec.series.map((s) => s.key)) });
    assert.equal(none.hits.length, 0);
    assert.ok(serialise(none.svg).includes('all lines are hidden'));
  });

  it('axis toggles: log x/y where values are positive; non-positive points counted, not drawn', () => {
    const v = runView(run('lib'));
    const abl = chartsOf(v).find((c) => c.slug.startsWith('ablation-')) as LineChartSpec;
    assert.equal(canLog(abl, 'x'), true);
    const axes = lineAxes(abl, { hidden: new Set() });
    assert.equal(axes.x.kind, 'log');
    assert.equal(axes.omitted, 2, 'kept = 0 for LIB and PCA');
    assert.ok(serialise(drawLineChart(abl, theme('light'), { hidden: new Set() }).svg).includes('2 point(s) ≤ 0 not drawn on the log axis'));
    const lin = lineAxes(abl, { hidden: new Set(), xScale: 'linear' });
    assert.equal(lin.omitted, 0);
    assert.equal(lin.x.domain[0], 0);
    const layers = chartsOf(runView(run('collapse'))).find((c) => c.slug === 'nc-over-layers') as LineChartSpec;
    assert.equal(canLog(layers, 'x'), false, 'categorical x');
  });

  it('redundancy: bands and both reference lines drawn and labelled', () => {
    const spec = chartsOf(runView(run('redundancy'))).find((c) => c.slug === 'redundancy-curves') as LineChartSpec;
    const text = serialise(drawLineChart(spec, theme('dark'), { hidden: new Set() }).svg);
    assert.equal((text.match(/<polygon /g) ?? []).length, 2, 'accuracyTest and R² bands');
    assert.ok(text.includes('>R² = 0.95<'));
    assert.ok(text.includes('>critical width 32<'));
    assert.ok(text.includes('chunk size (units) (log₂)'));
    for (const t of ['>1<', '>2<', '>4<', '>64<', '>128<']) assert.ok(text.includes(t), t);
  });

  it('heatmap: values printed in the cells, undefined ones as "—", a colour legend from min to max', () => {
    const spec = chartsOf(runView(run('attention'))).find((c) => c.kind === 'heatmap') as HeatmapSpec;
    const m = spec.metrics.find((x) => x.key === 'sinkMass')!;
    const d = drawHeatmap(spec, 'sinkMass', theme('dark'));
    const text = serialise(d.svg);
    const flat = m.values.flat() as number[];
    for (const v of flat) assert.ok(text.includes(`>${fmtNum(v)}<`), fmtNum(v));
    assert.ok(text.includes(`>${fmtNum(Math.min(...flat))}<`) && text.includes(`>${fmtNum(Math.max(...flat))}<`));
    assert.equal(d.hits.length, flat.length);
    assert.ok(d.hits.some((h) => h.text.includes(`sinkMass = ${fmtFull(flat[0])}`)));
    const holes: HeatmapSpec = { ...spec, metrics: [{ ...m, values: m.values.map((r, i) => r.map((x, j) => (i === 0 && j === 1 ? null : x))) }] };
    const t2 = serialise(drawHeatmap(holes, 'sinkMass', theme('dark')).svg);
    assert.ok(t2.includes('>—<'));
  });

  it('escapes text for XML', () => {
    const s = serialise({ tag: 'text', attrs: { title: 'a "b" <c>' }, children: ['x < y & z'] });
    assert.equal(s, '<text title="a &quot;b&quot; &lt;c&gt;">x &lt; y &amp; z</text>');
  });
});
