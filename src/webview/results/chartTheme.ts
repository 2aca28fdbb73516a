/**
 * Concrete colours for the results charts, from VS Code's --vscode-* theme variables. The charts are SVG
 * drawings that are also exported as standalone files, so they carry resolved colours (not CSS variables).
 * Series colours are the theme's chart colours; where one is too faint on the background (charts-yellow
 * on a light theme) it is pulled towards the foreground until it reaches 3:1 contrast (WCAG's figure
 * for graphical objects); the sixth slot (yellow) gives way to a neutral grey when it is too close to the
 * orange. Pure (no DOM): themeDom.ts reads the variables, the unit tests pass them in.
 */
import { contrast, mix, parseColor, toHex, type Rgb } from '../colors';

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface ChartTheme {
  kind: ThemeKind;
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  axis: string;
  /** Blue, orange, green, red, purple, yellow (the order of series colour slots). */
  series: string[];
  /** Heatmap scale: from `scaleLow` (near the background) to `scaleHigh`. */
  scaleLow: Rgb;
  scaleHigh: Rgb;
  fontFamily: string;
  /** Base font size in px. */
  fontSize: number;
  /** Line width of series in px. */
  lineWidth: number;
}

const DEFAULTS: Record<string, string> = {
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editor-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-font-family': 'system-ui, -apple-system, "Segoe UI", sans-serif',
};

export const SERIES_VARS = ['--vscode-charts-blue', '--vscode-charts-orange', '--vscode-charts-green', '--vscode-charts-red', '--vscode-charts-purple', '--vscode-charts-yellow'] as const;

/** Every variable the chart theme reads (themeDom.ts resolves these from the page). */
export const THEME_VARS = [
  '--vscode-editor-background',
  '--vscode-editor-foreground',
  '--vscode-foreground',
  '--vscode-descriptionForeground',
  '--vscode-panel-border',
  '--vscode-contrastBorder',
  '--vscode-font-family',
  '--vscode-font-size',
  ...SERIES_VARS,
] as const;

function rgb(css: string | undefined): [number, number, number, number] | undefined {
  return css ? parseColor(css) : undefined;
}

function distance(a: Rgb, b: Rgb): number {
  return Math.hypot(a[0] - b[0], a[1] - b[1], a[2] - b[2]);
}

/** Pulls `c` towards `towards` until its contrast against `bg` reaches `min` (or it gets there). */
export function ensureContrast(c: Rgb, bg: Rgb, towards: Rgb, min = 3): Rgb {
  const rounded = (x: Rgb): Rgb => x.map((v) => Math.round(Math.max(0, Math.min(255, v)))) as Rgb;
  let out = rounded(c);
  for (let t = 0.1; contrast(out, bg) < min && t <= 1.0001; t += 0.1) out = rounded(mix(c, towards, t));
  return out;
}

/** The chart theme for a theme kind and a lookup of --vscode-* variables (`''` when unset). */
export function chartThemeFromVars(lookup: (name: string) => string, kind: ThemeKind): ChartTheme {
  const raw = (...names: string[]): string => {
    for (const n of names) {
      const v = lookup(n).trim();
      if (v) return v;
    }
    return DEFAULTS[names[0]] ?? '';
  };
  const hc = kind.startsWith('high-contrast');
  const solid = (css: string, fallback: string): Rgb => {
    const c = rgb(css) ?? rgb(fallback) ?? [128, 128, 128, 1];
    return [c[0], c[1], c[2]];
  };
  const bg = solid(raw('--vscode-editor-background'), kind === 'light' || kind === 'high-contrast-light' ? '#ffffff' : '#1f1f1f');
  const fg = solid(raw('--vscode-editor-foreground', '--vscode-foreground'), kind === 'light' || kind === 'high-contrast-light' ? '#3b3b3b' : '#cccccc');
  // Alpha colours are flattened onto the background (an exported file has no page behind it).
  const flat = (css: string, fallback: string): Rgb => {
    const c = rgb(css) ?? rgb(fallback) ?? [128, 128, 128, 1];
    return mix(bg, [c[0], c[1], c[2]], c[3]);
  };
  const muted = ensureContrast(flat(raw('--vscode-descriptionForeground'), DEFAULTS['--vscode-descriptionForeground']), bg, fg, 4.5);
  const seriesRgb = SERIES_VARS.map((v) => ensureContrast(flat(raw(v), DEFAULTS[v]), bg, fg, 3));
  // VS Code's default yellow and orange are hard to tell apart as thin lines (#cca700 / #d18616 dark,
  // #bf8803 / #d18616 light, closer still once darkened to 3:1): when they are that close, the sixth slot
  // takes a neutral between background and foreground instead.
  if (distance(seriesRgb[5], seriesRgb[1]) < 90) seriesRgb[5] = mix(bg, fg, 0.7);
  const series = seriesRgb.map(toHex);
  const border = rgb(raw('--vscode-contrastBorder'));
  // High contrast: grid lines from the contrast border, dimmed so that they stay behind the data.
  const grid = hc ? toHex(mix(bg, border ? [border[0], border[1], border[2]] : fg, 0.45)) : toHex(mix(bg, fg, kind === 'light' ? 0.12 : 0.14));
  const axis = toHex(mix(bg, fg, hc ? 1 : 0.55));
  const blue = rgb(series[0])!;
  const size = parseFloat(raw('--vscode-font-size'));
  return {
    kind,
    background: toHex(bg),
    foreground: toHex(fg),
    muted: toHex(muted),
    grid,
    axis,
    series,
    scaleLow: mix(bg, [blue[0], blue[1], blue[2]], hc ? 0 : 0.06),
    scaleHigh: [blue[0], blue[1], blue[2]],
    fontFamily: raw('--vscode-font-family') || DEFAULTS['--vscode-font-family'],
    fontSize: Number.isFinite(size) && size > 6 ? Math.min(size, 16) : 13,
    lineWidth: hc ? 2.5 : 2,
  };
}

/**
 * The heatmap colour of t ∈ [0, 1] and a text colour for values printed on it: the theme's foreground or
 * background, whichever reads better; when neither reaches 4.5:1 (mid-tones of the scale), black or white
 * (one of which always does).
 */
export function scaleColor(theme: ChartTheme, t: number): { fill: string; text: string } {
  const solid = (hex: string): Rgb => {
    const v = rgb(hex)!;
    return [v[0], v[1], v[2]];
  };
  // Contrast of the colour as written (rounded to #rrggbb), not of the exact mix.
  const c = solid(toHex(mix(theme.scaleLow, theme.scaleHigh, Math.max(0, Math.min(1, t)))));
  const candidates = [theme.foreground, theme.background].map((hex) => ({ hex, k: contrast(c, solid(hex)) })).sort((a, b) => b.k - a.k);
  if (candidates[0].k >= 4.5) return { fill: toHex(c), text: candidates[0].hex };
  return { fill: toHex(c), text: contrast(c, [0, 0, 0]) >= contrast(c, [255, 255, 255]) ? '#000000' : '#ffffff' };
}
