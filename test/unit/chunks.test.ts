/** The webview's joining of the graph's pieces (src/webview/chunks.ts): plain UTF-8 and the engine's gzip stream. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as zlib from 'node:zlib';
import { gunzipUtf8, joinUtf8 } from '../../src/webview/chunks';

/** Pieces cut at fixed sizes, so a multi-byte character (and the gzip stream) is split between two of them. */
function cut(bytes: Uint8Array, size: number): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (let o = 0; o < bytes.byteLength; o += size) out.push(bytes.slice(o, o + size));
  return out;
}

const text = JSON.stringify({ nodes: Array.from({ length: 2000 }, (_, i) => ({ id: `n${i}`, op: i % 3 ? 'Conv' : 'Ré·lu→', shape: [1, i] })) });

describe('graph pieces', () => {
  it('joins UTF-8 pieces split inside a character', () => {
    const pieces = cut(new TextEncoder().encode(text), 7);
    assert.equal(joinUtf8(pieces), text);
  });

  it('decompresses the gzip stream of several pieces back to the exact text', async () => {
    const gz = zlib.gzipSync(Buffer.from(text, 'utf8'), { level: 1 });
    const pieces = cut(gz, 1000);
    assert.ok(pieces.length > 2);
    assert.equal(await gunzipUtf8(pieces), text);
  });

  it('rejects pieces that are not one whole gzip stream', async () => {
    const gz = zlib.gzipSync(Buffer.from(text, 'utf8'));
    await assert.rejects(gunzipUtf8(cut(gz, 1000).slice(0, -1)));
    await assert.rejects(gunzipUtf8([new TextEncoder().encode(text)]));
  });
});
