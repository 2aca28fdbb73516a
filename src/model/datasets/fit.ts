/**
 * Fitting an image folder to the model it is for, and the spec's `classes`: what the dataset layer decides
 * from the model input's shape when the spec does not say, and the class numbering the model expects.
 */

import { DatasetError } from './errors';
import { formatShape } from './ndarray';
import type { DatasetSpec, Layout } from './spec';

/** Image settings taken from the model input, and the warning that says so once the folder is read. */
export interface ImageFit {
  size?: [number, number];
  layout?: Layout;
  channels?: 1 | 3 | 4;
  /**
   * The warning for the result, given the loaded images' shape, what was resized and whether they were all
   * grey; null when nothing that changes the values was decided for the user.
   */
  warning(shape: number[], resized: { count: number; from?: [number, number] }, grey: boolean): string[] | null;
}

const NONE: ImageFit = { warning: () => null };

/**
 * What an image folder takes from an image-like model input ([batch, C, H, W] or [batch, H, W, C], C ≤ 4 and
 * fixed) for each of `size`, `layout`, `channels` the spec leaves out. The model's layout is channels first
 * when its first sample axis is a fixed size ≤ 4, else channels last when its last is; otherwise nothing is
 * decided (the shape check then says what to set).
 */
export function fitToModelInput(spec: DatasetSpec, input: { name: string; shape: readonly (number | string | null)[] } | undefined): ImageFit {
  if (!input || input.shape.length !== 4) return NONE;
  const fixed = (d: number | string | null): number | undefined => (typeof d === 'number' && d > 0 ? d : undefined);
  const [a, b, c] = input.shape.slice(1).map(fixed);
  const modelLayout: Layout | undefined = a !== undefined && a <= 4 ? 'NCHW' : c !== undefined && c <= 4 ? 'NHWC' : undefined;
  if (!modelLayout) return NONE;
  const [ch, h, w] = modelLayout === 'NCHW' ? [a, b, c] : [c, a, b];
  const fit: ImageFit = { warning: () => null };
  if (spec.layout === undefined && modelLayout !== 'NCHW') fit.layout = modelLayout;
  if (spec.channels === undefined && (ch === 1 || ch === 3 || ch === 4)) fit.channels = ch;
  if (spec.size === undefined && h !== undefined && w !== undefined) fit.size = [h, w];
  fit.warning = (shape, resized, grey) => {
    const parts: string[] = [];
    const decided: string[] = [];
    if (fit.size && resized.count) {
      const from = resized.from ? `${resized.from[0]}×${resized.from[1]}` : 'their size';
      parts.push(`resized ${resized.count} image(s) (e.g. from ${from}) to ${fit.size[0]}×${fit.size[1]} (bilinear)`);
      decided.push('size');
    }
    if (fit.channels === 1 && !grey) {
      parts.push('converted colour to grey (one channel, ITU-R 601 luma)');
      decided.push('channels');
    }
    if (fit.layout) {
      parts.push(`laid them out ${fit.layout} (height, width, channels)`);
      decided.push('layout');
    }
    if (!parts.length) return null;
    return [
      `image folder fitted to model input '${input.name}' ${formatShape(input.shape)}: ${parts.join(' and ')}, giving samples of shape ${formatShape(shape.slice(1))}; the dataset spec does not set ${decided.map((d) => `"${d}"`).join(' or ')} — set ${decided.length > 1 ? 'them' : 'it'} to choose`,
    ];
  };
  return fit;
}

/**
 * Renumbers labels by the spec's `classes`: `found` are the data's class names (label i is `found[i]`),
 * `classes` the model's order (names by output index, or name → output index). Returns the new labels and
 * the class names by output index (outputs no class maps to are named `(output k)`).
 * @throws DatasetError `bad-classes` naming `where` (the spec file) when a class of the data is not named,
 * or (with `requireAll`) a named class is not in the data.
 */
export function applyClasses(
  classes: NonNullable<DatasetSpec['classes']>,
  found: readonly string[],
  labels: Int32Array,
  where: string,
  what: string,
  requireAll: boolean,
): { labels: Int32Array; classNames: string[] } {
  const index = new Map<string, number>(Array.isArray(classes) ? classes.map((n, i) => [n, i]) : Object.entries(classes));
  const unknown = found.filter((n) => !index.has(n));
  if (unknown.length) {
    throw new DatasetError('bad-classes', where, `"classes" does not name ${nameList(unknown)} among ${what}; it must give every class its output (the data's classes: ${nameList(found)})`);
  }
  if (requireAll) {
    const have = new Set(found);
    const missing = [...index.keys()].filter((n) => !have.has(n));
    if (missing.length) {
      throw new DatasetError('bad-classes', where, `"classes" names ${nameList(missing)}, not found among ${what} (the data's classes: ${nameList(found)})`);
    }
  }
  const remap = Int32Array.from(found, (n) => index.get(n)!);
  const out = new Int32Array(labels.length);
  for (let i = 0; i < labels.length; i++) out[i] = remap[labels[i]];
  let outputs = 0;
  for (const k of index.values()) outputs = Math.max(outputs, k + 1);
  const classNames = Array.from({ length: outputs }, (_, k) => `(output ${k})`);
  for (const [n, k] of index) classNames[k] = n;
  return { labels: out, classNames };
}

function nameList(names: readonly string[]): string {
  const shown = names.slice(0, 10).map((n) => `'${n}'`).join(', ');
  return names.length > 10 ? `${shown} … (${names.length} in all)` : shown;
}
