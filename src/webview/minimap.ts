/**
 * The overview: every element's box drawn small, the viewport as a rectangle; click or drag to move the
 * viewport. Drawn from the layout result (positions and sizes as typed arrays), not from cytoscape's
 * elements: asking cytoscape for 20k bounding boxes costs seconds. The boxes are drawn once per layout into
 * a cached canvas; viewport changes only recomposite.
 */
import type { Core } from 'cytoscape';
import type { LayoutResult } from './layout';
import type { Palette } from './theme';
import type { OpCategory } from './viewModel';
import { screenBox, type ItemBoxes, type Viewport } from './viewportFit';

export type Corner = 'bottom-right' | 'top-right' | 'top-left' | 'bottom-left';

/** The title strip of a compound box (graph units, from its top-left corner). */
const COMPOUND_TITLE = { w: 260, h: 24 };

/** Corners tried in this order; bottom-left last (the results legend sits there when shown). */
export const CORNERS: readonly Corner[] = ['bottom-right', 'top-right', 'top-left', 'bottom-left'];

/**
 * The first corner of a W×H view where a `size` box at `margin` from the edges covers no item and no
 * compound's title (a gap of `gap` px kept), or undefined when every corner would hide something: then the
 * minimap is not shown.
 */
export function freeCorner(boxes: ItemBoxes, v: Viewport, W: number, H: number, size: { w: number; h: number }, margin = 10, gap = 4, corners: readonly Corner[] = CORNERS): Corner | undefined {
  if (size.w + 2 * margin > W || size.h + 2 * margin > H) return undefined;
  const rects = corners.map((c) => {
    const x1 = c.endsWith('left') ? margin : W - margin - size.w;
    const y1 = c.startsWith('top') ? margin : H - margin - size.h;
    return { c, x1: x1 - gap, y1: y1 - gap, x2: x1 + size.w + gap, y2: y1 + size.h + gap, free: true };
  });
  const first = boxes.firstItem ?? 0;
  for (let i = 0; i < boxes.x.length; i++) {
    const b = screenBox(boxes, i, v);
    // a compound box's inside is empty space: only its title strip (top-left) counts
    if (i < first) {
      b.x2 = Math.min(b.x2, b.x1 + COMPOUND_TITLE.w * v.zoom);
      b.y2 = Math.min(b.y2, b.y1 + COMPOUND_TITLE.h * v.zoom);
    }
    for (const r of rects) if (r.free && b.x1 < r.x2 && b.x2 > r.x1 && b.y1 < r.y2 && b.y2 > r.y1) r.free = false;
  }
  return rects.find((r) => r.free)?.c;
}

export interface MinimapItems {
  layout: LayoutResult;
  /** Per layout item: compound or not, and its category (for the colour). */
  isCompound: Uint8Array;
  category: (OpCategory | undefined)[];
}

