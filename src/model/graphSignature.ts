/**
 * A model's architecture signature, for telling a checkpoint series (the same network saved at several epochs or
 * widths) from unrelated models that happen to share a folder (a text detector, recognizer and classifier). Two
 * checkpoints of one series run the same operators in the same order and hold the same weights by name and rank;
 * the sizes of the weights may differ (a width sweep), so dimensions are left out. Pure over the IR.
 */
import { createHash } from 'node:crypto';
import type { ModelGraph } from '../shared/ir';

/** The text the signature hashes: op types in graph order, then the weights' names and ranks, sorted. */
export function signatureText(g: ModelGraph): string {
  const ops = g.nodes.map((n) => (n.domain ? `${n.domain}.${n.opType}` : n.opType)).join(',');
  const weights = Object.values(g.tensors)
    .map((t) => `${t.name}:${t.shape.length}`)
    .sort()
    .join(',');
  return `${g.format}|${g.inputs.length}>${g.outputs.length}|${ops}|${weights}`;
}

/** A short hash of {@link signatureText}: equal for checkpoints of one architecture (any widths), different otherwise. */
export function graphSignature(g: ModelGraph): string {
  return createHash('sha256').update(signatureText(g)).digest('hex').slice(0, 16);
}
