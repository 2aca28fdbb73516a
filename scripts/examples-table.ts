/**
 * The architecture table of examples/README.md (issue 16): every analysis on every row's checkpoint, each cell
 * its headline number or the engine's typed reason. Writes examples/arch-table.json (exact values, requests,
 * data hashes) and the markdown between `<!-- arch-table:start -->` and `<!-- arch-table:end -->`.
 *
 *   npm run examples:table                       # every row (minutes on two shared cores)
 *   npm run examples:table -- --only mlp,cnn     # some rows (the others are kept from the JSON)
 *   npm run examples:table -- --markdown-only    # re-render the README section from the JSON
 *
 * Cells run in this process through the engine's job runner (`runJob`, the code path of `circuitscope run`).
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { parseArgs } from 'node:util';
import { releaseSessions } from '../src/engine/capture';
import { makeData, repo, type DataFile } from './archTable/data';
import { ANALYSIS_NAMES, cellCommand, cellRequest, ROWS, runCell, type Cell } from './archTable/rows';
import { renderTable, TABLE_END, TABLE_START, type ArchTable } from './archTable/render';

const JSON_FILE = path.join(repo, 'examples', 'arch-table.json');
const README = path.join(repo, 'examples', 'README.md');

/** Replaces the marked section of the README (markers must exist once each). */
export function writeReadmeSection(table: ArchTable): void {
  const text = fs.readFileSync(README, 'utf8');
  const a = text.indexOf(TABLE_START);
  const b = text.indexOf(TABLE_END);
  if (a < 0 || b < a) throw new Error(`${README} has no '${TABLE_START}' … '${TABLE_END}' section`);
  fs.writeFileSync(README, `${text.slice(0, a)}${TABLE_START}\n${renderTable(table)}${text.slice(b)}`);
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' }, 'markdown-only': { type: 'boolean', default: false }, 'timeout-s': { type: 'string', default: '600' } } });
  const previous: ArchTable | undefined = fs.existsSync(JSON_FILE) ? (JSON.parse(fs.readFileSync(JSON_FILE, 'utf8')) as ArchTable) : undefined;
  if (values['markdown-only']) {
    if (!previous) throw new Error(`${JSON_FILE} does not exist yet: run without --markdown-only first`);
    writeReadmeSection(previous);
    return;
  }
  const only = values.only ? new Set(values.only.split(',').map((s) => s.trim())) : undefined;
  for (const id of only ?? []) if (!ROWS.some((r) => r.id === id)) throw new Error(`--only: no row '${id}' (rows: ${ROWS.map((r) => r.id).join(', ')})`);
  const rows = ROWS.filter((r) => !only || only.has(r.id));
  for (const r of rows) if (!fs.existsSync(path.join(repo, r.model))) throw new Error(`row '${r.id}': the model ${r.model} does not exist (made by ${r.source})`);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-arch-table-'));
  try {
    const needs = [...new Set(rows.flatMap((r) => r.needs))] as DataFile[];
    const hashes = needs.length ? await makeData(dataDir, needs) : {};
    const table: ArchTable = {
      generatedBy: 'npm run examples:table (scripts/examples-table.ts)',
      engine: 'in-process runJob({ kind: "analysis", … }) — the job `circuitscope run <analysis>` sends to the engine worker',
      analyses: [...ANALYSIS_NAMES],
      data: { ...(previous?.data ?? {}), ...hashes },
      rows: previous?.rows.filter((r) => ROWS.some((s) => s.id === r.id) && !rows.some((s) => s.id === r.id)) ?? [],
    };
    for (const row of rows) {
      const cells: Record<string, Cell & { command: string; request: Record<string, unknown> }> = {};
      for (const analysis of ANALYSIS_NAMES) {
        process.stderr.write(`${row.id} ${analysis} … `);
        const cell = await runCell(row, analysis, dataDir, Number(values['timeout-s']) * 1000);
        process.stderr.write(`${cell.text} (${cell.seconds.toFixed(1)} s)\n`);
        const { kind: _kind, model: _model, data, ...request } = cellRequest(row, analysis, dataDir);
        const dataRef = row.cells[analysis]?.data ?? row.data;
        cells[analysis] = { ...cell, command: cellCommand(row, analysis), request: { ...request, data: dataRef, dataFile: typeof data === 'string' ? path.basename(data) : undefined } };
      }
      await releaseSessions();
      table.rows.push({ id: row.id, architecture: row.architecture, model: row.model, source: row.source, cells });
    }
    // rows of other runs written meanwhile are kept (runs of disjoint --only sets may overlap)
    if (fs.existsSync(JSON_FILE)) {
      const latest = JSON.parse(fs.readFileSync(JSON_FILE, 'utf8')) as ArchTable;
      const mine = new Set(rows.map((r) => r.id));
      table.rows = [...latest.rows.filter((r) => !mine.has(r.id) && ROWS.some((s) => s.id === r.id)), ...table.rows.filter((r) => mine.has(r.id))];
      table.data = { ...latest.data, ...hashes };
    }
    table.rows.sort((a, b) => ROWS.findIndex((r) => r.id === a.id) - ROWS.findIndex((r) => r.id === b.id));
    fs.writeFileSync(JSON_FILE, `${JSON.stringify(table, null, 1)}\n`);
    writeReadmeSection(table);
    process.stderr.write(`wrote ${path.relative(repo, JSON_FILE)} and the table in ${path.relative(repo, README)}\n`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

if (require.main === module) {
  main().then(
    () => releaseSessions(),
    (e: unknown) => {
      process.stderr.write(`error: ${e instanceof Error ? e.message : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
