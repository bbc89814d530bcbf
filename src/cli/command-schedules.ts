// `weft schedules list | pause | resume | trigger | delete`: the stored schedules, operated on the store alone.
import type { Command } from 'commander';
import type { ScheduleView } from '../schedule/schedules.js';
import { printJson, printText } from './command-output.js';
import { withWorkflowOptions, type CommonOptions } from './command-runs.js';
import { formatTable } from './format-table.js';
import { formatAgo, formatTime } from './format-values.js';
import { openWeft, type OpenedWeft } from './open-weft.js';
import { paint, paintStatus } from './terminal-style.js';

/** The table of `weft schedules list`. */
export function formatScheduleList(schedules: readonly ScheduleView[]): string {
  if (schedules.length === 0) {
    return paint('No schedules stored. A workflow declares one with createWorkflow({ schedule: { cron } }).', 'dim');
  }
  const rows = schedules.map((s) => {
    const last = s.recentRuns[0];
    return [
      s.scheduleId,
      s.workflowId,
      s.timezone ? `${s.cron} (${s.timezone})` : s.cron,
      s.paused ? paint('paused', 'yellow') : paint('active', 'green'),
      s.paused || !s.nextFireAt ? '' : formatTime(s.nextFireAt),
      last ? `${formatAgo(last.fireAt)} ${paintStatus(last.status ?? 'deleted')}` : '',
      last?.runId ?? '',
    ];
  });
  return formatTable(
    [
      { header: 'SCHEDULE', shrink: true },
      { header: 'WORKFLOW', shrink: true },
      { header: 'CRON', shrink: true },
      { header: 'STATE' },
      { header: 'NEXT FIRE' },
      { header: 'LAST FIRE' },
      { header: 'LAST RUN', shrink: true },
    ],
    rows,
  );
}

/**
 * Runs `action` on the engine opened on the store, closing it after. With `--workflows`, the schedules
 * the workflows declare are stored first (as a process that fires them would), none fired here.
 */
async function onStore<T>(opts: CommonOptions, action: (weft: OpenedWeft['weft']) => Promise<T>): Promise<T> {
  const { weft, workflowsFile } = await openWeft(opts, { recovery: false });
  try {
    if (workflowsFile) await weft.schedules.sync();
    return await action(weft);
  } finally {
    await weft.close();
  }
}

/** Registers `schedules list`, `pause`, `resume`, `trigger` and `delete` on the `schedules` command. */
export function registerScheduleCommands(schedules: Command): void {
  const withStoreOptions = (cmd: Command): Command =>
    withWorkflowOptions(cmd).addHelpText(
      'after',
      '\nThe store alone is enough; with --workflows, the schedules the workflows declare are stored first.',
    );
  withStoreOptions(schedules.command('list').description('list stored schedules with their next fire and last run'))
    .option('--workflow <id>', 'only the schedules of this workflow')
    .action(async (opts: CommonOptions & { workflow?: string }) => {
      const list = await onStore(opts, (weft) =>
        weft.schedules.list(opts.workflow === undefined ? {} : { workflowId: opts.workflow }),
      );
      if (opts.json) printJson({ schedules: list });
      else printText(formatScheduleList(list));
    });

  withStoreOptions(schedules.command('pause').description('stop the cron fires of a schedule, in every process'))
    .argument('<scheduleId>', 'the schedule (see weft schedules list)')
    .action(async (scheduleId: string, opts: CommonOptions) => {
      const view = await onStore(opts, (weft) => weft.schedules.pause(scheduleId));
      if (opts.json) printJson(view);
      else printText(`${paint('⏸ paused', 'yellow')} schedule ${scheduleId}`);
    });

  withStoreOptions(
    schedules
      .command('resume')
      .description('fire a paused schedule again, from its next fire (missed ones are not made up)'),
  )
    .argument('<scheduleId>', 'the schedule')
    .action(async (scheduleId: string, opts: CommonOptions) => {
      const view = await onStore(opts, (weft) => weft.schedules.resume(scheduleId));
      if (opts.json) printJson(view);
      else {
        const next = view.nextFireAt ? `; next fire ${formatTime(view.nextFireAt)}` : '';
        printText(`${paint('▶ resumed', 'green')} schedule ${scheduleId}${next}`);
      }
    });

  withStoreOptions(
    schedules
      .command('trigger')
      .description(
        'fire a schedule now, paused or not; a process that fires its schedules (weft serve) starts the run',
      ),
  )
    .argument('<scheduleId>', 'the schedule')
    .action(async (scheduleId: string, opts: CommonOptions) => {
      const { runId } = await onStore(opts, (weft) => weft.schedules.trigger(scheduleId));
      if (opts.json) printJson({ scheduleId, runId });
      else {
        printText(
          `${paint('✔ triggered', 'green')} schedule ${scheduleId}: run ${runId}, started at the next tick of a process that fires it (follow it with: weft runs show ${runId} --follow)`,
        );
      }
    });

  withStoreOptions(
    schedules
      .command('delete')
      .description(
        'delete a stored schedule (its runs stay); one the code still declares comes back at the next start',
      ),
  )
    .argument('<scheduleId>', 'the schedule')
    .action(async (scheduleId: string, opts: CommonOptions) => {
      await onStore(opts, (weft) => weft.schedules.delete(scheduleId));
      if (opts.json) printJson({ scheduleId, deleted: true });
      else printText(`${paint('✔ deleted', 'green')} schedule ${scheduleId}`);
    });
}
