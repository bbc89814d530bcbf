// `weft runs resume | cancel | restart | time-travel`: operating a stored run from the terminal.
import type { Command } from 'commander';
import { usageError } from './exit-codes.js';
import { parseIntOption, parseJsonObjectOption, parseJsonOption } from './json-option.js';
import { openWeft } from './open-weft.js';
import { printJson, printText } from './command-output.js';
import { openRunForAction, runAction } from './run-action.js';
import {
  openStore,
  resumeCommandFor,
  withStoreOptions,
  withWorkflowOptions,
  type CommonOptions,
} from './command-runs.js';
import { paintStatus } from './terminal-style.js';

type Opts = CommonOptions & Record<string, string | boolean | undefined>;

function stepTarget(step: string | boolean | undefined): string | string[] | undefined {
  if (typeof step !== 'string') return undefined;
  return step.includes('/') ? step.split('/') : step;
}

/** Registers the action subcommands on the `runs` command. */
export function registerRunActionCommands(runs: Command): void {
  withWorkflowOptions(runs.command('resume').description('resume a suspended run with data for its suspended step'))
    .argument('<runId>', 'the suspended run')
    .option('--data <json>', 'resume data: JSON, @file or - for stdin')
    .option('--step <id>', 'the suspended step, when several are (dotted for nested: outer.inner)')
    .option('--label <label>', 'resume the step suspended with this resume label')
    .option('--for-each-index <n>', 'the foreach item to resume')
    .action(async (runId: string, opts: Opts) => {
      const resumeData = parseJsonOption(opts.data as string | undefined, '--data');
      const forEachIndex =
        typeof opts.forEachIndex === 'string'
          ? parseIntOption(opts.forEachIndex, '--for-each-index', 0, 1_000_000)
          : undefined;
      const requested = stepTarget(opts.step);
      const opened = await openWeft(opts, { recovery: false });
      try {
        const run = await openRunForAction(opened.weft, runId, opened.workflowsFile);
        await runAction(
          run,
          opts.json === true,
          () =>
            run.resume({
              resumeData,
              ...(requested !== undefined ? { step: requested } : {}),
              ...(typeof opts.label === 'string' ? { label: opts.label } : {}),
              ...(forEachIndex !== undefined ? { forEachIndex } : {}),
            }),
          { resumeCommand: resumeCommandFor(opened, opts, run.workflowId) },
        );
      } finally {
        await opened.weft.close();
      }
    });

  withStoreOptions(runs.command('cancel').description('cancel a run (a finished run stays as it is)'))
    .argument('<runId>', 'the run to cancel')
    .action(async (runId: string, opts: Opts) => {
      // A storage operation: the run's workflow need not be loaded.
      const { weft } = await openStore(opts);
      try {
        await weft.cancelRun(runId);
        const view = await weft.getRun(runId);
        if (opts.json) printJson({ runId, status: view?.status ?? 'canceled' });
        else printText(`${paintStatus(view?.status ?? 'canceled')}  run ${runId}`);
      } finally {
        await weft.close();
      }
    });

  withWorkflowOptions(
    runs.command('restart').description('restart a run whose process died, from its last finished step'),
  )
    .argument('<runId>', 'the interrupted run (status running or waiting)')
    .action(async (runId: string, opts: Opts) => {
      const opened = await openWeft(opts, { recovery: false });
      try {
        const run = await openRunForAction(opened.weft, runId, opened.workflowsFile);
        await runAction(run, opts.json === true, () => run.restart(), {
          resumeCommand: resumeCommandFor(opened, opts, run.workflowId),
        });
      } finally {
        await opened.weft.close();
      }
    });

  withWorkflowOptions(
    runs.command('time-travel').description('run again from a step, keeping the earlier results as an attempt'),
  )
    .argument('<runId>', 'the run (not running)')
    .option('--step <id>', 'the step to run again from (dotted for nested: outer.inner)')
    .option('--input <json>', "the step's input: JSON, @file or - (default: its stored input)")
    .option('--resume-data <json>', 'resume data for the step, when it was suspended')
    .option('--context <json>', 'results to use for earlier steps: {"stepId": {"output": ...}}')
    .option('--per-step', 'run only that step, then pause')
    .action(async (runId: string, opts: Opts) => {
      const step = stepTarget(opts.step);
      if (step === undefined) throw usageError('weft runs time-travel needs --step <id>: the step to run again from');
      const inputData = parseJsonOption(opts.input as string | undefined, '--input');
      const resumeData = parseJsonOption(opts.resumeData as string | undefined, '--resume-data');
      const context = parseJsonObjectOption(opts.context as string | undefined, '--context');
      const opened = await openWeft(opts, { recovery: false });
      try {
        const run = await openRunForAction(opened.weft, runId, opened.workflowsFile);
        await runAction(
          run,
          opts.json === true,
          () =>
            run.timeTravel({
              step,
              ...(opts.input !== undefined ? { inputData } : {}),
              ...(opts.resumeData !== undefined ? { resumeData } : {}),
              ...(context ? { context: context as never } : {}),
              ...(opts.perStep ? { perStep: true } : {}),
            }),
          { resumeCommand: resumeCommandFor(opened, opts, run.workflowId) },
        );
      } finally {
        await opened.weft.close();
      }
    });
}
