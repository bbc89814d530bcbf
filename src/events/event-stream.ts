// A run's live event stream: a ReadableStream fed from its own queue, whose async iteration reads that queue directly.
import type { WorkflowEvent } from './event-types.js';

type IterateOptions = { preventCancel?: boolean };

/** The web stream's own async iterator (Node has it; the DOM lib types do not declare it). */
const streamValues = (
  ReadableStream.prototype as unknown as {
    values(this: ReadableStream<WorkflowEvent>, options?: IterateOptions): AsyncIterableIterator<WorkflowEvent>;
  }
).values;

/**
 * Events wait in a plain array until read. A reader taken with `getReader()` (or `pipeTo`,
 * `tee`) pulls them through the stream as usual. `for await` over the stream, the common case,
 * locks it the same way but then takes events from the array itself: Node's web stream
 * machinery costs about 2 µs per event read, more than the run spends on a trivial step.
 * The queue never applies back-pressure: a slow reader only grows it.
 */
export class EventStream {
  readonly stream: ReadableStream<WorkflowEvent> & AsyncIterable<WorkflowEvent>;
  private readonly queue: WorkflowEvent[] = [];
  private ended = false;
  /** Set while a stream reader waits for an event (a pull found the queue empty). */
  private pulled = false;
  /** Settles at the next push or the end, while the direct iterator waits. */
  private arrival: { promise: Promise<void>; resolve: () => void } | undefined;
  /** The direct iterator owns the queue: the controller is never fed. */
  private direct = false;
  private controller!: ReadableStreamDefaultController<WorkflowEvent>;

  constructor(onCancel: () => void) {
    const stream = new ReadableStream<WorkflowEvent>(
      {
        start: (c) => {
          this.controller = c;
        },
        pull: () => this.feed(),
        cancel: () => {
          this.drop();
          onCancel();
        },
      },
      { highWaterMark: 0 },
    ) as ReadableStream<WorkflowEvent> & AsyncIterable<WorkflowEvent>;
    const values = (options?: IterateOptions): AsyncIterableIterator<WorkflowEvent> =>
      // Events a stream reader pulled but left unread sit in the stream's own queue: let the stream serve them.
      (this.controller.desiredSize ?? 0) < 0
        ? streamValues.call(stream, options)
        : this.iterate(stream.getReader(), options?.preventCancel === true);
    // Own properties, so the stream stays a plain ReadableStream for `instanceof` and every other method.
    Object.defineProperty(stream, 'values', { value: values });
    Object.defineProperty(stream, Symbol.asyncIterator, { value: values });
    this.stream = stream;
  }

  /** Queues an event for the reader. */
  push(event: WorkflowEvent): void {
    if (this.ended) return;
    if (this.pulled) {
      this.pulled = false;
      this.controller.enqueue(event);
      return;
    }
    this.queue.push(event);
    this.signal();
  }

  /** No more events: the reader gets what is queued, then the end. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.queue.length === 0) this.closeController();
    this.signal();
  }

  private signal(): void {
    const arrival = this.arrival;
    if (arrival) {
      this.arrival = undefined;
      arrival.resolve();
    }
  }

  private nextArrival(): Promise<void> {
    if (!this.arrival) {
      let resolve!: () => void;
      const promise = new Promise<void>((r) => (resolve = r));
      this.arrival = { promise, resolve };
    }
    return this.arrival.promise;
  }

  /** A stream reader wants events: hand over what is queued, or the end, or wait for the next push. */
  private feed(): void {
    if (this.direct) return;
    let fed = false;
    while (this.queue.length > 0) {
      this.controller.enqueue(this.queue.shift()!);
      fed = true;
    }
    if (this.ended) this.closeController();
    else if (!fed) this.pulled = true;
  }

  private drop(): void {
    this.ended = true;
    this.queue.length = 0;
  }

  private closeController(): void {
    try {
      this.controller.close();
    } catch {
      // already closed
    }
  }

  /** What `for await` uses: the queue itself, with the stream locked by `reader` as the native iterator would. */
  private iterate(
    reader: ReadableStreamDefaultReader<WorkflowEvent>,
    preventCancel: boolean,
  ): AsyncIterableIterator<WorkflowEvent> {
    this.direct = true;
    this.pulled = false;
    let released = false;
    const release = (): void => {
      if (released) return;
      released = true;
      this.direct = false;
      if (this.ended && this.queue.length === 0) this.closeController();
      reader.releaseLock();
    };
    // Not an async function: an event already queued is handed over without extra promise turns.
    const next = (): Promise<IteratorResult<WorkflowEvent>> => {
      if (released) return Promise.resolve({ done: true, value: undefined });
      const value = this.queue.shift();
      if (value !== undefined) return Promise.resolve({ done: false, value });
      if (!this.ended) return this.nextArrival().then(next);
      release();
      return Promise.resolve({ done: true, value: undefined });
    };
    const iterator: AsyncIterableIterator<WorkflowEvent> = {
      next,
      return: async (value?: unknown) => {
        if (!released) {
          if (!preventCancel) await reader.cancel(value);
          release();
        }
        return { done: true, value: value as undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
