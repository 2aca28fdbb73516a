/** UTF-8 pieces → one string (a streaming decoder: a character split between two pieces is joined). */
export function joinUtf8(pieces: readonly Uint8Array[]): string {
  const d = new TextDecoder();
  let out = '';
  for (const p of pieces) out += d.decode(p, { stream: true });
  return out + d.decode();
}
