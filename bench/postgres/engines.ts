// The engines of the Postgres group, Weft (`weft/postgres`, `weft/worker`) and DBOS Transact, behind
// one interface: the same trivial workflows (10 steps; one wait for a message) on each.
import { createRequire } from 'node:module';
import { countStatementsOf } from './count-statements.js';
import { loadWeft, loadWeftPostgres } from '../weft-module.js';

export type PgEngineName = 'weft' | 'dbos';

/** One engine open on a database, with the bench's workflows registered. */
export interface PgEngine {
  /** Runs the 10-step workflow to its end; resolves with its result. */
  tenSteps(n: number): Promise<number>;
  /** Starts the waiting workflow, sends it its message and waits for its end (a suspend → resume round trip). */
  roundTrip(n: number): Promise<number>;
  close(): Promise<void>;
}

/** A producer of queued runs, and how many of them have succeeded. */
export interface PgProducer {
  enqueue(count: number): Promise<void>;
  succeeded(): Promise<number>;
  close(): Promise<void>;
}

const STEPS = 10;
const here = import.meta.url;

/** The module whose `pg` is the driver copy Weft loads: the one its storage module resolves. */
export const WEFT_DRIVER_FROM = new URL('../../src/storage/postgres/postgres-storage.ts', here).href;

/** Where bench/package.json installs the compared engine. */
const benchRequire = createRequire(new URL('../package.json', here));

/** What the bench uses of DBOS Transact (typed here: bench/node_modules is installed by `npm run bench` only). */
interface DbosHandle<T> {
  workflowID: string;
  getResult(): Promise<T>;
}
type DbosWorkflow<A extends unknown[], R> = (...args: A) => Promise<R>;
interface DbosModule {
  DBOS: {
    setConfig(config: { name: string; systemDatabaseUrl: string; logLevel: string }): void;
    launch(): Promise<void>;
    shutdown(): Promise<void>;
    registerWorkflow<A extends unknown[], R>(fn: DbosWorkflow<A, R>, config: { name: string }): DbosWorkflow<A, R>;
    runStep<R>(fn: () => Promise<R>, config: { name: string }): Promise<R>;
    startWorkflow<A extends unknown[], R>(fn: DbosWorkflow<A, R>): (...args: A) => Promise<DbosHandle<R>>;
    send(workflowId: string, message: unknown, topic: string): Promise<void>;
    recv<T>(topic: string, timeoutSeconds: number): Promise<T | null>;
    registerQueue(name: string, options: { workerConcurrency: number; minPollingIntervalMs: number }): Promise<unknown>;
  };
  DBOSClient: {
    create(options: { systemDatabaseUrl: string; applicationName: string }): Promise<{
      enqueue(options: { workflowName: string; queueName: string }, ...args: unknown[]): Promise<unknown>;
      destroy(): Promise<void>;
    }>;
  };
}

async function importDbos(): Promise<DbosModule> {
  let path: string;
  try {
    path = benchRequire.resolve('@dbos-inc/dbos-sdk');
  } catch {
    throw new Error(
      '@dbos-inc/dbos-sdk is not installed in bench/node_modules: run `npm run bench -- --pg`, which installs it',
    );
  }
  countStatementsOf(path);
  return (await import(path)) as DbosModule;
}

async function importWeft() {
  const [core, postgres, { z }] = await Promise.all([loadWeft(), loadWeftPostgres(), import('zod')]);
  countStatementsOf(WEFT_DRIVER_FROM);
  return { ...core, ...postgres, z };
}

async function weftWorkflows() {
  const { createStep, createWorkflow, z } = await importWeft();
  const n = z.object({ n: z.number() });
  let chain = createWorkflow({ id: 'ten-steps', inputSchema: n, outputSchema: n });
  for (let i = 0; i < STEPS; i++) {
    chain = chain.then(
      createStep({
        id: `s${i}`,
        inputSchema: n,
        outputSchema: n,
        execute: async ({ inputData }) => ({ n: inputData.n + 1 }),
      }),
    );
  }
  const waits = createWorkflow({ id: 'waits', inputSchema: n, outputSchema: n })
    .then(
      createStep({
        id: 'wait',
        inputSchema: n,
        outputSchema: n,
        resumeSchema: z.object({ m: z.number() }),
        execute: async ({ inputData, resumeData, suspend }) =>
          resumeData ? { n: inputData.n + resumeData.m } : ((await suspend({})) as never),
      }),
    )
    .commit();
  return { 'ten-steps': chain.commit(), waits };
}

