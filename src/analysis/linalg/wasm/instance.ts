/**
 * The linear-algebra WebAssembly module (wasm/eigh.c, embedded in eighWasm.ts): compiled once, instantiated by
 * each user that needs memory of its own (the eigensolver in ../eigh.ts, the products in ../gemm.ts).
 */
import { EIGH_WASM_BASE64 } from './eighWasm';
import type { WasmApi, WasmInstance } from './webassembly';

let compiled: object | null | undefined; // undefined: not tried yet; null: unavailable

/**
 * A fresh instance of the module, or null where WebAssembly is missing or refuses synchronous compilation (e.g. a
 * browser main thread); callers then use their TypeScript paths.
 */
export function newLinalgInstance(): WasmInstance | null {
  const api = (globalThis as { WebAssembly?: WasmApi }).WebAssembly;
  if (api === undefined) return null;
  try {
    if (compiled === undefined) compiled = new api.Module(decodeBase64(EIGH_WASM_BASE64));
    return compiled === null ? null : new api.Instance(compiled, {});
  } catch {
    compiled = null;
    return null;
  }
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';

function decodeBase64(text: string): Uint8Array {
  const map = new Uint8Array(128);
  for (let i = 0; i < 64; i++) map[B64.charCodeAt(i)] = i;
  let len = text.length;
  while (len > 0 && text[len - 1] === '=') len--;
  const out = new Uint8Array((len * 3) >> 2);
  let o = 0, acc = 0, bits = 0;
  for (let i = 0; i < len; i++) {
    acc = (acc << 6) | map[text.charCodeAt(i)];
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 255;
    }
  }
  return out;
}
