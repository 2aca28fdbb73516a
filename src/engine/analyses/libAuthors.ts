/**
 * ApolloResearch/rib's Λ of the constant direction beside ours (ANALYSES.md §6; the math in
 * src/analysis/authors.ts {@link ribLambda0}): from the output backwards, for each folded node layer whose
 * section rib can fold (Linear → ReLU or Linear alone, the closed-form sections).
 */
import { AUTHORS_SOURCES, ribLambda0, type LibAuthors } from '../../analysis/authors';
import { derivativeRows, type LayerBasis } from '../../analysis/lib';
import type { Section } from './libModel';

/**
 * @param bases the LIB bases, input side first (the last one the output's identity)
 * @param means folded means μ̃ of the folded node layers (index l for bases[l])
 * @param egg E[ggᵀ] of each closed section with an activation (null otherwise)
 */
export function libAuthors(names: string[], sections: Section[], bases: LayerBasis[], means: Float64Array[], egg: (Float64Array | null)[]): LibAuthors {
  const L = bases.length;
  const rows: LibAuthors['layers'] = new Array(L - 1);
  let next: number | null = null;
  for (let l = L - 2; l >= 0; l--) {
    const s = sections[l], b = bases[l], nb = bases[l + 1];
    const ours = b.lambdas[0];
    if (s.kind !== 'closed') {
      rows[l] = { name: names[l], lambda0: null, reason: `rib folds biases into Linear layers (fold_mlp_in); the section '${s.from}' → '${s.to}' is not Linear → activation (${s.why})` };
      next = null;
      continue;
    }
    if (s.act && s.act.op !== 'Relu') {
      rows[l] = { name: names[l], lambda0: null, reason: `rib folds a bias only through ReLU, GELU or no activation (fold_mlp_in); this section ends in ${s.act.op}` };
      next = null;
      continue;
    }
    if (!nb.folded) {
      // The output carries no constant: rib's M′ is ours.
      rows[l] = { name: names[l], lambda0: ours };
      next = ours;
      continue;
    }
    if (next === null) {
      rows[l] = { name: names[l], lambda0: null, reason: `depends on rib's Λ_0 of '${names[l + 1]}', which is undefined` };
      continue;
    }
    const h = s.h, r = nb.rank, d = s.w + 1;
    const mu = means[l];
    const zbar = new Float64Array(h);
    for (let i = 0; i < h; i++) {
      let z = 0;
      for (let j = 0; j < d; j++) z += s.Wt[i * d + j] * mu[j];
      zbar[i] = z;
    }
    const e = egg[l];
    const meanGate = s.act ? Float64Array.from({ length: h }, (_, i) => e![i * h + i]) : null;
    const lambda0 = ribLambda0({
      lambda0: ours, P: derivativeRows(nb), h, r, constantRow: nb.C.subarray((nb.dim - 1) * r, nb.dim * r), meanGate, zbar, nextLambda0: next,
    });
    rows[l] = { name: names[l], lambda0 };
    next = lambda0;
  }
  return { repository: AUTHORS_SOURCES.lib.repository, commit: AUTHORS_SOURCES.lib.commit, follows: { ...AUTHORS_SOURCES.lib.follows }, layers: rows };
}
