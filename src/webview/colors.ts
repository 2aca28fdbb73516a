/**
 * The graph's palette from VS Code's --vscode-* theme variables, and the colour arithmetic behind it. Pure
 * (no DOM): theme.ts reads the variables from the page; the unit tests feed them directly.
 */
import type { OpCategory } from './viewModel';

export type Rgb = [number, number, number];

export interface Palette {
  kind: 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';
  background: string;
  foreground: string;
  muted: string;
  border: string;
  focus: string;
  edge: string;
  selectionEdge: string;
  match: string;
  compoundFill: string;
  compoundBorder: string;
  /** Border of a collapsed block (distinct from the selection's focus colour). */
  groupBorder: string;
  repeat: string;
  /** Per op category: fill and border. */
  fill: Record<OpCategory, string>;
  stroke: Record<OpCategory, string>;
  /** Diverging colour scale ends for weight heatmaps (negative, zero, positive). */
  negative: Rgb;
  zero: Rgb;
  positive: Rgb;
  fontFamily: string;
  backgroundRgb: Rgb;
}

const FALLBACK: Record<string, string> = {
  '--vscode-editor-background': '#1f1f1f',
  '--vscode-editor-foreground': '#cccccc',
  '--vscode-descriptionForeground': '#9d9d9d',
  '--vscode-focusBorder': '#0078d4',
  '--vscode-panel-border': '#2b2b2b',
  '--vscode-charts-blue': '#3794ff',
  '--vscode-charts-red': '#f14c4c',
  '--vscode-charts-green': '#89d185',
  '--vscode-charts-yellow': '#cca700',
  '--vscode-charts-orange': '#d18616',
  '--vscode-charts-purple': '#b180d7',
  '--vscode-charts-foreground': '#cccccc',
  '--vscode-charts-lines': '#cccccc80',
  '--vscode-font-family': 'system-ui, sans-serif',
};

/** `#rgb[a]`, `#rrggbb[aa]`, `rgb()`/`rgba()` → [r, g, b, a]; anything else → undefined (theme.ts
 * normalises other syntaxes through the canvas parser first). */
export function parseColor(css: string): [number, number, number, number] | undefined {
  const s = css.trim();
  if (!s) return undefined;
  const hex = /^#([0-9a-f]{3,8})$/i.exec(s);
  if (hex) {
    let h = hex[1];
    if (h.length === 3 || h.length === 4) h = [...h].map((c) => c + c).join('');
    const n = (i: number): number => parseInt(h.slice(i, i + 2), 16);
    return [n(0), n(2), n(4), h.length === 8 ? n(6) / 255 : 1];
  }
  const rgb = /^rgba?\(\s*([\d.]+)[\s,]+([\d.]+)[\s,]+([\d.]+)(?:[\s,/]+([\d.]+%?))?\s*\)$/i.exec(s);
  if (rgb) {
    const a = rgb[4] === undefined ? 1 : rgb[4].endsWith('%') ? parseFloat(rgb[4]) / 100 : parseFloat(rgb[4]);
    return [parseFloat(rgb[1]), parseFloat(rgb[2]), parseFloat(rgb[3]), a];
  }
  return undefined;
}

export function mix(a: Rgb, b: Rgb, t: number): Rgb {
  return [a[0] + (b[0] - a[0]) * t, a[1] + (b[1] - a[1]) * t, a[2] + (b[2] - a[2]) * t];
}

export function toHex(c: Rgb): string {
  return `#${c.map((v) => Math.round(Math.max(0, Math.min(255, v))).toString(16).padStart(2, '0')).join('')}`;
}

/** Relative luminance (WCAG). */
export function luminance(c: Rgb): number {
  const f = (v: number): number => {
    const s = v / 255;
    return s <= 0.03928 ? s / 12.92 : ((s + 0.055) / 1.055) ** 2.4;
  };
  return 0.2126 * f(c[0]) + 0.7152 * f(c[1]) + 0.0722 * f(c[2]);
}

export function contrast(a: Rgb, b: Rgb): number {
  const la = luminance(a);
  const lb = luminance(b);
  return (Math.max(la, lb) + 0.05) / (Math.min(la, lb) + 0.05);
}

/**
 * The palette for a theme kind and a lookup of --vscode-* variables (`''` when unset). Node fills are tints
 * of the chart colours over the editor background, weak enough to keep the foreground text's contrast
 * (checked in test/unit/webviewColors.test.ts).
 */
