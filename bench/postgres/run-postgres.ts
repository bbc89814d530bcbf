// `npm run bench -- --pg`: Weft on Postgres side by side with DBOS Transact on the same server,
// alternating engines, each sample in fresh processes on a fresh database. Prints medians, ratios
// (Weft / DBOS, lower is better), the spread of the reps (max / min), and per run the durable
// commits (pg_stat_database), the statements sent (counted in the driver) and the peak connections
// (pg_stat_activity) of both engines.
// Usage: npm run bench -- --pg [--quick] [--reps N] [P1 P2 ...]; WEFT_PG_URL picks the server.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { formatNumber, formatRatio, median } from '../measure.js';
import type { PgEngineName } from './engines.js';

interface PgWorkload {
  id: string;
  title: string;
  /** How many runs (or round trips) one sample makes: full and --quick. */
  size: { full: number; quick: number };
  /** The figure reported, from the sample's time and size. */
  measure: string;
  value(ms: number, count: number): number;
  /** Also sample the floor, Weft's statements of one such unit replayed alone (floor.ts): the unit's name. */
  floor?: string;
}

const workloads: PgWorkload[] = [
  {
    id: 'P1',
    title: 'sequential 10-step runs',
    size: { full: 100, quick: 30 },
    measure: 'µs per step',
    value: (ms, count) => (ms * 1000) / (count * 10),
    floor: '10-step run',
  },
  {
    id: 'P2',
    title: 'runs of 10 steps started at once',
    size: { full: 500, quick: 200 },
    measure: 'ms for all',
    value: (ms) => ms,
  },
  {
    id: 'P3',
    title: 'suspend → resume round trips, one after another',
    size: { full: 100, quick: 30 },
    measure: 'µs per round trip',
    value: (ms, count) => (ms * 1000) / count,
    floor: 'round trip',
  },
  {
    id: 'P4',
    title: 'queued runs of 10 steps, 2 worker processes × 10',
    size: { full: 2000, quick: 500 },
    measure: 'ms for all',
    value: (ms) => ms,
  },
];

const ENGINES: PgEngineName[] = ['weft', 'dbos'];
const SERVER = process.env.WEFT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const admin = new pg.Pool({ connectionString: SERVER, max: 1 });

function databaseUrl(name: string): string {
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return url.href;
}

