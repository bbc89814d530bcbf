// `weft serve`: the HTTP API and the inspector on the SQLite store, with the workflows of a file.
import type { Command } from 'commander';
import { createServer } from '../server/create-server.js';
import { isLoopbackHost, normalizeAllowedHosts } from '../server/auth.js';
import { listen } from '../server/listen.js';
import { usageError } from './exit-codes.js';
import { LEASE_MS_HELP, parseIntOption, parseLeaseOption } from './json-option.js';
import { openWeft } from './open-weft.js';
import { parseRetentionOption } from './retention-option.js';
import { printText } from './command-output.js';
import { paint } from './terminal-style.js';

interface ServeOptions {
  workflows?: string;
  db?: string;
  port?: string;
  host?: string;
  token?: string;
  leaseMs?: string;
  allowedHost?: string[];
  retention?: string;
}

/** Collects a repeatable option's values. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/** `--allowed-host` values, else the comma-separated `WEFT_ALLOWED_HOSTS`. */
function allowedHostsOf(opts: ServeOptions): string[] | undefined {
  if (opts.allowedHost) return opts.allowedHost;
  const env = process.env.WEFT_ALLOWED_HOSTS;
  return env ? env.split(',').filter((h) => h.trim() !== '') : undefined;
}

function defaultPort(): string {
  return process.env.WEFT_PORT || process.env.PORT || '3000';
}

/** Registers `weft serve`. */
export function registerServeCommand(program: Command): void {
  program
    .command('serve')
    .description('serve the HTTP API and the web inspector')
    .option('--workflows <file>', 'module that exports the workflows (.ts or .js; env WEFT_WORKFLOWS)')
    .option('--db <path>', 'SQLite file of the store (env WEFT_DB; default .weft/weft.db)')
    .option('--port <n>', 'port to listen on (env WEFT_PORT or PORT; default 3000)')
    .option('--host <host>', 'address to bind (default 127.0.0.1; anything else needs a token)')
    .option('--token <token>', 'bearer token required on the API (env WEFT_TOKEN)')
    .option(
      '--allowed-host <name>',
      'a Host name to answer besides localhost, 127.0.0.1 and [::1] (repeatable; env WEFT_ALLOWED_HOSTS, comma-separated)',
      collect,
    )
    .option(
      '--retention <rules>',
      'delete finished runs after a time, e.g. success=7d,failed=30d (canceled: as failed unless given; env WEFT_RETENTION)',
    )
    .option('--lease-ms <ms>', `${LEASE_MS_HELP} (env WEFT_LEASE_MS)`)
    .action(async (opts: ServeOptions) => {
      const port = parseIntOption(opts.port ?? defaultPort(), '--port', 0, 65535);
      const host = opts.host ?? process.env.WEFT_HOST ?? '127.0.0.1';
      const token = opts.token ?? (process.env.WEFT_TOKEN || undefined);
      if (!isLoopbackHost(host) && token === undefined) {
        throw usageError(
          `Refusing to serve on ${host} without a token: anyone on the network could operate runs. Pass --token or set WEFT_TOKEN`,
        );
      }
      const allowedHosts = allowedHostsOf(opts);
      try {
        if (allowedHosts) normalizeAllowedHosts(allowedHosts);
      } catch (error) {
        throw usageError((error as Error).message);
      }
      const retentionText = opts.retention ?? (process.env.WEFT_RETENTION || undefined);
      const retention = retentionText === undefined ? undefined : parseRetentionOption(retentionText);
      const leaseMs = parseLeaseOption(opts.leaseMs);
      const opened = await openWeft(opts, {
        recovery: true,
        ...(retention ? { retention } : {}),
        ...(leaseMs !== undefined ? { leaseMs } : {}),
      });
      const app = createServer(opened.weft, {
        host,
        ...(token !== undefined ? { token } : {}),
        ...(allowedHosts !== undefined ? { allowedHosts } : {}),
      });
      let server;
      try {
        server = await listen(app, { port, host });
      } catch (error) {
        await opened.weft.close();
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE')
          throw usageError(`Port ${port} on ${host} is already in use; pass --port N (or --port 0 for any free port)`);
        throw error;
      }
      const count = Object.keys(opened.weft.listWorkflows()).length;
      const from = opened.workflowsFile
        ? ` from ${opened.workflowsFile}`
        : paint(' (no --workflows: runs in the store can be read, not operated)', 'dim');
      printText(
        [
          `${paint('weft', 'bold')} serving ${count} workflow${count === 1 ? '' : 's'}${from}`,
          `  ${paint('inspector', 'dim')}  ${paint(`${server.url}/`, 'cyan')}`,
          `  ${paint('api', 'dim')}        ${server.url}/api`,
          `  ${paint('store', 'dim')}      ${opened.dbPath} (sqlite)`,
          `  ${paint('retention', 'dim')}  ${retentionText ?? 'none (runs are kept until deleted or pruned)'}`,
          `  ${paint('auth', 'dim')}       ${token !== undefined ? 'bearer token required' : `none (loopback only; Host must be ${['localhost', '127.0.0.1', '[::1]', ...(allowedHosts ?? [])].join(', ')})`}`,
          paint('Press Ctrl+C to stop.', 'dim'),
        ].join('\n'),
      );
      let stopping = false;
      const stop = async (): Promise<void> => {
        if (stopping) return;
        stopping = true;
        await server.close();
        await opened.weft.close();
        process.exit(0);
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    });
}
