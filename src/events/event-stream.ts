// A run's live event stream: a ReadableStream fed from its own queue, whose async iteration reads that queue directly.
import { BlockList } from 'node:net';
import type { WorkflowEvent } from './event-types.js';

type IterateOptions = { preventCancel?: boolean };

const lockedError = (): TypeError => new TypeError('Invalid state: ReadableStream is locked');

const OWNER = Symbol('owner');
const STRATEGY = { highWaterMark: 0 };

/**
 * On Node 20, every web stream is made transferable to worker threads as it is built
 * (`makeTransferable`: a native object, a copy of every property, a weak handle for the collector),
 * which costs more than the rest of the stream and as much as a run of ten trivial steps; Node 21
 * and later do it only when a stream is transferred. A run's event stream is never transferred
 * (trying throws), so on Node 20 it is built the way Node skips that step for objects that are
 * transferable already: with a prototype chain through Node's transferable base, which its own
 * `BlockList` exposes. Had this chain not been recognised, the stream would simply be made
 * transferable as usual.
 */
const transferFree: (() => void) | undefined = (() => {
  if (Number(process.versions.node.split('.')[0]) !== 20) return undefined;
  const base = Object.getPrototypeOf(BlockList.prototype) as { constructor?: { name?: string } } | null;
  if (base?.constructor?.name !== 'JSTransferable') return undefined;
  const target = function RunEventStreamTarget(): void {};
  target.prototype = Object.create(base);
  return target;
})();

/**
 * The web stream a run's output hands out. `for await` (and `values()`) read the owner's queue
 * directly and lock the stream in the owner rather than through a reader: on Node 20, taking and
 * releasing a reader costs about 3 µs per stream, as much as a trivial step. Every other use goes
 * through the web stream machinery as usual; while a direct read holds the stream, those are
 * refused as they would be on a stream locked by its native iterator.
 */
class RunEventStream extends ReadableStream<WorkflowEvent> implements AsyncIterable<WorkflowEvent> {
  declare [OWNER]: EventStream;

  /** A stream on `source`, read directly by `owner`. */
  static create(owner: EventStream, source: UnderlyingDefaultSource<WorkflowEvent>): RunEventStream {
    let stream: RunEventStream;
    if (transferFree) {
      stream = Reflect.construct(ReadableStream, [source, STRATEGY], transferFree) as RunEventStream;
      Object.setPrototypeOf(stream, RunEventStream.prototype);
    } else {
      stream = new RunEventStream(source, STRATEGY);
    }
    stream[OWNER] = owner;
    return stream;
  }

  override get locked(): boolean {
    return this[OWNER].reading || super.locked;
  }

  override getReader(): ReadableStreamDefaultReader<WorkflowEvent>;
  override getReader(options: { mode: 'byob' }): ReadableStreamBYOBReader;
  override getReader(options?: { mode?: 'byob' }): ReadableStreamReader<WorkflowEvent> {
    if (this[OWNER].reading) throw lockedError();
    return options === undefined ? super.getReader() : super.getReader(options as { mode: 'byob' });
  }

  override cancel(reason?: unknown): Promise<void> {
    return this[OWNER].reading ? Promise.reject(lockedError()) : super.cancel(reason);
  }

  override pipeTo(destination: WritableStream<WorkflowEvent>, options?: StreamPipeOptions): Promise<void> {
    return this[OWNER].reading ? Promise.reject(lockedError()) : super.pipeTo(destination, options);
  }

  override pipeThrough<T>(
    transform: ReadableWritablePair<T, WorkflowEvent>,
    options?: StreamPipeOptions,
  ): ReadableStream<T> {
    if (this[OWNER].reading) throw lockedError();
    return super.pipeThrough(transform, options);
  }

  override tee(): [ReadableStream<WorkflowEvent>, ReadableStream<WorkflowEvent>] {
    if (this[OWNER].reading) throw lockedError();
    return super.tee();
  }

  values(options?: IterateOptions): AsyncIterableIterator<WorkflowEvent> {
    if (this.locked) throw lockedError();
    return this[OWNER].iterate(this, options?.preventCancel === true);
  }

  [Symbol.asyncIterator](options?: IterateOptions): AsyncIterableIterator<WorkflowEvent> {
    return this.values(options);
  }
}

/** The web stream's own async iterator (Node has it; the DOM lib types do not declare it). */
const streamValues = (
  ReadableStream.prototype as unknown as {
    values(this: ReadableStream<WorkflowEvent>, options?: IterateOptions): AsyncIterableIterator<WorkflowEvent>;
  }
).values;

const DONE: IteratorResult<WorkflowEvent> = Object.freeze({ done: true, value: undefined });

/**
 * Events wait in a plain array until read. A reader taken with `getReader()` (or `pipeTo`,
 * `tee`) pulls them through the stream as usual. `for await` over the stream, the common case,
 * holds the stream as the native iterator would but takes events from the array itself: Node's
 * web stream machinery costs about 2 µs per event read, more than the run spends on a trivial
 * step. The queue never applies back-pressure: a slow reader only grows it.
 */
