/**
 * Symbolic dimensions for shape inference: a dimension is a known integer, a polynomial over symbols (the
 * model's own `dim_param`s, e.g. `batch`, `seq`) with integer coefficients, or null (unknown).
 *
 * Polynomials are kept in a canonical form (terms sorted, zero terms dropped, a constant beside a floor atom
 * moved inside it: `floor((H-1)/2)+1` is `floor((H+1)/2)`): equal keys mean equal values; different keys are
 * treated as not known to be equal (they may still agree for some inputs). Integer division by a constant becomes
 * a `floor(x/c)` atom after the terms divisible by `c` are taken out (`floor((2*H+1)/2) = H`), and nested floors
 * merge (`floor(floor(x/a)/b) = floor(x/(a·b))`, exact for integers). Nothing is approximated: an operation this
 * algebra cannot express exactly returns null. Dimensions are integers ≥ 0 by construction (every symbol stands
 * for a tensor extent).
 */

/** A factor of a monomial: a symbol, or the floor of a polynomial divided by a positive integer. */
export type Atom = { kind: 'sym'; key: string; name: string } | { kind: 'floor'; key: string; num: Poly; den: number };

/** A polynomial: monomial key (atom keys joined by '\u0001', sorted; '' for the constant) → integer coefficient. */
export interface Poly {
  readonly kind: 'poly';
  readonly terms: ReadonlyMap<string, number>;
  /** Canonical text, also the equality key (e.g. `batch*seq`, `floor((H+1)/2)`). */
  readonly key: string;
}

/** One dimension during inference. */
export type SDim = number | Poly | null;

/** Longest canonical text kept; longer expressions are not useful to a reader and become unknown. */
const MAX_KEY = 96;
/** Most terms in one polynomial. */
const MAX_TERMS = 8;

/** Holds the atoms of one inference run (monomial keys refer to them). */
export class DimAlgebra {
  private readonly atoms = new Map<string, Atom>();
  private readonly symbols = new Map<string, Poly>();

  sym(name: string): Poly {
    const known = this.symbols.get(name);
    if (known) return known;
    const key = `s:${name}`;
    this.atoms.set(key, { kind: 'sym', key, name });
    const p: Poly = { kind: 'poly', terms: new Map([[key, 1]]), key: name };
    this.symbols.set(name, p);
    return p;
  }

  isPoly(d: SDim): d is Poly {
    return typeof d === 'object' && d !== null;
  }

  /** Builds a normalised dimension from terms; a constant-only polynomial becomes a number. */
  private make(terms: Map<string, number>): SDim {
    for (const [k, c] of terms) if (c === 0) terms.delete(k);
    if (terms.size === 0) return 0;
    if (terms.size === 1 && terms.has('')) return terms.get('')!;
    if (terms.size > MAX_TERMS) return null;
    for (const c of terms.values()) if (!Number.isSafeInteger(c)) return null;
    const k = terms.get('');
    if (k !== undefined) {
      // canonical: a constant beside a floor atom goes inside it, floor(x/c) + k = floor((x + k·c)/c)
      const fm = [...terms.keys()].sort().find((m) => terms.get(m) === 1 && this.isFloorAtom(m));
      if (fm !== undefined) {
        const atom = this.atoms.get(fm) as Extract<Atom, { kind: 'floor' }>;
        const rest = new Map(terms);
        rest.delete('');
        rest.delete(fm);
        return this.add(this.make(rest), this.floorDiv(this.add(atom.num, k * atom.den), atom.den));
      }
    }
    const sorted = new Map([...terms.entries()].sort(([a], [b]) => (a === '' ? 1 : b === '' ? -1 : a < b ? -1 : a > b ? 1 : 0)));
    const key = this.render(sorted);
    if (key.length > MAX_KEY) return null;
    return { kind: 'poly', terms: sorted, key };
  }

  private render(terms: Map<string, number>): string {
    let s = '';
    for (const [mono, c] of terms) {
      const neg = c < 0;
      const abs = Math.abs(c);
      const body = mono === '' ? String(abs) : `${abs === 1 ? '' : `${abs}*`}${mono.split('\u0001').map((k) => this.atomText(k)).join('*')}`;
      s += s === '' ? (neg ? `-${body}` : body) : neg ? `-${body}` : `+${body}`;
    }
    return s;
  }

  private atomText(key: string): string {
    const a = this.atoms.get(key)!;
    if (a.kind === 'sym') return a.name;
    const inner = a.num.terms.size === 1 && !a.num.terms.has('') && [...a.num.terms.values()][0] === 1 ? a.num.key : `(${a.num.key})`;
    return `floor(${inner}/${a.den})`;
  }

  private terms(d: number | Poly): Map<string, number> {
    return typeof d === 'number' ? new Map(d === 0 ? [] : [['', d]]) : new Map(d.terms);
  }

  add(a: SDim, b: SDim): SDim {
    if (a === null || b === null) return null;
    if (typeof a === 'number' && typeof b === 'number') return a + b;
    const t = this.terms(a);
    for (const [k, c] of this.terms(b)) t.set(k, (t.get(k) ?? 0) + c);
    return this.make(t);
  }

  scale(a: SDim, k: number): SDim {
    if (a === null || !Number.isSafeInteger(k)) return null;
    if (typeof a === 'number') return a * k;
    const t = new Map<string, number>();
    for (const [m, c] of a.terms) t.set(m, c * k);
    return this.make(t);
  }

