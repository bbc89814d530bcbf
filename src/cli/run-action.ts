// Running an action on a run from the terminal: progress while it goes, a summary after, an exit code from its status.
import type { Weft } from '../index.js';
import type { Run } from '../workflow/run-types.js';
import type { WorkflowResult } from '../workflow/types.js';
import { WeftError } from '../errors.js';
import { CliError, EXIT, exitCodeOfStatus } from './exit-codes.js';
import { errorMessage, previewJson } from './format-values.js';
import { printJson, printNote, printText } from './command-output.js';
import { ProgressPrinter } from './progress-printer.js';
import { paint, paintStatus } from './terminal-style.js';

/** The summary printed after a followed run stops; `resume` is the command that resumes a suspended one. */
function formatOutcome(result: WorkflowResult, resume?: string): string {
  const head = `${paintStatus(result.status)}  run ${result.runId}`;
  switch (result.status) {
    case 'success':
      return `${head}\n${paint('Result', 'bold')} ${previewJson(result.result, 400)}`;
    case 'failed':
      return `${head}\n${paint('Error', 'red', 'bold')} ${errorMessage(result.error)}`;
    case 'suspended': {
      const paths = (result.suspended ?? []).map((p) => p.join('.'));
      const hint = resume === undefined ? '' : `\n${paint(`Resume with: ${resume}`, 'dim')}`;
      return `${head}, suspended at ${paths.join(', ')}${hint}`;
    }
    default:
      return head;
  }
}

/** How `runAction` reports on a terminal (ignored with --json). */
export interface ActionReport {
  /** Printed once the run has started executing (not for a start refused before that). */
  announce?: string;
  /** The command that resumes the run, when it suspends. */
  resumeCommand?: (result: WorkflowResult) => string;
}

/**
 * Runs `action` on `run` (start, resume, restart, time travel), printing its step events as
 * they come, then the outcome (JSON with `json`). Sets the exit code from the final status.
 */
export async function runAction(
  run: Run,
  json: boolean,
  action: () => Promise<WorkflowResult>,
  report: ActionReport = {},
): Promise<void> {
  const printer = json ? undefined : new ProgressPrinter();
  let announce = report.announce;
  const unwatch = printer
    ? run.watch((event) => {
        // The first event (watch shows steps, not the run's start): the run was claimed and executes.
        if (announce !== undefined) {
          printNote(announce);
          announce = undefined;
        }
        printer.onEvent(event);
      })
    : undefined;
  let result: WorkflowResult;
  try {
    result = await action();
  } finally {
    unwatch?.();
    printer?.stop();
  }
  if (json) printJson(result);
  else printText(formatOutcome(result, result.status === 'suspended' ? report.resumeCommand?.(result) : undefined));
  process.exitCode = exitCodeOfStatus(result.status);
}

/** Follows a run that executes elsewhere (e.g. in `weft serve`), printing its events, until it finishes or suspends. */
export async function followRun(weft: Weft, runId: string, afterSeq: number, json: boolean): Promise<void> {
  const printer = json ? undefined : new ProgressPrinter();
  const reader = weft.observeRun(runId, { afterSeq }).getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      printer?.onEvent(value);
    }
  } finally {
    printer?.stop();
    reader.releaseLock();
  }
}

/** A Run handle of a stored run for an action, with clear errors when the run or its workflow is missing. */
export async function openRunForAction(weft: Weft, runId: string, workflowsFile: string | undefined): Promise<Run> {
  const view = await weft.getRun(runId);
  if (!view) throw new WeftError('RUN_NOT_FOUND', `Run "${runId}" not found`, { runId });
  const workflow = weft.listWorkflows()[view.workflowName];
  if (!workflow) {
    const hint = workflowsFile
      ? `${workflowsFile} does not define it`
      : 'pass --workflows FILE that defines it (or set WEFT_WORKFLOWS)';
    throw new CliError(
      `Run "${runId}" belongs to workflow "${view.workflowName}", whose definition is not loaded: ${hint}`,
      EXIT.notFound,
      'WORKFLOW_NOT_FOUND',
    );
  }
  return workflow.createRun({ runId });
}
