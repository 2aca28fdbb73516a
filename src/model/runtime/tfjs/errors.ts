/**
 * Errors of the ONNX → tfjs translator. Each names the node (id and op) and says what was expected and what
 * was found, so a failure deep inside a 400-node graph points at the offending node.
 */

export type TranslatorErrorCode =
  /** The graph uses ops (or an op in a form) the translator does not implement. */
  | 'unsupported-op'
  /** The op is implemented but not for this attribute value / dtype / rank. */
  | 'unsupported-feature'
  /** An int64 value does not fit the int32 tfjs uses for integers. */
  | 'int64-overflow'
  /** Inputs or attributes contradict the ONNX spec (wrong count, incompatible shapes…). */
  | 'invalid-node'
  /** A feed/cut/fetch does not name a value of the graph, or a needed input was not given. */
  | 'bad-request'
  /** No tfjs backend could be initialised. */
  | 'no-backend';

export class TranslatorError extends Error {
  override readonly name = 'TranslatorError';
  constructor(
    readonly code: TranslatorErrorCode,
    readonly detail: string,
    /** The node that failed, when there is one. */
    readonly node?: { id: string; opType: string },
  ) {
    super(node ? `node '${node.id}' (${node.opType}): ${detail}` : detail);
  }
}

/** Lists unsupported ops by name and count: `Resize ×6, com.microsoft.FusedConv ×2`. */
export class UnsupportedOpsError extends TranslatorError {
  constructor(
    readonly ops: { op: string; count: number }[],
    file?: string,
  ) {
    const list = ops.map((o) => `${o.op} ×${o.count}`).join(', ');
    super(
      'unsupported-op',
      `${file ? `${file}: ` : ''}the tfjs translator does not implement ${ops.length} op type(s) used by this model: ${list}`,
    );
  }
}
