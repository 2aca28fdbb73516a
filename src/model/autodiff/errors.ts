/** Typed errors of the ONNX autodiff ({@link buildGradientModel}). */

export type AutodiffErrorCode =
  /** A node on a differentiable path has an op without a VJP rule. */
  | 'unsupported-op'
  /** The op has a rule, but not for this attribute/opset combination (or shapes it needs are unknown). */
  | 'unsupported-case'
  /** A source or seeded value is not a floating-point tensor. */
  | 'non-float'
  /** A name in the spec is not a value of the graph. */
  | 'unknown-name'
  /** The model or spec is malformed (no graph, empty objective, …). */
  | 'bad-request';

export class AutodiffError extends Error {
  override readonly name = 'AutodiffError';
  constructor(
    readonly code: AutodiffErrorCode,
    /** What was expected and what was found, in one sentence. */
    readonly detail: string,
    /** The node concerned (its name, or its first output when unnamed). */
    readonly node?: string,
    /** Its op type. */
    readonly op?: string,
  ) {
    super(node ? `autodiff: node '${node}' (${op ?? '?'}): ${detail}` : `autodiff: ${detail}`);
  }

  /** A plain object for crossing a worker or process boundary. */
  toJSON(): { name: 'AutodiffError'; code: AutodiffErrorCode; detail: string; node?: string; op?: string; message: string } {
    return { name: 'AutodiffError', code: this.code, detail: this.detail, node: this.node, op: this.op, message: this.message };
  }
}