export class Minimap {
  private readonly base = document.createElement('canvas');
  private bounds = { x1: 0, y1: 0, w: 1, h: 1 };
  private scale = 1;
  private offX = 0;
  private offY = 0;
  private frame = 0;
  private dragging = false;
  private items: MinimapItems | undefined;
  private placeTimer: ReturnType<typeof setTimeout> | undefined;
  /** Where the minimap sits now (undefined: hidden, it would cover nodes in every corner). */
  corner: Corner | undefined = 'bottom-right';

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private cy: Core,
    private palette: Palette,
  ) {
    const move = (ev: PointerEvent): void => {
      const r = canvas.getBoundingClientRect();
      const mx = (ev.clientX - r.left - this.offX) / this.scale + this.bounds.x1;
      const my = (ev.clientY - r.top - this.offY) / this.scale + this.bounds.y1;
      const zoom = this.cy.zoom();
      this.cy.pan({ x: this.cy.width() / 2 - mx * zoom, y: this.cy.height() / 2 - my * zoom });
    };
    canvas.addEventListener('pointerdown', (ev) => {
      this.dragging = true;
      canvas.setPointerCapture(ev.pointerId);
      move(ev);
    });
    canvas.addEventListener('pointermove', (ev) => {
      if (this.dragging) move(ev);
    });
    canvas.addEventListener('pointerup', () => {
      this.dragging = false;
      this.schedulePlace();
    });
  }

  attach(cy: Core): void {
    this.cy = cy;
    cy.on('viewport resize', () => {
      this.schedule();
      this.schedulePlace();
    });
  }

  /** Moves the minimap to a corner where it hides no node (hidden when there is none), once the view settles. */
  private schedulePlace(): void {
    if (this.placeTimer !== undefined) clearTimeout(this.placeTimer);
    this.placeTimer = setTimeout(() => {
      this.placeTimer = undefined;
      if (!this.dragging) this.place();
    }, 120);
  }

  place(): void {
    const items = this.items;
    if (!items) return;
    const legend = this.canvas.parentElement?.querySelector<HTMLElement>('#overlay-legend');
    const corners = legend && legend.offsetParent !== null ? CORNERS.filter((c) => c !== 'bottom-left') : CORNERS;
    let firstItem = 0;
    while (firstItem < items.isCompound.length && items.isCompound[firstItem]) firstItem++;
    const size = { w: this.canvas.offsetWidth || 200, h: this.canvas.offsetHeight || 140 };
    const corner = freeCorner({ ...items.layout, firstItem }, { zoom: this.cy.zoom(), pan: this.cy.pan() }, this.cy.width(), this.cy.height(), size, 10, 4, corners);
    this.corner = corner;
    this.canvas.dataset.corner = corner ?? 'none';
    const st = this.canvas.style;
    st.display = corner ? '' : 'none';
    if (!corner) return;
    st.top = corner.startsWith('top') ? '10px' : 'auto';
    st.bottom = corner.startsWith('bottom') ? '10px' : 'auto';
    st.left = corner.endsWith('left') ? '10px' : 'auto';
    st.right = corner.endsWith('right') ? '10px' : 'auto';
  }

  setPalette(p: Palette): void {
    this.palette = p;
    this.rebuild();
  }

  setItems(items: MinimapItems): void {
    this.items = items;
    this.rebuild();
    this.place();
  }

  /** Redraw the element boxes (after a layout or a resize). */
  rebuild(): void {
    const items = this.items;
    if (!items) return;
    const L = items.layout;
    const W = this.canvas.clientWidth || 200;
    const H = this.canvas.clientHeight || 140;
    const dpr = window.devicePixelRatio || 1;
    for (const c of [this.base, this.canvas]) {
      c.width = Math.round(W * dpr);
      c.height = Math.round(H * dpr);
    }
    const bw = Math.max(1, L.totalWidth);
    const bh = Math.max(1, L.totalHeight);
    this.scale = Math.min((W - 8) / bw, (H - 8) / bh);
    this.offX = (W - bw * this.scale) / 2;
    this.offY = (H - bh * this.scale) / 2;
    this.bounds = { x1: 0, y1: 0, w: bw, h: bh };
    const ctx = this.base.getContext('2d')!;
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, W, H);
    const p = this.palette;
    const s = this.scale;
    ctx.strokeStyle = p.compoundBorder;
    ctx.lineWidth = 1;
    const n = L.x.length;
    for (let i = 0; i < n; i++) {
      if (!items.isCompound[i]) continue;
      ctx.strokeRect(this.offX + (L.x[i] - L.width[i] / 2) * s, this.offY + (L.y[i] - L.height[i] / 2) * s, L.width[i] * s, L.height[i] * s);
    }
    for (let i = 0; i < n; i++) {
      if (items.isCompound[i]) continue;
      const w = Math.max(1.5, L.width[i] * s);
      const h = Math.max(1.5, L.height[i] * s);
      const cat = items.category[i];
      ctx.fillStyle = cat ? p.stroke[cat] : p.muted;
      ctx.fillRect(this.offX + L.x[i] * s - w / 2, this.offY + L.y[i] * s - h / 2, w, h);
    }
    this.draw();
  }

  private schedule(): void {
    if (this.frame) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.draw();
    });
  }

  private draw(): void {
    const ctx = this.canvas.getContext('2d')!;
    const dpr = window.devicePixelRatio || 1;
    ctx.setTransform(1, 0, 0, 1, 0, 0);
    ctx.clearRect(0, 0, this.canvas.width, this.canvas.height);
    ctx.drawImage(this.base, 0, 0);
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    const ext = this.cy.extent();
    const s = this.scale;
    ctx.strokeStyle = this.palette.focus;
    ctx.lineWidth = 1.5;
    ctx.strokeRect(this.offX + (ext.x1 - this.bounds.x1) * s, this.offY + (ext.y1 - this.bounds.y1) * s, ext.w * s, ext.h * s);
  }
}
