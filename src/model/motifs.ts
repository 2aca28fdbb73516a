/**
 * Repeated-structure grouping for graphs without (useful) name scopes: PaddleOCR's exports, TF.js graph
 * models whose every op sits in its own one-op layer scope. Without it a 440-operator model is one long
 * column. Each run of operators directly under one parent (the top level, or a scope that holds many
 * operators or one-op layers) is read as a sequence of tokens in topological order — op type, the kind of
 * attributes, and where each input comes from relative to the operator (1 = the previous operator, w = a
 * weight, x = from outside the run) — and consecutive repeats of the same token string (tandem repeats:
 * the conv-bn-act stacks of a CNN, the transformer blocks of a recognizer) become groups, marked as repeats
 * of each other exactly like sibling name scopes `layers.0`, `layers.1`, … are.
 *
 * Where a repeat starts is ambiguous (ABCABC is also BCA·BCA); the phase is chosen where the fewest values
 * cross the block boundaries, i.e. where the graph is narrowest, which is where a block ends in practice.
 */
import type { GraphNode, HierarchyGroup } from './ir';

/** One repeated block found in a token sequence: units [start, start + length) are copy `copy` of `motif`. */
export interface MotifBlock {
  motif: number;
  start: number;
  length: number;
  copy: number;
}

export interface MotifOptions {
  /** Shortest block (units). */
  minLength?: number;
  /** Longest block (units). */
  maxLength?: number;
  /** Fewest units a repeat must cover (copies × length) to be worth a group. */
  minCoverage?: number;
  /** Shortest block repeated with other units between its copies (a rarer coincidence needs more evidence). */
  minApart?: number;
  /** Fewest copies of a short block (3 to 12 units) found anywhere in what the repeats above leave. */
  minScattered?: number;
}

interface Candidate {
  /** Block length. */
  period: number;
  /** Distance between the starts of consecutive copies (= period for consecutive repeats). */
  stride: number;
  start: number;
  copies: number;
  /** Consecutive copies: the whole periodic stretch [from, to) they were found in. */
  region?: [number, number];
}

/**
 * Repeats in a token sequence: consecutive copies (tandem repeats, any number), and pairs of copies at least
 * `minApart` long with other units between them (up to maxLength apart). `cut[b]` (length n + 1) is how many
 * values cross the boundary before unit b; block starts are placed where it is smallest. Blocks never
 * overlap; consecutive repeats win over pairs apart, then longer coverage, then the shorter block. Then
 * short blocks recurring at least 3 times anywhere in what is left (scatteredRepeats), grown over
 * neighbours of the same `kinds` (op type alone). Blocks with equal token strings, or found together there,
 * share a motif number (0, 1, … in order of first appearance). O(n · maxLength).
 */
