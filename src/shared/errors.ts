/** The serialized form of a model load error, as it crosses to the webview and into CLI JSON. */
export interface SerializedModelLoadError {
  name: 'ModelLoadError';
  code: string;
  file: string;
  detail: string;
  format?: string;
}

/**
 * An error detail as one line: line breaks and other control characters (which a decoder may quote from the
 * file, e.g. a JSON parser's excerpt) are written as escapes, and very long details are cut.
 */
export function oneLine(detail: string, max = 2000): string {
  // eslint-disable-next-line no-control-regex
  const s = detail.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === '\n' ? '\\n' : c === '\r' ? '\\r' : c === '\t' ? '\\t' : `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`));
  return s.length > max ? `${s.slice(0, max)}…` : s;
}
