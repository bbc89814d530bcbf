// Keeps the writes of one run in the order they were issued, while writes of different runs go in parallel.

const ignore = (): void => undefined;

/**
 * A queue per run id. With a pool, two writes of one run issued without awaiting would race on
 * two connections; `after` starts a write only when the previous write of the same run has
 * settled, so they commit in issue order, as they do in the memory and SQLite adapters.
 */
export class RunOrder {
  private readonly tails = new Map<string, Promise<void>>();

  /** Runs `write` once every earlier write of `runId` has settled (at once when there is none). */
  after<T>(runId: string, write: () => Promise<T>): Promise<T> {
    const previous = this.tails.get(runId);
    const result = previous ? previous.then(write) : write();
    const tail = result.then(ignore, ignore);
    this.tails.set(runId, tail);
    void tail.then(() => {
      if (this.tails.get(runId) === tail) this.tails.delete(runId);
    });
    return result;
  }

  /** Resolves once every write issued so far has settled. */
  async settled(): Promise<void> {
    await Promise.all(this.tails.values());
  }
}