export function findRepeatedBlocks(tokens: ArrayLike<number>, cut: ArrayLike<number>, opts: MotifOptions = {}, kinds: ArrayLike<number> = tokens): MotifBlock[] {
  const n = tokens.length;
  const minP = Math.max(1, opts.minLength ?? 2);
  const minCover = opts.minCoverage ?? 6;
  const minApart = opts.minApart ?? 8;
  // shifts: a period of consecutive copies, or the distance between a pair's copies
  const maxP = Math.min(opts.maxLength ?? 256, n - Math.min(minP, minApart));
  const cands: Candidate[] = [];
  for (let p = minP; p <= maxP; p++) {
    // The maximal runs of positions i < n - p where tokens[i] === tokens[i + p], in order. A run shorter than
    // min(p, minApart) yields nothing, and a run that long holds a multiple of that step: only those positions
    // are tried, and a match there is grown both ways to its run (O(n / step) for a shift that rarely matches).
    const end = n - p;
    const step = Math.max(1, Math.min(p, minApart));
    for (let j = 0; j < end; j += step) {
      if (tokens[j] !== tokens[j + p]) continue;
      let s = j;
      while (s > 0 && tokens[s - 1] === tokens[s - 1 + p]) s--;
      let i = j + 1;
      while (i < end && tokens[i] === tokens[i + p]) i++;
      // tokens[s..i+p) has period p; or, shorter, tokens[s..i) recurs p units later
      const len = i + p - s;
      if (len >= 2 * p) {
        const c = bestPhase(cut, s, len, p);
        if (c && c.copies * p >= minCover) cands.push({ ...c, region: [s, s + len] });
      } else if (i - s >= minApart) cands.push(narrowest(cut, s, i - s, p, minApart));
      // i is a mismatch (or the end): the next run starts after it
      j = Math.ceil((i + 1) / step) * step - step;
    }
  }
  // consecutive repeats first (the stronger evidence), then pairs apart in what they leave
  const apart = (c: Candidate): number => (c.stride > c.period ? 1 : 0);
  cands.sort((a, b) => apart(a) - apart(b) || b.copies * b.period - a.copies * a.period || a.period - b.period || a.start - b.start);
  const taken = new Uint8Array(n);
  const accepted: Candidate[] = [];
  for (const c of cands) {
    if (c.region) {
      // consecutive copies: the phase again within each stretch of the periodic region left free
      for (const [a, b] of freeRuns(taken, c.region[0], c.region[1])) {
        const f = b - a >= 2 * c.period ? bestPhase(cut, a, b - a, c.period) : undefined;
        if (!f || f.copies * c.period < minCover) continue;
        taken.fill(1, f.start, f.start + f.copies * c.period);
        accepted.push(f);
      }
      continue;
    }
    // pairs apart: both copies free
    let bestFrom = 0;
    let bestLen = 0;
    let from = 0;
    for (let k = 0; k <= c.copies; k++) {
      const free = k < c.copies && isFree(taken, c.start + k * c.stride, c.period);
      if (!free) {
        if (k - from > bestLen) {
          bestLen = k - from;
          bestFrom = from;
        }
        from = k + 1;
      }
    }
    if (bestLen < 2 || bestLen * c.period < minCover) continue;
    const start = c.start + bestFrom * c.stride;
    for (let k = 0; k < bestLen; k++) taken.fill(1, start + k * c.stride, start + k * c.stride + c.period);
    accepted.push({ period: c.period, stride: c.stride, start, copies: bestLen });
  }
  // motifs numbered in order of first appearance, copies in position order
  const starts: { start: number; length: number; key?: string }[] = [];
  for (const c of accepted) for (let k = 0; k < c.copies; k++) starts.push({ start: c.start + k * c.stride, length: c.period });
  starts.push(...scatteredRepeats(tokens, kinds, cut, taken, opts.minScattered ?? 3));
  starts.sort((a, b) => a.start - b.start);
  const motifOf = new Map<string, number>();
  const copies = new Map<number, number>();
  return starts.map(({ start, length, key: given }) => {
    const key = given ?? Array.prototype.slice.call(tokens, start, start + length).join(',');
    let motif = motifOf.get(key);
    if (motif === undefined) motifOf.set(key, (motif = motifOf.size));
    const copy = copies.get(motif) ?? 0;
    copies.set(motif, copy + 1);
    return { motif, start, length, copy };
  });
}

/** Longest and shortest block searched for among the units the consecutive repeats and pairs leave. */
const SCATTERED_MAX = 12;
const SCATTERED_MIN = 3;

/**
 * Short blocks that recur anywhere in the units not yet `taken` (a conv-bn-act or a squeeze-excite between
 * other blocks): of every window of 3 to 12 free units, the token string with the most coverage (copies ×
 * length, at least `minCopies` non-overlapping copies; ties: the fewest values crossing its boundaries) is
 * taken, then the next, up to 64 motifs. Windows are compared by a rolling hash, then verified.
 */
