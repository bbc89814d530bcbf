// Each engine's samples in a process of its own, asked for one sample at a time by `npm run bench`.
//
// An engine can tax everything else in its process: once a @mastra/core workflow has run, its
// AsyncLocalStorage keeps Node's promise hooks on, and every promise created afterwards, Weft's
// included, costs more (a W1 step on Weft about 40% more). In separate processes neither engine
// pays for the other. The parent still alternates the engines, sample by sample.
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { engines, type EngineName } from './engines.js';
import { useSource } from './weft-module.js';
import { workloads, type Sample, type SampleContext } from './workloads.js';

/** What the parent asks for: one sample of one workload, on the engine the process runs. */
interface SampleRequest {
  id: number;
  workload: string;
  ctx: Omit<SampleContext, 'engine'>;
}

type SampleReply = { id: number; sample: Sample } | { id: number; error: string };

/** A child process that takes samples on one engine. */
export class EngineProcess {
  private readonly child: ChildProcess;
  private nextId = 0;
  private readonly waiting = new Map<number, { resolve: (s: Sample) => void; reject: (e: Error) => void }>();

  constructor(
    readonly engine: EngineName,
    fromSource: boolean,
  ) {
    this.child = fork(fileURLToPath(import.meta.url), [engine, ...(fromSource ? ['--source'] : [])], {
      execArgv: ['--import', 'tsx'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.child.on('message', (reply: SampleReply) => {
      const waiter = this.waiting.get(reply.id);
      if (!waiter) return;
      this.waiting.delete(reply.id);
      if ('error' in reply) waiter.reject(new Error(`${engine} sample failed: ${reply.error}`));
      else waiter.resolve(reply.sample);
    });
    this.child.on('exit', (code) => {
      for (const waiter of this.waiting.values()) waiter.reject(new Error(`${engine} process exited (${code})`));
      this.waiting.clear();
    });
  }

  sample(workload: string, ctx: Omit<SampleContext, 'engine'>): Promise<Sample> {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      this.child.send({ id, workload, ctx } satisfies SampleRequest);
    });
  }

  close(): void {
    this.child.disconnect();
  }
}

// The child: answers sample requests until the parent disconnects.
if (process.argv[1] === fileURLToPath(import.meta.url) && process.send) {
  const name = process.argv[2] as EngineName;
  useSource(process.argv.includes('--source'));
  const engine = engines.find((e) => e.name === name);
  if (!engine) throw new Error(`unknown engine ${name}`);
  process.on('message', (request: SampleRequest) => {
    const workload = workloads.find((w) => w.id === request.workload);
    const taken = workload
      ? workload.sample({ ...request.ctx, engine })
      : Promise.reject(new Error(`unknown workload ${request.workload}`));
    taken.then(
      (sample) => process.send!({ id: request.id, sample } satisfies SampleReply),
      (error: unknown) =>
        process.send!({ id: request.id, error: String((error as Error)?.stack ?? error) } satisfies SampleReply),
    );
  });
}
