// Terminal rendering of runs: the list table and one run's details (steps, result or error, attempts, hints).
import type { RunListPage, WorkflowRunView } from '../workflow/run-types.js';
import type { StepResult } from '../workflow/types.js';
import { formatTable } from './format-table.js';
import { errorMessage, formatAgo, formatDuration, formatTime, previewJson } from './format-values.js';
import { paint, paintStatus } from './terminal-style.js';

/** The table of `weft runs list`. */
export function formatRunList(page: RunListPage, shown: { page: number; perPage: number }): string {
  if (page.runs.length === 0) return paint('No runs match.', 'dim');
  const rows = page.runs.map((r) => [
    r.runId,
    r.workflowName,
    paintStatus(r.status),
    formatAgo(r.createdAt),
    formatAgo(r.updatedAt),
    r.resourceId ?? '',
  ]);
  const table = formatTable(
    [
      { header: 'RUN', shrink: true },
      { header: 'WORKFLOW', shrink: true },
      { header: 'STATUS' },
      { header: 'CREATED' },
      { header: 'UPDATED' },
      { header: 'RESOURCE', shrink: true },
    ],
    rows,
  );
  const first = shown.page * shown.perPage + 1;
  const last = first + page.runs.length - 1;
  const more = last < page.total ? `; next page: --page ${shown.page + 1}` : '';
  return `${table}\n${paint(`${first}-${last} of ${page.total} runs${more}`, 'dim')}`;
}

function stepDuration(step: StepResult): string {
  const end = step.endedAt ?? step.suspendedAt;
  return end !== undefined ? formatDuration(end - step.startedAt) : '';
}

function stepNote(step: StepResult): string {
  if (step.status === 'failed') return paint(errorMessage(step.error), 'red');
  if (step.status === 'suspended')
    return paint(`waiting for resume: ${previewJson(step.suspendPayload, 60)}`, 'yellow');
  return paint(previewJson(step.output, 60), 'dim');
}

/** A retried step's attempts, one row each under the step: status, duration, error. */
function tryRows(step: StepResult, indent: string): string[][] {
  return (step.tries ?? []).map((t) => [
    paint(`${indent}  attempt ${t.attempt}/${step.tries!.length}`, 'dim'),
    paintStatus(t.status),
    t.endedAt !== undefined ? formatDuration(t.endedAt - t.startedAt) : '',
    t.error !== undefined ? paint(errorMessage(t.error), 'red') : stepNote(step),
  ]);
}

function stepRows(steps: Record<string, StepResult>): string[][] {
  return Object.entries(steps)
    .filter(([id]) => id !== 'input')
    .sort(([, a], [, b]) => (a.startedAt ?? 0) - (b.startedAt ?? 0))
    .flatMap(([id, step]) => {
      const depth = id.split('.').length - 1;
      const indent = '  '.repeat(depth);
      const name = depth > 0 ? `${indent}└ ${id.split('.').pop()}` : id;
      const attempts = step.tries ? paint(` (${step.tries.length} attempts)`, 'yellow') : '';
      return [
        [name + attempts, paintStatus(step.status), stepDuration(step), stepNote(step)],
        ...tryRows(step, indent),
      ];
    });
}

/** The details of `weft runs show`. */
export function formatRun(view: WorkflowRunView): string {
  const out: string[] = [];
  out.push(`${paint('Run', 'bold')} ${view.runId}  ${paintStatus(view.status)}`);
  out.push(`${paint('Workflow', 'dim')}  ${view.workflowName}`);
  out.push(
    `${paint('Created', 'dim')}   ${formatTime(view.createdAt)}   ${paint('Updated', 'dim')} ${formatTime(view.updatedAt)}`,
  );
  if (view.resourceId) out.push(`${paint('Resource', 'dim')}  ${view.resourceId}`);
  if (view.payload !== undefined) out.push(`${paint('Input', 'dim')}     ${previewJson(view.payload, 200)}`);
  out.push('');
  const rows = stepRows(view.steps);
  out.push(
    rows.length > 0
      ? formatTable(
          [
            { header: 'STEP', shrink: true },
            { header: 'STATUS' },
            { header: 'TOOK', align: 'right' },
            { header: 'OUTPUT / ERROR', shrink: true },
          ],
          rows,
        )
      : paint('No step has run yet.', 'dim'),
  );
  out.push('');
  if (view.status === 'success') out.push(`${paint('Result', 'green', 'bold')}  ${previewJson(view.result, 300)}`);
  if (view.status === 'failed') out.push(`${paint('Error', 'red', 'bold')}   ${errorMessage(view.error)}`);
  if (view.status === 'suspended') {
    const paths = (view.suspended ?? []).map((p) => p.join('.'));
    out.push(`${paint('Suspended at', 'yellow', 'bold')} ${paths.join(', ') || '?'}`);
    out.push(
      paint(
        // A template: the data's shape comes from the workflow's definition, which `show` does not load.
        `Resume with: npx weft runs resume ${view.runId} --workflows <file> --data '<json>'${paths.length > 1 ? ` --step ${paths[0]}` : ''}`,
        'dim',
      ),
    );
  }
  if (view.attempts.length > 0) {
    out.push(
      paint(`${view.attempts.length} earlier attempt${view.attempts.length > 1 ? 's' : ''} (time travel):`, 'bold'),
    );
    for (const attempt of view.attempts) {
      const ids = Object.keys(attempt.steps).filter((id) => id !== 'input');
      out.push(
        `  #${attempt.attempt}  ${formatTime(attempt.startedAt)}  ${ids.map((id) => `${id} ${paintStatus(attempt.steps[id]!.status)}`).join('  ')}`,
      );
    }
  }
  return out.join('\n').trimEnd();
}
