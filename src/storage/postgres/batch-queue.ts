// Gathers writes of many runs issued close together, to be sent as one statement (group commit).

/** A queued write: of one run, carrying some entries. */
export interface BatchedWrite {
  runId: string;
  entries?: readonly unknown[] | undefined;
}

/** How many batch statements of one queue may be in flight at once; writes issued meanwhile wait and go together. */
const MAX_IN_FLIGHT = 4;
/** At most this many entries in one statement; more wait for the next. */
const MAX_ENTRIES_PER_BATCH = 5000;

/**
 * Queues writes and hands them to `send` in batches: each tick's writes together (each turn's of
 * the event loop while statements are on their way), and while `MAX_IN_FLIGHT` statements wait on
 * the server (a commit waits for its WAL flush), everything issued meanwhile gathers into the next
 * one. A batch holds one write per run, in issue order, up to `MAX_ENTRIES_PER_BATCH` entries; a
 * second write of a run waits for the next batch. `send` settles its writes' promises itself.
 */
export class BatchQueue<T extends BatchedWrite> {
  private pending: T[] = [];
  private inFlight = 0;
  private scheduled = false;

  constructor(private readonly send: (batch: T[]) => Promise<void>) {}

  /** Queues `write`; it goes out with the next batch. */
  push(write: T): void {
    this.pending.push(write);
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled || this.inFlight >= MAX_IN_FLIGHT || this.pending.length === 0) return;
    this.scheduled = true;
    // Nothing on its way: the writes issued by the microtasks running now go out once they have drained
    // (a run stepping alone waits for no turn of the event loop). Otherwise a turn gathers more.
    (this.inFlight === 0 ? process.nextTick : setImmediate)(() => {
      this.scheduled = false;
      const batch = this.take();
      if (batch.length === 0) return;
      this.inFlight += 1;
      void this.send(batch).finally(() => {
        this.inFlight -= 1;
        this.schedule();
      });
    });
  }

  /** The next batch: queued writes in order, one per run, up to the entry cap; the rest stay queued. */
  private take(): T[] {
    const batch: T[] = [];
    const rest: T[] = [];
    const runs = new Set<string>();
    let size = 0;
    for (const write of this.pending) {
      const count = write.entries?.length ?? 0;
      const fits = batch.length === 0 || size + count <= MAX_ENTRIES_PER_BATCH;
      if (fits && !runs.has(write.runId)) {
        batch.push(write);
        runs.add(write.runId);
        size += count;
      } else {
        rest.push(write);
      }
    }
    this.pending = rest;
    return batch;
  }
}
