/**
 * A compact, format-independent summary of a loaded graph: what `circuitscope info` prints and what the
 * graph view shows in its header.
 */
import type { Dim, ModelGraph } from './ir';

export interface ValueSummary {
  name: string;
  dtype?: string;
  shape?: Dim[];
}

export interface GroupSummary {
  id: string;
  nodeCount: number;
  params: number;
  children: number;
  repeatKey?: string;
}

export interface ModelSummary {
  file: string;
  format: string;
  formatVersion?: string;
  producer?: string;
  opsets: string[];
  fileBytes: number;
  nodes: number;
  opCounts: Record<string, number>;
  params: number;
  paramBytes: number;
  tensors: number;
  inputs: ValueSummary[];
  outputs: ValueSummary[];
  /** `found`: groups found by repeated structure (no name scope in the file), among `groups`. */
  hierarchy: { groups: number; found: number; depth: number; topLevel: GroupSummary[]; repeatedBlocks: { key: string; count: number }[] };
  subgraphs: number;
  metadata: Record<string, string>;
  warnings: string[];
}

export function summarize(g: ModelGraph): ModelSummary {
  const opCounts: Record<string, number> = {};
  let subgraphs = 0;
  for (const n of g.nodes) {
    const op = n.domain && n.domain !== 'ai.onnx' && n.domain !== 'tfjs' ? `${n.domain}.${n.opType}` : n.opType;
    opCounts[op] = (opCounts[op] ?? 0) + 1;
    subgraphs += n.subgraphs?.length ?? 0;
  }
  const sorted = Object.fromEntries(Object.entries(opCounts).sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])));
  const value = (id: string): ValueSummary => {
    const v = g.values[id];
    return { name: v?.name ?? id, dtype: v?.dtype, shape: v?.shape };
  };
  const depthOf = (id: string): number => id.split('/').length;
  const repeats = new Map<string, number>();
  for (const h of g.hierarchy) if (h.repeatKey) repeats.set(h.repeatKey, (repeats.get(h.repeatKey) ?? 0) + 1);
  return {
    file: g.file,
    format: g.format,
    formatVersion: g.formatVersion,
    producer: g.producer ? `${g.producer.name}${g.producer.version ? ` ${g.producer.version}` : ''}` : undefined,
    opsets: g.opsets.map((o) => `${o.domain || 'ai.onnx'} v${o.version}`),
    fileBytes: g.fileBytes,
    nodes: g.nodes.length,
    opCounts: sorted,
    params: g.params,
    paramBytes: g.paramBytes,
    tensors: Object.keys(g.tensors).length,
    inputs: g.inputs.map(value),
    outputs: g.outputs.map(value),
    hierarchy: {
      groups: g.hierarchy.length,
      found: g.hierarchy.filter((h) => h.motif).length,
      depth: g.hierarchy.reduce((d, h) => Math.max(d, depthOf(h.id)), 0),
      topLevel: g.hierarchy
        .filter((h) => h.parent === undefined)
        .map((h) => ({ id: h.id, nodeCount: h.nodeCount, params: h.params, children: h.children.length, repeatKey: h.repeatKey })),
      repeatedBlocks: [...repeats.entries()].map(([key, count]) => ({ key: key.replace(/^r\d+:/, ''), count })),
    },
    subgraphs,
    metadata: g.metadata,
    warnings: g.warnings,
  };
}

export function formatShape(shape: Dim[] | undefined): string {
  if (!shape) return '?';
  return `[${shape.map((d) => (d === null ? '?' : String(d))).join(', ')}]`;
}

export function formatBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let x = n;
  let u = -1;
  do {
    x /= 1024;
    u++;
  } while (x >= 1024 && u < units.length - 1);
  return `${x.toFixed(x < 10 ? 2 : 1)} ${units[u]}`;
}

/** Human-readable rendering of {@link summarize}'s result. */
export function formatSummary(s: ModelSummary): string {
  const lines: string[] = [];
  const count = (n: number): string => n.toLocaleString('en-US');
  lines.push(`${s.file}`);
  lines.push(`  format      ${s.format}${s.formatVersion ? ` (${s.formatVersion})` : ''}, ${formatBytes(s.fileBytes)}`);
  if (s.producer) lines.push(`  producer    ${s.producer}`);
  if (s.opsets.length) lines.push(`  opsets      ${s.opsets.join(', ')}`);
  lines.push(`  nodes       ${count(s.nodes)}${s.subgraphs ? ` (+${s.subgraphs} nested subgraphs)` : ''}`);
  lines.push(`  parameters  ${count(s.params)} in ${count(s.tensors)} tensors, ${formatBytes(s.paramBytes)}`);
  for (const v of s.inputs) lines.push(`  input       ${v.name}: ${v.dtype ?? '?'} ${formatShape(v.shape)}`);
  for (const v of s.outputs) lines.push(`  output      ${v.name}: ${v.dtype ?? '?'} ${formatShape(v.shape)}`);
  lines.push('  ops:');
  for (const [op, n] of Object.entries(s.opCounts)) lines.push(`    ${op.padEnd(28)} ${n}`);
  const h = s.hierarchy;
  const found = h.found ? ` (${h.found === h.groups ? 'all' : h.found} found by repeated structure: no name scopes there)` : '';
  lines.push(`  hierarchy   ${h.groups} groups${found}, depth ${h.depth}${h.topLevel.length ? `, ${h.topLevel.length} at the top level` : ''}`);
  for (const g of h.topLevel.slice(0, 20)) {
    lines.push(`    ${g.id.padEnd(28)} ${String(g.nodeCount).padStart(6)} nodes ${count(g.params).padStart(12)} params`);
  }
  if (h.topLevel.length > 20) lines.push(`    … ${h.topLevel.length - 20} more`);
  for (const r of h.repeatedBlocks) lines.push(`    repeated block ${r.key} ×${r.count}`);
  for (const w of s.warnings.slice(0, 10)) lines.push(`  note        ${w}`);
  if (s.warnings.length > 10) lines.push(`  note        … ${s.warnings.length - 10} more`);
  return lines.join('\n');
}
