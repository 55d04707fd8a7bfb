/** What every CLI command receives: output streams, --json, progress display, the opened studio. */
import { StudioError } from '../core/errors';
import type { EventContract } from '../../src-shared/contract';
import { openStudio, type Studio } from '../studio/studio';
import { resolveDataDir } from '../core/settings';
import { ProgressDisplay, type ProgressWriter } from './progress';

export interface CliIO {
  stdout: { write(text: string): boolean };
  stderr: ProgressWriter;
}

/** Wrong flags or arguments for a command. */
export class CliUsageError extends StudioError {
  constructor(
    message: string,
    readonly command: string | null = null,
  ) {
    super(message, 'usage', command ? { command } : {});
  }
}

export class CliContext {
  private studio: Studio | null = null;
  readonly progress: ProgressDisplay;
  /** Aborted on the first Ctrl-C: long work stops at the next batch and the run is marked cancelled. */
  readonly abort = new AbortController();

  constructor(
    readonly io: CliIO,
    readonly json: boolean,
    readonly verbose: boolean,
    readonly dataDir: string = resolveDataDir(),
  ) {
    this.progress = new ProgressDisplay(io.stderr);
  }

  /** Human text on stdout (suppressed with --json, where stdout is JSON only). */
  print(text: string): void {
    if (!this.json) this.io.stdout.write(`${text}\n`);
  }

  /** Notes on stderr; always shown, never mixed into --json stdout. */
  note(text: string): void {
    this.progress.log(text);
  }

  /** The machine-readable result of a command (stdout, --json only). */
  result(value: unknown): void {
    if (this.json) this.io.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  async open(): Promise<Studio> {
    if (this.studio) return this.studio;
    const studio = await openStudio({
      dataDir: this.dataDir,
      onEngineLog: this.verbose ? (line) => this.io.stderr.write(`[engine] ${line}\n`) : undefined,
    });
    studio.events.on('job:progress', (p: EventContract['job:progress']) => this.progress.update(p));
    studio.events.on('training:metric', (m) => {
      if (this.verbose && m.point.kind === 'train') {
        this.progress.log(`step ${m.point.step} loss ${m.point.loss.toFixed(4)}`);
      } else if (m.point.kind === 'eval') {
        this.progress.log(`eval step ${m.point.step}: val loss ${m.point.loss.toFixed(4)}`);
      }
    });
    studio.events.on('training:checkpoint', (c) =>
      this.progress.log(`checkpoint ${c.checkpoint.id} (step ${c.checkpoint.step})`),
    );
    studio.events.on('run:status', (r) => {
      if (r.status === 'failed')
        this.progress.log(`run ${r.id} failed at ${r.step ?? '?'}: ${r.error ?? ''}`);
    });
    this.studio = studio;
    return studio;
  }

  async close(): Promise<void> {
    this.progress.finish();
    if (this.studio) await this.studio.close();
    this.studio = null;
  }
}

export type CommandFn = (args: string[], ctx: CliContext) => Promise<number>;