async function freshDatabase(name: string): Promise<void> {
  await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${name}`);
}

interface DbStats {
  commits: number;
  deadlocks: number;
}

async function stats(name: string): Promise<DbStats> {
  // Backends report their statistics as they exit; give the last ones a moment.
  await new Promise((resolve) => setTimeout(resolve, 300));
  const { rows } = await admin.query<{ xact_commit: string; deadlocks: string }>(
    'SELECT xact_commit, deadlocks FROM pg_stat_database WHERE datname = $1',
    [name],
  );
  return { commits: Number(rows[0]?.xact_commit ?? 0), deadlocks: Number(rows[0]?.deadlocks ?? 0) };
}

interface ChildResult {
  ms: number;
  statements: number;
  count: number;
  warnings: number;
  /** The most connections the sample's processes held at once. */
  connections: number;
  stats: DbStats;
}

/** One sample on a fresh database: the child's time and statements, and the database's commits and deadlocks. */
async function sample(engine: PgEngineName | 'floor', w: PgWorkload, count: number): Promise<ChildResult> {
  const name = `weft_bench_${engine}`;
  await freshDatabase(name);
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./child.ts', import.meta.url)),
      engine,
      w.id,
      databaseUrl(name),
      String(count),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (err += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  const connections = peakConnections(name, exited);
  const code = await exited;
  if (code !== 0) throw new Error(`${engine} ${w.id} failed (exit ${code}):\n${err}`);
  const result = JSON.parse(out.trim().split('\n').at(-1)!) as { ms: number; statements: number; count: number };
  const warnings = (err.match(/MaxListenersExceededWarning/g) ?? []).length;
  return { ...result, warnings, connections: await connections, stats: await stats(name) };
}

/** The most connections to database `name` seen while `until` is pending (sampled every 25 ms). */
async function peakConnections(name: string, until: Promise<unknown>): Promise<number> {
  let done = false;
  void until.then(() => (done = true));
  let most = 0;
  while (!done) {
    const { rows } = await admin.query<{ n: string }>('SELECT count(*) AS n FROM pg_stat_activity WHERE datname = $1', [
      name,
    ]);
    most = Math.max(most, Number(rows[0]?.n ?? 0));
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  return most;
}

function parseArgs(argv: readonly string[]) {
  const quick = argv.includes('--quick');
  const repsAt = argv.indexOf('--reps');
  const reps = repsAt >= 0 ? Math.max(1, Number(argv[repsAt + 1])) : quick ? 3 : 5;
  const selected = new Set(argv.filter((a) => /^P\d$/i.test(a)).map((a) => a.toUpperCase()));
  return { quick, reps, selected };
}

export async function runPostgresGroup(argv: readonly string[]): Promise<void> {
  const options = parseArgs(argv);
  const chosen = workloads.filter((w) => options.selected.size === 0 || options.selected.has(w.id));
  const { rows } = await admin.query<{ version: string; sync: string }>(
    "SELECT version() AS version, current_setting('synchronous_commit') AS sync",
  );
  console.log(`Postgres: ${rows[0]!.version.split(' on ')[0]}, synchronous_commit = ${rows[0]!.sync}`);
  const lines: string[] = [];
  const floors: string[] = [];
  let deadlocks = 0;
  let warnings = 0;
  for (const w of chosen) {
    const count = options.quick ? w.size.quick : w.size.full;
    const values: Record<PgEngineName, number[]> = { weft: [], dbos: [] };
    const perRun: Record<PgEngineName, { commits: number; statements: number }> = {
      weft: { commits: 0, statements: 0 },
      dbos: { commits: 0, statements: 0 },
    };
    const connections: Record<PgEngineName, number> = { weft: 0, dbos: 0 };
    // The baseline: opening the engine and its warm-up, whose commits are not the workload's.
    const baseline: Record<PgEngineName, number> = { weft: 0, dbos: 0 };
    const floorValues: number[] = [];
    let floorStatements = 0;
    for (const engine of ENGINES) baseline[engine] = (await sample(engine, w, 0)).stats.commits;
    for (let rep = 0; rep < options.reps; rep++) {
      const order = rep % 2 === 0 ? ENGINES : [...ENGINES].reverse();
      for (const engine of order) {
        const result = await sample(engine, w, count);
        const value = w.value(result.ms, count);
        values[engine].push(value);
        perRun[engine] = {
          commits: (result.stats.commits - baseline[engine]) / count,
          statements: result.statements / count,
        };
        connections[engine] = Math.max(connections[engine], result.connections);
        deadlocks += result.stats.deadlocks;
        warnings += result.warnings;
        process.stderr.write(`${w.id} ${engine} rep ${rep + 1}: ${formatNumber(value)} ${w.measure}\n`);
      }
      if (w.floor) {
        const result = await sample('floor', w, count);
        const value = w.value(result.ms, count);
        floorValues.push(value);
        floorStatements = result.statements / count;
        deadlocks += result.stats.deadlocks;
        warnings += result.warnings;
        process.stderr.write(`${w.id} floor rep ${rep + 1}: ${formatNumber(value)} ${w.measure}\n`);
      }
    }
    const weft = median(values.weft)!;
    const dbos = median(values.dbos)!;
    const spread = (xs: number[]): string => (Math.max(...xs) / Math.min(...xs)).toFixed(2);
    lines.push(
      `| ${w.id} | ${w.title} (${count}) | ${w.measure} | ${formatNumber(weft)} | ${formatNumber(dbos)} | ${formatRatio(weft, dbos)} | ` +
        `${spread(values.weft)} / ${spread(values.dbos)} | ${perRun.weft.commits.toFixed(1)} / ${perRun.dbos.commits.toFixed(1)} | ` +
        `${perRun.weft.statements.toFixed(1)} / ${perRun.dbos.statements.toFixed(1)} | ${connections.weft} / ${connections.dbos} |`,
    );
    const floor = median(floorValues);
    if (floor !== undefined) {
      floors.push(
        `${w.id} floor: Weft's ${floorStatements} statements of one ${w.floor} replayed alone ` +
          `(same driver, no engine): ${formatNumber(floor)} ${w.measure}, ${(floor / dbos).toFixed(3)} × DBOS; ` +
          `the engine adds ${formatNumber(weft - floor)} ${w.measure} (${spread(floorValues)} max/min of reps)`,
      );
    }
  }
  await admin.end();
  console.log('');
  console.log(
    '| | workload | measure | Weft | DBOS | Weft / DBOS | max/min of reps (Weft / DBOS) | commits per run (Weft / DBOS) | statements per run (Weft / DBOS) | peak connections (Weft / DBOS) |',
  );
  console.log('|---|---|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const line of lines) console.log(line);
  console.log('');
  for (const line of floors) console.log(line);
  console.log(`deadlocks: ${deadlocks}; MaxListenersExceededWarning: ${warnings}`);
}
