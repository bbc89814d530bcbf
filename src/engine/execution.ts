// One execution of a run in this process: what every part of the executor shares.
import { WeftError } from '../errors.js';
import type { TokenUsage } from '../events/event-types.js';
import { isWithin } from '../journal/step-keys.js';
import type { RequestContext } from '../request-context.js';
import type { CompiledGraph } from '../workflow/graph.js';
import type { Logger } from '../workflow/types.js';
import type { JournalWriter } from '../journal/writer.js';
import type { RunProjection } from '../journal/projection.js';
import type { StepDispatch } from '../storage/types.js';

/** How a node or a level ended. */
export type Outcome =
  /**
   * `levelOutput`: what the level ends with when this is its last node, when that differs from `output`
   * (a block whose branches bailed: the next step gets their values, the level's output leaves them out).
   */
  | { kind: 'success'; output: unknown; levelOutput?: unknown }
  | { kind: 'suspended' }
  | { kind: 'failed'; error: unknown }
  | { kind: 'bailed'; output: unknown }
  | { kind: 'canceled' }
  | { kind: 'paused' };

/** Time, injectable so that long sleeps can be tested without waiting. */
export interface Clock {
  now(): number;
  /** Resolves after `ms`, or at once when `signal` aborts. */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
}

export const systemClock: Clock = {
  now: () => Date.now(),
  sleep: (ms, signal) =>
    new Promise<void>((resolve) => {
      if (signal.aborted) return resolve();
      const timer = setTimeout(done, Math.max(0, ms));
      function done(): void {
        clearTimeout(timer);
        signal.removeEventListener('abort', done);
        resolve();
      }
      signal.addEventListener('abort', done, { once: true });
    }),
};

/** One workflow level being executed: the root, or a nested workflow inside it. */
export interface Level {
  graph: CompiledGraph;
  /** Key prefix of this level's nodes ('' at the root, `4/` inside the nested workflow at node 4). */
  keyPrefix: string;
  /** Display id prefix ('' at the root, `inner.` inside `inner`). */
  idPrefix: string;
  /** This level's workflow input (what `getInitData` returns). */
  input: unknown;
  /** Latest successful output per step id at this level. */
  outputs: Map<string, unknown>;
  parent: Level | undefined;
}

/** What the executor needs from its surroundings. */
export interface ExecutionServices {
  logger: Logger;
  clock: Clock;
  /** The engine instance, passed to steps as `weft` (and `mastra`). */
  instance: unknown;
  /** Marks the run `waiting` until `wakeAt` (a durable timer), then `running` again. */
  setWaiting(runId: string, epoch: number, wakeAt: number | null): Promise<void>;
}

const NO_KEYS: ReadonlySet<string> = new Set();

/** What an execution is made of: the run, its graph, where it writes, and what this execution resumes. */
export interface ExecutionOptions {
  runId: string;
  workflowId: string;
  resourceId: string | undefined;
  graph: CompiledGraph;
  writer: JournalWriter;
  projection: RunProjection;
  requestContext: RequestContext<any>;
  services: ExecutionServices;
  /** Pause after each step that executed (`perStep`). */
  perStep: boolean;
  /** Keys of the suspended steps it resumes (none by default). */
  resumeKeys?: readonly string[] | undefined;
  resumeData?: unknown;
  resumeLabel?: string | undefined;
  /** Where step attempts go to be executed by any worker; without it, every step executes here. */
  dispatch?: StepDispatch | undefined;
  /** New foreach items and parallel branches go to `dispatch` (fan-out); else only restarted dispatched steps do. */
  fanOut?: boolean;
}

export class Execution {
  /** Steps between their start and end entries; while any is, a step's end is stored at once. */
  inflight = 0;
  /** Steps that actually executed (not replayed) in this execution. */
  executed = 0;
  canceled = false;
  /** Tokens of the agent steps that ended in this execution, recorded with the run's end. */
  usage: TokenUsage | undefined = undefined;
  readonly runId: string;
  readonly workflowId: string;
  readonly resourceId: string | undefined;
  readonly graph: CompiledGraph;
  readonly writer: JournalWriter;
  readonly projection: RunProjection;
  readonly requestContext: RequestContext<any>;
  readonly services: ExecutionServices;
  readonly perStep: boolean;
  /** Keys of suspended steps this execution resumes. */
  readonly resumeKeys: ReadonlySet<string>;
  readonly resumeData: unknown;
  readonly resumeLabel: string | undefined;
  readonly dispatch: StepDispatch | undefined;
  readonly fanOut: boolean;

