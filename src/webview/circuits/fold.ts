/**
 * Folding nodes into supernodes: several LIB directions of one layer, or several components of one circuit
 * stage, drawn as one node whose edges aggregate the members' edges (sum of E, sum of |score| — and the signed
 * sum of scores for the colour). A fold never spans columns, so no edge falls inside a supernode and the
 * drawn edge mass is the same folded or not. Pure.
 */
import { fmt } from './format';
import type { Fold, VEdge, VGraph, VNode } from './model';

/** Kinds the user can fold (the constant direction, overflow supernodes and units are not). */
const FOLDABLE = new Set<VNode['kind']>(['direction', 'head', 'mlp']);

export function isFoldable(n: VNode): boolean {
  return FOLDABLE.has(n.kind);
}

/**
 * The folds after folding the `selected` node ids of the unfolded graph `base` (supernode ids stand for their
 * members): one new fold per column holding at least two foldable nodes; folds that share members with a
 * new one are merged into it. `made` counts the new folds (0: nothing to fold).
 */
export function foldSelection(base: VGraph, folds: readonly Fold[], selected: readonly string[]): { folds: Fold[]; made: number } {
  const byId = new Map(base.nodes.map((n) => [n.id, n]));
  const foldById = new Map(folds.map((f) => [f.id, f]));
  const ids = new Set<string>();
  for (const s of selected) {
    const f = foldById.get(s);
    if (f) for (const m of f.members) ids.add(m);
    else ids.add(s);
  }
  const perColumn = new Map<number, string[]>();
  for (const id of ids) {
    const n = byId.get(id);
    if (!n || !isFoldable(n)) continue;
    const list = perColumn.get(n.column) ?? [];
    list.push(id);
    perColumn.set(n.column, list);
  }
  const groups = [...perColumn].sort((a, b) => a[0] - b[0]).map(([, members]) => members).filter((m) => m.length >= 2);
  if (!groups.length) return { folds: [...folds], made: 0 };
  const claimed = new Set(groups.flat());
  const kept = folds.filter((f) => !f.members.some((m) => claimed.has(m)));
  const taken = new Set(kept.map((f) => f.id));
  const made: Fold[] = groups.map((members) => {
    members.sort((a, b) => byId.get(a)!.order - byId.get(b)!.order || (a < b ? -1 : 1));
    let id = `fold:${members[0]}`;
    for (let k = 2; taken.has(id); k++) id = `fold:${members[0]}#${k}`;
    taken.add(id);
    return { id, members };
  });
  return { folds: [...kept, ...made], made: made.length };
}

/** The folds without those named in `ids` (all of them when `ids` names none). */
export function unfold(folds: readonly Fold[], ids: readonly string[]): Fold[] {
  const named = folds.filter((f) => ids.includes(f.id));
  if (!named.length) return [];
  return folds.filter((f) => !ids.includes(f.id));
}

function supernode(fold: Fold, members: VNode[], g: VGraph): VNode {
  const col = members[0].column;
  const n = members.length;
  const allLambda = members.every((m) => m.lambda !== undefined);
  const sumLambda = allLambda ? members.reduce((s, m) => s + m.lambda!, 0) : undefined;
  const inCircuit = members.filter((m) => m.inCircuit).length;
  let label: string;
  let info: string[];
  let w: number;
  let h: number;
  if (members[0].kind === 'direction') {
    label = `${n} dirs`;
    w = Math.min(56, Math.max(...members.map((m) => m.w)) + 18);
    h = Math.max(24, Math.max(...members.map((m) => m.h)));
    info = [
      `${n} LIB directions of ${g.columns[col]?.label ?? 'a layer'} folded: ${members.map((m) => m.index ?? m.label).join(', ')}`,
      `ΣΛ = ${fmt(sumLambda ?? null)} · edges show ΣE of the members`,
    ];
  } else {
    const layers = new Set(members.map((m) => m.layer));
    const heads = members.every((m) => m.kind === 'head');
    label = heads && layers.size === 1 ? `a${members[0].layer}.h${members.map((m) => m.head).join(',')}` : members.map((m) => m.label).join('+');
    w = Math.max(56, label.length * 6.4 + 14);
    h = 26;
    info = [`${members.map((m) => m.id).join(', ')} folded · ${inCircuit} of ${n} in the circuit`, 'edges show Σ|score| of the members (colour: sign of Σscore)'];
  }
  return {
    id: fold.id,
    kind: 'fold',
    column: col,
    order: Math.min(...members.map((m) => m.order)),
    label,
    w,
    h,
    faded: members.every((m) => m.faded),
    inCircuit: inCircuit > 0,
    members: members.map((m) => m.id),
    ...(sumLambda !== undefined ? { lambda: sumLambda } : {}),
    ...(members[0].layer !== undefined && members.every((m) => m.layer === members[0].layer) ? { layer: members[0].layer } : {}),
    info,
  };
}

