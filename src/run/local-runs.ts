// What this process holds of runs: the executions under way, the handles that drive them, and live listeners.
import type { Execution } from '../engine/execution.js';
import type { WorkflowEvent } from '../events/event-types.js';

type Listener = (event: WorkflowEvent) => void;

/** A run handle as held here while its run executes (the `Run` class, without importing it). */
export interface HeldHandle {
  readonly runId: string;
  readonly workflowId: string;
}

/**
 * The runs of one engine instance in this process. An execution is tracked from the moment it is
 * built until it has recorded where it stopped; its handle is held as long, so that
 * `createRun({ runId })` meanwhile returns the same one.
 */
export class LocalRuns {
  private readonly active = new Map<string, Execution>();
  private readonly handles = new Map<string, HeldHandle>();
  private readonly listeners = new Map<string, Set<Listener>>();
  /** How many stream outputs relay each run's events now. */
  private readonly streams = new Map<string, number>();
  /** Takeovers by recovery under way here, from before their claim until they stop. */
  private readonly takeovers = new Map<string, Promise<unknown>>();

  /** `onTrack` is called each time an execution begins here (the instance starts renewing leases). */
  constructor(private readonly onTrack: () => void) {}

  /** The execution of a run in this process, if any. */
  execution(runId: string): Execution | undefined {
    return this.active.get(runId);
  }

  /** Every execution under way here. */
  executions(): Execution[] {
    return [...this.active.values()];
  }

  /** Records an execution as under way here; the returned function ends that. */
  track(exec: Execution): () => void {
    this.active.set(exec.runId, exec);
    this.onTrack();
    return () => {
      if (this.active.get(exec.runId) === exec) this.active.delete(exec.runId);
    };
  }

  /**
   * Notes that recovery is taking a run over here until `done` settles: before its execution is tracked
   * (while it claims the run and reads its journal), a restart of the run in this process waits for it
   * rather than take the run from it.
   */
  noteTakeover(runId: string, done: Promise<unknown>): void {
    const settled: Promise<unknown> = done.then(
      () => this.takeovers.get(runId) === settled && this.takeovers.delete(runId),
      () => this.takeovers.get(runId) === settled && this.takeovers.delete(runId),
    );
    this.takeovers.set(runId, settled);
  }

  /** Settles once the run's execution here, or recovery's takeover of it under way here, has stopped; undefined when there is none. */
  stopped(runId: string): Promise<unknown> | undefined {
    return this.active.get(runId)?.finished ?? this.takeovers.get(runId);
  }

  /** The handle held for a run while it executes here, if any. */
  handle(runId: string): HeldHandle | undefined {
    return this.handles.get(runId);
  }

  /** Holds `handle` as the one of its run; the returned function lets it go. */
  holdHandle(handle: HeldHandle): () => void {
    this.handles.set(handle.runId, handle);
    return () => {
      if (this.handles.get(handle.runId) === handle) this.handles.delete(handle.runId);
    };
  }

  /** Subscribes to a run's live events in this process. */
  readonly subscribe = (runId: string, listener: Listener): (() => void) => {
    let set = this.listeners.get(runId);
    if (!set) this.listeners.set(runId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.listeners.get(runId) === set) this.listeners.delete(runId);
    };
  };

  /** The run's live listeners, if any (a map lookup: free when nobody listens). */
  readonly listenersOf = (runId: string): ReadonlySet<Listener> | undefined => this.listeners.get(runId);

  /** A stream output relays the run's events until the returned function is called. */
  readonly streamRun = (runId: string): (() => void) => {
    this.streams.set(runId, (this.streams.get(runId) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.streams.get(runId) ?? 1) - 1;
      if (left > 0) this.streams.set(runId, left);
      else this.streams.delete(runId);
    };
  };

  /** True while a stream output relays the run's events. */
  isStreamed(runId: string): boolean {
    return this.streams.has(runId);
  }
}
