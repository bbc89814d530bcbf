// `npm run bench -- --fan-out [--items N] [--reps N] [--cpu]`: workload F1, one run whose foreach of N items
// (concurrency 64) is executed by worker processes on Postgres, each executing 8 items at once
// (`attemptConcurrency`): by 1 worker and by 2 workers with fan-out (`runWorker({ fanOut })`), and by 1
// worker without it (the items in the run’s own process, 64 at once: that worker's limit of 8 applies to
// dispatched steps only). An item waits 20 ms on another system (a timer; WEFT_BENCH_ITEM_WAIT_MS changes
// it) and computes about 0.1 ms; with --cpu it computes instead (1,500 SHA-256 digests: 2 to 6 ms of CPU with
// the garbage collection they cause, depending on the machine). Modes alternate; each sample
// runs on a fresh database. Prints the median ms per mode and the ratios, the spread of the reps, and how the
// items were shared between the workers.
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { formatNumber, median } from '../measure.js';
import { loadWeft, loadWeftPostgres } from '../weft-module.js';

interface Mode {
  id: string;
  title: string;
  workers: number;
  fanOut: boolean;
}

const MODES: Mode[] = [
  { id: 'local', title: '1 worker, items in the run’s process', workers: 1, fanOut: false },
  { id: 'one', title: '1 worker, fan-out', workers: 1, fanOut: true },
  { id: 'two', title: '2 workers, fan-out', workers: 2, fanOut: true },
];

const SERVER = process.env.WEFT_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
const DATABASE = 'weft_bench_fanout';
/** How often the bench reads the run to see whether it ended. */
const POLL_MS = 50;

function databaseUrl(name: string): string {
  const url = new URL(SERVER);
  url.pathname = `/${name}`;
  return url.href;
}

interface Worker {
  child: ChildProcess;
  output: () => string;
}