function scatteredRepeats(tokens: ArrayLike<number>, kinds: ArrayLike<number>, cut: ArrayLike<number>, taken: Uint8Array, minCopies: number): { start: number; length: number; key: string }[] {
  const n = tokens.length;
  const out: { start: number; length: number; key: string }[] = [];
  const same = (a: number, b: number, len: number): boolean => {
    for (let k = 0; k < len; k++) if (tokens[a + k] !== tokens[b + k]) return false;
    return true;
  };
  for (let round = 0; round < 64; round++) {
    let best: { starts: number[]; len: number; score: number; cutSum: number } | undefined;
    for (let len = SCATTERED_MAX; len >= SCATTERED_MIN; len--) {
      const groups = new Map<number, number[]>();
      let free = 0;
      for (let i = 0; i < n; i++) {
        free = taken[i] ? 0 : free + 1;
        if (free < len) continue;
        const a = i - len + 1;
        let h = 0;
        for (let k = 0; k < len; k++) h = (Math.imul(h, 0x01000193) ^ (tokens[a + k] + 1)) >>> 0;
        const list = groups.get(h);
        if (list) list.push(a);
        else groups.set(h, [a]);
      }
      for (const list of groups.values()) {
        if (list.length < minCopies) continue;
        // non-overlapping copies equal to the first (a hash collision is dropped)
        const starts: number[] = [];
        for (const a of list) if ((!starts.length || a >= starts[starts.length - 1] + len) && same(list[0], a, len)) starts.push(a);
        if (starts.length < minCopies) continue;
        const score = starts.length * len;
        let cutSum = 0;
        for (const a of starts) cutSum += (cut[a] ?? 0) + (cut[a + len] ?? 0);
        cutSum /= starts.length;
        if (!best || score > best.score || (score === best.score && cutSum < best.cutSum)) best = { starts, len, score, cutSum };
      }
    }
    if (!best) break;
    const { starts, len } = extendByKind(best.starts, best.len, kinds, taken);
    for (const a of starts) {
      taken.fill(1, a, a + len);
      out.push({ start: a, length: len, key: `scattered:${round}` });
    }
  }
  return out;
}

/**
 * Grows the copies of a block by up to 3 free units on either side while every copy's neighbour there is the
 * same op type (whatever its attributes and wherever its inputs come from): a block's first op reads from
 * outside the block, from a different distance at each copy, and may be a depthwise or a dense conv
 * (conv-bn-act stays one block).
 */
function extendByKind(starts: number[], len: number, kinds: ArrayLike<number>, taken: Uint8Array): { starts: number[]; len: number } {
  let s = [...starts];
  let l = len;
  const n = kinds.length;
  for (let k = 0; k < 3; k++) {
    const left = s.map((a) => a - 1);
    if (!left.every((a, j) => a >= 0 && !taken[a] && kinds[a] === kinds[left[0]] && (j === 0 || a >= s[j - 1] + l))) break;
    s = left;
    l++;
  }
  for (let k = 0; k < 3; k++) {
    const right = s.map((a) => a + l);
    if (!right.every((b, j) => b < n && !taken[b] && kinds[b] === kinds[right[0]] && (j === s.length - 1 || b < s[j + 1]))) break;
    l++;
  }
  return { starts: s, len: l };
}

/**
 * Two copies of tokens[s, s + len) `apart` units apart, trimmed by up to 3 units at either end to the
 * boundaries where the fewest values cross (summed over both copies; ties: the longer block).
 */
function narrowest(cut: ArrayLike<number>, s: number, len: number, apart: number, minLen: number): Candidate {
  const at = (b: number): number => (cut[b] ?? 0) + (cut[b + apart] ?? 0);
  let best = { a: s, b: s + len };
  let bestScore = at(s) + at(s + len);
  for (let da = 0; da <= 3; da++) {
    for (let db = 0; db <= 3; db++) {
      const a = s + da;
      const b = s + len - db;
      if (b - a < minLen) continue;
      const score = at(a) + at(b);
      if (score < bestScore || (score === bestScore && b - a > best.b - best.a)) {
        bestScore = score;
        best = { a, b };
      }
    }
  }
  return { period: best.b - best.a, stride: apart, start: best.a, copies: 2 };
}

/** The maximal runs of units in [from, to) not taken. */
function freeRuns(taken: Uint8Array, from: number, to: number): [number, number][] {
  const out: [number, number][] = [];
  let a = -1;
  for (let i = from; i <= to; i++) {
    const free = i < to && !taken[i];
    if (free && a < 0) a = i;
    else if (!free && a >= 0) {
      out.push([a, i]);
      a = -1;
    }
  }
  return out;
}

