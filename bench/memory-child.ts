// W8's child process (run with --expose-gc): heap retained per completed W1 run on one engine and store.
// Usage: node --expose-gc --import tsx bench/memory-child.ts <weft|mastra> <memory|file> <runs> <dir>
import { engines, type StoreKind } from './engines.js';
import { sequentialWorkflow } from './workloads.js';

const [engineName, store, runsArg, dir] = process.argv.slice(2);
const engine = engines.find((e) => e.name === engineName);
const gc = (globalThis as { gc?: () => void }).gc;
if (!engine || (store !== 'memory' && store !== 'file') || !runsArg || !dir || !gc) {
  console.error('usage: node --expose-gc --import tsx bench/memory-child.ts <weft|mastra> <memory|file> <runs> <dir>');
  process.exit(2);
}

function settledHeap(): number {
  for (let i = 0; i < 4; i++) gc!();
  return process.memoryUsage().heapUsed;
}

async function runMany(count: number, start: () => Promise<{ status: string }>): Promise<void> {
  for (let i = 0; i < count; i++) {
    const result = await start();
    if (result.status !== 'success') throw new Error(`run ended "${result.status}"`);
  }
}

const api = await engine.api();
const inst = await engine.open({ w1: sequentialWorkflow(api, 'w1', 10) }, store as StoreKind, dir);
const runs = Number(runsArg);
const startOne = async (): Promise<{ status: string }> => (await inst.createRun('w1')).start({ inputData: { n: 0 } });
await runMany(Math.min(200, runs), startOne); // warm up: caches, JIT, lazily built structures
await new Promise((resolve) => setTimeout(resolve, 50));
const before = settledHeap();
await runMany(runs, startOne);
await new Promise((resolve) => setTimeout(resolve, 50));
const after = settledHeap();
await inst.close();
process.stdout.write(JSON.stringify({ bytesPerRun: (after - before) / runs, runs }) + '\n');
