/**
 * Nesting depth of JSON text, measured by one linear scan without parsing, so that hostile nesting
 * (`[[[[…]]]]` a hundred thousand deep) is refused before any recursive walk over the parsed value — ours,
 * `JSON.stringify`'s or a runtime's — can overflow the stack.
 */

/** Depth limits per kind of JSON a user brings. Real files stay far below them. */
export const JSON_DEPTH_LIMITS = {
  /** TF.js model.json: Keras configs nest models in models (≈ 6 levels each), graph models stay shallow. */
  model: 256,
  /** One JSONL line: a token list, or an object holding one. */
  jsonlLine: 32,
  /** A dataset spec: a flat object with a few arrays. */
  spec: 32,
} as const;

/**
 * The first place where `text` nests deeper than `limit` (objects and arrays), or undefined when it never
 * does. Brackets inside strings are ignored; the text need not be valid JSON.
 */
export function jsonTooDeep(text: string, limit: number): { depth: number; offset: number } | undefined {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
      continue;
    }
    if (c === 0x22) inString = true;
    else if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return { depth, offset: i };
    } else if (c === 0x5d || c === 0x7d) depth--;
  }
  return undefined;
}
