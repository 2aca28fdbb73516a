/**
 * The SVG export: the drawn graph written from its positions and colours (not a screenshot), so it stays
 * sharp and editable. Pure: view.ts collects the scene from cytoscape; tests build scenes directly.
 */
import { escapeHtml } from '../../shared/html';

export interface SvgNode {
  x: number;
  y: number;
  w: number;
  h: number;
  shape: 'ellipse' | 'round-rectangle' | 'rectangle';
  fill: string;
  stroke: string;
  strokeWidth: number;
  dashed?: boolean;
  opacity?: number;
  label: string;
  fontSize: number;
  /** Where the label goes: inside (centre), above the box (compounds), or as free text. */
  labelAt: 'center' | 'top' | 'text-left' | 'text-center';
  bold?: boolean;
  color: string;
  /** A pinned node's ring colour. */
  ring?: string;
  title?: string;
}

export interface SvgEdge {
  sx: number;
  sy: number;
  tx: number;
  ty: number;
  /** A quadratic control point (bezier edges). */
  cx?: number;
  cy?: number;
  color: string;
  width: number;
  opacity: number;
  dashed?: boolean;
  arrow?: boolean;
  /** Text at the target end (a head's port). */
  label?: string;
  title?: string;
}

export interface SvgScene {
  background: string;
  foreground: string;
  fontFamily: string;
  /** Compounds first (they are drawn below), then the rest. */
  nodes: SvgNode[];
  edges: SvgEdge[];
  title?: string;
}

const esc = escapeHtml;
const n = (v: number): string => (Math.round(v * 100) / 100).toString();