function isFree(taken: Uint8Array, start: number, len: number): boolean {
  for (let i = start; i < start + len; i++) if (taken[i]) return false;
  return true;
}

/** The phase of a periodic stretch whose block boundaries cross the fewest values (ties: more copies, earlier). */
function bestPhase(cut: ArrayLike<number>, s: number, len: number, p: number): Candidate | undefined {
  let best: Candidate | undefined;
  let bestScore = Infinity;
  for (let k = 0; k < p; k++) {
    const copies = Math.floor((len - k) / p);
    if (copies < 2) break;
    let sum = 0;
    for (let j = 0; j <= copies; j++) sum += cut[s + k + j * p] ?? 0;
    const score = sum / (copies + 1);
    if (score < bestScore - 1e-9 || (Math.abs(score - bestScore) <= 1e-9 && best && copies > best.copies)) {
      bestScore = score;
      best = { period: p, stride: p, start: s + k, copies };
    }
  }
  return best;
}

/** A scope is searched for repeats when it holds at least this many operators or one-op layers directly. */
export const MOTIF_MIN_UNITS = 24;

/**
 * Attributes whose values take part in a token: what an op computes (axis, permutation, mode, fused
 * activation). Sizes, strides and kernel shapes do not: a downsampling block is still the same block.
 */
const STRUCTURAL = new Set(['axis', 'axes', 'perm', 'mode', 'transA', 'transB', 'activation', 'fused_ops', 'keepdims', 'to']);

function attributeSignature(n: GraphNode): string {
  const parts: string[] = [];
  for (const a of n.attributes) {
    // depthwise or grouped (group > 1) against dense convolution: a different block, whatever the group count
    if (a.name === 'group' && a.value.type === 'int') parts.push(Number(a.value.value) > 1 ? 'grouped' : 'dense');
    if (!STRUCTURAL.has(a.name)) continue;
    const v = a.value;
    const s = v.type === 'int' || v.type === 'float' || v.type === 'string' ? String(v.value) : v.type === 'ints' || v.type === 'floats' || v.type === 'strings' ? v.value.join(',') : v.type === 'json' ? JSON.stringify(v.value) : v.type;
    parts.push(`${a.name}=${s.length > 40 ? s.slice(0, 40) : s}`);
  }
  return parts.sort().join(';');
}

/**
 * What the tokens are read from: the nodes (file order) with an index by id, each node's topological position,
 * the producers' positions of values, and the weights. `unitOfPos` is scratch space (one entry per node, -1
 * when unused) that each search fills and clears again, so that many searches cost no more than their units.
 */
export interface MotifContext {
  nodes: readonly GraphNode[];
  indexOf: ReadonlyMap<string, number>;
  /** Topological position of each node, by file index. */
  pos: Int32Array;
  producerPos: ReadonlyMap<string, number>;
  weights: Pick<ReadonlySet<string>, 'has'>;
  unitOfPos: Int32Array;
}

export interface Unit {
  /** A direct operator, or a one-op child group (blazepose's `model/re_lu`) or a bigger child group. */
  node?: GraphNode;
  group?: HierarchyGroup;
  /** Topological position of its first operator. */
  pos: number;
}

/** Input codes of a token: no value, a weight, from outside the run, from further than 64 units back; else the distance. */
const IN_NONE = 0;
const IN_WEIGHT = 1;
const IN_OUTSIDE = 2;
const IN_FAR = 3;

/**
 * Token numbers, 0, 1, … in order of first appearance of a unit's token or kind (one counter for both, as one
 * map of strings `kind|attributes|inputs` and `kind:kind` would number them), read without building those
 * strings: op kind and attributes are interned once per distinct pair, the inputs as a short code string.
 */
class TokenTable {
  private next = 0;
  private readonly prefixes = new Map<string, number>();
  private readonly tokens = new Map<string, number>();
  private readonly kinds = new Map<string, number>();

