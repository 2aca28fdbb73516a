/**
 * Compile-time check that every engine result type satisfies the view type the webviews and the report read
 * (`src/shared/results.ts`). Nothing here runs: a field renamed on either side fails `tsc -b`.
 */
import type {
  AttentionResultView,
  CircuitResultView,
  CollapseMetricsView,
  HashMetricsView,
  LibResultView,
  RedundancyMetricsView,
} from '../../shared/results';
import type { AttentionResult } from './attention';
import type { CircuitResult } from './circuit';
import type { CollapseResult } from './collapse';
import type { HashResult } from './hash';
import type { LibResult } from './lib';
import type { RedundancyResult } from './redundancy';

type Assignable<T extends V, V> = [T, V];

export type ResultContract = [
  Assignable<CollapseResult, CollapseMetricsView>,
  Assignable<HashResult, HashMetricsView>,
  Assignable<RedundancyResult, RedundancyMetricsView>,
  Assignable<LibResult, LibResultView>,
  Assignable<AttentionResult, AttentionResultView>,
  Assignable<CircuitResult, CircuitResultView>,
];
