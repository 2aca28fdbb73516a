/**
 * The overlay's colours, from the theme's chart colours (--vscode-charts-*): a sequential ramp (purple →
 * blue → green → yellow, the viridis order with the palette's own hues) and a diverging one (blue → neutral
 * → red around 0, the weight heatmap's convention). A coloured node gets the ramp colour as a thick border
 * and a tint of it as fill, as strong as the label's contrast allows. Pure (no DOM).
 */
import { contrast, mix, parseColor, toHex, type Palette, type Rgb } from './colors';
import type { OverlayScale } from './overlay';

export interface OverlayColors {
  sequential: Rgb[];
  diverging: Rgb[];
  /** Circuit edges / LIB sections drawn over the graph. */
  edge: string;
  /** Outline of a marked element (a classifier head). */
  mark: string;
  /** Badge on a collapsed block: background and text. */
  badge: string;
  badgeText: string;
}

const rgb = (css: string): Rgb => {
  const c = parseColor(css) ?? [128, 128, 128, 1];
  return [c[0], c[1], c[2]];
};

/**
 * The palette carries the chart colours as its op-category strokes (colors.ts: conv = charts-blue,
 * linear = charts-purple, norm = charts-green, pool = charts-yellow, activation = charts-red), already
 * flattened onto the background; reading them there keeps one place that reads the theme.
 */
export function overlayColors(p: Palette): OverlayColors {
  const bg = rgb(p.background);
  const fg = rgb(p.foreground);
  const hc = p.kind.startsWith('high-contrast');
  return {
    sequential: [rgb(p.stroke.linear), rgb(p.stroke.conv), rgb(p.stroke.norm), rgb(p.stroke.pool)],
    diverging: [rgb(p.stroke.conv), mix(bg, fg, hc ? 0.5 : 0.3), rgb(p.stroke.activation)],
    edge: p.stroke.activation,
    mark: p.foreground,
    badge: p.foreground,
    badgeText: p.background,
  };
}

/** Piecewise-linear interpolation through evenly spaced stops, t in [0, 1]. */
export function rampAt(stops: readonly Rgb[], t: number): Rgb {
  if (stops.length === 1) return stops[0];
  const x = Math.max(0, Math.min(1, t)) * (stops.length - 1);
  const i = Math.min(stops.length - 2, Math.floor(x));
  return mix(stops[i], stops[i + 1], x - i);
}

export function rampColor(c: OverlayColors, scale: OverlayScale, t: number): Rgb {
  return rampAt(scale === 'diverging' ? c.diverging : c.sequential, t);
}

/**
 * Fill and border of a coloured node: the border is the ramp colour; the fill the strongest tint of it
 * (at most 70 %) over the background that keeps the label at a 4.5:1 contrast (WCAG AA).
 */
export function nodePaint(p: Palette, c: OverlayColors, scale: OverlayScale, t: number): { fill: string; stroke: string } {
  const col = rampColor(c, scale, t);
  const bg = rgb(p.background);
  const fg = rgb(p.foreground);
  let fill = bg;
  for (let a = 0.7; a > 0; a -= 0.05) {
    const f = mix(bg, col, a);
    if (contrast(f, fg) >= 4.5) {
      fill = f;
      break;
    }
  }
  return { fill: toHex(fill), stroke: toHex(col) };
}