  /** The token of a unit whose op kind and attribute signature are `prefix` (`kind|attributes`), inputs `codes`. */
  token(prefix: string, codes: number[]): number {
    let p = this.prefixes.get(prefix);
    if (p === undefined) this.prefixes.set(prefix, (p = this.prefixes.size));
    let key = String.fromCharCode(p >>> 16, p & 0xffff);
    for (const c of codes) key += String.fromCharCode(c);
    let t = this.tokens.get(key);
    if (t === undefined) this.tokens.set(key, (t = this.next++));
    return t;
  }

  /** A barrier's own token (a scope of several ops), never equal to another. */
  barrier(): number {
    return this.next++;
  }

  kind(kind: string): number {
    let k = this.kinds.get(kind);
    if (k === undefined) this.kinds.set(kind, (k = this.next++));
    return k;
  }
}

/**
 * Adds groups for the repeated blocks under `parentId` (undefined: the top level) to `groups`, re-parenting
 * the units they hold. Returns the ids of the groups added.
 */
export function addMotifGroups(
  parentId: string | undefined,
  units: Unit[],
  groups: Map<string, HierarchyGroup>,
  ctx: MotifContext,
): string[] {
  units.sort((a, b) => a.pos - b.pos);
  const n = units.length;
  const unitOfPos = ctx.unitOfPos;
  const touched: number[] = [];
  const mark = (p: number, i: number): void => {
    if (p < 0 || p >= unitOfPos.length) return;
    unitOfPos[p] = i;
    touched.push(p);
  };
  for (let i = 0; i < n; i++) {
    const u = units[i];
    if (u.node) mark(u.pos, i);
    else for (const id of nodesUnder(u.group!, groups)) mark(posOfId(ctx, id), i);
  }
  const table = new TokenTable();
  const tokens = new Int32Array(n);
  const kinds = new Int32Array(n);
  const lastUse = new Int32Array(n).fill(-1);
  const codes: number[] = [];
  for (let i = 0; i < n; i++) {
    const u = units[i];
    const node = u.node ?? (u.group!.nodeCount === 1 ? soleNode(u.group!, groups, ctx) : undefined);
    if (!node) {
      // a scope of several ops: a barrier, never part of a found repeat (its token and its kind: two numbers)
      tokens[i] = table.barrier();
      kinds[i] = table.barrier();
      continue;
    }
    codes.length = 0;
    for (const v of node.inputs) {
      if (!v) {
        codes.push(IN_NONE);
        continue;
      }
      if (ctx.weights.has(v)) {
        codes.push(IN_WEIGHT);
        continue;
      }
      const pp = ctx.producerPos.get(v);
      const j = pp === undefined ? -1 : unitOfPos[pp];
      if (j < 0 || j >= i) {
        codes.push(IN_OUTSIDE);
        continue;
      }
      if (lastUse[j] < i) lastUse[j] = i;
      codes.push(i - j <= 64 ? IN_FAR + (i - j) : IN_FAR);
    }
    const kind = `${node.domain}:${node.opType}`;
    tokens[i] = table.token(`${kind}|${node.attributes.length ? attributeSignature(node) : ''}`, codes);
    kinds[i] = table.kind(kind);
  }
  for (const p of touched) unitOfPos[p] = -1;
  const diff = new Int32Array(n + 2);
  for (let j = 0; j < n; j++) {
    if (lastUse[j] > j) {
      diff[j + 1]++;
      diff[lastUse[j] + 1]--;
    }
  }
  const cut = new Int32Array(n + 1);
  let run = 0;
  for (let b = 0; b <= n; b++) cut[b] = run += diff[b];
  const blocks = findRepeatedBlocks(tokens, cut, {}, kinds);
  if (!blocks.length) return [];
  return materialize(parentId, units, blocks, groups, ctx);
}

function posOfId(ctx: MotifContext, id: string): number {
  const k = ctx.indexOf.get(id);
  return k === undefined ? -1 : ctx.pos[k];
}

