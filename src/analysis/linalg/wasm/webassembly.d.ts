/**
 * The few WebAssembly JS-API shapes that ../eigh.ts uses. The analysis project compiles with `lib: ["ES2022"]`
 * and no DOM or node types, so `WebAssembly` is not declared there; it exists at run time in Node and browsers and is
 * read from `globalThis` with these types (a module, not global declarations, so it cannot clash with lib.dom or
 * @types/node where both are in scope).
 */
export interface WasmMemory {
  readonly buffer: ArrayBuffer;
}

export interface WasmInstance {
  readonly exports: Record<string, unknown>;
}

export interface WasmApi {
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: Record<string, never>) => WasmInstance;
}
