/**
 * Circuit discovery on the example transformer (`npm run bench`, section `circuit`): wall time and the
 * forward/backward passes of EAP and EAP-IG scoring plus the circuit-size search, against exact activation
 * patching of every edge (the baseline, measured in the same run). One run per row after a warm-up; the
 * tfjs backend is whichever the circuit analysis resolves (wasm here).
 */
import * as path from 'node:path';
import { runCircuit } from '../../src/engine/analyses/circuit';
import type { CircuitResult } from '../../src/shared/results';

const repo = path.join(__dirname, '..', '..');

export async function benchCircuit(): Promise<void> {
  const model = path.join(repo, 'examples', 'transformer', 'transformer.onnx');
  const sets = [
    ['example pairs (copied token corrupted)', path.join(repo, 'examples', 'transformer', 'induction.npz')],
    ['match pairs (matched token corrupted)', path.join(repo, 'test', 'fixtures', 'attention', 'induction_match_pairs.npz')],
  ] as const;
  // warm-up: kernels, the executor's plans, the backend
  await runCircuit({ analysis: 'circuit', model, data: sets[0][1], limit: 8, options: { method: 'eap', edges: 5 } }, {});
  console.log('\n## Circuit discovery (example transformer, 64 prompt pairs, one batch; target faithfulness 0.8, top-n)\n');
  console.log('| pairs | method | scoring ms | search ms | discovery ms | forward | backward | circuit edges | faithfulness | exact patching ms (110 fwd) | discovery / exact |');
  console.log('|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|');
  for (const [label, data] of sets) {
    let exactMs = NaN;
    for (const method of ['eap', 'eap-ig'] as const) {
      const validate = method === 'eap-ig';
      const env = await runCircuit({ analysis: 'circuit', model, data, options: { method, validate } }, {});
      const r = env.result as CircuitResult;
      if (r.validation) exactMs = r.validation.exactMs;
      const c = r.circuit;
      const t = env.timings;
      console.log(
        `| ${label} | ${method}${method === 'eap-ig' ? ` (m = ${r.steps})` : ''} | ${t.scoresMs.toFixed(0)} | ${t.searchMs.toFixed(0)} | ${t.discoveryMs.toFixed(0)} | ${r.passes.forward} | ${r.passes.backward} | ${c.edgeCount} / ${r.totalEdges} | ${c.faithfulness?.toFixed(3)} | ${Number.isNaN(exactMs) ? '' : exactMs.toFixed(0)} | ${Number.isNaN(exactMs) ? '' : (t.discoveryMs / exactMs).toFixed(2)} |`,
      );
      if (r.validation) {
        console.log(`|  | Spearman vs exact, top ${r.validation.top}: EAP ${r.validation.spearmanTop.eap.toFixed(3)}, EAP-IG ${r.validation.spearmanTop.eapIg.toFixed(3)} | | | | | | | | | |`);
      }
    }
  }
  console.log('\n(exact patching runs its 110 single-edge forwards from the first changed component, reusing the clean run upstream)');
}

if (require.main === module) void benchCircuit();