/** Node ids under a group, recursively. */
function nodesUnder(g: HierarchyGroup, groups: Map<string, HierarchyGroup>): string[] {
  const out: string[] = [];
  const stack = [g];
  while (stack.length) {
    const h = stack.pop()!;
    out.push(...h.nodes);
    for (const c of h.children) stack.push(groups.get(c)!);
  }
  return out;
}

function soleNode(g: HierarchyGroup, groups: Map<string, HierarchyGroup>, ctx: MotifContext): GraphNode | undefined {
  let h = g;
  while (!h.nodes.length && h.children.length === 1) h = groups.get(h.children[0])!;
  if (h.nodes.length !== 1) return undefined;
  const k = ctx.indexOf.get(h.nodes[0]);
  return k === undefined ? undefined : ctx.nodes[k];
}

/** A short kind for a block's label from the ops it holds: attention, conv, linear, norm, or its first op. */
function blockKind(ops: string[]): string {
  if (ops.some((o) => /softmax/i.test(o))) return 'attention';
  if (ops.some((o) => /conv/i.test(o))) return 'conv';
  if (ops.some((o) => /^(MatMul|Gemm|Einsum|BatchMatMul|Dense)/i.test(o))) return 'linear';
  if (ops.some((o) => /norm/i.test(o))) return 'norm';
  return (ops[0] ?? 'block').replace(/[^A-Za-z]/g, '').toLowerCase() || 'block';
}

function letters(k: number): string {
  let s = '';
  let x = k;
  do {
    s = String.fromCharCode(65 + (x % 26)) + s;
    x = Math.floor(x / 26) - 1;
  } while (x >= 0);
  return s;
}

function materialize(parentId: string | undefined, units: Unit[], blocks: MotifBlock[], groups: Map<string, HierarchyGroup>, ctx: MotifContext): string[] {
  const parent = parentId === undefined ? undefined : groups.get(parentId);
  const opsOf = (u: Unit): string[] => {
    if (u.node) return [u.node.opType];
    return nodesUnder(u.group!, groups).map((id) => {
      const k = ctx.indexOf.get(id);
      return k === undefined ? '' : ctx.nodes[k].opType;
    });
  };
  // label per motif: kind, with a letter when one kind has several motifs
  const kindOf = new Map<number, string>();
  for (const b of blocks) if (!kindOf.has(b.motif)) kindOf.set(b.motif, blockKind(units.slice(b.start, b.start + b.length).flatMap(opsOf)));
  const perKind = new Map<string, number[]>();
  for (const [m, k] of kindOf) perKind.set(k, [...(perKind.get(k) ?? []), m]);
  const labelOf = new Map<number, string>();
  for (const [k, ms] of perKind) ms.forEach((m, i) => labelOf.set(m, ms.length > 1 ? `${k}${letters(i)}` : k));
  const added: string[] = [];
  const movedNodes = new Set<string>();
  const movedGroups = new Set<string>();
  for (const b of blocks) {
    let label = `${labelOf.get(b.motif)}.${b.copy}`;
    let id = parentId === undefined ? label : `${parentId}/${label}`;
    for (let k = 2; groups.has(id); k++) id = parentId === undefined ? `${label}~${k}` : `${parentId}/${label}~${k}`;
    label = id.slice(id.lastIndexOf('/') + 1);
    const g: HierarchyGroup = { id, label, parent: parentId, nodes: [], children: [], nodeCount: 0, params: 0, motif: true };
    for (let k = b.start; k < b.start + b.length; k++) {
      const u = units[k];
      if (u.node) {
        g.nodes.push(u.node.id);
        g.nodeCount += 1;
        g.params += u.node.params;
        if (parent) movedNodes.add(u.node.id);
      } else {
        const c = u.group!;
        c.parent = id;
        g.children.push(c.id);
        g.nodeCount += c.nodeCount;
        g.params += c.params;
        if (parent) movedGroups.add(c.id);
      }
    }
    groups.set(id, g);
    added.push(id);
  }
  if (parent) {
    parent.nodes = parent.nodes.filter((x) => !movedNodes.has(x));
    parent.children = [...parent.children.filter((x) => !movedGroups.has(x)), ...added];
  }
  return added;
}
