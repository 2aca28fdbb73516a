/** UTF-8 pieces → one string (a streaming decoder: a character split between two pieces is joined). */
export function joinUtf8(pieces: readonly Uint8Array[]): string {
  const d = new TextDecoder();
  let out = '';
  for (const p of pieces) out += d.decode(p, { stream: true });
  return out + d.decode();
}

/** Gzip pieces (in order) → the UTF-8 text they compress, decompressed by the browser's native DecompressionStream. */
export async function gunzipUtf8(pieces: readonly Uint8Array[]): Promise<string> {
  const stream = new Blob(pieces as Uint8Array<ArrayBuffer>[]).stream().pipeThrough(new DecompressionStream('gzip'));
  return new Response(stream).text();
}
