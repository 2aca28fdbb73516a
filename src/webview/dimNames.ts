/**
 * How symbolic dimensions are written in the graph's labels (edge shapes, terminal nodes). A named dim is
 * determined — the same name stands for the same size everywhere in the graph — so it is shown, not "?":
 * - short names as they are (`N`, `batch`, `sequence`: a word of at most 8 characters);
 * - long names (`p2o.DynamicDimension.0`, `unk__12345`) by a short alias made from their last word and number
 *   (`D0`, `u12345`), assigned once per graph in order of first appearance, never equal to another alias or to a
 *   name shown as it is — so a label always reads back to one name;
 * - expressions over names, as exporters write them (`batch*sequence`, `floor((p2o.DynamicDimension.1+1)/2)`),
 *   with their names written as above and floor division as Python writes it: `batch*sequence`, `(D1+1)//2`;
 *   an expression still longer than {@link MAX_EXPR} characters gets an alias `e1`, `e2`, … of its own.
 * The inspector's model summary lists the aliases ("D0 = p2o.DynamicDimension.0") and its shape cells show the
 * full names. "?" is left for a dim that is truly unknown (null).
 */
import type { Dim } from '../shared/ir';

/** A name shown as it is: a word of at most 8 characters. */
const SHORT_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,7}$/;
/** The longest expression written out (longer ones get an `e<k>` alias). */
export const MAX_EXPR = 16;

type Token = { kind: 'name' | 'func' | 'num' | 'op'; text: string };

/** An expression's tokens, or undefined when it holds anything else than names, integers, + - * / % ( ) ,. */
function tokenize(s: string): Token[] | undefined {
  const out: Token[] = [];
  const re = /\s+|([A-Za-z_][A-Za-z0-9_.]*)|(\d+)|([-+*/%(),])/y;
  let m: RegExpExecArray | null;
  while (re.lastIndex < s.length && (m = re.exec(s))) {
    if (m[1] !== undefined) out.push({ kind: s[re.lastIndex] === '(' ? 'func' : 'name', text: m[1] });
    else if (m[2] !== undefined) out.push({ kind: 'num', text: m[2] });
    else if (m[3] !== undefined) out.push({ kind: 'op', text: m[3] });
  }
  return re.lastIndex === s.length || s.length === 0 ? out : undefined;
}

/** Alias candidates for a long name, most compact first (all are word characters starting with a letter). */
function* candidates(name: string): Generator<string> {
  const words = name.match(/[A-Za-z]+/g) ?? [];
  const digits = name.match(/(\d+)\D*$/)?.[1] ?? '';
  const word = words.length ? words[words.length - 1] : '';
  if (word) {
    yield `${word[0]}${digits}`;
    const caps = word.replace(/[^A-Z]/g, '');
    if (caps.length > 1) yield `${caps}${digits}`;
    for (let n = 2; n <= Math.min(word.length, 6); n++) yield `${word.slice(0, n)}${digits}`;
  }
  const base = word ? word[0] : 'd';
  for (let k = 1; ; k++) yield `${base}${digits}_${k}`;
}

/** The index of the `)` closing the `(` at `open`, or -1. */
function closing(s: string, open: number): number {
  let depth = 0;
  for (let i = open; i < s.length; i++) {
    if (s[i] === '(') depth++;
    else if (s[i] === ')' && --depth === 0) return i;
  }
  return -1;
}

/** The top-level (outside parentheses) characters of `s` that are among `ops`, as indices. */
function topLevel(s: string, ops: string): number[] {
  const out: number[] = [];
  let depth = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (depth === 0 && ops.includes(c)) out.push(i);
  }
  return out;
}

/**
 * floor(a/b) as Python's floor division `(a//b)` — the notation of the conv output-size formulas these come from,
 * readable at a label's 9 px where ⌊ ⌋ and ⌈ ⌉ look like bars; any other floor(…) or ceil(…) as ⌊…⌋ or ⌈…⌉.
 * Innermost first.
 */
