/** Exports of the drawn graph: PNG (cytoscape), SVG (svg.ts, from the drawn positions) and JSON (the visible graph). */
import type { ExportRequest } from '../../../shared/protocol';
import { sceneToSvg, type SvgEdge, type SvgNode } from '../svg';
import type { PanelContext } from './context';
import { runLabel } from './runs';
import { controlsOf, vnode } from './state';

function fileStem(ctx: PanelContext): string {
  const d = ctx.state.current!;
  return `${d.run.id}-${d.kind === 'lib' ? 'interaction-graph' : d.kind === 'circuit' ? 'circuit' : 'neuron-groups'}`;
}

function svgScene(ctx: PanelContext): string {
  const s = ctx.state;
  const { colors, graph } = s;
  const c = s.cy!;
  const nodes: SvgNode[] = [];
  const ctl = controlsOf(s, s.current!);
  c.nodes().forEach((n) => {
    const kind = n.data('kind') as string;
    const faded = n.hasClass('faded');
    if (kind === 'header') {
      nodes.push({ ...n.position(), w: 0, h: 0, shape: 'rectangle', fill: 'none', stroke: 'none', strokeWidth: 0, label: n.data('label') as string, fontSize: 11, labelAt: 'text-center', bold: true, color: colors.header });
      return;
    }
    const bb = n.isParent() ? n.boundingBox({ includeLabels: false, includeOverlays: false, includeUnderlays: false }) : undefined;
    const pos = bb ? { x: (bb.x1 + bb.x2) / 2, y: (bb.y1 + bb.y2) / 2 } : n.position();
    nodes.push({
      ...pos,
      w: bb ? bb.w : (n.data('w') as number),
      h: bb ? bb.h : (n.data('h') as number),
      shape: n.data('shape') as SvgNode['shape'],
      fill: n.data('fill') as string,
      stroke: n.data('stroke') as string,
      strokeWidth: n.isParent() ? 1 : (n.data('bw') as number),
      dashed: n.data('bs') === 'dashed',
      ...(faded ? { opacity: 0.4 } : {}),
      label: n.data('label') as string,
      fontSize: n.isParent() ? 10 : (n.data('fs') as number),
      labelAt: n.isParent() ? 'top' : 'center',
      bold: n.isParent(),
      color: n.isParent() ? colors.header : colors.foreground,
      ...(ctl.pinned[n.id()] ? { ring: colors.pinned } : {}),
      title: vnode(s, n.id())?.info.join('\n') ?? '',
    });
  });
  const edges: SvgEdge[] = [];
  c.edges().forEach((e) => {
    const src = e.sourceEndpoint();
    const t = e.targetEndpoint();
    const cp = e.hasClass('bent') ? e.controlPoints() : undefined;
    edges.push({
      sx: src.x,
      sy: src.y,
      tx: t.x,
      ty: t.y,
      ...(cp && cp.length ? { cx: cp[0].x, cy: cp[0].y } : {}),
      color: e.data('color') as string,
      width: e.data('width') as number,
      opacity: e.data('op') as number,
      dashed: e.hasClass('constant') || e.hasClass('faded'),
      arrow: e.data('arrow') === 'triangle',
      ...(e.data('port') ? { label: e.data('port') as string } : {}),
      title: graph?.edges.find((x) => x.id === e.id())?.info.join('\n') ?? '',
    });
  });
  return sceneToSvg({ background: colors.background, foreground: colors.foreground, fontFamily: colors.fontFamily, nodes, edges, title: `${runLabel(s.current!)} — ${graph?.status ?? ''}` });
}

function jsonExport(ctx: PanelContext): string {
  const s = ctx.state;
  const d = s.current!;
  const c = controlsOf(s, d);
  const g = s.graph!;
  const pos = (id: string): { x: number; y: number } | undefined => {
    const n = s.cy?.getElementById(id);
    return n && n.nonempty() && !n.isParent() ? { x: Math.round(n.position('x') * 10) / 10, y: Math.round(n.position('y') * 10) / 10 } : undefined;
  };
  return JSON.stringify(
    {
      run: d.run.id,
      analysis: d.run.envelope.analysis,
      model: d.run.envelope.model,
      kind: d.kind,
      controls: { mode: c.mode, value: c.value, constantEdges: c.constantEdges, expanded: c.expanded, folds: c.folds, folded: c.folded, pinned: Object.keys(c.pinned) },
      shows: g.status,
      columns: g.columns.map((col) => ({ label: col.label, name: col.info[0] })),
      nodes: g.nodes.map((n) => {
        const { w: _w, h: _h, info, order: _o, ...rest } = n;
        return { ...rest, position: pos(n.id), pinned: !!c.pinned[n.id], info };
      }),
      edges: g.edges.map((e) => ({ ...e })),
    },
    null,
    2,
  );
}

/** Posts an `export` of the drawn graph in `format` (the host asks where to save it). */
export async function exportAs(ctx: PanelContext, format: ExportRequest['format']): Promise<void> {
  const s = ctx.state;
  const { current, cy } = s;
  if (!current || !cy) return;
  const fileName = `${fileStem(ctx)}.${format}`;
  let content: string | Uint8Array;
  if (format === 'png') {
    const blob = cy.png({ full: true, scale: 2, output: 'blob', bg: s.colors.background });
    content = new Uint8Array(await blob.arrayBuffer());
  } else if (format === 'svg') content = svgScene(ctx);
  else content = jsonExport(ctx);
  ctx.bridge.post({ type: 'export', format, fileName, content, runId: current.run.id });
}
