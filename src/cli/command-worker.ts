// `weft worker`: executes the queued runs of a workflows file on a shared Postgres, next to other workers.
import type { Command } from 'commander';
import { Weft } from '../index.js';
import type { WorkerRunReport } from '../worker/run-job.js';
import { printNote, printText } from './command-output.js';
import { usageError } from './exit-codes.js';
import { LEASE_MS_HELP, parseIntOption, parseLeaseOption } from './json-option.js';
import { loadWorkflows } from './load-workflows.js';
import { resolveWorkflowsFile } from './open-weft.js';
import { paint, paintStatus } from './terminal-style.js';

interface WorkerOptions {
  workflows?: string;
  pg?: string;
  schema?: string;
  queueSchema?: string;
  concurrency?: string;
  maxConnections?: string;
  leaseMs?: string;
  shutdownGraceMs?: string;
  fanOut?: string | true;
  attemptConcurrency?: string;
}

/** `--fan-out` alone: every workflow served; with a value, the comma-separated workflow ids. */
function fanOutOption(value: string | true | undefined): true | string[] | undefined {
  if (value === undefined || value === true) return value;
  const ids = value
    .split(',')
    .map((id) => id.trim())
    .filter(Boolean);
  if (ids.length === 0) throw usageError('--fan-out takes workflow ids separated by commas, or no value for all');
  return ids;
}

/** One line per job: time, action, run, workflow, how it ended and how long it took here. */
function formatReport(report: WorkerRunReport): string {
  const time = new Date().toISOString().slice(11, 19);
  const detail = report.detail ? paint(` ${report.detail}`, 'dim') : '';
  return `${paint(time, 'dim')} ${report.action.padEnd(6)} ${report.runId} ${paint(report.workflowId, 'cyan')} ${paintStatus(report.outcome)} ${paint(`${report.durationMs} ms`, 'dim')}${detail}`;
}

