/**
 * Float64 dense linear algebra for the analyses: TypeScript on typed arrays, with the eigensolver and large products
 * in an embedded SIMD WebAssembly module (wasm/eigh.c; the TypeScript paths run where WebAssembly is unavailable).
 * No runtime imports.
 * Matrices are row-major typed arrays with their dimensions passed alongside (see `matrix.ts`).
 */
export { LinalgError } from './errors';
export {
  assertFinite,
  assertShape,
  asymmetry,
  frobeniusNorm,
  identity,
  symmetrizeFromLower,
  transpose,
  zeros,
  type RealArray,
} from './matrix';
export {
  colSumsAccumulate,
  crossAccumulate,
  gram,
  matmul,
  matmulABt,
  matmulAtB,
  matvec,
  syrkAccumulate,
} from './gemm';
export { eigh, eigvalsh, type EighResult } from './eigh';
export {
  cholesky,
  solveLower,
  solveLowerTransposed,
  solveSpd,
  type CholeskyOptions,
  type CholeskyResult,
} from './cholesky';
export { pinvSym, type PinvOptions, type PinvResult } from './pinv';
export { ridgeSolve, type RidgeResult } from './ridge';
