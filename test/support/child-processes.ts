// Child processes and Postgres connections of the cross-process suites: spawn a fixture with
// `--import tsx`, collect its output, and terminate the backends of one application_name.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { until } from './wait.js';

const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));

export interface Child {
  name: string;
  child: ChildProcess;
  output: () => string;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** True while the process runs. */
  alive: () => boolean;
}

/** Spawns `script` (relative to the repository) under tsx with `env` added; stdout and stderr are collected. */
export function spawnChild(name: string, script: string, env: Record<string, string>, args: string[] = []): Child {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: REPO_ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', ...env },
  });
  let out = '';
  child.stdout!.on('data', (c: Buffer) => (out += c.toString()));
  child.stderr!.on('data', (c: Buffer) => (out += c.toString()));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('exit', (code, signal) => resolve({ code, signal })),
  );
  return {
    name,
    child,
    output: () => out,
    exited,
    alive: () => child.exitCode === null && child.signalCode === null,
  };
}

/** Resolves once the child printed `text`; fails if it exits first. */
export async function printed(c: Child, text: string, timeoutMs = 20_000): Promise<void> {
  const seen = until(() => c.output().includes(text), `${c.name} to print ${JSON.stringify(text)}`, timeoutMs, 20);
  const died = c.exited.then(({ code, signal }) => {
    throw new Error(`${c.name} exited (${code ?? signal}) before printing ${JSON.stringify(text)}:\n${c.output()}`);
  });
  died.catch(() => undefined);
  await Promise.race([seen, died]);
}

/** Kills the child (SIGKILL) if it still runs, and waits for it to exit. */
export async function reap(c: Child): Promise<void> {
  if (c.alive()) c.child.kill('SIGKILL');
  await c.exited;
}

/** A connection string naming its connections `applicationName`, so that they can be told from others. */
export function withApplicationName(url: string, applicationName: string): string {
  const parsed = new URL(url);
  parsed.searchParams.set('application_name', applicationName);
  return parsed.toString();
}

/**
 * Terminates every backend whose application_name starts with `prefix` (only the connections of
 * the test's own processes); returns how many were terminated.
 */
export async function terminateBackends(admin: pg.Pool, prefix: string): Promise<number> {
  const { rows } = await admin.query<{ killed: boolean }>(
    `SELECT pg_terminate_backend(pid) AS killed FROM pg_stat_activity
     WHERE application_name LIKE $1 || '%' AND pid <> pg_backend_pid()`,
    [prefix],
  );
  return rows.filter((row) => row.killed).length;
}

/** Terminates the backends of `prefix` `times` times, `everyMs` apart; returns how many backends were terminated. */
export async function terminateRepeatedly(
  admin: pg.Pool,
  prefix: string,
  times: number,
  everyMs: number,
): Promise<number> {
  let killed = 0;
  for (let i = 0; i < times; i++) {
    killed += await terminateBackends(admin, prefix);
    await new Promise((r) => setTimeout(r, everyMs));
  }
  return killed;
}
