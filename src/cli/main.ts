#!/usr/bin/env node
// The `weft` command: serve, runs list|show|start|resume|cancel|restart|time-travel|delete, schedules, migrate.
import { Command, CommanderError } from 'commander';
import { registerRunActionCommands } from './command-run-actions.js';
import { registerRunCommands } from './command-runs.js';
import { registerScheduleCommands } from './command-schedules.js';
import { registerMigrateCommand } from './command-migrate.js';
import { registerDoctorCommand } from './command-doctor.js';
import { registerPruneCommand } from './command-prune.js';
import { registerServeCommand } from './command-serve.js';
import { registerWorkerCommand } from './command-worker.js';
import { printError } from './command-output.js';
import { EXIT, exitCodeOf } from './exit-codes.js';
import { packageVersion } from '../server/package-version.js';

/** `--json` anywhere on the command line: errors, Commander's included, are then JSON on stdout. */
const json = process.argv.slice(2).includes('--json');

function buildProgram(): Command {
  const program = new Command('weft')
    .description('Weft: durable workflows. Serve the API and inspector, and operate runs in the store.')
    .version(packageVersion(), '-v, --version')
    .exitOverride();
  // Settings every subcommand inherits, so set before they are added.
  if (json) program.configureOutput({ outputError: () => undefined });
  else program.showHelpAfterError('(run with --help for usage)');
  registerServeCommand(program);
  registerWorkerCommand(program);
  const runs = program.command('runs').description('list, show and operate stored runs').exitOverride();
  registerRunCommands(runs);
  registerRunActionCommands(runs);
  registerPruneCommand(runs);
  const schedules = program
    .command('schedules')
    .description('list, pause, resume and trigger the cron schedules of workflows')
    .exitOverride();
  registerScheduleCommands(schedules);
  registerMigrateCommand(program);
  registerDoctorCommand(program);
  program.addHelpText(
    'after',
    `
Examples:
  weft serve --workflows examples/index.ts          API and inspector on http://127.0.0.1:3000
  weft runs list --status suspended                 runs waiting for a person
  weft runs resume <runId> --workflows wf.ts --data '{"approved":true,"approver":"Kim"}'
  weft runs time-travel <runId> --workflows wf.ts --step charge --input @input.json
  weft schedules list                               cron schedules, next fires and last runs
  weft schedules trigger wf_report                  fire a schedule now
  weft worker --workflows wf.ts --pg postgres://localhost/app   execute queued runs on a shared Postgres

The store is .weft/weft.db in the current directory (--db or WEFT_DB to change it).
list, show, cancel and delete need only the store; start, resume, restart and time-travel
also load the workflows (--workflows or WEFT_WORKFLOWS). --json prints errors as JSON too.
Exit codes: 0 done (or the run succeeded), 2 wrong arguments, 3 run/workflow/step not found,
4 the run's status does not allow it, 5 input rejected by the schema, 10 run failed,
11 run canceled, 12 run suspended, 13 run paused, 1 anything else.`,
  );
  for (const cmd of [...program.commands, ...runs.commands, ...schedules.commands]) cmd.exitOverride();
  return program;
}

function report(error: unknown): number {
  if (error instanceof CommanderError) {
    // Asked-for help and the version are not errors.
    if (error.code === 'commander.helpDisplayed' || error.code === 'commander.version') return EXIT.ok;
    if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
    // Commander has printed its message already, unless it is to be JSON.
    if (json) printError(error, true);
    return EXIT.usage;
  }
  printError(error, json);
  return exitCodeOf(error);
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (error) {
  process.exitCode = report(error);
}
