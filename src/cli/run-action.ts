// Running an action on a run from the terminal: progress while it goes, a summary after, an exit code from its status.
import type { Weft } from '../index.js';
import type { Run } from '../run/run-types.js';
import type { WorkflowResult } from '../workflow/types.js';
import { WeftError } from '../errors.js';
import { CliError, EXIT, exitCodeOfStatus } from './exit-codes.js';
import { errorMessage, previewJson } from './format-values.js';
import { printJson, printText } from './command-output.js';
import { ProgressPrinter } from './progress-printer.js';
import { paint, paintStatus } from './terminal-style.js';

/** The summary printed after a followed run stops. */
export function formatOutcome(result: WorkflowResult): string {
  const head = `${paintStatus(result.status)}  run ${result.runId}`;
  switch (result.status) {
    case 'success':
      return `${head}\n${paint('Result', 'bold')} ${previewJson(result.result, 400)}`;
    case 'failed':
      return `${head}\n${paint('Error', 'red', 'bold')} ${errorMessage(result.error)}`;
    case 'suspended': {
      const paths = (result.suspended ?? []).map((p) => p.join('.'));
      return `${head}, suspended at ${paths.join(', ')}\n${paint(`Resume with: weft runs resume ${result.runId} --data '<json>'`, 'dim')}`;
    }
    default:
      return head;
  }
}

/**
 * Runs `action` on `run` (start, resume, restart, time travel), printing its step events as
 * they come, then the outcome (JSON with `json`). Sets the exit code from the final status.
 */
export async function runAction(run: Run, json: boolean, action: () => Promise<WorkflowResult>): Promise<void> {
  const printer = json ? undefined : new ProgressPrinter();
  const unwatch = printer ? run.watch((event) => printer.onEvent(event)) : undefined;
  let result: WorkflowResult;
  try {
    result = await action();
  } finally {
    unwatch?.();
    printer?.stop();
  }
  if (json) printJson(result);
  else printText(formatOutcome(result));
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
