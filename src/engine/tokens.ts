/**
 * Token ids checked against the model's vocabulary before they reach it. ONNX Gather accepts negative
 * indices (−1 is the last row), so a negative id silently embeds another token; an id ≥ the vocabulary makes
 * the runtime fail with its own message. Both are the data's fault and are said so: which array, which row
 * and column, which file.
 */
import type { Dataset } from '../model/datasets';
import type { ModelGraph } from '../model/ir';
import { JobInputError, throwIfAborted } from './errors';

/** How many ids a token input may take, and where that number comes from (for the message). */
export interface Vocabulary {
  size: number;
  source: string;
}

/** Ops that carry token ids unchanged (in value) from the input to the embedding lookup. */
const PASS_THROUGH = new Set(['Cast', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten', 'Identity', 'Expand', 'Transpose']);

/**
 * The rows of the embedding table(s) the token input `input` indexes: every `Gather` (axis 0) reached from
 * `input` through value-preserving ops whose data is a weight of known shape. With several tables (token and
 * segment embeddings fed by the same ids), the smallest bounds the ids. Undefined when none is found (a
 * position-embedding Gather fed by `Range(Shape(tokens))` does not count: its indices are not the ids).
 */
export function embeddingVocabulary(graph: ModelGraph, input: string): Vocabulary | undefined {
  const consumers = new Map<string, typeof graph.nodes>();
  for (const n of graph.nodes) for (const v of n.inputs) if (v) consumers.set(v, [...(consumers.get(v) ?? []), n]);
  let best: Vocabulary | undefined;
  const seen = new Set<string>([input]);
  const queue = [input];
  while (queue.length) {
    const v = queue.shift()!;
    for (const n of consumers.get(v) ?? []) {
      if (n.domain === '' && n.opType === 'Gather' && n.inputs[1] === v) {
        const axis = n.attributes.find((a) => a.name === 'axis')?.value;
        const rows = graph.tensors[n.inputs[0]]?.shape[0];
        if ((axis === undefined || (axis.type === 'int' && Number(axis.value) === 0)) && typeof rows === 'number' && rows > 0) {
          if (!best || rows < best.size) best = { size: rows, source: `the ${rows} rows of the embedding '${n.inputs[0]}' read by Gather '${n.name || n.id}'` };
        }
      } else if (n.domain === '' && PASS_THROUGH.has(n.opType) && n.inputs[0] === v) {
        for (const o of n.outputs) {
          if (o && !seen.has(o)) {
            seen.add(o);
            queue.push(o);
          }
        }
      }
    }
  }
  return best;
}

/** The last axis of a graph output (the logits of a language model), when the graph declares it. */
export function logitsVocabulary(graph: ModelGraph, output = graph.outputs[0]): Vocabulary | undefined {
  const size = graph.values[output]?.shape?.at(-1);
  return typeof size === 'number' && size > 0 ? { size, source: `the last axis (${size}) of the logits '${output}'` } : undefined;
}

/**
 * Throws on the first id that is negative, not an integer, or ≥ `vocab.size` (only the sign is checked
 * without a vocabulary).
 * @param ids row-major ids, `rowLength` per row (1 for one id per row)
 * @param where the array's name and its file; `firstRow` when `ids` starts further down the array
 * @throws JobInputError naming the array, row, column, the id, the vocabulary and the file
 */
export function checkTokenIds(
  ids: ArrayLike<number | bigint>,
  rowLength: number,
  vocab: Vocabulary | undefined,
  where: { array: string; file: string; firstRow?: number },
): void {
  const limit = vocab?.size ?? Infinity;
  for (let i = 0; i < ids.length; i++) {
    const v = Number(ids[i]);
    if (v >= 0 && v < limit && Number.isInteger(v)) continue;
    const row = (where.firstRow ?? 0) + Math.floor(i / rowLength);
    const at = rowLength === 1 ? `row ${row}` : `row ${row}, column ${i % rowLength}`;
    const expected = vocab ? `an id in [0, ${vocab.size}) (${vocab.source})` : 'a non-negative integer id';
    throw new JobInputError(`${where.file}: '${where.array}' ${at} holds the token id ${String(ids[i])}: expected ${expected}`, where.file);
  }
}

/** Whether a dataset's inputs are integers (token ids, when the model embeds them). */
export function isIntegerData(dataset: Dataset): boolean {
  const d = dataset.inputs.dtype;
  return !d.startsWith('float') && d !== 'bool';
}

/** Reads samples [0, end) of a token dataset in chunks and checks every id. @throws JobInputError */
export async function checkDatasetTokens(dataset: Dataset, end: number, vocab: Vocabulary | undefined, signal?: AbortSignal): Promise<void> {
  const rowLength = dataset.inputs.sampleShape.reduce((a, b) => a * b, 1);
  const chunk = Math.max(1, Math.floor(2 ** 20 / Math.max(1, rowLength)));
  for (let start = 0; start < end; start += chunk) {
    throwIfAborted(signal);
    const b = await dataset.read(start, Math.min(end, start + chunk));
    checkTokenIds(b.x as ArrayLike<number | bigint>, rowLength, vocab, { array: dataset.inputs.name, file: dataset.file, firstRow: start });
  }
}