/**
 * `g` with each fold's members (those present and foldable, in the first member's column; at least two)
 * replaced by one supernode, and edges re-attached to it and summed per (source, target, port).
 */
export function foldGraph(g: VGraph, folds: readonly Fold[]): VGraph {
  if (!folds.length) return g;
  const byId = new Map(g.nodes.map((n) => [n.id, n]));
  const owner = new Map<string, string>();
  const supers: VNode[] = [];
  for (const f of folds) {
    const present = f.members.map((m) => byId.get(m)).filter((n): n is VNode => !!n && isFoldable(n) && !owner.has(n.id));
    const col = present[0]?.column;
    const members = present.filter((n) => n.column === col);
    if (members.length < 2) continue;
    const s = supernode(f, members, g);
    supers.push(s);
    for (const m of members) owner.set(m.id, s.id);
  }
  if (!supers.length) return g;
  const nodes = [...g.nodes.filter((n) => !owner.has(n.id)), ...supers];
  const labelOf = new Map(nodes.map((n) => [n.id, n.label]));
  const agg = new Map<string, VEdge & { parts: VEdge[] }>();
  for (const e of g.edges) {
    const s = owner.get(e.source) ?? e.source;
    const t = owner.get(e.target) ?? e.target;
    if (s === t) continue;
    const key = `${s}\u0000${t}\u0000${e.port ?? ''}\u0000${e.constant ? 1 : 0}`;
    const a = agg.get(key);
    if (!a) {
      agg.set(key, { ...e, source: s, target: t, parts: [e] });
      continue;
    }
    a.weight += e.weight;
    if (e.score !== undefined) a.score = (a.score ?? 0) + e.score;
    a.inCircuit = !!(a.inCircuit || e.inCircuit);
    a.count += e.count;
    if (e.rank !== undefined) a.rank = Math.min(a.rank ?? e.rank, e.rank);
    a.parts.push(e);
  }
  const edges: VEdge[] = [];
  for (const a of agg.values()) {
    const { parts, ...e } = a;
    if (parts.length === 1 && e.source === parts[0].source && e.target === parts[0].target) {
      edges.push(parts[0]);
      continue;
    }
    const port = e.port ? ` (${e.port})` : '';
    e.id = `agg:${e.source}->${e.target}${e.port ? `<${e.port}>` : ''}${e.constant ? '~c' : ''}`;
    const ends = `${labelOf.get(e.source)} → ${labelOf.get(e.target)}${port}`;
    e.info =
      e.score !== undefined
        ? [`${ends} · Σ|score| ${fmt(e.weight)} · Σscore ${fmt(e.score)}`, `${e.count} edges, ${parts.filter((p) => p.inCircuit).length} in the circuit`]
        : [`ΣE = ${fmt(e.weight)} over ${e.count} edges${e.constant ? ' (constant direction)' : ''}`, ends];
    edges.push(e);
  }
  return { ...g, nodes, edges };
}
