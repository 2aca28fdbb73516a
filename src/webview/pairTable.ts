/**
 * A hash map from pairs of non-negative 32-bit integers to non-negative integers, in typed arrays (open
 * addressing, linear probing). For deduplicating the edges of a 100k-operator graph by their ends' numbers: a
 * Map keyed by joined id strings spent most of its time building and hashing those strings.
 */
export class PairTable {
  private keyA: Int32Array;
  private keyB: Int32Array;
  private vals: Int32Array;
  private mask: number;
  private count = 0;

  constructor(expected = 16) {
    let cap = 16;
    while (cap < expected * 2) cap *= 2;
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
  }

  get size(): number {
    return this.count;
  }

  private slot(a: number, b: number): number {
    let h = Math.imul(a, 0x9e3779b1) ^ Math.imul(b ^ 0x5bd1e995, 0x85ebca77);
    h ^= h >>> 15;
    h = Math.imul(h, 0x2c1b3c6d);
    h ^= h >>> 12;
    let i = h & this.mask;
    while (this.keyA[i] !== -1 && (this.keyA[i] !== a || this.keyB[i] !== b)) i = (i + 1) & this.mask;
    return i;
  }

  /** The value of (a, b), or -1 when there is none. */
  get(a: number, b: number): number {
    const i = this.slot(a, b);
    return this.keyA[i] === -1 ? -1 : this.vals[i];
  }

  /** Sets the value of (a, b); `a`, `b` and `value` ≥ 0. */
  set(a: number, b: number, value: number): void {
    if (a < 0 || b < 0 || value < 0) throw new RangeError(`PairTable: expected non-negative integers, found (${a}, ${b}) → ${value}`);
    const i = this.slot(a, b);
    if (this.keyA[i] === -1) {
      this.keyA[i] = a;
      this.keyB[i] = b;
      this.count++;
    }
    this.vals[i] = value;
    if (this.count * 2 > this.mask) this.grow();
  }

  private grow(): void {
    const { keyA, keyB, vals } = this;
    const cap = keyA.length * 2;
    this.keyA = new Int32Array(cap).fill(-1);
    this.keyB = new Int32Array(cap);
    this.vals = new Int32Array(cap);
    this.mask = cap - 1;
    for (let i = 0; i < keyA.length; i++) {
      if (keyA[i] === -1) continue;
      const j = this.slot(keyA[i], keyB[i]);
      this.keyA[j] = keyA[i];
      this.keyB[j] = keyB[i];
      this.vals[j] = vals[i];
    }
  }
}

/** A map from pairs of non-negative 32-bit integers to values, in insertion order: a {@link PairTable} of indices. */
export class PairMap<T> {
  private readonly index: PairTable;
  private readonly items: T[] = [];

  constructor(expected = 16) {
    this.index = new PairTable(expected);
  }

  get size(): number {
    return this.items.length;
  }

  get(a: number, b: number): T | undefined {
    const i = this.index.get(a, b);
    return i < 0 ? undefined : this.items[i];
  }

  set(a: number, b: number, value: T): void {
    const i = this.index.get(a, b);
    if (i >= 0) this.items[i] = value;
    else {
      this.index.set(a, b, this.items.length);
      this.items.push(value);
    }
  }

  values(): readonly T[] {
    return this.items;
  }
}
