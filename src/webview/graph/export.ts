/**
 * Export of the operator graph: the current view or the whole graph, as SVG (graphSvg.ts, drawn from the laid-out
 * model) or PNG (that SVG rasterised on a canvas in this page, its pixel size capped), with the overlay and its
 * legend when one is shown. The bytes go to the host (`saveExport`), which asks where to save and says where it
 * went; its one `saved` reply settles the request. Copying a node's name goes through the host's clipboard.
 */
import type { HostToWebview } from '../../shared/protocol';
import { graphSvg, pngScale, type GraphSvg, type ItemPaint, type OverlayLine, type SvgLegend } from '../graphSvg';
import { BEND_LIMIT, EDGE_LABEL_LIMIT } from '../graphView';
import { baseName, fmtNumber, visibleOverlay } from '../overlay';
import { nodePaint, overlayColors, rampColor } from '../overlayColors';
import { toHex } from '../theme';
import type { GraphContext } from './context';
import type { GraphState } from './state';
import { showNote } from './shell';

export type ExportScope = 'view' | 'graph';
export type ExportFormat = 'svg' | 'png';

/** Pixel ratio of a PNG (sharp on high-density screens); lowered for big drawings by {@link pngScale}. */
const PNG_RATIO = 2;

let seq = 0;
const waiting = new Map<number, { resolve: (file: string | null) => void; reject: (e: Error) => void }>();

/** The host's answer to a `saveExport`. */
export function answerSave(msg: Extract<HostToWebview, { type: 'saved' }>): void {
  const w = waiting.get(msg.id);
  if (!w) return;
  waiting.delete(msg.id);
  if (msg.ok) w.resolve(msg.value.file);
  else w.reject(new Error('code' in msg.error ? `[${msg.error.code}] ${msg.error.detail}` : msg.error.message));
}

function overlayParts(ctx: GraphContext): { paint?: Map<string, ItemPaint>; overlayEdges?: OverlayLine[]; legend?: SvgLegend } {
  const s = ctx.state;
  const ov = ctx.overlayView.active;
  if (!ov || !s.index || !s.view) return {};
  const colors = overlayColors(s.palette);
  const vis = visibleOverlay(s.index, s.expanded, s.view, ov);
  const l = ov.legend;
  const paint = new Map<string, ItemPaint>();
  for (const [id, v] of vis.items) {
    const p: ItemPaint = {};
    if (v.t !== null) Object.assign(p, nodePaint(s.palette, colors, l.scale, v.t));
    else if (v.members.length) p.undefinedValue = true;
    if (v.marks.length) p.mark = true;
    if (v.aggregate && v.coloured) p.badge = v.coloured;
    paint.set(id, p);
  }
  const maxAbs = l.edges?.maxAbs ?? 0;
  const overlayEdges = vis.edges.map((e) => ({ source: e.source, target: e.target, color: colors.edge, width: 2 + (maxAbs > 0 ? (7 * e.absScore) / maxAbs : 0) }));
  const ramp = Array.from({ length: 9 }, (_, i) => toHex(rampColor(colors, l.scale, i / 8)));
  const bound = l.min === null || l.max === null ? undefined : Math.max(Math.abs(l.min), Math.abs(l.max));
  const lines = [
    l.description,
    l.scale === 'diverging' && l.min !== null && l.max !== null ? `diverging around 0 (data ${fmtNumber(l.min)} … ${fmtNumber(l.max)})` : undefined,
    l.edges ? `dashed: ${l.edges.label} (max ${fmtNumber(l.edges.maxAbs)})` : undefined,
    'dotted border: undefined for this run',
    ...l.notes,
    `${baseName(l.model)}${l.data ? ` · ${baseName(l.data)}` : ''} · ${l.finishedAt}`,
  ].filter((x): x is string => !!x);
  const legend: SvgLegend = {
    title: l.title,
    ramp,
    min: l.min === null ? 'no values' : l.scale === 'diverging' ? fmtNumber(-bound!) : fmtNumber(l.min),
    mid: l.scale === 'diverging' ? '0' : l.log ? 'log scale' : '',
    max: l.max === null ? '' : l.scale === 'diverging' ? fmtNumber(bound!) : fmtNumber(l.max),
    lines,
  };
  return { paint, overlayEdges, legend };
}