export class EventStream {
  readonly stream: ReadableStream<WorkflowEvent> & AsyncIterable<WorkflowEvent>;
  /** Events not yet read, from `head` on (read slots are cleared, and the array emptied once all are read). */
  private queue: (WorkflowEvent | undefined)[] = [];
  private head = 0;
  private ended = false;
  /** Set while a stream reader waits for an event (a pull found the queue empty). */
  private pulled = false;
  /** The direct iterator's `next()` calls waiting for a push or the end, first come first served. */
  private waiters: ((result: IteratorResult<WorkflowEvent>) => void)[] = [];
  /** Which direct iterator holds the stream (0: none); it owns the queue, and the controller is never fed. */
  private holder = 0;
  private iterators = 0;
  private controller!: ReadableStreamDefaultController<WorkflowEvent>;

  constructor(onCancel: () => void) {
    this.stream = RunEventStream.create(this, {
      start: (c) => {
        this.controller = c;
      },
      pull: () => this.feed(),
      cancel: () => {
        this.drop();
        onCancel();
      },
    });
  }

  /** True while a direct iterator holds the stream. */
  get reading(): boolean {
    return this.holder !== 0;
  }

  /**
   * Queues an event for the reader. A direct reader waiting for events is woken once the code
   * running now yields (a tick later): it then takes every event queued meanwhile without waiting
   * again, where waking it for each event would cost a promise and a turn per event.
   */
  push(event: WorkflowEvent): void {
    if (this.ended) return;
    if (this.waiters.length > 0) {
      this.queue.push(event);
      this.scheduleWake();
      return;
    }
    if (this.pulled) {
      this.pulled = false;
      this.controller.enqueue(event);
      return;
    }
    this.queue.push(event);
  }

  private scheduleWake(): void {
    if (this.wakeScheduled) return;
    this.wakeScheduled = true;
    process.nextTick(this.wake);
  }

  /** No more events: the reader gets what is queued, then the end. */
  end(): void {
    if (this.ended) return;
    this.ended = true;
    if (this.head < this.queue.length) return; // the reader takes those first (a wake is on its way)
    this.closeController();
    if (this.waiters.length > 0) this.release();
  }

  private wakeScheduled = false;

  /** Hands queued events to the waiting `next()` calls, in order; past the end, they get the end. */
  private readonly wake = (): void => {
    this.wakeScheduled = false;
    while (this.waiters.length > 0 && this.head < this.queue.length) {
      this.waiters.shift()!({ done: false, value: this.take() });
    }
    if (this.waiters.length > 0 && this.ended) this.release();
  };

  private take(): WorkflowEvent {
    const event = this.queue[this.head]!;
    this.queue[this.head++] = undefined;
    if (this.head === this.queue.length) {
      this.queue = [];
      this.head = 0;
    }
    return event;
  }

  /** A stream reader wants events: hand over what is queued, or the end, or wait for the next push. */
  private feed(): void {
    if (this.reading) return;
    let fed = false;
    while (this.head < this.queue.length) {
      this.controller.enqueue(this.take());
      fed = true;
    }
    if (this.ended) this.closeController();
    else if (!fed) this.pulled = true;
  }

  private drop(): void {
    this.ended = true;
    this.queue = [];
    this.head = 0;
  }

  private closeController(): void {
    // Closing twice throws, and building that error costs more than the whole stream.
    if (this.controllerClosed) return;
    this.controllerClosed = true;
    try {
      this.controller.close();
    } catch {
      // canceled by a reader meanwhile
    }
  }

  private controllerClosed = false;

  /** The direct iterator lets the stream go; the `next()` calls still waiting get the end. */
  private release(): void {
    this.holder = 0;
    if (this.ended && this.head === this.queue.length) this.closeController();
    const waiters = this.waiters;
    this.waiters = [];
    for (const waiter of waiters) waiter(DONE);
  }

  /**
   * What `for await` uses: the queue itself, the stream held until the end or a `return`. Events a
   * stream reader pulled but left unread sit in the stream's own queue: then the stream serves them.
   */
  iterate(stream: ReadableStream<WorkflowEvent>, preventCancel: boolean): AsyncIterableIterator<WorkflowEvent> {
    if ((this.controller.desiredSize ?? 0) < 0) return streamValues.call(stream, { preventCancel });
    const id = ++this.iterators;
    this.holder = id;
    this.pulled = false;
    // Not an async function: an event already queued is handed over without extra promise turns.
    const next = (): Promise<IteratorResult<WorkflowEvent>> => {
      if (this.holder !== id) return Promise.resolve(DONE);
      const queued = this.head < this.queue.length;
      // Calls made before this one and still waiting come first.
      if (queued && this.waiters.length === 0) return Promise.resolve({ done: false, value: this.take() });
      if (!this.ended || queued) {
        if (queued) this.scheduleWake();
        return new Promise((resolve) => this.waiters.push(resolve));
      }
      this.release();
      return Promise.resolve(DONE);
    };
    const iterator: AsyncIterableIterator<WorkflowEvent> = {
      next,
      return: async (value?: unknown) => {
        if (this.holder === id) {
          this.release();
          if (!preventCancel) await stream.cancel(value);
        }
        return { done: true, value: value as undefined };
      },
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }
}
