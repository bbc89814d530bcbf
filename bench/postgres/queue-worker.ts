// A queue worker process of workload P4: serves the bench's workflows until SIGTERM.
// Prints READY once it serves, and STATEMENTS <n> when told to stop.
//   tsx bench/postgres/queue-worker.ts <weft|dbos> <database url> <concurrency>
import { statementCount } from './count-statements.js';
import { startDbosWorker, startWeftWorker } from './engines.js';

const [engine, url, concurrency] = process.argv.slice(2) as [string, string, string];
const stop = await (engine === 'weft' ? startWeftWorker : startDbosWorker)(url, Number(concurrency));
process.stdout.write('READY\n');
// The statements it sent while serving, for the parent's count (this process's driver is not the parent's).
const before = statementCount();
process.once('SIGTERM', () => {
  process.stdout.write(`STATEMENTS ${statementCount() - before}\n`);
  void stop().then(() => process.exit(0));
});
