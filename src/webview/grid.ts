/** Tensor preview geometry (pure). */

/**
 * How the first `available` values of a row-major tensor are shown as a matrix: one row per index of the
 * first axis, the other axes flattened into columns (at most `maxCols` shown); a vector wraps into a
 * near-square grid. `rows` is how many complete rows the values cover.
 */
export function heatmapGrid(shape: readonly number[], available: number, maxCols = 256): { rows: number; cols: number; totalRows: number; rowStride: number } {
  const dims = shape.length ? shape : [1];
  if (dims.length === 1) {
    const n = Math.min(dims[0], available);
    const cols = Math.max(1, Math.min(maxCols, Math.ceil(Math.sqrt(n))));
    return { rows: Math.ceil(n / cols), cols, totalRows: Math.ceil(dims[0] / cols), rowStride: cols };
  }
  const totalRows = dims[0];
  const rowStride = dims.slice(1).reduce((a, b) => a * b, 1);
  const cols = Math.min(rowStride, maxCols);
  // A row longer than what was read still shows its first `cols` values.
  const rows = Math.min(totalRows, Math.floor(available / rowStride) || (available >= cols ? 1 : 0));
  return { rows, cols, totalRows, rowStride };
}
