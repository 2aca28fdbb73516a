/**
 * Which folders of checkpoints the model pick offers as a series: the ONNX files of one folder that share an
 * architecture signature (src/model/graphSignature.ts), at least two of them, in natural order (epoch_2 before
 * epoch_10). Unrelated models in one folder (a detector, a recognizer and a classifier) are no series; a folder
 * holding two architectures' checkpoints offers one series per architecture. No vscode import: unit-tested.
 */
import * as path from 'node:path';

export interface SignedModel {
  model: string;
  /** Null: the model did not load (never part of a series). */
  signature: string | null;
}

export interface SeriesGroup {
  folder: string;
  signature: string;
  /** In natural order of their file names. */
  files: string[];
  /** How many ONNX files of the folder are left out (another architecture, or not loadable). */
  others: number;
}

export function seriesGroups(models: readonly SignedModel[]): SeriesGroup[] {
  const byFolder = new Map<string, SignedModel[]>();
  for (const m of models) {
    const dir = path.dirname(m.model);
    const list = byFolder.get(dir);
    if (list) list.push(m);
    else byFolder.set(dir, [m]);
  }
  const out: SeriesGroup[] = [];
  for (const [folder, list] of byFolder) {
    const bySig = new Map<string, string[]>();
    for (const m of list) if (m.signature !== null) (bySig.get(m.signature) ?? bySig.set(m.signature, []).get(m.signature)!).push(m.model);
    for (const [signature, files] of bySig) {
      if (files.length < 2) continue;
      files.sort((a, b) => path.basename(a).localeCompare(path.basename(b), 'en', { numeric: true }));
      out.push({ folder, signature, files, others: list.length - files.length });
    }
  }
  return out;
}
