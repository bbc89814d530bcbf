// `weft runs list | show | start | delete`: reading stored runs, and starting one from the terminal.
import { Option, type Command } from 'commander';
import { WeftError, refusedBeforeClaim } from '../errors.js';
import { RUN_STATUSES, type RunStatus } from '../storage/types.js';
import type { WorkflowResult } from '../workflow/types.js';
import { exitCodeOfStatus, usageError } from './exit-codes.js';
import { formatRun, formatRunList } from './format-run.js';
import { parseIntOption, parseJsonObjectOption, parseJsonOption } from './json-option.js';
import { openWeft, type OpenedWeft, type StoreOptions } from './open-weft.js';
import { printJson, printText } from './command-output.js';
import { resumeCommand } from './resume-hint.js';
import { followRun, runAction } from './run-action.js';
import { paint } from './terminal-style.js';

/** Options shared by the `runs` subcommands. */
export interface CommonOptions extends StoreOptions {
  json?: boolean;
}

const WORKFLOWS_HELP = 'module that exports the workflows (.ts or .js; env WEFT_WORKFLOWS)';

/**
 * Adds --db and --json to a command that only reads or changes the store (list, show, cancel,
 * delete): it needs no workflow definitions. --workflows is accepted and ignored, so scripts that
 * pass it everywhere keep working.
 */
export function withStoreOptions(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'SQLite file of the store (env WEFT_DB; default .weft/weft.db)')
    .addOption(new Option('--workflows <file>', WORKFLOWS_HELP).hideHelp())
    .option('--json', 'print JSON for scripts instead of text');
}

/** Adds --db, --workflows and --json to a command that executes steps (start, resume, restart, time travel). */
export function withWorkflowOptions(cmd: Command): Command {
  return cmd
    .option('--db <path>', 'SQLite file of the store (env WEFT_DB; default .weft/weft.db)')
    .option('--workflows <file>', WORKFLOWS_HELP)
    .option('--json', 'print JSON for scripts instead of text');
}

/** The engine on the store alone, for a command that needs no workflow definitions. */
export function openStore(opts: CommonOptions): ReturnType<typeof openWeft> {
  return openWeft({ db: opts.db }, { recovery: false });
}

/** The resume command for a suspended run of `workflowId`, repeating this command's --db and --workflows. */
export function resumeCommandFor(
  opened: OpenedWeft,
  opts: CommonOptions,
  workflowId: string,
): (result: WorkflowResult) => string {
  const workflow = opened.weft.getWorkflow(workflowId);
  return (result) => resumeCommand(result, workflow, { db: opts.db, workflows: opts.workflows });
}

function parseStatuses(text: string | undefined): RunStatus[] | undefined {
  if (text === undefined) return undefined;
  const list = text
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  for (const s of list) {
    if (!RUN_STATUSES.includes(s as RunStatus))
      throw usageError(`--status: unknown status "${s}"; expected ${RUN_STATUSES.join(', ')}`);
  }
  return list as RunStatus[];
}

function parseDateOption(text: string | undefined, option: string): Date | undefined {
  if (text === undefined) return undefined;
  const date = /^\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
  if (Number.isNaN(date.getTime()))
    throw usageError(`${option} must be a date such as 2025-01-31 or 2025-01-31T14:00, got "${text}"`);
  return date;
}