/** What the screen shows: cytoscape's viewport and the graph pane's size in pixels. */
export interface ScreenView {
  zoom: number;
  pan: { x: number; y: number };
  width: number;
  height: number;
}

/** What an export draws from: the last render's visible graph, its layout and item index (state.ts). */
export type DrawnGraph = Pick<GraphState, 'view' | 'layout' | 'itemIndex' | 'palette' | 'index' | 'elementDefs'>;

/** Where the view placed each edge's label (the definitions' `lo`, edgeLabels.ts), -1 where it drew none. */
function labelOffsets(s: DrawnGraph): Float64Array {
  const edges = s.view?.edges ?? [];
  const at = new Map<string, number>();
  for (const d of s.elementDefs) if (d.group === 'edges' && typeof d.data.lo === 'number') at.set(String(d.data.id), d.data.lo);
  return Float64Array.from(edges, (e) => at.get(e.id) ?? -1);
}

/**
 * The SVG of the view (what the screen shows, at its zoom) or of the whole graph (at 1 unit = 1 px), drawn from
 * the visible graph and its layout — never from cytoscape's elements: a windowed view (windowed.ts) holds only
 * those near the viewport, the far layer draws the rest, and both the whole graph and the view must have them all.
 */
export function exportSvg(s: DrawnGraph, scope: ExportScope, screen: ScreenView, overlay: ReturnType<typeof overlayParts> = {}): GraphSvg {
  const { view, layout, index } = s;
  if (!view || !layout || !index) throw new Error('the graph is not drawn yet; export once it is shown');
  const margin = 16;
  const { zoom, pan } = screen;
  const region =
    scope === 'view'
      ? { x1: -pan.x / zoom, y1: -pan.y / zoom, x2: (screen.width - pan.x) / zoom, y2: (screen.height - pan.y) / zoom }
      : { x1: -margin, y1: -margin, x2: layout.totalWidth + margin, y2: layout.totalHeight + margin };
  const file = baseName(index.graph.file);
  return graphSvg({
    view,
    layout,
    itemIndex: s.itemIndex,
    palette: s.palette,
    region,
    scale: scope === 'view' ? zoom : 1,
    edgeLabels: view.edges.length <= EDGE_LABEL_LIMIT,
    bends: view.edges.length <= BEND_LIMIT,
    labelOffsets: labelOffsets(s),
    title: `${file} — operator graph${scope === 'view' ? ' (view)' : ''}`,
    ...overlay,
  });
}

/** {@link exportSvg} of the graph pane's state and viewport, with the overlay and its legend when shown. */
export function buildGraphSvg(ctx: GraphContext, scope: ExportScope): GraphSvg {
  const cy = ctx.state.cy;
  if (!cy) throw new Error('the graph is not drawn yet; export once it is shown');
  return exportSvg(ctx.state, scope, { zoom: cy.zoom(), pan: cy.pan(), width: cy.width(), height: cy.height() }, overlayParts(ctx));
}

