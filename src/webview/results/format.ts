/**
 * How the results panel writes numbers, times and file names. Pure (no DOM): the unit tests import it in
 * plain Node.
 *
 * Every number shown is the envelope's number: the cell text is a rounding of it (4 significant digits) and
 * the tooltip and the CSV carry the full value (`String(v)`, the shortest text that reads back as the same
 * double). A metric that is undefined for a run is `null` in the envelope and is shown as an em dash with a
 * tooltip, never as 0 or NaN.
 */

/** The text of an undefined metric. */
export const NULL_TEXT = '—';
/** The tooltip of an undefined metric. */
export const NULL_TITLE = 'undefined for this run (see the run’s warnings)';

/**
 * A number for a table cell or a chart label: integers as they are (below 1e6), others with 4 significant
 * digits, exponent notation below 1e-3 and from 1e6. Non-finite numbers (never emitted by the engine, but a
 * hand-edited file may hold them) are spelled out rather than hidden.
 */
export function fmtNum(v: number | null | undefined): string {
  if (v === null || v === undefined) return NULL_TEXT;
  if (!Number.isFinite(v)) return Number.isNaN(v) ? 'NaN' : v > 0 ? '∞' : '−∞';
  if (v === 0) return '0';
  const a = Math.abs(v);
  if (Number.isInteger(v) && a < 1e6) return String(v);
  if (a >= 1e6 || a < 1e-3) return trimExp(v.toExponential(3));
  return trimFixed(v.toPrecision(4));
}

/** The full value for tooltips and CSV: the shortest round-tripping decimal. */
export function fmtFull(v: number | null | undefined): string {
  if (v === null || v === undefined) return '';
  return String(v);
}

function trimFixed(s: string): string {
  return s.includes('.') && !s.includes('e') ? s.replace(/\.?0+$/, '') : s;
}

function trimExp(s: string): string {
  const [m, e] = s.split('e');
  const mant = trimFixed(m);
  const exp = e.startsWith('+') ? e.slice(1) : e;
  return `${mant}e${exp}`;
}

/** A tick label: like {@link fmtNum} but without floating-point noise from tick arithmetic (0.30000000000000004). */
export function fmtTick(v: number): string {
  if (v === 0) return '0';
  const clean = Number(v.toPrecision(12));
  const a = Math.abs(clean);
  if (a >= 1e5 || a < 1e-3) {
    const [m, e] = clean.toExponential().split('e');
    return `${trimFixed(Number(m).toPrecision(3))}e${e.startsWith('+') ? e.slice(1) : e}`;
  }
  return String(clean);
}

/** A duration in milliseconds: "32 ms", "1.39 s", "2 min 4 s". */
export function fmtMs(ms: number): string {
  if (!Number.isFinite(ms)) return String(ms);
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toPrecision(3)} s`;
  const m = Math.floor(ms / 60_000);
  return `${m} min ${Math.round((ms - m * 60_000) / 1000)} s`;
}

/** The timings of an envelope as "load 323 ms · run 32 ms · total 504 ms" (`…Ms` keys, in their order). */
export function fmtTimings(timings: Record<string, number>): string {
  return Object.entries(timings)
    .filter(([, v]) => typeof v === 'number')
    .map(([k, v]) => `${k.replace(/Ms$/, '')} ${fmtMs(v)}`)
    .join(' · ');
}

const pad = (n: number): string => String(n).padStart(2, '0');

/** Local date and time, "2026-11-24 14:02:11"; an unparsable string is returned as it is. */
export function fmtDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

/** Local time of day, "14:02:11", with the date in front when it is not `today`. */
export function fmtShortTime(iso: string, today: Date = new Date()): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const time = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  const sameDay = d.getFullYear() === today.getFullYear() && d.getMonth() === today.getMonth() && d.getDate() === today.getDate();
  return sameDay ? time : `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${time}`;
}

/** The last path component ("examples/mlp/mlp.onnx" → "mlp.onnx"; both separators; a trailing one ignored). */
export function baseName(p: string): string {
  const parts = p.split(/[\\/]+/).filter(Boolean);
  return parts[parts.length - 1] ?? p;
}

/**
 * The model's short name for file names: the file stem ("mlp.onnx" → "mlp"), or for a TF.js `model.json`
 * its folder's name, or a series folder's name.
 */
export function modelStem(p: string): string {
  const parts = p.split(/[\\/]+/).filter(Boolean);
  const last = parts[parts.length - 1] ?? p;
  if (/^model\.json$/i.test(last) && parts.length > 1) return parts[parts.length - 2];
  return last.replace(/\.(onnx|json)$/i, '');
}

/** Lower-case ASCII words joined by hyphens ("/relu1/Relu_output_0" → "relu1-relu-output-0"). */
export function slug(s: string): string {
  const out = s
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return out || 'x';
}

/** `collapse-mlp-nc-over-layers.svg`: analysis, model stem, what, extension. */
export function exportFileName(analysis: string, model: string, what: string, ext: string): string {
  return `${slug(analysis)}-${slug(modelStem(model))}-${slug(what)}.${ext}`;
}

/** Middle-elides a long label for an axis ("/blocks.0/attn/Softmax_output_0" → "/blocks.0/…output_0"). */
export function elide(s: string, max: number): string {
  if (s.length <= max) return s;
  const head = Math.ceil((max - 1) / 2);
  const tail = Math.floor((max - 1) / 2);
  return `${s.slice(0, head)}…${s.slice(s.length - tail)}`;
}
