/**
 * A results table in the panel: `table[data-table]` with the envelope's values in `data-value` (full
 * precision), null metrics as "—" with a tooltip, sortable columns, a row limit with "Show all", and CSV
 * export of every row.
 */
import '@vscode-elements/elements/dist/vscode-button/index.js';
import { h } from '../inspector';
import { cellCsv } from './csv';
import type { Cell, TableSpec } from './spec';

export interface TableHost {
  exportCsv(table: TableSpec): void;
}

function compare(a: Cell, b: Cell): number {
  // Undefined (null) values sort last in both directions: handled by the caller.
  if (typeof a.v === 'number' && typeof b.v === 'number') return a.v - b.v;
  if (typeof a.v === 'boolean' && typeof b.v === 'boolean') return Number(a.v) - Number(b.v);
  return String(a.v).localeCompare(String(b.v), undefined, { numeric: true });
}

export class TableBlock {
  readonly element: HTMLElement;
  private readonly tbody: HTMLTableSectionElement;
  private readonly more: HTMLElement;
  private order: number[];
  private sortCol = -1;
  private sortDir: 1 | -1 = 1;
  private showAll = false;
  private readonly headers: HTMLTableCellElement[] = [];

  constructor(
    readonly spec: TableSpec,
    host: TableHost,
  ) {
    this.order = spec.rows.map((_, i) => i);
    const csv = h('vscode-button' as 'button', { secondary: true, 'data-action': 'export-csv', title: `Export “${spec.title}” as CSV`, 'aria-label': `Export ${spec.title} as CSV` });
    csv.textContent = 'CSV';
    csv.addEventListener('click', () => host.exportCsv(spec));
    const head = h('div', { className: 'table-head' }, h('h4', {}, spec.title), h('span', { className: 'spacer' }), csv);
    const tr = h('tr');
    spec.columns.forEach((c, j) => {
      const th = h('th', { scope: 'col', title: c.title, className: c.numeric ? 'num' : undefined });
      if (spec.sortable && !spec.kv) {
        const b = h('button', { type: 'button', className: 'sort', title: `${c.title ? `${c.title}\n` : ''}Sort by ${c.label}` }, c.label);
        b.addEventListener('click', () => this.sortBy(j));
        th.append(b);
      } else th.textContent = c.label;
      this.headers.push(th);
      tr.append(th);
    });
    this.tbody = h('tbody');
    const table = h('table', { 'data-table': spec.slug, className: spec.kv ? 'kv' : 'data' }, h('thead', {}, tr), this.tbody);
    this.more = h('div', { className: 'table-more' });
    this.element = h('div', { className: 'table-block' }, head, spec.note ? h('p', { className: 'table-note muted' }, spec.note) : null, h('div', { className: 'table-scroll' }, table), this.more);
    this.fill();
  }

  private sortBy(col: number): void {
    if (this.sortCol === col) this.sortDir = this.sortDir === 1 ? -1 : 1;
    else {
      this.sortCol = col;
      this.sortDir = this.spec.columns[col].numeric ? -1 : 1;
    }
    const rows = this.spec.rows;
    // Marked summary rows (totals, "global") stay at the bottom; undefined values sort last.
    const fixed = new Set(this.spec.kv ? [] : this.spec.marked?.filter((i) => rows[i][0].v === 'global' || rows[i][0].v === 'all layer pairs') ?? []);
    const body = rows.map((_, i) => i).filter((i) => !fixed.has(i));
    body.sort((a, b) => {
      const ca = rows[a][col];
      const cb = rows[b][col];
      if (ca.v === null || cb.v === null) return ca.v === null && cb.v === null ? a - b : ca.v === null ? 1 : -1;
      return this.sortDir * compare(ca, cb) || a - b;
    });
    this.order = [...body, ...fixed];
    this.headers.forEach((th, j) => {
      if (j === col) th.setAttribute('aria-sort', this.sortDir === 1 ? 'ascending' : 'descending');
      else th.removeAttribute('aria-sort');
    });
    this.fill();
  }

  private fill(): void {
    const { spec } = this;
    const limit = spec.limit && !this.showAll ? spec.limit : Infinity;
    const marked = new Set(spec.marked ?? []);
    const frag = document.createDocumentFragment();
    for (const i of this.order.slice(0, limit)) {
      const tr = h('tr', { className: marked.has(i) ? 'marked' : undefined });
      spec.rows[i].forEach((c, j) => {
        const tag = spec.kv && j === 0 ? 'th' : 'td';
        const cell = h(tag, { className: c.cls, title: c.title, scope: tag === 'th' ? 'row' : undefined });
        const raw = cellCsv(c);
        if (raw !== null) cell.dataset.value = String(raw);
        else cell.dataset.null = 'true';
        if (c.field) cell.dataset.field = c.field;
        cell.textContent = c.text;
        tr.append(cell);
      });
      frag.append(tr);
    }
    this.tbody.replaceChildren(frag);
    this.more.replaceChildren();
    if (spec.rows.length > limit) {
      const b = h('vscode-button' as 'button', { secondary: true, 'data-action': 'show-all-rows' });
      b.textContent = `Show all ${spec.rows.length} rows`;
      b.addEventListener('click', () => {
        this.showAll = true;
        this.fill();
      });
      this.more.append(h('span', { className: 'muted' }, `${limit} of ${spec.rows.length} rows shown (the CSV has all). `), b);
    }
  }
}
