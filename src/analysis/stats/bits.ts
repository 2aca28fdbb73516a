/**
 * Bit-packed binary codes: `rows` codes of `bits` bits each, row-major in 32-bit words (bit j of a row is bit
 * j & 31 of word j >>> 5; unused high bits of the last word are zero). Byte b of a row is bits 8b..8b+7, which
 * is also byte b of the row's words in memory on little-endian hosts — the byte-table kernels of K-means and
 * logistic regression read codes through {@link codeBytes}.
 */

export interface BitCodes {
  rows: number;
  bits: number;
  /** 32-bit words per row: ⌈bits / 32⌉. */
  words: number;
  data: Uint32Array;
}

/** Fresh all-zero codes. */
export function allocCodes(rows: number, bits: number): BitCodes {
  const words = Math.ceil(bits / 32);
  return { rows, bits, words, data: new Uint32Array(rows * words) };
}

/** Number of set bits of a 32-bit integer (SWAR). */
export function popcount32(x: number): number {
  x -= (x >>> 1) & 0x55555555;
  x = (x & 0x33333333) + ((x >>> 2) & 0x33333333);
  x = (x + (x >>> 4)) & 0x0f0f0f0f;
  return Math.imul(x, 0x01010101) >>> 24;
}

/**
 * Sets bit (bitOffset + j) of code (rowOffset + i) to 1[src[i·cols + j] > 0] for a rows×cols block: one layer's
 * activations of one batch written into its slice of the concatenated code. Bits must start cleared.
 */
export function packPositive(
  src: ArrayLike<number>, rows: number, cols: number, out: BitCodes, rowOffset: number, bitOffset: number,
): void {
  const { words, data } = out;
  for (let i = 0; i < rows; i++) {
    const base = (rowOffset + i) * words;
    const s = i * cols;
    let bit = bitOffset;
    let j = 0;
    // Bits up to the next word boundary one at a time, then whole words.
    while (j < cols && (bit & 31) !== 0) {
      if (src[s + j] > 0) data[base + (bit >>> 5)] |= 1 << (bit & 31);
      j++;
      bit++;
    }
    for (; j + 32 <= cols; j += 32, bit += 32) {
      let w = 0;
      for (let t = 0; t < 32; t++) if (src[s + j + t] > 0) w |= 1 << t;
      data[base + (bit >>> 5)] = w;
    }
    for (; j < cols; j++, bit++) if (src[s + j] > 0) data[base + (bit >>> 5)] |= 1 << (bit & 31);
  }
}

/** Bit j of row r. */
export function getBit(c: BitCodes, r: number, j: number): number {
  return (c.data[r * c.words + (j >>> 5)] >>> (j & 31)) & 1;
}

/**
 * Columns that are not constant over all rows of all the given code sets (same `bits`): the indices of the
 * columns to keep, ascending.
 */
export function nonConstantColumns(sets: readonly BitCodes[]): Int32Array {
  const bits = sets[0]?.bits ?? 0;
  const words = Math.ceil(bits / 32);
  const or = new Uint32Array(words);
  const and = new Uint32Array(words).fill(0xffffffff);
  let any = false;
  for (const c of sets) {
    if (c.bits !== bits) throw new RangeError(`code sets differ in width: ${bits} and ${c.bits} bits`);
    for (let r = 0; r < c.rows; r++) {
      any = true;
      const o = r * words;
      for (let w = 0; w < words; w++) {
        or[w] |= c.data[o + w];
        and[w] &= c.data[o + w];
      }
    }
  }
  const keep: number[] = [];
  for (let j = 0; j < bits; j++) {
    const w = j >>> 5, m = 1 << (j & 31);
    if (!any || ((or[w] & m) !== 0) !== ((and[w] & m) !== 0)) keep.push(j);
  }
  return Int32Array.from(any ? keep : []);
}

