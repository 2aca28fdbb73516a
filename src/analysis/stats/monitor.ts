/**
 * How long-running analysis loops talk to their caller without importing a runtime: `progress` for reporting
 * and `check` to honour cancellation (the engine passes a function that throws when its job was aborted).
 */
export interface Monitor {
  progress?: (done: number, total: number, stage: string) => void;
  /** Called between units of work; throws to stop (e.g. on cancellation). */
  check?: () => void;
}
