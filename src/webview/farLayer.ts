/**
 * The far layer of a windowed graph (windowed.ts): a canvas above cytoscape's, without pointer events, that
 * draws the nodes in view that cytoscape does not hold (not mounted yet, or too many to mount when zoomed far
 * out) as boxes in their category colours with their first label line, and the edges touching them as lines,
 * from the layout's positions. Per frame it touches only what the viewport shows (the window's grid).
 */
import type { Core } from 'cytoscape';
import type { Palette } from './theme';
import type { OpCategory } from './viewModel';
import type { NodeGrid, WindowedMount } from './windowed';

/** Above this many far nodes in view, edges are left out (they are sub-pixel at that zoom) and so are labels. */
const EDGE_LIMIT = 20000;
const LABEL_LIMIT = 400;

/** The nodes (indices in the window's grid) a viewport of `width`×`height` px shows that cytoscape does not hold: what this layer draws. */
export function farInView(grid: NodeGrid, mounted: Uint8Array, v: { zoom: number; pan: { x: number; y: number } }, width: number, height: number): number[] {
  const { zoom: z, pan } = v;
  return grid.query({ x1: -pan.x / z, y1: -pan.y / z, x2: (width - pan.x) / z, y2: (height - pan.y) / z }).filter((i) => !mounted[i]);
}

export class FarLayer {
  readonly canvas = document.createElement('canvas');
  private frame = 0;
  private readonly schedule = (): void => {
    if (!this.frame) this.frame = requestAnimationFrame(() => this.draw());
  };

  constructor(
    host: HTMLElement,
    private readonly cy: Core,
    private readonly win: WindowedMount,
    private readonly palette: () => Palette,
    /** Whether analysis results are shown: operators then drop their category colours (as graphView's stylesheet does). */
    private readonly overlay: () => boolean = () => false,
  ) {
    this.canvas.className = 'far-layer';
    this.canvas.setAttribute('aria-hidden', 'true');
    Object.assign(this.canvas.style, { position: 'absolute', inset: '0', pointerEvents: 'none', width: '100%', height: '100%' });
    host.after(this.canvas);
    cy.on('viewport resize', this.schedule);
    this.schedule();
  }

  /** Redraws on the next frame (after the window changed). */
  invalidate(): void {
    this.schedule();
  }

  dispose(): void {
    cancelAnimationFrame(this.frame);
    this.cy.off('viewport resize', this.schedule);
    this.canvas.remove();
  }

  /** How many nodes the last frame drew (read by tests and the benchmark). */
  drawn = 0;

  private draw(): void {
    this.frame = 0;
    const W = this.canvas.clientWidth;
    const H = this.canvas.clientHeight;
    const dpr = window.devicePixelRatio || 1;
    if (this.canvas.width !== Math.round(W * dpr) || this.canvas.height !== Math.round(H * dpr)) {
      this.canvas.width = Math.round(W * dpr);
      this.canvas.height = Math.round(H * dpr);
    }
    const g = this.canvas.getContext('2d');
    if (!g) return;
    g.setTransform(1, 0, 0, 1, 0, 0);
    g.clearRect(0, 0, this.canvas.width, this.canvas.height);
    const z = this.cy.zoom();
    const pan = this.cy.pan();
    const grid = this.win.grid;
    const mounted = this.win.isMounted;
    const far = farInView(grid, mounted, { zoom: z, pan }, W, H);
    this.drawn = far.length;
    if (!far.length) return;
    g.setTransform(dpr * z, 0, 0, dpr * z, dpr * pan.x, dpr * pan.y);
    const p = this.palette();
    const defs = this.win.nodeDefs;
    const min = 1 / z;
    if (far.length <= EDGE_LIMIT) {
      const { src, dst, incStart, incEdges } = this.win.edgeEnds();
      g.beginPath();
      for (const i of far) {
        for (let j = incStart[i]; j < incStart[i + 1]; j++) {
          const k = incEdges[j];
          const s = src[k];
          const t = dst[k];
          if (s < 0 || t < 0) continue;
          g.moveTo(grid.x[s], grid.y[s] + grid.h[s] / 2);
          g.lineTo(grid.x[t], grid.y[t] - grid.h[t] / 2);
        }
      }
      g.strokeStyle = p.edge;
      g.lineWidth = Math.max(1, min);
      g.stroke();
    }
    // One path per colour pair: a few fills instead of one per node. Results shown: the overlay's colours
    // (data ovFill / ovStroke on the definitions, overlayView.ts), other operators neutral.
    const neutral = this.overlay();
    const byColour = new Map<string, number[]>();
    for (const i of far) {
      const d = defs[i].data;
      const cat = (d.cat ?? 'other') as OpCategory;
      const fill = (d.ovFill as string | undefined) ?? (neutral && d.kind === 'op' ? p.fill.other : (p.fill[cat] ?? p.fill.other));
      const stroke = (d.ovStroke as string | undefined) ?? (neutral && d.kind === 'op' ? p.stroke.shape : (p.stroke[cat] ?? p.stroke.other));
      const key = `${fill}\u0000${stroke}`;
      const list = byColour.get(key);
      if (list) list.push(i);
      else byColour.set(key, [i]);
    }
    for (const [key, list] of byColour) {
      const [fill, stroke] = key.split('\u0000');
      g.beginPath();
      for (const i of list) {
        const w = Math.max(min, grid.w[i]);
        const h = Math.max(min, grid.h[i]);
        g.rect(grid.x[i] - w / 2, grid.y[i] - h / 2, w, h);
      }
      g.fillStyle = fill;
      g.fill();
      if (z > 0.15) {
        g.strokeStyle = stroke;
        g.lineWidth = 1;
        g.stroke();
      }
    }
    if (z >= 0.35 && far.length <= LABEL_LIMIT) {
      g.fillStyle = p.foreground;
      g.font = `11px ${p.fontFamily}`;
      g.textAlign = 'center';
      g.textBaseline = 'middle';
      for (const i of far) {
        const label = String(defs[i].data.label ?? '');
        const nl = label.indexOf('\n');
        g.fillText(nl < 0 ? label : label.slice(0, nl), grid.x[i], grid.y[i], grid.w[i] - 6);
      }
    }
  }
}