export function paletteFromVars(lookup: (name: string) => string, kind: Palette['kind']): Palette {
  const raw = (name: string, ...alts: string[]): string => {
    for (const n of [name, ...alts]) {
      const v = lookup(n).trim();
      if (v) return v;
    }
    return FALLBACK[name] ?? '';
  };
  const hc = kind.startsWith('high-contrast');
  const rgbOf = (css: string, fallback: string): Rgb => {
    const c = parseColor(css) ?? parseColor(fallback) ?? [128, 128, 128, 1];
    return [c[0], c[1], c[2]];
  };
  const bg = rgbOf(raw('--vscode-editor-background'), FALLBACK['--vscode-editor-background']);
  const fg = rgbOf(raw('--vscode-editor-foreground', '--vscode-foreground'), FALLBACK['--vscode-editor-foreground']);
  // Alpha colours (charts-lines is #rrggbb80) are flattened onto the background.
  const flat = (name: string, ...alts: string[]): Rgb => {
    const c = parseColor(raw(name, ...alts)) ?? parseColor(FALLBACK[name] ?? '#808080')!;
    return mix(bg, [c[0], c[1], c[2]], c[3]);
  };
  // High contrast: secondary text (edge labels, shape strokes) in the foreground itself — the themes' own
  // descriptionForeground is 70% white, which left 9 px edge labels grey and faint on black.
  const muted = hc ? fg : flat('--vscode-descriptionForeground');
  const chart = {
    blue: flat('--vscode-charts-blue'),
    red: flat('--vscode-charts-red'),
    green: flat('--vscode-charts-green'),
    yellow: flat('--vscode-charts-yellow'),
    orange: flat('--vscode-charts-orange'),
    purple: flat('--vscode-charts-purple'),
  };
  const tint = hc ? 0 : kind === 'light' ? 0.16 : 0.22;
  const cat = (c: Rgb): { fill: string; stroke: string } => ({ fill: toHex(mix(bg, c, tint)), stroke: toHex(c) });
  const neutral = mix(bg, fg, hc ? 0 : 0.08);
  const cats: Record<OpCategory, { fill: string; stroke: string }> = {
    conv: cat(chart.blue),
    linear: cat(chart.purple),
    attention: cat(chart.orange),
    norm: cat(chart.green),
    activation: cat(chart.red),
    pool: cat(chart.yellow),
    reduce: cat(chart.yellow),
    control: cat(chart.orange),
    elementwise: { fill: toHex(neutral), stroke: toHex(mix(bg, fg, 0.55)) },
    shape: { fill: toHex(neutral), stroke: toHex(muted) },
    other: { fill: toHex(neutral), stroke: toHex(mix(bg, fg, 0.7)) },
    group: { fill: toHex(mix(bg, fg, hc ? 0 : kind === 'light' ? 0.07 : 0.1)), stroke: toHex(mix(bg, fg, 0.6)) },
    terminal: { fill: toHex(bg), stroke: toHex(fg) },
  };
  const fill = Object.fromEntries(Object.entries(cats).map(([k, v]) => [k, v.fill])) as Record<OpCategory, string>;
  const stroke = Object.fromEntries(Object.entries(cats).map(([k, v]) => [k, v.stroke])) as Record<OpCategory, string>;
  const contrastBorder = parseColor(raw('--vscode-contrastBorder'));
  const border = hc && contrastBorder ? toHex([contrastBorder[0], contrastBorder[1], contrastBorder[2]]) : toHex(flat('--vscode-panel-border', '--vscode-editorWidget-border'));
  return {
    kind,
    background: toHex(bg),
    foreground: toHex(fg),
    muted: toHex(muted),
    border,
    focus: toHex(flat('--vscode-focusBorder')),
    edge: toHex(hc ? fg : mix(bg, fg, kind === 'light' ? 0.45 : 0.4)),
    selectionEdge: toHex(flat('--vscode-focusBorder')),
    match: toHex(flat('--vscode-editor-findMatchHighlightBorder', '--vscode-charts-orange')),
    compoundFill: toHex(mix(bg, fg, hc ? 0 : kind === 'light' ? 0.035 : 0.04)),
    compoundBorder: hc ? border : toHex(mix(bg, fg, 0.25)),
    groupBorder: hc ? toHex(fg) : toHex(mix(bg, fg, 0.55)),
    repeat: toHex(chart.purple),
    fill,
    stroke,
    negative: chart.blue,
    zero: bg,
    positive: chart.red,
    fontFamily: raw('--vscode-font-family') || FALLBACK['--vscode-font-family'],
    backgroundRgb: bg,
  };
}
