/**
 * The circuits panel's colours (from the theme palette, i.e. VS Code's --vscode-* and --vscode-charts-*
 * variables) and its cytoscape stylesheet. Pure: view.ts reads the palette from the page; tests feed one.
 *
 * The palette's category colours are the chart colours (colors.ts): conv = charts-blue, linear =
 * charts-purple, attention = charts-orange, norm = charts-green; `positive` / `negative` are charts-red /
 * charts-blue, the project's diverging pair (weight heatmaps use the same).
 */
import type { StylesheetJson } from 'cytoscape';
import { mix, parseColor, toHex, type Palette, type Rgb } from '../colors';
import type { NodeKind } from './model';

export interface CircuitsColors {
  kind: Palette['kind'];
  background: string;
  foreground: string;
  muted: string;
  focus: string;
  /** The mark of pinned nodes. */
  pinned: string;
  fill: Record<NodeKind, string>;
  stroke: Record<NodeKind, string>;
  /** LIB edges. */
  libEdge: string;
  /** Circuit edges by the sign of their score. */
  positive: string;
  negative: string;
  /** Column names and group box labels. */
  header: string;
  fontFamily: string;
  /** Fill of a redundancy group box by its cohesion (0…1). */
  groupFill: (cohesion: number | null | undefined) => string;
}

function rgb(css: string): Rgb {
  const c = parseColor(css) ?? [128, 128, 128, 1];
  return [c[0], c[1], c[2]];
}

export function circuitsColors(p: Palette): CircuitsColors {
  const hc = p.kind.startsWith('high-contrast');
  const bg = p.backgroundRgb;
  const fg = rgb(p.foreground);
  const tint = (css: string, t: number): string => toHex(mix(bg, rgb(css), hc ? 0 : t));
  // Tints keep the foreground's contrast ≥ 4.5 on every fill (test/unit/circuitsPanel.test.ts).
  const strong = 0.28;
  const blue = p.stroke.conv;
  const purple = p.stroke.linear;
  const orange = p.stroke.attention;
  const green = p.stroke.norm;
  const neutralFill = toHex(mix(bg, fg, hc ? 0 : p.kind === 'light' ? 0.08 : 0.12));
  const fill: Record<NodeKind, string> = {
    direction: tint(purple, strong),
    constant: p.background,
    overflow: neutralFill,
    fold: tint(purple, strong + 0.06),
    input: neutralFill,
    logits: neutralFill,
    head: tint(orange, strong),
    mlp: tint(purple, strong),
    unit: tint(green, strong),
    group: neutralFill,
    foldedGroup: tint(green, strong + 0.06),
  };
  const stroke: Record<NodeKind, string> = {
    direction: purple,
    constant: p.muted,
    overflow: p.groupBorder,
    fold: purple,
    input: p.foreground,
    logits: p.foreground,
    head: orange,
    mlp: purple,
    unit: green,
    group: green,
    foldedGroup: green,
  };
  return {
    kind: p.kind,
    background: p.background,
    foreground: p.foreground,
    muted: p.muted,
    focus: p.focus,
    pinned: p.match,
    fill,
    stroke,
    libEdge: blue,
    positive: toHex(p.positive),
    negative: toHex(p.negative),
    header: hc ? p.foreground : p.muted,
    fontFamily: p.fontFamily,
    groupFill: (c) => (hc ? p.background : toHex(mix(bg, rgb(green), 0.05 + 0.2 * Math.max(0, Math.min(1, c ?? 0))))),
  };
}

/**
 * The stylesheet: sizes, colours, widths and opacities come from element data (set by view.ts from the
 * graph's numbers), state from classes (pinned, faded, dim/hover, selected).
 */
