/**
 * The evaluation's progress bar: work units (one per generated answer, one per scoring phase)
 * counted across phases, so the fraction moves steadily whatever phase is running.
 */
export class EvaluationProgress {
  private done = 0;

  constructor(
    readonly total: number,
    private readonly report?: (done: number, total: number, message?: string) => void,
  ) {}

  /** A phase of `units` units: returns the callback for its own count, and counts them when it ends. */
  phase(message: string): { update: (d: number) => void; end: (units: number) => void } {
    const start = this.done;
    return {
      update: (d) => this.report?.(Math.min(start + d, this.total), this.total, message),
      end: (units) => {
        this.done = start + units;
      },
    };
  }

  tick(units: number, message: string): void {
    this.done += units;
    this.report?.(Math.min(this.done, this.total), this.total, message);
  }
}
