// The context a step's execute receives. One object per attempt; its functions are made only when read
// (destructuring `{ inputData }` alone makes none), which keeps the step loop light.
import type { RequestContext } from '../request-context.js';
import type { ExecuteContext, InnerOutput, StepWriter } from '../workflow/types.js';
import type { Execution, Level } from './execution.js';

const NO_ENGINE: Record<string, never> = Object.freeze({}) as Record<string, never>;

/** The signals of an attempt that asked for nothing (most): shared, never written. */
const NO_SIGNALS: StepSignals = Object.freeze({});

/** `getStepResult`: the latest successful output of a step at this level or an enclosing one. */
export function lookupOutput(level: Level, stepId: string): any {
  for (let l: Level | undefined = level; l; l = l.parent) {
    if (l.outputs.has(stepId)) return l.outputs.get(stepId);
  }
  return undefined;
}

/** What a step asked for while it executed: read by the step runner once execute settles. */
export interface StepSignals {
  suspended?: { payload: unknown; labels?: string[] };
  bailed?: { value: unknown };
  stateUpdate?: Record<string, unknown>;
  /** The step called `abort()`: the run is canceled, but the step's own value is still its output. */
  aborted?: boolean;
}

/** The step an attempt's context is made for: the step runner's record of it, shared by its attempts. */
export interface StepCall {
  readonly exec: Execution;
  readonly level: Level;
  /** Display id of the step (dotted inside nested workflows). */
  readonly id: string;
  readonly inputData: unknown;
  readonly resumeData: unknown;
  readonly suspendData: unknown;
  /** The step was interrupted (a crash) and runs again. */
  readonly restarting: boolean;
}

export class StepContext implements ExecuteContext {
  /** What the step asked for; read by the step runner once execute settles. */
  signals: StepSignals = NO_SIGNALS;
  /** The run's current state (updated in place as other steps end; this step's own `setState` applies when it ends). */
  readonly state: any;
  readonly requestContext: RequestContext<any>;
  readonly runId: string;
  readonly workflowId: string;
  readonly resourceId: string | undefined;
  readonly inputData: any;
  readonly resumeData: any;
  readonly suspendData: any;
  readonly restart: boolean;
  resume?: { steps: string[]; resumePayload: unknown; label?: string };
  private readonly exec: Execution;
  private readonly level: Level;
  /** Display id of the step (dotted inside nested workflows). */
  private readonly displayId: string;
  // The context's functions, made on first read (one field each: no object per step to hold them).
  private suspendFn: ExecuteContext['suspend'] | undefined = undefined;
  private bailFn: ExecuteContext['bail'] | undefined = undefined;
  private abortFn: ExecuteContext['abort'] | undefined = undefined;
  private getStepResultFn: ExecuteContext['getStepResult'] | undefined = undefined;
  private getInitDataFn: ExecuteContext['getInitData'] | undefined = undefined;
  private setStateFn: ExecuteContext['setState'] | undefined = undefined;
  private writerObject: StepWriter | undefined = undefined;

  /** The context of attempt `retryCount` (0-based) of `call`. */
  constructor(
    call: StepCall,
    readonly retryCount: number,
  ) {
    const { exec } = call;
    this.exec = exec;
    this.level = call.level;
    this.displayId = call.id;
    this.inputData = call.inputData;
    this.resumeData = call.resumeData;
    this.suspendData = call.suspendData;
    this.restart = call.restarting;
    this.state = exec.state;
    this.requestContext = exec.requestContext;
    this.runId = exec.runId;
    this.workflowId = exec.workflowId;
    this.resourceId = exec.resourceId;
  }

  /** The signals of this attempt, made on the first one. */
  private signal(): StepSignals {
    if (this.signals === NO_SIGNALS) this.signals = {};
    return this.signals;
  }

  get suspend(): ExecuteContext['suspend'] {
    return (this.suspendFn ??= async (payload?: unknown, options?: { resumeLabel?: string | string[] }) => {
      const labels = options?.resumeLabel === undefined ? undefined : ([] as string[]).concat(options.resumeLabel);
      this.signal().suspended = labels ? { payload, labels } : { payload };
      return undefined as InnerOutput;
    });
  }

  get bail(): ExecuteContext['bail'] {
    return (this.bailFn ??= (value: unknown) => {
      this.signal().bailed = { value };
      return value as InnerOutput;
    });
  }

  get abort(): ExecuteContext['abort'] {
    return (this.abortFn ??= () => {
      this.signal().aborted = true;
      this.exec.cancel();
    });
  }

  get abortSignal(): AbortSignal {
    return this.exec.abort.signal;
  }

  get getStepResult(): ExecuteContext['getStepResult'] {
    return (this.getStepResultFn ??= (s: string | { id: string }) =>
      lookupOutput(this.level, typeof s === 'string' ? s : s.id));
  }

  get getInitData(): ExecuteContext['getInitData'] {
    return (this.getInitDataFn ??= () => this.level.input as any);
  }

  get setState(): ExecuteContext['setState'] {
    return (this.setStateFn ??= async (s: unknown) => {
      this.signal().stateUpdate = s as Record<string, unknown>;
    });
  }

  get writer(): StepWriter {
    const { writer } = this.exec;
    const id = this.displayId;
    return (this.writerObject ??= {
      write: async (chunk) => writer.add('step-output', { id, output: chunk }),
      custom: async (event) => writer.add('custom', { ...event, type: String(event.type) }),
    });
  }

  get weft(): unknown {
    return this.exec.services.instance;
  }

  get mastra(): unknown {
    return this.exec.services.instance;
  }

  get engine(): Record<string, never> {
    return NO_ENGINE;
  }
}
