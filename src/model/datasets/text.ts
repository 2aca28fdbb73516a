/**
 * Text datasets: CSV of numeric columns (with an optional label column) and JSONL of token ids. Errors give
 * the 1-based line number.
 */

import { readFile, stat } from 'node:fs/promises';
import { extname } from 'node:path';
import { DatasetError, errorText, fsError } from './errors';
import { JSON_DEPTH_LIMITS, jsonTooDeep } from '../jsonDepth';
import type { NdArray } from './ndarray';

async function readText(path: string, what: string): Promise<string> {
  const st = await stat(path).catch((e: unknown) => {
    throw fsError(e, path);
  });
  if (st.isDirectory()) throw new DatasetError('directory', path, `expected a ${what} file, found a directory`);
  if (st.size === 0) throw new DatasetError('empty-file', path, `zero bytes, expected a ${what} file`);
  const text = await readFile(path, 'utf8').catch((e: unknown) => {
    throw fsError(e, path);
  });
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

// ---------------------------------------------------------------- CSV

/** Options of {@link loadCsv}. */
export interface CsvOptions {
  /** Whether line 1 is a header; default detected (see {@link loadCsv}). */
  header?: boolean;
  /** Label column by header name or 0-based index (negative from the end). */
  labelColumn?: string | number;
  /** Cell separator; default tab for .tsv or a first line with tabs, `;` for one with `;` and no `,`, else `,`. */
  delimiter?: string;
  /** At most this many data rows. */
  limit?: number;
}

/** A parsed CSV. */
export interface CsvData {
  /** float64 features, shape [rows, featureColumns]. */
  features: NdArray;
  /** Feature column names (header cells, or `col<i>`). */
  columns: string[];
  labels?: Int32Array;
  /** Present when the label column holds names: id i is `classNames[i]` (sorted). */
  classNames?: string[];
}

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;
const NON_FINITE: Record<string, number> = { nan: NaN, inf: Infinity, infinity: Infinity, '+inf': Infinity, '-inf': -Infinity, '-infinity': -Infinity, '+infinity': Infinity };

/** A number from a trimmed cell, or undefined. Accepts nan/inf spellings (NumPy's and pandas' output). */
function parseNumber(cell: string): number | undefined {
  if (NUMBER.test(cell)) return Number(cell);
  const nf = NON_FINITE[cell.toLowerCase()];
  return nf === undefined ? undefined : nf;
}

/** Splits one line into cells: RFC 4180 quoting ("a,b" and "" for a quote), no fields spanning lines. */
function splitCells(line: string, delim: string): string[] | undefined {
  const cells: string[] = [];
  let i = 0;
  for (;;) {
    let cell = '';
    while (line[i] === ' ') i++;
    if (line[i] === '"') {
      i++;
      for (;;) {
        if (i >= line.length) return undefined;
        if (line[i] === '"') {
          if (line[i + 1] === '"') {
            cell += '"';
            i += 2;
          } else {
            i++;
            break;
          }
        } else cell += line[i++];
      }
      while (i < line.length && line[i] !== delim) {
        if (line[i] !== ' ') return undefined;
        i++;
      }
    } else {
      const j = line.indexOf(delim, i);
      cell = (j < 0 ? line.slice(i) : line.slice(i, j)).trim();
      i = j < 0 ? line.length : j;
    }
    cells.push(cell);
    if (i >= line.length) return cells;
    i++; // the delimiter
  }
}

/**
 * Loads a CSV of numeric columns. A header is detected, unless declared, when line 1 has a non-numeric cell
 * above a numeric one on line 2 (or when every cell of line 1 is non-numeric). A label column holding only
 * integers gives those ids; one holding anything else gives class ids in sorted order of the names. Blank
 * lines are skipped; nan/inf cells are read as such (the dataset layer reports them).
 * @throws DatasetError `bad-cell` (non-numeric or empty cell, wrong cell count, bad quoting, with line and
 * column), `bad-spec` (label column not found), `bad-labels` (fractional labels), `empty-dataset`, file errors.
 */
export async function loadCsv(path: string, opts: CsvOptions = {}): Promise<CsvData> {
  const text = await readText(path, 'CSV');
  const lines = text.split(/\r?\n/);
  const rows: { line: number; cells: string[] }[] = [];
  let delim = opts.delimiter;
  for (let k = 0; k < lines.length; k++) {
    if (lines[k].trim() === '') continue;
    if (delim === undefined) {
      const l = lines[k];
      delim = extname(path).toLowerCase() === '.tsv' || l.includes('\t') ? '\t' : l.includes(';') && !l.includes(',') ? ';' : ',';
    }
    const cells = splitCells(lines[k], delim);
    if (!cells) throw new DatasetError('bad-cell', path, `line ${k + 1}: unbalanced or misplaced double quote`);
    rows.push({ line: k + 1, cells });
  }
  if (rows.length === 0) throw new DatasetError('empty-dataset', path, 'no rows');
  const isNum = (s: string) => parseNumber(s) !== undefined;
  let header = opts.header;
  if (header === undefined) {
    const [a, b] = rows;
    header = b ? a.cells.some((c, j) => !isNum(c) && b.cells[j] !== undefined && isNum(b.cells[j])) : false;
    if (!header) header = a.cells.every((c) => !isNum(c)) && (!b || !b.cells.every((c) => !isNum(c)));
  }
  const width = rows[0].cells.length;
  const names = header ? rows[0].cells : rows[0].cells.map((_, j) => `col${j}`);
  const data = header ? rows.slice(1) : rows;
  if (opts.limit !== undefined) data.length = Math.min(data.length, opts.limit);
  if (data.length === 0) throw new DatasetError('empty-dataset', path, 'a header but no data rows');

  let labelIdx = -1;
  if (opts.labelColumn !== undefined) {
    const lc = opts.labelColumn;
    if (typeof lc === 'string') {
      if (!header) throw new DatasetError('bad-spec', path, `labelColumn '${lc}' is a name, but the file has no header row; give its 0-based index instead`);
      labelIdx = names.indexOf(lc);
      if (labelIdx < 0) throw new DatasetError('bad-spec', path, `no column '${lc}' in the header (columns: ${names.join(', ')})`);
    } else {
      labelIdx = lc < 0 ? width + lc : lc;
      if (labelIdx < 0 || labelIdx >= width) throw new DatasetError('bad-spec', path, `labelColumn ${lc} is outside the ${width} columns`);
    }
  }
  const featureCols = [...Array(width).keys()].filter((j) => j !== labelIdx);
  if (featureCols.length === 0) throw new DatasetError('empty-dataset', path, 'no feature columns besides the label column');
  const features = new Float64Array(data.length * featureCols.length);
  const rawLabels: string[] = [];
  for (let i = 0; i < data.length; i++) {
    const { line, cells } = data[i];
    if (cells.length !== width) {
      throw new DatasetError('bad-cell', path, `line ${line}: ${cells.length} cells, expected ${width} as on line ${rows[0].line}`);
    }
    for (let f = 0; f < featureCols.length; f++) {
      const j = featureCols[f];
      const v = parseNumber(cells[j]);
      if (v === undefined) {
        throw new DatasetError(
          'bad-cell',
          path,
          `line ${line}, column ${j + 1} ('${names[j]}'): ${cells[j] === '' ? 'empty cell' : `${JSON.stringify(cells[j])} is not a number`}` +
            (i === 0 && !header && opts.header === undefined ? ' (if line 1 is a header, set "header": true)' : ''),
        );
      }
      features[i * featureCols.length + f] = v;
    }
    if (labelIdx >= 0) rawLabels.push(cells[labelIdx]);
  }
  const out: CsvData = { features: { dtype: 'float64', shape: [data.length, featureCols.length], data: features }, columns: featureCols.map((j) => names[j]) };
  if (labelIdx >= 0) {
    if (rawLabels.every(isNum)) {
      const labels = new Int32Array(rawLabels.length);
      rawLabels.forEach((s, i) => {
        const v = Number(s);
        if (!Number.isInteger(v) || v < -(2 ** 31) || v >= 2 ** 31) {
          throw new DatasetError('bad-labels', path, `line ${data[i].line}: label ${s} is not an int32 class id`);
        }
        labels[i] = v;
      });
      out.labels = labels;
    } else {
      const classNames = [...new Set(rawLabels)].sort();
      const id = new Map(classNames.map((c, i) => [c, i]));
      out.labels = Int32Array.from(rawLabels, (s) => id.get(s) as number);
      out.classNames = classNames;
    }
  }
  return out;
}

// ---------------------------------------------------------------- JSONL

/** Options of {@link loadJsonl}. */
export interface JsonlOptions {
  /** Key of the token list in object lines (default `tokens`). */
  input?: string;
  /** Key of an integer label in object lines (default `label` when the first object line has it). */
  labels?: string;
  /** Pad or truncate to this length; without it all lines must have the same length. */
  seqLen?: number;
  /** Padding id (required when a line is shorter than seqLen). */
  padId?: number;
  /** At most this many lines. */
  limit?: number;
}

/** Parsed JSONL token data. */
export interface JsonlData {
  /** int64 token ids, shape [lines, seqLen]. */
  tokens: NdArray;
  labels?: Int32Array;
  /** How many lines were truncated / padded to seqLen. */
  truncated: number;
  padded: number;
}

/** Longest line `seqLen` may pad to: far beyond any model's context, short of padding a line into gigabytes. */
const MAX_SEQ_LEN = 2 ** 20;
/** Most token ids one JSONL file may hold (1 GiB as int64). */
const MAX_TOKENS = 2 ** 27;

/**
 * Loads JSONL token ids: each non-blank line is an array of integers or an object with one (`{"tokens":
 * [...], "label": 3}`). With `seqLen`, longer lines keep their first `seqLen` ids and shorter ones are
 * right-padded with `padId`.
 * @throws DatasetError `bad-line` (invalid JSON, non-integer ids, missing keys, a length that differs
 * without seqLen, a short line without padId — each with its line number), `empty-dataset`, file errors.
 */
export async function loadJsonl(path: string, opts: JsonlOptions = {}): Promise<JsonlData> {
  const text = await readText(path, 'JSONL');
  const key = opts.input ?? 'tokens';
  let labelKey = opts.labels;
  if (opts.seqLen !== undefined && !(Number.isSafeInteger(opts.seqLen) && opts.seqLen > 0 && opts.seqLen <= MAX_SEQ_LEN)) {
    throw new DatasetError('too-large', path, `seqLen is ${opts.seqLen}; expected a positive integer of at most ${MAX_SEQ_LEN} tokens per line`);
  }
  let totalTokens = 0;
  const lines = text.split(/\r?\n/);
  const seqs: number[][] = [];
  const labels: number[] = [];
  let firstLen = -1;
  let firstLine = 0;
  let truncated = 0;
  let padded = 0;
  for (let k = 0; k < lines.length; k++) {
    if (opts.limit !== undefined && seqs.length >= opts.limit) break;
    const src = lines[k].trim();
    if (src === '') continue;
    const ln = k + 1;
    const fail = (detail: string): never => {
      throw new DatasetError('bad-line', path, `line ${ln}: ${detail}`);
    };
    const deep = jsonTooDeep(src, JSON_DEPTH_LIMITS.jsonlLine);
    if (deep) fail(`expected a token list or an object holding one, found JSON nested more than ${JSON_DEPTH_LIMITS.jsonlLine} levels deep (at column ${deep.offset + 1})`);
    let v: unknown;
    try {
      v = JSON.parse(src);
    } catch (e) {
      fail(`not valid JSON (${errorText(e)})`);
    }
    let toks: unknown;
    if (Array.isArray(v)) {
      toks = v;
      if (labelKey !== undefined) fail(`is a bare array, but labels are read from key '${labelKey}' of object lines`);
    } else if (v !== null && typeof v === 'object') {
      const o = v as Record<string, unknown>;
      if (!(key in o)) fail(`object has no '${key}' key (keys: ${Object.keys(o).join(', ') || 'none'})`);
      toks = o[key];
      if (seqs.length === 0 && labelKey === undefined && 'label' in o) labelKey = 'label';
      if (labelKey !== undefined) {
        const lab = o[labelKey];
        if (typeof lab !== 'number' || !Number.isInteger(lab) || lab < -(2 ** 31) || lab >= 2 ** 31) {
          fail(`'${labelKey}' must be an int32 class id, found ${JSON.stringify(lab) ?? 'nothing'}`);
        }
        labels.push(lab as number);
      }
    } else {
      return fail(`expected an array of token ids or an object with '${key}', found ${JSON.stringify(v)}`);
    }
    if (!Array.isArray(toks)) return fail(`'${key}' is not an array`);
    const bad = toks.findIndex((t) => typeof t !== 'number' || !Number.isSafeInteger(t));
    if (bad >= 0) fail(`token ${bad} is ${JSON.stringify(toks[bad])}, not an integer id`);
    let ids = toks as number[];
    if (opts.seqLen !== undefined) {
      if (ids.length > opts.seqLen) {
        ids = ids.slice(0, opts.seqLen);
        truncated++;
      } else if (ids.length < opts.seqLen) {
        if (opts.padId === undefined) fail(`${ids.length} tokens, fewer than seqLen ${opts.seqLen}, and no padId is declared to pad with`);
        ids = ids.concat(new Array<number>(opts.seqLen - ids.length).fill(opts.padId as number));
        padded++;
      }
    } else if (firstLen < 0) {
      firstLen = ids.length;
      firstLine = ln;
      if (firstLen === 0) fail('no tokens; declare seqLen and padId to pad empty lines');
    } else if (ids.length !== firstLen) {
      fail(`${ids.length} tokens, but line ${firstLine} has ${firstLen}; declare seqLen (and padId) to pad/truncate to one length`);
    }
    totalTokens += ids.length;
    if (totalTokens > MAX_TOKENS) fail(`the token ids up to here exceed ${MAX_TOKENS} (${MAX_TOKENS * 8} bytes as int64); split the file or set "limit"`);
    seqs.push(ids);
  }
  if (seqs.length === 0) throw new DatasetError('empty-dataset', path, 'no lines with token ids');
  const len = seqs[0].length;
  const data = new BigInt64Array(seqs.length * len);
  seqs.forEach((s, i) => s.forEach((t, j) => (data[i * len + j] = BigInt(t))));
  const out: JsonlData = { tokens: { dtype: 'int64', shape: [seqs.length, len], data }, truncated, padded };
  if (labelKey !== undefined) out.labels = Int32Array.from(labels);
  return out;
}
