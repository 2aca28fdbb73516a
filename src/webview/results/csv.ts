/**
 * CSV text of the results tables (RFC 4180): comma-separated, CRLF line ends, a field quoted when it holds a
 * comma, a quote, CR or LF or starts/ends with a space (quotes doubled inside). Numbers at full precision
 * (the shortest decimal that reads back as the same double); undefined metrics (null) are empty fields.
 * Pure (no DOM).
 */
import type { Cell, TableSpec } from './spec';

export function csvField(v: string | number | boolean | null | undefined): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? String(v) : String(v);
  return /[",\r\n]|^\s|\s$/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csvRow(fields: readonly (string | number | boolean | null | undefined)[]): string {
  return fields.map(csvField).join(',');
}

/** The raw value a cell exports (its `csv` override, else its value). */
export function cellCsv(c: Cell): string | number | boolean | null {
  return c.csv !== undefined ? c.csv : c.v;
}

/** A table as CSV: a header row of column labels, then every row (all of them, not only the ones shown). */
export function tableCsv(t: TableSpec): string {
  const lines = [csvRow(t.columns.map((c) => c.csvLabel ?? c.label))];
  for (const r of t.rows) lines.push(csvRow(r.map(cellCsv)));
  return `${lines.join('\r\n')}\r\n`;
}

/** Parses CSV text produced by {@link tableCsv} (or any RFC 4180 text) back into rows of strings. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  let i = 0;
  while (i < text.length) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"') {
        if (text[i + 1] === '"') {
          field += '"';
          i += 2;
          continue;
        }
        quoted = false;
        i++;
        continue;
      }
      field += ch;
      i++;
      continue;
    }
    if (ch === '"') {
      quoted = true;
      i++;
    } else if (ch === ',') {
      row.push(field);
      field = '';
      i++;
    } else if (ch === '\r' || ch === '\n') {
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
      i += ch === '\r' && text[i + 1] === '\n' ? 2 : 1;
    } else {
      field += ch;
      i++;
    }
  }
  if (field !== '' || row.length) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}
