// One sample of one Postgres workload on one engine, in a process of its own (DBOS is a process-wide
// singleton; a fresh process also starts both engines equally cold). Prints one JSON line: the time,
// the statements sent, and the runs done. `count` 0 opens the engine and does nothing: the baseline
// that the parent subtracts to get commits per run. `floor` (P1, P3) replays Weft's statements alone (floor.ts).
//   tsx bench/postgres/child.ts <weft|dbos|floor> <P1|P2|P3|P4> <database url> <count>
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { statementCount } from './count-statements.js';
import { floor, type Unit } from './floor.js';
import { dbosProducer, openDbos, openWeft, weftProducer, type PgEngine, type PgEngineName } from './engines.js';

const [engineName, workload, url, countText] = process.argv.slice(2) as [
  PgEngineName | 'floor',
  string,
  string,
  string,
];
const count = Number(countText);
const WARMUP = 5;
/** Queue workers: two processes, each with this many runs at once. */
const WORKERS = 2;
const WORKER_CONCURRENCY = 10;

/** What P1 and P3 repeat, one after another. */
const units: Record<string, Unit> = {
  P1: (engine, n) => engine.tenSteps(n),
  P3: (engine, n) => engine.roundTrip(n),
};

async function inProcess(measure: (engine: PgEngine) => Promise<void>): Promise<number> {
  const engine = engineName === 'weft' ? await openWeft(url) : await openDbos(url);
  // P2 warms up as P1 does.
  const unit = (units[workload] ?? units.P1)!;
  for (let i = 0; i < WARMUP; i++) await unit(engine, i);
  const before = statementCount();
  const started = performance.now();
  await measure(engine);
  const ms = performance.now() - started;
  statements = statementCount() - before;
  await engine.close();
  return ms;
}

function startWorker(): Promise<ChildProcess> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./queue-worker.ts', import.meta.url)),
      engineName,
      url,
      String(WORKER_CONCURRENCY),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      const text = chunk.toString();
      if (text.includes('READY')) resolve(child);
      const sent = /STATEMENTS (\d+)/.exec(text);
      if (sent) workerStatements += Number(sent[1]);
    });
    child.once('exit', (code) => reject(new Error(`${engineName} worker exited (${code}) before it was ready`)));
  });
}

async function queued(): Promise<number> {
  const producer = engineName === 'weft' ? await weftProducer(url) : await dbosProducer(url);
  // One after the other: the first creates the engine's tables (DBOS's migrations race when two start at once).
  const workers: ChildProcess[] = [];
  for (let i = 0; i < WORKERS; i++) workers.push(await startWorker());
  const before = statementCount();
  const started = performance.now();
  await producer.enqueue(count);
  // The bench's own polling is not the engine's: its statements are left out of the count.
  let polling = 0;
  for (;;) {
    const beforePoll = statementCount();
    const done = await producer.succeeded();
    polling += statementCount() - beforePoll;
    if (done >= count) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const ms = performance.now() - started;
  await Promise.all(workers.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.kill('SIGTERM')))));
  statements = statementCount() - before - polling + workerStatements;
  await producer.close();
  return ms;
}

let statements = 0;
let workerStatements = 0;
const measures: Record<string, () => Promise<number>> = {
  P1: () =>
    inProcess(async (engine) => {
      for (let i = 0; i < count; i++) await units.P1!(engine, i);
    }),
  P2: () =>
    inProcess(async (engine) => {
      await Promise.all(Array.from({ length: count }, (_, i) => engine.tenSteps(i)));
    }),
  P3: () =>
    inProcess(async (engine) => {
      for (let i = 0; i < count; i++) await units.P3!(engine, i);
    }),
  P4: queued,
};

const unit = units[workload];
const replayed = async (replay: Unit): Promise<number> => {
  const result = await floor(url, replay, WARMUP, count);
  statements = result.statements;
  return result.ms;
};
const measure = engineName === 'floor' ? unit && (() => replayed(unit)) : measures[workload];
if (!measure) throw new Error(`no ${engineName} sample of workload ${workload}`);
const ms = await measure();
process.stdout.write(`${JSON.stringify({ ms, statements, count })}\n`);
process.exit(0);
