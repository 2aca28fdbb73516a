/**
 * The one place the translator takes tfjs-core from. Importing this module also registers what differentiation
 * needs:
 *
 * - `@tensorflow/tfjs-core`'s Node entry (`dist/tf-core.node.js`) registers no gradient functions, so
 *   `tf.grad` fails on every kernel until `register_all_gradients` has run. Registries live on the global
 *   tfjs namespace, so registering from the ES-module tree of the same package is seen by the Node bundle
 *   (and by backends loaded from node_modules at run time, e.g. the external wasm backend).
 * - Some of those gradient functions call chained ops (`x.reshape(…)` in Prod's and GatherV2's), which the
 *   Node entry does not install either: `register_all_chained_ops` patches the global Tensor class.
 * - Comparisons and logical ops have no gradient in tfjs, so `Where(Less(x, 0), x, …)` — common in exports —
 *   fails to back-propagate ("gradient function not found for Less") even though their true gradient is zero.
 *   Zero gradients are registered for them here (only where tfjs has none).
 *
 * The pure-JS cpu backend is always registered: it is the resolver's last resort and the only backend that
 * is guaranteed to have every backward kernel.
 */
import * as tf from '@tensorflow/tfjs-core';
import '@tensorflow/tfjs-core/dist/register_all_gradients';
import '@tensorflow/tfjs-core/dist/public/chained_ops/register_all_chained_ops';
import { MathBackendCPU } from '@tensorflow/tfjs-backend-cpu';

/** Kernels whose output is boolean (piecewise constant): their gradient is zero wherever it exists. */
const ZERO_GRADIENT_KERNELS: Record<string, string[]> = {
  Less: ['a', 'b'],
  LessEqual: ['a', 'b'],
  Greater: ['a', 'b'],
  GreaterEqual: ['a', 'b'],
  Equal: ['a', 'b'],
  NotEqual: ['a', 'b'],
  LogicalAnd: ['a', 'b'],
  LogicalOr: ['a', 'b'],
  LogicalXor: ['a', 'b'],
  LogicalNot: ['x'],
};

for (const [kernelName, inputs] of Object.entries(ZERO_GRADIENT_KERNELS)) {
  if (tf.getGradient(kernelName)) continue;
  tf.registerGradient({
    kernelName,
    inputsToSave: inputs,
    gradFunc: (_dy, saved) => Object.fromEntries(inputs.map((name, i) => [name, () => tf.zeros(saved[i].shape, 'float32')])),
  });
}

// A named, used import: tfjs-backend-cpu's package.json declares its Node entry free of side effects, so
// bundlers (esbuild) drop a bare `import '@tensorflow/tfjs-backend-cpu'` — and with it the registration of
// the backend and its kernels. Referencing the class keeps the module, which registers both when it runs.
if (!tf.findBackendFactory('cpu')) tf.registerBackend('cpu', () => new MathBackendCPU(), 1);

// Production mode: tfjs's console advice ("install tfjs-node…", "platform already set") is noise in a CLI's
// stderr and an extension's log; the backend in use is reported in every result instead.
tf.env().set('PROD', true);

export { tf };
export type Tensor = tf.Tensor;
