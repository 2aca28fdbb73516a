/**
 * Click-through: the operator-graph element a drawn node stands for (posted as `reveal` with the run's
 * model). Pure.
 */
import type { RevealTarget } from '../../shared/results';
import type { DrawableRun, VNode } from './model';

/** The reveal target of `n`, or undefined for nodes with no single element (overflow, mixed folds, groups). */
export function revealTarget(d: DrawableRun, n: VNode): RevealTarget | undefined {
  switch (d.kind) {
    case 'lib': {
      if (n.layer === undefined) return undefined;
      const layer = d.result.layers[n.layer]?.name;
      if (!layer) return undefined;
      if (n.kind === 'direction') return { value: layer, label: `LIB direction ${n.index} of ${layer}` };
      if (n.kind === 'constant') return { value: layer, label: `LIB direction 0 (constant) of ${layer}` };
      if (n.kind === 'fold' && n.members) return { value: layer, label: `LIB directions ${n.members.map((m) => m.split(':')[1]).join(', ')} of ${layer}` };
      return undefined;
    }
    case 'circuit': {
      const byId = new Map(d.result.nodes.map((c) => [c.id, c]));
      if (n.kind === 'fold' && n.members) {
        const targets = n.members.map((m) => byId.get(m)?.graph);
        const first = targets[0];
        if (!first || !targets.every((t) => t && t.node === first.node && t.value === first.value)) return undefined;
        return { ...first, label: `${n.members.join(', ')} (folded)` };
      }
      const c = byId.get(n.id);
      if (!c?.graph) return undefined;
      return { ...c.graph, label: c.id };
    }
    case 'groups': {
      if (n.kind !== 'unit' || n.unit === undefined) return undefined;
      return { value: d.result.layer, label: n.group !== undefined && n.group >= 0 ? `unit ${n.unit} (group ${n.group})` : `unit ${n.unit} (constant)` };
    }
  }
}