/** The codes restricted to the columns `keep` (ascending), repacked. */
export function selectColumns(c: BitCodes, keep: Int32Array): BitCodes {
  if (keep.length === c.bits) return c;
  const out = allocCodes(c.rows, keep.length);
  for (let r = 0; r < c.rows; r++) {
    const src = r * c.words, dst = r * out.words;
    for (let t = 0; t < keep.length; t++) {
      const j = keep[t];
      if ((c.data[src + (j >>> 5)] >>> (j & 31)) & 1) out.data[dst + (t >>> 5)] |= 1 << (t & 31);
    }
  }
  return out;
}

/** The first `rows` codes (a view, no copy). */
export function headRows(c: BitCodes, rows: number): BitCodes {
  const n = Math.min(rows, c.rows);
  return { rows: n, bits: c.bits, words: c.words, data: c.data.subarray(0, n * c.words) };
}

/** Result of {@link distinctCodes}. */
export interface DistinctCodes {
  /** Number of distinct codes. */
  count: number;
  /** For every row, the id (0..count−1) of its distinct code; ids in order of first appearance. */
  groupOf: Int32Array;
  /** For every id, the first row holding that code. */
  firstRow: Int32Array;
  /** For every id, how many rows hold it. */
  multiplicity: Int32Array;
}

/**
 * Exact distinct-code counting: each row is hashed (32-bit multiply–xorshift mixing of its words) into a
 * bucket, and equality is confirmed word by word against the representatives already in that bucket, so a
 * hash collision never merges two different codes.
 */
export function distinctCodes(c: BitCodes): DistinctCodes {
  const { rows, words, data } = c;
  const groupOf = new Int32Array(rows);
  const first: number[] = [];
  const mult: number[] = [];
  // hash → first representative id; further ids with the same hash chain through `next`.
  const head = new Map<number, number>();
  const next: number[] = [];
  for (let r = 0; r < rows; r++) {
    const o = r * words;
    let h = 0x9e3779b9 ^ words;
    for (let w = 0; w < words; w++) {
      h = Math.imul(h ^ data[o + w], 0x85ebca6b);
      h ^= h >>> 13;
      h = Math.imul(h, 0xc2b2ae35);
      h ^= h >>> 16;
    }
    let id = head.get(h);
    let found = -1;
    while (id !== undefined && id >= 0) {
      const p = first[id] * words;
      let same = true;
      for (let w = 0; w < words; w++) {
        if (data[p + w] !== data[o + w]) {
          same = false;
          break;
        }
      }
      if (same) {
        found = id;
        break;
      }
      id = next[id];
    }
    if (found < 0) {
      found = first.length;
      first.push(r);
      mult.push(0);
      next.push(head.get(h) ?? -1);
      head.set(h, found);
    }
    groupOf[r] = found;
    mult[found]++;
  }
  return { count: first.length, groupOf, firstRow: Int32Array.from(first), multiplicity: Int32Array.from(mult) };
}

/** The rows `rowIds` of `c` as new codes (in that order). */
export function gatherRows(c: BitCodes, rowIds: ArrayLike<number>): BitCodes {
  const out = allocCodes(rowIds.length, c.bits);
  for (let i = 0; i < rowIds.length; i++) out.data.set(c.data.subarray(rowIds[i] * c.words, (rowIds[i] + 1) * c.words), i * c.words);
  return out;
}

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** The codes as bytes: row r's byte b (bits 8b..8b+7) at r·(4·words) + b. A view on little-endian hosts. */
export function codeBytes(c: BitCodes): Uint8Array {
  if (LITTLE_ENDIAN) return new Uint8Array(c.data.buffer, c.data.byteOffset, c.data.length * 4);
  const out = new Uint8Array(c.data.length * 4);
  for (let i = 0; i < c.data.length; i++) {
    const w = c.data[i];
    out[4 * i] = w & 255;
    out[4 * i + 1] = (w >>> 8) & 255;
    out[4 * i + 2] = (w >>> 16) & 255;
    out[4 * i + 3] = w >>> 24;
  }
  return out;
}

/** popcount of every byte value. */
export const BYTE_POPCOUNT = (() => {
  const t = new Uint8Array(256);
  for (let v = 1; v < 256; v++) t[v] = t[v >> 1] + (v & 1);
  return t;
})();