export function sceneToSvg(scene: SvgScene): string {
  let x1 = Infinity;
  let y1 = Infinity;
  let x2 = -Infinity;
  let y2 = -Infinity;
  const grow = (x: number, y: number): void => {
    x1 = Math.min(x1, x);
    y1 = Math.min(y1, y);
    x2 = Math.max(x2, x);
    y2 = Math.max(y2, y);
  };
  for (const v of scene.nodes) {
    const textW = v.labelAt.startsWith('text') ? v.label.length * v.fontSize * 0.62 : 0;
    const left = v.labelAt === 'text-left' ? v.x - textW : v.labelAt === 'text-center' ? v.x - textW / 2 : v.x - v.w / 2;
    grow(Math.min(left, v.x - v.w / 2), v.y - v.h / 2 - (v.labelAt === 'top' ? v.fontSize + 4 : 0));
    grow(Math.max(v.x + v.w / 2, left + textW), v.y + v.h / 2);
  }
  for (const e of scene.edges) {
    grow(e.sx, e.sy);
    grow(e.tx, e.ty);
    if (e.cx !== undefined && e.cy !== undefined) grow(e.cx, e.cy);
  }
  if (!Number.isFinite(x1)) x1 = y1 = x2 = y2 = 0;
  const m = 16;
  const vx = x1 - m;
  const vy = y1 - m;
  const vw = x2 - x1 + 2 * m;
  const vh = y2 - y1 + 2 * m;
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" viewBox="${n(vx)} ${n(vy)} ${n(vw)} ${n(vh)}" width="${n(vw)}" height="${n(vh)}" font-family="${esc(scene.fontFamily)}">`,
  );
  if (scene.title) out.push(`<title>${esc(scene.title)}</title>`);
  out.push(`<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="6" markerHeight="6" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="context-stroke"/></marker></defs>`);
  out.push(`<rect x="${n(vx)}" y="${n(vy)}" width="${n(vw)}" height="${n(vh)}" fill="${esc(scene.background)}"/>`);
  const compounds = scene.nodes.filter((v) => v.labelAt === 'top');
  const rest = scene.nodes.filter((v) => v.labelAt !== 'top');
  const node = (v: SvgNode): void => {
    const attrs = `fill="${esc(v.fill)}" stroke="${esc(v.stroke)}" stroke-width="${n(v.strokeWidth)}"${v.dashed ? ' stroke-dasharray="4 3"' : ''}${v.opacity !== undefined && v.opacity < 1 ? ` opacity="${n(v.opacity)}"` : ''}`;
    out.push(`<g>${v.title ? `<title>${esc(v.title)}</title>` : ''}`);
    if (v.labelAt === 'text-left' || v.labelAt === 'text-center') {
      out.push(
        `<text x="${n(v.x)}" y="${n(v.y)}" font-size="${n(v.fontSize)}"${v.bold ? ' font-weight="bold"' : ''} fill="${esc(v.color)}" text-anchor="${v.labelAt === 'text-left' ? 'end' : 'middle'}" dominant-baseline="central">${esc(v.label)}</text></g>`,
      );
      return;
    }
    if (v.ring) {
      const p = 4;
      out.push(
        v.shape === 'ellipse'
          ? `<ellipse cx="${n(v.x)}" cy="${n(v.y)}" rx="${n(v.w / 2 + p)}" ry="${n(v.h / 2 + p)}" fill="${esc(v.ring)}" opacity="0.6"/>`
          : `<rect x="${n(v.x - v.w / 2 - p)}" y="${n(v.y - v.h / 2 - p)}" width="${n(v.w + 2 * p)}" height="${n(v.h + 2 * p)}" rx="6" fill="${esc(v.ring)}" opacity="0.6"/>`,
      );
    }
    if (v.shape === 'ellipse') out.push(`<ellipse cx="${n(v.x)}" cy="${n(v.y)}" rx="${n(v.w / 2)}" ry="${n(v.h / 2)}" ${attrs}/>`);
    else out.push(`<rect x="${n(v.x - v.w / 2)}" y="${n(v.y - v.h / 2)}" width="${n(v.w)}" height="${n(v.h)}" rx="${v.shape === 'round-rectangle' ? 4 : 0}" ${attrs}/>`);
    if (v.label) {
      const ty = v.labelAt === 'top' ? v.y - v.h / 2 - 4 : v.y;
      out.push(
        `<text x="${n(v.x)}" y="${n(ty)}" font-size="${n(v.fontSize)}"${v.bold ? ' font-weight="bold"' : ''} fill="${esc(v.color)}" text-anchor="middle" dominant-baseline="${v.labelAt === 'top' ? 'auto' : 'central'}">${esc(v.label)}</text>`,
      );
    }
    out.push('</g>');
  };
  for (const v of compounds) node(v);
  for (const e of scene.edges) {
    const d = e.cx !== undefined && e.cy !== undefined ? `M${n(e.sx)},${n(e.sy)} Q${n(e.cx)},${n(e.cy)} ${n(e.tx)},${n(e.ty)}` : `M${n(e.sx)},${n(e.sy)} L${n(e.tx)},${n(e.ty)}`;
    out.push(
      `<path d="${d}" fill="none" stroke="${esc(e.color)}" stroke-width="${n(e.width)}" stroke-opacity="${n(e.opacity)}"${e.dashed ? ' stroke-dasharray="5 3"' : ''}${e.arrow ? ' marker-end="url(#arrow)"' : ''}>${e.title ? `<title>${esc(e.title)}</title>` : ''}</path>`,
    );
    if (e.label) {
      // Near the target, like the drawing's port labels.
      const px = e.cx ?? e.sx;
      const py = e.cy ?? e.sy;
      const len = Math.hypot(e.tx - px, e.ty - py) || 1;
      const lx = e.tx + ((px - e.tx) / len) * 16;
      const ly = e.ty + ((py - e.ty) / len) * 16;
      out.push(`<text x="${n(lx)}" y="${n(ly)}" font-size="10" fill="${esc(scene.foreground)}" text-anchor="middle" dominant-baseline="central">${esc(e.label)}</text>`);
    }
  }
  for (const v of rest) node(v);
  out.push('</svg>');
  return out.join('\n');
}
