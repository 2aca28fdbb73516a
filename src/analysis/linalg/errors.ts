/**
 * Error thrown by every routine in `analysis/linalg`: a bad argument (wrong length, NaN/Inf, negative size), a
 * matrix without the property the routine needs (not positive definite), or an iteration that did not converge.
 * `op` is the routine (`"eigh"`), `argument` the offending argument's name where there is one.
 */
export class LinalgError extends Error {
  override readonly name = 'LinalgError';
  constructor(
    readonly op: string,
    readonly detail: string,
    readonly argument?: string,
  ) {
    super(argument === undefined ? `${op}: ${detail}` : `${op}: argument '${argument}': ${detail}`);
  }
}
