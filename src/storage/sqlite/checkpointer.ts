// Moves SQLite's WAL checkpoints off the event loop: a worker thread with its own connection copies
// committed pages back into the database file, so that no commit waits for that copy and its fsync.
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { Database } from 'better-sqlite3';

/** Commits after which a busy database hands its checkpoints to the worker (a quiet one never starts it). */
export const CHECKPOINT_AFTER_COMMITS = 256;
/** How often the worker checkpoints (ms). */
const INTERVAL_MS = 50;
/** What a connection does on its own: a checkpoint once the WAL holds this many pages (SQLite's default). */
const AUTOCHECKPOINT_PAGES = 1000;

/**
 * WAL pages past which a writing connection still checkpoints by itself. Under steady writing a
 * passive checkpoint never catches up with the end of the WAL, which then cannot start over and
 * would grow without bound; the worker has copied nearly everything by then, so this checkpoint
 * has little left to do before the WAL starts over.
 */
const BOUND_PAGES = 8000;

// The worker's code, run as a script: on a timer, and once more when told to stop, it checkpoints
// passively, copying what is committed without waiting for a lock or blocking a writer.
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.path, { fileMustExist: true });
const checkpoint = () => {
  try { db.pragma('wal_checkpoint(PASSIVE)'); } catch { /* busy: the next tick tries again */ }
};
const timer = setInterval(checkpoint, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  checkpoint();
  db.close();
  parentPort.close();
});
`;

/**
 * Checkpoints one database file from a worker thread, while the connections that write leave them
 * alone until the WAL grows past `BOUND_PAGES`. If the worker cannot start, or stops on its own,
 * they checkpoint by themselves again as SQLite does by default.
 */
export class Checkpointer {
  private worker: Worker | undefined;
  private stopped = false;

  constructor(
    private readonly connections: readonly Database[],
    path: string,
  ) {
    try {
      const driver = createRequire(import.meta.url).resolve('better-sqlite3');
      this.worker = new Worker(WORKER_SOURCE, {
        eval: true,
        workerData: { path, driver, intervalMs: INTERVAL_MS },
      });
    } catch {
      this.stopped = true;
      return; // no worker: the connections keep checkpointing by themselves
    }
    this.worker.unref();
    this.worker.on('error', () => this.fallBack());
    this.worker.on('exit', () => this.fallBack());
    for (const db of connections) db.pragma(`wal_autocheckpoint = ${BOUND_PAGES}`);
  }

  /** Stops the worker after a last checkpoint; the connections checkpoint by themselves again. */
  async stop(): Promise<void> {
    const worker = this.worker;
    this.fallBack();
    if (!worker) return;
    const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    worker.ref(); // wait for it even when nothing else keeps the process alive
    worker.postMessage('stop');
    await exited;
  }

  private fallBack(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.worker = undefined;
    for (const db of this.connections) {
      try {
        if (db.open) db.pragma(`wal_autocheckpoint = ${AUTOCHECKPOINT_PAGES}`);
      } catch {
        // closing
      }
    }
  }
}