  sub(a: SDim, b: SDim): SDim {
    return this.add(a, this.scale(b, -1));
  }

  mul(a: SDim, b: SDim): SDim {
    if (a === null || b === null) return null;
    if (typeof a === 'number') return typeof b === 'number' ? a * b : this.scale(b, a);
    if (typeof b === 'number') return this.scale(a, b);
    const t = new Map<string, number>();
    for (const [ma, ca] of a.terms) {
      for (const [mb, cb] of b.terms) {
        const parts = [...(ma ? ma.split('\u0001') : []), ...(mb ? mb.split('\u0001') : [])].sort();
        const k = parts.join('\u0001');
        t.set(k, (t.get(k) ?? 0) + ca * cb);
      }
    }
    return this.make(t);
  }

  /** floor(a / c) for a positive integer c. */
  floorDiv(a: SDim, c: number): SDim {
    if (a === null || !Number.isSafeInteger(c) || c <= 0) return null;
    if (typeof a === 'number') return Math.floor(a / c);
    if (c === 1) return a;
    const q = new Map<string, number>();
    const r = new Map<string, number>();
    for (const [m, k] of a.terms) {
      // the constant stays inside (see make): floor((x + k)/c), not floor(x/c) + k/c
      if (m !== '' && k % c === 0) q.set(m, k / c);
      else r.set(m, k);
    }
    const quotient = this.make(q);
    let rest: SDim;
    if (r.size === 0) rest = 0;
    else if (this.mergeableFloor(r)) {
      // floor((floor(X/a) + k)/c) = floor((X + k·a)/(a·c)) for integers
      const fm = [...r.keys()].find((m) => m !== '')!;
      const atom = this.atoms.get(fm) as Extract<Atom, { kind: 'floor' }>;
      rest = this.floorDiv(this.add(atom.num, (r.get('') ?? 0) * atom.den), atom.den * c);
    } else if (r.size === 1 && r.has('')) {
      rest = Math.floor(r.get('')! / c);
    } else {
      const num = this.make(r);
      if (num === null) return null;
      if (typeof num === 'number') rest = Math.floor(num / c);
      else {
        const key = `f:${num.key}/${c}`;
        if (!this.atoms.has(key)) this.atoms.set(key, { kind: 'floor', key, num, den: c });
        rest = this.make(new Map([[key, 1]]));
      }
    }
    return this.add(quotient, rest);
  }

  private isFloorAtom(mono: string): boolean {
    return mono !== '' && !mono.includes('\u0001') && this.atoms.get(mono)?.kind === 'floor';
  }

  /** True when `r` is one floor atom with coefficient 1, plus at most a constant. */
  private mergeableFloor(r: Map<string, number>): boolean {
    const nonConst = [...r].filter(([m]) => m !== '');
    if (nonConst.length !== 1 || nonConst[0][1] !== 1) return false;
    const m = nonConst[0][0];
    return !m.includes('\u0001') && this.atoms.get(m)?.kind === 'floor';
  }

  /** ceil(a / c) for a positive integer c. */
  ceilDiv(a: SDim, c: number): SDim {
    return this.floorDiv(this.add(a, c - 1), c);
  }

  /** a / b when it divides exactly in this algebra (b a number or a single monomial), else null. */
  exactDiv(a: SDim, b: SDim): SDim {
    if (a === null || b === null) return null;
    if (typeof b === 'number') {
      if (b === 0) return null;
      if (typeof a === 'number') return a % b === 0 ? a / b : null;
      const t = new Map<string, number>();
      for (const [m, c] of a.terms) {
        if (c % b !== 0) return null;
        t.set(m, c / b);
      }
      return this.make(t);
    }
    if (b.terms.size !== 1 || typeof a === 'number') return null;
    const [[bm, bc]] = [...b.terms];
    const bAtoms = bm.split('\u0001');
    const t = new Map<string, number>();
    for (const [m, c] of a.terms) {
      const left = m ? m.split('\u0001') : [];
      for (const x of bAtoms) {
        const i = left.indexOf(x);
        if (i < 0) return null;
        left.splice(i, 1);
      }
      if (c % bc !== 0) return null;
      t.set(left.sort().join('\u0001'), c / bc);
    }
    return this.make(t);
  }

  equal(a: SDim, b: SDim): boolean {
    if (a === null || b === null) return false;
    if (typeof a === 'number' || typeof b === 'number') return a === b;
    return a.key === b.key;
  }

  /** The value of `d` with every symbol bound; NaN when a symbol is unbound or d is unknown. */
  evaluate(d: SDim, bindings: Readonly<Record<string, number>>): number {
    if (d === null) return NaN;
    if (typeof d === 'number') return d;
    let s = 0;
    for (const [m, c] of d.terms) {
      let p = c;
      if (m) for (const k of m.split('\u0001')) p *= this.evalAtom(k, bindings);
      s += p;
    }
    return s;
  }

  private evalAtom(key: string, bindings: Readonly<Record<string, number>>): number {
    const a = this.atoms.get(key)!;
    if (a.kind === 'sym') return Object.prototype.hasOwnProperty.call(bindings, a.name) ? bindings[a.name] : NaN;
    return Math.floor(this.evaluate(a.num, bindings) / a.den);
  }

  /** The IR form: a number, the canonical text of a polynomial, or null. */
  toDim(d: SDim): number | string | null {
    return d === null ? null : typeof d === 'number' ? d : d.key;
  }
}
