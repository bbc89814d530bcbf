// The context a step's execute receives. One object per attempt; its functions are made only when read
// (destructuring `{ inputData }` alone makes none), which keeps the step loop light.
import type { RequestContext } from '../request-context.js';
import type { ExecuteContext, StepWriter } from '../workflow/types.js';
import type { Execution, Level } from './execution.js';

const NO_ENGINE: Record<string, never> = Object.freeze({}) as Record<string, never>;

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

export class StepContext implements ExecuteContext {
  readonly signals: StepSignals = {};
  readonly state: any;
  readonly requestContext: RequestContext<any>;
  readonly runId: string;
  readonly workflowId: string;
  readonly resourceId: string | undefined;
  resume?: { steps: string[]; resumePayload: unknown; label?: string };
  private fns: Partial<
    Pick<ExecuteContext, 'suspend' | 'bail' | 'abort' | 'getStepResult' | 'getInitData' | 'setState' | 'writer'>
  > = {};

  constructor(
    private readonly exec: Execution,
    private readonly level: Level,
    /** Display id of the step (dotted inside nested workflows). */
    private readonly displayId: string,
    readonly inputData: any,
    readonly resumeData: any,
    readonly suspendData: any,
    readonly retryCount: number,
    readonly restart: boolean,
  ) {
    this.state = exec.state;
    this.requestContext = exec.requestContext;
    this.runId = exec.runId;
    this.workflowId = exec.workflowId;
    this.resourceId = exec.resourceId;
  }

  get suspend(): ExecuteContext['suspend'] {
    return (this.fns.suspend ??= async (payload?: unknown, options?: { resumeLabel?: string | string[] }) => {
      const labels = options?.resumeLabel === undefined ? undefined : ([] as string[]).concat(options.resumeLabel);
      this.signals.suspended = labels ? { payload, labels } : { payload };
    });
  }

  get bail(): ExecuteContext['bail'] {
    return (this.fns.bail ??= (value: unknown) => {
      this.signals.bailed = { value };
      return value;
    });
  }

  get abort(): ExecuteContext['abort'] {
    return (this.fns.abort ??= () => {
      this.signals.aborted = true;
      this.exec.cancel();
    });
  }

  get abortSignal(): AbortSignal {
    return this.exec.abort.signal;
  }

  get getStepResult(): ExecuteContext['getStepResult'] {
    return (this.fns.getStepResult ??= (s: string | { id: string }) =>
      lookupOutput(this.level, typeof s === 'string' ? s : s.id));
  }

  get getInitData(): ExecuteContext['getInitData'] {
    return (this.fns.getInitData ??= () => this.level.input as any);
  }

  get setState(): ExecuteContext['setState'] {
    return (this.fns.setState ??= async (s: unknown) => {
      this.signals.stateUpdate = s as Record<string, unknown>;
    });
  }

  get writer(): StepWriter {
    const { writer } = this.exec;
    const id = this.displayId;
    return (this.fns.writer ??= {
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