export async function openWeft(url: string): Promise<PgEngine> {
  const { Weft, PostgresStorage } = await importWeft();
  const workflows = await weftWorkflows();
  const weft = new Weft({ workflows, storage: new PostgresStorage({ connectionString: url, schema: 'weft' }) });
  await weft.init();
  return {
    async tenSteps(n) {
      const run = await workflows['ten-steps'].createRun();
      const result = await run.start({ inputData: { n } });
      if (result.status !== 'success') throw new Error(`weft run ended ${result.status}`);
      return result.result!.n;
    },
    async roundTrip(n) {
      const run = await workflows.waits.createRun();
      const first = await run.start({ inputData: { n } });
      if (first.status !== 'suspended') throw new Error(`weft run ended ${first.status}, expected suspended`);
      const done = await run.resume({ resumeData: { m: 1 } });
      if (done.status !== 'success') throw new Error(`weft resume ended ${done.status}`);
      return done.result!.n;
    },
    close: () => weft.close(),
  };
}

/** A Weft worker process's engine: `runWorker` on graphile-worker with `concurrency` jobs at once. */
export async function startWeftWorker(url: string, concurrency: number): Promise<() => Promise<void>> {
  const { Weft, PostgresStorage, QueuePool, runWorker } = await importWeft();
  // As `weft worker` does: one pool for the store and the queue (concurrency + 2), and the store's LISTEN.
  const pool = new QueuePool({ connectionString: url, max: concurrency + 2 }, console);
  const weft = new Weft({
    workflows: await weftWorkflows(),
    storage: new PostgresStorage({ pool, schema: 'weft' }),
  });
  const worker = await runWorker({ weft, pgPool: pool, schema: 'queue', concurrency });
  return async () => {
    await worker.stop();
    await weft.close();
    await pool.end();
  };
}

export async function weftProducer(url: string): Promise<PgProducer> {
  const { Weft, PostgresStorage, createWorkflowQueue } = await importWeft();
  const weft = new Weft({
    workflows: await weftWorkflows(),
    storage: new PostgresStorage({ connectionString: url, schema: 'weft' }),
    recovery: false,
  });
  await weft.init();
  // The queue shares the store's pool.
  const queue = createWorkflowQueue({ weft, schema: 'queue' });
  return {
    async enqueue(count) {
      await Promise.all(Array.from({ length: count }, (_, n) => queue.enqueueStart('ten-steps', { inputData: { n } })));
    },
    async succeeded() {
      return (await weft.storage.listRuns({ status: 'success', perPage: 1 })).total;
    },
    async close() {
      await queue.close();
      await weft.close();
    },
  };
}

const DBOS_APP = 'weft-bench';

async function dbosWorkflows() {
  const { DBOS } = await importDbos();
  const step = async (n: number): Promise<number> => n + 1;
  const tenSteps = DBOS.registerWorkflow(
    async (n: number) => {
      for (let i = 0; i < STEPS; i++) n = await DBOS.runStep(() => step(n), { name: `s${i}` });
      return n;
    },
    { name: 'tenSteps' },
  );
  const waits = DBOS.registerWorkflow(
    async (n: number) => {
      const m = await DBOS.recv<number>('go', 60);
      return n + (m ?? 0);
    },
    { name: 'waits' },
  );
  return { DBOS, tenSteps, waits };
}

export async function openDbos(url: string): Promise<PgEngine> {
  const { DBOS, tenSteps, waits } = await dbosWorkflows();
  DBOS.setConfig({ name: DBOS_APP, systemDatabaseUrl: url, logLevel: 'error' });
  await DBOS.launch();
  return {
    tenSteps: (n) => tenSteps(n),
    async roundTrip(n) {
      const handle = await DBOS.startWorkflow(waits)(n);
      await DBOS.send(handle.workflowID, 1, 'go');
      return handle.getResult();
    },
    close: () => DBOS.shutdown(),
  };
}

export async function startDbosWorker(url: string, concurrency: number): Promise<() => Promise<void>> {
  const { DBOS } = await dbosWorkflows();
  DBOS.setConfig({ name: DBOS_APP, systemDatabaseUrl: url, logLevel: 'error' });
  await DBOS.launch();
  await DBOS.registerQueue('bench', { workerConcurrency: concurrency, minPollingIntervalMs: 50 });
  return () => DBOS.shutdown();
}

export async function dbosProducer(url: string): Promise<PgProducer> {
  const { DBOSClient } = await importDbos();
  const client = await DBOSClient.create({ systemDatabaseUrl: url, applicationName: DBOS_APP });
  const { default: pg } = await import('pg');
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return {
    async enqueue(count) {
      await Promise.all(
        Array.from({ length: count }, (_, n) => client.enqueue({ workflowName: 'tenSteps', queueName: 'bench' }, n)),
      );
    },
    async succeeded() {
      const { rows } = await pool.query<{ n: string }>(
        `SELECT count(*) AS n FROM dbos.workflow_status WHERE status = 'SUCCESS' AND name = 'tenSteps'`,
      );
      return Number(rows[0]!.n);
    },
    async close() {
      await client.destroy();
      await pool.end();
    },
  };
}