  constructor(options: ExecutionOptions) {
    this.runId = options.runId;
    this.workflowId = options.workflowId;
    this.resourceId = options.resourceId;
    this.graph = options.graph;
    this.writer = options.writer;
    this.projection = options.projection;
    this.requestContext = options.requestContext;
    this.services = options.services;
    this.perStep = options.perStep;
    const keys = options.resumeKeys;
    this.resumeKeys = keys === undefined || keys.length === 0 ? NO_KEYS : new Set(keys);
    this.resumeData = options.resumeData;
    this.resumeLabel = options.resumeLabel;
    this.dispatch = options.perStep ? undefined : options.dispatch;
    this.fanOut = options.fanOut === true;
  }

  // Made when first asked for: most executions are never canceled or awaited from outside.
  private abortController: AbortController | undefined = undefined;
  private ended = false;
  private finishedPromise: Promise<void> | undefined = undefined;
  private resolveFinished: (() => void) | undefined = undefined;

  /** Aborts when the run is canceled (or handed over): the steps' `abortSignal`. */
  get abort(): AbortController {
    if (!this.abortController) {
      this.abortController = new AbortController();
      if (this.canceled) this.abortController.abort(abortReason());
    }
    return this.abortController;
  }

  /** Settles when this execution has recorded where it stopped. */
  get finished(): Promise<void> {
    if (this.ended) return Promise.resolve();
    return (this.finishedPromise ??= new Promise((resolve) => (this.resolveFinished = resolve)));
  }

  /** @internal */
  markFinished(): void {
    this.ended = true;
    this.resolveFinished?.();
  }

  get state(): Record<string, unknown> {
    return this.projection.state;
  }

  /** True when a resume targets this key or a step inside it. */
  isResumeTarget(key: string): boolean {
    if (this.resumeKeys.size === 0) return false;
    if (this.resumeKeys.has(key)) return true;
    for (const k of this.resumeKeys) if (isWithin(k, key)) return true;
    return false;
  }

  /** Fails with the reason the run stopped, if it was canceled or lost. */
  checkOwnership(): void {
    if (this.writer.failed !== undefined) throw this.writer.failed;
  }

  /** Sleeps until `wakeAt` (epoch ms), marking the run `waiting` meanwhile; ends at once on cancel. */
  async sleepUntil(wakeAt: number): Promise<void> {
    const { clock, setWaiting } = this.services;
    const ms = wakeAt - clock.now();
    if (ms <= 0 || this.canceled) return;
    this.sleepers++;
    try {
      if (this.sleepers === 1) await setWaiting(this.runId, this.writer.epoch, wakeAt);
      await clock.sleep(ms, this.abort.signal);
    } finally {
      this.sleepers--;
      if (this.sleepers === 0 && !this.canceled) await setWaiting(this.runId, this.writer.epoch, null);
    }
  }

  private sleepers = 0;

  /** Called on cancel: each releases a step that is waiting for its execute to settle (few: an array). */
  private readonly cancelWaiters: (() => void)[] = [];

  addCancelWaiter(stop: () => void): void {
    this.cancelWaiters.push(stop);
  }

  removeCancelWaiter(stop: () => void): void {
    const waiters = this.cancelWaiters;
    const i = waiters.lastIndexOf(stop);
    if (i < 0) return;
    const last = waiters.pop()!;
    if (i < waiters.length) waiters[i] = last;
  }

  /** Set by `handOver`: the run stops here without an outcome, for another instance to continue. */
  handedOver = false;

  /** Stops executing (the engine instance closes) without recording a cancel: the run stays active for recovery. */
  handOver(): void {
    this.handedOver = true;
    this.cancel();
  }

  cancel(): void {
    if (this.canceled) return;
    this.canceled = true;
    this.abortController?.abort(abortReason());
    for (const stop of this.cancelWaiters.splice(0)) stop();
  }
}

function abortReason(): DOMException {
  return new DOMException('This operation was aborted', 'AbortError');
}

/** Builds the error of a validation failure inside a step (the run fails; nothing is thrown to the caller). */
export function stepValidationError(
  code:
    | 'STEP_INPUT_INVALID'
    | 'STEP_OUTPUT_INVALID'
    | 'STEP_SUSPEND_DATA_INVALID'
    | 'STEP_STATE_INVALID'
    | 'STEP_REQUEST_CONTEXT_INVALID',
  what: string,
  stepId: string,
  issues: { path: string; message: string }[],
  runId: string,
): WeftError {
  const lines = issues.map((i) => `\n- ${i.path}: ${i.message}`).join('');
  return new WeftError(code, `${what}: ${lines}`, { stepId, runId, issues });
}