export function circuitsStylesheet(c: CircuitsColors): StylesheetJson {
  const hc = c.kind.startsWith('high-contrast');
  const font = c.fontFamily;
  return [
    {
      selector: 'node',
      style: {
        width: 'data(w)',
        height: 'data(h)',
        shape: 'data(shape)' as never,
        label: 'data(label)',
        'font-family': font,
        'font-size': 'data(fs)' as never,
        color: c.foreground,
        'text-valign': 'center',
        'text-halign': 'center',
        'text-outline-color': 'data(fill)' as never,
        'text-outline-width': hc ? 0 : 1,
        'background-color': 'data(fill)',
        'border-color': 'data(stroke)',
        'border-width': 'data(bw)' as never,
        'border-style': 'data(bs)' as never,
        'min-zoomed-font-size': 5,
        'overlay-opacity': 0,
      },
    },
    {
      selector: 'node.header',
      style: {
        shape: 'rectangle',
        'background-opacity': 0,
        'border-width': 0,
        'text-outline-width': 0,
        color: c.header,
        'font-size': 12,
        'font-weight': 'bold',
        'text-halign': 'data(th)' as never,
        'text-wrap': 'ellipsis',
        'text-max-width': 'data(tw)' as never,
        events: 'yes',
      },
    },
    {
      selector: 'node.header.expanded',
      style: { color: c.focus },
    },
    {
      selector: ':parent',
      style: {
        shape: 'round-rectangle',
        'background-color': 'data(fill)',
        'background-opacity': 1,
        'border-color': 'data(stroke)',
        'border-width': hc ? 2 : 1,
        'border-style': 'data(bs)' as never,
        padding: '6px',
        'min-width': 'data(w)' as never,
        'min-height': 'data(h)' as never,
        'compound-sizing-wrt-labels': 'exclude',
        'text-valign': 'top',
        'text-halign': 'center',
        'text-margin-y': -2,
        'text-outline-width': 0,
        'font-size': 10,
        'font-weight': 'bold',
        color: c.header,
      },
    },
    {
      // Outside the circuit: the shape recedes, the label stays readable (≥ 4.5:1 on the editor background;
      // a whole-node opacity of 0.4 left it at 2.8:1 in dark and 2.2:1 in light).
      selector: 'node.faded',
      style: { 'background-opacity': hc ? 0.55 : 0.4, 'border-opacity': hc ? 0.55 : 0.4, 'text-opacity': hc ? 1 : 0.8 } as never,
    },
    {
      selector: 'node.pinned',
      style: { 'underlay-color': c.pinned, 'underlay-opacity': hc ? 1 : 0.6, 'underlay-padding': 4, 'underlay-shape': 'ellipse' } as never,
    },
    {
      selector: 'node.pinned[shape != "ellipse"]',
      style: { 'underlay-shape': 'round-rectangle' } as never,
    },
    {
      selector: 'node:selected',
      style: { 'border-color': c.focus, 'border-width': 3, 'border-style': 'solid' },
    },
    {
      selector: 'edge',
      style: {
        width: 'data(width)',
        'line-color': 'data(color)',
        'target-arrow-color': 'data(color)',
        'target-arrow-shape': 'data(arrow)' as never,
        'arrow-scale': 0.7,
        opacity: 'data(op)' as never,
        'curve-style': 'straight',
        'font-family': font,
        'font-size': 10,
        color: c.foreground,
        'text-background-color': c.background,
        'text-background-opacity': 0.9,
        'text-background-padding': '1px',
        'min-zoomed-font-size': 7,
        'overlay-opacity': 0,
      },
    },
    {
      selector: 'edge.bent',
      style: { 'curve-style': 'unbundled-bezier', 'control-point-distances': 'data(cpd)' as never, 'control-point-weights': 0.5 } as never,
    },
    {
      selector: 'edge[port]',
      style: { 'target-label': 'data(port)', 'target-text-offset': 16 } as never,
    },
    {
      selector: 'edge.constant',
      style: { 'line-style': 'dashed', 'line-dash-pattern': [5, 3] } as never,
    },
    {
      selector: 'edge.faded',
      style: { 'line-style': 'dashed', 'line-dash-pattern': [4, 3] } as never,
    },
    {
      selector: 'edge:selected',
      style: { 'line-color': c.focus, 'target-arrow-color': c.focus, opacity: 1 },
    },
    {
      selector: '.dim',
      style: { opacity: 0.15 },
    },
    {
      selector: 'edge.hover',
      style: { opacity: 1, 'z-index': 10 },
    },
  ] as StylesheetJson;
}
