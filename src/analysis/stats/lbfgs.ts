/**
 * Limited-memory BFGS for smooth unconstrained minimisation (Nocedal & Wright, Algorithm 7.4: the two-loop
 * recursion with the γ = sᵀy / yᵀy initial scaling), with a backtracking Armijo line search by safeguarded
 * quadratic/cubic interpolation. Pairs with sᵀy ≤ 0 are skipped; for the strictly convex objectives used
 * here (L2-regularised logistic regression) they do not occur, so Armijo steps suffice.
 */

export interface LbfgsOptions {
  /** Stored correction pairs (default 10, as scipy's L-BFGS-B). */
  memory?: number;
  /** Iteration cap (default 2000). */
  maxIter?: number;
  /** Stop when max |g_i| ≤ gtol (default 1e-5, absolute). */
  gtol?: number;
  /** Stop when the decrease f_k − f_{k+1} ≤ ftol · max(|f_k|, |f_{k+1}|, 1) (default 1e-13). */
  ftol?: number;
}

export interface LbfgsResult {
  x: Float64Array;
  f: number;
  /** max |g_i| at x. */
  gradMax: number;
  iterations: number;
  evaluations: number;
  /** True when the gradient or the decrease test stopped it (not the iteration cap). */
  converged: boolean;
  reason: 'gtol' | 'ftol' | 'maxIter' | 'lineSearch';
}

/**
 * Minimises f from x0. `fg(x, g)` returns f(x) and writes ∇f(x) into g.
 */
export function minimizeLbfgs(fg: (x: Float64Array, g: Float64Array) => number, x0: Float64Array, opts: LbfgsOptions = {}): LbfgsResult {
  const n = x0.length;
  const m = opts.memory ?? 10;
  const maxIter = opts.maxIter ?? 2000;
  const gtol = opts.gtol ?? 1e-5;
  const ftol = opts.ftol ?? 1e-13;
  const x = Float64Array.from(x0);
  const g = new Float64Array(n);
  let f = fg(x, g);
  let evaluations = 1;
  const S: Float64Array[] = [], Y: Float64Array[] = [], rho: number[] = [];
  const d = new Float64Array(n), xNew = new Float64Array(n), gNew = new Float64Array(n);
  const alpha = new Float64Array(m);
  const gmax = (v: Float64Array): number => {
    let s = 0;
    for (let i = 0; i < n; i++) s = Math.max(s, Math.abs(v[i]));
    return s;
  };
  let iterations = 0;
  let reason: LbfgsResult['reason'] = 'maxIter';
  if (gmax(g) <= gtol) return { x, f, gradMax: gmax(g), iterations, evaluations, converged: true, reason: 'gtol' };
  for (; iterations < maxIter; ) {
    // Two-loop recursion: d = −H·g.
    for (let i = 0; i < n; i++) d[i] = -g[i];
    for (let j = S.length - 1; j >= 0; j--) {
      let a = 0;
      for (let i = 0; i < n; i++) a += S[j][i] * d[i];
      a *= rho[j];
      alpha[j] = a;
      for (let i = 0; i < n; i++) d[i] -= a * Y[j][i];
    }
    let gamma: number;
    if (S.length) {
      const j = S.length - 1;
      let sy = 0, yy = 0;
      for (let i = 0; i < n; i++) {
        sy += S[j][i] * Y[j][i];
        yy += Y[j][i] * Y[j][i];
      }
      gamma = sy / yy;
    } else {
      // First step: unit length along −g (scipy's choice), so the first trial point is at a sane scale.
      let gn = 0;
      for (let i = 0; i < n; i++) gn += g[i] * g[i];
      gamma = 1 / Math.sqrt(gn);
    }
    for (let i = 0; i < n; i++) d[i] *= gamma;
    for (let j = 0; j < S.length; j++) {
      let b = 0;
      for (let i = 0; i < n; i++) b += Y[j][i] * d[i];
      b *= rho[j];
      for (let i = 0; i < n; i++) d[i] += (alpha[j] - b) * S[j][i];
    }
    let slope = 0;
    for (let i = 0; i < n; i++) slope += g[i] * d[i];
    if (!(slope < 0)) {
      // Not a descent direction (round-off): restart from steepest descent.
      S.length = Y.length = rho.length = 0;
      let gn = 0;
      for (let i = 0; i < n; i++) gn += g[i] * g[i];
      for (let i = 0; i < n; i++) d[i] = -g[i] / Math.sqrt(gn);
      slope = -Math.sqrt(gn);
    }
    // Backtracking Armijo (c1 = 1e-4) with interpolation.
    let step = 1;
    let fNew = NaN;
    let ok = false;
    let prevStep = 0, prevF = f;
    for (let ls = 0; ls < 40; ls++) {
      for (let i = 0; i < n; i++) xNew[i] = x[i] + step * d[i];
      fNew = fg(xNew, gNew);
      evaluations++;
      if (Number.isFinite(fNew) && fNew <= f + 1e-4 * step * slope) {
        ok = true;
        break;
      }
      let next: number;
      if (!Number.isFinite(fNew)) next = step * 0.1;
      else if (ls === 0 || prevStep === 0) {
        next = -(slope * step * step) / (2 * (fNew - f - slope * step));
      } else {
        // Cubic through f(0), f'(0), f(step), f(prevStep).
        const r1 = fNew - f - step * slope, r2 = prevF - f - prevStep * slope;
        const a = (r1 / (step * step) - r2 / (prevStep * prevStep)) / (step - prevStep);
        const b = (-prevStep * r1 / (step * step) + step * r2 / (prevStep * prevStep)) / (step - prevStep);
        const disc = b * b - 3 * a * slope;
        next = a === 0 ? -slope / (2 * b) : (-b + Math.sqrt(Math.max(disc, 0))) / (3 * a);
      }
      prevStep = step;
      prevF = fNew;
      if (!Number.isFinite(next)) next = step * 0.5;
      step = Math.min(Math.max(next, 0.1 * step), 0.5 * step);
    }
    if (!ok) {
      reason = 'lineSearch';
      break;
    }
    iterations++;
    const s = new Float64Array(n), y = new Float64Array(n);
    let sy = 0;
    for (let i = 0; i < n; i++) {
      s[i] = xNew[i] - x[i];
      y[i] = gNew[i] - g[i];
      sy += s[i] * y[i];
    }
    const fOld = f;
    x.set(xNew);
    g.set(gNew);
    f = fNew;
    if (sy > 1e-12 * Math.abs(fOld)) {
      if (S.length === m) {
        S.shift();
        Y.shift();
        rho.shift();
      }
      S.push(s);
      Y.push(y);
      rho.push(1 / sy);
    }
    if (gmax(g) <= gtol) {
      reason = 'gtol';
      break;
    }
    if (fOld - f <= ftol * Math.max(Math.abs(fOld), Math.abs(f), 1)) {
      reason = 'ftol';
      break;
    }
  }
  const gm = gmax(g);
  return { x, f, gradMax: gm, iterations, evaluations, converged: reason === 'gtol' || reason === 'ftol', reason };
}
