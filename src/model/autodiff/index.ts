/** Reverse-mode autodiff over ONNX graphs, emitted as ONNX (run by onnxruntime). */
export { buildGradientModel, supportedGradientOps, type GradientModel, type GradientSpec } from './gradient';
export { AutodiffError, type AutodiffErrorCode } from './errors';
