/**
 * Cost estimates as people read them, and the gate both the CLI and the extension apply: one formatter for
 * durations (s, min, h, days) and sizes, one check against the memory and time budgets, one place that says
 * what to change when a job is over budget.
 */
import type { AnalysisName } from './analysis';
import type { CostEstimate } from './engineProtocol';

/** The default time budget in minutes (`circuitscope.timeBudgetMinutes`, `--time-budget-min`). */
export const DEFAULT_TIME_BUDGET_MIN = 10;
/** The default memory budget in MB (`circuitscope.memoryBudgetMB`, `--budget-mb`). */
export const DEFAULT_MEMORY_BUDGET_MB = 4096;

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** Two significant figures below 10, whole numbers above: `4.2 s`, `38 min`, `1.4 h`, `81 days`. */
function amount(x: number): string {
  return x < 9.95 ? x.toFixed(1) : x.toFixed(0);
}

/**
 * A duration in the largest unit that keeps it ≥ 1: `0.4 s`, `42 s`, `3.5 min`, `1.4 h`, `81 days`.
 * Non-finite or negative input reads `unknown`.
 */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return 'unknown';
  if (ms < MINUTE) return `${amount(ms / SECOND)} s`;
  if (ms < HOUR) return `${amount(ms / MINUTE)} min`;
  if (ms < DAY) return `${amount(ms / HOUR)} h`;
  const days = ms / DAY;
  return `${amount(days)} ${days < 1.05 ? 'day' : 'days'}`;
}

/** A size in MB (GB from 10 GB): the unit of the memory budget. */
export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return 'unknown';
  const mb = bytes / 2 ** 20;
  return mb >= 10 * 1024 ? `${(mb / 1024).toFixed(1)} GB` : `${mb.toFixed(0)} MB`;
}

/** What lowers a job's time, by analysis: the options whose cost the estimate scales with. */
const TIME_HINTS: Record<AnalysisName, string> = {
  collapse: '--layerwise false',
  hash: 'fewer --probes, a lower --kmeansInit, fewer --sampleSizes',
  redundancy: 'lower --accuracyTrials / --r2Trials, fewer --sizes, --groups false, --authors false',
  lib: '--pca false, --ablation false, --stochasticSources N on sequence models',
  attention: '',
  circuit: 'fewer --steps, --method eap, --validate false',
};

/** The options that lower an analysis's time: as CLI flags (`--steps`), or by name for the extension's option pick. */
export function timeOptionHint(analysis: string | undefined, style: 'cli' | 'names'): string {
  const hint = analysis && Object.hasOwn(TIME_HINTS, analysis) ? TIME_HINTS[analysis as AnalysisName] : '';
  return style === 'cli' ? hint : hint.replace(/--/g, '');
}

/** The advice for a CLI job over the time budget: fewer samples, another batch size, cheaper options. */
export function timeAdvice(analysis: string | undefined, samples: number): string {
  const hint = timeOptionHint(analysis, 'cli');
  return `run on fewer samples (--limit N; the estimate covers ${samples}), try another --batch-size${hint ? `, or cheaper options (${hint})` : ''}`;
}

export interface BudgetCheck {
  overMemory: boolean;
  overTime: boolean;
  /** One line: the estimate in human units, with the budgets. */
  summary: string;
}

/** Compares an estimate with the memory (MB) and time (minutes) budgets. */
export function checkCost(est: Pick<CostEstimate, 'peakBytes' | 'expectedMs' | 'forwardPasses' | 'vjps'>, memoryBudgetMb: number, timeBudgetMin: number): BudgetCheck {
  const overMemory = est.peakBytes / 2 ** 20 > memoryBudgetMb;
  const overTime = est.expectedMs > timeBudgetMin * MINUTE;
  const summary =
    `peak ≈ ${formatBytes(est.peakBytes)}, ≈ ${formatDuration(est.expectedMs)}, ${est.forwardPasses} forward passes${est.vjps ? `, ${est.vjps} VJPs` : ''}` +
    ` (budgets ${memoryBudgetMb} MB, ${formatDuration(timeBudgetMin * MINUTE)})`;
  return { overMemory, overTime, summary };
}
