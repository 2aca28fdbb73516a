/** ONNX graphs on tfjs-core: op translator, executor, gradients, backend resolution. */
export { tf } from './tf';
export { OPS, lookupOp, opKey } from './ops';
export type { OpContext, OpEntry, OpFn, OpInputs } from './ops';
export { TfjsGraphExecutor, assertSupported, checkSupported, defaultOpset, unsupportedOps, type UnsupportedOp } from './executor';
export { jacobian, vjp, vjpOne, type JacobianOptions, type VjpResult } from './grad';
export { BACKEND_PRIORITY, locateWasmDir, resolveBackend, type BackendAttempt, type BackendChoice, type ResolveBackendOptions, type ResolvedBackend } from './backend';
export { TranslatorError, UnsupportedOpsError, type TranslatorErrorCode } from './errors';
export { int64ToInt32, tensorFromData, tensorFromLoaded, tfDTypeOf } from './tensors';
