/**
 * Progress on stderr: a redrawn bar on a terminal, plain throttled lines otherwise (CI logs).
 * stdout stays free for --json output.
 */
import type { EventContract } from '../../src-shared/contract';

export interface ProgressWriter {
  isTTY?: boolean;
  columns?: number;
  write(text: string): boolean;
}

export function formatBar(fraction: number, width: number): string {
  const f = Math.min(1, Math.max(0, Number.isFinite(fraction) ? fraction : 0));
  const filled = Math.round(f * width);
  return `[${'#'.repeat(filled)}${'-'.repeat(width - filled)}]`;
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  const s = Math.round(seconds);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, '0')}m`;
}

export class ProgressDisplay {
  private lastKey = '';
  private lastLineAt = 0;
  private lastPrintedFraction = -1;
  private startedAt = Date.now();
  private active = false;

  constructor(
    private readonly out: ProgressWriter = process.stderr,
    private readonly now: () => number = Date.now,
    /** Minimum milliseconds between plain (non-terminal) lines. */
    private readonly plainIntervalMs = 2000,
  ) {}

  update(p: EventContract['job:progress']): void {
    const key = `${p.runId}:${p.step}`;
    if (key !== this.lastKey) {
      this.finish();
      this.lastKey = key;
      this.startedAt = this.now();
      this.lastPrintedFraction = -1;
    }
    const elapsed = (this.now() - this.startedAt) / 1000;
    const eta = p.fraction > 0 && p.fraction < 1 ? (elapsed * (1 - p.fraction)) / p.fraction : 0;
    const pct = `${Math.floor(p.fraction * 100)}%`.padStart(4);
    const counts = `${p.done}/${p.total}`;
    const tail = p.fraction >= 1 ? formatDuration(elapsed) : `eta ${formatDuration(eta)}`;
    const message = p.message ? ` ${p.message}` : '';
    if (this.out.isTTY) {
      const cols = this.out.columns ?? 80;
      let line = `${p.step.padEnd(8)} ${formatBar(p.fraction, 24)} ${pct} ${counts} ${tail}${message}`;
      if (line.length > cols - 1) line = line.slice(0, cols - 1);
      this.out.write(`\r\x1b[2K${line}`);
      this.active = true;
    } else {
      const t = this.now();
      const done = p.fraction >= 1;
      if (done || t - this.lastLineAt >= this.plainIntervalMs || this.lastPrintedFraction < 0) {
        if (done && this.lastPrintedFraction >= 1) return;
        this.out.write(`${p.step} ${pct} ${counts} ${tail}${message}\n`);
        this.lastLineAt = t;
        this.lastPrintedFraction = p.fraction;
      }
    }
  }

  /** Print a line without tearing the bar. */
  log(text: string): void {
    this.finish();
    this.out.write(`${text}\n`);
  }

  finish(): void {
    if (this.active) {
      this.out.write('\n');
      this.active = false;
    }
  }
}
