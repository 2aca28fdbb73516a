/**
 * The architecture table's JSON shape, its markdown (examples/README.md) and the parser the integration test
 * reads the markdown back with.
 */
import type { AnalysisName } from '../../src/shared/analysis';
import type { Cell } from './rows';

export const TABLE_START = '<!-- arch-table:start -->';
export const TABLE_END = '<!-- arch-table:end -->';

export type TableCell = Cell & { command: string; request: Record<string, unknown> };

export interface ArchTable {
  generatedBy: string;
  engine: string;
  analyses: AnalysisName[];
  /** SHA-256 of each generated data file. */
  data: Record<string, string>;
  rows: { id: string; architecture: string; model: string; source: string; cells: Record<string, TableCell> }[];
}

/** Headline of each column, as the header names it. */
export const COLUMN_HEADLINES: Record<AnalysisName, string> = {
  collapse: 'NC1 = Tr(Σ_W Σ_B†)/C at the classifier input',
  hash: 'live code bits, train redundancy ratio',
  redundancy: 'clones = width / critical width',
  lib: 'edges holding 90% of the edge mass',
  attention: 'global fraction of weights above ε = 0.01',
  circuit: 'measured faithfulness of the smallest circuit',
};

const escapeCell = (s: string): string => s.replace(/\\/g, '\\\\').replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The markdown of one cell: the headline text, or the error class in italics and its message. */
export function cellMarkdown(c: Cell): string {
  if (c.status === 'ok') return escapeCell(c.text);
  const colon = c.text.indexOf(': ');
  return `*${escapeCell(c.text.slice(0, colon))}*: ${escapeCell(c.text.slice(colon + 2))}`;
}

export function renderTable(t: ArchTable): string {
  const lines: string[] = [];
  lines.push(`| architecture | checkpoint | ${t.analyses.map((a) => `${a}`).join(' | ')} |`);
  lines.push(`|${' --- |'.repeat(2 + t.analyses.length)}`);
  for (const r of t.rows) {
    lines.push(`| ${escapeCell(r.architecture)} | \`${escapeCell(r.model)}\` | ${t.analyses.map((a) => cellMarkdown(r.cells[a])).join(' | ')} |`);
  }
  lines.push('');
  lines.push('Headlines: ' + t.analyses.map((a) => `**${a}** — ${COLUMN_HEADLINES[a]}`).join('; ') + '. A reason is the error the engine returned (its class, then its message).');
  lines.push('');
  return `${lines.join('\n')}\n`;
}

/** Splits a markdown table row on unescaped `|`, unescaping the cells. */
export function splitRow(line: string): string[] {
  const cells: string[] = [];
  let cur = '';
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (ch === '\\' && i + 1 < line.length) {
      cur += line[++i];
      continue;
    }
    if (ch === '|') {
      cells.push(cur.trim());
      cur = '';
      continue;
    }
    cur += ch;
  }
  cells.push(cur.trim());
  return cells.slice(1, -1);
}

/** The table section of a README as rows of cells (header first), or a thrown error when the markers are missing. */
export function parseSection(readme: string): string[][] {
  const a = readme.indexOf(TABLE_START);
  const b = readme.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`no '${TABLE_START}' … '${TABLE_END}' section`);
  return readme
    .slice(a + TABLE_START.length, b)
    .split('\n')
    .filter((l) => l.startsWith('|') && !/^\|( --- \|)+$/.test(l))
    .map(splitRow);
}
