/**
 * The ONNX → tfjs-core op table: `opType → (inputs, attrs, ctx) => outputs`, ONNX semantics (attribute
 * defaults per the spec, opset-dependent forms), for the default domain (ai.onnx) only. docs/ops.md lists
 * the same table; test/unit/translatorOps.test.ts keeps the two in step.
 */
import type { GraphNode } from '../../ir';
import type { OpEntry } from './context';
import { MATH_OPS } from './opsMath';
import { MISC_OPS } from './opsMisc';
import { NN_OPS } from './opsNn';
import { SHAPE_OPS } from './opsShape';

export type { OpContext, OpEntry, OpFn, OpInputs } from './context';
export { Attrs } from './context';

export const OPS: Readonly<Record<string, OpEntry>> = Object.freeze({ ...MATH_OPS, ...SHAPE_OPS, ...NN_OPS, ...MISC_OPS });

/** The default ONNX domain, under either spelling. */
export function isDefaultDomain(domain: string): boolean {
  return domain === '' || domain === 'ai.onnx';
}

/** How a node's op is named in support reports: `Conv`, or `com.microsoft.FusedConv` outside ai.onnx. */
export function opKey(node: Pick<GraphNode, 'opType' | 'domain'>): string {
  return isDefaultDomain(node.domain) ? node.opType : `${node.domain}.${node.opType}`;
}

export function lookupOp(node: Pick<GraphNode, 'opType' | 'domain'>): OpEntry | undefined {
  if (!isDefaultDomain(node.domain)) return undefined;
  return Object.prototype.hasOwnProperty.call(OPS, node.opType) ? OPS[node.opType] : undefined;
}

/**
 * The op table as Markdown rows (docs/ops.md embeds this between `<!-- ops:begin -->` / `<!-- ops:end -->`;
 * a unit test keeps the two identical).
 */
export function renderOpsTable(): string {
  const rows = Object.keys(OPS)
    .sort()
    .map((op) => {
      const e = OPS[op];
      return `| ${op} | ${e.opsets} | ${e.grad ? 'yes' : 'no'} | ${(e.notes ?? '').replace(/\|/g, '\\|')} |`;
    });
  return ['| Op | Opsets | Gradient | Attributes / notes |', '| --- | --- | --- | --- |', ...rows].join('\n');
}