function startWorker(url: string, fanOut: boolean, kind: string): Promise<Worker> {
  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./fan-out-worker.ts', import.meta.url)),
      url,
      fanOut ? '1' : '0',
      '8',
      kind,
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let out = '';
  let err = '';
  child.stdout!.on('data', (chunk: Buffer) => (out += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (err += chunk.toString()));
  return new Promise((resolve, reject) => {
    const check = setInterval(() => {
      if (out.includes('READY')) {
        clearInterval(check);
        resolve({ child, output: () => out + err });
      }
    }, 20);
    child.once('exit', (code) => {
      clearInterval(check);
      reject(new Error(`fan-out worker exited (${code}) before it was ready:\n${out}${err}`));
    });
  });
}

async function stopWorker(worker: Worker): Promise<{ items: number; warnings: number }> {
  const exited = new Promise((resolve) => worker.child.once('exit', resolve));
  worker.child.kill('SIGTERM');
  await exited;
  const text = worker.output();
  return {
    items: Number(/ITEMS (\d+)/.exec(text)?.[1] ?? 0),
    warnings: (text.match(/MaxListenersExceededWarning/g) ?? []).length,
  };
}

interface Sample {
  ms: number;
  items: number[];
  warnings: number;
  deadlocks: number;
}

async function sample(admin: pg.Pool, mode: Mode, items: number, kind: string): Promise<Sample> {
  await admin.query(`DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`);
  await admin.query(`CREATE DATABASE ${DATABASE}`);
  const url = databaseUrl(DATABASE);
  const [{ Weft, createStep, createWorkflow }, { PostgresStorage, createWorkflowQueue }, { z }] = await Promise.all([
    loadWeft(),
    loadWeftPostgres(),
    import('zod'),
  ]);
  // The producer only enqueues: a workflow of the same id, never executed here.
  const spread = createWorkflow({ id: 'spread', inputSchema: z.array(z.number()), outputSchema: z.number() })
    .then(createStep({ id: 'never', inputSchema: z.any(), outputSchema: z.number(), execute: async () => 0 }))
    .commit();
  const weft = new Weft({
    workflows: { spread },
    storage: new PostgresStorage({ connectionString: url, schema: 'weft' }),
    recovery: false,
  });
  await weft.init();
  const queue = createWorkflowQueue({ weft, schema: 'queue' });
  const workers: Worker[] = [];
  try {
    // The first worker migrates the queue; the others start once it is ready.
    workers.push(await startWorker(url, mode.fanOut, kind));
    for (let i = 1; i < mode.workers; i++) workers.push(await startWorker(url, mode.fanOut, kind));
    const began = performance.now();
    const { runId } = await queue.enqueueStart('spread', { inputData: Array.from({ length: items }, (_, i) => i) });
    for (;;) {
      const row = await weft.storage.getRun(runId);
      if (row?.status === 'success') break;
      if (row && !['pending', 'running', 'waiting'].includes(row.status))
        throw new Error(`the run ended ${row.status}`);
      // Each read carries the run's input (10,000 items, about 49 KB) and takes the server about 0.25 ms,
      // time the workers share; every 50 ms rather than 10 costs under 0.4 % of the shortest mode.
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
    const ms = performance.now() - began;
    const stopped = await Promise.all(workers.splice(0).map(stopWorker));
    const { rows } = await admin.query<{ deadlocks: string }>(
      'SELECT deadlocks FROM pg_stat_database WHERE datname = $1',
      [DATABASE],
    );
    return {
      ms,
      items: stopped.map((s) => s.items),
      warnings: stopped.reduce((n, s) => n + s.warnings, 0),
      deadlocks: Number(rows[0]?.deadlocks ?? 0),
    };
  } finally {
    for (const worker of workers) worker.child.kill('SIGKILL');
    await queue.close();
    await weft.close();
  }
}

export async function runFanOutGroup(argv: readonly string[]): Promise<void> {
  const at = (flag: string): number | undefined => {
    const i = argv.indexOf(flag);
    return i >= 0 ? Number(argv[i + 1]) : undefined;
  };
  const items = at('--items') ?? 10_000;
  const reps = at('--reps') ?? 3;
  const kind = argv.includes('--cpu') ? 'cpu' : 'wait';
  const admin = new pg.Pool({ connectionString: SERVER, max: 1 });
  const samples = new Map<string, Sample[]>(MODES.map((m) => [m.id, []]));
  try {
    for (let rep = 0; rep < reps; rep++) {
      const order = rep % 2 === 0 ? MODES : [...MODES].reverse();
      for (const mode of order) {
        const s = await sample(admin, mode, items, kind);
        samples.get(mode.id)!.push(s);
        process.stderr.write(
          `  rep ${rep + 1} ${mode.id}: ${formatNumber(s.ms)} ms, items per worker ${s.items.join(' / ')}\n`,
        );
      }
    }
  } finally {
    await admin.end();
  }
  const med = (id: string): number => median(samples.get(id)!.map((s) => s.ms)) ?? Number.NaN;
  const what =
    kind === 'cpu'
      ? 'items computing 1,500 SHA-256 digests each'
      : `items waiting ${process.env.WEFT_BENCH_ITEM_WAIT_MS ?? 20} ms each on another system`;
  console.log(
    `\nF1: one run, foreach of ${formatNumber(items)} ${what} (concurrency 64, 8 per worker), ${reps} reps\n`,
  );
  console.log('| mode | ms (median) | max/min of reps | items per worker (last rep) |');
  console.log('|---|---:|---:|---|');
  for (const mode of MODES) {
    const list = samples.get(mode.id)!;
    const times = list.map((s) => s.ms);
    console.log(
      `| ${mode.title} | ${formatNumber(med(mode.id))} | ${(Math.max(...times) / Math.min(...times)).toFixed(2)} | ${list.at(-1)!.items.join(' / ')} |`,
    );
  }
  const all = [...samples.values()].flat();
  console.log(
    `\n2 workers / 1 worker (both fan-out): ${(med('two') / med('one')).toFixed(3)} (target ≤ 0.6); ` +
      `2 workers / 1 worker without fan-out: ${(med('two') / med('local')).toFixed(3)}`,
  );
  console.log(
    `Deadlocks: ${all.reduce((n, s) => n + s.deadlocks, 0)}. MaxListenersExceededWarning: ${all.reduce((n, s) => n + s.warnings, 0)}.`,
  );
}
