import type { EngineErrorPayload } from '../shared/engineProtocol';

/**
 * A job's error on the host side (extension host, CLI), rebuilt from the payload that crossed the worker
 * boundary: the original name, code and file. Kept free of the engine's imports so the extension host bundle
 * does not pull in the loaders.
 */
export class EngineError extends Error {
  constructor(readonly payload: EngineErrorPayload) {
    super(payload.message);
    this.name = payload.name;
  }
  get code(): string | undefined {
    return this.payload.code;
  }
}
