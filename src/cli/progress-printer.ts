// Live progress of a run on the terminal: one line per finished step, a spinner for the running ones.
import type { WorkflowEvent } from '../events/event-types.js';
import type { WatchEvent } from '../events/event-types.js';
import { errorMessage, formatDuration, previewJson } from './format-values.js';
import { paint, paintStatus } from './terminal-style.js';

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];

interface StepPayload {
  id?: string;
  stepName?: string;
  status?: string;
  startedAt?: number;
  endedAt?: number;
  error?: unknown;
  suspendPayload?: unknown;
  completedCount?: number;
  totalCount?: number;
}

/**
 * Prints a run's events as progress. On a TTY the steps in flight show on a spinner line that
 * is redrawn in place; in a pipe only finished steps are printed, one line each.
 */
export class ProgressPrinter {
  private readonly running = new Map<string, { since: number; detail: string }>();
  private readonly startedAt = new Map<string, number>();
  private readonly tty: boolean;
  private frame = 0;
  private timer: ReturnType<typeof setInterval> | undefined;
  private transient = false;

  constructor(private readonly out: NodeJS.WriteStream = process.stderr) {
    this.tty = out.isTTY === true;
    if (this.tty) {
      this.timer = setInterval(() => this.redraw(), 100);
      this.timer.unref();
    }
  }

  /** Handles one event of the run. */
  onEvent(event: WorkflowEvent | WatchEvent): void {
    const p = (event.payload ?? {}) as StepPayload;
    const id = p.id ?? p.stepName ?? '?';
    switch (event.type) {
      case 'workflow-step-start':
        this.running.set(id, { since: Date.now(), detail: '' });
        if (p.startedAt !== undefined) this.startedAt.set(id, p.startedAt);
        break;
      case 'workflow-step-waiting':
        this.running.set(id, { since: Date.now(), detail: 'sleeping' });
        break;
      case 'workflow-step-progress': {
        const entry = this.running.get(id);
        if (entry) entry.detail = `${p.completedCount ?? 0}/${p.totalCount ?? '?'} items`;
        break;
      }
      case 'workflow-step-result':
      case 'workflow-step-suspended': {
        this.running.delete(id);
        const start = p.startedAt ?? this.startedAt.get(id);
        const end = p.endedAt ?? (p as { suspendedAt?: number }).suspendedAt;
        const took = start !== undefined && end !== undefined ? paint(formatDuration(end - start), 'dim') : '';
        let note = '';
        if (p.status === 'failed') note = paint(errorMessage(p.error), 'red');
        if (event.type === 'workflow-step-suspended') note = paint(previewJson(p.suspendPayload, 70), 'dim');
        this.line(`  ${paintStatus(p.status ?? 'success')}  ${id}  ${took}  ${note}`.trimEnd());
        break;
      }
      case 'workflow-canceled':
        this.line(`  ${paintStatus('canceled')}  the run was canceled`);
        break;
      default:
        break;
    }
    this.redraw();
  }

  /** Clears the spinner line and stops redrawing. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.clear();
  }

  private line(text: string): void {
    this.clear();
    this.out.write(`${text}\n`);
  }

  private clear(): void {
    if (this.tty && this.transient) {
      this.out.write('\r\u001b[2K');
      this.transient = false;
    }
  }

  private redraw(): void {
    if (!this.tty) return;
    this.clear();
    if (this.running.size === 0) return;
    this.frame = (this.frame + 1) % SPINNER.length;
    const parts = [...this.running.entries()].map(
      ([id, r]) => `${id}${r.detail ? ` (${r.detail})` : ''} ${formatDuration(Date.now() - r.since)}`,
    );
    const text = `  ${paint(SPINNER[this.frame]!, 'cyan')} ${parts.join(', ')}`;
    const width = (this.out.columns ?? 100) - 1;
    this.out.write(text.length > width ? `${text.slice(0, width - 1)}…` : text);
    this.transient = true;
  }
}
