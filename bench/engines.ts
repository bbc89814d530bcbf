// The engines under test, behind one small interface: Weft and @mastra/core, each on a memory and a file store.
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { loadMastraCore, loadMastraLibsql, loadMastraWorkflows } from './mastra-module.js';
import { loadWeft, loadWeftSqlite } from './weft-module.js';
import type { WorkflowApi } from './workloads.js';

/** Where an engine keeps its runs: in memory, or a file on disk with every finished step stored. */
export type StoreKind = 'memory' | 'file';

/** What the benchmark calls on a run; Weft's `Run` and Mastra's `Run` both have these. */
export interface BenchRun {
  runId: string;
  start(args: { inputData: unknown }): Promise<{ status: string; result?: unknown }>;
  resume(args: { step?: string; resumeData: unknown }): Promise<{ status: string; result?: unknown }>;
  stream(args: { inputData: unknown }): { fullStream: AsyncIterable<unknown>; result: Promise<{ status: string }> };
}

/** One engine instance with a set of workflows registered. */
export interface EngineInstance {
  createRun(workflowKey: string): Promise<BenchRun>;
  close(): Promise<void>;
}

export type EngineName = 'weft' | 'mastra';

export interface Engine {
  name: EngineName;
  /** Human-readable store names, for the report. */
  storeLabel: Record<StoreKind, string>;
  /** The definition API workloads are built with. */
  api(): Promise<WorkflowApi>;
  /** Registers `workflows` with a new instance on the given store. */
  open(workflows: Record<string, unknown>, store: StoreKind, dir: string): Promise<EngineInstance>;
}

let fileCounter = 0;

function freshFile(dir: string, engine: EngineName): string {
  return join(dir, `${engine}-${process.pid}-${++fileCounter}.db`);
}

function removeDbFiles(path: string): void {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(path + suffix, { force: true });
}

interface WorkflowLike {
  createRun(options?: { runId?: string }): Promise<BenchRun>;
}

export const weftEngine: Engine = {
  name: 'weft',
  storeLabel: { memory: 'MemoryStorage', file: 'SqliteStorage' },
  async api() {
    const { createWorkflow, createStep } = await loadWeft();
    return { createWorkflow, createStep } as WorkflowApi;
  },
  async open(workflows, store, dir) {
    const { Weft, MemoryStorage } = await loadWeft();
    let path: string | undefined;
    let storage;
    if (store === 'file') {
      const { SqliteStorage } = await loadWeftSqlite();
      path = freshFile(dir, 'weft');
      storage = new SqliteStorage({ path });
    } else {
      storage = new MemoryStorage();
    }
    const weft = new Weft({ workflows: workflows as never, storage });
    await weft.init();
    return {
      createRun: (key) => (weft.getWorkflow(key) as unknown as WorkflowLike).createRun(),
      async close() {
        await weft.close();
        if (path) removeDbFiles(path);
      },
    };
  },
};

export const mastraEngine: Engine = {
  name: 'mastra',
  storeLabel: { memory: 'in-memory', file: 'LibSQLStore' },
  api: loadMastraWorkflows,
  async open(workflows, store, dir) {
    const { Mastra } = await loadMastraCore();
    let path: string | undefined;
    let storage;
    if (store === 'file') {
      const { LibSQLStore } = await loadMastraLibsql();
      path = freshFile(dir, 'mastra');
      storage = new LibSQLStore({ id: `bench-${fileCounter}`, url: `file:${path}` });
    }
    const mastra = new Mastra({ workflows, logger: false, ...(storage ? { storage } : {}) });
    return {
      createRun: (key) => (mastra.getWorkflow(key) as unknown as WorkflowLike).createRun(),
      async close() {
        await mastra.shutdown().catch(() => undefined);
        if (path) removeDbFiles(path);
      },
    };
  },
};

export const engines: readonly Engine[] = [weftEngine, mastraEngine];