/** Registers `runs list`, `runs show`, `runs start` and `runs delete` on the `runs` command. */
export function registerRunCommands(runs: Command): void {
  withStoreOptions(runs.command('list').description('list stored runs, newest first'))
    .option('--workflow <id>', 'only runs of this workflow')
    .option('--status <list>', 'only these statuses, comma-separated (e.g. suspended,failed)')
    .option('--resource <id>', 'only runs of this resource id')
    .option('--schedule <id>', 'only runs fired by this schedule (see weft schedules list)')
    .option('--since <date>', 'only runs created at or after this date')
    .option('--until <date>', 'only runs created at or before this date')
    .option('--page <n>', 'page number, from 0', '0')
    .option('--per-page <n>', 'runs per page', '20')
    .action(async (opts: CommonOptions & Record<string, string | undefined>) => {
      const status = parseStatuses(opts.status);
      const fromDate = parseDateOption(opts.since, '--since');
      const toDate = parseDateOption(opts.until, '--until');
      const page = parseIntOption(opts.page ?? '0', '--page', 0, 1_000_000);
      const perPage = parseIntOption(opts.perPage ?? '20', '--per-page', 1, 1000);
      const { weft } = await openStore(opts);
      try {
        const list = await weft.listRuns({
          ...(opts.workflow ? { workflowId: opts.workflow } : {}),
          ...(status ? { status } : {}),
          ...(opts.resource ? { resourceId: opts.resource } : {}),
          ...(opts.schedule ? { scheduleId: opts.schedule } : {}),
          ...(fromDate ? { fromDate } : {}),
          ...(toDate ? { toDate } : {}),
          page,
          perPage,
        });
        if (opts.json) printJson({ ...list, page, perPage });
        else printText(formatRunList(list, { page, perPage }));
      } finally {
        await weft.close();
      }
    });

  withStoreOptions(runs.command('show').description('show a run: its steps, result or error, and earlier attempts'))
    .argument('<runId>', 'the run to show')
    .option('--follow', 'follow the run live until it finishes or suspends')
    .action(async (runId: string, opts: CommonOptions & { follow?: boolean }) => {
      const { weft } = await openStore(opts);
      try {
        let view = await weft.getRun(runId);
        if (!view)
          throw new WeftError('RUN_NOT_FOUND', `Run "${runId}" not found in ${opts.db ?? 'the store'}`, { runId });
        if (opts.follow && !['success', 'failed', 'canceled', 'suspended', 'paused'].includes(view.status)) {
          await followRun(weft, runId, view.lastSeq, opts.json === true);
          view = (await weft.getRun(runId)) ?? view;
        }
        if (opts.json) printJson(view);
        else printText(formatRun(view));
        if (opts.follow) process.exitCode = exitCodeOfStatus(view.status);
      } finally {
        await weft.close();
      }
    });

  withWorkflowOptions(runs.command('start').description('start a run of a workflow and follow it'))
    .argument('<workflowId>', 'the workflow to run')
    .option('--input <json>', 'input data: JSON, @file or - for stdin')
    .option('--state <json>', 'initial state (JSON object)')
    .option('--run-id <id>', 'id for the new run (default: a random UUID)')
    .option('--resource <id>', 'resource id of the run')
    .option('--per-step', 'run one step, then pause')
    .action(async (workflowId: string, opts: CommonOptions & Record<string, string | boolean | undefined>) => {
      const inputData = parseJsonOption(opts.input as string | undefined, '--input');
      const initialState = parseJsonObjectOption(opts.state as string | undefined, '--state');
      const opened = await openWeft(opts, { recovery: false });
      try {
        if (!opened.workflowsFile)
          throw usageError(
            'weft runs start needs the workflow definitions: pass --workflows FILE (or set WEFT_WORKFLOWS)',
          );
        const workflow = opened.weft.getWorkflow(workflowId);
        const run = await workflow.createRun({
          ...(typeof opts.runId === 'string' ? { runId: opts.runId } : {}),
          ...(typeof opts.resource === 'string' ? { resourceId: opts.resource } : {}),
        });
        await runAction(
          run,
          opts.json === true,
          () =>
            run
              .start({
                inputData,
                ...(initialState ? { initialState } : {}),
                ...(opts.perStep ? { perStep: true } : {}),
              })
              .catch(async (error: unknown) => {
                // Refused before it was claimed, on a run id made up here: nobody else knows the run, so none is kept.
                if (typeof opts.runId !== 'string' && refusedBeforeClaim(error)) {
                  await opened.weft.deleteRun(run.runId).catch(() => undefined);
                }
                throw error;
              }),
          {
            // Said once the run executes: a start refused for its input created no run to speak of.
            announce: `${paint('Started', 'bold')} run ${run.runId} of ${workflowId}`,
            resumeCommand: resumeCommandFor(opened, opts, workflow.id),
          },
        );
      } finally {
        await opened.weft.close();
      }
    });

  withStoreOptions(runs.command('delete').description('delete a finished or suspended run and its history'))
    .argument('<runId>', 'the run to delete')
    .action(async (runId: string, opts: CommonOptions) => {
      const { weft } = await openStore(opts);
      try {
        const view = await weft.getRun(runId);
        if (!view) throw new WeftError('RUN_NOT_FOUND', `Run "${runId}" not found`, { runId });
        if (view.status === 'running' || view.status === 'waiting') {
          throw new WeftError(
            'RUN_STILL_RUNNING',
            `Cannot delete run "${runId}": its status is "${view.status}"; cancel it first`,
            { runId },
          );
        }
        await weft.deleteRun(runId);
        if (opts.json) printJson({ runId, deleted: true });
        else printText(`${paint('✔ deleted', 'green')} run ${runId}`);
      } finally {
        await weft.close();
      }
    });
}