/** The SVG rasterised at `scale` on a canvas, as PNG bytes. */
async function rasterise(svg: GraphSvg, scale: number, pixelWidth: number, pixelHeight: number): Promise<Uint8Array> {
  const url = URL.createObjectURL(new Blob([svg.svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image(svg.width, svg.height);
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = pixelWidth;
    canvas.height = pixelHeight;
    const c = canvas.getContext('2d');
    if (!c) throw new Error(`PNG export: this page has no 2D canvas of ${pixelWidth}×${pixelHeight} pixels`);
    c.setTransform(scale, 0, 0, scale, 0, 0);
    c.drawImage(img, 0, 0, svg.width, svg.height);
    const blob = await new Promise<Blob | null>((resolve) => canvas.toBlob(resolve, 'image/png'));
    if (!blob) throw new Error(`PNG export: the canvas of ${pixelWidth}×${pixelHeight} pixels produced no image`);
    return new Uint8Array(await blob.arrayBuffer());
  } finally {
    URL.revokeObjectURL(url);
  }
}

function exportName(ctx: GraphContext, scope: ExportScope, format: ExportFormat): string {
  const file = baseName(ctx.state.index?.graph.file ?? 'model').replace(/\.(onnx|json)$/i, '');
  return `${file}-${scope === 'view' ? 'view' : 'graph'}.${format}`;
}

/** Exports the view or the whole graph; what happened is said in a note over the graph (and by the host). */
export async function exportGraph(ctx: GraphContext, format: ExportFormat, scope: ExportScope): Promise<void> {
  const button = ctx.root.querySelector<HTMLElement>('#btn-export');
  button?.setAttribute('disabled', '');
  try {
    const svg = buildGraphSvg(ctx, scope);
    let content: string | Uint8Array = svg.svg;
    let note = '';
    if (format === 'png') {
      const size = pngScale(svg.width, svg.height, PNG_RATIO);
      if (size.capped) {
        note = `The PNG is ${size.pixelWidth}×${size.pixelHeight} px (${Math.round(100 * size.scale)}% of the drawing's ${svg.width}×${svg.height}): a canvas holds at most ${(16384).toLocaleString('en-US')} px a side. The SVG keeps every detail at any size. `;
      }
      content = await rasterise(svg, size.scale, size.pixelWidth, size.pixelHeight);
    }
    const fileName = exportName(ctx, scope, format);
    ctx.root.dataset.lastExport = JSON.stringify({ format, scope, width: svg.width, height: svg.height, items: svg.items, edges: svg.edges, bytes: typeof content === 'string' ? content.length : content.byteLength });
    if (ctx.bridge.standalone) {
      // The report has no host: the bridge downloads the file.
      ctx.bridge.post({ type: 'saveExport', id: 0, format, fileName, content });
      if (note) showNote(ctx, note);
      return;
    }
    const id = ++seq;
    const saved = new Promise<string | null>((resolve, reject) => waiting.set(id, { resolve, reject }));
    ctx.bridge.post({ type: 'saveExport', id, format, fileName, content });
    const file = await saved;
    if (file) showNote(ctx, `${note}Saved to ${file}`);
    else if (note) showNote(ctx, note);
  } catch (e) {
    showNote(ctx, `Export failed: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    button?.removeAttribute('disabled');
  }
}

/** The name of an operator-graph element as the inspector shows it (an operator's node name, a block's path, a value's name). */
export function elementName(ctx: GraphContext, kind: string, ref: string): string {
  const g = ctx.state.index?.graph;
  if (!g) return ref;
  if (kind === 'op') {
    const n = ctx.state.index!.nodeById.get(ref);
    return n?.name || ref;
  }
  // A block's id is its name-scope path.
  if (kind === 'group' || kind === 'compound') return ref;
  return g.values[ref]?.name ?? ref;
}

/** Copies the name of the selected element (the inspector's button, Ctrl/Cmd+C on the graph, the context menu). */
export function copyName(ctx: GraphContext, kind: string, ref: string): void {
  const text = elementName(ctx, kind, ref);
  if (ctx.bridge.standalone) {
    void navigator.clipboard?.writeText(text).then(
      () => showNote(ctx, `Copied ${text}`),
      () => showNote(ctx, `Could not copy: the page has no clipboard access (${text})`),
    );
    return;
  }
  ctx.bridge.post({ type: 'copyText', text, what: kind === 'op' ? 'operator name' : kind === 'group' || kind === 'compound' ? 'block name' : 'value name' });
}
