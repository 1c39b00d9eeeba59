/**
 * Stage-by-stage progress of a run on stderr: a live block redrawn in place on a terminal, plain lines
 * (one per change) when stderr is a file or a pipe, so logs stay readable.
 */
import type { RunSummary, StageStatus } from '../../lib/runTypes';
import { formatDuration } from './output';

const SYMBOL: Record<StageStatus, string> = {
  pending: '·',
  running: '▶',
  completed: '✓',
  cached: '≡',
  failed: '✗',
  skipped: '–',
  cancelled: '⊘',
};

export class ProgressDisplay {
  private readonly startedAt = Date.now();
  private readonly stageStarted = new Map<string, number>();
  /** Per stage: its status, and its retry attempt when retried. */
  private readonly lastStatus = new Map<string, string>();
  private drawnLines = 0;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly live = Boolean(process.stderr.isTTY),
  ) {}

  update(progress: RunSummary): void {
    const now = Date.now();
    for (const [stage, s] of Object.entries(progress.stages)) {
      if (s.status === 'running' && !this.stageStarted.has(stage)) this.stageStarted.set(stage, now);
    }
    if (this.live) this.redraw(progress, now);
    else this.printChanges(progress, now);
  }

  private printChanges(progress: RunSummary, now: number): void {
    for (const [stage, s] of Object.entries(progress.stages)) {
      // A retry is a change worth a line (once per attempt and wait, not per countdown second).
      const state = s.retry ? `${s.status}:${s.retry.attempt}:${s.retry.waiting}:${s.retry.cause}` : s.status;
      if (this.lastStatus.get(stage) === state) continue;
      this.lastStatus.set(stage, state);
      if (s.status === 'pending') continue;
      const stamp = `[${formatDuration(now - this.startedAt).padStart(8)}]`;
      if (s.retry && s.status === 'running') {
        this.stream.write(`${stamp} ${stage.padEnd(10)} retrying: ${s.retry.description}\n`);
        continue;
      }
      const took = s.durationMs ? ` (${formatDuration(s.durationMs)})` : '';
      const why = s.error ? `: ${s.error.message}` : '';
      this.stream.write(`${stamp} ${stage.padEnd(10)} ${s.status}${took}${why}${warningNote(s)}\n`);
    }
  }

  private redraw(progress: RunSummary, now: number): void {
    const lines = [
      `run ${progress.runId}  ${progress.dataset} ${progress.month}  ${formatDuration(now - this.startedAt)}`,
    ];
    for (const [stage, s] of Object.entries(progress.stages)) {
      const elapsed =
        s.status === 'running'
          ? formatDuration(now - (this.stageStarted.get(stage) ?? now))
          : s.durationMs
            ? formatDuration(s.durationMs)
            : '';
      const detail = s.error
        ? `  ${s.error.message.slice(0, 100)}`
        : s.retry
          ? `  ${s.retry.description}`
          : warningNote(s);
      lines.push(
        `  ${SYMBOL[s.status]} ${stage.padEnd(10)} ${s.status.padEnd(9)} ${elapsed.padStart(9)}${detail}`,
      );
    }
    const up = this.drawnLines > 0 ? `\x1b[${this.drawnLines}A` : '';
    this.stream.write(up + lines.map((l) => `\x1b[2K${l}`).join('\n') + '\n');
    this.drawnLines = lines.length;
  }
}

/** " (2 warnings)" after a stage that reported any; the full text comes with the final summary. */
function warningNote(stage: RunSummary['stages'][string]): string {
  const n = stage.warnings?.length ?? 0;
  return n === 0 ? '' : `  (${n} warning${n === 1 ? '' : 's'})`;
}
