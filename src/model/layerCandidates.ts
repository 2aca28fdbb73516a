/**
 * The values of a graph a user may pick as an analysis layer: outputs of activations (where the analyses
 * look for features and codes), of flattening/reshaping steps (a CNN's classifier input), of linear maps
 * (logits, pre-activations) and of residual additions (a transformer's stream), in execution order.
 */
import type { LayerCandidate } from '../shared/analysis';
import { topologicalOrder } from './graphOrder';
import type { ModelGraph } from './ir';

const ACTIVATIONS = new Set(['Relu', 'LeakyRelu', 'PRelu', 'Elu', 'Selu', 'Celu', 'Gelu', 'Sigmoid', 'HardSigmoid', 'Tanh', 'Softplus', 'HardSwish', 'Mish', 'Erf', 'Clip', 'ThresholdedRelu']);
const RESHAPES = new Set(['Flatten', 'Reshape', 'GlobalAveragePool', 'GlobalMaxPool']);
const LINEAR = new Set(['Gemm', 'MatMul', 'Conv', 'Add', 'LayerNormalization', 'BatchNormalization', 'Softmax', 'LogSoftmax']);
// tfjs layers models name their ops after the Keras layer classes.
const TFJS_ACTIVATIONS = new Set(['Activation', 'ReLU', 'LeakyReLU', 'ELU', 'Softmax']);

export function layerCandidates(graph: ModelGraph): LayerCandidate[] {
  const { order } = topologicalOrder(graph);
  const out: LayerCandidate[] = [];
  const seen = new Set<string>();
  for (const n of order) {
    const wanted = ACTIVATIONS.has(n.opType) || RESHAPES.has(n.opType) || LINEAR.has(n.opType) || TFJS_ACTIVATIONS.has(n.opType) || n.opType === 'Dense';
    if (!wanted) continue;
    for (const v of n.outputs) {
      if (!v || seen.has(v)) continue;
      seen.add(v);
      out.push({ value: v, node: n.name || n.id, op: n.opType, shape: graph.values[v]?.shape ?? undefined });
    }
  }
  return out;
}