function floorDivs(s: string): string {
  const m = /\b(floor|ceil)\(/.exec(s);
  if (!m) return s;
  const open = m.index + m[1].length;
  const close = closing(s, open);
  if (close < 0) return s;
  const inner = floorDivs(s.slice(open + 1, close));
  let out = m[1] === 'floor' ? `⌊${inner}⌋` : `⌈${inner}⌉`;
  // a/b with a single term b, and a holding no top-level + or − (else a+b/c would read as (a+b)//c)
  const slash = topLevel(inner, '/');
  const last = slash[slash.length - 1];
  if (m[1] === 'floor' && last !== undefined && inner[last - 1] !== '/' && !topLevel(inner, '+-*/').some((i) => i > last) && !topLevel(inner.slice(0, last), '+-').length) {
    out = `(${inner.slice(0, last)}//${inner.slice(last + 1)})`;
  }
  return s.slice(0, m.index) + out + floorDivs(s.slice(close + 1));
}

/** `s` without one pair of parentheses around all of it. */
function unwrap(s: string): string {
  return s.startsWith('(') && closing(s, 0) === s.length - 1 ? s.slice(1, -1) : s;
}

export class DimNames {
  /** How each symbolic name seen so far is written. */
  private readonly written = new Map<string, string>();
  /** Aliases handed out, in order: [alias, full name]. */
  private readonly aliasOf: [string, string][] = [];
  /** Every word a label may show for a single name: kept names and aliases (no two names share one). */
  private readonly taken = new Set<string>();
  private readonly aliases = new Set<string>();
  private exprCount = 0;

  /** `names`: every symbolic name of the graph, in order of first appearance (duplicates are fine). */
  constructor(names: Iterable<string>) {
    const seen = new Set<string>();
    const atoms: string[] = [];
    for (const n of names) {
      if (seen.has(n)) continue;
      seen.add(n);
      for (const t of tokenize(n) ?? []) if (t.kind === 'name' && !seen.has(`\u0000${t.text}`)) {
        seen.add(`\u0000${t.text}`);
        atoms.push(t.text);
      }
    }
    // Names shown as they are reserve themselves first, so no alias takes one whatever the order.
    for (const a of atoms) if (SHORT_NAME.test(a)) this.taken.add(a);
    for (const a of atoms) this.atom(a);
    for (const n of seen) if (!n.startsWith('\u0000')) this.format(n);
  }

  /** How one name (no operators) is written: as it is when short, else by its alias (made on first use). */
  private atom(name: string): string {
    const known = this.written.get(name);
    if (known !== undefined) return known;
    let w: string;
    if (SHORT_NAME.test(name) && !this.aliases.has(name)) {
      this.taken.add(name);
      w = name;
    } else {
      const it = candidates(name);
      do w = it.next().value as string;
      while (this.taken.has(w));
      this.newAlias(w, name);
    }
    this.written.set(name, w);
    return w;
  }

  private newAlias(alias: string, full: string): void {
    this.taken.add(alias);
    this.aliases.add(alias);
    this.aliasOf.push([alias, full]);
  }

  /** An expression written out with its names as {@link atom} writes them, or an alias `e<k>` when too long. */
  private expression(name: string, tokens: readonly Token[]): string {
    const text = unwrap(floorDivs(tokens.map((t) => (t.kind === 'name' ? this.atom(t.text) : t.text)).join('')));
    if (text && text.length <= MAX_EXPR) return text;
    let alias: string;
    do alias = `e${++this.exprCount}`;
    while (this.taken.has(alias));
    this.newAlias(alias, text || name); // the legend: the expression with its names' aliases (shorter than the raw one)
    return alias;
  }

  /** How a dim is written in a label. A name not seen when built is written by the same rules. */
  format(d: Dim): string {
    if (d === null) return '?';
    if (typeof d === 'number') return String(d);
    const known = this.written.get(d);
    if (known !== undefined) return known;
    const tokens = tokenize(d);
    let w: string;
    if (tokens?.length === 1 && tokens[0].kind === 'name') w = this.atom(d);
    // A number as a name would read as a size, and characters no expression holds as nothing: both get an alias.
    else w = this.expression(d, tokens?.some((t) => t.kind === 'name') ? tokens : []);
    this.written.set(d, w);
    return w;
  }

  /** A shape as a label: `D0×3×48×D1`, `scalar` for rank 0, '' when unknown. */
  label(shape: readonly Dim[] | undefined): string {
    if (!shape) return '';
    if (shape.length === 0) return 'scalar';
    return shape.map((d) => this.format(d)).join('×');
  }

  /** The aliases in use, `[alias, full name]`, in order of assignment (the model summary's legend). */
  legend(): [string, string][] {
    return this.aliasOf.map(([a, full]) => [a, full]);
  }
}

/**
 * The label of a stored shape (one whose names {@link DimNames} was built with) when it can be written without
 * the graph-wide table: every dim a number, null or a short name. Such a name is always written as it is — short
 * names reserve themselves before any alias is made — so this equals `dims.label(shape)`; undefined otherwise
 * (a long name or an expression, whose alias depends on the whole graph).
 */
export function plainLabel(shape: readonly Dim[] | undefined): string | undefined {
  if (!shape) return '';
  if (shape.length === 0) return 'scalar';
  let out = '';
  for (let i = 0; i < shape.length; i++) {
    const d = shape[i];
    let w: string;
    if (d === null) w = '?';
    else if (typeof d === 'number') w = String(d);
    else if (SHORT_NAME.test(d)) w = d;
    else return undefined;
    out = i ? `${out}×${w}` : w;
  }
  return out;
}

/** Every symbolic name in stored value shapes, in order: the graph's inputs first, then all values (with repeats). */
export function* symbolicNames(values: Iterable<{ shape?: readonly Dim[] } | undefined>, first: Iterable<{ shape?: readonly Dim[] } | undefined> = []): Generator<string> {
  for (const list of [first, values]) for (const v of list) for (const d of v?.shape ?? []) if (typeof d === 'string') yield d;
}