/** Registers `weft worker`. */
export function registerWorkerCommand(program: Command): void {
  program
    .command('worker')
    .description('execute queued runs of the workflows from a Postgres store, alongside other workers')
    .option('--workflows <file>', 'module that exports the workflows to serve (.ts or .js; env WEFT_WORKFLOWS)')
    .option('--pg <url>', 'Postgres connection string (env WEFT_PG_URL or DATABASE_URL)')
    .option('--schema <name>', "schema of Weft's tables (env WEFT_PG_SCHEMA; default weft)")
    .option('--queue-schema <name>', "schema of graphile-worker's queue (default graphile_worker)")
    .option('--concurrency <n>', 'runs executed at once by this worker (default 10)')
    .option(
      '--max-connections <n>',
      "size of the connection pool that the store and the queue share (default concurrency + 2); the process holds one more, the store's LISTEN",
    )
    .option('--lease-ms <ms>', `${LEASE_MS_HELP} (env WEFT_LEASE_MS)`)
    .option(
      '--shutdown-grace-ms <ms>',
      'on SIGTERM, how long runs in flight may finish before they are handed over to other workers (default 10000)',
    )
    .option(
      '--fan-out [workflows]',
      'dispatch the foreach items and parallel branches of these workflows (comma-separated; all when none is given) to every worker',
    )
    .option(
      '--attempt-concurrency <n>',
      'dispatched steps executed at once by this worker, for any run (default: concurrency)',
    )
    .action(async (opts: WorkerOptions) => {
      const file = resolveWorkflowsFile(opts.workflows);
      if (!file)
        throw usageError('weft worker needs the workflows it serves: pass --workflows FILE or set WEFT_WORKFLOWS');
      const connectionString = opts.pg ?? (process.env.WEFT_PG_URL || process.env.DATABASE_URL || undefined);
      if (!connectionString)
        throw usageError('weft worker needs a Postgres database: pass --pg URL or set WEFT_PG_URL or DATABASE_URL');
      const concurrency = parseIntOption(opts.concurrency ?? '10', '--concurrency', 1, 1000);
      const schema = opts.schema ?? (process.env.WEFT_PG_SCHEMA || 'weft');
      const queueSchema = opts.queueSchema ?? 'graphile_worker';
      const leaseMs = parseLeaseOption(opts.leaseMs);
      const fanOut = fanOutOption(opts.fanOut);
      const attemptConcurrency =
        opts.attemptConcurrency === undefined
          ? undefined
          : parseIntOption(opts.attemptConcurrency, '--attempt-concurrency', 1, 10_000);
      const shutdownGraceMs = parseIntOption(opts.shutdownGraceMs ?? '10000', '--shutdown-grace-ms', 0, 3_600_000);
      const maxConnections =
        opts.maxConnections === undefined
          ? concurrency + 2
          : parseIntOption(opts.maxConnections, '--max-connections', 3, 10_000);
      // Loaded here, not with the CLI: pg and graphile-worker are optional, and only this command needs them.
      const { PostgresStorage } = await import('../storage/postgres/index.js');
      const { QueuePool, runWorker } = await import('../worker/index.js');
      const logger = { debug() {}, info() {}, warn: console.warn, error: console.error };
      // One pool for the store and the queue: the process holds maxConnections + 1 (the store's LISTEN).
      const pool = new QueuePool({ connectionString, max: maxConnections }, logger);
      const weft = new Weft({
        ...(leaseMs !== undefined ? { leaseMs } : {}),
        workflows: await loadWorkflows(file),
        storage: new PostgresStorage({ pool, schema }),
        logger,
      });
      let worker;
      try {
        worker = await runWorker({
          weft,
          pgPool: pool,
          schema: queueSchema,
          concurrency,
          shutdownGraceMs,
          ...(fanOut !== undefined ? { fanOut } : {}),
          ...(attemptConcurrency !== undefined ? { attemptConcurrency } : {}),
          onRun: (report) => printText(formatReport(report)),
        });
      } catch (error) {
        await weft.close();
        await pool.end();
        throw error;
      }
      const ids = worker.workflows;
      printText(
        [
          `${paint('weft worker', 'bold')} serving ${ids.length} workflow${ids.length === 1 ? '' : 's'} from ${file}: ${ids.join(', ')}`,
          `  ${paint('store', 'dim')}        postgres, schema "${schema}"`,
          `  ${paint('queue', 'dim')}        graphile-worker, schema "${queueSchema}"`,
          `  ${paint('concurrency', 'dim')}  ${concurrency} runs, ${attemptConcurrency ?? concurrency} dispatched steps`,
          ...(fanOut !== undefined
            ? [`  ${paint('fan-out', 'dim')}      ${fanOut === true ? 'every workflow' : fanOut.join(', ')}`]
            : []),
          `  ${paint('connections', 'dim')}  ${maxConnections} pooled + 1 LISTEN`,
          `  ${paint('lease', 'dim')}        ${weft.leaseMs} ms`,
          paint('Press Ctrl+C to stop (runs in flight may finish first).', 'dim'),
        ].join('\n'),
      );
      let stopping = false;
      const stop = async (): Promise<void> => {
        if (stopping) {
          printNote('weft worker: stopping now; runs in flight continue on other workers once their leases expire');
          process.exit(130);
        }
        stopping = true;
        printNote('weft worker: stopping; waiting for the runs in flight (Ctrl+C again to stop at once)');
        await worker
          .stop()
          .catch((error: unknown) => printNote(`weft worker: the queue stopped with an error: ${String(error)}`));
        // Runs still executing here are handed over: their leases expire at once, so another worker
        // continues them on its next recovery pass; finished steps are kept.
        await weft.close();
        await pool.end().catch(() => undefined);
        process.exit(0);
      };
      process.on('SIGINT', () => void stop());
      process.on('SIGTERM', () => void stop());
    });
}
