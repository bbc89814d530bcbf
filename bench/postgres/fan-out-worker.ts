// A worker process of the fan-out workload (F1): serves the `spread` workflow (a foreach of items that wait
// on another system, or that compute) with runWorker, fanning it out or not. Prints READY once it serves, and
// ITEMS <n> (items it executed) when told to stop.
//   tsx bench/postgres/fan-out-worker.ts <database url> <fan-out: 1|0> <attempt concurrency> <wait|cpu>
import { createHash } from 'node:crypto';
import { loadWeft, loadWeftPostgres } from '../weft-module.js';

const [url, fanOut, attemptConcurrency, kind] = process.argv.slice(2) as [string, string, string, string];
/** What an item waits for (a call to another system), and the CPU it costs: SHA-256 digests of 32 bytes. */
const WAIT_MS = Number(process.env.WEFT_BENCH_ITEM_WAIT_MS ?? 20);
const HASHES = kind === 'cpu' ? Number(process.env.WEFT_BENCH_ITEM_HASHES ?? 1500) : 100;
const block = Buffer.alloc(1024, 7);

const [{ Weft, createStep, createWorkflow }, { PostgresStorage, QueuePool, runWorker }, { z }] = await Promise.all([
  loadWeft(),
  loadWeftPostgres(),
  import('zod'),
]);
let executed = 0;
const item = createStep({
  id: 'item',
  inputSchema: z.number(),
  outputSchema: z.number(),
  execute: async ({ inputData }) => {
    executed++;
    if (kind !== 'cpu') await new Promise((resolve) => setTimeout(resolve, WAIT_MS));
    let digest = block;
    for (let i = 0; i < HASHES; i++) digest = createHash('sha256').update(digest).digest();
    return inputData + (digest[0]! % 1);
  },
});
const total = createStep({
  id: 'total',
  inputSchema: z.array(z.number()),
  outputSchema: z.number(),
  execute: async ({ inputData }) => inputData.reduce((a, b) => a + b, 0),
});
const spread = createWorkflow({ id: 'spread', inputSchema: z.array(z.number()), outputSchema: z.number() })
  .foreach(item, { concurrency: 64 })
  .then(total)
  .commit();

const pool = new QueuePool({ connectionString: url, max: 6 }, console);
const weft = new Weft({ workflows: { spread }, storage: new PostgresStorage({ pool, schema: 'weft' }) });
const worker = await runWorker({
  weft,
  pgPool: pool,
  schema: 'queue',
  concurrency: 2,
  fanOut: fanOut === '1',
  attemptConcurrency: Number(attemptConcurrency),
});
process.stdout.write('READY\n');
process.once('SIGTERM', () => {
  process.stdout.write(`ITEMS ${executed}\n`);
  void worker
    .stop()
    .then(() => weft.close())
    .then(() => pool.end())
    .then(() => process.exit(0));
});
